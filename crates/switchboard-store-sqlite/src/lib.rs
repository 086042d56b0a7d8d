//! SQLite implementation of the [`Store`] traits: the zero-configuration default.
//!
//! WAL mode, foreign keys on, one writer connection driven by a group-commit task,
//! reads from a separate pool. Invariant: knows nothing of HTTP.

mod log;
mod rows;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_parts, like_pattern};
use switchboard_store::*;

use rows::{EVENT_COLUMNS, db, unique};

/// How hard a commit waits for the disk.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Durability {
    /// fsync on every commit: an acknowledged message survives power loss.
    #[default]
    Full,
    /// No fsync on commit (WAL still written): survives a process crash, not power loss.
    Normal,
}

#[derive(Clone)]
pub struct SqliteOptions {
    pub path: PathBuf,
    pub durability: Durability,
    pub read_connections: u32,
    /// Most changes committed in one transaction.
    pub max_batch: usize,
    /// Told of every batch's events after it commits, in order.
    pub hook: Option<Arc<dyn CommitHook>>,
}

impl SqliteOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), durability: Durability::Full, read_connections: 4, max_batch: 512, hook: None }
    }
}

pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    writer: GroupCommit<(WorkspaceId, Change), Result<Committed>>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

fn connect_options(opts: &SqliteOptions) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(&opts.path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(match opts.durability {
            Durability::Full => SqliteSynchronous::Full,
            Durability::Normal => SqliteSynchronous::Normal,
        })
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database, then starts the writer.
    pub async fn open(opts: &SqliteOptions) -> Result<Self> {
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect_options(opts))
            .await
            .map_err(|e| StoreError::Unavailable(format!("opening {}: {e}", opts.path.display())))?;
        MIGRATOR.run(&write).await.map_err(|e| StoreError::Unavailable(format!("migrating: {e}")))?;
        let read =
            SqlitePoolOptions::new().max_connections(opts.read_connections.max(1)).connect_with(connect_options(opts)).await.map_err(db)?;
        let pool = write.clone();
        let hook = opts.hook.clone();
        let writer = GroupCommit::spawn(opts.max_batch.max(1), move |jobs| {
            let pool = pool.clone();
            let hook = hook.clone();
            async move {
                let results = log::apply_batch(&pool, jobs).await;
                if let Some(hook) = hook {
                    let events: Vec<Event> = results
                        .iter()
                        .filter_map(|r| r.as_ref().ok())
                        .filter(|c| !c.replayed)
                        .flat_map(|c| c.events.iter().cloned())
                        .collect();
                    if !events.is_empty() {
                        hook.committed(&events);
                    }
                }
                results
            }
        });
        Ok(Self { read, write, writer })
    }

    /// Opens the database only to bring its schema up to date.
    pub async fn migrate(path: &Path) -> Result<()> {
        let store = Self::open(&SqliteOptions::new(path)).await?;
        store.close().await;
        Ok(())
    }

    /// An in-memory-like throwaway store in a temporary file, for tests.
    pub async fn open_temp(dir: &Path) -> Result<Self> {
        Self::open(&SqliteOptions { durability: Durability::Normal, ..SqliteOptions::new(dir.join("switchboard.db")) }).await
    }
}

fn s<T: ToString>(id: T) -> String {
    id.to_string()
}

fn found(rows: u64, entity: Entity) -> Result<()> {
    if rows == 0 { Err(StoreError::NotFound(entity)) } else { Ok(()) }
}

