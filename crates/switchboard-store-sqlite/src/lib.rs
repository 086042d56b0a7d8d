//! SQLite implementation of the [`Store`] traits: the zero-configuration default.
//!
//! WAL mode, foreign keys on, one writer connection driven by a group-commit task,
//! reads from a separate pool. Invariant: knows nothing of HTTP.

mod directory;
mod log;
mod query;
mod rows;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Connection as _, QueryBuilder, Sqlite, SqlitePool};
use switchboard_domain::*;
use switchboard_store::codec::{actor_parts, like_pattern};
use switchboard_store::*;

use directory::found;
use rows::{db, unique};

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
    /// One connection, for every write but the log's; used with a turn (`writing`).
    write: SqlitePool,
    turn: Turn,
    writer: GroupCommit<(WorkspaceId, Change), Result<Committed>>,
    /// The log writer's own connection; search indexing borrows it between batches.
    log: log::LogConnection,
    /// Search indexing and checkpoints (`maintain_in_background`).
    maintenance: tokio::task::JoinHandle<()>,
}

/// How often the WAL is checkpointed into the database, off the writer's path.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// A WAL this long (32 MiB of 4 KiB pages) is made to start over (`maintain_in_background`).
const RESTART_WAL_FRAMES: i64 = 8_192;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Brings the schema up to date on a connection of its own that does not log statements:
/// a migration that rewrites a table takes seconds by design (0004: about 20 s per
/// million events), and sqlx would print its whole text as a slow-statement warning.
async fn migrate_schema(opts: &SqliteOptions) -> Result<()> {
    let started = std::time::Instant::now();
    let mut conn = connect_options(opts).disable_statement_logging().connect().await.map_err(|e| opening(opts, e))?;
    MIGRATOR.run(&mut conn).await.map_err(|e| StoreError::Unavailable(format!("migrating: {e}")))?;
    conn.close().await.map_err(|e| opening(opts, e))?;
    if started.elapsed() > Duration::from_secs(1) {
        tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "database schema brought up to date");
    }
    Ok(())
}

fn opening(opts: &SqliteOptions, e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(format!("opening {}: {e}", opts.path.display()))
}

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
        // Checkpoints run in the background (`maintain_in_background`), not in a commit.
        .pragma("wal_autocheckpoint", "0")
        .pragma("temp_store", "MEMORY")
}

/// The database is a file in this process: there is no connection to test before
/// lending it, and sqlx's default ping costs a round trip to the connection's thread on
/// every acquire.
fn pool_options() -> SqlitePoolOptions {
    SqlitePoolOptions::new().test_before_acquire(false)
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database, then starts the writer.
    pub async fn open(opts: &SqliteOptions) -> Result<Self> {
        migrate_schema(opts).await?;
        let write = pool_options().max_connections(1).connect_with(connect_options(opts)).await.map_err(|e| opening(opts, e))?;
        let read = pool_options().max_connections(opts.read_connections.max(1)).connect_with(connect_options(opts)).await.map_err(db)?;
        // Open as long as the store: the WAL it appends to is never deleted under `WalSync`.
        let log: log::LogConnection = Arc::new(std::sync::Mutex::new(log::LogState::new(log::open_log_connection(&opts.path)?)));
        let turn = Turn::default();
        let writer = log_writer(opts, turn.clone(), log.clone())?;
        let maintenance = tokio::spawn(maintain_in_background(read.clone(), turn.clone(), log.clone()));
        Ok(Self { read, write, turn, writer, log, maintenance })
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

/// The log's writer: a thread that owns the log connection's batches. For each batch it
/// takes the store's turn to write (`SqliteStore::writing`), applies the batch,
/// publishes what it committed, and hands it to the sync stage (`durability = "full"`)
/// or answers.
fn log_writer(opts: &SqliteOptions, turn: Turn, log: log::LogConnection) -> Result<GroupCommit<(WorkspaceId, Change), Result<Committed>>> {
    let hook = opts.hook.clone();
    let apply = move |jobs: Vec<(WorkspaceId, Change)>| {
        let results = {
            let _turn = turn.blocking_lock();
            log::apply_batch(&log, &jobs)
        };
        // Published once committed (readers can see it), before the sync stage makes it
        // durable and answers the writers: see ARCHITECTURE.md.
        announce(hook.as_deref(), &results);
        results
    };
    let durable = (opts.durability == Durability::Full).then(|| {
        let wal = WalSync::new(&opts.path);
        Durable { sync: Arc::new(move || wal.sync()), failed: |e| Err(StoreError::Unavailable(format!("syncing the log: {e}"))) }
    });
    GroupCommit::on_thread("switchboard-log", opts.max_batch.max(1), apply, durable)
        .map_err(|e| StoreError::Unavailable(format!("starting the log writer: {e}")))
}

impl SqliteStore {
    /// The store's turn to write, and its write connection. Every write holds a turn,
    /// the log writer's batches included (they take the turn only: they write on the
    /// log's own connection). SQLite lets one writer in at a time; waiting here, in
    /// order, beats retrying in SQLite's busy handler, where a write could wait behind
    /// a steady stream of batches for as long as they last.
    async fn writing(&self) -> Result<Writing<'_>> {
        let turn = self.turn.lock().await;
        Ok(Writing { conn: self.write.acquire().await.map_err(db)?, _turn: turn })
    }

    /// Has the log writer forget what it remembers of conversations, after a write that
    /// changed some without it. The caller holds the turn, which every batch takes
    /// first: the next batch reads them again.
    fn forget_conversations(&self, _write: &Writing<'_>) {
        self.log.lock().expect("log connection lock").forget();
    }
}

/// Whose turn it is to write (see `SqliteStore::writing`).
type Turn = Arc<tokio::sync::Mutex<()>>;

/// A write's turn and the store's write connection, for as long as it is held.
struct Writing<'a> {
    // Returned to the pool before the turn passes on.
    conn: sqlx::pool::PoolConnection<Sqlite>,
    _turn: tokio::sync::MutexGuard<'a, ()>,
}

