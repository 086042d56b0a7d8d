//! The conversation log on SQLite: the batch writer that assigns sequence numbers
//! inside the transaction that commits them, and the conversation read it shares.
//!
//! Invariant: only the writer task appends events, one batch per transaction, so a
//! `seq` or `feed_seq` becomes visible to readers only together with everything
//! before it — a cursor can never skip a committed event.
//!
//! A batch is one blocking call on the log's own rusqlite connection: `BEGIN IMMEDIATE`,
//! the reads [`switchboard_store::log`] asks for (point lookups with prepared
//! statements), the rows it plans, `COMMIT`. No statement crosses to another thread.
//! The caller holds the store's sqlx write connection meanwhile, so the store's other
//! writes queue there instead of spinning on SQLite's busy handler.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::FutureExt as _;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension as _, params, params_from_iter};
use sqlx::SqliteConnection;
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_parts, author_key};
use switchboard_store::log::{self, ClientKey, LogTx, Owners, Transactions, Writes};
use switchboard_store::{Change, Committed, Result, StoreError};

use crate::rows::{self, EVENT_COLUMNS, db};

/// The writer's own connection, used by one batch at a time.
pub(crate) type LogConnection = Arc<Mutex<LogState>>;

pub(crate) struct LogState {
    pub(crate) conn: rusqlite::Connection,
    cache: Cache,
}

impl LogState {
    pub(crate) fn new(conn: rusqlite::Connection) -> Self {
        Self { conn, cache: Cache::default() }
    }

    /// Forgets what the writer remembers of conversations and feeds. Called by a write
    /// of the store's that changes conversations itself (an agent or a team deleted
    /// clears their assignments), while it holds the store's write connection.
    pub(crate) fn forget(&mut self) {
        self.cache = Cache::default();
    }
}

/// Conversations held in [`Cache`] before it starts over.
const CACHED_CONVERSATIONS: usize = 16_384;

/// What the log's writer knows of the database without reading it: the committed state
/// of the conversations and feed counters it read or wrote last. Only the writer changes
/// them (see [`LogState::forget`] for the exceptions), so a batch of messages into
/// conversations it has seen reads nothing but the retry keys. Any failed transaction
/// clears it.
#[derive(Default)]
struct Cache {
    conversations: HashMap<ConversationId, Conversation>,
    feed_seqs: HashMap<WorkspaceId, i64>,
}

/// Applies a batch on `log`, blocking the calling thread (the log's writer thread). The
/// caller holds the store's write connection until this returns.
pub(crate) fn apply_batch(log: &LogConnection, jobs: &[(WorkspaceId, Change)]) -> Vec<Result<Committed>> {
    let mut state = log.lock().expect("log connection lock");
    let LogState { conn, cache } = &mut *state;
    if cache.conversations.len() > CACHED_CONVERSATIONS {
        cache.conversations.clear();
    }
    let mut batch = SqliteLog { conn, cache, written: None };
    log::apply_isolated(&mut batch, jobs).now_or_never().expect("the SQLite log never waits")
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
/// - `journal_size_limit`: when the WAL starts over, the file is cut back to 64 MiB.
pub(crate) fn open_log_connection(path: &std::path::Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).map_err(sqlite)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sqlite)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0; \
         PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA journal_size_limit = 67108864;",
    )
    .map_err(sqlite)?;
    // Every statement of a batch, and an update for each set of columns changes move.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Messages indexed per transaction by [`index_messages`]: small, so a log batch never
/// waits long behind one.
pub(crate) const INDEX_CHUNK: usize = 128;

