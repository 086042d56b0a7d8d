//! Proactive rules, lead scores and conversions on PostgreSQL (issue 15; the trait is
//! `switchboard_store::Proactive`). The same statements as SQLite's `proactive.rs`, with
//! native UUIDs and booleans; counts move in the same transaction as the row that
//! causes them, and read-modify-writes lock the row they start from.

use sqlx::Row;
use sqlx::postgres::PgRow;
use switchboard_domain::scoring::{Earning, LeadScore, Scoring};
use switchboard_domain::triggers::*;
use switchboard_domain::*;
use switchboard_store::codec;
use switchboard_store::*;
use uuid::Uuid;

use crate::PgStore;
use crate::rows::db;

fn found(rows: u64, entity: Entity) -> Result<()> {
    if rows == 0 { Err(StoreError::NotFound(entity)) } else { Ok(()) }
}

fn id(row: &PgRow, col: &str) -> Result<Uuid> {
    row.try_get(col).map_err(db)
}

fn opt_id(row: &PgRow, col: &str) -> Result<Option<Uuid>> {
    row.try_get(col).map_err(db)
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(row: &'r PgRow, col: &str) -> Result<T> {
    row.try_get(col).map_err(db)
}

fn trigger(row: &PgRow) -> Result<Trigger> {
    Ok(Trigger {
        id: TriggerId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        site_id: SiteId(id(row, "site_id")?),
        name: get(row, "name")?,
        enabled: get::<bool>(row, "enabled")?,
        conditions: decode_conditions(&get::<String>(row, "conditions")?)?,
        actions: decode_actions(&get::<String>(row, "actions")?)?,
        frequency: frequency_from_parts(&get::<String>(row, "frequency")?, get(row, "every_days")?)?,
        stats: TriggerStats {
            fired: get::<i64>(row, "fired")? as u64,
            opened: get::<i64>(row, "opened")? as u64,
            answered: get::<i64>(row, "answered")? as u64,
            converted: get::<i64>(row, "converted")? as u64,
            conversion_value: get(row, "conversion_value")?,
        },
        created_at: Timestamp(get(row, "created_at")?),
        updated_at: Timestamp(get(row, "updated_at")?),
    })
}

fn conversion(row: &PgRow) -> Result<Conversion> {
    Ok(Conversion {
        id: ConversionId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        site_id: SiteId(id(row, "site_id")?),
        contact_id: ContactId(id(row, "contact_id")?),
        event: get(row, "event")?,
        value: get(row, "value")?,
        at: Timestamp(get(row, "at")?),
        conversation_id: opt_id(row, "conversation_id")?.map(ConversationId),
        trigger_id: opt_id(row, "trigger_id")?.map(TriggerId),
    })
}

pub(crate) async fn create_trigger(store: &PgStore, t: &Trigger) -> Result<()> {
    let (frequency, every_days) = frequency_parts(t.frequency);
    sqlx::query(
        "INSERT INTO triggers (id, workspace_id, site_id, name, enabled, conditions, actions, frequency, every_days, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM sites WHERE id = $3 AND workspace_id = $2",
    )
    .bind(t.id.0)
    .bind(t.workspace_id.0)
    .bind(t.site_id.0)
    .bind(&t.name)
    .bind(t.enabled)
    .bind(encode_conditions(&t.conditions))
    .bind(encode_actions(&t.actions))
    .bind(frequency)
    .bind(every_days)
    .bind(t.created_at.0)
    .bind(t.updated_at.0)
    .execute(&store.pool)
    .await
    .map_err(db)
    .and_then(|r| found(r.rows_affected(), Entity::Site))
}

pub(crate) async fn triggers(store: &PgStore, ws: WorkspaceId, site: SiteId) -> Result<Vec<Trigger>> {
    let rows = sqlx::query("SELECT * FROM triggers WHERE workspace_id = $1 AND site_id = $2 ORDER BY created_at, id")
        .bind(ws.0)
        .bind(site.0)
        .fetch_all(&store.pool)
        .await
        .map_err(db)?;
    rows.iter().map(trigger).collect()
}

pub(crate) async fn get_trigger(store: &PgStore, ws: WorkspaceId, id: TriggerId) -> Result<Trigger> {
    let row = sqlx::query("SELECT * FROM triggers WHERE workspace_id = $1 AND id = $2")
        .bind(ws.0)
        .bind(id.0)
        .fetch_optional(&store.pool)
        .await
        .map_err(db)?;
    trigger(&row.ok_or(StoreError::NotFound(Entity::Trigger))?)
}

pub(crate) async fn update_trigger(store: &PgStore, ws: WorkspaceId, id: TriggerId, d: &TriggerDraft, at: Timestamp) -> Result<Trigger> {
    let (frequency, every_days) = frequency_parts(d.frequency);
    let row = sqlx::query(
        "UPDATE triggers SET name = $3, enabled = $4, conditions = $5, actions = $6, frequency = $7, every_days = $8, updated_at = $9 \
         WHERE workspace_id = $1 AND id = $2 RETURNING *",
    )
    .bind(ws.0)
    .bind(id.0)
    .bind(&d.name)
    .bind(d.enabled)
    .bind(encode_conditions(&d.conditions))
    .bind(encode_actions(&d.actions))
    .bind(frequency)
    .bind(every_days)
    .bind(at.0)
    .fetch_optional(&store.pool)
    .await
    .map_err(db)?;
    trigger(&row.ok_or(StoreError::NotFound(Entity::Trigger))?)
}

pub(crate) async fn delete_trigger(store: &PgStore, ws: WorkspaceId, id: TriggerId) -> Result<()> {
    let r = sqlx::query("DELETE FROM triggers WHERE workspace_id = $1 AND id = $2")
        .bind(ws.0)
        .bind(id.0)
        .execute(&store.pool)
        .await
        .map_err(db)?;
    found(r.rows_affected(), Entity::Trigger)
}

pub(crate) async fn last_firings(store: &PgStore, ws: WorkspaceId, contact: ContactId) -> Result<Vec<(TriggerId, Firing)>> {
    let rows = sqlx::query(
        "SELECT f.trigger_id, f.visit_id, f.at FROM trigger_firings f WHERE f.workspace_id = $1 AND f.contact_id = $2 \
         AND f.at = (SELECT MAX(g.at) FROM trigger_firings g WHERE g.contact_id = f.contact_id AND g.trigger_id = f.trigger_id) \
         ORDER BY f.trigger_id, f.id DESC",
    )
    .bind(ws.0)
    .bind(contact.0)
    .fetch_all(&store.pool)
    .await
    .map_err(db)?;
    let mut out: Vec<(TriggerId, Firing)> = Vec::with_capacity(rows.len());
    for row in &rows {
        let t = TriggerId(id(row, "trigger_id")?);
        if out.last().is_some_and(|(last, _)| *last == t) {
            continue; // two firings at the same instant: the latest written wins
        }
        out.push((t, Firing { visit_id: VisitId(id(row, "visit_id")?), at: Timestamp(get(row, "at")?) }));
    }
    Ok(out)
}

pub(crate) async fn contact_firings(store: &PgStore, ws: WorkspaceId, contact: ContactId) -> Result<Vec<ContactFiring>> {
    let rows = sqlx::query(
        "SELECT trigger_id, site_id, visit_id, at, invitation_id, opened_at, answered_at FROM trigger_firings \
         WHERE workspace_id = $1 AND contact_id = $2 ORDER BY at DESC, id DESC",
    )
    .bind(ws.0)
    .bind(contact.0)
    .fetch_all(&store.pool)
    .await
    .map_err(db)?;
    let at = |row, col| -> Result<Option<Timestamp>> { Ok(get::<Option<i64>>(row, col)?.map(Timestamp)) };
    (rows.iter())
        .map(|row| {
            Ok(ContactFiring {
                trigger_id: TriggerId(id(row, "trigger_id")?),
                site_id: SiteId(id(row, "site_id")?),
                visit_id: VisitId(id(row, "visit_id")?),
                at: Timestamp(get(row, "at")?),
                invitation_id: opt_id(row, "invitation_id")?.map(InvitationId),
                opened_at: at(row, "opened_at")?,
                answered_at: at(row, "answered_at")?,
            })
        })
        .collect()
}

pub(crate) async fn record_firing(store: &PgStore, ws: WorkspaceId, f: &FiringRecord) -> Result<()> {
    let mut tx = store.pool.begin().await.map_err(db)?;
    let r = sqlx::query(
        "INSERT INTO trigger_firings (workspace_id, trigger_id, site_id, contact_id, visit_id, at, invitation_id) \
         SELECT workspace_id, id, site_id, $3, $4, $5, $6 FROM triggers WHERE workspace_id = $1 AND id = $2",
    )
    .bind(ws.0)
    .bind(f.trigger_id.0)
    .bind(f.contact_id.0)
    .bind(f.visit_id.0)
    .bind(f.at.0)
    .bind(f.invitation_id.map(|i| i.0))
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    found(r.rows_affected(), Entity::Trigger)?;
    sqlx::query("UPDATE triggers SET fired = fired + 1 WHERE id = $1").bind(f.trigger_id.0).execute(&mut *tx).await.map_err(db)?;
    tx.commit().await.map_err(db)
}

pub(crate) async fn count_invitation(
    store: &PgStore,
    ws: WorkspaceId,
    invitation: InvitationId,
    outcome: InvitationOutcome,
    at: Timestamp,
) -> Result<bool> {
    let (column, counter) = match outcome {
        InvitationOutcome::Opened => ("opened_at", "opened"),
        InvitationOutcome::Answered => ("answered_at", "answered"),
    };
    let mut tx = store.pool.begin().await.map_err(db)?;
    let trigger: Option<Uuid> = sqlx::query_scalar(&format!(
        "UPDATE trigger_firings SET {column} = $3 WHERE workspace_id = $1 AND invitation_id = $2 AND {column} IS NULL RETURNING trigger_id"
    ))
    .bind(ws.0)
    .bind(invitation.0)
    .bind(at.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some(trigger) = trigger else { return Ok(false) };
    sqlx::query(&format!("UPDATE triggers SET {counter} = {counter} + 1 WHERE id = $1"))
        .bind(trigger)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(true)
}

pub(crate) async fn latest_shown_rule(
    store: &PgStore,
    ws: WorkspaceId,
    site: SiteId,
    contact: ContactId,
    at: Timestamp,
) -> Result<Option<(TriggerId, Timestamp)>> {
    let row = sqlx::query(
        "SELECT trigger_id, at FROM trigger_firings WHERE workspace_id = $1 AND site_id = $2 AND contact_id = $3 \
         AND invitation_id IS NOT NULL AND at <= $4 ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(ws.0)
    .bind(site.0)
    .bind(contact.0)
    .bind(at.0)
    .fetch_optional(&store.pool)
    .await
    .map_err(db)?;
    row.map(|r| Ok((TriggerId(id(&r, "trigger_id")?), Timestamp(get(&r, "at")?)))).transpose()
}

pub(crate) async fn latest_conversation(
    store: &PgStore,
    ws: WorkspaceId,
    site: SiteId,
    contact: ContactId,
    at: Timestamp,
) -> Result<Option<(ConversationId, Timestamp)>> {
    let row = sqlx::query(
        "SELECT id, created_at FROM conversations WHERE workspace_id = $1 AND site_id = $2 AND contact_id = $3 \
         AND created_at <= $4 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(ws.0)
    .bind(site.0)
    .bind(contact.0)
    .bind(at.0)
    .fetch_optional(&store.pool)
    .await
    .map_err(db)?;
    row.map(|r| Ok((ConversationId(id(&r, "id")?), Timestamp(get(&r, "created_at")?)))).transpose()
}

pub(crate) async fn record_conversion(store: &PgStore, c: &Conversion) -> Result<()> {
    let mut tx = store.pool.begin().await.map_err(db)?;
    let r = sqlx::query(
        "INSERT INTO conversions (id, workspace_id, site_id, contact_id, event, value, at, conversation_id, trigger_id) \
         SELECT $1, $2, $3, id, $5, $6, $7, $8, $9 FROM contacts WHERE id = $4 AND workspace_id = $2",
    )
    .bind(c.id.0)
    .bind(c.workspace_id.0)
    .bind(c.site_id.0)
    .bind(c.contact_id.0)
    .bind(&c.event)
    .bind(c.value)
    .bind(c.at.0)
    .bind(c.conversation_id.map(|i| i.0))
    .bind(c.trigger_id.map(|i| i.0))
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    found(r.rows_affected(), Entity::Contact)?;
    if let Some(t) = c.trigger_id {
        sqlx::query(
            "UPDATE triggers SET converted = converted + 1, conversion_value = conversion_value + $3 WHERE workspace_id = $1 AND id = $2",
        )
        .bind(c.workspace_id.0)
        .bind(t.0)
        .bind(c.value.unwrap_or(0.0))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

pub(crate) async fn conversions(
    store: &PgStore,
    ws: WorkspaceId,
    site: SiteId,
    before: Option<ConversionCursor>,
    limit: u32,
) -> Result<Vec<Conversion>> {
    let (at, after_id) = before.map(|c| (c.at.0, Some(c.id.0))).unwrap_or((i64::MAX, None));
    let rows = sqlx::query(
        "SELECT * FROM conversions WHERE workspace_id = $1 AND site_id = $2 AND ($3::uuid IS NULL OR at < $4 OR (at = $4 AND id < $3)) \
         ORDER BY at DESC, id DESC LIMIT $5",
    )
    .bind(ws.0)
    .bind(site.0)
    .bind(after_id)
    .bind(at)
    .bind(i64::from(limit))
    .fetch_all(&store.pool)
    .await
    .map_err(db)?;
    rows.iter().map(conversion).collect()
}

pub(crate) async fn contact_conversions(store: &PgStore, ws: WorkspaceId, contact: ContactId) -> Result<Vec<Conversion>> {
    let rows = sqlx::query("SELECT * FROM conversions WHERE workspace_id = $1 AND contact_id = $2 ORDER BY at DESC, id DESC")
        .bind(ws.0)
        .bind(contact.0)
        .fetch_all(&store.pool)
        .await
        .map_err(db)?;
    rows.iter().map(conversion).collect()
}

pub(crate) async fn scoring(store: &PgStore, ws: WorkspaceId) -> Result<Scoring> {
    let row =
        sqlx::query("SELECT * FROM scoring_settings WHERE workspace_id = $1").bind(ws.0).fetch_optional(&store.pool).await.map_err(db)?;
    let Some(row) = row else { return Ok(Scoring::default()) };
    Ok(Scoring {
        rules: decode_scoring_rules(&get::<String>(&row, "rules")?)?,
        half_life_days: get::<Option<i64>>(&row, "half_life_days")?.map(|d| d as u16),
        priority_at: get::<Option<i64>>(&row, "priority_at")?.map(|p| p as i32),
    })
}

pub(crate) async fn set_scoring(store: &PgStore, ws: WorkspaceId, sc: &Scoring) -> Result<()> {
    sqlx::query(
        "INSERT INTO scoring_settings (workspace_id, rules, half_life_days, priority_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (workspace_id) DO UPDATE SET rules = excluded.rules, half_life_days = excluded.half_life_days, priority_at = excluded.priority_at",
    )
    .bind(ws.0)
    .bind(encode_scoring_rules(&sc.rules))
    .bind(sc.half_life_days.map(i64::from))
    .bind(sc.priority_at.map(i64::from))
    .execute(&store.pool)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn earn_points(
    store: &PgStore,
    ws: WorkspaceId,
    contact: ContactId,
    earnings: &[Earning],
    half_life_days: Option<u16>,
    at: Timestamp,
) -> Result<LeadScore> {
    let mut tx = store.pool.begin().await.map_err(db)?;
    // Postgres-only: `FOR UPDATE`, so concurrent earnings add up rather than overwrite.
    let row =
        sqlx::query("SELECT lead_score, lead_score_at, lead_score_half_life FROM contacts WHERE id = $1 AND workspace_id = $2 FOR UPDATE")
            .bind(contact.0)
            .bind(ws.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound(Entity::Contact))?;
    let score = LeadScore {
        value: get(&row, "lead_score")?,
        at: Timestamp(get(&row, "lead_score_at")?),
        half_life_days: get::<Option<i64>>(&row, "lead_score_half_life")?.map(|d| d as u16),
    };
    let mut points = 0i32;
    let mut any = false;
    for e in earnings {
        if let Some(once) = once_key(&e.once) {
            let r =
                sqlx::query("INSERT INTO score_awards (contact_id, rule_key, once_key, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                    .bind(contact.0)
                    .bind(&e.rule_key)
                    .bind(once)
                    .bind(at.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            if r.rows_affected() == 0 {
                continue;
            }
        }
        any = true;
        points = points.saturating_add(e.points);
    }
    if !any {
        return Ok(score);
    }
    let score = score.earn(points, at, half_life_days);
    sqlx::query("UPDATE contacts SET lead_score = $2, lead_score_at = $3, lead_score_half_life = $4 WHERE id = $1")
        .bind(contact.0)
        .bind(score.value)
        .bind(score.at.0)
        .bind(score.half_life_days.map(i64::from))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(score)
}

fn pending(row: &PgRow) -> Result<PendingActions> {
    Ok(PendingActions {
        labels: codec::decode_label_list(&get::<String>(row, "labels")?)?,
        priority: get::<Option<String>>(row, "priority")?.map(|p| Priority::parse(&p)).transpose()?,
    })
}

pub(crate) async fn add_pending(store: &PgStore, ws: WorkspaceId, contact: ContactId, actions: &PendingActions) -> Result<()> {
    let mut tx = store.pool.begin().await.map_err(db)?;
    // Postgres-only: lock the contact so two rules' actions merge one after the other.
    sqlx::query("SELECT 1 FROM contacts WHERE id = $1 FOR UPDATE").bind(contact.0).execute(&mut *tx).await.map_err(db)?;
    let row = sqlx::query("SELECT * FROM pending_actions WHERE contact_id = $1 AND workspace_id = $2")
        .bind(contact.0)
        .bind(ws.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    let mut merged = row.as_ref().map(pending).transpose()?.unwrap_or_default();
    merged.merge(actions.clone());
    let r = sqlx::query(
        "INSERT INTO pending_actions (contact_id, workspace_id, labels, priority) SELECT id, workspace_id, $3, $4 FROM contacts \
         WHERE id = $1 AND workspace_id = $2 \
         ON CONFLICT (contact_id) DO UPDATE SET labels = excluded.labels, priority = excluded.priority",
    )
    .bind(contact.0)
    .bind(ws.0)
    .bind(codec::encode_labels(&merged.labels))
    .bind(merged.priority.map(Priority::as_str))
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    found(r.rows_affected(), Entity::Contact)?;
    tx.commit().await.map_err(db)
}

pub(crate) async fn take_pending(store: &PgStore, ws: WorkspaceId, contact: ContactId) -> Result<PendingActions> {
    let row = sqlx::query("DELETE FROM pending_actions WHERE contact_id = $1 AND workspace_id = $2 RETURNING *")
        .bind(contact.0)
        .bind(ws.0)
        .fetch_optional(&store.pool)
        .await
        .map_err(db)?;
    Ok(row.as_ref().map(pending).transpose()?.unwrap_or_default())
}