impl SqliteStore {
    async fn team_members(&self, team: TeamId) -> Result<Vec<AgentId>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT agent_id FROM team_members WHERE team_id = $1 ORDER BY agent_id")
            .bind(s(team))
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        ids.iter().map(|i| Ok(AgentId(codec::uuid(i)?))).collect()
    }

    async fn write_team(&self, team: &Team, create: bool) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
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
            let r =
                sqlx::query("INSERT INTO team_members (team_id, agent_id) SELECT $1, id FROM agents WHERE id = $2 AND workspace_id = $3")
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

    async fn delete_where(&self, table: &str, ws: WorkspaceId, id: String, entity: Entity) -> Result<()> {
        let r = sqlx::query(&format!("DELETE FROM {table} WHERE id = $1 AND workspace_id = $2"))
            .bind(id)
            .bind(s(ws))
            .execute(&self.write)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::InUse(entity),
                _ => db(e),
            })?;
        found(r.rows_affected(), entity)
    }

    async fn write_contact(&self, c: &Contact, create: bool) -> Result<()> {
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
            .execute(&self.write)
            .await
            .map_err(unique("external_id"))?;
        found(r.rows_affected(), Entity::Contact)
    }

    async fn write_site(&self, site: &Site, create: bool) -> Result<()> {
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
            .execute(&self.write)
            .await
            .map_err(unique("public_key"))?;
        found(r.rows_affected(), Entity::Site)
    }

    async fn write_canned(&self, c: &CannedResponse, create: bool) -> Result<()> {
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
            .execute(&self.write)
            .await
            .map_err(unique("shortcut"))?;
        found(r.rows_affected(), Entity::CannedResponse)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await.map_err(db)?;
        Ok(())
    }

    async fn close(&self) {
        self.writer.close().await;
        self.write.close().await;
        self.read.close().await;
    }

    async fn backup(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(StoreError::Unavailable(format!("{} already exists", dest.display())));
        }
        // VACUUM INTO writes a consistent snapshot while writers carry on.
        sqlx::query("VACUUM INTO $1").bind(dest.to_string_lossy().into_owned()).execute(&self.read).await.map_err(db)?;
        Ok(())
    }

    async fn secret(&self, name: &str, generate: String) -> Result<String> {
        sqlx::query("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(generate)
            .execute(&self.write)
            .await
            .map_err(db)?;
        sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1").bind(name).fetch_one(&self.write).await.map_err(db)
    }

    async fn create_workspace(&self, w: &Workspace) -> Result<()> {
        sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(s(w.id))
            .bind(&w.name)
            .bind(w.created_at.0)
            .execute(&self.write)
            .await
            .map_err(unique("id"))?;
        Ok(())
    }

    async fn workspace(&self, id: WorkspaceId) -> Result<Workspace> {
        let row = sqlx::query("SELECT * FROM workspaces WHERE id = $1").bind(s(id)).fetch_optional(&self.read).await.map_err(db)?;
        rows::workspace(&row.ok_or(StoreError::NotFound(Entity::Workspace))?)
    }

    async fn workspaces(&self) -> Result<Vec<Workspace>> {
        let rows = sqlx::query("SELECT * FROM workspaces ORDER BY created_at, id").fetch_all(&self.read).await.map_err(db)?;
        rows.iter().map(rows::workspace).collect()
    }

    async fn create_agent(&self, a: &Agent, password_hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO agents (id, workspace_id, email, name, role, avatar_url, locale, max_chats, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(s(a.id))
        .bind(s(a.workspace_id))
        .bind(a.email.as_str())
        .bind(&a.name)
        .bind(a.role.as_str())
        .bind(&a.avatar_url)
        .bind(a.locale.as_str())
        .bind(a.max_chats as i64)
        .bind(password_hash)
        .bind(a.created_at.0)
        .execute(&self.write)
        .await
        .map_err(unique("email"))?;
        Ok(())
    }

    async fn update_agent(&self, a: &Agent) -> Result<()> {
        let r = sqlx::query(
            "UPDATE agents SET email = $3, name = $4, role = $5, avatar_url = $6, locale = $7, max_chats = $8 WHERE id = $1 AND workspace_id = $2",
        )
        .bind(s(a.id))
        .bind(s(a.workspace_id))
        .bind(a.email.as_str())
        .bind(&a.name)
        .bind(a.role.as_str())
        .bind(&a.avatar_url)
        .bind(a.locale.as_str())
        .bind(a.max_chats as i64)
        .execute(&self.write)
        .await
        .map_err(unique("email"))?;
        found(r.rows_affected(), Entity::Agent)
    }

    async fn set_password(&self, ws: WorkspaceId, id: AgentId, password_hash: &str) -> Result<()> {
        let r = sqlx::query("UPDATE agents SET password_hash = $3 WHERE id = $1 AND workspace_id = $2")
            .bind(s(id))
            .bind(s(ws))
            .bind(password_hash)
            .execute(&self.write)
            .await
            .map_err(db)?;
        found(r.rows_affected(), Entity::Agent)
    }

    async fn agent(&self, ws: WorkspaceId, id: AgentId) -> Result<Agent> {
        let row = sqlx::query("SELECT * FROM agents WHERE id = $1 AND workspace_id = $2")
            .bind(s(id))
            .bind(s(ws))
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        rows::agent(&row.ok_or(StoreError::NotFound(Entity::Agent))?)
    }

    async fn agents(&self, ws: WorkspaceId) -> Result<Vec<Agent>> {
        let rows = sqlx::query("SELECT * FROM agents WHERE workspace_id = $1 ORDER BY name, id")
            .bind(s(ws))
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        rows.iter().map(rows::agent).collect()
    }

    async fn agent_credentials(&self, email: &Email) -> Result<Option<(Agent, String)>> {
        let row = sqlx::query("SELECT * FROM agents WHERE email = $1").bind(email.as_str()).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| Ok((rows::agent(&r)?, sqlx::Row::try_get(&r, "password_hash").map_err(db)?))).transpose()
    }

    async fn delete_agent(&self, ws: WorkspaceId, id: AgentId) -> Result<()> {
        self.delete_where("agents", ws, s(id), Entity::Agent).await
    }

    async fn create_session(&self, x: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, agent_id, workspace_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&x.token_hash)
        .bind(s(x.agent_id))
        .bind(s(x.workspace_id))
        .bind(&x.csrf_token)
        .bind(x.created_at.0)
        .bind(x.expires_at.0)
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now.0)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        row.as_ref().map(rows::session).transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.write).await.map_err(db)?;
        Ok(())
    }

    async fn delete_agent_sessions(&self, agent: AgentId) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE agent_id = $1").bind(s(agent)).execute(&self.write).await.map_err(db)?;
        Ok(())
    }

    async fn create_api_token(&self, t: &ApiToken, secret_hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_tokens (id, workspace_id, name, role, prefix, secret_hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(s(t.id))
        .bind(s(t.workspace_id))
        .bind(&t.name)
        .bind(t.role.as_str())
        .bind(&t.prefix)
        .bind(secret_hash)
        .bind(t.created_at.0)
        .bind(t.last_used_at.map(|t| t.0))
        .execute(&self.write)
        .await
        .map_err(unique("token"))?;
        Ok(())
    }

    async fn api_tokens(&self, ws: WorkspaceId) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query("SELECT * FROM api_tokens WHERE workspace_id = $1 ORDER BY created_at, id")
            .bind(s(ws))
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        rows.iter().map(rows::api_token).collect()
    }

    async fn use_api_token(&self, secret_hash: &str, now: Timestamp) -> Result<Option<ApiToken>> {
        let row = sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE secret_hash = $1 RETURNING *")
            .bind(secret_hash)
            .bind(now.0)
            .fetch_optional(&self.write)
            .await
            .map_err(db)?;
        row.as_ref().map(rows::api_token).transpose()
    }

    async fn delete_api_token(&self, ws: WorkspaceId, id: ApiTokenId) -> Result<()> {
        self.delete_where("api_tokens", ws, s(id), Entity::ApiToken).await
    }

    async fn create_team(&self, team: &Team) -> Result<()> {
        self.write_team(team, true).await
    }

    async fn update_team(&self, team: &Team) -> Result<()> {
        self.write_team(team, false).await
    }

    async fn team(&self, ws: WorkspaceId, id: TeamId) -> Result<Team> {
        let row = sqlx::query("SELECT * FROM teams WHERE id = $1 AND workspace_id = $2")
            .bind(s(id))
            .bind(s(ws))
            .fetch_optional(&self.read)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound(Entity::Team))?;
        rows::team(&row, self.team_members(id).await?)
    }

    async fn teams(&self, ws: WorkspaceId) -> Result<Vec<Team>> {
        let rows = sqlx::query("SELECT * FROM teams WHERE workspace_id = $1 ORDER BY name, id")
            .bind(s(ws))
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        let mut teams = Vec::with_capacity(rows.len());
        for row in &rows {
            let t = rows::team(row, vec![])?;
            teams.push(Team { agent_ids: self.team_members(t.id).await?, ..t });
        }
        Ok(teams)
    }

    async fn delete_team(&self, ws: WorkspaceId, id: TeamId) -> Result<()> {
        self.delete_where("teams", ws, s(id), Entity::Team).await
    }

    async fn create_site(&self, site: &Site) -> Result<()> {
        self.write_site(site, true).await
    }

    async fn update_site(&self, site: &Site) -> Result<()> {
        self.write_site(site, false).await
    }

    async fn site(&self, ws: WorkspaceId, id: SiteId) -> Result<Site> {
        let row = sqlx::query("SELECT * FROM sites WHERE id = $1 AND workspace_id = $2")
            .bind(s(id))
            .bind(s(ws))
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        rows::site(&row.ok_or(StoreError::NotFound(Entity::Site))?)
    }

    async fn site_by_key(&self, public_key: &str) -> Result<Site> {
        let row = sqlx::query("SELECT * FROM sites WHERE public_key = $1").bind(public_key).fetch_optional(&self.read).await.map_err(db)?;
        rows::site(&row.ok_or(StoreError::NotFound(Entity::Site))?)
    }

    async fn sites(&self, ws: WorkspaceId) -> Result<Vec<Site>> {
        let rows = sqlx::query("SELECT * FROM sites WHERE workspace_id = $1 ORDER BY created_at, id")
            .bind(s(ws))
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        rows.iter().map(rows::site).collect()
    }

    async fn delete_site(&self, ws: WorkspaceId, id: SiteId) -> Result<()> {
        self.delete_where("sites", ws, s(id), Entity::Site).await
    }

    async fn create_canned(&self, c: &CannedResponse) -> Result<()> {
        self.write_canned(c, true).await
    }

    async fn update_canned(&self, c: &CannedResponse) -> Result<()> {
        self.write_canned(c, false).await
    }

    async fn canned(&self, ws: WorkspaceId, id: CannedResponseId) -> Result<CannedResponse> {
        let row = sqlx::query("SELECT * FROM canned_responses WHERE id = $1 AND workspace_id = $2")
            .bind(s(id))
            .bind(s(ws))
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        rows::canned(&row.ok_or(StoreError::NotFound(Entity::CannedResponse))?)
    }

    async fn canned_responses(&self, ws: WorkspaceId) -> Result<Vec<CannedResponse>> {
        let rows = sqlx::query("SELECT * FROM canned_responses WHERE workspace_id = $1 ORDER BY shortcut")
            .bind(s(ws))
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        rows.iter().map(rows::canned).collect()
    }

    async fn delete_canned(&self, ws: WorkspaceId, id: CannedResponseId) -> Result<()> {
        self.delete_where("canned_responses", ws, s(id), Entity::CannedResponse).await
    }

    async fn create_contact(&self, c: &Contact) -> Result<()> {
        self.write_contact(c, true).await
    }

    async fn update_contact(&self, c: &Contact) -> Result<()> {
        self.write_contact(c, false).await
    }

    async fn contact(&self, ws: WorkspaceId, id: ContactId) -> Result<Contact> {
        let row = sqlx::query("SELECT * FROM contacts WHERE id = $1 AND workspace_id = $2")
            .bind(s(id))
            .bind(s(ws))
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        rows::contact(&row.ok_or(StoreError::NotFound(Entity::Contact))?)
    }

    async fn contact_by_external_id(&self, ws: WorkspaceId, external_id: &str) -> Result<Option<Contact>> {
        let row = sqlx::query("SELECT * FROM contacts WHERE workspace_id = $1 AND external_id = $2")
            .bind(s(ws))
            .bind(external_id)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        row.as_ref().map(rows::contact).transpose()
    }

    async fn search_contacts(&self, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<Contact>> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM contacts WHERE workspace_id = ");
        q.push_bind(s(ws));
        for term in terms {
            q.push(" AND search_text LIKE ").push_bind(like_pattern(term)).push(" ESCAPE '\\'");
        }
        q.push(" ORDER BY last_seen DESC, id DESC LIMIT ").push_bind(limit as i64);
        let rows = q.build().fetch_all(&self.read).await.map_err(db)?;
        rows.iter().map(rows::contact).collect()
    }

    async fn add_page_view(&self, ws: WorkspaceId, contact: ContactId, v: &PageView) -> Result<()> {
        let r = sqlx::query(
            "INSERT INTO page_views (contact_id, url, title, referrer, at) SELECT id, $3, $4, $5, $6 FROM contacts WHERE id = $1 AND workspace_id = $2",
        )
        .bind(s(contact))
        .bind(s(ws))
        .bind(&v.url)
        .bind(&v.title)
        .bind(&v.referrer)
        .bind(v.at.0)
        .execute(&self.write)
        .await
        .map_err(db)?;
        found(r.rows_affected(), Entity::Contact)
    }

    async fn page_views(&self, ws: WorkspaceId, contact: ContactId, limit: u32) -> Result<Vec<PageView>> {
        let rows = sqlx::query(
            "SELECT p.* FROM page_views p JOIN contacts c ON c.id = p.contact_id WHERE p.contact_id = $1 AND c.workspace_id = $2 \
             ORDER BY p.at DESC, p.id DESC LIMIT $3",
        )
        .bind(s(contact))
        .bind(s(ws))
        .bind(limit as i64)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter().map(rows::page_view).collect()
    }

    async fn create_attachment(&self, a: &Attachment) -> Result<()> {
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
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn attachment(&self, ws: WorkspaceId, id: AttachmentId) -> Result<Attachment> {
        let row = sqlx::query("SELECT * FROM attachments WHERE id = $1 AND workspace_id = $2")
            .bind(s(id))
            .bind(s(ws))
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        rows::attachment(&row.ok_or(StoreError::NotFound(Entity::Attachment))?)
    }

    async fn commit(&self, ws: WorkspaceId, change: Change) -> Result<Committed> {
        self.writer.submit((ws, change)).await.unwrap_or_else(|| Err(StoreError::Unavailable("the store is shutting down".into())))
    }

    async fn conversation(&self, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
        let mut conn = self.read.acquire().await.map_err(db)?;
        log::load_conversation(&mut conn, ws, id).await
    }

    async fn conversations(&self, ws: WorkspaceId, f: &ConversationFilter) -> Result<Vec<Conversation>> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM conversations WHERE workspace_id = ");
        q.push_bind(s(ws));
        if let Some(status) = f.status {
            q.push(" AND status = ").push_bind(status);
        }
        match f.assignee {
            Some(AssigneeFilter::Agent(a)) => {
                q.push(" AND assignee_id = ").push_bind(s(a));
            }
            Some(AssigneeFilter::Unassigned) => {
                q.push(" AND assignee_id IS NULL");
            }
            None => {}
        }
        if let Some(t) = f.team_id {
            q.push(" AND team_id = ").push_bind(s(t));
        }
        if let Some(site) = f.site_id {
            q.push(" AND site_id = ").push_bind(s(site));
        }
        if let Some(c) = f.contact_id {
            q.push(" AND contact_id = ").push_bind(s(c));
        }
        if let Some(label) = &f.label {
            // Labels are a JSON array of quoted names; a quoted name matches exactly one label.
            q.push(" AND labels LIKE ").push_bind(like_pattern(&format!("\"{}\"", label.as_str()))).push(" ESCAPE '\\'");
        }
        if let Some(after) = f.after {
            q.push(" AND (updated_at < ").push_bind(after.updated_at.0);
            q.push(" OR (updated_at = ").push_bind(after.updated_at.0);
            q.push(" AND id < ").push_bind(s(after.id)).push("))");
        }
        q.push(" ORDER BY updated_at DESC, id DESC LIMIT ").push_bind(f.limit as i64);
        let rows = q.build().fetch_all(&self.read).await.map_err(db)?;
        rows.iter().map(rows::conversation).collect()
    }

    async fn conversation_events(&self, ws: WorkspaceId, id: ConversationId, query: &EventQuery) -> Result<Vec<Event>> {
        let mut conn = self.read.acquire().await.map_err(db)?;
        // Existence check first, so an unknown or foreign conversation is "not found", not empty.
        log::load_conversation(&mut conn, ws, id).await?;
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {EVENT_COLUMNS} FROM events e LEFT JOIN messages m ON m.id = e.message_id WHERE e.conversation_id = "
        ));
        q.push_bind(s(id));
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
        let rows = q.build().fetch_all(&mut *conn).await.map_err(db)?;
        rows.iter().map(rows::event).collect()
    }

    async fn feed_head(&self, ws: WorkspaceId) -> Result<i64> {
        sqlx::query_scalar("SELECT feed_seq FROM workspaces WHERE id = $1")
            .bind(s(ws))
            .fetch_optional(&self.read)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound(Entity::Workspace))
    }

    async fn feed(&self, ws: WorkspaceId, after_feed_seq: i64, limit: u32) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e LEFT JOIN messages m ON m.id = e.message_id \
             WHERE e.workspace_id = $1 AND e.feed_seq > $2 ORDER BY e.feed_seq LIMIT $3"
        );
        let rows = sqlx::query(&sql).bind(s(ws)).bind(after_feed_seq).bind(limit as i64).fetch_all(&self.read).await.map_err(db)?;
        rows.iter().map(rows::event).collect()
    }

    async fn search_messages(&self, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<MessageHit>> {
        if terms.is_empty() {
            return Ok(vec![]);
        }
        // Every term is a quoted prefix phrase; FTS5 joins phrases with AND.
        let query = terms.iter().map(|t| format!("\"{}\"*", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" ");
        let rows = sqlx::query(
            "SELECT m.* FROM message_search s JOIN messages m ON m.rowid = s.rowid \
             WHERE message_search MATCH $1 AND m.workspace_id = $2 ORDER BY m.created_at DESC, m.seq DESC LIMIT $3",
        )
        .bind(query)
        .bind(s(ws))
        .bind(limit as i64)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter().map(|r| Ok(MessageHit { message: rows::message(r)? })).collect()
    }
}
