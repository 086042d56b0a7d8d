//! Sessions listed one by one, agents' second factors (TOTP secrets, recovery codes),
//! API token use and the audit log: the account security of issue 17, mirroring the
//! SQLite store's `accounts.rs`.

use sqlx::{PgPool, Postgres, QueryBuilder};
use switchboard_domain::*;
use switchboard_store::codec::actor_parts;
use switchboard_store::*;

use crate::rows::{self, db};

pub(crate) async fn agent_sessions(pool: &PgPool, ws: WorkspaceId, agent: AgentId, now: Timestamp) -> Result<Vec<Session>> {
    let rows = sqlx::query(
        "SELECT * FROM sessions WHERE workspace_id = $1 AND agent_id = $2 AND expires_at > $3 ORDER BY created_at DESC, id DESC",
    )
    .bind(ws.0)
    .bind(agent.0)
    .bind(now.0)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter().map(rows::session).collect()
}

pub(crate) async fn delete_session_by_id(pool: &PgPool, ws: WorkspaceId, agent: AgentId, id: SessionId) -> Result<()> {
    let r = sqlx::query("DELETE FROM sessions WHERE id = $1 AND agent_id = $2 AND workspace_id = $3")
        .bind(id.0)
        .bind(agent.0)
        .bind(ws.0)
        .execute(pool)
        .await
        .map_err(db)?;
    if r.rows_affected() == 0 { Err(StoreError::NotFound(Entity::Session)) } else { Ok(()) }
}

pub(crate) async fn use_api_token(pool: &PgPool, secret_hash: &str, now: Timestamp) -> Result<Option<ApiToken>> {
    // A read; the write only once a minute per token.
    let row = sqlx::query("SELECT * FROM api_tokens WHERE secret_hash = $1").bind(secret_hash).fetch_optional(pool).await.map_err(db)?;
    let Some(mut token) = row.as_ref().map(rows::api_token).transpose()? else { return Ok(None) };
    if token.last_used_at.is_none_or(|t| now.0 - t.0 >= TOKEN_USE_GRANULARITY_MS) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)")
            .bind(token.id.0)
            .bind(now.0)
            .execute(pool)
            .await
            .map_err(db)?;
        token.last_used_at = Some(now);
    }
    Ok(Some(token))
}

pub(crate) async fn two_factor(pool: &PgPool, ws: WorkspaceId, agent: AgentId) -> Result<Option<TwoFactor>> {
    let row: Option<(String, Option<i64>, i64)> =
        sqlx::query_as("SELECT secret, enabled_at, last_step FROM agent_two_factor WHERE agent_id = $1 AND workspace_id = $2")
            .bind(agent.0)
            .bind(ws.0)
            .fetch_optional(pool)
            .await
            .map_err(db)?;
    Ok(row.map(|(secret, enabled_at, last_step)| TwoFactor { secret, enabled_at: enabled_at.map(Timestamp), last_step }))
}

