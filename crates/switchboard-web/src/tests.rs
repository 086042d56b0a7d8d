//! What a browser gets from the asset routes: caching by kind of file, `304` on a
//! matching ETag, the compressed copy it accepts (or the file itself, decoded from its
//! gzip copy when that is all the build kept), and a clear page when nothing was built.

use std::io::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use bytes::Bytes;
use tower::ServiceExt as _;

use super::*;

const PAGE: &str = "<!doctype html><script type=module src=/assets/api-docs-3f9a.js></script>";

fn script() -> String {
    "console.log('the API reference');".repeat(40)
}

fn gzip(bytes: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    Bytes::from(encoder.finish().unwrap())
}

/// A build as `npm run build` lays it out: the docs page and its hashed script only as
/// their compressed copies (they compress), the font only as itself (it does not).
fn built_files() -> Vec<(String, Bytes)> {
    let files = [
        ("api-docs/index.html.gz", gzip(PAGE.as_bytes())),
        ("api-docs/index.html.br", Bytes::from_static(b"br of the page")),
        ("assets/api-docs-3f9a.js.gz", gzip(script().as_bytes())),
        ("assets/api-docs-3f9a.js.br", Bytes::from_static(b"br of the script")),
        ("assets/font-77aa.woff2", Bytes::from_static(b"wOF2 already compressed")),
    ];
    files.into_iter().map(|(p, b)| (p.to_owned(), b)).collect()
}

fn built() -> Router {
    router_for(Arc::new(Assets::from_files(built_files())))
}

async fn get(router: &Router, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Bytes) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, to_bytes(body, usize::MAX).await.unwrap())
}

