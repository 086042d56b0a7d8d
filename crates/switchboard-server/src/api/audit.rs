//! The audit log for owners: a filtered, cursor-paged list, and the same as CSV.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_core::{AuditQuery, csv_line};
use switchboard_domain::*;
use switchboard_proto as p;
use switchboard_store::AuditCursor;
use utoipa::IntoParams;
use uuid::Uuid;

use super::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, Json, Query};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct AuditParams {
    /// Who acted: `agent`, `integration` (an API token) or `system` (the command line).
    actor_kind: Option<p::ActorKind>,
    /// The agent's or token's id; needs `actor_kind`.
    actor_id: Option<Uuid>,
    action: Option<p::AuditAction>,
    /// What the entry is about; needs `target_id`.
    target_kind: Option<p::AuditTargetKind>,
    target_id: Option<Uuid>,
    /// Entries at or after this time (Unix ms).
    from: Option<i64>,
    /// Entries before this time (Unix ms).
    to: Option<i64>,
    /// `next_cursor` of the previous page.
    before: Option<String>,
    /// How many to return (default 50); values above the server's page cap (200) are cut to it.
    #[param(minimum = 0)]
    limit: Option<i64>,
}

fn cursor(raw: &str) -> Result<AuditCursor, ValidationError> {
    let bad = || ValidationError::new("before", "is not a cursor from this API");
    let (at, id) = raw.split_once('_').ok_or_else(bad)?;
    Ok(AuditCursor { at: Timestamp(at.parse().map_err(|_| bad())?), id: AuditEntryId(id.parse().map_err(|_| bad())?) })
}

fn query(q: AuditParams) -> Result<AuditQuery, ValidationError> {
    let actor = match (q.actor_kind, q.actor_id) {
        (None, None) => None,
        (Some(p::ActorKind::System), None) => Some(Actor::System),
        (Some(p::ActorKind::Agent), Some(id)) => Some(Actor::Agent(AgentId(id))),
        (Some(p::ActorKind::Integration), Some(id)) => Some(Actor::Integration(ApiTokenId(id))),
        _ => return Err(ValidationError::new("actor_id", "goes with actor_kind agent or integration, and only with them")),
    };
    let target = match (q.target_kind, q.target_id) {
        (None, None) => None,
        (Some(kind), Some(id)) => Some(AuditTarget { kind: kind.into(), id }),
        _ => return Err(ValidationError::new("target_id", "goes with target_kind")),
    };
    Ok(AuditQuery {
        actor,
        action: q.action.map(Into::into),
        target,
        from: q.from.map(Timestamp),
        to: q.to.map(Timestamp),
        before: q.before.as_deref().map(cursor).transpose()?,
        limit: parse::limit(q.limit)?,
    })
}

/// The audit log
///
/// Owners only. Administrative acts and who read which transcript or contact, newest
/// first; pass `next_cursor` back as `before` for the next page.
#[utoipa::path(get, path = "/audit", operation_id = "audit_log", tag = "audit", params(AuditParams),
    responses((status = 200, body = p::AuditPage), (status = 403, description = "`forbidden`: owners only", body = p::ErrorBody),
        (status = 422, body = p::ErrorBody)))]
pub async fn list(State(app): State<AppState>, auth: Auth, Query(q): Query<AuditParams>) -> ApiResult<Json<p::AuditPage>> {
    let page = app.core.audit_log(&auth.principal, query(q)?).await?;
    let next_cursor = page.next.map(|c| format!("{}_{}", c.at.0, c.id));
    Ok(Json(p::AuditPage { entries: page.entries.iter().map(Into::into).collect(), next_cursor }))
}

/// The audit log as CSV
///
/// Owners only. The same filters as `GET /audit` (`before` and `limit` aside: every
/// matching entry, up to 100,000), as a CSV file with a header row. Fields a
/// spreadsheet would run as a formula start with `'`.
#[utoipa::path(get, path = "/audit.csv", operation_id = "audit_csv", tag = "audit", params(AuditParams),
    responses((status = 200, description = "the entries as CSV", content_type = "text/csv", body = String),
        (status = 403, description = "`forbidden`: owners only", body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn csv(State(app): State<AppState>, auth: Auth, Query(q): Query<AuditParams>) -> ApiResult<Response> {
    let mut q = query(q)?;
    q.before = None;
    let entries = app.core.audit_export(&auth.principal, q).await?;
    let mut out = csv_line(&["at", "actor_kind", "actor_id", "action", "target_kind", "target_id", "detail"]);
    for e in &entries {
        let e = p::AuditEntry::from(e);
        let at = jiff::Timestamp::from_millisecond(e.at).map(|t| t.to_string()).unwrap_or_default();
        let actor_id = e.actor.id.map(|i| i.to_string()).unwrap_or_default();
        let target_kind = e.target_kind.map(|k| enum_name(&k)).unwrap_or_default();
        let target_id = e.target_id.map(|i| i.to_string()).unwrap_or_default();
        out.push_str(&csv_line(&[
            &at,
            &enum_name(&e.actor.kind),
            &actor_id,
            &enum_name(&e.action),
            &target_kind,
            &target_id,
            e.detail.as_deref().unwrap_or(""),
        ]));
    }
    let headers = [
        (CONTENT_TYPE, "text/csv; charset=utf-8"),
        (CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        (CACHE_CONTROL, "no-store"),
    ];
    Ok((headers, out).into_response())
}

/// A wire enum's name, as JSON writes it.
fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