impl std::ops::Deref for Writing<'_> {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl std::ops::DerefMut for Writing<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

/// Brings the full-text index up to date with the log (see `log::index_messages`), a
/// chunk at a time, each in a turn of its own: log batches take theirs in between.
async fn index_search(turn: &Turn, log: &log::LogConnection) -> Result<usize> {
    let mut total = 0;
    loop {
        let _turn = turn.lock().await;
        let log = log.clone();
        let indexed = tokio::task::spawn_blocking(move || log::index_messages(&log)).await.map_err(StoreError::internal)??;
        total += indexed;
        if indexed < log::INDEX_CHUNK {
            return Ok(total);
        }
    }
}

/// Every [`CHECKPOINT_EVERY`]: indexes the messages stored since the last tick for
/// search, then copies the WAL into the database on a read connection. `PASSIVE` waits
/// for no one: the log writer goes on appending meanwhile, where an automatic
/// checkpoint would have stalled the commit that crossed its threshold.
///
/// Under steady load such a checkpoint never catches up with the writer, and SQLite
/// starts the WAL over only once every frame has been copied: the file would grow for
/// as long as the load lasts. So once it holds [`RESTART_WAL_FRAMES`], the few frames
/// appended during the copy are checkpointed again on the log's own connection, between
/// two batches; the next batch then writes the WAL from its beginning.
async fn maintain_in_background(read: SqlitePool, turn: Turn, log: log::LogConnection) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = index_search(&turn, &log).await {
            tracing::warn!(error = %e, "indexing messages for search failed; retrying");
        }
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&read).await {
            Ok((_, frames, _)) if frames >= RESTART_WAL_FRAMES => {
                let log = log.clone();
                match tokio::task::spawn_blocking(move || log::finish_checkpoint(&log)).await.map_err(StoreError::internal) {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) | Err(e) => tracing::warn!(error = %e, "checkpoint on the log connection failed; retrying"),
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "checkpoint failed; retrying"),
        }
    }
}

/// Makes the commits in SQLite's write-ahead log durable: one `fdatasync` of the WAL
/// file covers every commit appended to it so far. The file is opened at the first sync
/// and kept: SQLite deletes a WAL only when its last connection closes, and the log's
/// own connection is open as long as the store. When it is first opened, the directory
/// is synced too, so that the name of a WAL SQLite has just created survives a power loss.
struct WalSync {
    wal: PathBuf,
    file: std::sync::Mutex<Option<std::fs::File>>,
}

impl WalSync {
    fn new(database: &Path) -> Self {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        Self { wal: wal.into(), file: std::sync::Mutex::new(None) }
    }

    fn sync(&self) -> std::io::Result<()> {
        let mut file = self.file.lock().expect("wal sync lock");
        if file.is_none() {
            let wal = match std::fs::File::open(&self.wal) {
                Ok(wal) => wal,
                // No WAL yet: nothing was committed to one.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            wal.sync_data()?;
            let dir = self.wal.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            std::fs::File::open(dir)?.sync_all()?;
            *file = Some(wal);
            return Ok(());
        }
        file.as_ref().expect("opened above").sync_data()
    }
}

fn s<T: ToString>(id: T) -> String {
    id.to_string()
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await.map_err(db)?;
        Ok(())
    }

    async fn close(&self) {
        self.writer.close().await;
        self.maintenance.abort();
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
            .execute(&mut *self.writing().await?)
            .await
            .map_err(db)?;
        sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1").bind(name).fetch_one(&mut *self.writing().await?).await.map_err(db)
    }

    async fn create_workspace(&self, w: &Workspace) -> Result<()> {
        sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(s(w.id))
            .bind(&w.name)
            .bind(w.created_at.0)
            .execute(&mut *self.writing().await?)
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
        .execute(&mut *self.writing().await?)
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
        .execute(&mut *self.writing().await?)
        .await
        .map_err(unique("email"))?;
        found(r.rows_affected(), Entity::Agent)
    }

