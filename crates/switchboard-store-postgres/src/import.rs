//! `switchboard db-copy`: a whole installation copied into an empty PostgreSQL database
//! in ONE transaction. Tables go in foreign-key order, rows in the source's order, every
//! value cast from text to the column's type, with user triggers off (the source already
//! holds what they derive); then the sequences are moved past the
//! copied ids, the search column is rebuilt from the messages (SQLite's FTS5 index does
//! not travel), and every table's count is compared with the source's. Any failure, or
//! an interruption, rolls everything back, so the target is empty again and the copy can
//! simply be run again (restart from scratch, never half a copy).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row as _};
use switchboard_store::{CopyError, CopyReport, Row, TableSource};
use uuid::Uuid;

use crate::PgStore;
use crate::log::search_words;
use crate::rows::{EVENT_COLUMNS, db};

/// Rows written per statement (each column is bound as one array).
const BATCH: u32 = 1000;

/// What the source may have that PostgreSQL keeps differently: SQLite's full-text index,
/// its progress, SQLite's own tables, and each backend's migration history.
fn source_only(table: &str) -> bool {
    table.starts_with("message_search") || table == "search_progress" || table.starts_with("sqlite_") || table == "_sqlx_migrations"
}

/// A column PostgreSQL derives rather than stores from the source: the search words.
fn derived(table: &str, column: &str) -> bool {
    table == "events" && column == "search"
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PgStore {
    /// Copies every table of `source` into the empty database at `url` (migrated first).
    pub async fn copy_from(url: &str, source: &dyn TableSource) -> Result<CopyReport, CopyError> {
        PgStore::migrate(url).await?;
        let options: PgConnectOptions = url.parse().map_err(db)?;
        let mut conn = PgConnection::connect_with(&options).await.map_err(db)?;
        let mut tx = conn.begin().await.map_err(db)?;
        let report = copy(&mut tx, source).await?;
        tx.commit().await.map_err(db)?;
        Ok(report)
    }
}

async fn copy(tx: &mut PgConnection, source: &dyn TableSource) -> Result<CopyReport, CopyError> {
    let tables = target_tables(tx).await?;
    // No other writer may slip rows in between the check and the commit.
    for table in tables.keys() {
        sqlx::query(&format!("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", quoted(table))).execute(&mut *tx).await.map_err(db)?;
        let any: bool =
            sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {})", quoted(table))).fetch_one(&mut *tx).await.map_err(db)?;
        if any {
            return Err(CopyError::NotEmpty { table: table.clone() });
        }
        // The source's rows already hold what triggers derive (a site's inbox): copied as
        // they are, with the triggers off until the end of the transaction.
        sqlx::query(&format!("ALTER TABLE {} DISABLE TRIGGER USER", quoted(table))).execute(&mut *tx).await.map_err(db)?;
    }
    let from: BTreeSet<String> = source.tables().await?.into_iter().collect();
    if let Some(table) = from.iter().find(|t| !source_only(t) && !tables.contains_key(*t)) {
        return Err(CopyError::UnknownTable { table: table.clone() });
    }

    let mut report = CopyReport::default();
    for table in foreign_key_order(tx, &tables).await? {
        let columns: Vec<&(String, String)> = tables[&table].iter().filter(|(c, _)| !derived(&table, c)).collect();
        let have: BTreeSet<String> = source.columns(&table).await?.into_iter().collect();
        if let Some((column, _)) = columns.iter().find(|(c, _)| !have.contains(c)) {
            return Err(CopyError::MissingColumn { table, column: column.clone() });
        }
        let names: Vec<String> = columns.iter().map(|(c, _)| c.clone()).collect();
        let sql = format!(
            "INSERT INTO {table_q} ({cols}) SELECT {casts} FROM UNNEST({params}) AS v({cols})",
            table_q = quoted(&table),
            cols = names.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", "),
            casts = columns.iter().map(|(c, ty)| format!("v.{}::{ty}", quoted(c))).collect::<Vec<_>>().join(", "),
            params = (1..=columns.len()).map(|i| format!("${i}::text[]")).collect::<Vec<_>>().join(", "),
        );
        let mut after = 0;
        loop {
            let page = source.rows_after(&table, &names, after, BATCH).await?;
            let Some((last, _)) = page.last() else { break };
            after = *last;
            let mut query = sqlx::query(&sql);
            for i in 0..names.len() {
                query = query.bind(page.iter().map(|(_, row): &(i64, Row)| row[i].clone()).collect::<Vec<Option<String>>>());
            }
            query.execute(&mut *tx).await.map_err(db)?;
        }
        let (source_rows, target_rows) = (source.count(&table).await?, count(tx, &table).await?);
        if source_rows != target_rows {
            return Err(CopyError::CountMismatch { table, source_rows, target_rows });
        }
        report.tables.push((table, target_rows));
    }
    move_sequences(tx).await?;
    report.indexed_messages = rebuild_search(tx).await?;
    for table in tables.keys() {
        sqlx::query(&format!("ALTER TABLE {} ENABLE TRIGGER USER", quoted(table))).execute(&mut *tx).await.map_err(db)?;
    }
    Ok(report)
}