pub(crate) async fn set_two_factor(
    pool: &PgPool,
    ws: WorkspaceId,
    agent: AgentId,
    tf: Option<&TwoFactor>,
    recovery_hashes: &[String],
) -> Result<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM agents WHERE id = $1 AND workspace_id = $2")
        .bind(agent.0)
        .bind(ws.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    if exists.is_none() {
        return Err(StoreError::NotFound(Entity::Agent));
    }
    sqlx::query("DELETE FROM agent_two_factor WHERE agent_id = $1").bind(agent.0).execute(&mut *tx).await.map_err(db)?;
    sqlx::query("DELETE FROM recovery_codes WHERE agent_id = $1").bind(agent.0).execute(&mut *tx).await.map_err(db)?;
    if let Some(tf) = tf {
        sqlx::query("INSERT INTO agent_two_factor (agent_id, workspace_id, secret, enabled_at, last_step) VALUES ($1, $2, $3, $4, $5)")
            .bind(agent.0)
            .bind(ws.0)
            .bind(&tf.secret)
            .bind(tf.enabled_at.map(|t| t.0))
            .bind(tf.last_step)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if tf.enabled_at.is_some() {
            sqlx::query("UPDATE sessions SET must_enrol = FALSE WHERE agent_id = $1").bind(agent.0).execute(&mut *tx).await.map_err(db)?;
        }
        for hash in recovery_hashes {
            sqlx::query("INSERT INTO recovery_codes (agent_id, workspace_id, code_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(agent.0)
                .bind(ws.0)
                .bind(hash)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
    }
    tx.commit().await.map_err(db)
}

pub(crate) async fn use_totp_step(pool: &PgPool, ws: WorkspaceId, agent: AgentId, step: i64) -> Result<bool> {
    let r = sqlx::query("UPDATE agent_two_factor SET last_step = $3 WHERE agent_id = $1 AND workspace_id = $2 AND last_step < $3")
        .bind(agent.0)
        .bind(ws.0)
        .bind(step)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn use_recovery_code(pool: &PgPool, ws: WorkspaceId, agent: AgentId, code_hash: &str, at: Timestamp) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE recovery_codes SET used_at = $4 WHERE agent_id = $1 AND workspace_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(agent.0)
    .bind(ws.0)
    .bind(code_hash)
    .bind(at.0)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn recovery_codes_left(pool: &PgPool, ws: WorkspaceId, agent: AgentId) -> Result<u32> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE agent_id = $1 AND workspace_id = $2 AND used_at IS NULL")
        .bind(agent.0)
        .bind(ws.0)
        .fetch_one(pool)
        .await
        .map_err(db)?;
    Ok(n as u32)
}

/// The columns of an entry, in the order of `INSERT INTO audit_log (…)`.
const AUDIT_COLUMNS: &str = "id, workspace_id, at, actor_kind, actor_id, action, target_kind, target_id, detail";

pub(crate) async fn record_audit(pool: &PgPool, e: &AuditEntry) -> Result<()> {
    let (kind, actor) = actor_parts(e.actor);
    sqlx::query(&format!("INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
        .bind(e.id.0)
        .bind(e.workspace_id.0)
        .bind(e.at.0)
        .bind(kind)
        .bind(actor)
        .bind(e.action.as_str())
        .bind(e.target.map(|t| t.kind.as_str()))
        .bind(e.target.map(|t| t.id))
        .bind(&e.detail)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

pub(crate) async fn record_read(pool: &PgPool, e: &AuditEntry, since: Timestamp) -> Result<bool> {
    let (kind, actor) = actor_parts(e.actor);
    // Postgres-only: `IS NOT DISTINCT FROM` where SQLite says `IS`. Two nodes may both
    // insert in the same instant; the window is for tidiness, not a guarantee.
    let r = sqlx::query(&format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
         WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE workspace_id = $2 AND actor_id IS NOT DISTINCT FROM $5 AND target_id IS NOT DISTINCT FROM $8 \
         AND action = $6 AND at >= $10)"
    ))
    .bind(e.id.0)
    .bind(e.workspace_id.0)
    .bind(e.at.0)
    .bind(kind)
    .bind(actor)
    .bind(e.action.as_str())
    .bind(e.target.map(|t| t.kind.as_str()))
    .bind(e.target.map(|t| t.id))
    .bind(&e.detail)
    .bind(since.0)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn audit_log(pool: &PgPool, ws: WorkspaceId, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM audit_log WHERE workspace_id = ");
    q.push_bind(ws.0);
    if let Some(actor) = f.actor {
        let (kind, id) = actor_parts(actor);
        q.push(" AND actor_kind = ").push_bind(kind);
        if let Some(id) = id {
            q.push(" AND actor_id = ").push_bind(id);
        }
    }
    if let Some(action) = f.action {
        q.push(" AND action = ").push_bind(action.as_str());
    }
    if let Some(t) = f.target {
        q.push(" AND target_kind = ").push_bind(t.kind.as_str()).push(" AND target_id = ").push_bind(t.id);
    }
    if let Some(from) = f.from {
        q.push(" AND at >= ").push_bind(from.0);
    }
    if let Some(to) = f.to {
        q.push(" AND at < ").push_bind(to.0);
    }
    if let Some(c) = f.before {
        q.push(" AND (at < ").push_bind(c.at.0).push(" OR (at = ").push_bind(c.at.0).push(" AND id < ").push_bind(c.id.0).push("))");
    }
    q.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(i64::from(f.limit));
    let rows = q.build().fetch_all(pool).await.map_err(db)?;
    rows.iter().map(rows::audit_entry).collect()
}
