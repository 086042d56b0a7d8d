//! Bans: owners and admins list, add and lift them; any agent blocks the visitor of a
//! conversation. The rules (who may, what is refused) are core's.

use axum::extract::State;
use axum::http::StatusCode;
use switchboard_core::{BlockVisitor, NewBan};
use switchboard_domain::*;
use switchboard_proto as p;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiResult, Json, Path};
use crate::state::AppState;

/// List bans
///
/// Every ban of the workspace, newest first; expired ones are listed with `active: false`.
/// Owners and admins.
#[utoipa::path(get, path = "/bans", tag = "bans", responses((status = 200, body = Vec<p::Ban>), (status = 403, body = p::ErrorBody)))]
pub async fn list_bans(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<p::Ban>>> {
    let now = app.core.now();
    Ok(Json(app.core.bans(&auth.principal).await?.iter().map(|b| p::Ban::new(b, now)).collect()))
}

/// Ban an address, a contact or an e-mail
///
/// Refuses the visitor before anything is written from now on (until `expires_at`), and
/// closes their open sockets. Owners and admins.
#[utoipa::path(post, path = "/bans", tag = "bans", request_body = p::BanRequest,
    responses((status = 201, body = p::Ban), (status = 403, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn create_ban(State(app): State<AppState>, auth: Auth, Json(r): Json<p::BanRequest>) -> ApiResult<(StatusCode, Json<p::Ban>)> {
    let input = NewBan { target: BanTarget::parse(r.kind.as_str(), &r.value)?, reason: r.reason, expires_at: r.expires_at.map(Timestamp) };
    let ban = app.core.create_ban(&auth.principal, input).await?;
    Ok((StatusCode::CREATED, Json(p::Ban::new(&ban, app.core.now()))))
}

/// Lift a ban
#[utoipa::path(delete, path = "/bans/{id}", tag = "bans", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody)))]
pub async fn lift_ban(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    app.core.lift_ban(&auth.principal, BanId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Block a conversation's visitor
///
/// Bans the conversation's contact and, with `ip`, the address they last connected from
/// (when this server saw one). Their open sockets close. Any role.
#[utoipa::path(post, path = "/conversations/{id}/block", tag = "bans", params(("id" = Uuid, Path)), request_body = p::BlockVisitorRequest,
    responses((status = 201, body = Vec<p::Ban>), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn block_visitor(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::BlockVisitorRequest>,
) -> ApiResult<(StatusCode, Json<Vec<p::Ban>>)> {
    let input = BlockVisitor { reason: r.reason, expires_at: r.expires_at.map(Timestamp), ip: r.ip };
    let bans = app.core.block_visitor(&auth.principal, ConversationId(id), input).await?;
    let now = app.core.now();
    Ok((StatusCode::CREATED, Json(bans.iter().map(|b| p::Ban::new(b, now)).collect())))
}
