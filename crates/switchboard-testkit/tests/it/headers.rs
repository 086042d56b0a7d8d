//! Every response carries the security headers: a Content-Security-Policy with
//! `frame-ancestors`, `nosniff` and a Referrer-Policy — pages, the API, assets, sockets'
//! refusals, errors — and HSTS once the server knows it is reached over TLS.

use reqwest::{Method, StatusCode};
use switchboard_domain::IpRange;
use switchboard_server::ServerConfig;
use switchboard_testkit::TestApp;

/// Paths the router serves besides the API (which the OpenAPI document lists).
const OTHER_ROUTES: &[&str] = &[
    "/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/v1/openapi.json",
    "/api/docs",
    "/app",
    "/app/settings/bans",
    "/app/manifest.webmanifest",
    "/app/sw.js",
    "/widget.js",
    "/chat/pk_unknown",
    "/widget/frame",
    "/widget/frame?site=pk_unknown",
    "/assets/nothing-here.js",
    "/ws/visitor?site=pk_unknown",
    "/ws/agent",
    "/no/such/route",
];

fn check(method: &Method, path: &str, response: &reqwest::Response) -> Vec<String> {
    let h = response.headers();
    let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let mut wrong = vec![];
    if !get("content-security-policy").contains("frame-ancestors") {
        wrong.push(format!("{method} {path} ({}): CSP {:?}", response.status(), get("content-security-policy")));
    }
    if get("x-content-type-options") != "nosniff" {
        wrong.push(format!("{method} {path}: no nosniff"));
    }
    if get("referrer-policy").is_empty() {
        wrong.push(format!("{method} {path}: no Referrer-Policy"));
    }
    wrong
}

#[tokio::test]
async fn every_route_answers_with_the_security_headers_even_when_it_refuses() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let doc: serde_json::Value = http.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    let mut requests: Vec<(Method, String)> = OTHER_ROUTES.iter().map(|p| (Method::GET, (*p).to_owned())).collect();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        // Every path parameter gets an id (or a key) that exists nowhere.
        let concrete: String =
            path.split('/').map(|seg| if seg.starts_with('{') { id.as_str() } else { seg }).collect::<Vec<_>>().join("/");
        for method in item.as_object().unwrap().keys() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            requests.push((method, concrete.clone()));
        }
    }
    assert!(requests.len() > 80, "the walk covers the API: {} requests", requests.len());
    let mut wrong = vec![];
    let mut statuses = std::collections::BTreeSet::new();
    for (method, path) in &requests {
        let mut request = http.request(method.clone(), app.url(path));
        if method != Method::GET {
            request = request.header("content-type", "application/json").body("{}");
        }
        let response = request.send().await.unwrap();
        statuses.insert(response.status().as_u16());
        wrong.extend(check(method, path, &response));
        assert!(response.headers().get("strict-transport-security").is_none(), "{method} {path}: HSTS without TLS");
    }
    assert!(wrong.is_empty(), "responses without the security headers:\n{}", wrong.join("\n"));
    assert!(
        statuses.contains(&200) && statuses.contains(&401) && statuses.contains(&404),
        "successes and refusals were both checked: {statuses:?}"
    );
}

#[tokio::test]
async fn the_widget_frame_keeps_its_own_frame_ancestors() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let change =
        switchboard_testkit::proto::SiteRequest { allowed_origins: Some(vec!["https://shop.example".into()]), ..Default::default() };
    owner.update_site(seed.site.id.0, &change).await.unwrap();
    let url = app.url(&format!("/widget/frame?site={}", seed.site.public_key));
    let response = reqwest::get(url).await.unwrap();
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.ends_with("frame-ancestors https://shop.example") || csp.contains("frame-ancestors https://shop.example;"), "{csp}");
    assert_eq!(csp.matches("frame-ancestors").count(), 1, "{csp}");
}

#[tokio::test]
async fn hsts_is_sent_when_the_server_knows_it_is_behind_tls() {
    let public = ServerConfig { public_url: Some("https://chat.example".into()), ..ServerConfig::default() };
    let app = TestApp::spawn_with(public, Default::default()).await;
    let response = reqwest::get(app.url("/healthz")).await.unwrap();
    assert!(response.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
    app.stop().await;

    let proxied = ServerConfig { trusted_proxies: vec![IpRange::parse("127.0.0.1").unwrap()], ..ServerConfig::default() };
    let app = TestApp::spawn_with(proxied, Default::default()).await;
    let http = reqwest::Client::new();
    let over_tls = http.get(app.url("/no/such/route")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert_eq!(over_tls.status(), StatusCode::NOT_FOUND);
    assert!(over_tls.headers().get("strict-transport-security").is_some(), "the trusted proxy says https");
    let plain = http.get(app.url("/healthz")).header("x-forwarded-proto", "http").send().await.unwrap();
    assert!(plain.headers().get("strict-transport-security").is_none());
}
