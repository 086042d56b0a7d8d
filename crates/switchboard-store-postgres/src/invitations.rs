//! Invitations by e-mail (`agent_invitations`), mirroring the SQLite store; accepting is
//! one transaction with the new agent and their teams.

use sqlx::PgPool;
use sqlx::postgres::PgRow;
use switchboard_domain::*;
use switchboard_store::codec;
use switchboard_store::{Result, StoreError};

use crate::directory::{found, write_agent};
use crate::rows::{db, get, id, opt_id, opt_ts, ts, unique};

/// Pending: neither used nor revoked (expiry is the caller's to compare).
const PENDING: &str = "used_at IS NULL AND revoked_at IS NULL";

fn invitation(row: &PgRow) -> Result<AgentInvitation> {
    Ok(AgentInvitation {
        id: AgentInvitationId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        email: Email::parse(&get::<String>(row, "email")?)?,
        name: get(row, "name")?,
        role: Role::parse(&get::<String>(row, "role")?)?,
        team_ids: codec::decode_team_ids(&get::<String>(row, "team_ids")?)?,
        max_chats: get::<Option<i64>>(row, "max_chats")?.map(|n| n as u32),
        locale: Locale::parse(&get::<String>(row, "locale")?)?,
        invited_by: opt_id(row, "invited_by")?.map(AgentId),
        created_at: ts(row, "created_at")?,
        expires_at: ts(row, "expires_at")?,
        used_at: opt_ts(row, "used_at")?,
        revoked_at: opt_ts(row, "revoked_at")?,
        mail: codec::invitation_mail(&get::<String>(row, "mail_state")?)?,
        mail_error: get(row, "mail_error")?,
    })
}

pub(crate) async fn create_agent_invitation(pool: &PgPool, inv: &AgentInvitation, token_hash: &str) -> Result<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    // An expired invitation of the same e-mail gives way.
    sqlx::query(&format!(
        "UPDATE agent_invitations SET revoked_at = $3 WHERE workspace_id = $1 AND email = $2 AND {PENDING} AND expires_at <= $3"
    ))
    .bind(inv.workspace_id.0)
    .bind(inv.email.as_str())
    .bind(inv.created_at.0)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query(
        "INSERT INTO agent_invitations (id, workspace_id, email, name, role, team_ids, max_chats, locale, invited_by, token_hash, \
         created_at, expires_at, used_at, revoked_at, mail_state, mail_error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(inv.id.0)
    .bind(inv.workspace_id.0)
    .bind(inv.email.as_str())
    .bind(&inv.name)
    .bind(inv.role.as_str())
    .bind(codec::encode_team_ids(&inv.team_ids))
    .bind(inv.max_chats.map(i64::from))
    .bind(inv.locale.as_str())
    .bind(inv.invited_by.map(|a| a.0))
    .bind(token_hash)
    .bind(inv.created_at.0)
    .bind(inv.expires_at.0)
    .bind(inv.used_at.map(|t| t.0))
    .bind(inv.revoked_at.map(|t| t.0))
    .bind(inv.mail.as_str())
    .bind(&inv.mail_error)
    .execute(&mut *tx)
    .await
    .map_err(unique("invitation"))?;
    tx.commit().await.map_err(db)
}

pub(crate) async fn agent_invitations(pool: &PgPool, ws: WorkspaceId) -> Result<Vec<AgentInvitation>> {
    let rows =
        sqlx::query(&format!("SELECT * FROM agent_invitations WHERE workspace_id = $1 AND {PENDING} ORDER BY created_at DESC, id DESC"))
            .bind(ws.0)
            .fetch_all(pool)
            .await
            .map_err(db)?;
    rows.iter().map(invitation).collect()
}

pub(crate) async fn agent_invitation_by_id(pool: &PgPool, ws: WorkspaceId, id: AgentInvitationId) -> Result<AgentInvitation> {
    let row = sqlx::query("SELECT * FROM agent_invitations WHERE id = $1 AND workspace_id = $2")
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::AgentInvitation))?;
    invitation(&row)
}

