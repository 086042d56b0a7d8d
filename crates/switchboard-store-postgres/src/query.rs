//! Reads of the log: the inbox list, one conversation's events, the workspace feed and
//! message search. Readers never lock; they see whole batches or nothing of them.

use sqlx::{PgPool, Postgres, QueryBuilder};
use switchboard_domain::*;
use switchboard_store::codec::{self, like_pattern};
use switchboard_store::{
    AssigneeFilter, Audience, ConversationCounts, ConversationFilter, ConversationSort, EventQuery, MessageHit, Result, StoreError,
};

use crate::log::load_conversation;
use crate::rows::{self, EVENT_COLUMNS, db};

/// Counts a conversation's messages from the contact after the team's read mark,
/// over the `(conversation_id, seq)` index. Portable SQL, the same on SQLite.
const UNREAD: &str = "(SELECT COUNT(*) FROM events e WHERE e.conversation_id = conversations.id \
     AND e.seq > conversations.agent_read_seq AND e.kind = 'message' AND e.actor_kind = 'contact') AS unread";

/// The waiting sort's key: when the contact started waiting, or last when not waiting.
const WAITING_KEY: &str = "COALESCE(waiting_since, 9223372036854775807)";

fn with_unread(row: &sqlx::postgres::PgRow) -> Result<Conversation> {
    let mut c = rows::conversation(row)?;
    c.unread = Some(sqlx::Row::try_get::<i64, _>(row, "unread").map_err(db)? as u32);
    Ok(c)
}

pub(crate) async fn conversation(pool: &PgPool, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
    let row = sqlx::query(&format!("SELECT *, {UNREAD} FROM conversations WHERE id = $1 AND workspace_id = $2"))
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::Conversation))?;
    with_unread(&row)
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

pub(crate) async fn conversations(pool: &PgPool, ws: WorkspaceId, f: &ConversationFilter) -> Result<Vec<Conversation>> {
    // The page is chosen first and only its rows are counted: a sort would otherwise
    // count the unread messages of every conversation it orders.
    let mut q = QueryBuilder::<Postgres>::new(format!("SELECT *, {UNREAD} FROM (SELECT * FROM conversations WHERE workspace_id = "));
    q.push_bind(ws.0);
    if let Some(status) = f.status {
        q.push(" AND status = ").push_bind(status);
    }
    match f.assignee {
        Some(AssigneeFilter::Agent(a)) => {
            q.push(" AND assignee_id = ").push_bind(a.0);
        }
        Some(AssigneeFilter::Unassigned) => {
            q.push(" AND assignee_id IS NULL");
        }
        None => {}
    }
    q.push(scope_condition(&f.scope));
    if let Some(t) = f.team_id {
        q.push(" AND team_id = ").push_bind(t.0);
    }
    if let Some(site) = f.site_id {
        q.push(" AND site_id = ").push_bind(site.0);
    }
    if let Some(inbox) = f.inbox_id {
        q.push(" AND inbox_id = ").push_bind(inbox.0);
    }
    if let Some(c) = f.contact_id {
        q.push(" AND contact_id = ").push_bind(c.0);
    }
    if let Some(label) = &f.label {
        // Labels are a JSON array of quoted names; a quoted name matches exactly one label.
        let quoted = like_pattern(&format!("\"{}\"", label.as_str()));
        q.push(" AND labels LIKE ").push_bind(quoted).push(" ESCAPE '\\'");
    }
    match (f.sort, f.after) {
        (ConversationSort::LastActivity, Some(after)) => {
            q.push(" AND (updated_at < ").push_bind(after.key);
            q.push(" OR (updated_at = ").push_bind(after.key);
            q.push(" AND id < ").push_bind(after.id.0).push("))");
        }
        (ConversationSort::Waiting, Some(after)) => {
            q.push(format!(" AND ({WAITING_KEY} > ")).push_bind(after.key);
            q.push(format!(" OR ({WAITING_KEY} = ")).push_bind(after.key);
            q.push(" AND id > ").push_bind(after.id.0).push("))");
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
    pool: &PgPool,
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
    .bind(ws.0)
    .bind(me.map(|a| a.0))
    .fetch_one(pool)
    .await
    .map_err(db)?;
    let n = |col: &str| row.try_get::<i64, _>(col).map(|n| n as u64).map_err(db);
    let by_team = sqlx::query(&format!(
        "SELECT team_id, COUNT(*) AS n FROM conversations WHERE workspace_id = $1 AND status = 'open' AND team_id IS NOT NULL{only} \
         GROUP BY team_id ORDER BY team_id",
    ))
    .bind(ws.0)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    // Postgres-only: labels are a JSON array in a text column; jsonb unnests it (SQLite: json_each).
    let by_label = sqlx::query(&format!(
        "SELECT l.value AS label, COUNT(*) AS n FROM conversations, jsonb_array_elements_text(conversations.labels::jsonb) l(value) \
         WHERE workspace_id = $1 AND status = 'open'{only} GROUP BY l.value ORDER BY l.value",
    ))
    .bind(ws.0)
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
            .map(|r| Ok((TeamId(r.try_get::<uuid::Uuid, _>("team_id").map_err(db)?), r.try_get::<i64, _>("n").map_err(db)? as u64)))
            .collect::<Result<_>>()?,
        by_label: by_label
            .iter()
            .map(|r| Ok((Label::parse(&r.try_get::<String, _>("label").map_err(db)?)?, r.try_get::<i64, _>("n").map_err(db)? as u64)))
            .collect::<Result<_>>()?,
    })
}

