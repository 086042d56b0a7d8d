//! The conversation log on SQLite: the batch writer that assigns sequence numbers
//! inside the transaction that commits them, and the conversation read it shares.
//!
//! Invariant: only the writer task appends events, one batch per transaction, so a
//! `seq` or `feed_seq` becomes visible to readers only together with everything
//! before it — a cursor can never skip a committed event.
//!
//! A batch holds the store's write connection (sqlx's pool of one) from its first read
//! to its commit, so no other write comes between what it read and what it writes. It
//! reads with a few sqlx statements (see [`switchboard_store::log`]), then writes every
//! row on its own rusqlite connection in one blocking call: prepared statements, one
//! row at a time, no round trip to another thread per statement.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{TransactionBehavior, params, params_from_iter};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_parts, author_key};
use switchboard_store::log::{self, ClientKey, LogTx, Owners, Transactions, Writes};
use switchboard_store::{Change, Committed, Result, StoreError};

use crate::rows::{self, EVENT_COLUMNS, db};

/// SQLite's limit on parameters in one statement (`SQLITE_MAX_VARIABLE_NUMBER`).
const MAX_PARAMETERS: usize = 32_766;

/// The writer's own connection, used by one batch at a time.
pub(crate) type LogConnection = Arc<Mutex<rusqlite::Connection>>;

/// Applies a batch: reads on `gate` (the store's write connection, held throughout),
/// writes in one transaction on `log`.
pub(crate) async fn apply_batch(
    gate: &mut SqliteConnection,
    log: &LogConnection,
    jobs: &[(WorkspaceId, Change)],
) -> Vec<Result<Committed>> {
    log::apply_isolated(&mut SqliteLog { gate, log }, jobs).await
}

/// Opens the writer's connection.
/// - `synchronous = NORMAL`: a commit reaches the operating system (it survives a crash
///   of the process); with `durability = "full"` the store syncs the WAL before
///   answering (`WalSync`).
/// - `wal_autocheckpoint = 0`: checkpoints run in the background, not in a commit.
/// - `temp_store = MEMORY`: the statement journals that foreign keys and the full-text
///   index need stay in memory instead of a temporary file written for every row.
/// - `cache_size`: 64 MiB, so the indexes a batch touches stay in the page cache
///   (allocated as used: an idle store does not pay for it).
pub(crate) fn open_log_connection(path: &std::path::Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).map_err(sqlite)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sqlite)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0; \
         PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;",
    )
    .map_err(sqlite)?;
    Ok(conn)
}

fn sqlite(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::*;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, DiskFull | SystemIoFailure | CannotOpen | DatabaseBusy | DatabaseLocked) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::internal(e),
    }
}

pub(crate) async fn load_conversation(conn: &mut SqliteConnection, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
    let row = sqlx::query("SELECT * FROM conversations WHERE id = $1 AND workspace_id = $2")
        .bind(id.0.to_string())
        .bind(ws.0.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::Conversation))?;
    rows::conversation(&row)
}

/// `(id1, id2, …)`.
fn push_ids<T: ToString>(q: &mut QueryBuilder<'_, Sqlite>, ids: &[T]) {
    q.push("(");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(id.to_string());
    }
    q.push(")");
}

/// The log's reads on the held write connection, and its writes on its own.
struct SqliteLog<'c> {
    gate: &'c mut SqliteConnection,
    log: &'c LogConnection,
}

