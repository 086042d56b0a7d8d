//! A SQLite installation read whole, table by table, for `switchboard db-copy`
//! ([`TableSource`]): one connection holding one read transaction, so every table comes
//! from the same moment, in rowid order, each value as text.

use std::path::Path;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row as _};
use switchboard_store::{Result, Row, StoreError, TableSource};
use tokio::sync::Mutex;

use crate::SqliteStore;
use crate::rows::db;

/// The tables of one SQLite database file, as of when it was opened.
pub struct SqliteSource {
    conn: Mutex<SqliteConnection>,
}

impl SqliteSource {
    /// Brings the file's schema up to date (as `switchboard migrate` does), then opens it
    /// read-only in one read transaction. The file must exist.
    pub async fn open(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(StoreError::Unavailable(format!("no SQLite database at {}", path.display())));
        }
        SqliteStore::migrate(path).await?;
        let options = SqliteConnectOptions::new().filename(path).read_only(true);
        let mut conn = SqliteConnection::connect_with(&options).await.map_err(db)?;
        sqlx::query("BEGIN").execute(&mut conn).await.map_err(db)?;
        // A deferred transaction takes its snapshot at its first read.
        sqlx::query("SELECT count(*) FROM sqlite_schema").execute(&mut conn).await.map_err(db)?;
        Ok(Self { conn: Mutex::new(conn) })
    }
}

/// `"name"`, for a table or column name read from the schema.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[async_trait]
impl TableSource for SqliteSource {
    async fn tables(&self) -> Result<Vec<String>> {
        let mut conn = self.conn.lock().await;
        sqlx::query_scalar("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").fetch_all(&mut *conn).await.map_err(db)
    }

    async fn columns(&self, table: &str) -> Result<Vec<String>> {
        let mut conn = self.conn.lock().await;
        sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid").bind(table).fetch_all(&mut *conn).await.map_err(db)
    }

    async fn count(&self, table: &str) -> Result<u64> {
        let mut conn = self.conn.lock().await;
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", quoted(table))).fetch_one(&mut *conn).await.map_err(db)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn rows_after(&self, table: &str, columns: &[String], after: i64, limit: u32) -> Result<Vec<(i64, Row)>> {
        let values: Vec<String> = columns.iter().map(|c| format!("CAST({} AS TEXT)", quoted(c))).collect();
        let sql = format!("SELECT rowid, {} FROM {} WHERE rowid > $1 ORDER BY rowid LIMIT $2", values.join(", "), quoted(table));
        let mut conn = self.conn.lock().await;
        let rows = sqlx::query(&sql).bind(after).bind(i64::from(limit)).fetch_all(&mut *conn).await.map_err(db)?;
        rows.iter()
            .map(|r| {
                let rowid: i64 = r.try_get(0).map_err(db)?;
                let row = (1..=columns.len()).map(|i| r.try_get::<Option<String>, _>(i).map_err(db)).collect::<Result<Row>>()?;
                Ok((rowid, row))
            })
            .collect()
    }
}
