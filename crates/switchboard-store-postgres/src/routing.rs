//! What routing reads on PostgreSQL: each agent's load, a contact's last helper, the
//! waiting queues. The same SQL as SQLite's `routing.rs`, with ids bound as UUIDs. The
//! guarded assignment itself is part of the log's batches (`log.rs`).

use sqlx::PgPool;
use switchboard_domain::routing::QueueEntry;
use switchboard_domain::*;
use switchboard_store::*;
use uuid::Uuid;

use crate::rows::db;

/// The queue's serving order: priority (urgent first), then waiting time, then id, as
/// [`QueueEntry::order_key`] sorts it.
const QUEUE_ORDER: &str = "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 \
     WHEN 'low' THEN 3 ELSE 4 END, queued_at, id";

pub(crate) async fn agent_loads(pool: &PgPool, ws: WorkspaceId) -> Result<Vec<AgentLoad>> {
    let rows: Vec<(Uuid, i64, Option<i64>)> = sqlx::query_as(
        "SELECT assignee_id, SUM(CASE WHEN status IN ('open', 'pending') THEN 1 ELSE 0 END)::int8, MAX(assigned_at) \
         FROM conversations WHERE workspace_id = $1 AND assignee_id IS NOT NULL GROUP BY assignee_id",
    )
    .bind(ws.0)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(agent, open, last)| AgentLoad { agent_id: AgentId(agent), open_chats: open as u32, last_assigned_at: last.map(Timestamp) })
        .collect())
}

pub(crate) async fn last_helper(pool: &PgPool, ws: WorkspaceId, contact: ContactId, except: ConversationId) -> Result<Option<AgentId>> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "SELECT assignee_id FROM conversations WHERE contact_id = $1 AND workspace_id = $2 AND id <> $3 \
         AND assignee_id IS NOT NULL ORDER BY updated_at DESC, id DESC LIMIT 1",
    )
    .bind(contact.0)
    .bind(ws.0)
    .bind(except.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    Ok(id.map(AgentId))
}

pub(crate) async fn queue(pool: &PgPool, ws: WorkspaceId, scope: QueueScope, limit: u32) -> Result<Vec<QueueEntry>> {
    let team = match scope {
        QueueScope::All => " AND $2::uuid IS NULL",
        QueueScope::Team(Some(_)) => " AND team_id = $2",
        QueueScope::Team(None) => " AND team_id IS NULL AND $2::uuid IS NULL",
    };
    let rows: Vec<(Uuid, Option<Uuid>, String, i64)> = sqlx::query_as(&format!(
        "SELECT id, team_id, priority, queued_at FROM conversations WHERE workspace_id = $1 AND queued_at IS NOT NULL{team} \
         ORDER BY {QUEUE_ORDER} LIMIT $3"
    ))
    .bind(ws.0)
    .bind(match scope {
        QueueScope::Team(Some(t)) => Some(t.0),
        _ => None,
    })
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.into_iter()
        .map(|(id, team, priority, at)| {
            Ok(QueueEntry {
                conversation_id: ConversationId(id),
                team_id: team.map(TeamId),
                priority: Priority::parse(&priority)?,
                queued_at: Timestamp(at),
            })
        })
        .collect()
}

pub(crate) async fn queue_summary(pool: &PgPool, ws: WorkspaceId) -> Result<Vec<QueueSummary>> {
    let rows: Vec<(Option<Uuid>, i64, Option<i64>)> = sqlx::query_as(
        "SELECT team_id, COUNT(*), MIN(queued_at) FROM conversations WHERE workspace_id = $1 AND queued_at IS NOT NULL \
         GROUP BY team_id ORDER BY team_id",
    )
    .bind(ws.0)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(team, n, oldest)| QueueSummary { team_id: team.map(TeamId), length: n as u64, oldest_queued_at: oldest.map(Timestamp) })
        .collect())
}