impl SqliteLog<'_> {
    /// The workspace of each of `ids` found in `table`.
    async fn workspaces_of<T: ToString>(&mut self, table: &str, ids: &[T]) -> Result<Vec<(uuid::Uuid, WorkspaceId)>> {
        let mut found = vec![];
        for chunk in ids.chunks(MAX_PARAMETERS) {
            let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT id, workspace_id FROM {table} WHERE id IN "));
            push_ids(&mut q, chunk);
            for (id, ws) in q.build_query_as::<(String, String)>().fetch_all(&mut *self.gate).await.map_err(db)? {
                found.push((codec::uuid(&id)?, WorkspaceId(codec::uuid(&ws)?)));
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl Transactions for SqliteLog<'_> {
    async fn run(&mut self, jobs: &[(WorkspaceId, Change)]) -> Result<Vec<Result<Committed>>> {
        log::apply_batch(self, jobs).await
    }
}

#[async_trait]
impl LogTx for SqliteLog<'_> {
    async fn feed_seqs(&mut self, workspaces: &[WorkspaceId]) -> Result<Vec<(WorkspaceId, i64)>> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT id, feed_seq FROM workspaces WHERE id IN ");
        push_ids(&mut q, workspaces);
        let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *self.gate).await.map_err(db)?;
        rows.into_iter().map(|(id, seq)| Ok((WorkspaceId(codec::uuid(&id)?), seq))).collect()
    }

    async fn prior_messages(&mut self, keys: &[ClientKey]) -> Result<Vec<Event>> {
        let mut events = vec![];
        for chunk in keys.chunks(MAX_PARAMETERS / 3) {
            let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT {EVENT_COLUMNS} FROM ("));
            q.push_values(chunk, |mut row, k| {
                row.push_bind(k.author_key.as_str()).push_bind(k.client_id.as_str()).push_bind(k.workspace_id.0.to_string());
            });
            q.push(
                ") AS k JOIN messages m ON m.author_key = k.column1 AND m.client_id = k.column2 AND m.workspace_id = k.column3 \
                 JOIN events e ON e.conversation_id = m.conversation_id AND e.seq = m.seq",
            );
            let rows = q.build().fetch_all(&mut *self.gate).await.map_err(db)?;
            for row in &rows {
                events.push(rows::event(row)?);
            }
        }
        Ok(events)
    }

    async fn conversations(&mut self, ids: &[ConversationId]) -> Result<Vec<Conversation>> {
        let mut found = vec![];
        for chunk in ids.chunks(MAX_PARAMETERS) {
            let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM conversations WHERE id IN ");
            push_ids(&mut q, chunk);
            let rows = q.build().fetch_all(&mut *self.gate).await.map_err(db)?;
            for row in &rows {
                found.push(rows::conversation(row)?);
            }
        }
        Ok(found)
    }

    async fn owners(&mut self, sites: &[SiteId], contacts: &[ContactId]) -> Result<Owners> {
        Ok(Owners {
            sites: self.workspaces_of("sites", sites).await?.into_iter().map(|(id, ws)| (SiteId(id), ws)).collect(),
            contacts: self.workspaces_of("contacts", contacts).await?.into_iter().map(|(id, ws)| (ContactId(id), ws)).collect(),
        })
    }

    async fn write(&mut self, w: Writes) -> Result<()> {
        let log = self.log.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = log.lock().expect("log connection lock");
            write_rows(&mut conn, &w)
        })
        .await
        .map_err(StoreError::internal)?
        .map_err(sqlite)
    }
}

/// A conversation's columns as `?1` … `?23`, in the order the insert names them.
fn conversation_values(c: &Conversation) -> [Value; 23] {
    let text = |s: String| Value::Text(s);
    let time = |t: Option<Timestamp>| t.map_or(Value::Null, |t| Value::Integer(t.0));
    [
        text(c.id.0.to_string()),
        text(c.workspace_id.0.to_string()),
        text(c.site_id.0.to_string()),
        text(c.contact_id.0.to_string()),
        text(c.status.name().to_owned()),
        time(c.status.snoozed_until()),
        c.assignee_id.map_or(Value::Null, |a| text(a.0.to_string())),
        c.team_id.map_or(Value::Null, |t| text(t.0.to_string())),
        text(c.priority.as_str().to_owned()),
        text(codec::encode_labels(&c.labels)),
        Value::Integer(c.last_seq),
        Value::Integer(c.created_at.0),
        time(c.first_reply_at),
        time(c.assigned_at),
        time(c.resolved_at),
        time(c.waiting_since),
        time(c.last_message_at),
        Value::Integer(c.last_message_seq),
        Value::Integer(c.updated_at.0),
        Value::Integer(c.visitor.delivered_seq),
        Value::Integer(c.visitor.read_seq),
        Value::Integer(c.agent.delivered_seq),
        Value::Integer(c.agent.read_seq),
    ]
}

