//! Live visitors (issue 15): the live list, a contact's browsing history, and an
//! agent's invitation to chat.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use switchboard_domain::{ContactId, SiteId, Timestamp, ValidationError, VisitId};
use switchboard_proto as p;
use switchboard_store::VisitCursor;
use utoipa::IntoParams;
use uuid::Uuid;

use super::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, Json, Path, Query};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct LiveParams {
    /// Only this site's visitors (default: every site of the workspace).
    site_id: Option<Uuid>,
}

/// Live visitors
///
/// The visitors on the workspace's sites now (or on `site_id`), longest on the site
/// first. The agent socket's `visitors` frame follows the same list live. On a cluster,
/// the visitors connected to the node that answers.
#[utoipa::path(get, path = "/visitors/live", operation_id = "live_visitors", tag = "visitors", params(LiveParams),
    responses((status = 200, body = p::LiveVisitors), (status = 404, body = p::ErrorBody)))]
pub async fn live(State(app): State<AppState>, auth: Auth, Query(q): Query<LiveParams>) -> ApiResult<Json<p::LiveVisitors>> {
    let rows = app.core.live_visitors(&auth.principal, q.site_id.map(SiteId)).await?;
    Ok(Json(p::LiveVisitors { visitors: rows.iter().map(Into::into).collect() }))
}

#[derive(Deserialize, IntoParams)]
pub struct VisitsParams {
    /// `next` of the previous page.
    before: Option<String>,
    /// How many visits to return; values above the server's page cap (200) are cut to it.
    #[param(minimum = 0)]
    limit: Option<i64>,
}

fn visit_cursor(raw: &str) -> Result<VisitCursor, ValidationError> {
    let bad = || ValidationError::new("before", "is not a cursor from this API");
    let (at, id) = raw.split_once('_').ok_or_else(bad)?;
    Ok(VisitCursor { started_at: Timestamp(at.parse().map_err(|_| bad())?), id: VisitId(id.parse().map_err(|_| bad())?) })
}

/// A contact's visits
///
/// The contact's browsing history: their visits, newest first, each with its pages
/// (oldest first). Pass `next` back as `before` for the following page.
#[utoipa::path(get, path = "/contacts/{id}/visits", operation_id = "contact_visits", tag = "visitors", params(("id" = Uuid, Path), VisitsParams),
    responses((status = 200, body = p::VisitPage), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn visits(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Query(q): Query<VisitsParams>,
) -> ApiResult<Json<p::VisitPage>> {
    let before = parse::opt(q.before.as_deref(), visit_cursor)?;
    let (visits, next) = app.core.contact_visits(&auth.principal, ContactId(id), before, parse::limit(q.limit)?).await?;
    Ok(Json(p::VisitPage { visits: visits.iter().map(Into::into).collect(), next: next.map(|c| format!("{}_{}", c.started_at.0, c.id)) }))
}

/// Invite a visitor to chat
///
/// Shows the agent's message to a visitor on a site now (the widget's `invitation`);
/// their reply starts a conversation assigned to this agent. `visitor_not_live` when
/// they are not on a site.
#[utoipa::path(post, path = "/contacts/{id}/invite", operation_id = "invite_visitor", tag = "visitors", params(("id" = Uuid, Path)), request_body = p::InviteRequest,
    responses((status = 201, body = p::Invitation), (status = 404, body = p::ErrorBody), (status = 409, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn invite(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::InviteRequest>,
) -> ApiResult<(StatusCode, Json<p::Invitation>)> {
    let invitation = app.core.invite(&auth.principal, ContactId(id), &r.body).await?;
    let agents = app.core.roster(auth.principal.workspace_id).await?;
    let agent = invitation.agent_id.and_then(|a| agents.iter().find(|x| x.id == a));
    Ok((StatusCode::CREATED, Json(p::Invitation::new(&invitation, agent))))
}
