//! Everything outside the conversation log: secrets, workspaces, agents, sessions, API
//! tokens, teams, sites, canned responses, contacts and their page views, attachments.
//! Reads use the read pool; writes take the store's turn (`SqliteStore::writing`).

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_parts, like_pattern};
use switchboard_store::*;

use crate::SqliteStore;
use crate::rows::{self, db, s, unique};

pub(crate) fn found(rows: u64, entity: Entity) -> Result<()> {
    if rows == 0 { Err(StoreError::NotFound(entity)) } else { Ok(()) }
}

pub(crate) async fn team_members(pool: &SqlitePool, team: TeamId) -> Result<Vec<AgentId>> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT agent_id FROM team_members WHERE team_id = $1 ORDER BY agent_id")
        .bind(s(team))
        .fetch_all(pool)
        .await
        .map_err(db)?;
    ids.iter().map(|i| Ok(AgentId(codec::uuid(i)?))).collect()
}

pub(crate) async fn write_team(conn: &mut SqliteConnection, team: &Team, create: bool) -> Result<()> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(db)?;
    if create {
        sqlx::query(
            "INSERT INTO teams (id, workspace_id, name, created_at, business_hours, strategy, sticky, reroute_after_seconds, \
             reroute_when_offline, max_wait_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(s(team.id))
        .bind(s(team.workspace_id))
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
        .bind(s(team.id))
        .bind(s(team.workspace_id))
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
        sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(s(team.id)).execute(&mut *tx).await.map_err(db)?;
    }
    for agent in &team.agent_ids {
        // Only agents of the team's own workspace can be members.
        let r = sqlx::query("INSERT INTO team_members (team_id, agent_id) SELECT $1, id FROM agents WHERE id = $2 AND workspace_id = $3")
            .bind(s(team.id))
            .bind(s(agent))
            .bind(s(team.workspace_id))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        found(r.rows_affected(), Entity::Agent)?;
    }
    tx.commit().await.map_err(db)
}

pub(crate) async fn delete_where<'c>(
    executor: impl sqlx::SqliteExecutor<'c>,
    table: &str,
    ws: WorkspaceId,
    id: String,
    entity: Entity,
) -> Result<()> {
    let r = sqlx::query(&format!("DELETE FROM {table} WHERE id = $1 AND workspace_id = $2"))
        .bind(id)
        .bind(s(ws))
        .execute(executor)
        .await
        .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::InUse(entity),
        _ => db(e),
    })?;
    found(r.rows_affected(), entity)
}

pub(crate) async fn write_contact(conn: &mut SqliteConnection, c: &Contact, create: bool) -> Result<()> {
    let sql = if create {
        "INSERT INTO contacts (id, workspace_id, site_id, external_id, name, email, phone, attributes, browser, os, device, language, search_text, first_seen, last_seen, country) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    } else {
        "UPDATE contacts SET site_id = $3, external_id = $4, name = $5, email = $6, phone = $7, attributes = $8, browser = $9, os = $10, \
         device = $11, language = $12, search_text = $13, first_seen = $14, last_seen = $15, country = $16 WHERE id = $1 AND workspace_id = $2 AND erased_at IS NULL"
    };
    let r = sqlx::query(sql)
        .bind(s(c.id))
        .bind(s(c.workspace_id))
        .bind(c.site_id.map(s))
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
        .execute(&mut *conn)
        .await
        .map_err(unique("external_id"))?;
    found(r.rows_affected(), Entity::Contact)
}