fn value(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers.get(&name).map(|v| v.to_str().unwrap()).unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn hashed_files_are_cached_forever_and_entry_points_briefly() {
    let router = built();
    let (status, headers, _) = get(&router, "/assets/api-docs-3f9a.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(value(&headers, header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert_eq!(value(&headers, header::CONTENT_TYPE), "text/javascript; charset=utf-8");

    let (status, headers, body) = get(&router, "/api/docs", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(value(&headers, header::CACHE_CONTROL), "public, max-age=300");
    assert_eq!(value(&headers, header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert!(value(&headers, header::CONTENT_SECURITY_POLICY).contains("script-src 'self';"));
    assert_eq!(body, PAGE, "no Accept-Encoding: the page as built");
}

#[tokio::test]
async fn a_browser_that_has_the_page_gets_304_without_a_body() {
    let router = built();
    let (_, first, _) = get(&router, "/api/docs", &[]).await;
    let etag = value(&first, header::ETAG).to_owned();

    let (status, headers, body) = get(&router, "/api/docs", &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(value(&headers, header::ETAG), etag);
    assert_eq!(value(&headers, header::CACHE_CONTROL), "public, max-age=300");

    // The tag of the brotli copy, in a list, weak: still the same page.
    let (_, br, _) = get(&router, "/api/docs", &[("accept-encoding", "br")]).await;
    let br_tag = value(&br, header::ETAG).to_owned();
    assert_ne!(br_tag, etag, "each encoding is its own representation");
    let list = format!("\"something-else\", W/{br_tag}");
    let (status, _, _) = get(&router, "/api/docs", &[("if-none-match", &list)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    let (status, _, body) = get(&router, "/api/docs", &[("if-none-match", "\"an-older-build\"")]).await;
    assert_eq!(status, StatusCode::OK, "a changed page is sent again");
    assert_eq!(body, PAGE);
}

#[tokio::test]
async fn the_encoding_follows_accept_encoding() {
    let router = built();
    let cases = [
        ("gzip, deflate, br, zstd", Some("br"), "br of the script"),
        ("gzip", Some("gzip"), "gzip"),
        ("br;q=0, gzip;q=0.5", Some("gzip"), "gzip"),
        ("*", Some("br"), "br of the script"),
        ("identity", None, ""),
        ("gzip;q=0, *;q=0", None, ""),
    ];
    let gzipped = gzip(script().as_bytes());
    for (accept, encoding, expected) in cases {
        let (status, headers, body) = get(&router, "/assets/api-docs-3f9a.js", &[("accept-encoding", accept)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap()), encoding, "Accept-Encoding: {accept}");
        assert_eq!(value(&headers, header::VARY), "accept-encoding", "caches must key on the encoding");
        assert_eq!(value(&headers, header::CONTENT_TYPE), "text/javascript; charset=utf-8", "the type of what was compressed");
        match encoding {
            Some("gzip") => assert_eq!(body, gzipped, "Accept-Encoding: {accept}"),
            Some(_) => assert_eq!(body, expected),
            None => assert_eq!(body, script(), "Accept-Encoding: {accept}: the script as built, decoded from its gzip copy"),
        }
    }

    // A file without compressed copies goes as it is, whatever the browser accepts.
    let (_, headers, body) = get(&router, "/assets/font-77aa.woff2", &[("accept-encoding", "br, gzip")]).await;
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(value(&headers, header::CONTENT_TYPE), "font/woff2");
    assert_eq!(body, "wOF2 already compressed");
}

#[tokio::test]
async fn a_client_that_accepts_no_compression_gets_the_page_as_built_under_its_own_etag() {
    let router = built();
    let (status, headers, body) = get(&router, "/api/docs", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, PAGE, "decoded from the gzip copy, byte for byte");
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    let (_, gz, _) = get(&router, "/api/docs", &[("accept-encoding", "gzip")]).await;
    let identity_tag = value(&headers, header::ETAG);
    assert_eq!(value(&gz, header::ETAG), format!("{}-gzip\"", identity_tag.trim_end_matches('"')));

    // Another build of the page, with other content, has another tag in every encoding.
    let mut files = built_files();
    files[0].1 = gzip(b"<!doctype html><p>a later build</p>");
    let later = router_for(Arc::new(Assets::from_files(files)));
    let (_, again, body) = get(&later, "/api/docs", &[]).await;
    assert_eq!(body, "<!doctype html><p>a later build</p>");
    assert_ne!(value(&again, header::ETAG), identity_tag);
    let (status, _, _) = get(&later, "/api/docs", &[("if-none-match", identity_tag)]).await;
    assert_eq!(status, StatusCode::OK, "the older page's tag does not match the new one");
}

#[tokio::test]
async fn an_unknown_asset_is_not_found() {
    let (status, headers, _) = get(&built(), "/assets/api-docs-0000.js", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(value(&headers, header::CACHE_CONTROL), "no-store", "a later build may add it");
}

#[tokio::test]
async fn a_binary_built_without_assets_says_so_instead_of_a_blank_page() {
    let router: Router = router_for(Arc::new(Assets::default()));
    for path in ["/api/docs", "/assets/api-docs-3f9a.js"] {
        let (status, headers, body) = get(&router, path, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(value(&headers, header::CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(value(&headers, header::CACHE_CONTROL), "no-store", "not remembered once the assets exist");
        let page = String::from_utf8(body.to_vec()).unwrap();
        assert!(page.contains("were not built") && page.contains("cargo xtask web"), "{page}");
    }
    // Who may frame a page does not depend on whether it was built.
    let (_, headers, _) = get(&router, "/widget/preview", &[]).await;
    assert_eq!(value(&headers, header::CONTENT_SECURITY_POLICY), format!("{CHAT_CSP}; frame-ancestors 'self'"));
    let frame = serve(
        &Assets::default(),
        "widget/frame/index.html",
        Some(&frame_csp(Some(&["https://shop.example".to_owned()]))),
        &HeaderMap::new(),
    );
    assert!(value(frame.headers(), header::CONTENT_SECURITY_POLICY).ends_with("frame-ancestors https://shop.example"));
}

#[test]
fn accept_encoding_qualities() {
    assert!(accepts("gzip, br", "br"));
    assert!(accepts("GZIP", "gzip"));
    assert!(accepts("br;q=0.1", "br"));
    assert!(!accepts("br;q=0", "br"));
    assert!(!accepts("br;q=0.0, *", "br"), "a named coding wins over the wildcard");
    assert!(accepts("*;q=0.5", "gzip"));
    assert!(!accepts("", "gzip"));
    assert!(!accepts("deflate", "gzip"));
}

#[test]
fn only_a_sites_allowed_origins_may_frame_its_chat() {
    let shops = ["https://shop.example".to_owned(), "https://www.shop.example".to_owned()];
    assert!(frame_csp(Some(&shops)).ends_with("; frame-ancestors https://shop.example https://www.shop.example"));
    assert!(frame_csp(Some(&[])).ends_with("; frame-ancestors *"), "no list: any page");
    assert!(frame_csp(None).ends_with("; frame-ancestors *"));
    assert!(frame_csp(None).starts_with("default-src 'self'; script-src 'self'; style-src 'self';"));
}

/// The dashboard's widget preview is the chat's document under the chat's policy, and
/// only the dashboard (our own origin) may frame it; the chat page may not be framed.
#[test]
fn only_the_dashboard_may_frame_the_widget_preview() {
    let csp = |route: &str| ENTRIES.iter().find(|e| e.route == route).and_then(|e| e.csp).unwrap();
    assert_eq!(csp("/widget/preview"), format!("{CHAT_CSP}; frame-ancestors 'self'"));
    assert_eq!(csp("/chat/{key}"), format!("{CHAT_CSP}; frame-ancestors 'none'"));
    assert_eq!(ENTRIES.iter().find(|e| e.route == "/widget/preview").unwrap().file, "widget/frame/index.html");
}

/// The installable dashboard: its worker, manifest and icon at stable URLs under `/app`
/// (the worker's scope is its folder), each with its type, not the dashboard's page.
#[tokio::test]
async fn the_app_is_installable_from_stable_urls_under_app() {
    let files = [
        ("app/index.html", Bytes::from_static(b"<!doctype html>")),
        ("app/sw.js", Bytes::from_static(b"self.addEventListener('fetch', () => {});")),
        ("app/manifest.webmanifest", Bytes::from_static(b"{\"name\":\"Switchboard\"}")),
        ("app/icon.svg", Bytes::from_static(b"<svg/>")),
    ];
    let router = router_for(Arc::new(Assets::from_files(files.map(|(p, b)| (p.to_owned(), b)))));
    for (path, kind, body) in [
        ("/app/sw.js", "text/javascript; charset=utf-8", "self.addEventListener"),
        ("/app/manifest.webmanifest", "application/manifest+json", "Switchboard"),
        ("/app/icon.svg", "image/svg+xml", "<svg/>"),
        ("/app/c/0193a1f3-05b2-7e44-a1c9-6d2e7f8a9b01", "text/html; charset=utf-8", "<!doctype html>"),
    ] {
        let (status, headers, got) = get(&router, path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(value(&headers, header::CONTENT_TYPE), kind, "{path}");
        assert!(String::from_utf8_lossy(&got).contains(body), "{path}");
    }
}
