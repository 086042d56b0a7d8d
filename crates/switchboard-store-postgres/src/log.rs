//! The conversation log on PostgreSQL: the batch writer that assigns sequence numbers
//! inside the transaction that commits them, and the conversation reads it shares.
//!
//! Invariant: a `seq` or `feed_seq` becomes visible to readers only together with
//! everything before it — a cursor can never skip a committed event. SQLite gets this
//! from its single writer; here several nodes may write, so each batch first locks the
//! counter rows of the workspaces it touches (in id order, so two batches never wait on
//! each other in a cycle) and holds them until commit: per workspace, batches commit one
//! after another, and the feed counter bumped inside them is handed out in commit order.
//!
//! A batch is a fixed number of statements (see [`switchboard_store::log`]), each a
//! round trip to the server, whatever the number of changes in it.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::query_builder::Separated;
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, QueryBuilder};
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_parts, author_key};
use switchboard_store::log::{self, ClientKey, LogTx, Owners, Transactions, Writes};
use switchboard_store::{Change, Committed, Result, StoreError};
use uuid::Uuid;

use crate::rows::{self, EVENT_COLUMNS, db, retryable};

/// Runs of one batch before its changes are answered `Unavailable`.
const ATTEMPTS: u32 = 5;

/// Longest lexeme PostgreSQL can store. `array_to_tsvector` does not check it: a longer
/// word is silently mangled (a 4096-byte word becomes an empty lexeme).
const MAX_LEXEME_BYTES: usize = 2047;

/// PostgreSQL's limit on parameters in one statement.
const MAX_PARAMETERS: usize = 65_535;

/// Applies a batch in one transaction, run again when it loses to a concurrent writer.
pub(crate) async fn apply_batch(pool: &PgPool, jobs: &[(WorkspaceId, Change)]) -> Vec<Result<Committed>> {
    log::apply_isolated(&mut Batches(pool), jobs).await
}

struct Batches<'p>(&'p PgPool);

#[async_trait]
impl Transactions for Batches<'_> {
    async fn run(&mut self, jobs: &[(WorkspaceId, Change)]) -> Result<Vec<Result<Committed>>> {
        with_retries(self.0, jobs).await
    }
}

