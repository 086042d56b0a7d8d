//! Login, logout, the current agent and their own account (profile, password, sessions).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use switchboard_proto as p;

use crate::auth::{Auth, SESSION_COOKIE};
use crate::client_ip::ClientIp;
use crate::error::{ApiResult, Json};
use crate::state::AppState;

/// Sign in
///
/// Signs an agent in: sets an HttpOnly session cookie and returns the CSRF token.
#[utoipa::path(post, path = "/sessions", tag = "sessions", request_body = p::LoginRequest,
    responses((status = 200, body = p::Me), (status = 401, body = p::ErrorBody)))]
pub async fn login(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(req): Json<p::LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    let login = app.core.login(&req.email, &req.password, ip).await?;
    let workspace = app.core.store.workspace(login.agent.workspace_id).await.map_err(switchboard_core::Error::from)?;
    let max_age = (login.expires_at.0 - app.core.now().0) / 1000;
    let cookie = Cookie::build((SESSION_COOKIE, login.token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(app.config.secure_cookies)
        .path("/")
        .max_age(cookie_duration(max_age))
        .build();
    let me = p::Me { agent: (&login.agent).into(), workspace: (&workspace).into(), csrf_token: Some(login.csrf_token) };
    Ok((jar.add(cookie), Json(me)))
}

fn cookie_duration(secs: i64) -> time::Duration {
    time::Duration::seconds(secs)
}

/// Sign out
///
/// Ends the current session.
#[utoipa::path(delete, path = "/sessions/current", tag = "sessions", responses((status = 204)))]
pub async fn logout(State(app): State<AppState>, jar: CookieJar, _auth: Auth) -> ApiResult<impl IntoResponse> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        app.core.logout(c.value()).await?;
    }
    Ok((jar.remove(Cookie::build(SESSION_COOKIE).path("/")), StatusCode::NO_CONTENT))
}

/// The signed-in agent
///
/// The signed-in agent (or the token's workspace) and the CSRF token.
#[utoipa::path(get, path = "/me", tag = "sessions", responses((status = 200, body = p::Me), (status = 401, body = p::ErrorBody),
    (status = 404, description = "`agent_not_found`: the caller is an API token, not an agent", body = p::ErrorBody)))]
pub async fn me(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<p::Me>> {
    let who = auth.principal;
    let workspace = app.core.workspace(&who).await?;
    let agent = match who.agent_id() {
        Some(id) => app.core.agent(&who, id).await?,
        None => return Err(crate::error::ApiError::new(p::ErrorCode::AgentNotFound, "API tokens are not agents")),
    };
    Ok(Json(p::Me { agent: (&agent).into(), workspace: (&workspace).into(), csrf_token: auth.csrf_token }))
}

/// Update my account
///
/// Changes the signed-in agent's own profile, dashboard language, notification
/// preferences and status; a new status is shown to the team at once.
#[utoipa::path(patch, path = "/me", operation_id = "update_me", tag = "sessions", request_body = p::UpdateMe,
    responses((status = 200, body = p::Agent), (status = 404, description = "`agent_not_found`: the caller is an API token, not an agent", body = p::ErrorBody),
        (status = 422, body = p::ErrorBody)))]
pub async fn update_me(State(app): State<AppState>, auth: Auth, Json(r): Json<p::UpdateMe>) -> ApiResult<Json<p::Agent>> {
    Ok(Json((&app.core.update_me(&auth.principal, super::parse::me_patch(r)?).await?).into()))
}

/// Change my password
///
/// Checks the current password (`invalid_credentials` when wrong), sets the new one and
/// ends every other session of the agent; this one stays.
#[utoipa::path(post, path = "/me/password", operation_id = "change_password", tag = "sessions", request_body = p::ChangePassword,
    responses((status = 204), (status = 401, description = "`invalid_credentials`: the current password is wrong", body = p::ErrorBody),
        (status = 404, description = "`agent_not_found`: the caller is an API token, not an agent", body = p::ErrorBody),
        (status = 422, description = "`validation_failed` on `new_password` (8 to 256 characters)", body = p::ErrorBody)))]
pub async fn change_password(
    State(app): State<AppState>,
    jar: CookieJar,
    auth: Auth,
    Json(r): Json<p::ChangePassword>,
) -> ApiResult<StatusCode> {
    let session = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned());
    app.core.change_password(&auth.principal, session.as_deref(), &r.current_password, &r.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out everywhere
///
/// Ends every session of the signed-in agent, this one included.
#[utoipa::path(post, path = "/me/sessions/revoke", operation_id = "revoke_sessions", tag = "sessions",
    responses((status = 204), (status = 404, description = "`agent_not_found`: the caller is an API token, not an agent", body = p::ErrorBody)))]
pub async fn revoke_sessions(State(app): State<AppState>, jar: CookieJar, auth: Auth) -> ApiResult<impl IntoResponse> {
    app.core.revoke_sessions(&auth.principal).await?;
    Ok((jar.remove(Cookie::build(SESSION_COOKIE).path("/")), StatusCode::NO_CONTENT))
}