    async fn set_password(&self, ws: WorkspaceId, id: AgentId, password_hash: &str) -> Result<()> {
        let r = sqlx::query("UPDATE agents SET password_hash = $3 WHERE id = $1 AND workspace_id = $2")
            .bind(s(id))
            .bind(s(ws))
            .bind(password_hash)
            .execute(&mut *self.writing().await?)
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
        let mut write = self.writing().await?;
        let deleted = directory::delete_where(&mut *write, "agents", ws, s(id), Entity::Agent).await;
        // Unassigned the agent's conversations.
        self.forget_conversations(&write);
        deleted
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
        .execute(&mut *self.writing().await?)
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
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *self.writing().await?)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn delete_agent_sessions(&self, agent: AgentId) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE agent_id = $1").bind(s(agent)).execute(&mut *self.writing().await?).await.map_err(db)?;
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
        .execute(&mut *self.writing().await?)
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
            .fetch_optional(&mut *self.writing().await?)
            .await
            .map_err(db)?;
        row.as_ref().map(rows::api_token).transpose()
    }

    async fn delete_api_token(&self, ws: WorkspaceId, id: ApiTokenId) -> Result<()> {
        directory::delete_where(&mut *self.writing().await?, "api_tokens", ws, s(id), Entity::ApiToken).await
    }

    async fn create_team(&self, team: &Team) -> Result<()> {
        directory::write_team(&mut *self.writing().await?, team, true).await
    }

    async fn update_team(&self, team: &Team) -> Result<()> {
        directory::write_team(&mut *self.writing().await?, team, false).await
    }

    async fn team(&self, ws: WorkspaceId, id: TeamId) -> Result<Team> {
        let row = sqlx::query("SELECT * FROM teams WHERE id = $1 AND workspace_id = $2")
            .bind(s(id))
            .bind(s(ws))
            .fetch_optional(&self.read)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound(Entity::Team))?;
        rows::team(&row, directory::team_members(&self.read, id).await?)
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
            teams.push(Team { agent_ids: directory::team_members(&self.read, t.id).await?, ..t });
        }
        Ok(teams)
    }

    async fn delete_team(&self, ws: WorkspaceId, id: TeamId) -> Result<()> {
        let mut write = self.writing().await?;
        let deleted = directory::delete_where(&mut *write, "teams", ws, s(id), Entity::Team).await;
        // Took the team's conversations out of it.
        self.forget_conversations(&write);
        deleted
    }

    async fn create_site(&self, site: &Site) -> Result<()> {
        directory::write_site(&mut *self.writing().await?, site, true).await
    }

    async fn update_site(&self, site: &Site) -> Result<()> {
        directory::write_site(&mut *self.writing().await?, site, false).await
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
        directory::delete_where(&mut *self.writing().await?, "sites", ws, s(id), Entity::Site).await
    }

    async fn create_canned(&self, c: &CannedResponse) -> Result<()> {
        directory::write_canned(&mut *self.writing().await?, c, true).await
    }

    async fn update_canned(&self, c: &CannedResponse) -> Result<()> {
        directory::write_canned(&mut *self.writing().await?, c, false).await
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
        directory::delete_where(&mut *self.writing().await?, "canned_responses", ws, s(id), Entity::CannedResponse).await
    }

    async fn create_contact(&self, c: &Contact) -> Result<()> {
        directory::write_contact(&mut *self.writing().await?, c, true).await
    }

    async fn update_contact(&self, c: &Contact) -> Result<()> {
        directory::write_contact(&mut *self.writing().await?, c, false).await
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
        .execute(&mut *self.writing().await?)
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
        .execute(&mut *self.writing().await?)
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
        query::conversations(&self.read, ws, f).await
    }

    async fn conversation_events(&self, ws: WorkspaceId, id: ConversationId, query: &EventQuery) -> Result<Vec<Event>> {
        query::conversation_events(&self.read, ws, id, query).await
    }

    async fn feed_head(&self, ws: WorkspaceId) -> Result<i64> {
        query::feed_head(&self.read, ws).await
    }

    async fn feed(&self, ws: WorkspaceId, after_feed_seq: i64, limit: u32) -> Result<Vec<Event>> {
        query::feed(&self.read, ws, after_feed_seq, limit).await
    }

    async fn search_messages(&self, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<MessageHit>> {
        // Every message committed before the search is found by it.
        index_search(&self.turn, &self.log).await?;
        query::search_messages(&self.read, ws, terms, limit).await
    }
}

#[cfg(test)]
mod tests {
    use switchboard_store::testing::{fixture, say, start};

    use super::*;

    #[tokio::test]
    async fn writes_outside_the_log_stay_synchronous_and_the_log_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&SqliteOptions::new(dir.path().join("switchboard.db"))).await.unwrap();
        let f = fixture(&store, "durable").await;
        let conv = start(&store, &f, Some("hello")).await.conversation.id;
        say(&store, &f, conv, Actor::Agent(f.agent.id), "hi").await;
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *store.writing().await.unwrap()).await.unwrap();
        assert_eq!(level, 2, "FULL on the connection every other write uses");
        assert!(WalSync::new(&dir.path().join("switchboard.db")).sync().is_ok());
        store.close().await;
    }

    #[test]
    fn syncing_a_log_that_was_checkpointed_away_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        assert!(WalSync::new(&dir.path().join("absent.db")).sync().is_ok());
    }
}
