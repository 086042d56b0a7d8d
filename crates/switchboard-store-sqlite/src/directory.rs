//! Writes outside the conversation log that need more than one statement or a shared
//! shape: teams with their members, contacts, sites, canned responses, deletions.

use sqlx::{SqliteConnection, SqlitePool};
use switchboard_domain::*;
use switchboard_store::codec;
use switchboard_store::*;

use crate::rows::{db, unique};

fn s<T: ToString>(id: T) -> String {
    id.to_string()
}

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
        sqlx::query("INSERT INTO teams (id, workspace_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(s(team.id))
            .bind(s(team.workspace_id))
            .bind(&team.name)
            .bind(team.created_at.0)
            .execute(&mut *tx)
            .await
            .map_err(unique("name"))?;
    } else {
        let r = sqlx::query("UPDATE teams SET name = $3 WHERE id = $1 AND workspace_id = $2")
            .bind(s(team.id))
            .bind(s(team.workspace_id))
            .bind(&team.name)
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
        "INSERT INTO contacts (id, workspace_id, site_id, external_id, name, email, phone, attributes, browser, os, device, language, search_text, first_seen, last_seen) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    } else {
        "UPDATE contacts SET site_id = $3, external_id = $4, name = $5, email = $6, phone = $7, attributes = $8, browser = $9, os = $10, \
         device = $11, language = $12, search_text = $13, first_seen = $14, last_seen = $15 WHERE id = $1 AND workspace_id = $2"
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
        .execute(&mut *conn)
        .await
        .map_err(unique("external_id"))?;
    found(r.rows_affected(), Entity::Contact)
}

pub(crate) async fn write_site(conn: &mut SqliteConnection, site: &Site, create: bool) -> Result<()> {
    let sql = if create {
        "INSERT INTO sites (id, workspace_id, name, public_key, allowed_origins, appearance, prechat_form, identity_secret, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    } else {
        "UPDATE sites SET name = $3, public_key = $4, allowed_origins = $5, appearance = $6, prechat_form = $7, identity_secret = $8 \
         WHERE id = $1 AND workspace_id = $2 AND $9 = $9"
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
        .execute(&mut *conn)
        .await
        .map_err(unique("public_key"))?;
    found(r.rows_affected(), Entity::Site)
}

pub(crate) async fn write_canned(conn: &mut SqliteConnection, c: &CannedResponse, create: bool) -> Result<()> {
    let sql = if create {
        "INSERT INTO canned_responses (id, workspace_id, shortcut, body, created_at) VALUES ($1, $2, $3, $4, $5)"
    } else {
        "UPDATE canned_responses SET shortcut = $3, body = $4 WHERE id = $1 AND workspace_id = $2 AND $5 = $5"
    };
    let r = sqlx::query(sql)
        .bind(s(c.id))
        .bind(s(c.workspace_id))
        .bind(&c.shortcut)
        .bind(&c.body)
        .bind(c.created_at.0)
        .execute(&mut *conn)
        .await
        .map_err(unique("shortcut"))?;
    found(r.rows_affected(), Entity::CannedResponse)
}