/// Adds up to [`INDEX_CHUNK`] of the messages stored since the last call to the
/// full-text index (SQLite only; keyed by the message's rowid), in one transaction on the
/// log connection. The caller holds the store's write connection. Returns how many.
pub(crate) fn index_messages(log: &LogConnection) -> Result<usize> {
    let mut state = log.lock().expect("log connection lock");
    let tx = state.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(sqlite)?;
    let done: i64 = tx.query_row("SELECT indexed_rowid FROM search_progress WHERE id = 1", [], |r| r.get(0)).map_err(sqlite)?;
    let mut pending = vec![];
    {
        let mut unindexed = tx
            .prepare_cached("SELECT rowid, workspace_id, body, attachments FROM events WHERE rowid > ?1 AND message_id IS NOT NULL ORDER BY rowid LIMIT ?2")
            .map_err(sqlite)?;
        let mut rows = unindexed.query(params![done, INDEX_CHUNK as i64]).map_err(sqlite)?;
        while let Some(row) = rows.next().map_err(sqlite)? {
            let ws = WorkspaceId(codec::uuid(&row.get::<_, String>(1).map_err(sqlite)?)?);
            let attachments = codec::decode_attachments(ws, &row.get::<_, String>(3).map_err(sqlite)?)?;
            let body: String = row.get(2).map_err(sqlite)?;
            pending.push((row.get::<_, i64>(0).map_err(sqlite)?, search::message_text(&body, &attachments)));
        }
    }
    let Some(&(last, _)) = pending.last() else { return Ok(0) };
    {
        let mut insert = tx.prepare_cached("INSERT INTO message_search (rowid, text) VALUES (?1, ?2)").map_err(sqlite)?;
        for (rowid, text) in &pending {
            insert.execute(params![rowid, text]).map_err(sqlite)?;
        }
    }
    tx.execute("UPDATE search_progress SET indexed_rowid = ?1 WHERE id = 1", [last]).map_err(sqlite)?;
    tx.commit().map_err(sqlite)?;
    Ok(pending.len())
}

/// Checkpoints the WAL on the log connection, which no batch uses meanwhile, so the
/// checkpoint reaches the WAL's end (unless a reader still needs its older frames) and
/// the next batch writes the WAL from its start.
pub(crate) fn finish_checkpoint(log: &LogConnection) -> Result<()> {
    let state = log.lock().expect("log connection lock");
    state.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).map_err(sqlite)
}

pub(crate) fn sqlite(e: rusqlite::Error) -> StoreError {
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

/// A batch's transaction on the log connection. Its methods never wait: they run
/// SQLite on the calling (blocking) thread.
struct SqliteLog<'c> {
    conn: &'c mut rusqlite::Connection,
    cache: &'c mut Cache,
    /// What the transaction wrote, for the cache once it has committed.
    written: Option<Writes>,
}

