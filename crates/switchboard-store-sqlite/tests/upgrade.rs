//! Upgrading a database that an earlier version wrote keeps everything it holds.

use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use switchboard_store::testing::{upgrade_0004, upgrade_0006};
use switchboard_store_sqlite::{SqliteOptions, SqliteStore};

#[tokio::test]
async fn messages_stored_before_they_moved_into_their_events_survive_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    let pool =
        SqlitePool::connect_with(SqliteConnectOptions::new().filename(&path).create_if_missing(true).foreign_keys(true)).await.unwrap();
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = before.migrations.iter().filter(|m| m.version <= 3).cloned().collect::<Vec<_>>().into();
    before.run(&pool).await.unwrap();
    for row in upgrade_0004::rows() {
        sqlx::query(&row).execute(&pool).await.unwrap();
    }
    // What the log's search indexing had done by then: both messages, by their rowids.
    sqlx::query("INSERT INTO message_search (rowid, text) SELECT rowid, lower(body) FROM messages").execute(&pool).await.unwrap();
    sqlx::query("UPDATE search_progress SET indexed_rowid = (SELECT max(rowid) FROM messages)").execute(&pool).await.unwrap();
    pool.close().await;

    let store = SqliteStore::open(&SqliteOptions::new(&path)).await.unwrap();
    upgrade_0004::check(Arc::new(store)).await;
}

#[tokio::test]
async fn sites_and_conversations_from_before_inboxes_are_served_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    let pool =
        SqlitePool::connect_with(SqliteConnectOptions::new().filename(&path).create_if_missing(true).foreign_keys(true)).await.unwrap();
    let mut before = sqlx::migrate!("./migrations");
    before.migrations = before.migrations.iter().filter(|m| m.version <= 5).cloned().collect::<Vec<_>>().into();
    before.run(&pool).await.unwrap();
    for row in upgrade_0006::rows() {
        sqlx::query(&row).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = SqliteStore::open(&SqliteOptions::new(&path)).await.unwrap();
    upgrade_0006::check(Arc::new(store)).await;
}
