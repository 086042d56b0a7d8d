//! Retention and erasure on PostgreSQL: deletions of what the log wrote, each in one
//! transaction. A message's search words live in its event's row (`search`), so they go
//! with it; the log's writer remembers nothing between batches, so nothing is to forget.

use std::collections::BTreeMap;

use sqlx::{PgConnection, Row as _};
use switchboard_domain::*;
use switchboard_store::codec;
use switchboard_store::*;
use uuid::Uuid;

use crate::PgStore;
use crate::rows::db;

/// The site's conversations a retention run deletes; `$1` workspace, `$2` site, `$3` cutoff.
const EXPIRED: &str = "SELECT id FROM conversations WHERE workspace_id = $1 AND site_id = $2 \
                       AND status NOT IN ('open', 'snoozed') AND updated_at < $3";
/// The site's contacts; `$1` workspace, `$2` site.
const SITE_CONTACTS: &str = "SELECT id FROM contacts WHERE workspace_id = $1 AND site_id = $2";
/// The site's contacts a run deletes once their conversations are gone (`$3` cutoff).
const LEFT_CONTACTS: &str = "SELECT c.id FROM contacts c WHERE c.workspace_id = $1 AND c.site_id = $2 AND c.last_seen < $3 \
                             AND NOT EXISTS (SELECT 1 FROM conversations v WHERE v.contact_id = c.id)";