pub(crate) async fn agent_invitation_by_token(pool: &PgPool, token_hash: &str) -> Result<Option<AgentInvitation>> {
    let row =
        sqlx::query("SELECT * FROM agent_invitations WHERE token_hash = $1").bind(token_hash).fetch_optional(pool).await.map_err(db)?;
    row.as_ref().map(invitation).transpose()
}

pub(crate) async fn agent_invitation_token_is(pool: &PgPool, ws: WorkspaceId, id: AgentInvitationId, token_hash: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM agent_invitations WHERE id = $1 AND workspace_id = $2 AND token_hash = $3")
        .bind(id.0)
        .bind(ws.0)
        .bind(token_hash)
        .fetch_one(pool)
        .await
        .map_err(db)?;
    Ok(n > 0)
}

pub(crate) async fn revoke_agent_invitation(pool: &PgPool, ws: WorkspaceId, id: AgentInvitationId, at: Timestamp) -> Result<()> {
    let r = sqlx::query(&format!("UPDATE agent_invitations SET revoked_at = $3 WHERE id = $1 AND workspace_id = $2 AND {PENDING}"))
        .bind(id.0)
        .bind(ws.0)
        .bind(at.0)
        .execute(pool)
        .await
        .map_err(db)?;
    found(r.rows_affected(), Entity::AgentInvitation)
}

pub(crate) async fn renew_agent_invitation(
    pool: &PgPool,
    ws: WorkspaceId,
    id: AgentInvitationId,
    token_hash: &str,
    expires_at: Timestamp,
    mail: InvitationMail,
) -> Result<AgentInvitation> {
    let r = sqlx::query(&format!(
        "UPDATE agent_invitations SET token_hash = $3, expires_at = $4, mail_state = $5, mail_error = NULL \
         WHERE id = $1 AND workspace_id = $2 AND {PENDING}"
    ))
    .bind(id.0)
    .bind(ws.0)
    .bind(token_hash)
    .bind(expires_at.0)
    .bind(mail.as_str())
    .execute(pool)
    .await
    .map_err(unique("token"))?;
    found(r.rows_affected(), Entity::AgentInvitation)?;
    agent_invitation_by_id(pool, ws, id).await
}

pub(crate) async fn set_agent_invitation_mail(
    pool: &PgPool,
    ws: WorkspaceId,
    id: AgentInvitationId,
    token_hash: &str,
    mail: InvitationMail,
    error: Option<&str>,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE agent_invitations SET mail_state = $4, mail_error = $5 WHERE id = $1 AND workspace_id = $2 AND token_hash = $3",
    )
    .bind(id.0)
    .bind(ws.0)
    .bind(token_hash)
    .bind(mail.as_str())
    .bind(error)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(r.rows_affected() > 0)
}

pub(crate) async fn accept_agent_invitation(
    pool: &PgPool,
    token_hash: &str,
    agent: &Agent,
    password_hash: &str,
    now: Timestamp,
) -> Result<AgentInvitation> {
    let mut tx = pool.begin().await.map_err(db)?;
    let row = sqlx::query(&format!(
        "UPDATE agent_invitations SET used_at = $2 WHERE token_hash = $1 AND {PENDING} AND expires_at > $2 AND workspace_id = $3 RETURNING *"
    ))
    .bind(token_hash)
    .bind(now.0)
    .bind(agent.workspace_id.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound(Entity::AgentInvitation))?;
    let taken = invitation(&row)?;
    write_agent(&mut *tx, agent, Some(password_hash)).await?;
    for team in &taken.team_ids {
        // Only teams that still exist in the workspace; a deleted one is skipped.
        sqlx::query("INSERT INTO team_members (team_id, agent_id) SELECT id, $2 FROM teams WHERE id = $1 AND workspace_id = $3")
            .bind(team.0)
            .bind(agent.id.0)
            .bind(agent.workspace_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(taken)
}