pub(crate) async fn write_site(conn: &mut SqliteConnection, site: &Site, create: bool) -> Result<()> {
    // A default team must be one of the site's workspace.
    let sql = if create {
        "INSERT INTO sites (id, workspace_id, name, public_key, allowed_origins, appearance, prechat_form, identity_secret, created_at, \
         retention_days, banned_behaviour, mask_emails, mask_phones, business_hours, default_team_id, tracking, conversion_events) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 \
         WHERE $15 IS NULL OR EXISTS (SELECT 1 FROM teams WHERE id = $15 AND workspace_id = $2)"
    } else {
        "UPDATE sites SET name = $3, public_key = $4, allowed_origins = $5, appearance = $6, prechat_form = $7, identity_secret = $8, \
         retention_days = $10, banned_behaviour = $11, mask_emails = $12, mask_phones = $13, business_hours = $14, default_team_id = $15, \
         tracking = $16, conversion_events = $17 \
         WHERE id = $1 AND workspace_id = $2 AND $9 = $9 \
         AND ($15 IS NULL OR EXISTS (SELECT 1 FROM teams WHERE id = $15 AND workspace_id = $2))"
    };
    let r = sqlx::query(sql)
        .bind(s(site.id))
        .bind(s(site.workspace_id))
        .bind(&site.name)
        .bind(&site.public_key)
        .bind(codec::encode_origins(&site.allowed_origins))
        .bind(codec::encode_appearance(&site.appearance))
        .bind(codec::encode_prechat(&site.prechat_form))
        .bind(&site.identity_secret)
        .bind(site.created_at.0)
        .bind(site.retention_days.map(|d| i64::from(d.days())))
        .bind(site.banned_behaviour.as_str())
        .bind(site.masking.emails)
        .bind(site.masking.phones)
        .bind(codec::encode_hours(site.business_hours.as_ref()))
        .bind(site.default_team_id.map(s))
        .bind(site.tracking.as_str())
        .bind(codec::encode_names(&site.conversion_events))
        .execute(&mut *conn)
        .await
        .map_err(unique("public_key"))?;
    found(r.rows_affected(), Entity::Site)
}