pub(crate) async fn conversation_events(pool: &PgPool, ws: WorkspaceId, id: ConversationId, query: &EventQuery) -> Result<Vec<Event>> {
    // Existence check first, so an unknown or foreign conversation is "not found", not
    // empty. Events are never deleted apart from their conversation, so the two reads
    // need no shared snapshot.
    load_conversation(pool, ws, id).await?;
    let mut q = QueryBuilder::<Postgres>::new(format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.conversation_id = "));
    q.push_bind(id.0);
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
    let rows = q.build().fetch_all(pool).await.map_err(db)?;
    rows.iter().map(rows::event).collect()
}

/// The conversation's newest event of `kind`, walking its `(conversation_id, seq)` index
/// from the end.
pub(crate) async fn last_event_of_kind(pool: &PgPool, ws: WorkspaceId, id: ConversationId, kind: &str) -> Result<Option<Event>> {
    load_conversation(pool, ws, id).await?;
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.conversation_id = $1 AND e.kind = $2 ORDER BY e.seq DESC LIMIT 1");
    let row = sqlx::query(&sql).bind(id.0).bind(kind).fetch_optional(pool).await.map_err(db)?;
    row.as_ref().map(rows::event).transpose()
}

pub(crate) async fn feed(pool: &PgPool, ws: WorkspaceId, after_feed_seq: i64, limit: u32) -> Result<Vec<Event>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.workspace_id = $1 AND e.feed_seq > $2 ORDER BY e.feed_seq LIMIT $3");
    let rows = sqlx::query(&sql).bind(ws.0).bind(after_feed_seq).bind(limit as i64).fetch_all(pool).await.map_err(db)?;
    rows.iter().map(rows::event).collect()
}

pub(crate) async fn search_messages(pool: &PgPool, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<MessageHit>> {
    let Some(query) = prefix_query(terms) else {
        return Ok(vec![]);
    };
    // Postgres-only: `search @@ tsquery` over the GIN-indexed column, where SQLite
    // uses `MATCH` on its FTS5 table. The tsquery is cast from text, not made by
    // to_tsquery, so no parser or dictionary touches the (already folded) terms.
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events e \
         WHERE e.search @@ $1::tsquery AND e.workspace_id = $2 \
         ORDER BY e.at DESC, e.seq DESC LIMIT $3"
    );
    let rows = sqlx::query(&sql).bind(query).bind(ws.0).bind(limit as i64).fetch_all(pool).await.map_err(db)?;
    rows.iter().map(|r| Ok(MessageHit { message: codec::event_message(rows::event(r)?)? })).collect()
}

/// Every term as a quoted prefix lexeme (`'term':*`), all joined with `&`, as SQLite
/// joins its quoted prefix phrases. Terms come from [`search::query_terms`] (folded
/// words); anything else in a term separates words, as the indexer splits them.
/// `None` when there is nothing to look for.
fn prefix_query(terms: &[String]) -> Option<String> {
    let words: Vec<String> = terms
        .iter()
        .flat_map(|t| t.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(|w| format!("'{}':*", w.replace('\\', "\\\\").replace('\'', "''")))
        .collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_is_a_quoted_prefix() {
        let terms = search::query_terms("Refund محمد");
        assert_eq!(prefix_query(&terms).unwrap(), "'refund':* & 'محمد':*");
    }

    #[test]
    fn quotes_and_operators_stay_inside_lexemes() {
        let terms = ["it's".to_owned(), "a|b".to_owned(), "!".to_owned()];
        assert_eq!(prefix_query(&terms).unwrap(), "'it':* & 's':* & 'a':* & 'b':*");
        assert_eq!(prefix_query(&[]), None);
        assert_eq!(prefix_query(&["".to_owned(), "&".to_owned()]), None);
    }
}
