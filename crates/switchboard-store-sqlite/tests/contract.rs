//! The store contract suite on SQLite: a fresh database file per case.

use std::sync::Arc;

use switchboard_store::Store;
use switchboard_store_sqlite::SqliteStore;

async fn fresh() -> Arc<dyn Store> {
    // The directory is leaked on purpose: it must outlive the store, and it sits in the
    // system temp dir, which the OS cleans.
    let dir = tempfile::tempdir().unwrap().keep();
    Arc::new(SqliteStore::open_temp(&dir).await.unwrap())
}

switchboard_store::store_contract!(fresh());
