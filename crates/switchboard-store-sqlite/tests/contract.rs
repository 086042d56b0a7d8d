//! The store contract suite on SQLite: a fresh database file per case, in both
//! durability modes (`full` answers writers only after the sync stage).

use std::sync::Arc;

use switchboard_store::Store;
use switchboard_store_sqlite::{Durability, SqliteOptions, SqliteStore};

async fn fresh(durability: Durability) -> Arc<dyn Store> {
    // The directory is leaked on purpose: it must outlive the store, and it sits in the
    // system temp dir, which the OS cleans.
    let dir = tempfile::tempdir().unwrap().keep();
    Arc::new(SqliteStore::open(&SqliteOptions { durability, ..SqliteOptions::new(dir.join("switchboard.db")) }).await.unwrap())
}

mod normal {
    switchboard_store::store_contract!(super::fresh(super::Durability::Normal));
}

mod full {
    switchboard_store::store_contract!(super::fresh(super::Durability::Full));
}
