//! The chat page's link as a QR code, for the admin console to show and print: a
//! business without a website shares `/chat/<public key>` on paper too.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use switchboard_domain::SiteId;
use switchboard_proto as p;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, Path};
use crate::state::AppState;

/// The site's chat page QR code
///
/// An SVG QR code of the site's chat page, `{public_url}/chat/{public_key}` (the
/// request's host when `server.public_url` is not set). Every role may fetch it.
#[utoipa::path(get, path = "/sites/{id}/qr.svg", operation_id = "site_qr", tag = "sites", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the QR code", content_type = "image/svg+xml", body = String), (status = 404, body = p::ErrorBody),
        (status = 422, description = "`validation_failed`: no `server.public_url` and no `Host` to build the link from", body = p::ErrorBody)))]
pub async fn site_qr(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>, parts: Parts) -> ApiResult<Response> {
    let site = app.core.site(&auth.principal, SiteId(id)).await?;
    let base = base_url(&app, &parts)?;
    let svg = qr_svg(&chat_url(&base, &site.public_key))?;
    Ok(([(CONTENT_TYPE, "image/svg+xml"), (CACHE_CONTROL, "private, max-age=300")], svg).into_response())
}

/// The chat page of a site whose server is reached at `base` (no trailing slash).
pub fn chat_url(base: &str, public_key: &str) -> String {
    format!("{base}/chat/{public_key}")
}

/// Where people reach the server: `server.public_url`, else the request's own address.
pub(crate) fn base_url(app: &AppState, parts: &Parts) -> ApiResult<String> {
    match &app.config.public_url {
        Some(url) => Ok(url.clone()),
        None => own_url(parts, app.config.secure_cookies),
    }
}

/// The server's address as the request reached it: its `Host`, over HTTPS when the
/// server marks its cookies secure (it is then served over HTTPS).
fn own_url(parts: &Parts, https: bool) -> ApiResult<String> {
    let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).filter(|h| !h.is_empty() && !h.contains(['/', ' ', '@']));
    let host = host.ok_or_else(|| ApiError::new(p::ErrorCode::ValidationFailed, "the request has no Host; set server.public_url"))?;
    Ok(format!("{}://{host}", if https { "https" } else { "http" }))
}

/// `text` as an SVG QR code, with a quiet zone, black on white.
pub(crate) fn qr_svg(text: &str) -> ApiResult<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|_| ApiError::new(p::ErrorCode::ValidationFailed, "the chat page's address is too long for a QR code"))?;
    Ok(code.render::<svg::Color>().min_dimensions(256, 256).dark_color(svg::Color("#000000")).light_color(svg::Color("#ffffff")).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chat_link_is_the_public_url_and_the_key() {
        assert_eq!(chat_url("https://chat.example", "pk_1"), "https://chat.example/chat/pk_1");
    }

    #[test]
    fn a_qr_code_is_an_svg_document() {
        let svg = qr_svg("https://chat.example/chat/pk_1").unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
    }
}
