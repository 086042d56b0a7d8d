//! Reads of the log: the inbox list, one conversation's events, the workspace feed and
//! message search. Readers never lock; they see whole batches or nothing of them.

use sqlx::{PgPool, Postgres, QueryBuilder};
use switchboard_domain::*;
use switchboard_store::codec::{self, like_pattern};
use switchboard_store::{AssigneeFilter, Audience, ConversationFilter, EventQuery, MessageHit, Result};

use crate::log::load_conversation;
use crate::rows::{self, EVENT_COLUMNS, db};

pub(crate) async fn conversations(pool: &PgPool, ws: WorkspaceId, f: &ConversationFilter) -> Result<Vec<Conversation>> {
    let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM conversations WHERE workspace_id = ");
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
    if let Some(after) = f.after {
        q.push(" AND (updated_at < ").push_bind(after.updated_at.0);
        q.push(" OR (updated_at = ").push_bind(after.updated_at.0);
        q.push(" AND id < ").push_bind(after.id.0).push("))");
    }
    q.push(" ORDER BY updated_at DESC, id DESC LIMIT ").push_bind(f.limit as i64);
    let rows = q.build().fetch_all(pool).await.map_err(db)?;
    rows.iter().map(rows::conversation).collect()
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
