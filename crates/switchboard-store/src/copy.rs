//! Moving a whole installation to another backend (`switchboard db-copy`): a source
//! hands over its tables row by row, as text, and a target backend writes them, rebuilds
//! what it derives (the search index, its sequences) and checks the counts. Both
//! backends' schemas have the same tables and columns (a test of the PostgreSQL crate
//! keeps them so), which is what lets the copy be generic.

use async_trait::async_trait;

use crate::{Result, StoreError};

/// One row: each column's value as text (integers and booleans as their digits), NULL
/// as `None`.
pub type Row = Vec<Option<String>>;

/// A backend's tables, read consistently, for a copy.
#[async_trait]
pub trait TableSource: Send + Sync {
    /// Every table of the schema (the backend's own bookkeeping tables included).
    async fn tables(&self) -> Result<Vec<String>>;
    async fn columns(&self, table: &str) -> Result<Vec<String>>;
    async fn count(&self, table: &str) -> Result<u64>;
    /// Up to `limit` rows after the position `after` (0: from the start), in a stable
    /// order, each with its position.
    async fn rows_after(&self, table: &str, columns: &[String], after: i64, limit: u32) -> Result<Vec<(i64, Row)>>;
}

/// What a finished copy wrote: rows per table, as counted in the target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: Vec<(String, u64)>,
    /// Messages whose search entry was rebuilt.
    pub indexed_messages: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "the target database is not empty (table {table} has rows): db-copy only fills an empty database. \
         Point --to at a new database (CREATE DATABASE …), or drop this one's tables if it holds nothing you need"
    )]
    NotEmpty { table: String },
    #[error("the source has table {table}, which the target's schema lacks: is this binary older than the data?")]
    UnknownTable { table: String },
    #[error("column {table}.{column} is missing from the source: migrate the source first (`switchboard migrate`)")]
    MissingColumn { table: String, column: String },
    #[error("table {table}: the source has {source_rows} rows but the target {target_rows} after the copy; nothing was kept")]
    CountMismatch { table: String, source_rows: u64, target_rows: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}
