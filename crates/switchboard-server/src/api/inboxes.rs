//! Inboxes (where conversations come in) and the workspace's own settings.

use axum::extract::State;
use axum::http::StatusCode;
use switchboard_proto as p;

use super::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, Json};
use crate::state::AppState;

/// Every member of the workspace may list its inboxes. Today each is a site (`website`).
#[utoipa::path(get, path = "/inboxes", tag = "inboxes", responses((status = 200, body = Vec<p::Inbox>)))]
pub async fn list_inboxes(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<p::Inbox>>> {
    Ok(Json(app.core.inboxes(&auth.principal).await?.iter().map(Into::into).collect()))
}

/// Owners and admins. A `website` inbox is created as a site with default settings;
/// the other kinds cannot take conversations yet and answer 422 `inbox_kind_unsupported`.
#[utoipa::path(post, path = "/inboxes", tag = "inboxes", request_body = p::CreateInbox,
    responses((status = 201, body = p::Inbox), (status = 403, body = p::ErrorBody),
        (status = 422, description = "`validation_failed`, or `inbox_kind_unsupported`: only `website` inboxes can be created", body = p::ErrorBody)))]
pub async fn create_inbox(
    State(app): State<AppState>,
    auth: Auth,
    Json(r): Json<p::CreateInbox>,
) -> ApiResult<(StatusCode, Json<p::Inbox>)> {
    let inbox = app.core.create_inbox(&auth.principal, &r.name, r.kind.into()).await?;
    Ok((StatusCode::CREATED, Json((&inbox).into())))
}

/// Every member may read the workspace.
#[utoipa::path(get, path = "/workspace", tag = "workspace", responses((status = 200, body = p::Workspace)))]
pub async fn get_workspace(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<p::Workspace>> {
    Ok(Json((&app.core.workspace(&auth.principal).await?).into()))
}

/// Owners and admins change the workspace's name and time zone (an IANA name).
#[utoipa::path(patch, path = "/workspace", tag = "workspace", request_body = p::UpdateWorkspace,
    responses((status = 200, body = p::Workspace), (status = 403, body = p::ErrorBody),
        (status = 422, description = "`validation_failed`: an empty name, or a time zone the IANA database does not know", body = p::ErrorBody)))]
pub async fn update_workspace(State(app): State<AppState>, auth: Auth, Json(r): Json<p::UpdateWorkspace>) -> ApiResult<Json<p::Workspace>> {
    let patch = parse::workspace_patch(r)?;
    Ok(Json((&app.core.update_workspace(&auth.principal, patch).await?).into()))
}
