//! Wrong requests get a precise, stable answer and change nothing: malformed bodies,
//! ids and frames, failed validation, missing or wrong credentials, roles without
//! the right, foreign origins, oversized or dangerous uploads. A socket that receives
//! a bad frame says so and stays usable.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchboard_core::Limits;
use switchboard_server::ServerConfig;
use switchboard_testkit::{Api, TestApp, Ws};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::support::raw::{
    api_token, assert_error, assert_invalid_field, assert_usable, expect_error, new_agent, upload, visitor_with_conversation,
};

async fn raw_post(api: &Api, path: &str, content_type: Option<&str>, body: &'static str) -> (StatusCode, Value) {
    let mut req = api.http.post(format!("{}{path}", api.base)).body(body);
    if let Some(csrf) = &api.csrf {
        req = req.header("x-csrf-token", csrf);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

async fn history(owner: &Api, conversation: &str) -> Value {
    owner.ok(Method::GET, &format!("/api/v1/conversations/{conversation}/messages?after_seq=0"), None).await["items"].clone()
}

#[tokio::test]
async fn malformed_requests_are_answered_with_stable_codes_and_change_nothing() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello").await;
    let messages = format!("/api/v1/conversations/{conv}/messages");
    let before = history(&owner, &conv).await;

    assert_error(&raw_post(&owner, &messages, Some("application/json"), "{\"body\": ").await, StatusCode::BAD_REQUEST, "invalid_json");
    assert_invalid_field(&raw_post(&owner, &messages, Some("application/json"), "{\"body\": 5}").await, "body");
    assert_error(&raw_post(&owner, &messages, Some("application/json"), "[]").await, StatusCode::BAD_REQUEST, "invalid_json");
    assert_error(
        &raw_post(&owner, &messages, None, "{\"body\": \"hi\"}").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    assert_error(&owner.get("/api/v1/conversations/not-a-uuid").await, StatusCode::BAD_REQUEST, "invalid_id");
    assert_error(
        &owner.put("/api/v1/conversations/123/status", json!({"status": "resolved"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_id",
    );
    assert_error(&owner.get("/api/v1/contacts/%20").await, StatusCode::BAD_REQUEST, "invalid_id");
    // Contacts by id: ids that are not ids, too many at once, or ids with a search.
    assert_invalid_field(&owner.get("/api/v1/contacts?ids=not-a-uuid").await, "ids");
    let many = (0..101).map(|_| uuid::Uuid::new_v4().to_string()).collect::<Vec<_>>().join(",");
    assert_invalid_field(&owner.get(&format!("/api/v1/contacts?ids={many}")).await, "ids");
    assert_invalid_field(&owner.get(&format!("/api/v1/contacts?q=ada&ids={}", uuid::Uuid::new_v4())).await, "ids");
    let unknown = uuid::Uuid::new_v4();
    assert_error(&owner.get(&format!("/api/v1/conversations/{unknown}")).await, StatusCode::NOT_FOUND, "conversation_not_found");
    assert_error(&owner.get(&format!("/api/v1/contacts/{unknown}")).await, StatusCode::NOT_FOUND, "contact_not_found");
    assert_error(&owner.delete(&format!("/api/v1/teams/{unknown}")).await, StatusCode::NOT_FOUND, "team_not_found");
    assert_error(&owner.get("/api/v1/conversations?cursor=yesterday").await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_error(&owner.get("/api/v1/conversations?limit=many").await, StatusCode::BAD_REQUEST, "invalid_query");

    assert_invalid_field(&owner.post(&messages, json!({"body": "   "})).await, "body");
    assert_invalid_field(&owner.post(&messages, json!({"body": "hi", "format": "html"})).await, "format");
    assert_invalid_field(&owner.post(&messages, json!({"body": "x".repeat(10_001)})).await, "body");
    assert_invalid_field(&owner.post(&messages, json!({"body": "hi", "client_id": ""})).await, "client_id");
    let c = format!("/api/v1/conversations/{conv}");
    assert_invalid_field(&owner.put(&format!("{c}/status"), json!({"status": "closed"})).await, "status");
    assert_invalid_field(&owner.put(&format!("{c}/status"), json!({"status": "snoozed"})).await, "snoozed_until");
    assert_invalid_field(&owner.put(&format!("{c}/status"), json!({"status": "snoozed", "snoozed_until": 1000})).await, "snoozed_until");
    assert_invalid_field(&owner.put(&format!("{c}/labels"), json!({"labels": ["no spaces"]})).await, "labels");
    assert_invalid_field(&owner.put(&format!("{c}/priority"), json!({"priority": "extreme"})).await, "priority");
    assert_invalid_field(&owner.post(&format!("{c}/read"), json!({"up_to_seq": 99})).await, "up_to_seq");
    assert_error(&owner.get("/api/v1/conversations?status=closed").await, StatusCode::BAD_REQUEST, "invalid_query");
    assert_invalid_field(&owner.get("/api/v1/search?q=%20%21").await, "q");
    assert_invalid_field(
        &owner.post("/api/v1/agents", json!({"email": "nope", "name": "N", "role": "agent", "password": "long enough"})).await,
        "email",
    );
    assert_invalid_field(
        &owner.post("/api/v1/agents", json!({"email": "n@acme.example", "name": "N", "role": "agent", "password": "short"})).await,
        "password",
    );
    assert_invalid_field(
        &owner.patch(&format!("/api/v1/sites/{}", seed.site.id), json!({"allowed_origins": ["shop.example"]})).await,
        "allowed_origins",
    );

    // None of the rejected requests left anything behind.
    assert_eq!(history(&owner, &conv).await, before);
    let conversation = owner.ok(Method::GET, &c, None).await;
    assert_eq!((conversation["status"].as_str(), conversation["last_seq"].as_i64()), (Some("open"), Some(2)));
    assert_eq!((conversation["labels"].clone(), conversation["priority"].clone()), (json!([]), json!("none")));
    assert_eq!(owner.ok(Method::GET, "/api/v1/agents", None).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn credentials_are_checked_and_each_failure_has_its_own_code() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello").await;
    let messages = format!("/api/v1/conversations/{conv}/messages");

    let anonymous = Api::new(app.url(""));
    assert_error(&anonymous.get("/api/v1/conversations").await, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_error(&anonymous.post(&messages, json!({"body": "hi"})).await, StatusCode::UNAUTHORIZED, "unauthenticated");
    let forged = Api::with_token(app.url(""), "sb_not-a-real-token");
    assert_error(&forged.get("/api/v1/conversations").await, StatusCode::UNAUTHORIZED, "invalid_token");

    let base = app.url("");
    let login = |email: &str, password: &str| {
        let body = json!({"email": email, "password": password});
        let api = Api::new(base.clone());
        async move { api.post("/api/v1/sessions", body).await }
    };
    assert_error(&login(seed.owner.email.as_str(), "wrong horse battery").await, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_error(&login("nobody@acme.example", "correct horse battery").await, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_error(&login("not an email", "correct horse battery").await, StatusCode::UNAUTHORIZED, "invalid_credentials");

    // A cookie session must echo its CSRF token on writes; reads do not need it.
    let mut no_csrf = owner.clone();
    no_csrf.csrf = None;
    assert_error(&no_csrf.post(&messages, json!({"body": "forged"})).await, StatusCode::FORBIDDEN, "csrf_mismatch");
    assert_error(
        &no_csrf.put(&format!("/api/v1/conversations/{conv}/status"), json!({"status": "resolved"})).await,
        StatusCode::FORBIDDEN,
        "csrf_mismatch",
    );
    assert_error(&no_csrf.delete(&format!("/api/v1/sites/{}", seed.site.id)).await, StatusCode::FORBIDDEN, "csrf_mismatch");
    let mut wrong_csrf = owner.clone();
    wrong_csrf.csrf = Some("guessed".into());
    assert_error(&wrong_csrf.post(&messages, json!({"body": "forged"})).await, StatusCode::FORBIDDEN, "csrf_mismatch");
    assert_eq!(no_csrf.get("/api/v1/conversations").await.0, StatusCode::OK);
    let conversation = owner.ok(Method::GET, &format!("/api/v1/conversations/{conv}"), None).await;
    assert_eq!((conversation["last_seq"].as_i64(), conversation["status"].as_str()), (Some(2), Some("open")));
    assert_eq!(owner.get(&format!("/api/v1/sites/{}", seed.site.id)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_agent_cannot_do_what_only_admins_may() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (me, agent) = new_agent(&app, &owner, "ana@acme.example", "agent").await;
    let me = me["id"].as_str().unwrap().to_owned();
    let owner_id = seed.owner.id.to_string();

    assert_error(&agent.get("/api/v1/api-tokens").await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&agent.post("/api/v1/api-tokens", json!({"name": "mine", "role": "agent"})).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&agent.post("/api/v1/sites", json!({"name": "shadow site"})).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(
        &agent.patch(&format!("/api/v1/sites/{}", seed.site.id), json!({"name": "renamed"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let new = json!({"email": "eve@acme.example", "name": "Eve", "role": "admin", "password": "long enough pw"});
    assert_error(&agent.post("/api/v1/agents", new).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&agent.delete(&format!("/api/v1/agents/{owner_id}")).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&agent.patch(&format!("/api/v1/agents/{owner_id}"), json!({"name": "Pwned"})).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&agent.patch(&format!("/api/v1/agents/{me}"), json!({"role": "admin"})).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&agent.post("/api/v1/teams", json!({"name": "Mine"})).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&agent.post("/api/v1/canned-responses", json!({"shortcut": "x", "body": "y"})).await, StatusCode::FORBIDDEN, "forbidden");
    // An admin token may not mint an owner token.
    let admin = Api::with_token(app.url(""), &api_token(&owner, "admin").await);
    assert_error(&admin.post("/api/v1/api-tokens", json!({"name": "up", "role": "owner"})).await, StatusCode::FORBIDDEN, "forbidden");

    // What agents may do still works, and nothing changed.
    let mine = agent.ok(Method::PATCH, &format!("/api/v1/agents/{me}"), Some(json!({"name": "Ana"}))).await;
    assert_eq!((mine["name"].as_str(), mine["role"].as_str()), (Some("Ana"), Some("agent")));
    let roster = owner.ok(Method::GET, "/api/v1/agents", None).await;
    let names: Vec<_> = roster.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["Ana", "acme owner"]);
    assert_eq!(owner.ok(Method::GET, "/api/v1/sites", None).await[0]["name"], "acme site");
    assert_eq!(owner.ok(Method::GET, "/api/v1/api-tokens", None).await.as_array().unwrap().len(), 1);
}

fn small_frames() -> ServerConfig {
    ServerConfig { max_frame_bytes: 1024, ..ServerConfig::default() }
}

#[tokio::test]
async fn a_visitor_socket_answers_bad_frames_with_errors_and_stays_usable() {
    let app = TestApp::spawn_with(small_frames(), Limits::default()).await;
    let seed = app.seed("acme").await;
    let (mut ws, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello").await;

    ws.send_raw(Message::Text("this is not json".into())).await;
    expect_error(&mut ws, "invalid_frame").await;
    assert_usable(&mut ws).await;
    ws.send(json!({"type": "teleport"})).await;
    expect_error(&mut ws, "unknown_frame_type").await;
    assert_usable(&mut ws).await;
    ws.send(json!({"kind": "ping"})).await;
    expect_error(&mut ws, "invalid_frame").await;
    ws.send(json!({"type": "send", "body": "no client id"})).await;
    expect_error(&mut ws, "invalid_frame").await;
    assert_usable(&mut ws).await;
    ws.send(json!({"type": "ping", "padding": "x".repeat(2000)})).await;
    expect_error(&mut ws, "frame_too_large").await;
    assert_usable(&mut ws).await;
    ws.send_raw(Message::Binary(vec![1u8, 2, 3].into())).await;
    expect_error(&mut ws, "invalid_frame").await;
    assert_usable(&mut ws).await;
    ws.send(json!({"type": "hello", "token": null})).await;
    expect_error(&mut ws, "already_welcomed").await;
    assert_usable(&mut ws).await;
    ws.send(json!({"type": "receipt", "conversation_id": conv, "kind": "seen", "up_to_seq": 1})).await;
    expect_error(&mut ws, "invalid_frame").await;
    ws.send(json!({"type": "receipt", "conversation_id": conv, "kind": "read", "up_to_seq": 50})).await;
    expect_error(&mut ws, "validation_failed").await;
    ws.send(json!({"type": "page", "url": "javascript:alert(1)"})).await;
    expect_error(&mut ws, "validation_failed").await;
    ws.send(json!({"type": "profile", "email": "not-an-email"})).await;
    expect_error(&mut ws, "validation_failed").await;
    assert_usable(&mut ws).await;

    // A frame beyond what the server buffers at all ends the socket with 1009.
    ws.send_raw(Message::Text("x".repeat(2 * 1024 * 1024).into())).await;
    assert_eq!(ws.closed_with().await, Some(1009));
}

#[tokio::test]
async fn an_agent_socket_answers_bad_frames_with_errors_and_stays_usable() {
    let app = TestApp::spawn_with(small_frames(), Limits::default()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let mut ws = Ws::agent(app.addr, &secret, None).await;
    ws.expect("caught_up").await;

    ws.send_raw(Message::Text("{{{".into())).await;
    expect_error(&mut ws, "invalid_frame").await;
    assert_usable(&mut ws).await;
    ws.send(json!({"type": "teleport"})).await;
    expect_error(&mut ws, "unknown_frame_type").await;
    assert_usable(&mut ws).await;
    ws.send(json!({"type": "send", "client_id": "big", "conversation_id": uuid::Uuid::new_v4(), "body": "x".repeat(2000)})).await;
    expect_error(&mut ws, "frame_too_large").await;
    assert_usable(&mut ws).await;
    ws.send_raw(Message::Binary(vec![0u8; 16].into())).await;
    expect_error(&mut ws, "invalid_frame").await;
    assert_usable(&mut ws).await;
    ws.send(json!({"type": "send", "client_id": "lost", "conversation_id": uuid::Uuid::new_v4(), "body": "hello?"})).await;
    let e = expect_error(&mut ws, "conversation_not_found").await;
    assert_eq!(e["ref"], "lost");
    ws.send(json!({"type": "send", "client_id": "bad-id", "conversation_id": "not-a-uuid", "body": "hello?"})).await;
    expect_error(&mut ws, "invalid_frame").await;
    assert_usable(&mut ws).await;
}

#[tokio::test]
async fn a_socket_that_does_not_start_with_hello_is_refused() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;

    let visitor_url = format!("ws://{}/ws/visitor?site={}", app.addr, seed.site.public_key);
    let mut ws = Ws::connect(&visitor_url, None).await.unwrap();
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await.expect("error frame")["code"], "hello_required");
    assert_eq!(ws.closed_with().await, Some(1008));

    let mut ws = Ws::connect(&format!("ws://{}/ws/agent?access_token={secret}", app.addr), None).await.unwrap();
    ws.send(json!({"type": "send", "client_id": "c", "conversation_id": uuid::Uuid::new_v4(), "body": "hi"})).await;
    assert_eq!(ws.next().await.expect("error frame")["code"], "hello_required");
    assert_eq!(ws.closed_with().await, Some(1008));

    // A binary first frame is told why before the socket closes, on both sockets.
    for url in [visitor_url.clone(), format!("ws://{}/ws/agent?access_token={secret}", app.addr)] {
        let mut ws = Ws::connect(&url, None).await.unwrap();
        ws.send_raw(Message::Binary(vec![1u8, 2, 3].into())).await;
        assert_eq!(ws.next().await.expect("error frame")["code"], "invalid_frame", "{url}");
        assert_eq!(ws.closed_with().await, Some(1008));
    }

    // A garbage visitor token, and a well-formed one with a forged signature.
    for token in ["garbage", "v1.AAAA.BBBB"] {
        let mut ws = Ws::connect(&visitor_url, None).await.unwrap();
        ws.send(json!({"type": "hello", "token": token})).await;
        let f = ws.next().await.expect("error frame");
        assert_eq!((f["type"].as_str(), f["code"].as_str()), (Some("error"), Some("invalid_token")), "{f}");
        assert_eq!(ws.closed_with().await, Some(1008));
    }

    // Unknown site, bad API token: refused before the upgrade.
    let refused = Ws::connect(&format!("ws://{}/ws/visitor?site=pk_nope", app.addr), None).await.err().expect("refused");
    assert_http_error(refused, StatusCode::NOT_FOUND, "site_not_found");
    let refused = Ws::connect(&format!("ws://{}/ws/agent?access_token=sb_nope", app.addr), None).await.err().expect("refused");
    assert_http_error(refused, StatusCode::UNAUTHORIZED, "invalid_token");
    let refused = Ws::connect(&format!("ws://{}/ws/agent", app.addr), None).await.err().expect("refused");
    assert_http_error(refused, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[track_caller]
fn assert_http_error(e: tungstenite::Error, status: StatusCode, code: &str) {
    let tungstenite::Error::Http(res) = e else { panic!("expected an HTTP refusal, got {e}") };
    assert_eq!(res.status().as_u16(), status.as_u16());
    let body: Value = serde_json::from_slice(res.body().as_deref().unwrap_or_default()).expect("json error body");
    assert_eq!(body["code"], code, "{body}");
}

#[tokio::test]
async fn a_site_with_allowed_origins_refuses_other_pages() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let site = owner
        .ok(Method::PATCH, &format!("/api/v1/sites/{}", seed.site.id), Some(json!({"allowed_origins": ["https://Shop.example/"]})))
        .await;
    assert_eq!(site["allowed_origins"], json!(["https://shop.example"]));
    let key = &seed.site.public_key;
    let url = format!("ws://{}/ws/visitor?site={key}", app.addr);

    for origin in [Some("https://evil.example"), Some("https://shop.example.evil.example"), Some("null"), None] {
        let refused = Ws::connect(&url, origin).await.err().unwrap_or_else(|| panic!("{origin:?} was let in"));
        assert_http_error(refused, StatusCode::FORBIDDEN, "origin_not_allowed");
    }
    let mut ws = Ws::connect(&url, Some("https://shop.example")).await.expect("the allowed origin connects");
    ws.send(json!({"type": "hello"})).await;
    let welcome = ws.expect("welcome").await;
    assert_eq!(welcome["site"]["name"], "acme site");

    let widget = |origin: Option<&'static str>| {
        let mut req = reqwest::Client::new().get(app.url(&format!("/api/v1/widget/{key}")));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    assert_error(&widget(Some("https://evil.example")).await, StatusCode::FORBIDDEN, "origin_not_allowed");
    assert_error(&widget(None).await, StatusCode::FORBIDDEN, "origin_not_allowed");
    let (status, public) = widget(Some("https://shop.example")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public["name"], "acme site");
    assert!(public.get("identity_secret").is_none(), "the public view has no secrets: {public}");
}

/// The widget's chat frame and the chat page are pages of this server: their socket and
/// requests carry this server's origin (or, for a same-origin `GET`, none but
/// `Sec-Fetch-Site: same-origin`), and a site with allowed origins lets them in (its
/// allowed origins decide who may frame the chat, through the frame's `frame-ancestors`).
#[tokio::test]
async fn the_chat_frame_on_this_server_chats_for_a_site_with_allowed_origins() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    owner.ok(Method::PATCH, &format!("/api/v1/sites/{}", seed.site.id), Some(json!({"allowed_origins": ["https://shop.example"]}))).await;
    let key = &seed.site.public_key;
    let ours = format!("http://{}", app.addr);

    let url = format!("ws://{}/ws/visitor?site={key}", app.addr);
    let mut ws = Ws::connect(&url, Some(&ours)).await.expect("the frame's own origin connects");
    ws.send(json!({"type": "hello"})).await;
    assert_eq!(ws.expect("welcome").await["site"]["name"], "acme site");
    // Another port of the same host is another origin.
    let other_port = format!("http://{}:1", app.addr.ip());
    let refused = Ws::connect(&url, Some(&other_port)).await.err().expect("another origin is refused");
    assert_http_error(refused, StatusCode::FORBIDDEN, "origin_not_allowed");

    let widget = |fetch_site: &'static str| {
        let req = reqwest::Client::new().get(app.url(&format!("/api/v1/widget/{key}"))).header("sec-fetch-site", fetch_site);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(widget("same-origin").await, StatusCode::OK, "the frame's own GET, which has no Origin");
    assert_eq!(widget("cross-site").await, StatusCode::FORBIDDEN, "another site's GET without an Origin");
}

#[tokio::test]
async fn uploads_that_are_too_large_or_executable_are_refused() {
    let limits = Limits { max_upload_bytes: 2048, ..Limits::default() };
    let app = TestApp::spawn_with(ServerConfig::default(), limits).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;

    assert_error(&upload(&owner, "notes.txt", vec![b'a'; 2049]).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_error(&upload(&owner, "big.txt", vec![b'a'; 200 * 1024]).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.resize(512, 0);
    assert_error(&upload(&owner, "invoice.pdf", exe).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert_invalid_field(&upload(&owner, "empty.txt", vec![]).await, "file");

    // Exactly at the limit is fine.
    let (status, ok) = upload(&owner, "notes.txt", vec![b'a'; 2048]).await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    assert_eq!((ok["size"].as_u64(), ok["content_type"].as_str()), (Some(2048), Some("text/plain; charset=utf-8")));
}

#[tokio::test]
async fn a_rejected_send_stores_nothing() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello").await;
    let contact = visitor.welcome["contact_id"].as_str().unwrap().to_owned();
    let mut feed = Ws::agent(app.addr, &secret, None).await;
    feed.expect("caught_up").await;
    let before = history(&owner, &conv).await;

    let rejected = [
        (json!({"type": "send", "client_id": "r-1", "conversation_id": conv, "body": "  \n "}), "validation_failed"),
        (json!({"type": "send", "client_id": "r-2", "conversation_id": conv, "body": "x".repeat(10_001)}), "validation_failed"),
        (
            json!({"type": "send", "client_id": "r-3", "conversation_id": conv, "body": "see file", "attachment_ids": [uuid::Uuid::new_v4()]}),
            "attachment_not_found",
        ),
        (json!({"type": "send", "client_id": "r-4", "body": ""}), "validation_failed"),
        // A value outside the protocol's enums is a malformed frame; it still names the send.
        (json!({"type": "send", "client_id": "r-5", "conversation_id": conv, "body": "hi", "format": "html"}), "invalid_frame"),
    ];
    for (frame, code) in rejected {
        let client_id = frame["client_id"].clone();
        visitor.send(frame).await;
        let e = expect_error(&mut visitor, code).await;
        assert_eq!(e["ref"], client_id);
    }
    // A file the team uploaded is not the visitor's to attach.
    let (_, team_file) = upload(&owner, "internal.txt", b"internal price list".to_vec()).await;
    visitor
        .send(json!({"type": "send", "client_id": "r-6", "conversation_id": conv, "body": "look", "attachment_ids": [team_file["id"]]}))
        .await;
    assert_eq!(expect_error(&mut visitor, "attachment_not_found").await["ref"], "r-6");

    // REST rejections too.
    let messages = format!("/api/v1/conversations/{conv}/messages");
    assert_error(
        &owner.post(&messages, json!({"body": "see", "attachment_ids": [uuid::Uuid::new_v4()]})).await,
        StatusCode::NOT_FOUND,
        "attachment_not_found",
    );
    assert_invalid_field(
        &owner.post(&messages, json!({"body": "x", "attachment_ids": vec![team_file["id"].clone(); 11]})).await,
        "attachments",
    );

    assert_eq!(history(&owner, &conv).await, before);
    let mine = owner.ok(Method::GET, &format!("/api/v1/conversations?contact_id={contact}"), None).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "no conversation was started");
    // The retried client ids are free: they were never stored.
    let ack = visitor.say(Some(&conv), "r-1", "Now with words").await;
    assert_eq!((ack["seq"].as_i64(), ack["replayed"].as_bool()), (Some(3), Some(false)));
    let next = feed.expect("event").await;
    assert_eq!((next["event"]["seq"].as_i64(), next["event"]["message"]["body"].as_str()), (Some(3), Some("Now with words")));
}