pub(crate) async fn write_canned(conn: &mut SqliteConnection, c: &CannedResponse, create: bool) -> Result<()> {
    let query = if create {
        sqlx::query("INSERT INTO canned_responses (id, workspace_id, shortcut, body, created_at, owner_id) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(s(c.id))
            .bind(s(c.workspace_id))
            .bind(&c.shortcut)
            .bind(&c.body)
            .bind(c.created_at.0)
            .bind(c.owner_id.map(s))
    } else {
        // The owner never changes: a personal response stays its agent's.
        sqlx::query("UPDATE canned_responses SET shortcut = $3, body = $4 WHERE id = $1 AND workspace_id = $2")
            .bind(s(c.id))
            .bind(s(c.workspace_id))
            .bind(&c.shortcut)
            .bind(&c.body)
    };
    let r = query.execute(&mut *conn).await.map_err(unique("shortcut"))?;
    found(r.rows_affected(), Entity::CannedResponse)
}

pub(crate) async fn secret(store: &SqliteStore, name: &str, generate: String) -> Result<String> {
    sqlx::query("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(generate)
        .execute(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1").bind(name).fetch_one(&mut *store.writing().await?).await.map_err(db)
}

pub(crate) async fn create_workspace(store: &SqliteStore, w: &Workspace) -> Result<()> {
    sqlx::query(
        "INSERT INTO workspaces (id, name, time_zone, require_two_factor, created_at, auto_away_minutes, inbox_visibility, default_max_chats) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(s(w.id))
    .bind(&w.name)
    .bind(w.time_zone.as_str())
    .bind(w.require_two_factor)
    .bind(w.created_at.0)
    .bind(w.auto_away_minutes.map(|m| m as i32))
    .bind(w.inbox_visibility.name())
    .bind(i64::from(w.default_max_chats))
    .execute(&mut *store.writing().await?)
    .await
    .map_err(unique("id"))?;
    Ok(())
}

pub(crate) async fn workspace(store: &SqliteStore, id: WorkspaceId) -> Result<Workspace> {
    let row = sqlx::query("SELECT * FROM workspaces WHERE id = $1").bind(s(id)).fetch_optional(&store.read).await.map_err(db)?;
    rows::workspace(&row.ok_or(StoreError::NotFound(Entity::Workspace))?)
}

pub(crate) async fn workspaces(store: &SqliteStore) -> Result<Vec<Workspace>> {
    let rows = sqlx::query("SELECT * FROM workspaces ORDER BY created_at, id").fetch_all(&store.read).await.map_err(db)?;
    rows.iter().map(rows::workspace).collect()
}

pub(crate) async fn update_workspace(store: &SqliteStore, w: &Workspace) -> Result<()> {
    let r = sqlx::query("UPDATE workspaces SET name = $2, time_zone = $3, require_two_factor = $4, auto_away_minutes = $5, inbox_visibility = $6, default_max_chats = $7 WHERE id = $1")
        .bind(s(w.id))
        .bind(&w.name)
        .bind(w.time_zone.as_str())
        .bind(w.require_two_factor)
        .bind(w.auto_away_minutes.map(|m| m as i32))
        .bind(w.inbox_visibility.name())
        .bind(i64::from(w.default_max_chats))
        .execute(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound(Entity::Workspace));
    }
    Ok(())
}

pub(crate) async fn create_agent(store: &SqliteStore, a: &Agent, password_hash: &str) -> Result<()> {
    insert_agent(&mut *store.writing().await?, a, password_hash).await
}

/// The agent's row, on a connection (or in a transaction) the caller holds.
pub(crate) async fn insert_agent(conn: &mut SqliteConnection, a: &Agent, password_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO agents (id, workspace_id, email, name, role, avatar_url, locale, max_chats, password_hash, created_at, \
         status, notify_sound, notify_desktop, notify_new_conversation, notify_new_message, active, chat_limit) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(s(a.id))
    .bind(s(a.workspace_id))
    .bind(a.email.as_str())
    .bind(&a.name)
    .bind(a.role.as_str())
    .bind(&a.avatar_url)
    .bind(a.locale.as_str())
    .bind(i64::from(a.max_chats.unwrap_or(Workspace::DEFAULT_MAX_CHATS)))
    .bind(password_hash)
    .bind(a.created_at.0)
    .bind(a.status.as_str())
    .bind(a.notifications.sound)
    .bind(a.notifications.desktop)
    .bind(a.notifications.new_conversation)
    .bind(a.notifications.new_message)
    .bind(a.active)
    .bind(a.max_chats.map(i64::from))
    .execute(conn)
    .await
    .map_err(unique("email"))?;
    Ok(())
}

pub(crate) async fn update_agent(store: &SqliteStore, a: &Agent) -> Result<()> {
    let r = sqlx::query(
        "UPDATE agents SET email = $3, name = $4, role = $5, avatar_url = $6, locale = $7, max_chats = $8, status = $9, \
         notify_sound = $10, notify_desktop = $11, notify_new_conversation = $12, notify_new_message = $13, active = $14, \
         chat_limit = $15 WHERE id = $1 AND workspace_id = $2",
    )
    .bind(s(a.id))
    .bind(s(a.workspace_id))
    .bind(a.email.as_str())
    .bind(&a.name)
    .bind(a.role.as_str())
    .bind(&a.avatar_url)
    .bind(a.locale.as_str())
    .bind(i64::from(a.max_chats.unwrap_or(Workspace::DEFAULT_MAX_CHATS)))
    .bind(a.status.as_str())
    .bind(a.notifications.sound)
    .bind(a.notifications.desktop)
    .bind(a.notifications.new_conversation)
    .bind(a.notifications.new_message)
    .bind(a.active)
    .bind(a.max_chats.map(i64::from))
    .execute(&mut *store.writing().await?)
    .await
    .map_err(unique("email"))?;
    found(r.rows_affected(), Entity::Agent)
}

pub(crate) async fn set_password(store: &SqliteStore, ws: WorkspaceId, id: AgentId, password_hash: &str) -> Result<()> {
    let r = sqlx::query("UPDATE agents SET password_hash = $3 WHERE id = $1 AND workspace_id = $2")
        .bind(s(id))
        .bind(s(ws))
        .bind(password_hash)
        .execute(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    found(r.rows_affected(), Entity::Agent)
}

pub(crate) async fn agent(store: &SqliteStore, ws: WorkspaceId, id: AgentId) -> Result<Agent> {
    let row = sqlx::query("SELECT * FROM agents WHERE id = $1 AND workspace_id = $2")
        .bind(s(id))
        .bind(s(ws))
        .fetch_optional(&store.read)
        .await
        .map_err(db)?;
    rows::agent(&row.ok_or(StoreError::NotFound(Entity::Agent))?)
}

pub(crate) async fn agents(store: &SqliteStore, ws: WorkspaceId) -> Result<Vec<Agent>> {
    let rows = sqlx::query("SELECT * FROM agents WHERE workspace_id = $1 ORDER BY name, id")
        .bind(s(ws))
        .fetch_all(&store.read)
        .await
        .map_err(db)?;
    rows.iter().map(rows::agent).collect()
}

pub(crate) async fn agent_credentials(store: &SqliteStore, email: &Email) -> Result<Option<(Agent, String)>> {
    let row = sqlx::query("SELECT * FROM agents WHERE email = $1").bind(email.as_str()).fetch_optional(&store.read).await.map_err(db)?;
    row.map(|r| Ok((rows::agent(&r)?, sqlx::Row::try_get(&r, "password_hash").map_err(db)?))).transpose()
}

pub(crate) async fn delete_agent(store: &SqliteStore, ws: WorkspaceId, id: AgentId) -> Result<()> {
    let mut write = store.writing().await?;
    let deleted = delete_where(&mut *write, "agents", ws, s(id), Entity::Agent).await;
    // Unassigned the agent's conversations.
    store.forget_conversations(&write);
    deleted
}

pub(crate) async fn create_session(store: &SqliteStore, x: &Session) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, agent_id, workspace_id, csrf_token, created_at, expires_at, last_used_at, user_agent, ip, \
         must_enrol) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(s(x.id))
    .bind(&x.token_hash)
    .bind(s(x.agent_id))
    .bind(s(x.workspace_id))
    .bind(&x.csrf_token)
    .bind(x.created_at.0)
    .bind(x.expires_at.0)
    .bind(x.last_used_at.0)
    .bind(&x.user_agent)
    .bind(&x.ip)
    .bind(x.must_enrol)
    .execute(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn session(store: &SqliteStore, token_hash: &str, now: Timestamp) -> Result<Option<Session>> {
    let row = sqlx::query("SELECT * FROM sessions WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash)
        .bind(now.0)
        .fetch_optional(&store.read)
        .await
        .map_err(db)?;
    row.as_ref().map(rows::session).transpose()
}

pub(crate) async fn agent_sessions(store: &SqliteStore, ws: WorkspaceId, agent: AgentId, now: Timestamp) -> Result<Vec<Session>> {
    let rows = sqlx::query(
        "SELECT * FROM sessions WHERE workspace_id = $1 AND agent_id = $2 AND expires_at > $3 ORDER BY created_at DESC, id DESC",
    )
    .bind(s(ws))
    .bind(s(agent))
    .bind(now.0)
    .fetch_all(&store.read)
    .await
    .map_err(db)?;
    rows.iter().map(rows::session).collect()
}

pub(crate) async fn touch_session(store: &SqliteStore, id: SessionId, at: Timestamp) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2")
        .bind(s(id))
        .bind(at.0)
        .execute(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    Ok(())
}

pub(crate) async fn delete_session(store: &SqliteStore, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *store.writing().await?).await.map_err(db)?;
    Ok(())
}

pub(crate) async fn delete_session_by_id(store: &SqliteStore, ws: WorkspaceId, agent: AgentId, id: SessionId) -> Result<()> {
    let r = sqlx::query("DELETE FROM sessions WHERE id = $1 AND agent_id = $2 AND workspace_id = $3")
        .bind(s(id))
        .bind(s(agent))
        .bind(s(ws))
        .execute(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    found(r.rows_affected(), Entity::Session)
}

fn session_ids(ids: Vec<String>) -> Result<Vec<SessionId>> {
    ids.iter().map(|i| Ok(SessionId(codec::uuid(i)?))).collect()
}

pub(crate) async fn delete_agent_sessions(store: &SqliteStore, agent: AgentId) -> Result<Vec<SessionId>> {
    let ids = sqlx::query_scalar("DELETE FROM sessions WHERE agent_id = $1 RETURNING id")
        .bind(s(agent))
        .fetch_all(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    session_ids(ids)
}

pub(crate) async fn delete_other_sessions(store: &SqliteStore, agent: AgentId, keep: &str) -> Result<Vec<SessionId>> {
    let ids = sqlx::query_scalar("DELETE FROM sessions WHERE agent_id = $1 AND token_hash <> $2 RETURNING id")
        .bind(s(agent))
        .bind(keep)
        .fetch_all(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    session_ids(ids)
}

pub(crate) async fn create_api_token(store: &SqliteStore, t: &ApiToken, secret_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, workspace_id, name, role, prefix, secret_hash, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(s(t.id))
    .bind(s(t.workspace_id))
    .bind(&t.name)
    .bind(t.role.as_str())
    .bind(&t.prefix)
    .bind(secret_hash)
    .bind(t.created_at.0)
    .bind(t.last_used_at.map(|t| t.0))
    .bind(t.expires_at.map(|t| t.0))
    .execute(&mut *store.writing().await?)
    .await
    .map_err(unique("token"))?;
    Ok(())
}

pub(crate) async fn api_tokens(store: &SqliteStore, ws: WorkspaceId) -> Result<Vec<ApiToken>> {
    let rows = sqlx::query("SELECT * FROM api_tokens WHERE workspace_id = $1 ORDER BY created_at, id")
        .bind(s(ws))
        .fetch_all(&store.read)
        .await
        .map_err(db)?;
    rows.iter().map(rows::api_token).collect()
}

pub(crate) async fn use_api_token(store: &SqliteStore, secret_hash: &str, now: Timestamp) -> Result<Option<ApiToken>> {
    // A read on the read pool; the write, and the writer's turn, only once a minute.
    let row =
        sqlx::query("SELECT * FROM api_tokens WHERE secret_hash = $1").bind(secret_hash).fetch_optional(&store.read).await.map_err(db)?;
    let Some(mut token) = row.as_ref().map(rows::api_token).transpose()? else { return Ok(None) };
    if token.last_used_at.is_none_or(|t| now.0 - t.0 >= TOKEN_USE_GRANULARITY_MS) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)")
            .bind(s(token.id))
            .bind(now.0)
            .execute(&mut *store.writing().await?)
            .await
            .map_err(db)?;
        token.last_used_at = Some(now);
    }
    Ok(Some(token))
}

pub(crate) async fn delete_api_token(store: &SqliteStore, ws: WorkspaceId, id: ApiTokenId) -> Result<()> {
    delete_where(&mut *store.writing().await?, "api_tokens", ws, s(id), Entity::ApiToken).await
}

pub(crate) async fn create_team(store: &SqliteStore, team: &Team) -> Result<()> {
    write_team(&mut *store.writing().await?, team, true).await
}

pub(crate) async fn update_team(store: &SqliteStore, team: &Team) -> Result<()> {
    write_team(&mut *store.writing().await?, team, false).await
}

pub(crate) async fn team(store: &SqliteStore, ws: WorkspaceId, id: TeamId) -> Result<Team> {
    let row = sqlx::query("SELECT * FROM teams WHERE id = $1 AND workspace_id = $2")
        .bind(s(id))
        .bind(s(ws))
        .fetch_optional(&store.read)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::Team))?;
    rows::team(&row, team_members(&store.read, id).await?)
}

pub(crate) async fn teams(store: &SqliteStore, ws: WorkspaceId) -> Result<Vec<Team>> {
    let rows = sqlx::query("SELECT * FROM teams WHERE workspace_id = $1 ORDER BY name, id")
        .bind(s(ws))
        .fetch_all(&store.read)
        .await
        .map_err(db)?;
    let mut teams = Vec::with_capacity(rows.len());
    for row in &rows {
        let t = rows::team(row, vec![])?;
        teams.push(Team { agent_ids: team_members(&store.read, t.id).await?, ..t });
    }
    Ok(teams)
}

pub(crate) async fn delete_team(store: &SqliteStore, ws: WorkspaceId, id: TeamId) -> Result<()> {
    let mut write = store.writing().await?;
    let deleted = delete_where(&mut *write, "teams", ws, s(id), Entity::Team).await;
    // Took the team's conversations out of it.
    store.forget_conversations(&write);
    deleted
}

pub(crate) async fn create_site(store: &SqliteStore, site: &Site) -> Result<()> {
    write_site(&mut *store.writing().await?, site, true).await
}

pub(crate) async fn update_site(store: &SqliteStore, site: &Site) -> Result<()> {
    write_site(&mut *store.writing().await?, site, false).await
}

pub(crate) async fn site(store: &SqliteStore, ws: WorkspaceId, id: SiteId) -> Result<Site> {
    let row = sqlx::query("SELECT * FROM sites WHERE id = $1 AND workspace_id = $2")
        .bind(s(id))
        .bind(s(ws))
        .fetch_optional(&store.read)
        .await
        .map_err(db)?;
    rows::site(&row.ok_or(StoreError::NotFound(Entity::Site))?)
}

pub(crate) async fn site_by_key(store: &SqliteStore, public_key: &str) -> Result<Site> {
    let row = sqlx::query("SELECT * FROM sites WHERE public_key = $1").bind(public_key).fetch_optional(&store.read).await.map_err(db)?;
    rows::site(&row.ok_or(StoreError::NotFound(Entity::Site))?)
}

pub(crate) async fn sites(store: &SqliteStore, ws: WorkspaceId) -> Result<Vec<Site>> {
    let rows = sqlx::query("SELECT * FROM sites WHERE workspace_id = $1 ORDER BY created_at, id")
        .bind(s(ws))
        .fetch_all(&store.read)
        .await
        .map_err(db)?;
    rows.iter().map(rows::site).collect()
}

pub(crate) async fn delete_site(store: &SqliteStore, ws: WorkspaceId, id: SiteId) -> Result<()> {
    delete_where(&mut *store.writing().await?, "sites", ws, s(id), Entity::Site).await
}

pub(crate) async fn inboxes(store: &SqliteStore, ws: WorkspaceId) -> Result<Vec<Inbox>> {
    let rows = sqlx::query("SELECT * FROM inboxes WHERE workspace_id = $1 ORDER BY created_at, id")
        .bind(s(ws))
        .fetch_all(&store.read)
        .await
        .map_err(db)?;
    rows.iter().map(rows::inbox).collect()
}

pub(crate) async fn create_canned(store: &SqliteStore, c: &CannedResponse) -> Result<()> {
    write_canned(&mut *store.writing().await?, c, true).await
}

pub(crate) async fn update_canned(store: &SqliteStore, c: &CannedResponse) -> Result<()> {
    write_canned(&mut *store.writing().await?, c, false).await
}

pub(crate) async fn canned(store: &SqliteStore, ws: WorkspaceId, id: CannedResponseId) -> Result<CannedResponse> {
    let row = sqlx::query("SELECT * FROM canned_responses WHERE id = $1 AND workspace_id = $2")
        .bind(s(id))
        .bind(s(ws))
        .fetch_optional(&store.read)
        .await
        .map_err(db)?;
    rows::canned(&row.ok_or(StoreError::NotFound(Entity::CannedResponse))?)
}

pub(crate) async fn canned_responses(store: &SqliteStore, ws: WorkspaceId, owner: Option<AgentId>) -> Result<Vec<CannedResponse>> {
    let rows = sqlx::query(
        "SELECT * FROM canned_responses WHERE workspace_id = $1 AND (owner_id IS NULL OR owner_id = $2) \
         ORDER BY shortcut, owner_id IS NOT NULL, id",
    )
    .bind(s(ws))
    .bind(owner.map(s))
    .fetch_all(&store.read)
    .await
    .map_err(db)?;
    rows.iter().map(rows::canned).collect()
}

pub(crate) async fn delete_canned(store: &SqliteStore, ws: WorkspaceId, id: CannedResponseId) -> Result<()> {
    delete_where(&mut *store.writing().await?, "canned_responses", ws, s(id), Entity::CannedResponse).await
}

pub(crate) async fn create_label(store: &SqliteStore, l: &ManagedLabel) -> Result<()> {
    sqlx::query("INSERT INTO labels (workspace_id, name, color, description, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(s(l.workspace_id))
        .bind(l.name.as_str())
        .bind(l.color.as_str())
        .bind(&l.description)
        .bind(l.created_at.0)
        .execute(&mut *store.writing().await?)
        .await
        .map_err(unique("label"))?;
    Ok(())
}

pub(crate) async fn update_label(store: &SqliteStore, name: &Label, l: &ManagedLabel) -> Result<()> {
    let r = sqlx::query("UPDATE labels SET name = $3, color = $4, description = $5 WHERE workspace_id = $1 AND name = $2")
        .bind(s(l.workspace_id))
        .bind(name.as_str())
        .bind(l.name.as_str())
        .bind(l.color.as_str())
        .bind(&l.description)
        .execute(&mut *store.writing().await?)
        .await
        .map_err(unique("label"))?;
    found(r.rows_affected(), Entity::Label)
}

pub(crate) async fn label(store: &SqliteStore, ws: WorkspaceId, name: &Label) -> Result<ManagedLabel> {
    let row = sqlx::query("SELECT * FROM labels WHERE workspace_id = $1 AND name = $2")
        .bind(s(ws))
        .bind(name.as_str())
        .fetch_optional(&store.read)
        .await
        .map_err(db)?;
    rows::label(&row.ok_or(StoreError::NotFound(Entity::Label))?)
}

pub(crate) async fn labels(store: &SqliteStore, ws: WorkspaceId) -> Result<Vec<ManagedLabel>> {
    let rows =
        sqlx::query("SELECT * FROM labels WHERE workspace_id = $1 ORDER BY name").bind(s(ws)).fetch_all(&store.read).await.map_err(db)?;
    rows.iter().map(rows::label).collect()
}

pub(crate) async fn delete_label(store: &SqliteStore, ws: WorkspaceId, name: &Label) -> Result<()> {
    let r = sqlx::query("DELETE FROM labels WHERE workspace_id = $1 AND name = $2")
        .bind(s(ws))
        .bind(name.as_str())
        .execute(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    found(r.rows_affected(), Entity::Label)
}

pub(crate) async fn create_contact(store: &SqliteStore, c: &Contact) -> Result<()> {
    write_contact(&mut *store.writing().await?, c, true).await
}

pub(crate) async fn update_contact(store: &SqliteStore, c: &Contact) -> Result<()> {
    write_contact(&mut *store.writing().await?, c, false).await
}

pub(crate) async fn contact(store: &SqliteStore, ws: WorkspaceId, id: ContactId) -> Result<Contact> {
    let row = sqlx::query("SELECT * FROM contacts WHERE id = $1 AND workspace_id = $2 AND erased_at IS NULL")
        .bind(s(id))
        .bind(s(ws))
        .fetch_optional(&store.read)
        .await
        .map_err(db)?;
    rows::contact(&row.ok_or(StoreError::NotFound(Entity::Contact))?)
}

pub(crate) async fn contacts_by_id(store: &SqliteStore, ws: WorkspaceId, ids: &[ContactId]) -> Result<Vec<Contact>> {
    // The ids travel as one JSON array (of UUIDs: nothing to escape), so the statement is
    // the same for any number of them.
    let ids = format!("[{}]", ids.iter().map(|id| format!("\"{}\"", s(*id))).collect::<Vec<_>>().join(","));
    let rows = sqlx::query("SELECT * FROM contacts WHERE workspace_id = $1 AND id IN (SELECT value FROM json_each($2))")
        .bind(s(ws))
        .bind(ids)
        .fetch_all(&store.read)
        .await
        .map_err(db)?;
    rows.iter().map(rows::contact).collect()
}

pub(crate) async fn contact_by_external_id(store: &SqliteStore, ws: WorkspaceId, external_id: &str) -> Result<Option<Contact>> {
    let row = sqlx::query("SELECT * FROM contacts WHERE workspace_id = $1 AND external_id = $2 AND erased_at IS NULL")
        .bind(s(ws))
        .bind(external_id)
        .fetch_optional(&store.read)
        .await
        .map_err(db)?;
    row.as_ref().map(rows::contact).transpose()
}

pub(crate) async fn search_contacts(store: &SqliteStore, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<Contact>> {
    let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM contacts WHERE erased_at IS NULL AND workspace_id = ");
    q.push_bind(s(ws));
    for term in terms {
        q.push(" AND search_text LIKE ").push_bind(like_pattern(term)).push(" ESCAPE '\\'");
    }
    q.push(" ORDER BY last_seen DESC, id DESC LIMIT ").push_bind(limit as i64);
    let rows = q.build().fetch_all(&store.read).await.map_err(db)?;
    rows.iter().map(rows::contact).collect()
}

pub(crate) async fn page_views(store: &SqliteStore, ws: WorkspaceId, contact: ContactId, limit: u32) -> Result<Vec<PageView>> {
    let rows = sqlx::query(
        "SELECT p.* FROM page_views p JOIN contacts c ON c.id = p.contact_id WHERE p.contact_id = $1 AND c.workspace_id = $2 \
         ORDER BY p.at DESC, p.id DESC LIMIT $3",
    )
    .bind(s(contact))
    .bind(s(ws))
    .bind(limit as i64)
    .fetch_all(&store.read)
    .await
    .map_err(db)?;
    rows.iter().map(rows::page_view).collect()
}

pub(crate) async fn create_attachment(store: &SqliteStore, a: &Attachment) -> Result<()> {
    let (kind, id) = actor_parts(a.uploader);
    sqlx::query(
        "INSERT INTO attachments (id, workspace_id, uploader_kind, uploader_id, filename, content_type, size, width, height, blob_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(s(a.id))
    .bind(s(a.workspace_id))
    .bind(kind)
    .bind(id.map(s))
    .bind(&a.filename)
    .bind(&a.content_type)
    .bind(a.size as i64)
    .bind(a.width.map(i64::from))
    .bind(a.height.map(i64::from))
    .bind(&a.blob_key)
    .bind(a.created_at.0)
    .execute(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn attachment(store: &SqliteStore, ws: WorkspaceId, id: AttachmentId) -> Result<Attachment> {
    let row = sqlx::query("SELECT * FROM attachments WHERE id = $1 AND workspace_id = $2")
        .bind(s(id))
        .bind(s(ws))
        .fetch_optional(&store.read)
        .await
        .map_err(db)?;
    rows::attachment(&row.ok_or(StoreError::NotFound(Entity::Attachment))?)
}

pub(crate) async fn create_ban(store: &SqliteStore, b: &Ban) -> Result<()> {
    let (by_kind, by_id) = actor_parts(b.created_by);
    sqlx::query(
        "INSERT INTO bans (id, workspace_id, kind, value, reason, expires_at, created_by_kind, created_by_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(s(b.id))
    .bind(s(b.workspace_id))
    .bind(b.target.kind())
    .bind(b.target.value())
    .bind(&b.reason)
    .bind(b.expires_at.map(|t| t.0))
    .bind(by_kind)
    .bind(by_id.map(|u| u.to_string()))
    .bind(b.created_at.0)
    .execute(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn bans(store: &SqliteStore, ws: WorkspaceId) -> Result<Vec<Ban>> {
    let rows = sqlx::query("SELECT * FROM bans WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC")
        .bind(s(ws))
        .fetch_all(&store.read)
        .await
        .map_err(db)?;
    rows.iter().map(rows::ban).collect()
}

pub(crate) async fn delete_ban(store: &SqliteStore, ws: WorkspaceId, id: BanId) -> Result<()> {
    let r = sqlx::query("DELETE FROM bans WHERE workspace_id = $1 AND id = $2")
        .bind(s(ws))
        .bind(s(id))
        .execute(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    found(r.rows_affected(), Entity::Ban)
}
