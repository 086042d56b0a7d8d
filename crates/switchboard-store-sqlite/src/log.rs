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
use rusqlite::{TransactionBehavior, params};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_parts, author_key};
use switchboard_store::log::{self, ClientKey, LogTx, Owners, Writes};
use switchboard_store::{Change, Committed, Result, StoreError};

use crate::rows::{self, EVENT_COLUMNS, db};

/// SQLite's limit on parameters in one statement (`SQLITE_MAX_VARIABLE_NUMBER`).
const MAX_PARAMETERS: usize = 32_766;

/// The writer's own connection, used by one batch at a time.
pub(crate) type LogConnection = Arc<Mutex<rusqlite::Connection>>;

/// Applies a batch: reads on `gate` (the store's write connection, held throughout),
/// writes in one transaction on `log`. If the database refuses the batch, its changes
/// are tried again one transaction each, so one refused change fails alone.
pub(crate) async fn apply_batch(
    gate: &mut SqliteConnection,
    log: &LogConnection,
    jobs: &[(WorkspaceId, Change)],
) -> Vec<Result<Committed>> {
    match log::apply_batch(&mut SqliteLog { gate: &mut *gate, log }, jobs).await {
        Ok(results) => results,
        Err(e) if jobs.len() > 1 && !matches!(e, StoreError::Unavailable(_)) => {
            tracing::warn!(error = %e, batch = jobs.len(), "batch refused; applying its changes one by one");
            let mut results = Vec::with_capacity(jobs.len());
            for job in jobs {
                let one = log::apply_batch(&mut SqliteLog { gate: &mut *gate, log }, std::slice::from_ref(job)).await;
                results.push(one.and_then(|mut r| r.pop().expect("one result per job")));
            }
            results
        }
        Err(e) if jobs.len() == 1 => vec![Err(e)],
        Err(e) => {
            tracing::error!(error = %e, batch = jobs.len(), "commit of a batch failed");
            jobs.iter().map(|_| Err(StoreError::Unavailable(e.to_string()))).collect()
        }
    }
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

/// Multi-row statements of `columns` parameters per row, cut where SQLite's limit on
/// parameters requires.
fn chunks<T>(rows: &[T], columns: usize) -> std::slice::Chunks<'_, T> {
    rows.chunks(MAX_PARAMETERS / columns)
}

/// The log's reads on the held write connection, and its writes on its own.
struct SqliteLog<'c> {
    gate: &'c mut SqliteConnection,
    log: &'c LogConnection,
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
        for chunk in chunks(keys, 3) {
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
        let mut owners = Owners::default();
        for chunk in sites.chunks(MAX_PARAMETERS) {
            let mut q = QueryBuilder::<Sqlite>::new("SELECT id, workspace_id FROM sites WHERE id IN ");
            push_ids(&mut q, chunk);
            for (id, ws) in q.build_query_as::<(String, String)>().fetch_all(&mut *self.gate).await.map_err(db)? {
                owners.sites.insert(SiteId(codec::uuid(&id)?), WorkspaceId(codec::uuid(&ws)?));
            }
        }
        for chunk in contacts.chunks(MAX_PARAMETERS) {
            let mut q = QueryBuilder::<Sqlite>::new("SELECT id, workspace_id FROM contacts WHERE id IN ");
            push_ids(&mut q, chunk);
            for (id, ws) in q.build_query_as::<(String, String)>().fetch_all(&mut *self.gate).await.map_err(db)? {
                owners.contacts.insert(ContactId(codec::uuid(&id)?), WorkspaceId(codec::uuid(&ws)?));
            }
        }
        Ok(owners)
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
            insert.execute(params![
                c.id.0.to_string(),
                c.workspace_id.0.to_string(),
                c.site_id.0.to_string(),
                c.contact_id.0.to_string(),
                c.status.name(),
                c.status.snoozed_until().map(|t| t.0),
                c.assignee_id.map(|a| a.0.to_string()),
                c.team_id.map(|t| t.0.to_string()),
                c.priority.as_str(),
                codec::encode_labels(&c.labels),
                c.last_seq,
                c.created_at.0,
                c.first_reply_at.map(|t| t.0),
                c.assigned_at.map(|t| t.0),
                c.resolved_at.map(|t| t.0),
                c.waiting_since.map(|t| t.0),
                c.last_message_at.map(|t| t.0),
                c.last_message_seq,
                c.updated_at.0,
                c.visitor.delivered_seq,
                c.visitor.read_seq,
                c.agent.delivered_seq,
                c.agent.read_seq,
            ])?;
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
        // Every column a change can move; the rest never change.
        let mut save = tx.prepare_cached(
            "UPDATE conversations SET status = ?2, snoozed_until = ?3, assignee_id = ?4, team_id = ?5, priority = ?6, labels = ?7, \
             last_seq = ?8, first_reply_at = ?9, assigned_at = ?10, resolved_at = ?11, waiting_since = ?12, last_message_at = ?13, \
             updated_at = ?14, visitor_delivered_seq = ?15, visitor_read_seq = ?16, agent_delivered_seq = ?17, agent_read_seq = ?18, \
             last_message_seq = ?19 WHERE id = ?1",
        )?;
        for c in &w.changed_conversations {
            save.execute(params![
                c.id.0.to_string(),
                c.status.name(),
                c.status.snoozed_until().map(|t| t.0),
                c.assignee_id.map(|a| a.0.to_string()),
                c.team_id.map(|t| t.0.to_string()),
                c.priority.as_str(),
                codec::encode_labels(&c.labels),
                c.last_seq,
                c.first_reply_at.map(|t| t.0),
                c.assigned_at.map(|t| t.0),
                c.resolved_at.map(|t| t.0),
                c.waiting_since.map(|t| t.0),
                c.last_message_at.map(|t| t.0),
                c.updated_at.0,
                c.visitor.delivered_seq,
                c.visitor.read_seq,
                c.agent.delivered_seq,
                c.agent.read_seq,
                c.last_message_seq,
            ])?;
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
