//! Retention and erasure on SQLite: deletions of what the log wrote, each in one
//! transaction on the store's write connection.
//!
//! Two things the log's writer relies on must hold after a deletion:
//! - the full-text index is contentless, so a message's entry is deleted by giving FTS5
//!   the text it indexed (`message_text` of the row, as `log::index_messages` built it);
//!   rows the indexer has not reached yet have no entry. The index is then merged
//!   (`optimize`), since a delete only masks the words in older segments;
//! - the indexer indexes rowids above `search_progress.indexed_rowid`, and SQLite hands a
//!   new row the largest rowid plus one: if the newest events are deleted, later events
//!   take their rowids again, so the progress is moved back to the largest rowid left.
//!
//! The writer also remembers conversations (`LogState::forget`): both deletions change or
//! remove conversations without it, so they have it forget them while holding the turn.

use std::collections::BTreeMap;

use sqlx::{Row as _, SqliteConnection};
use switchboard_domain::*;
use switchboard_store::codec;
use switchboard_store::*;

use crate::SqliteStore;
use crate::rows::{db, s};

/// The site's conversations a retention run deletes; `$1` workspace, `$2` site, `$3` cutoff.
const EXPIRED: &str = "SELECT id FROM conversations WHERE workspace_id = $1 AND site_id = $2 \
                       AND status NOT IN ('open', 'snoozed') AND updated_at < $3";
/// The site's contacts; `$1` workspace, `$2` site.
const SITE_CONTACTS: &str = "SELECT id FROM contacts WHERE workspace_id = $1 AND site_id = $2";
/// The site's contacts a run deletes once their conversations are gone (`$3` cutoff).
const LEFT_CONTACTS: &str = "SELECT c.id FROM contacts c WHERE c.workspace_id = $1 AND c.site_id = $2 AND c.last_seen < $3 \
                             AND NOT EXISTS (SELECT 1 FROM conversations v WHERE v.contact_id = c.id)";

pub(crate) async fn retention_preview(store: &SqliteStore, ws: WorkspaceId, site: SiteId, before: Timestamp) -> Result<RetentionCounts> {
    let mut conn = store.read.acquire().await.map_err(db)?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(db)?;
    site_exists(&mut tx, ws, site).await?;
    let args = (s(ws), s(site), before.0);
    let mut counts = RetentionCounts {
        conversations: count(&mut tx, &format!("SELECT count(*) FROM ({EXPIRED})"), &args).await?,
        messages: count(
            &mut tx,
            &format!("SELECT count(*) FROM events WHERE message_id IS NOT NULL AND conversation_id IN ({EXPIRED})"),
            &args,
        )
        .await?,
        ..Default::default()
    };
    let mut attachments = attachments_of(&mut tx, &format!("conversation_id IN ({EXPIRED})"), &args).await?;
    // Contacts left with no conversation once the expired ones are gone.
    let leaving = format!(
        "SELECT c.id FROM contacts c WHERE c.workspace_id = $1 AND c.site_id = $2 AND c.last_seen < $3 \
         AND NOT EXISTS (SELECT 1 FROM conversations v WHERE v.contact_id = c.id AND v.id NOT IN ({EXPIRED}))"
    );
    attachments.extend(uploads_of(&mut tx, &leaving, &args).await?);
    counts.attachments = attachments.len() as u64;
    counts.contacts = count(&mut tx, &format!("SELECT count(*) FROM ({leaving})"), &args).await?;
    (counts.page_views, counts.contact_events) = views_and_events(&mut tx, &leaving, &args, true).await?;
    counts.oldest_kept = oldest_kept(&mut tx, &args).await?;
    Ok(counts)
}

