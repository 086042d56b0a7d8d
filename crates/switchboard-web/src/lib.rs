//! The web front ends built from `web/` (`cargo xtask web`), embedded in the release
//! binary, and the axum routes that serve them with the right caching and compression.
//!
//! Invariant: knows nothing of the API, the store or any business rule; it serves files.
//! Hashed files (`/assets/…`) are cached forever; entry points, whose URLs never change,
//! briefly and with an ETag. Nothing is compressed at run time: the build wrote `.br` and
//! `.gz` copies of every file that compresses, and the request's `Accept-Encoding` picks
//! one; only a client that accepts neither costs a decompression (see `assets`).

mod assets;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use assets::{Asset, Assets, content_type};

/// A file served at a stable URL of its own.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub route: &'static str,
    /// Its path under `web/dist`.
    pub file: &'static str,
    /// The `Content-Security-Policy` sent with it, for pages.
    pub csp: Option<&'static str>,
}

/// Every entry point. Hashed files need no entry: they are all under `/assets/`.
pub const ENTRIES: &[Entry] = &[
    Entry { route: "/api/docs", file: "api-docs/index.html", csp: Some(API_DOCS_CSP) },
    // The dashboard is one page: every URL under `/app` gets it, and it routes in the browser.
    Entry { route: "/app", file: "app/index.html", csp: Some(APP_CSP) },
    // The installable app: its manifest, icons and the service worker that caches the shell.
    // The worker must sit under `/app/` so that its scope covers the dashboard.
    Entry { route: "/app/manifest.webmanifest", file: "app/manifest.webmanifest", csp: None },
    Entry { route: "/app/sw.js", file: "app/sw.js", csp: None },
    Entry { route: "/app/icon.svg", file: "app/icon.svg", csp: None },
    Entry { route: "/app/icon-maskable.svg", file: "app/icon-maskable.svg", csp: None },
    Entry { route: "/app/{*path}", file: "app/index.html", csp: Some(APP_CSP) },
    // The widget: the loader every page of a business's site includes (a short cache, so a
    // new release reaches sites within minutes) and the chat as a full page, shareable as a
    // link. The chat frame the loader creates (`/widget/frame`) is the same document, but
    // its `frame-ancestors` depend on the site, so the server serves it ([`widget_frame`]).
    Entry { route: "/widget.js", file: "widget.js", csp: None },
    Entry { route: "/chat/{key}", file: "widget/frame/index.html", csp: Some(CHAT_PAGE_CSP) },
    // The same document again as the dashboard's live preview of a site's widget: it draws
    // the settings the dashboard posts to it, with no socket and nothing sent.
    Entry { route: "/widget/preview", file: "widget/frame/index.html", csp: Some(PREVIEW_CSP) },
];

/// The chat runs only our scripts and styles and talks only to its own server
/// (`connect-src 'self'` covers the same-host WebSocket); images may be avatars anywhere.
/// A macro, so that the pages below can extend it with `concat!`.
macro_rules! chat_csp {
    () => {
        "default-src 'self'; script-src 'self'; style-src 'self'; \
         img-src 'self' data: blob: https:; font-src 'self'; connect-src 'self'; media-src 'self' blob:; \
         object-src 'none'; base-uri 'none'; form-action 'none'"
    };
}
const CHAT_CSP: &str = chat_csp!();

/// The chat page: the chat's policy, and no one may frame it.
const CHAT_PAGE_CSP: &str = concat!(chat_csp!(), "; frame-ancestors 'none'");

/// The widget's preview in the dashboard's site settings: the chat's policy, framed only
/// by the dashboard (our own origin).
const PREVIEW_CSP: &str = concat!(chat_csp!(), "; frame-ancestors 'self'");

/// The widget's chat frame (`/widget/frame?site=…`), framed only by `ancestors`: the
/// site's allowed origins, or any page (`None`) when the site allows every origin. The
/// server decides which, since this crate knows no site.
pub fn widget_frame(ancestors: Option<&[String]>, request: &HeaderMap) -> Response {
    serve(&embedded(), "widget/frame/index.html", Some(&frame_csp(ancestors)), request)
}

fn frame_csp(ancestors: Option<&[String]>) -> String {
    let ancestors = match ancestors {
        Some(origins) if !origins.is_empty() => origins.join(" "),
        _ => "*".to_owned(),
    };
    format!("{CHAT_CSP}; frame-ancestors {ancestors}")
}

/// The dashboard runs only its own scripts and talks only to its own server. Images may
/// come from anywhere over https (agents' and visitors' avatars are URLs).
const APP_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob: https:; font-src 'self'; connect-src 'self'; media-src 'self' blob:; \
     worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The reference loads nothing from another host, and the browser is told to enforce it.
/// Styles may be inline: Scalar (Vue) sets `style` attributes and inserts `<style>` tags.
const API_DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The dashboard's service worker, registered with the scope `/app`.
const SERVICE_WORKER: &str = "/app/sw.js";

/// For files whose name changes with their content.
pub const CACHE_HASHED: &str = "public, max-age=31536000, immutable";
/// For entry points: a few minutes, then a conditional request answered `304`.
pub const CACHE_ENTRY: &str = "public, max-age=300";

/// The routes for the assets this binary carries (or, in a debug build, finds in
/// `web/dist` at start). Logs a warning once if there are none.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    router_for(embedded())
}