/// Writes a batch's rows in one `BEGIN IMMEDIATE` transaction, with prepared statements.
fn write_rows(conn: &mut rusqlite::Connection, w: &Writes) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !w.new_conversations.is_empty() {
        let mut insert = tx.prepare_cached(
            "INSERT INTO conversations (id, workspace_id, site_id, contact_id, status, snoozed_until, assignee_id, team_id, priority, \
             labels, last_seq, created_at, first_reply_at, assigned_at, resolved_at, waiting_since, last_message_at, last_message_seq, \
             updated_at, visitor_delivered_seq, visitor_read_seq, agent_delivered_seq, agent_read_seq) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
        )?;
        for c in &w.new_conversations {
            insert.execute(params_from_iter(conversation_values(c)))?;
        }
    }
    {
        let mut message = tx.prepare_cached(
            "INSERT INTO messages (id, workspace_id, conversation_id, seq, author_kind, author_id, author_key, client_id, kind, body, \
             format, attachments, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        // SQLite-only: the full-text index is keyed by the message's rowid.
        let mut search = tx.prepare_cached("INSERT INTO message_search (rowid, text) VALUES (?1, ?2)")?;
        for m in w.messages() {
            let (author_kind, author_id) = actor_parts(m.author);
            message.execute(params![
                m.id.0.to_string(),
                m.workspace_id.0.to_string(),
                m.conversation_id.0.to_string(),
                m.seq,
                author_kind,
                author_id.map(|i| i.to_string()),
                author_key(m.author),
                m.client_id,
                match m.kind {
                    MessageKind::Text => "text",
                    MessageKind::Note => "note",
                },
                m.body,
                m.format.as_str(),
                codec::encode_attachments(&m.attachments),
                m.created_at.0,
            ])?;
            let text = std::iter::once(m.body.as_str()).chain(m.attachments.iter().map(|a| a.filename.as_str()));
            search.execute(params![tx.last_insert_rowid(), search::normalize(&text.collect::<Vec<_>>().join(" "))])?;
        }
    }
    {
        let mut event = tx.prepare_cached(
            "INSERT INTO events (workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, message_id, data, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for e in &w.events {
            let (actor_kind, actor_id) = actor_parts(e.actor);
            let message_id = match &e.data {
                EventData::Message(m) => Some(m.id.0.to_string()),
                _ => None,
            };
            event.execute(params![
                e.workspace_id.0.to_string(),
                e.feed_seq,
                e.conversation_id.0.to_string(),
                e.seq,
                e.data.kind(),
                match e.visibility() {
                    Visibility::Everyone => "everyone",
                    Visibility::Agents => "agents",
                },
                actor_kind,
                actor_id.map(|i| i.to_string()),
                message_id,
                codec::encode_event_data(&e.data),
                e.at.0,
            ])?;
        }
    }
    if !w.changed_conversations.is_empty() {
        // The same parameters as the insert; every column a change can move is set.
        let mut save = tx.prepare_cached(
            "UPDATE conversations SET status = ?5, snoozed_until = ?6, assignee_id = ?7, team_id = ?8, priority = ?9, labels = ?10, \
             last_seq = ?11, first_reply_at = ?13, assigned_at = ?14, resolved_at = ?15, waiting_since = ?16, last_message_at = ?17, \
             last_message_seq = ?18, updated_at = ?19, visitor_delivered_seq = ?20, visitor_read_seq = ?21, agent_delivered_seq = ?22, \
             agent_read_seq = ?23 WHERE id = ?1",
        )?;
        for c in &w.changed_conversations {
            save.execute(params_from_iter(conversation_values(c)))?;
        }
    }
    {
        let mut feed = tx.prepare_cached("UPDATE workspaces SET feed_seq = ?2 WHERE id = ?1")?;
        for (ws, seq) in &w.feed_seqs {
            feed.execute(params![ws.0.to_string(), seq])?;
        }
    }
    tx.commit()
}
