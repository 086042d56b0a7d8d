//! Live tracking on SQLite: visits and their pages in batches, a contact's browsing
//! history, and invitations (see `switchboard_store::Live`).

use sqlx::SqliteConnection;
use switchboard_domain::*;
use switchboard_store::codec;
use switchboard_store::*;

use crate::SqliteStore;
use crate::directory::found;
use crate::rows::{self, Columns, db, id, opt_ts, s, ts};

pub(crate) async fn record_live(store: &SqliteStore, ws: WorkspaceId, batch: &LiveBatch) -> Result<()> {
    if batch.visits.is_empty() && batch.pages.is_empty() && batch.seen.is_empty() {
        return Ok(());
    }
    let mut write = store.writing().await?;
    let mut tx = sqlx::Connection::begin(&mut *write).await.map_err(db)?;
    for v in &batch.visits {
        insert_visit(&mut tx, ws, v).await?;
    }
    for p in &batch.pages {
        sqlx::query(
            "INSERT INTO page_views (contact_id, visit_id, url, title, referrer, at) \
             SELECT v.contact_id, v.id, $3, $4, $5, $6 FROM visits v JOIN contacts c ON c.id = v.contact_id \
             WHERE v.id = $1 AND v.workspace_id = $2 AND v.contact_id = $7 AND c.erased_at IS NULL",
        )
        .bind(s(p.visit_id))
        .bind(s(ws))
        .bind(&p.page.url)
        .bind(&p.page.title)
        .bind(&p.page.referrer)
        .bind(p.page.at.0)
        .bind(s(p.contact_id))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    for (visit, at) in &batch.seen {
        sqlx::query("UPDATE visits SET last_seen_at = max(last_seen_at, $3) WHERE id = $1 AND workspace_id = $2")
            .bind(s(visit))
            .bind(s(ws))
            .bind(at.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

async fn insert_visit(tx: &mut SqliteConnection, ws: WorkspaceId, v: &Visit) -> Result<()> {
    // A contact erased or deleted meanwhile: nothing is written.
    sqlx::query(
        "INSERT INTO visits (id, workspace_id, site_id, contact_id, number, started_at, last_seen_at, referrer, \
         utm_source, utm_medium, utm_campaign, utm_term, utm_content, browser, os, device, language, country) \
         SELECT $1, $2, $3, c.id, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18 FROM contacts c \
         JOIN sites st ON st.id = $3 AND st.workspace_id = $2 \
         WHERE c.id = $4 AND c.workspace_id = $2 AND c.erased_at IS NULL",
    )
    .bind(s(v.id))
    .bind(s(ws))
    .bind(s(v.site_id))
    .bind(s(v.contact_id))
    .bind(i64::from(v.number))
    .bind(v.started_at.0)
    .bind(v.last_seen_at.0)
    .bind(&v.referrer)
    .bind(&v.utm.source)
    .bind(&v.utm.medium)
    .bind(&v.utm.campaign)
    .bind(&v.utm.term)
    .bind(&v.utm.content)
    .bind(&v.device.browser)
    .bind(&v.device.os)
    .bind(&v.device.device)
    .bind(&v.device.language)
    .bind(&v.country)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn visit_count(store: &SqliteStore, ws: WorkspaceId, site: SiteId, contact: ContactId) -> Result<u32> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM visits WHERE workspace_id = $1 AND site_id = $2 AND contact_id = $3")
        .bind(s(ws))
        .bind(s(site))
        .bind(s(contact))
        .fetch_one(&store.read)
        .await
        .map_err(db)?;
    Ok(n as u32)
}

fn visit(row: &impl Columns) -> Result<Visit> {
    Ok(Visit {
        id: VisitId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        site_id: SiteId(id(row, "site_id")?),
        contact_id: ContactId(id(row, "contact_id")?),
        number: row.column::<i64>("number")? as u32,
        started_at: ts(row, "started_at")?,
        last_seen_at: ts(row, "last_seen_at")?,
        referrer: row.column("referrer")?,
        utm: Utm {
            source: row.column("utm_source")?,
            medium: row.column("utm_medium")?,
            campaign: row.column("utm_campaign")?,
            term: row.column("utm_term")?,
            content: row.column("utm_content")?,
        },
        device: DeviceInfo {
            browser: row.column("browser")?,
            os: row.column("os")?,
            device: row.column("device")?,
            language: row.column("language")?,
        },
        country: row.column("country")?,
    })
}

pub(crate) async fn visits(
    store: &SqliteStore,
    ws: WorkspaceId,
    contact: ContactId,
    before: Option<VisitCursor>,
    limit: u32,
) -> Result<Vec<VisitWithPages>> {
    // Without a cursor: from the end ('~' sorts after every UUID's text).
    let (at, after_id) = match before {
        Some(c) => (c.started_at.0, s(c.id)),
        None => (i64::MAX, "~".to_owned()),
    };
    let rows = sqlx::query(
        "SELECT * FROM visits WHERE workspace_id = $1 AND contact_id = $2 \
         AND (started_at < $3 OR (started_at = $3 AND id < $4)) ORDER BY started_at DESC, id DESC LIMIT $5",
    )
    .bind(s(ws))
    .bind(s(contact))
    .bind(at)
    .bind(after_id)
    .bind(i64::from(limit))
    .fetch_all(&store.read)
    .await
    .map_err(db)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let visit = visit(row)?;
        let pages = sqlx::query("SELECT * FROM page_views WHERE visit_id = $1 ORDER BY at, id")
            .bind(s(visit.id))
            .fetch_all(&store.read)
            .await
            .map_err(db)?
            .iter()
            .map(rows::page_view)
            .collect::<Result<_>>()?;
        out.push(VisitWithPages { visit, pages });
    }
    Ok(out)
}

pub(crate) async fn add_invitation(store: &SqliteStore, i: &Invitation) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO invitations (id, workspace_id, site_id, contact_id, body, agent_id, trigger_id, open, typing_ms, created_at) \
         SELECT $1, $2, $3, c.id, $5, $6, $7, $8, $9, $10 FROM contacts c JOIN sites st ON st.id = $3 AND st.workspace_id = $2 \
         WHERE c.id = $4 AND c.workspace_id = $2 AND c.erased_at IS NULL",
    )
    .bind(s(i.id))
    .bind(s(i.workspace_id))
    .bind(s(i.site_id))
    .bind(s(i.contact_id))
    .bind(&i.body)
    .bind(i.agent_id.map(s))
    .bind(i.trigger_id.map(s))
    .bind(i.open)
    .bind(i64::from(i.typing_ms))
    .bind(i.created_at.0)
    .execute(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    found(r.rows_affected(), Entity::Contact)
}

pub(crate) async fn invitation(store: &SqliteStore, ws: WorkspaceId, iid: InvitationId) -> Result<StoredInvitation> {
    let row = sqlx::query("SELECT * FROM invitations WHERE id = $1 AND workspace_id = $2")
        .bind(s(iid))
        .bind(s(ws))
        .fetch_optional(&store.read)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::Invitation))?;
    Ok(StoredInvitation {
        invitation: Invitation {
            id: InvitationId(id(&row, "id")?),
            workspace_id: WorkspaceId(id(&row, "workspace_id")?),
            site_id: SiteId(id(&row, "site_id")?),
            contact_id: ContactId(id(&row, "contact_id")?),
            body: row.column("body")?,
            agent_id: row.column::<Option<String>>("agent_id")?.map(|a| codec::uuid(&a)).transpose()?.map(AgentId),
            trigger_id: row.column::<Option<String>>("trigger_id")?.map(|a| codec::uuid(&a)).transpose()?.map(TriggerId),
            open: row.column::<i64>("open")? != 0,
            typing_ms: row.column::<i64>("typing_ms")? as u32,
            created_at: ts(&row, "created_at")?,
        },
        answered_at: opt_ts(&row, "answered_at")?,
        conversation_id: row.column::<Option<String>>("conversation_id")?.map(|a| codec::uuid(&a)).transpose()?.map(ConversationId),
    })
}

pub(crate) async fn invitation_answered(
    store: &SqliteStore,
    ws: WorkspaceId,
    iid: InvitationId,
    conversation: ConversationId,
    at: Timestamp,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE invitations SET answered_at = $3, conversation_id = $4 WHERE id = $1 AND workspace_id = $2 AND answered_at IS NULL",
    )
    .bind(s(iid))
    .bind(s(ws))
    .bind(at.0)
    .bind(s(conversation))
    .execute(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    Ok(r.rows_affected() == 1)
}
