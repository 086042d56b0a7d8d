//! The conversation log on SQLite: the batch writer that assigns sequence numbers
//! inside the transaction that commits them, and the reads that replay the log.
//!
//! Invariant: only the writer task appends events, one batch per transaction, so a
//! `seq` or `feed_seq` becomes visible to readers only together with everything
//! before it — a cursor can never skip a committed event.

use async_trait::async_trait;
use sqlx::{Acquire, SqliteConnection, SqlitePool};
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_parts, author_key};
use switchboard_store::log::{self, LogWriter};
use switchboard_store::{Change, Committed, Result, StoreError};

use crate::rows::{self, EVENT_COLUMNS, db};

pub(crate) async fn apply_batch(pool: &SqlitePool, jobs: Vec<(WorkspaceId, Change)>) -> Vec<Result<Committed>> {
    let n = jobs.len();
    let unavailable = |e: &sqlx::Error| (0..n).map(|_| Err(StoreError::Unavailable(e.to_string()))).collect();
    let mut tx = match pool.begin().await {
        Ok(tx) => tx,
        Err(e) => return unavailable(&e),
    };
    let mut results = Vec::with_capacity(n);
    for (ws, change) in jobs {
        // Each change gets a savepoint: a rejected change rolls back alone.
        let outcome = async {
            let mut sp = (&mut *tx).begin().await.map_err(db)?;
            match log::apply(&mut SqliteLog(&mut sp), ws, change).await {
                Ok(done) => {
                    sp.commit().await.map_err(db)?;
                    Ok(done)
                }
                Err(e) => {
                    sp.rollback().await.map_err(db)?;
                    Err(e)
                }
            }
        }
        .await;
        results.push(outcome);
    }
    match tx.commit().await {
        Ok(()) => results,
        Err(e) => {
            tracing::error!(error = %e, batch = n, "commit of a batch failed");
            unavailable(&e)
        }
    }
}

async fn insert_message(conn: &mut SqliteConnection, m: &Message) -> Result<()> {
    let (author_kind, author_id) = actor_parts(m.author);
    let rowid: i64 = sqlx::query_scalar(
        "INSERT INTO messages (id, workspace_id, conversation_id, seq, author_kind, author_id, author_key, client_id, kind, body, format, attachments, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING rowid",
    )
    .bind(m.id.0.to_string())
    .bind(m.workspace_id.0.to_string())
    .bind(m.conversation_id.0.to_string())
    .bind(m.seq)
    .bind(author_kind)
    .bind(author_id.map(|i| i.to_string()))
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
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    let text = std::iter::once(m.body.as_str()).chain(m.attachments.iter().map(|a| a.filename.as_str()));
    sqlx::query("INSERT INTO message_search (rowid, text) VALUES ($1, $2)")
        .bind(rowid)
        .bind(search::normalize(&text.collect::<Vec<_>>().join(" ")))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

pub(crate) async fn load_conversation(conn: &mut SqliteConnection, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
    let row = sqlx::query("SELECT * FROM conversations WHERE id = $1 AND workspace_id = $2")
        .bind(id.0.to_string())
        .bind(ws.0.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::Conversation))?;
    rows::conversation(&row)
}

async fn insert_conversation(conn: &mut SqliteConnection, c: &Conversation) -> Result<()> {
    sqlx::query(
        "INSERT INTO conversations (id, workspace_id, site_id, contact_id, status, priority, labels, last_seq, created_at, updated_at, \
         visitor_delivered_seq, visitor_read_seq, agent_delivered_seq, agent_read_seq) \
         SELECT $1, $2, s.id, c.id, 'open', 'none', '[]', 0, $5, $5, 0, 0, 0, 0 \
         FROM sites s, contacts c WHERE s.id = $3 AND s.workspace_id = $2 AND c.id = $4 AND c.workspace_id = $2",
    )
    .bind(c.id.0.to_string())
    .bind(c.workspace_id.0.to_string())
    .bind(c.site_id.0.to_string())
    .bind(c.contact_id.0.to_string())
    .bind(c.created_at.0)
    .execute(&mut *conn)
    .await
    .map_err(db)
    .and_then(|r| {
        // The SELECT yields no row when the site or contact is not the workspace's.
        if r.rows_affected() == 1 { Ok(()) } else { Err(StoreError::NotFound(Entity::Contact)) }
    })
}

async fn save_conversation(conn: &mut SqliteConnection, c: &Conversation) -> Result<()> {
    sqlx::query(
        "UPDATE conversations SET status = $2, snoozed_until = $3, assignee_id = $4, team_id = $5, priority = $6, labels = $7, \
         last_seq = $8, first_reply_at = $9, assigned_at = $10, resolved_at = $11, waiting_since = $12, last_message_at = $13, \
         updated_at = $14, visitor_delivered_seq = $15, visitor_read_seq = $16, agent_delivered_seq = $17, agent_read_seq = $18, \
         last_message_seq = $19 \
         WHERE id = $1",
    )
    .bind(c.id.0.to_string())
    .bind(c.status.name())
    .bind(c.status.snoozed_until().map(|t| t.0))
    .bind(c.assignee_id.map(|a| a.0.to_string()))
    .bind(c.team_id.map(|t| t.0.to_string()))
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

/// The log's writes on the batch's SQLite connection.
struct SqliteLog<'c>(&'c mut SqliteConnection);

#[async_trait]
impl LogWriter for SqliteLog<'_> {
    async fn message_event(&mut self, ws: WorkspaceId, author: Actor, client_id: &str) -> Result<Option<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM messages m JOIN events e ON e.message_id = m.id \
             WHERE m.author_key = $1 AND m.client_id = $2 AND m.workspace_id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(author_key(author))
            .bind(client_id)
            .bind(ws.0.to_string())
            .fetch_optional(&mut *self.0)
            .await
            .map_err(db)?;
        row.as_ref().map(rows::event).transpose()
    }

    async fn load_conversation(&mut self, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
        load_conversation(self.0, ws, id).await
    }

    async fn insert_conversation(&mut self, conversation: &Conversation) -> Result<()> {
        insert_conversation(self.0, conversation).await
    }

    async fn save_conversation(&mut self, conversation: &Conversation) -> Result<()> {
        save_conversation(self.0, conversation).await
    }

    async fn next_feed_seq(&mut self, ws: WorkspaceId) -> Result<i64> {
        sqlx::query_scalar("UPDATE workspaces SET feed_seq = feed_seq + 1 WHERE id = $1 RETURNING feed_seq")
            .bind(ws.0.to_string())
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
            EventData::Message(m) => Some(m.id.0.to_string()),
            _ => None,
        };
        sqlx::query(
            "INSERT INTO events (workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, message_id, data, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(e.workspace_id.0.to_string())
        .bind(e.feed_seq)
        .bind(e.conversation_id.0.to_string())
        .bind(e.seq)
        .bind(e.data.kind())
        .bind(match e.visibility() {
            Visibility::Everyone => "everyone",
            Visibility::Agents => "agents",
        })
        .bind(actor_kind)
        .bind(actor_id.map(|i| i.to_string()))
        .bind(message_id)
        .bind(codec::encode_event_data(&e.data))
        .bind(e.at.0)
        .execute(&mut *self.0)
        .await
        .map_err(db)?;
        Ok(())
    }
}
