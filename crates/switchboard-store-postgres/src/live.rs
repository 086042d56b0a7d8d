//! Live tracking on PostgreSQL: visits and their pages in batches, a contact's browsing
//! history, and invitations (see `switchboard_store::Live`).

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};
use switchboard_domain::*;
use switchboard_store::*;

use crate::rows::{self, db, get, id, opt_id, opt_ts, ts};

pub(crate) async fn record_live(pool: &PgPool, ws: WorkspaceId, batch: &LiveBatch) -> Result<()> {
    if batch.visits.is_empty() && batch.pages.is_empty() && batch.seen.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(db)?;
    for v in &batch.visits {
        insert_visit(&mut tx, ws, v).await?;
    }
    if !batch.pages.is_empty() {
        // One statement for the whole batch: the columns bound as arrays.
        let visit_ids: Vec<uuid::Uuid> = batch.pages.iter().map(|p| p.visit_id.0).collect();
        let contact_ids: Vec<uuid::Uuid> = batch.pages.iter().map(|p| p.contact_id.0).collect();
        let urls: Vec<&str> = batch.pages.iter().map(|p| p.page.url.as_str()).collect();
        let titles: Vec<Option<&str>> = batch.pages.iter().map(|p| p.page.title.as_deref()).collect();
        let referrers: Vec<Option<&str>> = batch.pages.iter().map(|p| p.page.referrer.as_deref()).collect();
        let ats: Vec<i64> = batch.pages.iter().map(|p| p.page.at.0).collect();
        sqlx::query(
            "INSERT INTO page_views (contact_id, visit_id, url, title, referrer, at) \
             SELECT v.contact_id, v.id, p.url, p.title, p.referrer, p.at \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[]) \
                  AS p(visit_id, contact_id, url, title, referrer, at) \
             JOIN visits v ON v.id = p.visit_id AND v.contact_id = p.contact_id AND v.workspace_id = $7 \
             JOIN contacts c ON c.id = v.contact_id AND c.erased_at IS NULL",
        )
        .bind(&visit_ids)
        .bind(&contact_ids)
        .bind(&urls)
        .bind(&titles)
        .bind(&referrers)
        .bind(&ats)
        .bind(ws.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    for (visit, at) in &batch.seen {
        sqlx::query("UPDATE visits SET last_seen_at = GREATEST(last_seen_at, $3) WHERE id = $1 AND workspace_id = $2")
            .bind(visit.0)
            .bind(ws.0)
            .bind(at.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

async fn insert_visit(tx: &mut PgConnection, ws: WorkspaceId, v: &Visit) -> Result<()> {
    // A contact erased or deleted meanwhile: nothing is written.
    sqlx::query(
        "INSERT INTO visits (id, workspace_id, site_id, contact_id, number, started_at, last_seen_at, referrer, \
         utm_source, utm_medium, utm_campaign, utm_term, utm_content, browser, os, device, language, country) \
         SELECT $1, $2, $3, c.id, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18 FROM contacts c \
         JOIN sites st ON st.id = $3 AND st.workspace_id = $2 \
         WHERE c.id = $4 AND c.workspace_id = $2 AND c.erased_at IS NULL",
    )
    .bind(v.id.0)
    .bind(ws.0)
    .bind(v.site_id.0)
    .bind(v.contact_id.0)
    .bind(v.number as i32)
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

pub(crate) async fn visit_count(pool: &PgPool, ws: WorkspaceId, site: SiteId, contact: ContactId) -> Result<u32> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM visits WHERE workspace_id = $1 AND site_id = $2 AND contact_id = $3")
        .bind(ws.0)
        .bind(site.0)
        .bind(contact.0)
        .fetch_one(pool)
        .await
        .map_err(db)?;
    Ok(n as u32)
}

fn visit(row: &PgRow) -> Result<Visit> {
    Ok(Visit {
        id: VisitId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        site_id: SiteId(id(row, "site_id")?),
        contact_id: ContactId(id(row, "contact_id")?),
        number: get::<i32>(row, "number")? as u32,
        started_at: ts(row, "started_at")?,
        last_seen_at: ts(row, "last_seen_at")?,
        referrer: get(row, "referrer")?,
        utm: Utm {
            source: get(row, "utm_source")?,
            medium: get(row, "utm_medium")?,
            campaign: get(row, "utm_campaign")?,
            term: get(row, "utm_term")?,
            content: get(row, "utm_content")?,
        },
        device: DeviceInfo {
            browser: get(row, "browser")?,
            os: get(row, "os")?,
            device: get(row, "device")?,
            language: get(row, "language")?,
        },
        country: get(row, "country")?,
    })
}

pub(crate) async fn visits(
    pool: &PgPool,
    ws: WorkspaceId,
    contact: ContactId,
    before: Option<VisitCursor>,
    limit: u32,
) -> Result<Vec<VisitWithPages>> {
    let rows = sqlx::query(
        "SELECT * FROM visits WHERE workspace_id = $1 AND contact_id = $2 \
         AND ($3::bigint IS NULL OR (started_at, id) < ($3, $4)) ORDER BY started_at DESC, id DESC LIMIT $5",
    )
    .bind(ws.0)
    .bind(contact.0)
    .bind(before.map(|c| c.started_at.0))
    .bind(before.map(|c| c.id.0))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let visit = visit(row)?;
        let pages = sqlx::query("SELECT * FROM page_views WHERE visit_id = $1 ORDER BY at, id")
            .bind(visit.id.0)
            .fetch_all(pool)
            .await
            .map_err(db)?
            .iter()
            .map(rows::page_view)
            .collect::<Result<_>>()?;
        out.push(VisitWithPages { visit, pages });
    }
    Ok(out)
}

pub(crate) async fn add_invitation(pool: &PgPool, i: &Invitation) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO invitations (id, workspace_id, site_id, contact_id, body, agent_id, trigger_id, open, typing_ms, created_at) \
         SELECT $1, $2, $3, c.id, $5, $6, $7, $8, $9, $10 FROM contacts c JOIN sites st ON st.id = $3 AND st.workspace_id = $2 \
         WHERE c.id = $4 AND c.workspace_id = $2 AND c.erased_at IS NULL",
    )
    .bind(i.id.0)
    .bind(i.workspace_id.0)
    .bind(i.site_id.0)
    .bind(i.contact_id.0)
    .bind(&i.body)
    .bind(i.agent_id.map(|a| a.0))
    .bind(i.trigger_id.map(|t| t.0))
    .bind(i.open)
    .bind(i.typing_ms as i32)
    .bind(i.created_at.0)
    .execute(pool)
    .await
    .map_err(db)?;
    if r.rows_affected() == 0 { Err(StoreError::NotFound(Entity::Contact)) } else { Ok(()) }
}

pub(crate) async fn invitation(pool: &PgPool, ws: WorkspaceId, iid: InvitationId) -> Result<StoredInvitation> {
    let row = sqlx::query("SELECT * FROM invitations WHERE id = $1 AND workspace_id = $2")
        .bind(iid.0)
        .bind(ws.0)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound(Entity::Invitation))?;
    Ok(StoredInvitation {
        invitation: Invitation {
            id: InvitationId(id(&row, "id")?),
            workspace_id: WorkspaceId(id(&row, "workspace_id")?),
            site_id: SiteId(id(&row, "site_id")?),
            contact_id: ContactId(id(&row, "contact_id")?),
            body: get(&row, "body")?,
            agent_id: opt_id(&row, "agent_id")?.map(AgentId),
            trigger_id: opt_id(&row, "trigger_id")?.map(TriggerId),
            open: get(&row, "open")?,
            typing_ms: get::<i32>(&row, "typing_ms")? as u32,
            created_at: ts(&row, "created_at")?,
        },
        answered_at: opt_ts(&row, "answered_at")?,
        conversation_id: opt_id(&row, "conversation_id")?.map(ConversationId),
    })
}

pub(crate) async fn invitation_answered(
    pool: &PgPool,
    ws: WorkspaceId,
    iid: InvitationId,
    conversation: ConversationId,
    at: Timestamp,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE invitations SET answered_at = $3, conversation_id = $4 WHERE id = $1 AND workspace_id = $2 AND answered_at IS NULL",
    )
    .bind(iid.0)
    .bind(ws.0)
    .bind(at.0)
    .bind(conversation.0)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(r.rows_affected() == 1)
}
