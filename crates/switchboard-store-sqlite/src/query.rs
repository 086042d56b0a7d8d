//! Reads of conversations and the log: the inbox with its filters and cursor, a
//! conversation's events, the workspace feed, and message search.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use switchboard_domain::*;
use switchboard_store::codec::{self, like_pattern};
use switchboard_store::*;

use crate::log;
use crate::rows::{self, EVENT_COLUMNS, db, s};

/// Counts a conversation's messages from the contact after the team's read mark,
/// over the `(conversation_id, seq)` index. Portable SQL, the same on PostgreSQL.
const UNREAD: &str = "(SELECT COUNT(*) FROM events e WHERE e.conversation_id = conversations.id \
     AND e.seq > conversations.agent_read_seq AND e.kind = 'message' AND e.actor_kind = 'contact') AS unread";

/// The waiting sort's key: when the contact started waiting, or last when not waiting.
const WAITING_KEY: &str = "COALESCE(waiting_since, 9223372036854775807)";

fn with_unread(row: &sqlx::sqlite::SqliteRow) -> Result<Conversation> {
    let mut c = rows::conversation(row)?;
    c.unread = Some(sqlx::Row::try_get::<i64, _>(row, "unread").map_err(db)? as u32);
    Ok(c)
}

/// The restricted-inbox rule (`ConversationScope`) as a condition on `conversations`,
/// starting with ` AND` (empty for `All`). The ids are typed uuids written as literals
/// (no user text reaches the SQL); both dialects compare them with the id columns.
fn scope_condition(scope: &ConversationScope) -> String {
    match scope {
        ConversationScope::All => String::new(),
        ConversationScope::Restricted { agent, teams } => {
            let mut any = vec!["team_id IS NULL".to_owned()];
            if let Some(agent) = agent {
                any.push(format!("assignee_id = '{}'", agent.0));
            }
            if !teams.is_empty() {
                let ids: Vec<String> = teams.iter().map(|t| format!("'{}'", t.0)).collect();
                any.push(format!("team_id IN ({})", ids.join(", ")));
            }
            format!(" AND ({})", any.join(" OR "))
        }
    }
}

pub(crate) async fn conversations(pool: &SqlitePool, ws: WorkspaceId, f: &ConversationFilter) -> Result<Vec<Conversation>> {
    // The page is chosen first and only its rows are counted: a sort would otherwise
    // count the unread messages of every conversation it orders.
    let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT *, {UNREAD} FROM (SELECT * FROM conversations WHERE workspace_id = "));
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
    q.push(scope_condition(&f.scope));
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
    match (f.sort, f.after) {
        (ConversationSort::LastActivity, Some(after)) => {
            q.push(" AND (updated_at < ").push_bind(after.key);
            q.push(" OR (updated_at = ").push_bind(after.key);
            q.push(" AND id < ").push_bind(s(after.id)).push("))");
        }
        (ConversationSort::Waiting, Some(after)) => {
            q.push(format!(" AND ({WAITING_KEY} > ")).push_bind(after.key);
            q.push(format!(" OR ({WAITING_KEY} = ")).push_bind(after.key);
            q.push(" AND id > ").push_bind(s(after.id)).push("))");
        }
        (_, None) => {}
    }
    let order = match f.sort {
        ConversationSort::LastActivity => " ORDER BY updated_at DESC, id DESC".to_owned(),
        ConversationSort::Waiting => format!(" ORDER BY {WAITING_KEY}, id"),
    };
    q.push(&order);
    q.push(" LIMIT ").push_bind(f.limit as i64);
    q.push(") AS conversations").push(&order);
    let rows = q.build().fetch_all(pool).await.map_err(db)?;
    rows.iter().map(with_unread).collect()
}

pub(crate) async fn conversation_counts(
    pool: &SqlitePool,
    ws: WorkspaceId,
    me: Option<AgentId>,
    scope: &ConversationScope,
) -> Result<ConversationCounts> {
    let only = scope_condition(scope);
    use sqlx::Row;
    let row = sqlx::query(&format!(
        "SELECT \
           COUNT(*) FILTER (WHERE status = 'open' AND assignee_id = $2) AS mine, \
           COUNT(*) FILTER (WHERE status = 'open' AND assignee_id IS NULL) AS unassigned, \
           COUNT(*) FILTER (WHERE status = 'open') AS open, \
           COUNT(*) FILTER (WHERE status = 'pending') AS pending, \
           COUNT(*) FILTER (WHERE status = 'snoozed') AS snoozed, \
           COUNT(*) FILTER (WHERE status = 'resolved') AS resolved \
         FROM conversations WHERE workspace_id = $1{only}",
    ))
    .bind(s(ws))
    .bind(me.map(s))
    .fetch_one(pool)
    .await
    .map_err(db)?;
    let n = |col: &str| row.try_get::<i64, _>(col).map(|n| n as u64).map_err(db);
    let by_team = sqlx::query(&format!(
        "SELECT team_id, COUNT(*) AS n FROM conversations WHERE workspace_id = $1 AND status = 'open' AND team_id IS NOT NULL{only} \
         GROUP BY team_id ORDER BY team_id",
    ))
    .bind(s(ws))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let by_label = sqlx::query(&format!(
        "SELECT l.value AS label, COUNT(*) AS n FROM conversations, json_each(conversations.labels) l \
         WHERE workspace_id = $1 AND status = 'open'{only} GROUP BY l.value ORDER BY l.value",
    ))
    .bind(s(ws))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(ConversationCounts {
        mine: n("mine")?,
        unassigned: n("unassigned")?,
        all: n("open")?,
        open: n("open")?,
        pending: n("pending")?,
        snoozed: n("snoozed")?,
        resolved: n("resolved")?,
        by_team: by_team
            .iter()
            .map(|r| {
                Ok((TeamId(codec::uuid(&r.try_get::<String, _>("team_id").map_err(db)?)?), r.try_get::<i64, _>("n").map_err(db)? as u64))
            })
            .collect::<Result<_>>()?,
        by_label: by_label
            .iter()
            .map(|r| Ok((Label::parse(&r.try_get::<String, _>("label").map_err(db)?)?, r.try_get::<i64, _>("n").map_err(db)? as u64)))
            .collect::<Result<_>>()?,
    })
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

/// The conversation's newest event of `kind`, walking its `(conversation_id, seq)` index
/// from the end.
pub(crate) async fn last_event_of_kind(pool: &SqlitePool, ws: WorkspaceId, id: ConversationId, kind: &str) -> Result<Option<Event>> {
    let mut conn = pool.acquire().await.map_err(db)?;
    log::load_conversation(&mut conn, ws, id).await?;
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.conversation_id = $1 AND e.kind = $2 ORDER BY e.seq DESC LIMIT 1");
    let row = sqlx::query(&sql).bind(s(id)).bind(kind).fetch_optional(&mut *conn).await.map_err(db)?;
    row.as_ref().map(rows::event).transpose()
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
    let row = sqlx::query(&format!("SELECT *, {UNREAD} FROM conversations WHERE id = $1 AND workspace_id = $2"))
        .bind(s(id))
        .bind(s(ws))
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::Conversation))?;
    with_unread(&row)
}
