//! Everything outside the conversation log: workspaces, agents, sessions, API tokens,
//! teams, sites, canned responses, contacts, page views, attachments and secrets.
//! One statement (or one short transaction) per call, mirroring the SQLite store.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder};
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_parts, like_pattern};
use switchboard_store::{Result, Session, StoreError};
use uuid::Uuid;

use crate::rows::{self, db, in_use, unique};

pub(crate) fn found(rows: u64, entity: Entity) -> Result<()> {
    if rows == 0 { Err(StoreError::NotFound(entity)) } else { Ok(()) }
}

/// Deletes the row `id` of `table` if it belongs to `ws`; `InUse` while referenced.
pub(crate) async fn delete_where(pool: &PgPool, table: &str, ws: WorkspaceId, id: Uuid, entity: Entity) -> Result<()> {
    let r = sqlx::query(&format!("DELETE FROM {table} WHERE id = $1 AND workspace_id = $2"))
        .bind(id)
        .bind(ws.0)
        .execute(pool)
        .await
        .map_err(in_use(entity))?;
    found(r.rows_affected(), entity)
}

pub(crate) async fn secret(pool: &PgPool, name: &str, generate: String) -> Result<String> {
    sqlx::query("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(generate)
        .execute(pool)
        .await
        .map_err(db)?;
    sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1").bind(name).fetch_one(pool).await.map_err(db)
}

pub(crate) async fn create_workspace(pool: &PgPool, w: &Workspace) -> Result<()> {
    sqlx::query(
        "INSERT INTO workspaces (id, name, time_zone, require_two_factor, created_at, auto_away_minutes, inbox_visibility, default_max_chats) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(w.id.0)
    .bind(&w.name)
    .bind(w.time_zone.as_str())
    .bind(w.require_two_factor)
    .bind(w.created_at.0)
    .bind(w.auto_away_minutes.map(|m| m as i32))
    .bind(w.inbox_visibility.name())
    .bind(i64::from(w.default_max_chats))
    .execute(pool)
    .await
    .map_err(unique("id"))?;
    Ok(())
}

pub(crate) async fn update_workspace(pool: &PgPool, w: &Workspace) -> Result<()> {
    let r = sqlx::query("UPDATE workspaces SET name = $2, time_zone = $3, require_two_factor = $4, auto_away_minutes = $5, inbox_visibility = $6, default_max_chats = $7 WHERE id = $1")
        .bind(w.id.0)
        .bind(&w.name)
        .bind(w.time_zone.as_str())
        .bind(w.require_two_factor)
        .bind(w.auto_away_minutes.map(|m| m as i32))
        .bind(w.inbox_visibility.name())
        .bind(i64::from(w.default_max_chats))
        .execute(pool)
        .await
        .map_err(db)?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound(Entity::Workspace));
    }
    Ok(())
}

pub(crate) async fn write_agent<'e>(pool: impl sqlx::PgExecutor<'e>, a: &Agent, password_hash: Option<&str>) -> Result<()> {
    let sql = if password_hash.is_some() {
        "INSERT INTO agents (id, workspace_id, email, name, role, avatar_url, locale, max_chats, \
         created_at, status, notify_sound, notify_desktop, notify_new_conversation, notify_new_message, active, chat_limit, \
         password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    } else {
        "UPDATE agents SET email = $3, name = $4, role = $5, avatar_url = $6, locale = $7, \
         max_chats = $8, status = $10, notify_sound = $11, notify_desktop = $12, notify_new_conversation = $13, \
         notify_new_message = $14, active = $15, chat_limit = $16 WHERE id = $1 AND workspace_id = $2 AND $9 = $9"
    };
    let mut q = sqlx::query(sql)
        .bind(a.id.0)
        .bind(a.workspace_id.0)
        .bind(a.email.as_str())
        .bind(&a.name)
        .bind(a.role.as_str())
        .bind(&a.avatar_url)
        .bind(a.locale.as_str())
        .bind(i64::from(a.max_chats.unwrap_or(Workspace::DEFAULT_MAX_CHATS)))
        .bind(a.created_at.0)
        .bind(a.status.as_str())
        .bind(a.notifications.sound)
        .bind(a.notifications.desktop)
        .bind(a.notifications.new_conversation)
        .bind(a.notifications.new_message)
        .bind(a.active)
        .bind(a.max_chats.map(i64::from));
    if let Some(hash) = password_hash {
        q = q.bind(hash);
    }
    let r = q.execute(pool).await.map_err(unique("email"))?;
    found(r.rows_affected(), Entity::Agent)
}

