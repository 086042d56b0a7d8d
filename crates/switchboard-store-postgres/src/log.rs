//! The conversation log on PostgreSQL: the batch writer that assigns sequence numbers
//! inside the transaction that commits them, and the conversation reads it shares.
//!
//! Invariant: a `seq` or `feed_seq` becomes visible to readers only together with
//! everything before it — a cursor can never skip a committed event. SQLite gets this
//! from its single writer; here several nodes may write, so each batch first locks the
//! counter rows of the workspaces it touches (in id order, so two batches never wait on
//! each other in a cycle) and holds them until commit: per workspace, batches commit one
//! after another, and the feed counter bumped inside them is handed out in commit order.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::{Acquire, PgConnection, PgExecutor, PgPool};
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_parts, author_key};
use switchboard_store::log::{self, LogWriter};
use switchboard_store::{Change, Committed, Result, StoreError};
use uuid::Uuid;

use crate::rows::{self, EVENT_COLUMNS, db, retryable};

/// Runs of one batch before its changes are answered `Unavailable`.
const ATTEMPTS: u32 = 5;

/// Longest lexeme PostgreSQL can store. `array_to_tsvector` does not check it: a longer
/// word is silently mangled (a 4096-byte word becomes an empty lexeme).
const MAX_LEXEME_BYTES: usize = 2047;

pub(crate) async fn apply_batch(pool: &PgPool, jobs: Vec<(WorkspaceId, Change)>) -> Vec<Result<Committed>> {
    let n = jobs.len();
    let mut attempt = 1;
    loop {
        let e = match try_batch(pool, &jobs).await {
            Ok(results) => return results,
            Err(e) => e,
        };
        // Postgres-only: a writer on another node can deadlock with this one (or, at a
        // stricter isolation level, fail to serialise). Nothing of the batch was
        // committed, so it is run again from the start.
        if retryable(&e) && attempt < ATTEMPTS {
            tracing::warn!(error = %e, attempt, batch = n, "batch lost to a concurrent writer, retrying");
            tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
            attempt += 1;
            continue;
        }
        tracing::error!(error = %e, batch = n, "commit of a batch failed");
        return (0..n).map(|_| Err(StoreError::Unavailable(e.to_string()))).collect();
    }
}

/// One transaction for the whole batch and a savepoint per change, so a rejected change
/// rolls back alone. `Err` means the whole batch was lost (and nothing committed).
async fn try_batch(pool: &PgPool, jobs: &[(WorkspaceId, Change)]) -> Result<Vec<Result<Committed>>> {
    let mut tx = pool.begin().await.map_err(db)?;
    let mut workspaces: Vec<Uuid> = jobs.iter().map(|(ws, _)| ws.0).collect();
    workspaces.sort();
    workspaces.dedup();
    // Postgres-only: the lock the feed counter's UPDATE would take anyway, taken up
    // front for every workspace of the batch, in a fixed order.
    sqlx::query("SELECT id FROM workspaces WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
        .bind(&workspaces)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
    let mut results = Vec::with_capacity(jobs.len());
    for (ws, change) in jobs {
        let mut sp = (&mut *tx).begin().await.map_err(db)?;
        match log::apply(&mut PgLog(&mut sp), *ws, change.clone()).await {
            Ok(done) => {
                sp.commit().await.map_err(db)?;
                results.push(Ok(done));
            }
            // The transaction is doomed; the caller retries the whole batch.
            Err(e) if retryable(&e) => return Err(e),
            Err(e) => {
                sp.rollback().await.map_err(db)?;
                results.push(Err(e));
            }
        }
    }
    tx.commit().await.map_err(db)?;
    Ok(results)
}

async fn insert_message(conn: &mut PgConnection, m: &Message) -> Result<()> {
    let (author_kind, author_id) = actor_parts(m.author);
    sqlx::query(
        "INSERT INTO messages (id, workspace_id, conversation_id, seq, author_kind, author_id, \
         author_key, client_id, kind, body, format, attachments, created_at, search) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, array_to_tsvector($14))",
    )
    .bind(m.id.0)
    .bind(m.workspace_id.0)
    .bind(m.conversation_id.0)
    .bind(m.seq)
    .bind(author_kind)
    .bind(author_id)
    .bind(author_key(m.author))
    .bind(&m.client_id)
    .bind(match m.kind {
        MessageKind::Text => "text",
        MessageKind::Note => "note",
    })
    .bind(&m.body)
    .bind(m.format.as_str())
    .bind(codec::encode_attachments(&m.attachments))
    .bind(m.created_at.0)
    .bind(search_words(m))
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// The words a message is found by: the same text SQLite indexes (body and attachment
/// names, folded by [`search::normalize`]), split where [`search::query_terms`] splits a
/// query, so an indexed word and a query term are always made the same way.
fn search_words(m: &Message) -> Vec<String> {
    let names = m.attachments.iter().map(|a| a.filename.as_str());
    let text = std::iter::once(m.body.as_str()).chain(names).collect::<Vec<_>>().join(" ");
    let mut words: Vec<String> = search::normalize(&text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            // An overlong word keeps its start, so prefix queries (at most 64 characters,
            // see query_terms) find it as they do on SQLite.
            let end = (0..=w.len().min(MAX_LEXEME_BYTES)).rev().find(|&i| w.is_char_boundary(i));
            w[..end.unwrap_or(0)].to_owned()
        })
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

const CONVERSATION: &str = "SELECT * FROM conversations WHERE id = $1 AND workspace_id = $2";

pub(crate) async fn load_conversation(conn: impl PgExecutor<'_>, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
    let row = sqlx::query(CONVERSATION)
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::Conversation))?;
    rows::conversation(&row)
}

