//! Login (two steps with a second factor), logout, the current agent and their own
//! account (profile, password, sessions), and an agent's sessions for admins.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use switchboard_core::{LoginSession, SessionView, SignIn};
use switchboard_domain::{AgentId, SessionId};
use switchboard_proto as p;
use uuid::Uuid;

use crate::auth::{Auth, ClientInfo, EnrolAuth, SESSION_COOKIE};
use crate::error::{ApiResult, Json, Path};
use crate::state::AppState;

/// Sign in
///
/// Signs an agent in: sets an HttpOnly session cookie and returns the CSRF token. An
/// agent with two-factor sign-in gets `202` and a challenge instead: send it with a
/// code to `POST /sessions/two-factor`. When the workspace requires two-factor
/// sign-in and the agent has none, `two_factor_setup_required` is set and the session
/// may only set it up.
#[utoipa::path(post, path = "/sessions", tag = "sessions", request_body = p::LoginRequest,
    responses((status = 200, body = p::Me), (status = 202, description = "the password is right; a second factor is needed", body = p::TwoFactorChallenge),
        (status = 401, body = p::ErrorBody)))]
pub async fn login(
    State(app): State<AppState>,
    jar: CookieJar,
    ClientInfo(from): ClientInfo,
    Json(req): Json<p::LoginRequest>,
) -> ApiResult<Response> {
    match app.core.login(&req.email, &req.password, &from).await? {
        SignIn::Done(login) => signed_in(&app, jar, login).await,
        SignIn::TwoFactorRequired { challenge, expires_at } => {
            Ok((StatusCode::ACCEPTED, Json(p::TwoFactorChallenge { challenge, expires_at: expires_at.0 })).into_response())
        }
    }
}

/// Finish signing in with a second factor
///
/// The challenge from `POST /sessions` and a code from the authenticator app (or a
/// recovery code, which then stops working). A wrong or already used code is
/// `two_factor_code_invalid`; a challenge older than five minutes `token_expired`.
#[utoipa::path(post, path = "/sessions/two-factor", operation_id = "login_two_factor", tag = "sessions", request_body = p::TwoFactorLogin,
    responses((status = 200, body = p::Me), (status = 401, body = p::ErrorBody)))]
pub async fn login_two_factor(
    State(app): State<AppState>,

    jar: CookieJar,
    ClientInfo(from): ClientInfo,

    Json(req): Json<p::TwoFactorLogin>,
) -> ApiResult<Response> {
    let login = app.core.login_two_factor(&req.challenge, &req.code, &from).await?;
    signed_in(&app, jar, login).await
}

