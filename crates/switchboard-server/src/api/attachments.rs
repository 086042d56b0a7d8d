//! Uploads and downloads, for agents and for visitors (through the widget endpoints).

use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use switchboard_core::{Upload, Visitor, VisitorHello};
use switchboard_domain::*;
use switchboard_proto::{self as p, ErrorCode};
use uuid::Uuid;

use crate::auth::{self, Auth};
use crate::error::{ApiError, ApiResult, Json, Multipart, Path};
use crate::security::ClientIp;
use crate::state::AppState;

/// Reads the `file` field of a multipart upload.
async fn file(Multipart(mut form): Multipart) -> ApiResult<Upload> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE { ErrorCode::PayloadTooLarge } else { ErrorCode::InvalidMultipart };
        ApiError::new(code, e.body_text())
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        if field.name() == Some("file") {
            let filename = field.file_name().unwrap_or("file").to_owned();
            let bytes = field.bytes().await.map_err(bad)?;
            return Ok(Upload { filename, bytes });
        }
    }
    Err(ValidationError::new("file", "the form has no `file` field").into())
}

fn serve_file(a: &Attachment, bytes: Bytes) -> Response {
    let inline = a.content_type.starts_with("image/") || a.content_type.starts_with("video/") || a.content_type.starts_with("audio/");
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        a.filename
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-._".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    );
    (
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
            (header::CACHE_CONTROL, "private, max-age=31536000, immutable".into()),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".into()),
        ],
        bytes,
    )
        .into_response()
}

/// Upload a file
///
/// Uploads a file (multipart field `file`); attach it by id to a reply.
#[utoipa::path(post, path = "/attachments", tag = "attachments", request_body(content_type = "multipart/form-data", content = String),
    responses((status = 201, body = p::Attachment), (status = 413, body = p::ErrorBody), (status = 415, body = p::ErrorBody)))]
pub async fn upload(State(app): State<AppState>, auth: Auth, form: Multipart) -> ApiResult<(StatusCode, Json<p::Attachment>)> {
    let a = app.core.upload(auth.principal.workspace_id, auth.principal.actor, file(form).await?).await?;
    Ok((StatusCode::CREATED, Json(p::Attachment::new(&a, p::Viewer::Agent))))
}

/// Download a file
#[utoipa::path(get, path = "/attachments/{id}", tag = "attachments", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = p::ErrorBody)))]
pub async fn download(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Response> {
    let (a, bytes) = app.core.download(auth.principal.workspace_id, auth.principal.actor, AttachmentId(id)).await?;
    Ok(serve_file(&a, bytes))
}

/// A visitor authenticated by site key (path), origin and visitor token.
pub struct WidgetVisitor(pub Visitor);

impl FromRequestParts<AppState> for WidgetVisitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, app).await.map_err(|r| ApiError::new(ErrorCode::InvalidId, r.body_text()))?;
        let site_key = params.iter().find(|(name, _)| *name == "site_key").map(|(_, v)| v.to_owned()).unwrap_or_default();
        let token =
            auth::visitor_token(parts).ok_or(switchboard_core::Error::Unauthenticated(switchboard_core::AuthFailure::InvalidToken))?;
        // Downloads (`<img src>`) come without an Origin header; the token alone proves them.
        let ip = crate::security::client_ip(&app.config, &parts.extensions, &parts.headers);
        if parts.method == axum::http::Method::GET {
            return Ok(Self(app.core.visitor_from_token(&site_key, &token, ip).await?));
        }
        let hello =
            VisitorHello { site_key, origin: auth::page_origin(&parts.headers), token: Some(token), device: DeviceInfo::default(), ip };
        Ok(Self(app.core.visitor(hello).await?))
    }
}

/// Widget: a site's appearance and agents
///
/// What the launcher needs to draw itself before any socket opens: the site's
/// appearance and pre-chat form, how many agents are online, and up to three agents
/// (online first, then the most recently active). Only the site's allowed origins may ask.
/// A banned address is refused (`403 banned`) on sites whose banned visitors see nothing,
/// so the loader removes itself.
#[utoipa::path(get, path = "/widget/{site_key}", tag = "widget", params(("site_key" = String, Path)),
    responses((status = 200, body = p::WidgetSite), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody)))]
pub async fn widget_site(
    State(app): State<AppState>,
    Path(key): Path<String>,
    ClientIp(ip): ClientIp,
    parts: Parts,
) -> ApiResult<Json<p::WidgetSite>> {
    let info = app.core.widget_info(&key, &auth::page_origin(&parts.headers), ip).await?;
    let (hours, teams) = (info.outlook.hours.as_ref(), &info.outlook.teams);
    Ok(Json(p::WidgetSite::new(&info.site, hours, teams, app.core.now(), info.agents_online, &info.agents)))
}

/// Widget: upload a file
///
/// A visitor's upload (`Authorization: Visitor <token>`).
#[utoipa::path(post, path = "/widget/{site_key}/attachments", tag = "widget", params(("site_key" = String, Path)),
    request_body(content_type = "multipart/form-data", content = String),
    responses((status = 201, body = p::Attachment), (status = 401, body = p::ErrorBody), (status = 413, body = p::ErrorBody)))]
pub async fn widget_upload(
    State(app): State<AppState>,
    WidgetVisitor(v): WidgetVisitor,
    form: Multipart,
) -> ApiResult<(StatusCode, Json<p::Attachment>)> {
    let a = app.core.visitor_upload(&v, file(form).await?).await?;
    Ok((StatusCode::CREATED, Json(p::Attachment::new(&a, p::Viewer::Visitor { site_key: &v.site.public_key }))))
}

/// Widget: download a file
///
/// A file the visitor may see (their own uploads and the team's), with `?token=`.
#[utoipa::path(get, path = "/widget/{site_key}/attachments/{id}", tag = "widget", params(("site_key" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = p::ErrorBody)))]
pub async fn widget_download(
    State(app): State<AppState>,
    WidgetVisitor(v): WidgetVisitor,
    Path(path): Path<(String, Uuid)>,
) -> ApiResult<Response> {
    let id = path.1;
    let (a, bytes) = app.core.download(v.workspace_id(), v.actor(), AttachmentId(id)).await?;
    Ok(serve_file(&a, bytes))
}
