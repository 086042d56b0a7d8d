//! The log's writer thread, the turn every write takes, and syncing the WAL: how
//! writes reach SQLite's single writer in order and become durable.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::Sqlite;
use switchboard_domain::*;
use switchboard_store::*;

use crate::open::{Durability, SqliteOptions};
use crate::rows::db;
use crate::{SqliteStore, log};

/// The log's writer: a thread that owns the log connection's batches. For each batch it
/// takes the store's turn to write (`SqliteStore::writing`), applies the batch,
/// publishes what it committed, and hands it to the sync stage (`durability = "full"`)
/// or answers.
pub(crate) fn log_writer(
    opts: &SqliteOptions,
    turn: Turn,
    log: log::LogConnection,
) -> Result<GroupCommit<(WorkspaceId, Change), Result<Committed>>> {
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
    pub(crate) async fn writing(&self) -> Result<Writing<'_>> {
        let turn = self.turn.lock().await;
        Ok(Writing { conn: self.write.acquire().await.map_err(db)?, _turn: turn })
    }

    /// Has the log writer forget what it remembers of conversations, after a write that
    /// changed some without it. The caller holds the turn, which every batch takes
    /// first: the next batch reads them again.
    pub(crate) fn forget_conversations(&self, _write: &Writing<'_>) {
        self.log.lock().expect("log connection lock").forget();
    }
}

/// Whose turn it is to write (see `SqliteStore::writing`).
pub(crate) type Turn = Arc<tokio::sync::Mutex<()>>;

/// A write's turn and the store's write connection, for as long as it is held.
pub(crate) struct Writing<'a> {
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
