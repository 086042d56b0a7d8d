//! The signed-in agent's two-factor sign-in: its state, enrolment (secret, QR code,
//! confirmation with a first code, recovery codes) and turning it off. A session that
//! may only enrol (the workspace requires it) reaches these.

use axum::extract::State;
use axum::http::StatusCode;
use switchboard_proto as p;

use crate::auth::EnrolAuth;
use crate::error::{ApiResult, Json};
use crate::state::AppState;

/// My two-factor sign-in
///
/// Whether it is on, whether the workspace requires it, and how many recovery codes are left.
#[utoipa::path(get, path = "/me/two-factor", operation_id = "two_factor_status", tag = "two-factor",
    responses((status = 200, body = p::TwoFactorStatus), (status = 404, description = "`agent_not_found`: the caller is an API token, not an agent", body = p::ErrorBody)))]
pub async fn status(State(app): State<AppState>, EnrolAuth(auth): EnrolAuth) -> ApiResult<Json<p::TwoFactorStatus>> {
    let s = app.core.two_factor_status(&auth.principal).await?;
    Ok(Json(p::TwoFactorStatus { enabled: s.enabled, required: s.required, recovery_codes_left: s.recovery_codes_left }))
}

/// Start enrolling
///
/// A fresh secret for an authenticator app, as text and as a QR code, shown this once.
/// Confirm it with `POST /me/two-factor/enable`; until then sign-in is unchanged.
#[utoipa::path(post, path = "/me/two-factor/setup", operation_id = "begin_two_factor", tag = "two-factor",
    responses((status = 200, body = p::TwoFactorSetup), (status = 404, body = p::ErrorBody),
        (status = 409, description = "`two_factor_enabled`: turn it off first", body = p::ErrorBody)))]
pub async fn setup(State(app): State<AppState>, EnrolAuth(auth): EnrolAuth) -> ApiResult<Json<p::TwoFactorSetup>> {
    let setup = app.core.begin_two_factor(&auth.principal).await?;
    let qr_svg = super::qr::qr_svg(&setup.otpauth_uri)?;
    Ok(Json(p::TwoFactorSetup { secret: setup.secret, otpauth_uri: setup.otpauth_uri, qr_svg }))
}

/// Turn it on
///
/// Confirms enrolment with a code from the app and answers the recovery codes, shown
/// only here (each works once, in place of a code).
#[utoipa::path(post, path = "/me/two-factor/enable", operation_id = "enable_two_factor", tag = "two-factor", request_body = p::TwoFactorCode,
    responses((status = 200, body = p::RecoveryCodes), (status = 401, description = "`two_factor_code_invalid`", body = p::ErrorBody),
        (status = 404, body = p::ErrorBody),
        (status = 409, description = "`two_factor_enabled`, or `two_factor_not_enabled`: no enrolment was started", body = p::ErrorBody)))]
pub async fn enable(
    State(app): State<AppState>,
    EnrolAuth(auth): EnrolAuth,
    Json(r): Json<p::TwoFactorCode>,
) -> ApiResult<Json<p::RecoveryCodes>> {
    let recovery_codes = app.core.enable_two_factor(&auth.principal, &r.code).await?;
    Ok(Json(p::RecoveryCodes { recovery_codes }))
}

/// Turn it off
///
/// With a current code or a recovery code. Refused while the workspace requires it.
#[utoipa::path(post, path = "/me/two-factor/disable", operation_id = "disable_two_factor", tag = "two-factor", request_body = p::TwoFactorCode,
    responses((status = 204), (status = 401, description = "`two_factor_code_invalid`", body = p::ErrorBody), (status = 404, body = p::ErrorBody),
        (status = 409, description = "`two_factor_not_enabled`, or `two_factor_required` by the workspace", body = p::ErrorBody)))]
pub async fn disable(State(app): State<AppState>, EnrolAuth(auth): EnrolAuth, Json(r): Json<p::TwoFactorCode>) -> ApiResult<StatusCode> {
    app.core.disable_two_factor(&auth.principal, &r.code).await?;
    Ok(StatusCode::NO_CONTENT)
}
