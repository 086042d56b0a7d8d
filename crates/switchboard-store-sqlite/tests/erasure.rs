//! After an erasure, no row of any table of the SQLite file holds anything of the
//! person: every column of every table (the search index's own included) is read back.

use sqlx::Row as _;
use sqlx::sqlite::SqlitePool;
use switchboard_domain::search;
use switchboard_store::Store;
use switchboard_store::testing::{ERASED_PERSON_TRACES, erased_person};
use switchboard_store_sqlite::{SqliteOptions, SqliteStore};

/// `table.column` of every row holding `needle` (byte for byte, also in blobs).
async fn rows_holding(pool: &SqlitePool, needle: &str) -> Vec<String> {
    let columns = sqlx::query("SELECT m.name AS t, p.name AS c FROM sqlite_schema m, pragma_table_info(m.name) p WHERE m.type = 'table'")
        .fetch_all(pool)
        .await
        .unwrap();
    let mut found = vec![];
    for column in columns {
        let (table, name): (String, String) = (column.get("t"), column.get("c"));
        let sql = format!("SELECT count(*) FROM \"{table}\" WHERE instr(CAST(\"{name}\" AS BLOB), CAST($1 AS BLOB)) > 0");
        let n: i64 = sqlx::query_scalar(&sql).bind(needle).fetch_one(pool).await.unwrap();
        if n > 0 {
            found.push(format!("{table}.{name}"));
        }
    }
    found
}

#[tokio::test]
async fn no_table_holds_anything_of_an_erased_person() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    let store = SqliteStore::open(&SqliteOptions::new(&path)).await.unwrap();
    erased_person(&store).await;
    store.close().await;

    let pool = SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    assert_eq!(rows_holding(&pool, "my passport expired").await, ["events.body"], "the scan reads what is there");
    for trace in ERASED_PERSON_TRACES {
        for needle in [trace.to_string(), search::normalize(trace)] {
            assert_eq!(rows_holding(&pool, &needle).await, Vec::<String>::new(), "{needle:?} is still stored");
        }
    }
}
