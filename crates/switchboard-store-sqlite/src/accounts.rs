//! Agents' second factors (TOTP secrets, recovery codes) and the audit log: the account
//! security of issue 17, kept apart from `directory.rs`, which it does not change.
//! Reads use the read pool; writes take the store's turn (`SqliteStore::writing`).

use sqlx::{QueryBuilder, Sqlite};
use switchboard_domain::*;
use switchboard_store::codec::actor_parts;
use switchboard_store::*;

use crate::SqliteStore;
use crate::rows::{self, db, s};

pub(crate) async fn two_factor(store: &SqliteStore, ws: WorkspaceId, agent: AgentId) -> Result<Option<TwoFactor>> {
    let row: Option<(String, Option<i64>, i64)> =
        sqlx::query_as("SELECT secret, enabled_at, last_step FROM agent_two_factor WHERE agent_id = $1 AND workspace_id = $2")
            .bind(s(agent))
            .bind(s(ws))
            .fetch_optional(&store.read)
            .await
            .map_err(db)?;
    Ok(row.map(|(secret, enabled_at, last_step)| TwoFactor { secret, enabled_at: enabled_at.map(Timestamp), last_step }))
}

pub(crate) async fn set_two_factor(
    store: &SqliteStore,
    ws: WorkspaceId,
    agent: AgentId,
    tf: Option<&TwoFactor>,
    recovery_hashes: &[String],
) -> Result<()> {
    let mut write = store.writing().await?;
    let mut tx = sqlx::Connection::begin(&mut *write).await.map_err(db)?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM agents WHERE id = $1 AND workspace_id = $2")
        .bind(s(agent))
        .bind(s(ws))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    if exists.is_none() {
        return Err(StoreError::NotFound(Entity::Agent));
    }
    sqlx::query("DELETE FROM agent_two_factor WHERE agent_id = $1").bind(s(agent)).execute(&mut *tx).await.map_err(db)?;
    sqlx::query("DELETE FROM recovery_codes WHERE agent_id = $1").bind(s(agent)).execute(&mut *tx).await.map_err(db)?;
    if let Some(tf) = tf {
        sqlx::query("INSERT INTO agent_two_factor (agent_id, workspace_id, secret, enabled_at, last_step) VALUES ($1, $2, $3, $4, $5)")
            .bind(s(agent))
            .bind(s(ws))
            .bind(&tf.secret)
            .bind(tf.enabled_at.map(|t| t.0))
            .bind(tf.last_step)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if tf.enabled_at.is_some() {
            sqlx::query("UPDATE sessions SET must_enrol = FALSE WHERE agent_id = $1").bind(s(agent)).execute(&mut *tx).await.map_err(db)?;
        }
        for hash in recovery_hashes {
            sqlx::query("INSERT INTO recovery_codes (agent_id, workspace_id, code_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(s(agent))
                .bind(s(ws))
                .bind(hash)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
    }
    tx.commit().await.map_err(db)
}

pub(crate) async fn use_totp_step(store: &SqliteStore, ws: WorkspaceId, agent: AgentId, step: i64) -> Result<bool> {
    let r = sqlx::query("UPDATE agent_two_factor SET last_step = $3 WHERE agent_id = $1 AND workspace_id = $2 AND last_step < $3")
        .bind(s(agent))
        .bind(s(ws))
        .bind(step)
        .execute(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn use_recovery_code(
    store: &SqliteStore,
    ws: WorkspaceId,
    agent: AgentId,
    code_hash: &str,
    at: Timestamp,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE recovery_codes SET used_at = $4 WHERE agent_id = $1 AND workspace_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(s(agent))
    .bind(s(ws))
    .bind(code_hash)
    .bind(at.0)
    .execute(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn recovery_codes_left(store: &SqliteStore, ws: WorkspaceId, agent: AgentId) -> Result<u32> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE agent_id = $1 AND workspace_id = $2 AND used_at IS NULL")
        .bind(s(agent))
        .bind(s(ws))
        .fetch_one(&store.read)
        .await
        .map_err(db)?;
    Ok(n as u32)
}

/// The columns of an entry, in the order of `INSERT INTO audit_log (…)`.
const AUDIT_COLUMNS: &str = "id, workspace_id, at, actor_kind, actor_id, action, target_kind, target_id, detail";

pub(crate) async fn record_audit(store: &SqliteStore, e: &AuditEntry) -> Result<()> {
    let (kind, actor) = actor_parts(e.actor);
    sqlx::query(&format!("INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
        .bind(s(e.id))
        .bind(s(e.workspace_id))
        .bind(e.at.0)
        .bind(kind)
        .bind(actor.map(s))
        .bind(e.action.as_str())
        .bind(e.target.map(|t| t.kind.as_str()))
        .bind(e.target.map(|t| s(t.id)))
        .bind(&e.detail)
        .execute(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    Ok(())
}

pub(crate) async fn record_read(store: &SqliteStore, e: &AuditEntry, since: Timestamp) -> Result<bool> {
    let (kind, actor) = actor_parts(e.actor);
    // One statement: the check and the insert cannot be split by another writer.
    let r = sqlx::query(&format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
         WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE workspace_id = $2 AND actor_id IS $5 AND target_id IS $8 \
         AND action = $6 AND at >= $10)"
    ))
    .bind(s(e.id))
    .bind(s(e.workspace_id))
    .bind(e.at.0)
    .bind(kind)
    .bind(actor.map(s))
    .bind(e.action.as_str())
    .bind(e.target.map(|t| t.kind.as_str()))
    .bind(e.target.map(|t| s(t.id)))
    .bind(&e.detail)
    .bind(since.0)
    .execute(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn audit_log(store: &SqliteStore, ws: WorkspaceId, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM audit_log WHERE workspace_id = ");
    q.push_bind(s(ws));
    if let Some(actor) = f.actor {
        let (kind, id) = actor_parts(actor);
        q.push(" AND actor_kind = ").push_bind(kind);
        if let Some(id) = id {
            q.push(" AND actor_id = ").push_bind(s(id));
        }
    }
    if let Some(action) = f.action {
        q.push(" AND action = ").push_bind(action.as_str());
    }
    if let Some(t) = f.target {
        q.push(" AND target_kind = ").push_bind(t.kind.as_str()).push(" AND target_id = ").push_bind(s(t.id));
    }
    if let Some(from) = f.from {
        q.push(" AND at >= ").push_bind(from.0);
    }
    if let Some(to) = f.to {
        q.push(" AND at < ").push_bind(to.0);
    }
    if let Some(c) = f.before {
        q.push(" AND (at < ").push_bind(c.at.0).push(" OR (at = ").push_bind(c.at.0).push(" AND id < ").push_bind(s(c.id)).push("))");
    }
    q.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(i64::from(f.limit));
    let rows = q.build().fetch_all(&store.read).await.map_err(db)?;
    rows.iter().map(rows::audit_entry).collect()
}
