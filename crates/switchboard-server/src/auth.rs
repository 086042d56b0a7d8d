//! Who is calling: the `Auth` extractor accepts a session cookie (with the CSRF
//! header on state-changing requests) or an `Authorization: Bearer` API token.
//! `EnrolAuth` also accepts a session that may only set up two-factor sign-in.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum_extra::extract::CookieJar;
use switchboard_core::{AuthFailure, Error, Principal, SignInFrom};
use switchboard_domain::SessionId;

use crate::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "sb_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub struct Auth {
    pub principal: Principal,
    /// Set for cookie sessions: the token the dashboard must echo.
    pub csrf_token: Option<String>,
    /// Set for cookie sessions.
    pub session_id: Option<SessionId>,
    /// The session may only set up two-factor sign-in (only `EnrolAuth` lets it in).
    pub must_enrol: bool,
}

/// [`Auth`] that also lets in a session that may only set up two-factor sign-in (the
/// workspace requires it): for reading one's account, enrolling, and signing out.
pub struct EnrolAuth(pub Auth);

fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Reads the caller from a request; `check_csrf` is off for WebSocket upgrades,
/// which are protected by the Origin check instead.
pub async fn authenticate(parts: &Parts, state: &AppState, check_csrf: bool) -> Result<Auth, Error> {
    let auth = authenticate_enrolling(parts, state, check_csrf).await?;
    if auth.must_enrol {
        return Err(Error::TwoFactorSetupRequired);
    }
    Ok(auth)
}

/// As [`authenticate`], letting in a session that may only enrol a second factor.
pub async fn authenticate_enrolling(parts: &Parts, state: &AppState, check_csrf: bool) -> Result<Auth, Error> {
    if let Some(token) = bearer(parts) {
        return Ok(Auth { principal: state.core.api_token(token).await?, csrf_token: None, session_id: None, must_enrol: false });
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let cookie = jar.get(SESSION_COOKIE).ok_or(Error::Unauthenticated(AuthFailure::SessionRequired))?;
    let (principal, session) = state.core.enrolling_session(cookie.value()).await?;
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if check_csrf && !safe {
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if sent != Some(session.csrf_token.as_str()) {
            return Err(Error::Unauthenticated(AuthFailure::CsrfMismatch));
        }
    }
    Ok(Auth { principal, csrf_token: Some(session.csrf_token), session_id: Some(session.id), must_enrol: session.must_enrol })
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(authenticate(parts, state, true).await?)
    }
}

impl FromRequestParts<AppState> for EnrolAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(EnrolAuth(authenticate_enrolling(parts, state, true).await?))
    }
}

/// Where a sign-in comes from: the browser's `User-Agent` and the client's address
/// (behind a trusted proxy, what it forwarded: [`crate::security::client_ip`]).
pub struct ClientInfo(pub SignInFrom);

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let user_agent = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let ip = crate::security::client_ip(&app.config, &parts.extensions, &parts.headers).map(|ip| ip.to_string());
        Ok(ClientInfo(SignInFrom { user_agent, ip }))
    }
}

/// The visitor token of widget HTTP calls: `Authorization: Visitor <token>` or `?token=`
/// (for `<img src>` of attachments, which cannot send headers).
pub fn visitor_token(parts: &Parts) -> Option<String> {
    if let Some(t) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Visitor ")) {
        return Some(t.trim().to_owned());
    }
    axum::extract::Query::<TokenQuery>::try_from_uri(&parts.uri).ok()?.0.token
}

/// `?token=`, percent-decoded like any query string.
#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Where a visitor's request comes from: one of this server's own pages (the widget's
/// chat frame, the chat page) when the browser says so, by an `Origin` equal to this
/// host or, for a same-origin `GET` (which carries no `Origin`), `Sec-Fetch-Site:
/// same-origin`; browsers set both headers themselves, and scripts cannot.
pub fn page_origin(headers: &axum::http::HeaderMap) -> switchboard_core::PageOrigin {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ours = match origin {
        Some(origin) => origin.split_once("://").is_some_and(|(_, rest)| !host.is_empty() && rest == host),
        None => headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"same-origin"),
    };
    if ours { switchboard_core::PageOrigin::Ours } else { switchboard_core::PageOrigin::Page(origin.map(str::to_owned)) }
}
