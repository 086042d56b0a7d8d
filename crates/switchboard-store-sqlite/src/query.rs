//! Reads of conversations and the log: the inbox with its filters and cursor, a
//! conversation's events, the workspace feed, and message search.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use switchboard_domain::*;
use switchboard_store::codec::{self, like_pattern};
use switchboard_store::*;

use crate::log;
use crate::rows::{self, EVENT_COLUMNS, db, s};

pub(crate) async fn conversations(pool: &SqlitePool, ws: WorkspaceId, f: &ConversationFilter) -> Result<Vec<Conversation>> {
    let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM conversations WHERE workspace_id = ");
    q.push_bind(s(ws));
    if let Some(status) = f.status {
        q.push(" AND status = ").push_bind(status);
    }
    match f.assignee {
        Some(AssigneeFilter::Agent(a)) => {
            q.push(" AND assignee_id = ").push_bind(s(a));
        }
        Some(AssigneeFilter::Unassigned) => {
            q.push(" AND assignee_id IS NULL");
        }
        None => {}
    }
    if let Some(t) = f.team_id {
        q.push(" AND team_id = ").push_bind(s(t));
    }
    if let Some(site) = f.site_id {
        q.push(" AND site_id = ").push_bind(s(site));
    }
    if let Some(inbox) = f.inbox_id {
        q.push(" AND inbox_id = ").push_bind(s(inbox));
    }
    if let Some(c) = f.contact_id {
        q.push(" AND contact_id = ").push_bind(s(c));
    }
    if let Some(label) = &f.label {
        // Labels are a JSON array of quoted names; a quoted name matches exactly one label.
        q.push(" AND labels LIKE ").push_bind(like_pattern(&format!("\"{}\"", label.as_str()))).push(" ESCAPE '\\'");
    }
    if let Some(after) = f.after {
        q.push(" AND (updated_at < ").push_bind(after.updated_at.0);
        q.push(" OR (updated_at = ").push_bind(after.updated_at.0);
        q.push(" AND id < ").push_bind(s(after.id)).push("))");
    }
    q.push(" ORDER BY updated_at DESC, id DESC LIMIT ").push_bind(f.limit as i64);
    let rows = q.build().fetch_all(pool).await.map_err(db)?;
    rows.iter().map(rows::conversation).collect()
}

pub(crate) async fn conversation_events(pool: &SqlitePool, ws: WorkspaceId, id: ConversationId, query: &EventQuery) -> Result<Vec<Event>> {
    let mut conn = pool.acquire().await.map_err(db)?;
    // Existence check first, so an unknown or foreign conversation is "not found", not empty.
    log::load_conversation(&mut conn, ws, id).await?;
    let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.conversation_id = "));
    q.push_bind(s(id));
    if let Some(after) = query.after_seq {
        q.push(" AND e.seq > ").push_bind(after);
    }
    if let Some(before) = query.before_seq {
        q.push(" AND e.seq < ").push_bind(before);
    }
    if query.audience == Audience::Contact {
        q.push(" AND e.visibility = 'everyone'");
    }
    q.push(if query.newest_first { " ORDER BY e.seq DESC" } else { " ORDER BY e.seq" });
    q.push(" LIMIT ").push_bind(query.limit as i64);
    let rows = q.build().fetch_all(&mut *conn).await.map_err(db)?;
    rows.iter().map(rows::event).collect()
}

pub(crate) async fn feed_head(pool: &SqlitePool, ws: WorkspaceId) -> Result<i64> {
    sqlx::query_scalar("SELECT feed_seq FROM workspaces WHERE id = $1")
        .bind(s(ws))
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::Workspace))
}

pub(crate) async fn feed(pool: &SqlitePool, ws: WorkspaceId, after_feed_seq: i64, limit: u32) -> Result<Vec<Event>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.workspace_id = $1 AND e.feed_seq > $2 ORDER BY e.feed_seq LIMIT $3");
    let rows = sqlx::query(&sql).bind(s(ws)).bind(after_feed_seq).bind(limit as i64).fetch_all(pool).await.map_err(db)?;
    rows.iter().map(rows::event).collect()
}

pub(crate) async fn search_messages(pool: &SqlitePool, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<MessageHit>> {
    if terms.is_empty() {
        return Ok(vec![]);
    }
    // Every term is a quoted prefix phrase; FTS5 joins phrases with AND.
    let query = terms.iter().map(|t| format!("\"{}\"*", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" ");
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM message_search s JOIN events e ON e.rowid = s.rowid \
         WHERE message_search MATCH $1 AND e.workspace_id = $2 ORDER BY e.at DESC, e.seq DESC LIMIT $3"
    );
    let rows = sqlx::query(&sql).bind(query).bind(s(ws)).bind(limit as i64).fetch_all(pool).await.map_err(db)?;
    rows.iter().map(|r| Ok(MessageHit { message: codec::event_message(rows::event(r)?)? })).collect()
}

pub(crate) async fn conversation(pool: &SqlitePool, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
    let mut conn = pool.acquire().await.map_err(db)?;
    log::load_conversation(&mut conn, ws, id).await
}
