//! The conversation log on SQLite: the batch writer that assigns sequence numbers
//! inside the transaction that commits them, and the conversation read it shares.
//!
//! Invariant: only the writer task appends events, one batch per transaction, so a
//! `seq` or `feed_seq` becomes visible to readers only together with everything
//! before it — a cursor can never skip a committed event.
//!
//! A batch is a fixed number of statements (see [`switchboard_store::log`]): each
//! statement is a round trip to sqlx's connection thread, so their number per batch,
//! not per change, is what sets the writer's rate.

use async_trait::async_trait;
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_parts, author_key};
use switchboard_store::log::{self, ClientKey, LogTx, Owners, Writes};
use switchboard_store::{Change, Committed, Result, StoreError};

use crate::rows::{self, EVENT_COLUMNS, db};

/// SQLite's limit on parameters in one statement (`SQLITE_MAX_VARIABLE_NUMBER`).
const MAX_PARAMETERS: usize = 32_766;

/// Applies a batch in one `BEGIN IMMEDIATE` transaction. If the transaction fails, the
/// changes are tried again one transaction each, so one change that the database
/// refuses does not take the others down with it.
pub(crate) async fn apply_batch(conn: &mut SqliteConnection, jobs: &[(WorkspaceId, Change)]) -> Vec<Result<Committed>> {
    match transaction(conn, jobs).await {
        Ok(results) => results,
        Err(e) if jobs.len() > 1 && !matches!(e, StoreError::Unavailable(_)) => {
            tracing::warn!(error = %e, batch = jobs.len(), "batch refused; applying its changes one by one");
            let mut results = Vec::with_capacity(jobs.len());
            for job in jobs {
                results.push(transaction(conn, std::slice::from_ref(job)).await.and_then(|mut r| r.pop().expect("one result per job")));
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

async fn transaction(conn: &mut SqliteConnection, jobs: &[(WorkspaceId, Change)]) -> Result<Vec<Result<Committed>>> {
    // IMMEDIATE: the batch reads before it writes, and must not find the database
    // changed by another connection in between.
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await.map_err(db)?;
    let outcome = log::apply_batch(&mut SqliteLog(conn), jobs).await;
    let end = if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = sqlx::query(end).execute(&mut *conn).await.map_err(db);
    let results = outcome?;
    ended?;
    Ok(results)
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

const CONVERSATION_COLUMNS: &str = "(id, workspace_id, site_id, contact_id, status, snoozed_until, assignee_id, team_id, priority, \
     labels, last_seq, created_at, first_reply_at, assigned_at, resolved_at, waiting_since, last_message_at, last_message_seq, \
     updated_at, visitor_delivered_seq, visitor_read_seq, agent_delivered_seq, agent_read_seq) ";

fn push_conversation(mut row: Separated<'_, '_, Sqlite, &'static str>, c: &Conversation) {
    row.push_bind(c.id.0.to_string())
        .push_bind(c.workspace_id.0.to_string())
        .push_bind(c.site_id.0.to_string())
        .push_bind(c.contact_id.0.to_string())
        .push_bind(c.status.name())
        .push_bind(c.status.snoozed_until().map(|t| t.0))
        .push_bind(c.assignee_id.map(|a| a.0.to_string()))
        .push_bind(c.team_id.map(|t| t.0.to_string()))
        .push_bind(c.priority.as_str())
        .push_bind(codec::encode_labels(&c.labels))
        .push_bind(c.last_seq)
        .push_bind(c.created_at.0)
        .push_bind(c.first_reply_at.map(|t| t.0))
        .push_bind(c.assigned_at.map(|t| t.0))
        .push_bind(c.resolved_at.map(|t| t.0))
        .push_bind(c.waiting_since.map(|t| t.0))
        .push_bind(c.last_message_at.map(|t| t.0))
        .push_bind(c.last_message_seq)
        .push_bind(c.updated_at.0)
        .push_bind(c.visitor.delivered_seq)
        .push_bind(c.visitor.read_seq)
        .push_bind(c.agent.delivered_seq)
        .push_bind(c.agent.read_seq);
}

/// The log's reads and writes on the batch's SQLite connection.
struct SqliteLog<'c>(&'c mut SqliteConnection);

impl SqliteLog<'_> {
    async fn execute(&mut self, mut q: QueryBuilder<'_, Sqlite>) -> Result<()> {
        q.build().execute(&mut *self.0).await.map_err(db)?;
        Ok(())
    }

    async fn insert_conversations(&mut self, conversations: &[Conversation], upsert: bool) -> Result<()> {
        for chunk in chunks(conversations, 23) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO conversations ");
            q.push(CONVERSATION_COLUMNS).push_values(chunk, push_conversation);
            if upsert {
                // Every column a change can move; the rest never change.
                q.push(
                    " ON CONFLICT (id) DO UPDATE SET status = excluded.status, snoozed_until = excluded.snoozed_until, \
                     assignee_id = excluded.assignee_id, team_id = excluded.team_id, priority = excluded.priority, \
                     labels = excluded.labels, last_seq = excluded.last_seq, first_reply_at = excluded.first_reply_at, \
                     assigned_at = excluded.assigned_at, resolved_at = excluded.resolved_at, waiting_since = excluded.waiting_since, \
                     last_message_at = excluded.last_message_at, last_message_seq = excluded.last_message_seq, \
                     updated_at = excluded.updated_at, visitor_delivered_seq = excluded.visitor_delivered_seq, \
                     visitor_read_seq = excluded.visitor_read_seq, agent_delivered_seq = excluded.agent_delivered_seq, \
                     agent_read_seq = excluded.agent_read_seq",
                );
            }
            self.execute(q).await?;
        }
        Ok(())
    }

    async fn insert_messages(&mut self, messages: &[&Message]) -> Result<()> {
        for chunk in chunks(messages, 13) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO messages (id, workspace_id, conversation_id, seq, author_kind, author_id, author_key, client_id, kind, \
                 body, format, attachments, created_at) ",
            );
            q.push_values(chunk, |mut row, m| {
                let (author_kind, author_id) = actor_parts(m.author);
                row.push_bind(m.id.0.to_string())
                    .push_bind(m.workspace_id.0.to_string())
                    .push_bind(m.conversation_id.0.to_string())
                    .push_bind(m.seq)
                    .push_bind(author_kind)
                    .push_bind(author_id.map(|i| i.to_string()))
                    .push_bind(author_key(m.author))
                    .push_bind(m.client_id.as_deref())
                    .push_bind(match m.kind {
                        MessageKind::Text => "text",
                        MessageKind::Note => "note",
                    })
                    .push_bind(m.body.as_str())
                    .push_bind(m.format.as_str())
                    .push_bind(codec::encode_attachments(&m.attachments))
                    .push_bind(m.created_at.0);
            });
            self.execute(q).await?;
        }
        // SQLite-only: the full-text index is keyed by the messages' rowids.
        for chunk in chunks(messages, 2) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO message_search (rowid, text) SELECT m.rowid, v.column2 FROM (");
            q.push_values(chunk, |mut row, m| {
                let text = std::iter::once(m.body.as_str()).chain(m.attachments.iter().map(|a| a.filename.as_str()));
                row.push_bind(m.id.0.to_string()).push_bind(search::normalize(&text.collect::<Vec<_>>().join(" ")));
            });
            q.push(") AS v JOIN messages m ON m.id = v.column1");
            self.execute(q).await?;
        }
        Ok(())
    }

    async fn insert_events(&mut self, events: &[Event]) -> Result<()> {
        for chunk in chunks(events, 11) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO events (workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, message_id, \
                 data, at) ",
            );
            q.push_values(chunk, |mut row, e| {
                let (actor_kind, actor_id) = actor_parts(e.actor);
                let message_id = match &e.data {
                    EventData::Message(m) => Some(m.id.0.to_string()),
                    _ => None,
                };
                row.push_bind(e.workspace_id.0.to_string())
                    .push_bind(e.feed_seq)
                    .push_bind(e.conversation_id.0.to_string())
                    .push_bind(e.seq)
                    .push_bind(e.data.kind())
                    .push_bind(match e.visibility() {
                        Visibility::Everyone => "everyone",
                        Visibility::Agents => "agents",
                    })
                    .push_bind(actor_kind)
                    .push_bind(actor_id.map(|i| i.to_string()))
                    .push_bind(message_id)
                    .push_bind(codec::encode_event_data(&e.data))
                    .push_bind(e.at.0);
            });
            self.execute(q).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl LogTx for SqliteLog<'_> {
    async fn feed_seqs(&mut self, workspaces: &[WorkspaceId]) -> Result<Vec<(WorkspaceId, i64)>> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT id, feed_seq FROM workspaces WHERE id IN ");
        push_ids(&mut q, workspaces);
        let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *self.0).await.map_err(db)?;
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
            let rows = q.build().fetch_all(&mut *self.0).await.map_err(db)?;
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
            let rows = q.build().fetch_all(&mut *self.0).await.map_err(db)?;
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
            for (id, ws) in q.build_query_as::<(String, String)>().fetch_all(&mut *self.0).await.map_err(db)? {
                owners.sites.insert(SiteId(codec::uuid(&id)?), WorkspaceId(codec::uuid(&ws)?));
            }
        }
        for chunk in contacts.chunks(MAX_PARAMETERS) {
            let mut q = QueryBuilder::<Sqlite>::new("SELECT id, workspace_id FROM contacts WHERE id IN ");
            push_ids(&mut q, chunk);
            for (id, ws) in q.build_query_as::<(String, String)>().fetch_all(&mut *self.0).await.map_err(db)? {
                owners.contacts.insert(ContactId(codec::uuid(&id)?), WorkspaceId(codec::uuid(&ws)?));
            }
        }
        Ok(owners)
    }

    async fn write(&mut self, w: &Writes) -> Result<()> {
        self.insert_conversations(&w.new_conversations, false).await?;
        let messages: Vec<&Message> = w.messages().collect();
        if !messages.is_empty() {
            self.insert_messages(&messages).await?;
        }
        self.insert_events(&w.events).await?;
        if !w.changed_conversations.is_empty() {
            self.insert_conversations(&w.changed_conversations, true).await?;
        }
        if !w.feed_seqs.is_empty() {
            let mut q = QueryBuilder::<Sqlite>::new("UPDATE workspaces SET feed_seq = v.column2 FROM (");
            q.push_values(&w.feed_seqs, |mut row, (ws, seq)| {
                row.push_bind(ws.0.to_string()).push_bind(*seq);
            });
            q.push(") AS v WHERE workspaces.id = v.column1");
            self.execute(q).await?;
        }
        Ok(())
    }
}
