//! What routing reads on SQLite: each agent's load, a contact's last helper, the
//! waiting queues. The guarded assignment itself is part of the log's batches (`log.rs`).

use switchboard_domain::routing::QueueEntry;
use switchboard_domain::*;
use switchboard_store::codec::{self, opt_uuid};
use switchboard_store::*;

use crate::SqliteStore;
use crate::rows::{db, s};

/// The queue's serving order in SQL: priority (urgent first), then waiting time, then id,
/// as [`QueueEntry::order_key`] sorts it. Portable; PostgreSQL uses the same text.
pub(crate) const QUEUE_ORDER: &str = "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 \
     WHEN 'low' THEN 3 ELSE 4 END, queued_at, id";

pub(crate) async fn agent_loads(store: &SqliteStore, ws: WorkspaceId) -> Result<Vec<AgentLoad>> {
    let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT assignee_id, SUM(CASE WHEN status IN ('open', 'pending') THEN 1 ELSE 0 END), MAX(assigned_at) \
         FROM conversations WHERE workspace_id = $1 AND assignee_id IS NOT NULL GROUP BY assignee_id",
    )
    .bind(s(ws))
    .fetch_all(&store.read)
    .await
    .map_err(db)?;
    rows.into_iter()
        .map(|(agent, open, last)| {
            Ok(AgentLoad { agent_id: AgentId(codec::uuid(&agent)?), open_chats: open as u32, last_assigned_at: last.map(Timestamp) })
        })
        .collect()
}

pub(crate) async fn last_helper(
    store: &SqliteStore,
    ws: WorkspaceId,
    contact: ContactId,
    except: ConversationId,
) -> Result<Option<AgentId>> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT assignee_id FROM conversations WHERE contact_id = $1 AND workspace_id = $2 AND id <> $3 \
         AND assignee_id IS NOT NULL ORDER BY updated_at DESC, id DESC LIMIT 1",
    )
    .bind(s(contact))
    .bind(s(ws))
    .bind(s(except))
    .fetch_optional(&store.read)
    .await
    .map_err(db)?;
    Ok(opt_uuid(id)?.map(AgentId))
}

pub(crate) async fn queue(store: &SqliteStore, ws: WorkspaceId, scope: QueueScope, limit: u32) -> Result<Vec<QueueEntry>> {
    let team = match scope {
        QueueScope::All => " AND $2 IS NULL",
        QueueScope::Team(Some(_)) => " AND team_id = $2",
        QueueScope::Team(None) => " AND team_id IS NULL AND $2 IS NULL",
    };
    let rows: Vec<(String, Option<String>, String, i64)> = sqlx::query_as(&format!(
        "SELECT id, team_id, priority, queued_at FROM conversations WHERE workspace_id = $1 AND queued_at IS NOT NULL{team} \
         ORDER BY {QUEUE_ORDER} LIMIT $3"
    ))
    .bind(s(ws))
    .bind(match scope {
        QueueScope::Team(Some(t)) => Some(s(t)),
        _ => None,
    })
    .bind(i64::from(limit))
    .fetch_all(&store.read)
    .await
    .map_err(db)?;
    rows.into_iter()
        .map(|(id, team, priority, at)| {
            Ok(QueueEntry {
                conversation_id: ConversationId(codec::uuid(&id)?),
                team_id: opt_uuid(team)?.map(TeamId),
                priority: Priority::parse(&priority)?,
                queued_at: Timestamp(at),
            })
        })
        .collect()
}

pub(crate) async fn queue_summary(store: &SqliteStore, ws: WorkspaceId) -> Result<Vec<QueueSummary>> {
    let rows: Vec<(Option<String>, i64, Option<i64>)> = sqlx::query_as(
        "SELECT team_id, COUNT(*), MIN(queued_at) FROM conversations WHERE workspace_id = $1 AND queued_at IS NOT NULL \
         GROUP BY team_id ORDER BY team_id",
    )
    .bind(s(ws))
    .fetch_all(&store.read)
    .await
    .map_err(db)?;
    rows.into_iter()
        .map(|(team, n, oldest)| {
            Ok(QueueSummary { team_id: opt_uuid(team)?.map(TeamId), length: n as u64, oldest_queued_at: oldest.map(Timestamp) })
        })
        .collect()
}