pub(crate) async fn retention_preview(store: &PgStore, ws: WorkspaceId, site: SiteId, before: Timestamp) -> Result<RetentionCounts> {
    // Postgres-only: one snapshot for every count, so they agree with each other.
    let mut tx = store.pool.begin().await.map_err(db)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await.map_err(db)?;
    site_exists(&mut tx, ws, site).await?;
    let args = (ws.0, site.0, before.0);
    let mut counts = RetentionCounts {
        conversations: count(&mut tx, &format!("SELECT count(*) FROM ({EXPIRED}) AS x"), &args).await?,
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
    counts.contacts = count(&mut tx, &format!("SELECT count(*) FROM ({leaving}) AS x"), &args).await?;
    (counts.page_views, counts.contact_events) = views_and_events(&mut tx, &leaving, &args, true).await?;
    counts.oldest_kept = oldest_kept(&mut tx, &args).await?;
    Ok(counts)
}

pub(crate) async fn purge_site(store: &PgStore, ws: WorkspaceId, site: SiteId, before: Timestamp) -> Result<RetentionCounts> {
    let result: Result<_> = async {
        let mut tx = store.pool.begin().await.map_err(db)?;
        site_exists(&mut tx, ws, site).await?;
        let args = (ws.0, site.0, before.0);
        let mut counts = RetentionCounts {
            conversations: count(&mut tx, &format!("SELECT count(*) FROM ({EXPIRED}) AS x"), &args).await?,
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
        tx.commit().await.map_err(db)?;
        Ok(counts)
    }
    .await;
    result
}

pub(crate) async fn erase_contact(store: &PgStore, ws: WorkspaceId, contact: ContactId, at: Timestamp) -> Result<Erasure> {
    let result: Result<_> = async {
        let mut tx = store.pool.begin().await.map_err(db)?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1::BIGINT FROM contacts WHERE id = $1 AND workspace_id = $2 AND erased_at IS NULL")
            .bind(contact.0)
            .bind(ws.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if exists.is_none() {
            return Err(StoreError::NotFound(Entity::Contact));
        }
        // `$1` workspace, `$2` contact (`$3` unused, so the helpers bind alike).
        let args = (ws.0, contact.0, 0);
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
            "UPDATE events SET data = jsonb_set(data::jsonb, '{comment}', 'null'::jsonb)::text WHERE kind = 'conversation_rated' \
             AND conversation_id IN (SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2)",
        )
        .bind(ws.0)
        .bind(contact.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("UPDATE conversations SET rating_comment = NULL WHERE workspace_id = $1 AND contact_id = $2")
            .bind(ws.0)
            .bind(contact.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "DELETE FROM transcript_requests WHERE conversation_id IN (SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2)",
        )
        .bind(ws.0)
        .bind(contact.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let (page_views, contact_events) = views_and_events(&mut tx, contact_only, &args, false).await?;
        sqlx::query(
            "UPDATE contacts SET external_id = NULL, name = NULL, email = NULL, phone = NULL, attributes = $3, browser = NULL, os = NULL, \
             device = NULL, language = NULL, country = NULL, search_text = '', erased_at = $4 WHERE id = $2 AND workspace_id = $1",
        )
        .bind(ws.0)
        .bind(contact.0)
        .bind(codec::encode_attributes(&Attributes::new()))
        .bind(at.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        drop_attachments(&mut tx, &attachments, at).await?;
        tx.commit().await.map_err(db)?;
        Ok(Erasure { messages, attachments: attachments.len() as u64, page_views, contact_events })
    }
    .await;
    result
}

pub(crate) async fn queued_blob_deletions(store: &PgStore, limit: u32) -> Result<Vec<String>> {
    sqlx::query_scalar("SELECT blob_key FROM blob_deletions ORDER BY queued_at, blob_key LIMIT $1")
        .bind(i64::from(limit))
        .fetch_all(&store.pool)
        .await
        .map_err(db)
}

pub(crate) async fn blobs_deleted(store: &PgStore, keys: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM blob_deletions WHERE blob_key = ANY($1)").bind(keys).execute(&store.pool).await.map_err(db)?;
    Ok(())
}

type Args = (Uuid, Uuid, i64);

fn bind3<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    args: &Args,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    q.bind(args.0).bind(args.1).bind(args.2)
}

async fn count(tx: &mut PgConnection, sql: &str, args: &Args) -> Result<u64> {
    let n: i64 = bind3(sqlx::query(sql), args).fetch_one(&mut *tx).await.map_err(db)?.get(0);
    Ok(n as u64)
}

async fn site_exists(tx: &mut PgConnection, ws: WorkspaceId, site: SiteId) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1::BIGINT FROM sites WHERE id = $1 AND workspace_id = $2")
        .bind(site.0)
        .bind(ws.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    found.map(drop).ok_or(StoreError::NotFound(Entity::Site))
}

/// The attachments (id → blob key) carried by the messages of the events matching `cond`.
async fn attachments_of(tx: &mut PgConnection, cond: &str, args: &Args) -> Result<BTreeMap<AttachmentId, String>> {
    let sql = format!("SELECT workspace_id, attachments FROM events WHERE message_id IS NOT NULL AND attachments <> '[]' AND {cond}");
    let rows = bind3(sqlx::query(&sql), args).fetch_all(&mut *tx).await.map_err(db)?;
    let mut found = BTreeMap::new();
    for row in rows {
        let ws = WorkspaceId(row.get::<Uuid, _>(0));
        for a in codec::decode_attachments(ws, &row.get::<String, _>(1))? {
            found.insert(a.id, a.blob_key);
        }
    }
    Ok(found)
}

/// The attachments the contacts `contacts` selects uploaded, sent or not.
async fn uploads_of(tx: &mut PgConnection, contacts: &str, args: &Args) -> Result<BTreeMap<AttachmentId, String>> {
    let sql = format!("SELECT id, blob_key FROM attachments WHERE uploader_kind = 'contact' AND uploader_id IN ({contacts})");
    let rows = bind3(sqlx::query(&sql), args).fetch_all(&mut *tx).await.map_err(db)?;
    Ok(rows.iter().map(|r| (AttachmentId(r.get::<Uuid, _>(0)), r.get(1))).collect())
}

/// Counts (`preview`) or deletes the page views and tracked events older than the
/// cutoff of the site's contacts, and all of those of the contacts `leaving` selects.
async fn views_and_events(tx: &mut PgConnection, leaving: &str, args: &Args, preview: bool) -> Result<(u64, u64)> {
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

/// How many messages the events matching `cond` hold (their search words go with them).
async fn unindex_messages(tx: &mut PgConnection, cond: &str, args: &Args) -> Result<u64> {
    count(tx, &format!("SELECT count(*) FROM events WHERE message_id IS NOT NULL AND {cond}"), args).await
}

/// Deletes the attachment rows and queues their blobs for deletion.
async fn drop_attachments(tx: &mut PgConnection, attachments: &BTreeMap<AttachmentId, String>, at: Timestamp) -> Result<()> {
    for (id, key) in attachments {
        sqlx::query("DELETE FROM attachments WHERE id = $1").bind(id.0).execute(&mut *tx).await.map_err(db)?;
        sqlx::query("INSERT INTO blob_deletions (blob_key, queued_at) VALUES ($1, $2) ON CONFLICT (blob_key) DO NOTHING")
            .bind(key)
            .bind(at.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    Ok(())
}

async fn oldest_kept(tx: &mut PgConnection, args: &Args) -> Result<Option<Timestamp>> {
    let sql = format!("SELECT min(updated_at) FROM conversations WHERE workspace_id = $1 AND site_id = $2 AND id NOT IN ({EXPIRED})");
    let oldest: Option<i64> = bind3(sqlx::query(&sql), args).fetch_one(&mut *tx).await.map_err(db)?.get(0);
    Ok(oldest.map(Timestamp))
}

pub(crate) async fn gone_contacts(store: &PgStore, ws: WorkspaceId, ids: &[ContactId]) -> Result<Vec<ContactId>> {
    let wanted: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let current: std::collections::HashSet<Uuid> =
        sqlx::query_scalar("SELECT id FROM contacts WHERE workspace_id = $1 AND id = ANY($2) AND erased_at IS NULL")
            .bind(ws.0)
            .bind(&wanted)
            .fetch_all(&store.pool)
            .await
            .map_err(db)?
            .into_iter()
            .collect();
    Ok(ids.iter().copied().filter(|id| !current.contains(&id.0)).collect())
}