/// The routes for `assets`: every entry of [`ENTRIES`] and `/assets/{*path}`.
pub fn router_for<S: Clone + Send + Sync + 'static>(assets: Arc<Assets>) -> Router<S> {
    let mut router = Router::new();
    for entry in ENTRIES {
        let assets = assets.clone();
        router = router.route(
            entry.route,
            get(move |headers: HeaderMap| async move {
                let mut response = serve(&assets, entry.file, entry.csp, &headers);
                if entry.route == SERVICE_WORKER {
                    // A worker at /app/sw.js may only control /app/…, not /app itself (the
                    // inbox, and the manifest's start_url): the browser refuses the scope
                    // "/app" unless the script's response allows it.
                    response.headers_mut().insert("service-worker-allowed", HeaderValue::from_static("/app"));
                }
                response
            }),
        );
    }
    router.route(
        "/assets/{*path}",
        get(move |Path(path): Path<String>, headers: HeaderMap| async move { serve(&assets, &format!("assets/{path}"), None, &headers) }),
    )
}

/// The embedded assets, loaded once per process.
fn embedded() -> Arc<Assets> {
    static EMBEDDED: OnceLock<Arc<Assets>> = OnceLock::new();
    EMBEDDED
        .get_or_init(|| {
            let assets = Assets::embedded();
            if assets.is_empty() {
                let pages: Vec<&str> = ENTRIES.iter().map(|e| e.route).collect();
                tracing::warn!(pages = ?pages, "{MISSING}, so those pages only say so: {REMEDY}");
            } else {
                tracing::debug!(files = assets.len(), bytes = assets.embedded_bytes(), "web assets loaded");
            }
            Arc::new(assets)
        })
        .clone()
}

fn serve(assets: &Assets, file: &str, csp: Option<&str>, request: &HeaderMap) -> Response {
    if assets.is_empty() {
        // The page's own policy still holds: who may frame it does not depend on
        // whether the assets were built.
        let mut response = not_built();
        if let Some(policy) = csp.and_then(|c| HeaderValue::from_str(c).ok()) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        return response;
    }
    match assets.get(file) {
        Some(asset) => respond(asset, csp, request),
        None => (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-store")], "not found").into_response(),
    }
}

/// The answer for one file: the encoding the client accepts, its caching headers, and
/// `304 Not Modified` when the client's `If-None-Match` names this content.
pub fn respond(asset: &Asset, csp: Option<&str>, request: &HeaderMap) -> Response {
    let accepted = request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let encoding = match (&asset.brotli, &asset.gzip) {
        (Some(_), _) if accepts(accepted, "br") => Some("br"),
        (_, Some(_)) if accepts(accepted, "gzip") => Some("gzip"),
        _ => None,
    };
    // A strong ETag names one representation, so each encoding has its own.
    let etag = match encoding {
        Some(coding) => format!("{}-{coding}\"", asset.etag.trim_end_matches('"')),
        None => asset.etag.clone(),
    };
    let cache = if asset.hashed { CACHE_HASHED } else { CACHE_ENTRY };
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::ETAG, HeaderValue::from_str(&etag).expect("an ETag is quoted hex"));

    let if_none_match = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    if if_none_match.is_some_and(|tags| names(tags, &asset.etag)) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Some(coding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    if let Some(csp) = csp {
        // A policy that is not a valid header value fails closed: nothing may run or frame it.
        let value = HeaderValue::from_str(csp).unwrap_or(HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    let body = match encoding {
        Some("br") => asset.brotli.clone(),
        Some(_) => asset.gzip.clone(),
        None => match asset.identity() {
            Ok(body) => Some(body),
            Err(error) => {
                tracing::error!(%error, "an embedded gzip copy does not decode");
                return (StatusCode::INTERNAL_SERVER_ERROR, [(header::CACHE_CONTROL, "no-store")], "internal error").into_response();
            }
        },
    };
    (StatusCode::OK, headers, Body::from(body.expect("the chosen encoding is one the asset has"))).into_response()
}

/// True if `Accept-Encoding` (`gzip, br;q=0.8, *;q=0`) allows `coding`: listed, or
/// covered by `*`, with a quality above zero.
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    let mut wildcard = None;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return quality > 0.0;
        }
        if name == "*" {
            wildcard = Some(quality > 0.0);
        }
    }
    wildcard.unwrap_or(false)
}

/// True if an `If-None-Match` list names `etag` in any of its encodings, or is `*`.
/// The comparison is weak, as RFC 9110 asks for `If-None-Match`.
fn names(if_none_match: &str, etag: &str) -> bool {
    let content = etag.trim_matches('"');
    if_none_match.split(',').map(str::trim).any(|tag| {
        if tag == "*" {
            return true;
        }
        let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
        tag == content || tag.strip_prefix(content).is_some_and(|rest| matches!(rest, "-br" | "-gzip"))
    })
}

/// Why there are no assets, and what to do about it. A debug build reads `web/dist` when
/// it starts; a release build carries what `web/dist` held when it was compiled.
const MISSING: &str = if cfg!(debug_assertions) {
    "this debug build found no web assets in web/dist"
} else {
    "this binary was built without its web assets"
};
const REMEDY: &str =
    if cfg!(debug_assertions) { "run `cargo xtask web`, then restart it" } else { "run `cargo xtask web`, then build the binary again" };

/// What asset routes answer when the binary carries no assets: a page that says why,
/// rather than a blank one. `404`, not a `5xx`: nothing failed, the page is not there.
fn not_built() -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Web assets not built</title>\
         <h1>The web assets were not built</h1>\
         <p>This page is part of Switchboard's web front ends, but {MISSING}: {REMEDY}.</p>\
         <p>The API works without them; its OpenAPI document is at <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>.</p></html>"
    );
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], page).into_response()
}

#[cfg(test)]
mod tests;