impl SqliteLog<'_> {
    /// The workspace of each of `ids` found in `table`.
    fn workspaces_of<T: ToString + Copy>(&self, table: &str, ids: &[T]) -> Result<Vec<(T, WorkspaceId)>> {
        let mut owner = self.conn.prepare_cached(&format!("SELECT workspace_id FROM {table} WHERE id = ?1")).map_err(sqlite)?;
        let mut found = vec![];
        for id in ids {
            if let Some(ws) = owner.query_row([id.to_string()], |row| row.get::<_, String>(0)).optional().map_err(sqlite)? {
                found.push((*id, WorkspaceId(codec::uuid(&ws)?)));
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl Transactions for SqliteLog<'_> {
    async fn run(&mut self, jobs: &[(WorkspaceId, Change)]) -> Result<Vec<Result<Committed>>> {
        self.written = None;
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(sqlite)?;
        let outcome = match log::apply_batch(self, jobs).await {
            Ok(results) => self.conn.execute_batch("COMMIT").map(|()| results).map_err(sqlite),
            Err(e) => Err(e),
        };
        match &outcome {
            Ok(_) => {
                if let Some(w) = self.written.take() {
                    let conversations = w.new_conversations.into_iter().chain(w.changed_conversations);
                    self.cache.conversations.extend(conversations.map(|c| (c.id, c)));
                    self.cache.feed_seqs.extend(w.feed_seqs);
                }
            }
            Err(_) => {
                // What was read may have been written since, by whatever made this fail.
                *self.cache = Cache::default();
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
            }
        }
        outcome
    }
}

#[async_trait]
impl LogTx for SqliteLog<'_> {
    async fn feed_seqs(&mut self, workspaces: &[WorkspaceId]) -> Result<Vec<(WorkspaceId, i64)>> {
        let mut found = vec![];
        for ws in workspaces {
            if let Some(&seq) = self.cache.feed_seqs.get(ws) {
                found.push((*ws, seq));
                continue;
            }
            let mut feed = self.conn.prepare_cached("SELECT feed_seq FROM workspaces WHERE id = ?1").map_err(sqlite)?;
            if let Some(seq) = feed.query_row([IdText::new(ws.0)], |row| row.get(0)).optional().map_err(sqlite)? {
                self.cache.feed_seqs.insert(*ws, seq);
                found.push((*ws, seq));
            }
        }
        Ok(found)
    }

    async fn prior_messages(&mut self, keys: &[ClientKey]) -> Result<Vec<Event>> {
        let mut prior = self
            .conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE e.author_key = ?1 AND e.client_id = ?2 AND e.workspace_id = ?3"
            ))
            .map_err(sqlite)?;
        let mut events = vec![];
        for k in keys {
            let mut rows = prior.query(params![k.author_key, k.client_id, IdText::new(k.workspace_id.0)]).map_err(sqlite)?;
            while let Some(row) = rows.next().map_err(sqlite)? {
                events.push(rows::event(row)?);
            }
        }
        Ok(events)
    }

    async fn conversations(&mut self, ids: &[ConversationId]) -> Result<Vec<Conversation>> {
        let mut found = vec![];
        for id in ids {
            if let Some(c) = self.cache.conversations.get(id) {
                found.push(c.clone());
                continue;
            }
            let mut one = self.conn.prepare_cached("SELECT * FROM conversations WHERE id = ?1").map_err(sqlite)?;
            let mut rows = one.query([IdText::new(id.0)]).map_err(sqlite)?;
            if let Some(row) = rows.next().map_err(sqlite)? {
                let c = rows::conversation(row)?;
                self.cache.conversations.insert(c.id, c.clone());
                found.push(c);
            }
        }
        Ok(found)
    }

    async fn owners(&mut self, sites: &[SiteId], contacts: &[ContactId]) -> Result<Owners> {
        Ok(Owners {
            sites: self.workspaces_of("sites", sites)?.into_iter().collect(),
            contacts: self.workspaces_of("contacts", contacts)?.into_iter().collect(),
        })
    }

    async fn open_chats(&mut self, agents: &[AgentId]) -> Result<Vec<(AgentId, i64)>> {
        // The single writer serialises every batch, so the count cannot move under it.
        let mut count = self
            .conn
            .prepare_cached("SELECT count(*) FROM conversations WHERE assignee_id = ?1 AND status IN ('open', 'pending')")
            .map_err(sqlite)?;
        let mut found = vec![];
        for agent in agents {
            found.push((*agent, count.query_row([IdText::new(agent.0)], |row| row.get(0)).map_err(sqlite)?));
        }
        Ok(found)
    }

    async fn write(&mut self, w: Writes) -> Result<()> {
        // The cache still holds every conversation as the batch read it (it takes the
        // batch's writes only once they are committed): an update writes what moved.
        write_rows(self.conn, &self.cache.conversations, &w).map_err(sqlite)?;
        self.written = Some(w);
        Ok(())
    }
}

/// The columns of `conversations`, in the order of [`conversation_values`].
const CONVERSATION_COLUMNS: [&str; 29] = [
    "id",
    "workspace_id",
    "site_id",
    "inbox_id",
    "inbox_kind",
    "contact_id",
    "status",
    "snoozed_until",
    "assignee_id",
    "team_id",
    "priority",
    "labels",
    "last_seq",
    "created_at",
    "first_reply_at",
    "assigned_at",
    "resolved_at",
    "waiting_since",
    "last_message_at",
    "last_message_seq",
    "updated_at",
    "visitor_delivered_seq",
    "visitor_read_seq",
    "agent_delivered_seq",
    "agent_read_seq",
    "rating_score",
    "rating_comment",
    "rated_at",
    "queued_at",
];

