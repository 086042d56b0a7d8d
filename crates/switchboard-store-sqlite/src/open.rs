//! Opening a SQLite database: the options, the connection settings every pool shares,
//! migrations, and the whole-database operations (ping, backup).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Connection as _};
use switchboard_store::*;

use crate::rows::db;
use crate::writer::{Turn, log_writer};
use crate::{SqliteStore, log, maintenance};

/// How hard a commit waits for the disk. The configuration file's `storage.durability`
/// is this type (`"full"` or `"normal"`), so it is defined once.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
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
        let maintenance = tokio::spawn(maintenance::maintain_in_background(read.clone(), turn.clone(), log.clone()));
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

pub(crate) async fn ping(store: &SqliteStore) -> Result<()> {
    sqlx::query("SELECT 1").execute(&store.read).await.map_err(db)?;
    Ok(())
}

pub(crate) async fn backup(store: &SqliteStore, dest: &Path) -> Result<()> {
    if dest.exists() {
        return Err(StoreError::Unavailable(format!("{} already exists", dest.display())));
    }
    // VACUUM INTO writes a consistent snapshot while writers carry on.
    sqlx::query("VACUUM INTO $1").bind(dest.to_string_lossy().into_owned()).execute(&store.read).await.map_err(db)?;
    Ok(())
}
