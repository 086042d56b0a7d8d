//! Background maintenance of the SQLite database: messages indexed for search and the
//! WAL checkpointed, off the log writer's path.

use std::time::Duration;

use sqlx::SqlitePool;
use switchboard_store::*;

use crate::log;
use crate::writer::Turn;

/// How often the WAL is checkpointed into the database, off the writer's path.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// A WAL this long (32 MiB of 4 KiB pages) is made to start over (`maintain_in_background`).
const RESTART_WAL_FRAMES: i64 = 8_192;

/// Brings the full-text index up to date with the log (see `log::index_messages`), a
/// chunk at a time, each in a turn of its own: log batches take theirs in between.
pub(crate) async fn index_search(turn: &Turn, log: &log::LogConnection) -> Result<usize> {
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
pub(crate) async fn maintain_in_background(read: SqlitePool, turn: Turn, log: log::LogConnection) {
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