/// The session cookie and the agent's `Me`: what every way of signing in answers.
pub(crate) async fn signed_in(app: &AppState, jar: CookieJar, login: LoginSession) -> ApiResult<Response> {
    let workspace = app.core.store.workspace(login.agent.workspace_id).await.map_err(switchboard_core::Error::from)?;
    let max_age = (login.expires_at.0 - app.core.now().0) / 1000;
    let cookie = Cookie::build((SESSION_COOKIE, login.token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(app.config.secure_cookies)
        .path("/")
        .max_age(cookie_duration(max_age))
        .build();
    let capacity = app.core.capacity_of(workspace.id).await?;
    let me = p::Me {
        agent: p::Agent::new(&login.agent, &capacity),
        workspace: (&workspace).into(),
        csrf_token: Some(login.csrf_token),
        two_factor_setup_required: login.must_enrol,
    };
    Ok((jar.add(cookie), Json(me)).into_response())
}

fn cookie_duration(secs: i64) -> time::Duration {
    time::Duration::seconds(secs)
}

/// Sign out
///
/// Ends the current session and closes its sockets.
#[utoipa::path(delete, path = "/sessions/current", tag = "sessions", responses((status = 204)))]
pub async fn logout(State(app): State<AppState>, jar: CookieJar, _auth: EnrolAuth) -> ApiResult<impl IntoResponse> {
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
pub async fn me(State(app): State<AppState>, EnrolAuth(auth): EnrolAuth) -> ApiResult<Json<p::Me>> {
    let who = auth.principal;
    let workspace = app.core.workspace(&who).await?;
    let agent = match who.agent_id() {
        Some(id) => app.core.agent(&who, id).await?,
        None => return Err(crate::error::ApiError::new(p::ErrorCode::AgentNotFound, "API tokens are not agents")),
    };
    let capacity = app.core.capacity(&who).await?;
    Ok(Json(p::Me {
        agent: p::Agent::new(&agent, &capacity),
        workspace: (&workspace).into(),
        csrf_token: auth.csrf_token,
        two_factor_setup_required: auth.must_enrol,
    }))
}

/// Update my account
///
/// Changes the signed-in agent's own profile, dashboard language, notification
/// preferences and status; a new status is shown to the team at once.
#[utoipa::path(patch, path = "/me", operation_id = "update_me", tag = "sessions", request_body = p::UpdateMe,
    responses((status = 200, body = p::Agent), (status = 404, description = "`agent_not_found`: the caller is an API token, not an agent", body = p::ErrorBody),
        (status = 422, body = p::ErrorBody)))]
pub async fn update_me(State(app): State<AppState>, auth: Auth, Json(r): Json<p::UpdateMe>) -> ApiResult<Json<p::Agent>> {
    let agent = app.core.update_me(&auth.principal, super::parse::me_patch(r)?).await?;
    Ok(Json(p::Agent::new(&agent, &app.core.capacity(&auth.principal).await?)))
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

fn session_info(v: &SessionView) -> p::SessionInfo {
    let s = &v.session;
    let device = crate::device::from_user_agent(s.user_agent.as_deref().unwrap_or(""));
    p::SessionInfo {
        id: s.id.0,
        browser: device.browser,
        os: device.os,
        device: device.device,
        ip: s.ip.clone(),
        created_at: s.created_at.0,
        last_used_at: s.last_used_at.0,
        expires_at: s.expires_at.0,
        current: v.current,
    }
}

/// My sessions
///
/// Where the signed-in agent is signed in, newest first; `current` marks this one.
#[utoipa::path(get, path = "/me/sessions", operation_id = "my_sessions", tag = "sessions",
    responses((status = 200, body = Vec<p::SessionInfo>), (status = 404, description = "`agent_not_found`: the caller is an API token, not an agent", body = p::ErrorBody)))]
pub async fn my_sessions(State(app): State<AppState>, jar: CookieJar, auth: Auth) -> ApiResult<Json<Vec<p::SessionInfo>>> {
    let me = auth.principal.agent_id().ok_or(switchboard_core::Error::NotFound(switchboard_domain::Entity::Agent))?;
    let sessions = app.core.sessions(&auth.principal, me, jar.get(SESSION_COOKIE).map(|c| c.value())).await?;
    Ok(Json(sessions.iter().map(session_info).collect()))
}

/// End one of my sessions
///
/// Signs that browser out; its open sockets close at once.
#[utoipa::path(delete, path = "/me/sessions/{id}", operation_id = "end_my_session", tag = "sessions", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, description = "`session_not_found`, or `agent_not_found` for an API token", body = p::ErrorBody)))]
pub async fn end_my_session(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    let me = auth.principal.agent_id().ok_or(switchboard_core::Error::NotFound(switchboard_domain::Entity::Agent))?;
    app.core.revoke_session(&auth.principal, me, SessionId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An agent's sessions
///
/// Admins and owners (an owner's, owners only).
#[utoipa::path(get, path = "/agents/{id}/sessions", operation_id = "agent_sessions", tag = "agents", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<p::SessionInfo>), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody)))]
pub async fn agent_sessions(
    State(app): State<AppState>,
    jar: CookieJar,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<p::SessionInfo>>> {
    let sessions = app.core.sessions(&auth.principal, AgentId(id), jar.get(SESSION_COOKIE).map(|c| c.value())).await?;
    Ok(Json(sessions.iter().map(session_info).collect()))
}

/// End an agent's session
///
/// Admins and owners (an owner's, owners only). Its open sockets close at once.
#[utoipa::path(delete, path = "/agents/{id}/sessions/{session_id}", operation_id = "end_agent_session", tag = "agents",
    params(("id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody)))]
pub async fn end_agent_session(State(app): State<AppState>, auth: Auth, Path((id, session)): Path<(Uuid, Uuid)>) -> ApiResult<StatusCode> {
    app.core.revoke_session(&auth.principal, AgentId(id), SessionId(session)).await?;
    Ok(StatusCode::NO_CONTENT)
}
