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
use sqlx::{PgConnection, PgExecutor, PgPool};
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
pub(crate) fn search_words(m: &Message) -> Vec<String> {
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

/// The columns of `conversations`, in the order `PgLog::insert_conversations` binds them.
const CONVERSATION_COLUMNS: &str = "id, workspace_id, site_id, inbox_id, inbox_kind, contact_id, status, snoozed_until, assignee_id, team_id, priority, \
     labels, last_seq, created_at, first_reply_at, assigned_at, resolved_at, waiting_since, last_message_at, last_message_seq, \
     updated_at, visitor_delivered_seq, visitor_read_seq, agent_delivered_seq, agent_read_seq, rating_score, rating_comment, rated_at, \
     queued_at";

/// Every column a change can move; the rest never change.
const CONVERSATION_UPDATE: &str = "status = excluded.status, snoozed_until = excluded.snoozed_until, \
     assignee_id = excluded.assignee_id, team_id = excluded.team_id, priority = excluded.priority, \
     labels = excluded.labels, last_seq = excluded.last_seq, first_reply_at = excluded.first_reply_at, \
     assigned_at = excluded.assigned_at, resolved_at = excluded.resolved_at, waiting_since = excluded.waiting_since, \
     last_message_at = excluded.last_message_at, last_message_seq = excluded.last_message_seq, \
     updated_at = excluded.updated_at, visitor_delivered_seq = excluded.visitor_delivered_seq, \
     visitor_read_seq = excluded.visitor_read_seq, agent_delivered_seq = excluded.agent_delivered_seq, \
     agent_read_seq = excluded.agent_read_seq, rating_score = excluded.rating_score, \
     rating_comment = excluded.rating_comment, rated_at = excluded.rated_at, queued_at = excluded.queued_at";

fn times(rows: &[Conversation], f: impl Fn(&Conversation) -> Option<Timestamp>) -> Vec<Option<i64>> {
    rows.iter().map(|c| f(c).map(|t| t.0)).collect()
}

fn seqs(rows: &[Conversation], f: impl Fn(&Conversation) -> i64) -> Vec<i64> {
    rows.iter().map(f).collect()
}

/// The log's reads and writes on the batch's PostgreSQL connection.
///
/// Every insert is one statement whose text does not depend on the number of rows: each
/// column is bound as one array and the rows are `UNNEST`ed from them, so the statement
/// is prepared once per connection and its plan reused, where a multi-row `VALUES` list
/// would be a new statement (parsed and planned again) for every batch size.
struct PgLog<'c>(&'c mut PgConnection);

