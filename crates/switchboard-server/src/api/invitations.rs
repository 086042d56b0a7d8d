//! Inviting agents by e-mail: the admin's invitations under `/agents/invitations`, and
//! the public invitation page's two calls under `/invitations/{token}` (read it, accept
//! it: which signs the new agent in like `POST /sessions`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use switchboard_domain::AgentInvitationId;
use switchboard_proto as p;
use uuid::Uuid;

use super::parse;
use super::qr::base_url;
use super::sessions::signed_in;
use crate::auth::{Auth, ClientInfo};
use crate::error::{ApiResult, Json, Path};
use crate::state::AppState;

fn created(c: switchboard_core::CreatedInvitation, inviter: Option<String>) -> p::CreatedAgentInvitation {
    p::CreatedAgentInvitation { invitation: p::AgentInvitation::new(&c.invitation, inviter), link: c.link }
}

/// Invite an agent by e-mail
///
/// Admins and owners; only an owner invites an owner. The answer holds the link, shown
/// only here (the server keeps its hash); with mail configured it is also mailed, in
/// the background. An e-mail that signs in already is `email_taken`; one with a pending
/// invitation `invitation_pending` (both name the `email` field).
#[utoipa::path(post, path = "/agents/invitations", operation_id = "invite_agent", tag = "agents", request_body = p::InviteAgent,
    responses((status = 201, body = p::CreatedAgentInvitation), (status = 403, body = p::ErrorBody), (status = 409, body = p::ErrorBody),
        (status = 422, body = p::ErrorBody)))]
pub async fn invite(
    State(app): State<AppState>,
    auth: Auth,
    parts: Parts,
    Json(r): Json<p::InviteAgent>,
) -> ApiResult<(StatusCode, Json<p::CreatedAgentInvitation>)> {
    let base = base_url(&app, &parts)?;
    let made = app.core.invite_agent(&auth.principal, parse::new_invitation(r)?, &base).await?;
    let inviter = match auth.principal.agent_id() {
        Some(id) => Some(app.core.agent(&auth.principal, id).await?.name),
        None => None,
    };
    Ok((StatusCode::CREATED, Json(created(made, inviter))))
}

/// List pending invitations
///
/// Invitations neither accepted nor revoked (expired ones too, to resend), newest
/// first, with their inviters and whether their mail went out. Admins and owners.
#[utoipa::path(get, path = "/agents/invitations", operation_id = "list_agent_invitations", tag = "agents",
    responses((status = 200, body = Vec<p::AgentInvitation>), (status = 403, body = p::ErrorBody)))]
pub async fn list(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<p::AgentInvitation>>> {
    let views = app.core.agent_invitations(&auth.principal).await?;
    Ok(Json(views.into_iter().map(|v| p::AgentInvitation::new(&v.invitation, v.inviter_name)).collect()))
}

/// Revoke an invitation
///
/// Its link stops working at once. Admins and owners; an owner's invitation only by an owner.
#[utoipa::path(delete, path = "/agents/invitations/{id}", operation_id = "revoke_agent_invitation", tag = "agents", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody)))]
pub async fn revoke(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    app.core.revoke_agent_invitation(&auth.principal, AgentInvitationId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resend an invitation
///
/// A new link, good for seven more days, shown in the answer and mailed again; the old
/// link stops working.
#[utoipa::path(post, path = "/agents/invitations/{id}/resend", operation_id = "resend_agent_invitation", tag = "agents", params(("id" = Uuid, Path)),
    responses((status = 200, body = p::CreatedAgentInvitation), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody),
        (status = 409, body = p::ErrorBody)))]
pub async fn resend(
    State(app): State<AppState>,
    auth: Auth,
    parts: Parts,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<p::CreatedAgentInvitation>> {
    let base = base_url(&app, &parts)?;
    let made = app.core.resend_agent_invitation(&auth.principal, AgentInvitationId(id), &base).await?;
    let inviter =
        app.core.agent_invitations(&auth.principal).await?.into_iter().find(|v| v.invitation.id.0 == id).and_then(|v| v.inviter_name);
    Ok(Json(created(made, inviter)))
}

/// Read an invitation
///
/// What the invitation page shows: the workspace, who invited whom, as what, and
/// whether two-factor sign-in will be required. No sign-in needed: the link is the key.
/// `invitation_invalid` (unknown, revoked or replaced), `invitation_expired`,
/// `invitation_used`.
#[utoipa::path(get, path = "/invitations/{token}", operation_id = "get_invitation", tag = "sessions", params(("token" = String, Path)),
    responses((status = 200, body = p::InvitationPreview), (status = 404, body = p::ErrorBody), (status = 410, body = p::ErrorBody),
        (status = 429, body = p::ErrorBody)))]
pub async fn preview(
    State(app): State<AppState>,
    ClientInfo(from): ClientInfo,
    Path(token): Path<String>,
) -> ApiResult<Json<p::InvitationPreview>> {
    let v = app.core.invitation_preview(&token, &from).await?;
    Ok(Json(p::InvitationPreview {
        workspace_name: v.workspace_name,
        email: v.email.as_str().to_owned(),
        name: v.name,
        role: v.role.into(),
        inviter_name: v.inviter_name,
        two_factor_required: v.two_factor_required,
        locale: v.locale.as_str().to_owned(),
        expires_at: v.expires_at.0,
    }))
}

/// Accept an invitation
///
/// Creates the agent (the invitation's e-mail, role, teams and limit; this name,
/// password and language) and signs them in as `POST /sessions` does: the session
/// cookie and `Me`. When the workspace requires two-factor sign-in,
/// `two_factor_setup_required` is set and the session may only set it up. The link
/// works once.
#[utoipa::path(post, path = "/invitations/{token}", operation_id = "accept_invitation", tag = "sessions", params(("token" = String, Path)),
    request_body = p::AcceptInvitation,
    responses((status = 200, body = p::Me), (status = 404, body = p::ErrorBody), (status = 409, body = p::ErrorBody), (status = 410, body = p::ErrorBody),
        (status = 422, body = p::ErrorBody), (status = 429, body = p::ErrorBody)))]
pub async fn accept(
    State(app): State<AppState>,
    jar: CookieJar,
    ClientInfo(from): ClientInfo,
    Path(token): Path<String>,
    Json(r): Json<p::AcceptInvitation>,
) -> ApiResult<Response> {
    let login = app.core.accept_agent_invitation(&token, parse::accept_invitation(r)?, &from).await?;
    signed_in(&app, jar, login).await
}