pub(crate) async fn set_password(pool: &PgPool, ws: WorkspaceId, id: AgentId, hash: &str) -> Result<()> {
    let r = sqlx::query("UPDATE agents SET password_hash = $3 WHERE id = $1 AND workspace_id = $2")
        .bind(id.0)
        .bind(ws.0)
        .bind(hash)
        .execute(pool)
        .await
        .map_err(db)?;
    found(r.rows_affected(), Entity::Agent)
}

pub(crate) async fn create_session(pool: &PgPool, x: &Session) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, agent_id, workspace_id, csrf_token, created_at, \
         expires_at, last_used_at, user_agent, ip, must_enrol) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(x.id.0)
    .bind(&x.token_hash)
    .bind(x.agent_id.0)
    .bind(x.workspace_id.0)
    .bind(&x.csrf_token)
    .bind(x.created_at.0)
    .bind(x.expires_at.0)
    .bind(x.last_used_at.0)
    .bind(&x.user_agent)
    .bind(&x.ip)
    .bind(x.must_enrol)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn create_api_token(pool: &PgPool, t: &ApiToken, secret_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, workspace_id, name, role, prefix, secret_hash, created_at, \
         last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(t.id.0)
    .bind(t.workspace_id.0)
    .bind(&t.name)
    .bind(t.role.as_str())
    .bind(&t.prefix)
    .bind(secret_hash)
    .bind(t.created_at.0)
    .bind(t.last_used_at.map(|t| t.0))
    .bind(t.expires_at.map(|t| t.0))
    .execute(pool)
    .await
    .map_err(unique("token"))?;
    Ok(())
}

pub(crate) async fn team_members(pool: &PgPool, team: TeamId) -> Result<Vec<AgentId>> {
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT agent_id FROM team_members WHERE team_id = $1 ORDER BY agent_id")
        .bind(team.0)
        .fetch_all(pool)
        .await
        .map_err(db)?;
    Ok(ids.into_iter().map(AgentId).collect())
}