/// Every table of the schema but the migration history, with its columns and their types.
async fn target_tables(tx: &mut PgConnection) -> Result<BTreeMap<String, Vec<(String, String)>>, CopyError> {
    let rows = sqlx::query(
        "SELECT c.table_name::text AS t, c.column_name::text AS c, c.udt_name::text AS ty FROM information_schema.columns c \
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name <> '_sqlx_migrations' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    let mut tables: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for r in rows {
        tables.entry(r.get("t")).or_default().push((r.get("c"), r.get("ty")));
    }
    Ok(tables)
}

/// The tables ordered so that each comes after the tables it references (a table that
/// references itself is copied in the source's row order, parents first).
async fn foreign_key_order(tx: &mut PgConnection, tables: &BTreeMap<String, Vec<(String, String)>>) -> Result<Vec<String>, CopyError> {
    let edges: Vec<(String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint \
         WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    let mut needs: BTreeMap<&str, BTreeSet<String>> = tables.keys().map(|t| (t.as_str(), BTreeSet::new())).collect();
    for (child, parent) in edges {
        let (child, parent) = (child.trim_matches('"').to_owned(), parent.trim_matches('"').to_owned());
        if child != parent
            && let Some(set) = needs.get_mut(child.as_str())
        {
            set.insert(parent);
        }
    }
    let mut order = vec![];
    while !needs.is_empty() {
        let ready: Vec<&str> =
            needs.iter().filter(|(_, deps)| deps.iter().all(|d| !needs.contains_key(d.as_str()))).map(|(t, _)| *t).collect();
        if ready.is_empty() {
            let cycle: Vec<&str> = needs.keys().copied().collect();
            return Err(CopyError::Store(switchboard_store::StoreError::Internal(
                format!("foreign keys form a cycle among {cycle:?}").into(),
            )));
        }
        for t in ready {
            needs.remove(t);
            order.push(t.to_owned());
        }
    }
    Ok(order)
}

async fn count(tx: &mut PgConnection, table: &str) -> Result<u64, CopyError> {
    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", quoted(table))).fetch_one(&mut *tx).await.map_err(db)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Moves each serial column's sequence past the largest id copied, so the next row gets
/// a new one.
async fn move_sequences(tx: &mut PgConnection) -> Result<(), CopyError> {
    let serials: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND column_default LIKE 'nextval(%'",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    for (table, column) in serials {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max({c}) FROM {t}), 0) + 1, false)",
            c = quoted(&column),
            t = quoted(&table)
        );
        sqlx::query(&sql).bind(&table).bind(&column).execute(&mut *tx).await.map_err(db)?;
    }
    Ok(())
}

/// Fills `events.search` for every message, with the words the log writes for a new one.
async fn rebuild_search(tx: &mut PgConnection) -> Result<u64, CopyError> {
    let (mut after_ws, mut after_feed, mut indexed) = (Uuid::nil(), 0i64, 0u64);
    loop {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events e WHERE e.message_id IS NOT NULL AND (e.workspace_id, e.feed_seq) > ($1, $2) \
             ORDER BY e.workspace_id, e.feed_seq LIMIT {BATCH}"
        ))
        .bind(after_ws)
        .bind(after_feed)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        if rows.is_empty() {
            return Ok(indexed);
        }
        let (mut ws, mut feed, mut words) = (vec![], vec![], vec![]);
        for row in &rows {
            let event = crate::rows::event(row)?;
            if let Some(message) = event.data.message() {
                ws.push(event.workspace_id.0);
                feed.push(event.feed_seq);
                words.push(search_words(message).join(" "));
            }
            (after_ws, after_feed) = (event.workspace_id.0, event.feed_seq);
        }
        indexed += ws.len() as u64;
        sqlx::query(
            "UPDATE events SET search = array_to_tsvector(string_to_array(v.words, ' ')) \
             FROM UNNEST($1::uuid[], $2::int8[], $3::text[]) AS v(ws, feed_seq, words) \
             WHERE events.workspace_id = v.ws AND events.feed_seq = v.feed_seq",
        )
        .bind(ws)
        .bind(feed)
        .bind(words)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
}
