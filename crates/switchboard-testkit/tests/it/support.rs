//! Small steps that many stories share: an API token, a started conversation, a
//! cookie session for an agent's own socket, and checks of error bodies and frames.
//! Each helper does what a real client would; nothing here reaches into the server.

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_testkit::proto::VisitorOut;
use switchboard_testkit::{AgentSocket, Api, Seed, TestApp, VisitorSocket, Ws, expect_frame};
use uuid::Uuid;

/// A 3×2 red RGB PNG, complete with CRCs, so type sniffing and measuring both work.
pub const PNG_3X2: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x03\x00\x00\x00\x02\x08\x02\x00\x00\x00\x12\x16\xf1\x4d\x00\x00\x00\x10\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\x00\x41\x0c\x70\x16\x00\x41\xd2\x05\xfb\x87\xf0\xb9\x48\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

/// Creates an API token with `role` and returns its secret.
pub async fn api_token(owner: &Api, role: &str) -> String {
    let (status, body) = owner.post("/api/v1/api-tokens", json!({"name": format!("{role} integration"), "role": role})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["secret"].as_str().expect("secret").to_owned()
}

/// A new visitor on the seed's site who starts a conversation with `body`.
/// Returns the socket (already caught up on the new conversation) and the conversation id.
pub async fn visitor_with_conversation(app: &TestApp, seed: &Seed, client_id: &str, body: &str) -> (Ws, String) {
    let mut visitor = app.visitor(&seed.site).await;
    let ack = visitor.say(None, client_id, body).await;
    let conversation = ack["conversation_id"].as_str().expect("conversation id").to_owned();
    let caught_up = visitor.expect("caught_up").await;
    assert_eq!(caught_up["conversation_id"], conversation.as_str());
    (visitor, conversation)
}

/// The typed twin of [`visitor_with_conversation`]: a new visitor on the seed's site
/// who starts a conversation with `body`, caught up on it.
pub async fn typed_visitor_with_conversation(app: &TestApp, seed: &Seed, client_id: &str, body: &str) -> (VisitorSocket, Uuid) {
    let mut visitor = app.visitor_socket(&seed.site).await;
    let ack = visitor.say(None, client_id, body).await.expect("ack");
    let caught_up = expect_frame!(visitor, VisitorOut::CaughtUp { conversation_id, .. } => conversation_id).expect("caught_up");
    assert_eq!(caught_up, ack.conversation_id);
    (visitor, ack.conversation_id)
}

/// Asserts an error response: status, stable code, and (for validation) the field at fault.
#[track_caller]
pub fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "expected {status} {code}, got {} {}", got.0, got.1);
    assert_eq!(got.1["code"], code, "expected code {code}, got {}", got.1);
    assert!(got.1["message"].as_str().is_some_and(|m| !m.is_empty()), "errors carry a message: {}", got.1);
}

#[track_caller]
pub fn assert_invalid_field(got: &(StatusCode, Value), field: &str) {
    assert_error(got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields = got.1["fields"].as_array().expect("fields");
    assert_eq!(fields.len(), 1, "{}", got.1);
    assert_eq!(fields[0]["field"], field, "{}", got.1);
    assert!(fields[0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", got.1);
}

/// Reads frames until an `error`; panics if the socket closes first.
pub async fn expect_error(ws: &mut Ws, code: &str) -> Value {
    let f = ws.expect("error").await;
    assert_eq!(f["code"], code, "{f}");
    f
}

/// Pings and expects the very next frame to be `pong`: the socket is still usable.
pub async fn assert_usable(ws: &mut Ws) {
    ws.send(json!({"type": "ping"})).await;
    let f = ws.next().await.expect("socket closed instead of answering ping");
    assert_eq!(f["type"], "pong", "{f}");
}

/// Signs in over HTTP as a browser would and returns the `sb_session=…` cookie pair.
pub async fn session_cookie(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login request");
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sb_session="))
        .expect("session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body: Value = res.json().await.expect("login body");
    (cookie, body["csrf_token"].as_str().expect("csrf").to_owned())
}

/// The dashboard's own socket, typed: `/ws/agent` with the session cookie, then `hello`.
pub async fn agent_socket_with_cookie(app: &TestApp, cookie: &str) -> AgentSocket {
    let mut ws = AgentSocket::connect_cookie(&app.url(""), cookie, None).await.expect("agent socket");
    ws.hello(None).await.expect("welcome");
    ws
}

/// Creates an agent with `role` through the API and signs them in.
pub async fn new_agent(app: &TestApp, owner: &Api, email: &str, role: &str) -> (Value, Api) {
    let password = "another good password";
    let (status, agent) =
        owner.post("/api/v1/agents", json!({"email": email, "name": format!("{role} {email}"), "role": role, "password": password})).await;
    assert_eq!(status, StatusCode::CREATED, "{agent}");
    (agent, app.login(email, password).await)
}

/// Uploads `bytes` as the multipart field `file`, as the dashboard does.
pub async fn upload(api: &Api, filename: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned());
    let mut req = api.http.post(format!("{}/api/v1/attachments", api.base)).multipart(reqwest::multipart::Form::new().part("file", part));
    if let Some(csrf) = &api.csrf {
        req = req.header("x-csrf-token", csrf);
    }
    if let Some(token) = &api.bearer {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("upload request");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Drops the agent-only cursor: what a visitor receives for the same event.
pub fn as_visitor_sees(event: &Value) -> Value {
    let mut e = event.clone();
    e.as_object_mut().unwrap().remove("feed_seq");
    e
}

pub fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
