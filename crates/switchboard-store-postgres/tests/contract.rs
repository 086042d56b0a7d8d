//! The store contract suite on PostgreSQL: a fresh database per case, on one throwaway
//! server per test process.

use std::sync::Arc;

use switchboard_services::EphemeralPostgres;
use switchboard_store::Store;
use switchboard_store_postgres::{PgOptions, PgStore};

async fn fresh() -> Arc<dyn Store> {
    let server = EphemeralPostgres::shared().await.expect("starting PostgreSQL");
    let url = server.create_database().await.expect("creating a database");
    Arc::new(PgStore::connect(&PgOptions::new(url)).await.unwrap())
}

switchboard_store::store_contract!(fresh());