pub(crate) async fn write_team(pool: &PgPool, team: &Team, create: bool) -> Result<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    if create {
        sqlx::query(
            "INSERT INTO teams (id, workspace_id, name, created_at, business_hours, strategy, sticky, reroute_after_seconds, \
             reroute_when_offline, max_wait_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(team.id.0)
        .bind(team.workspace_id.0)
        .bind(&team.name)
        .bind(team.created_at.0)
        .bind(codec::encode_hours(team.business_hours.as_ref()))
        .bind(team.routing.strategy.name())
        .bind(team.routing.sticky)
        .bind(team.routing.reroute_after_seconds.map(i64::from))
        .bind(team.routing.reroute_when_offline)
        .bind(team.routing.max_wait_seconds.map(i64::from))
        .execute(&mut *tx)
        .await
        .map_err(unique("name"))?;
    } else {
        let r = sqlx::query(
            "UPDATE teams SET name = $3, business_hours = $4, strategy = $5, sticky = $6, reroute_after_seconds = $7, \
             reroute_when_offline = $8, max_wait_seconds = $9 WHERE id = $1 AND workspace_id = $2",
        )
        .bind(team.id.0)
        .bind(team.workspace_id.0)
        .bind(&team.name)
        .bind(codec::encode_hours(team.business_hours.as_ref()))
        .bind(team.routing.strategy.name())
        .bind(team.routing.sticky)
        .bind(team.routing.reroute_after_seconds.map(i64::from))
        .bind(team.routing.reroute_when_offline)
        .bind(team.routing.max_wait_seconds.map(i64::from))
        .execute(&mut *tx)
        .await
        .map_err(unique("name"))?;
        found(r.rows_affected(), Entity::Team)?;
        sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(team.id.0).execute(&mut *tx).await.map_err(db)?;
    }
    for agent in &team.agent_ids {
        // Only agents of the team's own workspace can be members.
        let r = sqlx::query(
            "INSERT INTO team_members (team_id, agent_id) \
             SELECT $1, id FROM agents WHERE id = $2 AND workspace_id = $3",
        )
        .bind(team.id.0)
        .bind(agent.0)
        .bind(team.workspace_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        found(r.rows_affected(), Entity::Agent)?;
    }
    tx.commit().await.map_err(db)
}

pub(crate) async fn teams(pool: &PgPool, ws: WorkspaceId) -> Result<Vec<Team>> {
    let rows = sqlx::query("SELECT * FROM teams WHERE workspace_id = $1 ORDER BY name, id").bind(ws.0).fetch_all(pool).await.map_err(db)?;
    let mut teams = Vec::with_capacity(rows.len());
    for row in &rows {
        let t = rows::team(row, vec![])?;
        teams.push(Team { agent_ids: team_members(pool, t.id).await?, ..t });
    }
    Ok(teams)
}

pub(crate) async fn write_site(pool: &PgPool, site: &Site, create: bool) -> Result<()> {
    // A default team must be one of the site's workspace.
    let sql = if create {
        "INSERT INTO sites (id, workspace_id, name, public_key, allowed_origins, appearance, \
         prechat_form, identity_secret, created_at, retention_days, banned_behaviour, mask_emails, mask_phones, business_hours, \
         default_team_id, tracking, conversion_events) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 \
         WHERE $15::uuid IS NULL OR EXISTS (SELECT 1 FROM teams WHERE id = $15 AND workspace_id = $2)"
    } else {
        "UPDATE sites SET name = $3, public_key = $4, allowed_origins = $5, appearance = $6, prechat_form = $7, identity_secret = $8, \
         retention_days = $10, banned_behaviour = $11, mask_emails = $12, mask_phones = $13, business_hours = $14, default_team_id = $15, \
         tracking = $16, conversion_events = $17 \
         WHERE id = $1 AND workspace_id = $2 AND $9 = $9 \
         AND ($15::uuid IS NULL OR EXISTS (SELECT 1 FROM teams WHERE id = $15 AND workspace_id = $2))"
    };
    let r = sqlx::query(sql)
        .bind(site.id.0)
        .bind(site.workspace_id.0)
        .bind(&site.name)
        .bind(&site.public_key)
        .bind(codec::encode_origins(&site.allowed_origins))
        .bind(codec::encode_appearance(&site.appearance))
        .bind(codec::encode_prechat(&site.prechat_form))
        .bind(&site.identity_secret)
        .bind(site.created_at.0)
        .bind(site.retention_days.map(|d| i32::from(d.days())))
        .bind(site.banned_behaviour.as_str())
        .bind(site.masking.emails)
        .bind(site.masking.phones)
        .bind(codec::encode_hours(site.business_hours.as_ref()))
        .bind(site.default_team_id.map(|t| t.0))
        .bind(site.tracking.as_str())
        .bind(codec::encode_names(&site.conversion_events))
        .execute(pool)
        .await
        .map_err(unique("public_key"))?;
    found(r.rows_affected(), Entity::Site)
}

pub(crate) async fn write_canned(pool: &PgPool, c: &CannedResponse, create: bool) -> Result<()> {
    let query = if create {
        sqlx::query(
            "INSERT INTO canned_responses (id, workspace_id, shortcut, body, created_at, owner_id) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(c.id.0)
        .bind(c.workspace_id.0)
        .bind(&c.shortcut)
        .bind(&c.body)
        .bind(c.created_at.0)
        .bind(c.owner_id.map(|a| a.0))
    } else {
        // The owner never changes: a personal response stays its agent's.
        sqlx::query("UPDATE canned_responses SET shortcut = $3, body = $4 WHERE id = $1 AND workspace_id = $2")
            .bind(c.id.0)
            .bind(c.workspace_id.0)
            .bind(&c.shortcut)
            .bind(&c.body)
    };
    let r = query.execute(pool).await.map_err(unique("shortcut"))?;
    found(r.rows_affected(), Entity::CannedResponse)
}

pub(crate) async fn canned_responses(pool: &PgPool, ws: WorkspaceId, owner: Option<AgentId>) -> Result<Vec<CannedResponse>> {
    let rows = sqlx::query(
        "SELECT * FROM canned_responses WHERE workspace_id = $1 AND (owner_id IS NULL OR owner_id = $2) \
         ORDER BY shortcut, owner_id IS NOT NULL, id",
    )
    .bind(ws.0)
    .bind(owner.map(|a| a.0))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter().map(rows::canned).collect()
}

pub(crate) async fn create_label(pool: &PgPool, l: &ManagedLabel) -> Result<()> {
    sqlx::query("INSERT INTO labels (workspace_id, name, color, description, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(l.workspace_id.0)
        .bind(l.name.as_str())
        .bind(l.color.as_str())
        .bind(&l.description)
        .bind(l.created_at.0)
        .execute(pool)
        .await
        .map_err(unique("label"))?;
    Ok(())
}

pub(crate) async fn update_label(pool: &PgPool, name: &Label, l: &ManagedLabel) -> Result<()> {
    let r = sqlx::query("UPDATE labels SET name = $3, color = $4, description = $5 WHERE workspace_id = $1 AND name = $2")
        .bind(l.workspace_id.0)
        .bind(name.as_str())
        .bind(l.name.as_str())
        .bind(l.color.as_str())
        .bind(&l.description)
        .execute(pool)
        .await
        .map_err(unique("label"))?;
    found(r.rows_affected(), Entity::Label)
}

pub(crate) async fn label(pool: &PgPool, ws: WorkspaceId, name: &Label) -> Result<ManagedLabel> {
    let row = sqlx::query("SELECT * FROM labels WHERE workspace_id = $1 AND name = $2")
        .bind(ws.0)
        .bind(name.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    rows::label(&row.ok_or(StoreError::NotFound(Entity::Label))?)
}

pub(crate) async fn delete_label(pool: &PgPool, ws: WorkspaceId, name: &Label) -> Result<()> {
    let r = sqlx::query("DELETE FROM labels WHERE workspace_id = $1 AND name = $2")
        .bind(ws.0)
        .bind(name.as_str())
        .execute(pool)
        .await
        .map_err(db)?;
    found(r.rows_affected(), Entity::Label)
}

pub(crate) async fn write_contact(pool: &PgPool, c: &Contact, create: bool) -> Result<()> {
    let sql = if create {
        "INSERT INTO contacts (id, workspace_id, site_id, external_id, name, email, phone, \
         attributes, browser, os, device, language, search_text, first_seen, last_seen, country) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    } else {
        "UPDATE contacts SET site_id = $3, external_id = $4, name = $5, email = $6, phone = $7, \
         attributes = $8, browser = $9, os = $10, device = $11, language = $12, \
         search_text = $13, first_seen = $14, last_seen = $15, country = $16 \
         WHERE id = $1 AND workspace_id = $2 AND erased_at IS NULL"
    };
    let r = sqlx::query(sql)
        .bind(c.id.0)
        .bind(c.workspace_id.0)
        .bind(c.site_id.map(|s| s.0))
        .bind(&c.external_id)
        .bind(&c.name)
        .bind(c.email.as_ref().map(Email::as_str))
        .bind(&c.phone)
        .bind(codec::encode_attributes(&c.attributes))
        .bind(&c.device.browser)
        .bind(&c.device.os)
        .bind(&c.device.device)
        .bind(&c.device.language)
        .bind(codec::contact_search_text(c))
        .bind(c.first_seen.0)
        .bind(c.last_seen.0)
        .bind(&c.country)
        .execute(pool)
        .await
        .map_err(unique("external_id"))?;
    found(r.rows_affected(), Entity::Contact)
}

pub(crate) async fn search_contacts(pool: &PgPool, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<Contact>> {
    let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM contacts WHERE erased_at IS NULL AND workspace_id = ");
    q.push_bind(ws.0);
    for term in terms {
        // search_text and the terms are both folded by search::normalize, so LIKE's
        // case sensitivity (unlike SQLite's) makes no difference.
        q.push(" AND search_text LIKE ").push_bind(like_pattern(term)).push(" ESCAPE '\\'");
    }
    q.push(" ORDER BY last_seen DESC, id DESC LIMIT ").push_bind(limit as i64);
    let rows = q.build().fetch_all(pool).await.map_err(db)?;
    rows.iter().map(rows::contact).collect()
}

pub(crate) async fn page_views(pool: &PgPool, ws: WorkspaceId, contact: ContactId, limit: u32) -> Result<Vec<PageView>> {
    let rows = sqlx::query(
        "SELECT p.* FROM page_views p JOIN contacts c ON c.id = p.contact_id \
         WHERE p.contact_id = $1 AND c.workspace_id = $2 ORDER BY p.at DESC, p.id DESC LIMIT $3",
    )
    .bind(contact.0)
    .bind(ws.0)
    .bind(limit as i64)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    rows.iter().map(rows::page_view).collect()
}

pub(crate) async fn create_attachment(pool: &PgPool, a: &Attachment) -> Result<()> {
    let (kind, id) = actor_parts(a.uploader);
    sqlx::query(
        "INSERT INTO attachments (id, workspace_id, uploader_kind, uploader_id, filename, \
         content_type, size, width, height, blob_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(a.id.0)
    .bind(a.workspace_id.0)
    .bind(kind)
    .bind(id)
    .bind(&a.filename)
    .bind(&a.content_type)
    .bind(a.size as i64)
    .bind(a.width.map(i64::from))
    .bind(a.height.map(i64::from))
    .bind(&a.blob_key)
    .bind(a.created_at.0)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}

/// The row `id` of `table` if it belongs to `ws`, decoded; `NotFound(entity)` otherwise.
pub(crate) async fn by_id<T>(
    pool: &PgPool,
    table: &str,
    ws: WorkspaceId,
    id: Uuid,
    entity: Entity,
    decode: fn(&PgRow) -> Result<T>,
) -> Result<T> {
    let row = sqlx::query(&format!("SELECT * FROM {table} WHERE id = $1 AND workspace_id = $2"))
        .bind(id)
        .bind(ws.0)
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    decode(&row.ok_or(StoreError::NotFound(entity))?)
}

/// Every row of `table` in `ws`, in the given order, decoded.
pub(crate) async fn all_of<T>(
    pool: &PgPool,
    table: &str,
    ws: WorkspaceId,
    order_by: &str,
    decode: fn(&PgRow) -> Result<T>,
) -> Result<Vec<T>> {
    let sql = format!("SELECT * FROM {table} WHERE workspace_id = $1 ORDER BY {order_by}");
    let rows = sqlx::query(&sql).bind(ws.0).fetch_all(pool).await.map_err(db)?;
    rows.iter().map(decode).collect()
}

pub(crate) async fn create_ban(pool: &PgPool, b: &Ban) -> Result<()> {
    let (by_kind, by_id) = actor_parts(b.created_by);
    sqlx::query(
        "INSERT INTO bans (id, workspace_id, kind, value, reason, expires_at, created_by_kind, created_by_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(b.id.0)
    .bind(b.workspace_id.0)
    .bind(b.target.kind())
    .bind(b.target.value())
    .bind(&b.reason)
    .bind(b.expires_at.map(|t| t.0))
    .bind(by_kind)
    .bind(by_id)
    .bind(b.created_at.0)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn bans(pool: &PgPool, ws: WorkspaceId) -> Result<Vec<Ban>> {
    let rows = sqlx::query("SELECT * FROM bans WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC")
        .bind(ws.0)
        .fetch_all(pool)
        .await
        .map_err(db)?;
    rows.iter().map(rows::ban).collect()
}

pub(crate) async fn delete_ban(pool: &PgPool, ws: WorkspaceId, id: BanId) -> Result<()> {
    let r = sqlx::query("DELETE FROM bans WHERE workspace_id = $1 AND id = $2").bind(ws.0).bind(id.0).execute(pool).await.map_err(db)?;
    found(r.rows_affected(), Entity::Ban)
}