pub(crate) async fn purge_site(store: &SqliteStore, ws: WorkspaceId, site: SiteId, before: Timestamp) -> Result<RetentionCounts> {
    let mut write = store.writing().await?;
    let result = async {
        let mut tx = sqlx::Connection::begin(&mut *write).await.map_err(db)?;
        site_exists(&mut tx, ws, site).await?;
        let args = (s(ws), s(site), before.0);
        let mut counts = RetentionCounts {
            conversations: count(&mut tx, &format!("SELECT count(*) FROM ({EXPIRED})"), &args).await?,
            ..Default::default()
        };
        let mut attachments = attachments_of(&mut tx, &format!("conversation_id IN ({EXPIRED})"), &args).await?;
        counts.messages = unindex_messages(&mut tx, &format!("conversation_id IN ({EXPIRED})"), &args).await?;
        bind3(sqlx::query(&format!("DELETE FROM events WHERE conversation_id IN ({EXPIRED})")), &args)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        bind3(sqlx::query(&format!("DELETE FROM conversations WHERE id IN ({EXPIRED})")), &args).execute(&mut *tx).await.map_err(db)?;
        attachments.extend(uploads_of(&mut tx, LEFT_CONTACTS, &args).await?);
        counts.attachments = attachments.len() as u64;
        (counts.page_views, counts.contact_events) = views_and_events(&mut tx, LEFT_CONTACTS, &args, false).await?;
        counts.contacts = bind3(sqlx::query(&format!("DELETE FROM contacts WHERE id IN ({LEFT_CONTACTS})")), &args)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        drop_attachments(&mut tx, &attachments, before).await?;
        counts.oldest_kept = oldest_kept(&mut tx, &args).await?;
        rewind_search_progress(&mut tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(counts)
    }
    .await;
    store.forget_conversations(&write);
    result
}

pub(crate) async fn erase_contact(store: &SqliteStore, ws: WorkspaceId, contact: ContactId, at: Timestamp) -> Result<Erasure> {
    let mut write = store.writing().await?;
    let result = async {
        let mut tx = sqlx::Connection::begin(&mut *write).await.map_err(db)?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM contacts WHERE id = $1 AND workspace_id = $2 AND erased_at IS NULL")
            .bind(s(contact))
            .bind(s(ws))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if exists.is_none() {
            return Err(StoreError::NotFound(Entity::Contact));
        }
        // `$1` workspace, `$2` contact (`$3` unused, so the helpers bind alike).
        let args = (s(ws), s(contact), 0);
        let theirs = "conversation_id IN (SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2) \
                      AND actor_kind = 'contact' AND actor_id = $2 AND $3 = $3";
        let mut attachments = attachments_of(&mut tx, theirs, &args).await?;
        let contact_only = "SELECT id FROM contacts WHERE workspace_id = $1 AND id = $2 AND $3 = $3";
        attachments.extend(uploads_of(&mut tx, contact_only, &args).await?);
        let messages = unindex_messages(&mut tx, theirs, &args).await?;
        bind3(sqlx::query(&format!("DELETE FROM events WHERE message_id IS NOT NULL AND {theirs}")), &args)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        // A rating's score is the business's; its words are the visitor's.
        sqlx::query(
            "UPDATE events SET data = json_set(data, '$.comment', json('null')) WHERE kind = 'conversation_rated' \
             AND conversation_id IN (SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2)",
        )
        .bind(s(ws))
        .bind(s(contact))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("UPDATE conversations SET rating_comment = NULL WHERE workspace_id = $1 AND contact_id = $2")
            .bind(s(ws))
            .bind(s(contact))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "DELETE FROM transcript_requests WHERE conversation_id IN (SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2)",
        )
        .bind(s(ws))
        .bind(s(contact))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let (page_views, contact_events) = views_and_events(&mut tx, contact_only, &args, false).await?;
        sqlx::query(
            "UPDATE contacts SET external_id = NULL, name = NULL, email = NULL, phone = NULL, attributes = $3, browser = NULL, os = NULL, \
             device = NULL, language = NULL, country = NULL, search_text = '', erased_at = $4 WHERE id = $2 AND workspace_id = $1",
        )
        .bind(s(ws))
        .bind(s(contact))
        .bind(codec::encode_attributes(&Attributes::new()))
        .bind(at.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        drop_attachments(&mut tx, &attachments, at).await?;
        rewind_search_progress(&mut tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(Erasure { messages, attachments: attachments.len() as u64, page_views, contact_events })
    }
    .await;
    store.forget_conversations(&write);
    result
}

pub(crate) async fn queued_blob_deletions(store: &SqliteStore, limit: u32) -> Result<Vec<String>> {
    sqlx::query_scalar("SELECT blob_key FROM blob_deletions ORDER BY queued_at, blob_key LIMIT $1")
        .bind(i64::from(limit))
        .fetch_all(&store.read)
        .await
        .map_err(db)
}

pub(crate) async fn blobs_deleted(store: &SqliteStore, keys: &[String]) -> Result<()> {
    let mut write = store.writing().await?;
    let mut tx = sqlx::Connection::begin(&mut *write).await.map_err(db)?;
    for key in keys {
        sqlx::query("DELETE FROM blob_deletions WHERE blob_key = $1").bind(key).execute(&mut *tx).await.map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

type Args = (String, String, i64);

fn bind3<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    args: &'q Args,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    q.bind(&args.0).bind(&args.1).bind(args.2)
}

async fn count(tx: &mut SqliteConnection, sql: &str, args: &Args) -> Result<u64> {
    let n: i64 = bind3(sqlx::query(sql), args).fetch_one(&mut *tx).await.map_err(db)?.get(0);
    Ok(n as u64)
}

async fn site_exists(tx: &mut SqliteConnection, ws: WorkspaceId, site: SiteId) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM sites WHERE id = $1 AND workspace_id = $2")
        .bind(s(site))
        .bind(s(ws))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    found.map(drop).ok_or(StoreError::NotFound(Entity::Site))
}

/// The attachments (id → blob key) carried by the messages of the events matching `cond`.
async fn attachments_of(tx: &mut SqliteConnection, cond: &str, args: &Args) -> Result<BTreeMap<AttachmentId, String>> {
    let sql = format!("SELECT workspace_id, attachments FROM events WHERE message_id IS NOT NULL AND attachments <> '[]' AND {cond}");
    let rows = bind3(sqlx::query(&sql), args).fetch_all(&mut *tx).await.map_err(db)?;
    let mut found = BTreeMap::new();
    for row in rows {
        let ws = WorkspaceId(codec::uuid(&row.get::<String, _>(0))?);
        for a in codec::decode_attachments(ws, &row.get::<String, _>(1))? {
            found.insert(a.id, a.blob_key);
        }
    }
    Ok(found)
}

/// The attachments the contacts `contacts` selects uploaded, sent or not.
async fn uploads_of(tx: &mut SqliteConnection, contacts: &str, args: &Args) -> Result<BTreeMap<AttachmentId, String>> {
    let sql = format!("SELECT id, blob_key FROM attachments WHERE uploader_kind = 'contact' AND uploader_id IN ({contacts})");
    let rows = bind3(sqlx::query(&sql), args).fetch_all(&mut *tx).await.map_err(db)?;
    rows.iter().map(|r| Ok((AttachmentId(codec::uuid(&r.get::<String, _>(0))?), r.get(1)))).collect()
}

/// Counts (`preview`) or deletes the page views and tracked events older than the
/// cutoff of the site's contacts, and all of those of the contacts `leaving` selects.
async fn views_and_events(tx: &mut SqliteConnection, leaving: &str, args: &Args, preview: bool) -> Result<(u64, u64)> {
    let mut n = [0; 2];
    for (i, table) in ["page_views", "contact_events"].into_iter().enumerate() {
        let cond = format!("(contact_id IN ({leaving}) OR (at < $3 AND contact_id IN ({SITE_CONTACTS})))");
        n[i] = if preview {
            count(tx, &format!("SELECT count(*) FROM {table} WHERE {cond}"), args).await?
        } else {
            bind3(sqlx::query(&format!("DELETE FROM {table} WHERE {cond}")), args).execute(&mut *tx).await.map_err(db)?.rows_affected()
        };
    }
    if !preview {
        // Visits (their pages are gone above) and invitations go with them.
        let visits =
            format!("DELETE FROM visits WHERE contact_id IN ({leaving}) OR (last_seen_at < $3 AND contact_id IN ({SITE_CONTACTS}))");
        bind3(sqlx::query(&visits), args).execute(&mut *tx).await.map_err(db)?;
        let invitations =
            format!("DELETE FROM invitations WHERE contact_id IN ({leaving}) OR (created_at < $3 AND contact_id IN ({SITE_CONTACTS}))");
        bind3(sqlx::query(&invitations), args).execute(&mut *tx).await.map_err(db)?;
    }
    Ok((n[0], n[1]))
}

/// Removes the search entries of the messages of the events matching `cond` (before
/// they are deleted) and says how many messages there are.
async fn unindex_messages(tx: &mut SqliteConnection, cond: &str, args: &Args) -> Result<u64> {
    let indexed: i64 =
        sqlx::query_scalar("SELECT indexed_rowid FROM search_progress WHERE id = 1").fetch_one(&mut *tx).await.map_err(db)?;
    let sql = format!("SELECT rowid, workspace_id, body, attachments FROM events WHERE message_id IS NOT NULL AND {cond}");
    let rows = bind3(sqlx::query(&sql), args).fetch_all(&mut *tx).await.map_err(db)?;
    let mut removed = false;
    for row in &rows {
        let rowid: i64 = row.get(0);
        if rowid > indexed {
            continue;
        }
        removed = true;
        let ws = WorkspaceId(codec::uuid(&row.get::<String, _>(1))?);
        let attachments = codec::decode_attachments(ws, &row.get::<String, _>(3))?;
        let text = search::message_text(&row.get::<String, _>(2), &attachments);
        sqlx::query("INSERT INTO message_search (message_search, rowid, text) VALUES ('delete', $1, $2)")
            .bind(rowid)
            .bind(text)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    if removed {
        // A delete is a marker in a newer segment; the words stay in the older ones until
        // they are merged. Merging them all now leaves no trace of the deleted text.
        sqlx::query("INSERT INTO message_search (message_search) VALUES ('optimize')").execute(&mut *tx).await.map_err(db)?;
    }
    Ok(rows.len() as u64)
}

/// Deletes the attachment rows and queues their blobs for deletion.
async fn drop_attachments(tx: &mut SqliteConnection, attachments: &BTreeMap<AttachmentId, String>, at: Timestamp) -> Result<()> {
    for (id, key) in attachments {
        sqlx::query("DELETE FROM attachments WHERE id = $1").bind(s(*id)).execute(&mut *tx).await.map_err(db)?;
        sqlx::query("INSERT INTO blob_deletions (blob_key, queued_at) VALUES ($1, $2) ON CONFLICT (blob_key) DO NOTHING")
            .bind(key)
            .bind(at.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    Ok(())
}

async fn oldest_kept(tx: &mut SqliteConnection, args: &Args) -> Result<Option<Timestamp>> {
    let sql = format!("SELECT min(updated_at) FROM conversations WHERE workspace_id = $1 AND site_id = $2 AND id NOT IN ({EXPIRED})");
    let oldest: Option<i64> = bind3(sqlx::query(&sql), args).fetch_one(&mut *tx).await.map_err(db)?.get(0);
    Ok(oldest.map(Timestamp))
}

/// See the module's comment: new events must get rowids above the indexer's progress.
async fn rewind_search_progress(tx: &mut SqliteConnection) -> Result<()> {
    sqlx::query("UPDATE search_progress SET indexed_rowid = min(indexed_rowid, (SELECT coalesce(max(rowid), 0) FROM events)) WHERE id = 1")
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    Ok(())
}

pub(crate) async fn gone_contacts(store: &SqliteStore, ws: WorkspaceId, ids: &[ContactId]) -> Result<Vec<ContactId>> {
    // The ids travel as one JSON array of UUIDs, as in `contacts_by_id`.
    let wanted = format!("[{}]", ids.iter().map(|id| format!("\"{}\"", s(*id))).collect::<Vec<_>>().join(","));
    let current: std::collections::HashSet<String> = sqlx::query_scalar(
        "SELECT id FROM contacts WHERE workspace_id = $1 AND id IN (SELECT value FROM json_each($2)) AND erased_at IS NULL",
    )
    .bind(s(ws))
    .bind(wanted)
    .fetch_all(&store.read)
    .await
    .map_err(db)?
    .into_iter()
    .collect();
    Ok(ids.iter().copied().filter(|id| !current.contains(&s(*id))).collect())
}