/// Postgres-only: the writer's read of a conversation locks its row until commit, so
/// nothing else (a writer on another node, an agent deletion setting `assignee_id` to
/// NULL) changes it between this read and [`save_conversation`].
async fn lock_conversation(conn: &mut PgConnection, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
    let row = sqlx::query(&format!("{CONVERSATION} FOR UPDATE"))
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::Conversation))?;
    rows::conversation(&row)
}

async fn insert_conversation(conn: &mut PgConnection, c: &Conversation) -> Result<()> {
    sqlx::query(
        "INSERT INTO conversations (id, workspace_id, site_id, contact_id, status, priority, labels, \
         last_seq, created_at, updated_at, visitor_delivered_seq, visitor_read_seq, \
         agent_delivered_seq, agent_read_seq) \
         SELECT $1, $2, s.id, c.id, 'open', 'none', '[]', 0, $5, $5, 0, 0, 0, 0 \
         FROM sites s, contacts c \
         WHERE s.id = $3 AND s.workspace_id = $2 AND c.id = $4 AND c.workspace_id = $2",
    )
    .bind(c.id.0)
    .bind(c.workspace_id.0)
    .bind(c.site_id.0)
    .bind(c.contact_id.0)
    .bind(c.created_at.0)
    .execute(&mut *conn)
    .await
    .map_err(db)
    .and_then(|r| {
        // The SELECT yields no row when the site or contact is not the workspace's.
        if r.rows_affected() == 1 { Ok(()) } else { Err(StoreError::NotFound(Entity::Contact)) }
    })
}

async fn save_conversation(conn: &mut PgConnection, c: &Conversation) -> Result<()> {
    sqlx::query(
        "UPDATE conversations SET status = $2, snoozed_until = $3, assignee_id = $4, team_id = $5, \
         priority = $6, labels = $7, last_seq = $8, first_reply_at = $9, assigned_at = $10, \
         resolved_at = $11, waiting_since = $12, last_message_at = $13, updated_at = $14, \
         visitor_delivered_seq = $15, visitor_read_seq = $16, agent_delivered_seq = $17, \
         agent_read_seq = $18, last_message_seq = $19 \
         WHERE id = $1",
    )
    .bind(c.id.0)
    .bind(c.status.name())
    .bind(c.status.snoozed_until().map(|t| t.0))
    .bind(c.assignee_id.map(|a| a.0))
    .bind(c.team_id.map(|t| t.0))
    .bind(c.priority.as_str())
    .bind(codec::encode_labels(&c.labels))
    .bind(c.last_seq)
    .bind(c.first_reply_at.map(|t| t.0))
    .bind(c.assigned_at.map(|t| t.0))
    .bind(c.resolved_at.map(|t| t.0))
    .bind(c.waiting_since.map(|t| t.0))
    .bind(c.last_message_at.map(|t| t.0))
    .bind(c.updated_at.0)
    .bind(c.visitor.delivered_seq)
    .bind(c.visitor.read_seq)
    .bind(c.agent.delivered_seq)
    .bind(c.agent.read_seq)
    .bind(c.last_message_seq)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// The log's writes on the batch's PostgreSQL connection.
struct PgLog<'c>(&'c mut PgConnection);

#[async_trait]
impl LogWriter for PgLog<'_> {
    async fn message_event(&mut self, ws: WorkspaceId, author: Actor, client_id: &str) -> Result<Option<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM messages m JOIN events e ON e.message_id = m.id \
             WHERE m.author_key = $1 AND m.client_id = $2 AND m.workspace_id = $3"
        );
        let row = sqlx::query(&sql).bind(author_key(author)).bind(client_id).bind(ws.0).fetch_optional(&mut *self.0).await.map_err(db)?;
        row.as_ref().map(rows::event).transpose()
    }

    async fn load_conversation(&mut self, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
        lock_conversation(self.0, ws, id).await
    }

    async fn insert_conversation(&mut self, conversation: &Conversation) -> Result<()> {
        insert_conversation(self.0, conversation).await
    }

    async fn save_conversation(&mut self, conversation: &Conversation) -> Result<()> {
        save_conversation(self.0, conversation).await
    }

    async fn next_feed_seq(&mut self, ws: WorkspaceId) -> Result<i64> {
        sqlx::query_scalar("UPDATE workspaces SET feed_seq = feed_seq + 1 WHERE id = $1 RETURNING feed_seq")
            .bind(ws.0)
            .fetch_one(&mut *self.0)
            .await
            .map_err(db)
    }

    async fn insert_message(&mut self, message: &Message) -> Result<()> {
        insert_message(self.0, message).await
    }

    async fn insert_event(&mut self, e: &Event) -> Result<()> {
        let (actor_kind, actor_id) = actor_parts(e.actor);
        let message_id = match &e.data {
            EventData::Message(m) => Some(m.id.0),
            _ => None,
        };
        sqlx::query(
            "INSERT INTO events (workspace_id, feed_seq, conversation_id, seq, kind, visibility, \
             actor_kind, actor_id, message_id, data, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(e.workspace_id.0)
        .bind(e.feed_seq)
        .bind(e.conversation_id.0)
        .bind(e.seq)
        .bind(e.data.kind())
        .bind(match e.visibility() {
            Visibility::Everyone => "everyone",
            Visibility::Agents => "agents",
        })
        .bind(actor_kind)
        .bind(actor_id)
        .bind(message_id)
        .bind(codec::encode_event_data(&e.data))
        .bind(e.at.0)
        .execute(&mut *self.0)
        .await
        .map_err(db)?;
        Ok(())
    }
}
