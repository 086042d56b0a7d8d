//! What the visitor widget reads and writes beside the log: what a visitor's page
//! tracked, the transcripts they asked for, their unread count, and when agents were
//! last active (the launcher's avatars). Reads use the read pool; writes take the
//! store's turn (`SqliteStore::writing`).

use switchboard_domain::*;
use switchboard_store::codec;
use switchboard_store::*;

use crate::SqliteStore;
use crate::directory::found;
use crate::rows::{self, db, s};

pub(crate) async fn record_agent_activity(store: &SqliteStore, ws: WorkspaceId, id: AgentId, at: Timestamp) -> Result<()> {
    let r = sqlx::query("UPDATE agents SET last_active_at = MAX(COALESCE(last_active_at, $3), $3) WHERE id = $1 AND workspace_id = $2")
        .bind(s(id))
        .bind(s(ws))
        .bind(at.0)
        .execute(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    found(r.rows_affected(), Entity::Agent)
}

pub(crate) async fn agent_activity(store: &SqliteStore, ws: WorkspaceId) -> Result<Vec<(AgentId, Timestamp)>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, last_active_at FROM agents WHERE workspace_id = $1 AND last_active_at IS NOT NULL \
         ORDER BY last_active_at DESC, id",
    )
    .bind(s(ws))
    .fetch_all(&store.read)
    .await
    .map_err(db)?;
    rows.into_iter().map(|(id, at)| Ok((AgentId(codec::uuid(&id)?), Timestamp(at)))).collect()
}

pub(crate) async fn add_contact_event(store: &SqliteStore, e: &ContactEvent) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO contact_events (id, workspace_id, contact_id, name, data, at) \
         SELECT $1, workspace_id, id, $4, $5, $6 FROM contacts WHERE id = $3 AND workspace_id = $2 AND erased_at IS NULL",
    )
    .bind(s(e.id))
    .bind(s(e.workspace_id))
    .bind(s(e.contact_id))
    .bind(&e.name)
    .bind(codec::encode_attributes(&e.data))
    .bind(e.at.0)
    .execute(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    found(r.rows_affected(), Entity::Contact)
}

pub(crate) async fn contact_events(
    store: &SqliteStore,
    ws: WorkspaceId,
    contact: ContactId,
    after: Option<ContactEventCursor>,
    limit: u32,
) -> Result<Vec<ContactEvent>> {
    // Without a cursor the bounds let every row through: one statement for both cases.
    let (at, id) = after.map_or((i64::MAX, String::new()), |c| (c.at.0, s(c.id)));
    let rows = sqlx::query(
        "SELECT * FROM contact_events WHERE contact_id = $1 AND workspace_id = $2 \
         AND (at < $3 OR (at = $3 AND ($4 = '' OR id < $4))) ORDER BY at DESC, id DESC LIMIT $5",
    )
    .bind(s(contact))
    .bind(s(ws))
    .bind(at)
    .bind(id)
    .bind(limit as i64)
    .fetch_all(&store.read)
    .await
    .map_err(db)?;
    rows.iter().map(rows::contact_event).collect()
}

pub(crate) async fn request_transcript(store: &SqliteStore, t: &TranscriptRequest) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO transcript_requests (id, workspace_id, conversation_id, email, requested_at, sent_at) \
         SELECT $1, workspace_id, id, $4, $5, $6 FROM conversations WHERE id = $3 AND workspace_id = $2",
    )
    .bind(s(t.id))
    .bind(s(t.workspace_id))
    .bind(s(t.conversation_id))
    .bind(t.email.as_str())
    .bind(t.requested_at.0)
    .bind(t.sent_at.map(|t| t.0))
    .execute(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    found(r.rows_affected(), Entity::Conversation)
}

pub(crate) async fn transcript_requests(
    store: &SqliteStore,
    ws: WorkspaceId,
    conversation: ConversationId,
) -> Result<Vec<TranscriptRequest>> {
    let rows = sqlx::query("SELECT * FROM transcript_requests WHERE conversation_id = $1 AND workspace_id = $2 ORDER BY requested_at, id")
        .bind(s(conversation))
        .bind(s(ws))
        .fetch_all(&store.read)
        .await
        .map_err(db)?;
    rows.iter().map(rows::transcript_request).collect()
}

pub(crate) async fn visitor_unread(store: &SqliteStore, ws: WorkspaceId, contact: ContactId) -> Result<Vec<(ConversationId, i64)>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.id, COUNT(*) FROM conversations c JOIN events e ON e.conversation_id = c.id \
         WHERE c.contact_id = $1 AND c.workspace_id = $2 AND e.seq > c.visitor_read_seq \
         AND e.kind = 'message' AND e.actor_kind IN ('agent', 'integration') GROUP BY c.id",
    )
    .bind(s(contact))
    .bind(s(ws))
    .fetch_all(&store.read)
    .await
    .map_err(db)?;
    rows.into_iter().map(|(id, n)| Ok((ConversationId(codec::uuid(&id)?), n))).collect()
}