/// A conversation's columns as `?1` … `?29`, in the order the insert names them.
fn conversation_values(c: &Conversation) -> [Value; 29] {
    let (score, comment, rated_at) = codec::rating_parts(c.rating.as_ref());
    let text = |s: String| Value::Text(s);
    let time = |t: Option<Timestamp>| t.map_or(Value::Null, |t| Value::Integer(t.0));
    [
        text(c.id.0.to_string()),
        text(c.workspace_id.0.to_string()),
        text(c.site_id.0.to_string()),
        text(c.inbox_id.0.to_string()),
        text(c.inbox_kind.name().to_owned()),
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
        score.map_or(Value::Null, Value::Integer),
        comment.map_or(Value::Null, |c| text(c.to_owned())),
        rated_at.map_or(Value::Null, Value::Integer),
        time(c.queued_at),
    ]
}

/// An id bound as its text (the form every table stores) without allocating one.
struct IdText([u8; uuid::fmt::Hyphenated::LENGTH]);

impl IdText {
    fn new(id: uuid::Uuid) -> Self {
        let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
        id.hyphenated().encode_lower(&mut text);
        Self(text)
    }
}

impl rusqlite::ToSql for IdText {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(&self.0)))
    }
}

/// Writes a batch's rows into the open transaction, with prepared statements.
fn write_rows(conn: &rusqlite::Connection, read: &HashMap<ConversationId, Conversation>, w: &Writes) -> rusqlite::Result<()> {
    if !w.new_conversations.is_empty() {
        let mut insert = conn.prepare_cached(&format!(
            "INSERT INTO conversations ({}) VALUES ({})",
            CONVERSATION_COLUMNS.join(", "),
            (1..=CONVERSATION_COLUMNS.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
        ))?;
        for c in &w.new_conversations {
            insert.execute(params_from_iter(conversation_values(c)))?;
        }
    }
    {
        // A message is stored in its event's row.
        let mut event = conn.prepare_cached(
            "INSERT INTO events (workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, data, at, \
             message_id, client_id, author_key, body, format, attachments) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?;
        for e in &w.events {
            let (actor_kind, actor_id) = actor_parts(e.actor);
            let message = e.data.message();
            event.execute(params![
                IdText::new(e.workspace_id.0),
                e.feed_seq,
                IdText::new(e.conversation_id.0),
                e.seq,
                e.data.kind(),
                match e.visibility() {
                    Visibility::Everyone => "everyone",
                    Visibility::Agents => "agents",
                },
                actor_kind,
                actor_id.map(IdText::new),
                codec::encode_event_data(&e.data),
                e.at.0,
                message.map(|m| IdText::new(m.id.0)),
                message.and_then(|m| m.client_id.as_deref()),
                message.map(|m| author_key(m.author)),
                message.map(|m| m.body.as_str()),
                message.map(|m| m.format.as_str()),
                message.map(|m| codec::encode_attachments(&m.attachments)),
            ])?;
        }
    }
    for c in &w.changed_conversations {
        update_conversation(conn, read.get(&c.id), c)?;
    }
    {
        let mut feed = conn.prepare_cached("UPDATE workspaces SET feed_seq = ?2 WHERE id = ?1")?;
        for (ws, seq) in &w.feed_seqs {
            feed.execute(params![IdText::new(ws.0), seq])?;
        }
    }
    Ok(())
}

/// Saves the columns of `after` that differ from `before` (all of them if the batch did
/// not read it). SQLite maintains only the indexes, and checks only the foreign keys, of
/// the columns an `UPDATE` sets: a message moves four or five columns of 25, and leaves
/// the site, assignee and team indexes alone.
fn update_conversation(conn: &rusqlite::Connection, before: Option<&Conversation>, after: &Conversation) -> rusqlite::Result<()> {
    let new = conversation_values(after);
    let old = before.map(conversation_values);
    let mut sql = String::from("UPDATE conversations SET ");
    let mut values = vec![new[0].clone()];
    for (i, value) in new.iter().enumerate().skip(1) {
        if old.as_ref().is_some_and(|old| old[i] == *value) {
            continue;
        }
        values.push(value.clone());
        let _ = write!(sql, "{}{} = ?{}", if values.len() > 2 { ", " } else { "" }, CONVERSATION_COLUMNS[i], values.len());
    }
    if values.len() == 1 {
        return Ok(());
    }
    sql.push_str(" WHERE id = ?1");
    conn.prepare_cached(&sql)?.execute(params_from_iter(values))?;
    Ok(())
}