/// Postgres-only: a writer on another node can deadlock with this one (or, at a stricter
/// isolation level, fail to serialise). Nothing of the batch was committed, so it is run
/// again from the start.
async fn with_retries(pool: &PgPool, jobs: &[(WorkspaceId, Change)]) -> Result<Vec<Result<Committed>>> {
    let mut attempt = 1;
    loop {
        match transaction(pool, jobs).await {
            Err(e) if retryable(&e) && attempt < ATTEMPTS => {
                tracing::warn!(error = %e, attempt, batch = jobs.len(), "batch lost to a concurrent writer, retrying");
                tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

async fn transaction(pool: &PgPool, jobs: &[(WorkspaceId, Change)]) -> Result<Vec<Result<Committed>>> {
    let mut tx = pool.begin().await.map_err(db)?;
    // An error drops `tx`, which rolls it back.
    let results = log::apply_batch(&mut PgLog(&mut tx), jobs).await?;
    tx.commit().await.map_err(db)?;
    Ok(results)
}

/// The words a message is found by: the text SQLite indexes too ([`search::message_text`]),
/// split where [`search::query_terms`] splits a query, so an indexed word and a query term
/// are always made the same way.
fn search_words(m: &Message) -> Vec<String> {
    let mut words: Vec<String> = search::message_text(&m.body, &m.attachments)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            // An overlong word keeps its start, so prefix queries (at most 64 characters,
            // see query_terms) find it as they do on SQLite.
            let end = (0..=w.len().min(MAX_LEXEME_BYTES)).rev().find(|&i| w.is_char_boundary(i));
            w[..end.unwrap_or(0)].to_owned()
        })
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

const CONVERSATION: &str = "SELECT * FROM conversations WHERE id = $1 AND workspace_id = $2";

pub(crate) async fn load_conversation(conn: impl PgExecutor<'_>, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
    let row = sqlx::query(CONVERSATION)
        .bind(id.0)
        .bind(ws.0)
        .fetch_optional(conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::Conversation))?;
    rows::conversation(&row)
}

fn chunks<T>(rows: &[T], columns: usize) -> std::slice::Chunks<'_, T> {
    rows.chunks(MAX_PARAMETERS / columns)
}

const CONVERSATION_COLUMNS: &str = "(id, workspace_id, site_id, contact_id, status, snoozed_until, assignee_id, team_id, priority, \
     labels, last_seq, created_at, first_reply_at, assigned_at, resolved_at, waiting_since, last_message_at, last_message_seq, \
     updated_at, visitor_delivered_seq, visitor_read_seq, agent_delivered_seq, agent_read_seq) ";

fn push_conversation(mut row: Separated<'_, '_, Postgres, &'static str>, c: &Conversation) {
    row.push_bind(c.id.0)
        .push_bind(c.workspace_id.0)
        .push_bind(c.site_id.0)
        .push_bind(c.contact_id.0)
        .push_bind(c.status.name())
        .push_bind(c.status.snoozed_until().map(|t| t.0))
        .push_bind(c.assignee_id.map(|a| a.0))
        .push_bind(c.team_id.map(|t| t.0))
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

/// The log's reads and writes on the batch's PostgreSQL connection.
struct PgLog<'c>(&'c mut PgConnection);

impl PgLog<'_> {
    async fn execute(&mut self, mut q: QueryBuilder<'_, Postgres>) -> Result<()> {
        q.build().execute(&mut *self.0).await.map_err(db)?;
        Ok(())
    }

    async fn insert_conversations(&mut self, conversations: &[Conversation], upsert: bool) -> Result<()> {
        for chunk in chunks(conversations, 23) {
            let mut q = QueryBuilder::<Postgres>::new("INSERT INTO conversations ");
            q.push(CONVERSATION_COLUMNS).push_values(chunk, push_conversation);
            if upsert {
                // Every column a change can move; the rest never change. The rows were
                // locked when the batch read them, so the conflict is always there.
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
        for chunk in chunks(messages, 14) {
            let mut q = QueryBuilder::<Postgres>::new(
                "INSERT INTO messages (id, workspace_id, conversation_id, seq, author_kind, author_id, author_key, client_id, kind, \
                 body, format, attachments, created_at, search) ",
            );
            q.push_values(chunk, |mut row, m| {
                let (author_kind, author_id) = actor_parts(m.author);
                row.push_bind(m.id.0)
                    .push_bind(m.workspace_id.0)
                    .push_bind(m.conversation_id.0)
                    .push_bind(m.seq)
                    .push_bind(author_kind)
                    .push_bind(author_id)
                    .push_bind(author_key(m.author))
                    .push_bind(m.client_id.as_deref())
                    .push_bind(match m.kind {
                        MessageKind::Text => "text",
                        MessageKind::Note => "note",
                    })
                    .push_bind(m.body.as_str())
                    .push_bind(m.format.as_str())
                    .push_bind(codec::encode_attachments(&m.attachments))
                    .push_bind(m.created_at.0)
                    .push_unseparated(", array_to_tsvector(")
                    .push_bind_unseparated(search_words(m))
                    .push_unseparated(")");
            });
            self.execute(q).await?;
        }
        Ok(())
    }

    async fn insert_events(&mut self, events: &[Event]) -> Result<()> {
        for chunk in chunks(events, 11) {
            let mut q = QueryBuilder::<Postgres>::new(
                "INSERT INTO events (workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, message_id, \
                 data, at) ",
            );
            q.push_values(chunk, |mut row, e| {
                let (actor_kind, actor_id) = actor_parts(e.actor);
                let message_id = match &e.data {
                    EventData::Message(m) => Some(m.id.0),
                    _ => None,
                };
                row.push_bind(e.workspace_id.0)
                    .push_bind(e.feed_seq)
                    .push_bind(e.conversation_id.0)
                    .push_bind(e.seq)
                    .push_bind(e.data.kind())
                    .push_bind(match e.visibility() {
                        Visibility::Everyone => "everyone",
                        Visibility::Agents => "agents",
                    })
                    .push_bind(actor_kind)
                    .push_bind(actor_id)
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
impl LogTx for PgLog<'_> {
    async fn feed_seqs(&mut self, workspaces: &[WorkspaceId]) -> Result<Vec<(WorkspaceId, i64)>> {
        let ids: Vec<Uuid> = workspaces.iter().map(|w| w.0).collect();
        // Postgres-only: the lock the feed counter's UPDATE would take anyway, taken up
        // front for every workspace of the batch, in a fixed order.
        let rows: Vec<(Uuid, i64)> = sqlx::query_as("SELECT id, feed_seq FROM workspaces WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
            .bind(&ids)
            .fetch_all(&mut *self.0)
            .await
            .map_err(db)?;
        Ok(rows.into_iter().map(|(id, seq)| (WorkspaceId(id), seq)).collect())
    }

    async fn prior_messages(&mut self, keys: &[ClientKey]) -> Result<Vec<Event>> {
        let authors: Vec<&str> = keys.iter().map(|k| k.author_key.as_str()).collect();
        let client_ids: Vec<&str> = keys.iter().map(|k| k.client_id.as_str()).collect();
        let workspaces: Vec<Uuid> = keys.iter().map(|k| k.workspace_id.0).collect();
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM UNNEST($1::text[], $2::text[], $3::uuid[]) AS k(author_key, client_id, workspace_id) \
             JOIN messages m ON m.author_key = k.author_key AND m.client_id = k.client_id AND m.workspace_id = k.workspace_id \
             JOIN events e ON e.conversation_id = m.conversation_id AND e.seq = m.seq"
        );
        let rows = sqlx::query(&sql).bind(&authors).bind(&client_ids).bind(&workspaces).fetch_all(&mut *self.0).await.map_err(db)?;
        rows.iter().map(rows::event).collect()
    }

    async fn conversations(&mut self, ids: &[ConversationId]) -> Result<Vec<Conversation>> {
        let ids: Vec<Uuid> = ids.iter().map(|c| c.0).collect();
        // Postgres-only: locked until commit (in id order), so nothing else — a writer on
        // another node, an agent's deletion setting `assignee_id` to NULL — changes a
        // conversation between this read and the batch's write.
        let rows = sqlx::query("SELECT * FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(&ids)
            .fetch_all(&mut *self.0)
            .await
            .map_err(db)?;
        rows.iter().map(rows::conversation).collect()
    }

    async fn owners(&mut self, sites: &[SiteId], contacts: &[ContactId]) -> Result<Owners> {
        let sites: Vec<Uuid> = sites.iter().map(|s| s.0).collect();
        let contacts: Vec<Uuid> = contacts.iter().map(|c| c.0).collect();
        let site_rows: Vec<(Uuid, Uuid)> = sqlx::query_as("SELECT id, workspace_id FROM sites WHERE id = ANY($1)")
            .bind(&sites)
            .fetch_all(&mut *self.0)
            .await
            .map_err(db)?;
        let contact_rows: Vec<(Uuid, Uuid)> = sqlx::query_as("SELECT id, workspace_id FROM contacts WHERE id = ANY($1)")
            .bind(&contacts)
            .fetch_all(&mut *self.0)
            .await
            .map_err(db)?;
        Ok(Owners {
            sites: site_rows.into_iter().map(|(id, ws)| (SiteId(id), WorkspaceId(ws))).collect(),
            contacts: contact_rows.into_iter().map(|(id, ws)| (ContactId(id), WorkspaceId(ws))).collect(),
        })
    }

    async fn write(&mut self, w: Writes) -> Result<()> {
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
            let ids: Vec<Uuid> = w.feed_seqs.iter().map(|(ws, _)| ws.0).collect();
            let seqs: Vec<i64> = w.feed_seqs.iter().map(|(_, seq)| *seq).collect();
            sqlx::query("UPDATE workspaces w SET feed_seq = v.seq FROM UNNEST($1::uuid[], $2::int8[]) AS v(id, seq) WHERE w.id = v.id")
                .bind(&ids)
                .bind(&seqs)
                .execute(&mut *self.0)
                .await
                .map_err(db)?;
        }
        Ok(())
    }
}