impl PgLog<'_> {
    async fn insert_conversations(&mut self, rows: &[Conversation], upsert: bool) -> Result<()> {
        let sql = format!(
            "INSERT INTO conversations ({CONVERSATION_COLUMNS}) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], \
             $5::text[], $6::uuid[], $7::text[], $8::int8[], $9::uuid[], $10::uuid[], $11::text[], $12::text[], $13::int8[], \
             $14::int8[], $15::int8[], $16::int8[], $17::int8[], $18::int8[], $19::int8[], $20::int8[], $21::int8[], $22::int8[], \
             $23::int8[], $24::int8[], $25::int8[], $26::int8[], $27::text[], $28::int8[], $29::int8[]){}",
            // The rows were locked when the batch read them, so the conflict is always there.
            if upsert { format!(" ON CONFLICT (id) DO UPDATE SET {CONVERSATION_UPDATE}") } else { String::new() }
        );
        sqlx::query(&sql)
            .bind(rows.iter().map(|c| c.id.0).collect::<Vec<Uuid>>())
            .bind(rows.iter().map(|c| c.workspace_id.0).collect::<Vec<Uuid>>())
            .bind(rows.iter().map(|c| c.site_id.0).collect::<Vec<Uuid>>())
            .bind(rows.iter().map(|c| c.inbox_id.0).collect::<Vec<Uuid>>())
            .bind(rows.iter().map(|c| c.inbox_kind.name()).collect::<Vec<&str>>())
            .bind(rows.iter().map(|c| c.contact_id.0).collect::<Vec<Uuid>>())
            .bind(rows.iter().map(|c| c.status.name()).collect::<Vec<&str>>())
            .bind(times(rows, |c| c.status.snoozed_until()))
            .bind(rows.iter().map(|c| c.assignee_id.map(|a| a.0)).collect::<Vec<Option<Uuid>>>())
            .bind(rows.iter().map(|c| c.team_id.map(|t| t.0)).collect::<Vec<Option<Uuid>>>())
            .bind(rows.iter().map(|c| c.priority.as_str()).collect::<Vec<&str>>())
            .bind(rows.iter().map(|c| codec::encode_labels(&c.labels)).collect::<Vec<String>>())
            .bind(seqs(rows, |c| c.last_seq))
            .bind(seqs(rows, |c| c.created_at.0))
            .bind(times(rows, |c| c.first_reply_at))
            .bind(times(rows, |c| c.assigned_at))
            .bind(times(rows, |c| c.resolved_at))
            .bind(times(rows, |c| c.waiting_since))
            .bind(times(rows, |c| c.last_message_at))
            .bind(seqs(rows, |c| c.last_message_seq))
            .bind(seqs(rows, |c| c.updated_at.0))
            .bind(seqs(rows, |c| c.visitor.delivered_seq))
            .bind(seqs(rows, |c| c.visitor.read_seq))
            .bind(seqs(rows, |c| c.agent.delivered_seq))
            .bind(seqs(rows, |c| c.agent.read_seq))
            .bind(rows.iter().map(|c| c.rating.as_ref().map(|r| i64::from(r.score))).collect::<Vec<Option<i64>>>())
            .bind(rows.iter().map(|c| c.rating.as_ref().and_then(|r| r.comment.as_deref())).collect::<Vec<Option<&str>>>())
            .bind(times(rows, |c| c.rating.as_ref().map(|r| r.rated_at)))
            .bind(times(rows, |c| c.queued_at))
            .execute(&mut *self.0)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Inserts the batch's events; a message is stored in its event's row.
    async fn insert_events(&mut self, events: &[Event]) -> Result<()> {
        let (actor_kinds, actor_ids): (Vec<&str>, Vec<Option<Uuid>>) = events.iter().map(|e| actor_parts(e.actor)).unzip();
        let messages: Vec<Option<&Message>> = events.iter().map(|e| e.data.message()).collect();
        // A message's search words hold letters and digits only (`search_words`), so a
        // space joins them into one text per row, split again in the statement.
        sqlx::query(
            "INSERT INTO events (workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, data, at, \
             message_id, client_id, author_key, body, format, attachments, search) \
             SELECT workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, data, at, message_id, \
             client_id, author_key, body, format, attachments, array_to_tsvector(string_to_array(words, ' ')) \
             FROM UNNEST($1::uuid[], $2::int8[], $3::uuid[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::uuid[], \
             $9::text[], $10::int8[], $11::uuid[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[]) \
             AS v(workspace_id, feed_seq, conversation_id, seq, kind, visibility, actor_kind, actor_id, data, at, message_id, \
             client_id, author_key, body, format, attachments, words)",
        )
        .bind(events.iter().map(|e| e.workspace_id.0).collect::<Vec<Uuid>>())
        .bind(events.iter().map(|e| e.feed_seq).collect::<Vec<i64>>())
        .bind(events.iter().map(|e| e.conversation_id.0).collect::<Vec<Uuid>>())
        .bind(events.iter().map(|e| e.seq).collect::<Vec<i64>>())
        .bind(events.iter().map(|e| e.data.kind()).collect::<Vec<&str>>())
        .bind(
            events
                .iter()
                .map(|e| match e.visibility() {
                    Visibility::Everyone => "everyone",
                    Visibility::Agents => "agents",
                })
                .collect::<Vec<&str>>(),
        )
        .bind(actor_kinds)
        .bind(actor_ids)
        .bind(events.iter().map(|e| codec::encode_event_data(&e.data)).collect::<Vec<String>>())
        .bind(events.iter().map(|e| e.at.0).collect::<Vec<i64>>())
        .bind(messages.iter().map(|m| m.map(|m| m.id.0)).collect::<Vec<Option<Uuid>>>())
        .bind(messages.iter().map(|m| m.and_then(|m| m.client_id.as_deref())).collect::<Vec<Option<&str>>>())
        .bind(messages.iter().map(|m| m.map(|m| author_key(m.author))).collect::<Vec<Option<String>>>())
        .bind(messages.iter().map(|m| m.map(|m| m.body.as_str())).collect::<Vec<Option<&str>>>())
        .bind(messages.iter().map(|m| m.map(|m| m.format.as_str())).collect::<Vec<Option<&str>>>())
        .bind(messages.iter().map(|m| m.map(|m| codec::encode_attachments(&m.attachments))).collect::<Vec<Option<String>>>())
        .bind(messages.iter().map(|m| m.map(|m| search_words(m).join(" "))).collect::<Vec<Option<String>>>())
        .execute(&mut *self.0)
        .await
        .map_err(db)?;
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
             JOIN events e ON e.author_key = k.author_key AND e.client_id = k.client_id AND e.workspace_id = k.workspace_id"
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

    async fn open_chats(&mut self, agents: &[AgentId]) -> Result<Vec<(AgentId, i64)>> {
        let ids: Vec<Uuid> = agents.iter().map(|a| a.0).collect();
        // Postgres-only: several processes write. The agents' rows are locked until
        // commit (in id order) before counting, so two batches assigning to one agent
        // count one after the other, and the second sees the first's assignment (each
        // statement reads what was committed before it started). `NO KEY`: inserts that
        // only reference the agent are not held up.
        sqlx::query("SELECT id FROM agents WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
            .bind(&ids)
            .execute(&mut *self.0)
            .await
            .map_err(db)?;
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT assignee_id, COUNT(*) FROM conversations WHERE assignee_id = ANY($1) AND status IN ('open', 'pending') \
             GROUP BY assignee_id",
        )
        .bind(&ids)
        .fetch_all(&mut *self.0)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(|(id, n)| (AgentId(id), n)).collect())
    }

    async fn write(&mut self, w: Writes) -> Result<()> {
        if !w.new_conversations.is_empty() {
            self.insert_conversations(&w.new_conversations, false).await?;
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
