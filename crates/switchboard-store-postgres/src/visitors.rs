//! What the visitor widget reads and writes beside the log: what a visitor's page
//! tracked, the transcripts they asked for, their unread count, and when agents were
//! last active (the launcher's avatars). One statement per call, mirroring SQLite.

use sqlx::PgPool;
use switchboard_domain::*;
use switchboard_store::codec;
use switchboard_store::*;
use uuid::Uuid;

use crate::rows::{self, db};

fn found(rows: u64, entity: Entity) -> Result<()> {
    if rows == 0 { Err(StoreError::NotFound(entity)) } else { Ok(()) }
}

pub(crate) async fn record_agent_activity(pool: &PgPool, ws: WorkspaceId, id: AgentId, at: Timestamp) -> Result<()> {
    let r =
        sqlx::query("UPDATE agents SET last_active_at = GREATEST(COALESCE(last_active_at, $3), $3) WHERE id = $1 AND workspace_id = $2")
            .bind(id.0)
            .bind(ws.0)
            .bind(at.0)
            .execute(pool)
            .await
            .map_err(db)?;
    found(r.rows_affected(), Entity::Agent)
}

pub(crate) async fn agent_activity(pool: &PgPool, ws: WorkspaceId) -> Result<Vec<(AgentId, Timestamp)>> {
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT id, last_active_at FROM agents WHERE workspace_id = $1 AND last_active_at IS NOT NULL \
         ORDER BY last_active_at DESC, id",
    )
    .bind(ws.0)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows.into_iter().map(|(id, at)| (AgentId(id), Timestamp(at))).collect())
}

pub(crate) async fn add_contact_event(pool: &PgPool, e: &ContactEvent) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO contact_events (id, workspace_id, contact_id, name, data, at) \
         SELECT $1, workspace_id, id, $4, $5, $6 FROM contacts WHERE id = $3 AND workspace_id = $2 AND erased_at IS NULL",
    )
    .bind(e.id.0)
    .bind(e.workspace_id.0)
    .bind(e.contact_id.0)
    .bind(&e.name)
    .bind(codec::encode_attributes(&e.data))
    .bind(e.at.0)
    .execute(pool)
    .await
    .map_err(db)?;
    found(r.rows_affected(), Entity::Contact)
}

pub(crate) async fn contact_events(
    pool: &PgPool,
    ws: WorkspaceId,
    contact: ContactId,
    after: Option<ContactEventCursor>,
    limit: u32,
) -> Result<Vec<ContactEvent>> {
    // Without a cursor the bounds let every row through: one statement for both cases.
    let (at, id) = after.map_or((i64::MAX, None), |c| (c.at.0, Some(c.id.0)));
    let rows = sqlx::query(
        "SELECT * FROM contact_events WHERE contact_id = $1 AND workspace_id = $2 \
         AND (at < $3 OR (at = $3 AND ($4::uuid IS NULL OR id < $4))) ORDER BY at DESC, id DESC LIMIT $5",
    )
    .bind(contact.0)
    .bind(ws.0)
    .bind(at)
    .bind(id)
    .bind(limit as i64)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter().map(rows::contact_event).collect()
}

pub(crate) async fn request_transcript(pool: &PgPool, t: &TranscriptRequest) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO transcript_requests (id, workspace_id, conversation_id, email, requested_at, sent_at) \
         SELECT $1, workspace_id, id, $4, $5, $6 FROM conversations WHERE id = $3 AND workspace_id = $2",
    )
    .bind(t.id.0)
    .bind(t.workspace_id.0)
    .bind(t.conversation_id.0)
    .bind(t.email.as_str())
    .bind(t.requested_at.0)
    .bind(t.sent_at.map(|t| t.0))
    .execute(pool)
    .await
    .map_err(db)?;
    found(r.rows_affected(), Entity::Conversation)
}

pub(crate) async fn transcript_requests(pool: &PgPool, ws: WorkspaceId, conversation: ConversationId) -> Result<Vec<TranscriptRequest>> {
    let rows = sqlx::query("SELECT * FROM transcript_requests WHERE conversation_id = $1 AND workspace_id = $2 ORDER BY requested_at, id")
        .bind(conversation.0)
        .bind(ws.0)
        .fetch_all(pool)
        .await
        .map_err(db)?;
    rows.iter().map(rows::transcript_request).collect()
}

pub(crate) async fn visitor_unread(pool: &PgPool, ws: WorkspaceId, contact: ContactId) -> Result<Vec<(ConversationId, i64)>> {
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT c.id, COUNT(*) FROM conversations c JOIN events e ON e.conversation_id = c.id \
         WHERE c.contact_id = $1 AND c.workspace_id = $2 AND e.seq > c.visitor_read_seq \
         AND e.kind = 'message' AND e.actor_kind IN ('agent', 'integration') GROUP BY c.id",
    )
    .bind(contact.0)
    .bind(ws.0)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows.into_iter().map(|(id, n)| (ConversationId(id), n)).collect())
}
