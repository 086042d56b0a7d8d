//! Small steps that many stories share: an API token, a started conversation, a
//! cookie session for an agent's own socket, and checks of error answers and frames.
//! Each helper does what a real client would; nothing here reaches into the server.
//! They speak the typed client (`switchboard-client`); [`raw`] keeps the JSON-value
//! twins for the stories about malformed input, which must be able to send anything.

use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use switchboard_client::Acked;
use switchboard_testkit::proto::{
    Agent, AgentOut, CreateAgent, CreateApiToken, ErrorCode, Event, EventBody, Page, Role, VisitorIn, VisitorOut,
};
use switchboard_testkit::{AgentSocket, Api, ClientError, Seed, SocketError, TestApp, VisitorSocket, expect_frame};
use uuid::Uuid;

/// A 3×2 red RGB PNG, complete with CRCs, so type sniffing and measuring both work.
pub const PNG_3X2: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x03\x00\x00\x00\x02\x08\x02\x00\x00\x00\x12\x16\xf1\x4d\x00\x00\x00\x10\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\x00\x41\x0c\x70\x16\x00\x41\xd2\x05\xfb\x87\xf0\xb9\x48\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

/// The password [`new_agent`] gives everyone it creates.
pub const AGENT_PASSWORD: &str = "another good password";

/// Creates an API token with `role` and returns its secret.
pub async fn api_token(owner: &Api, role: Role) -> String {
    let name = format!("{role} integration");
    owner.create_api_token(&CreateApiToken { name, role: Some(role), expires_at: None }).await.expect("creating an API token").secret
}

/// A new visitor on the seed's site who starts a conversation with `body`.
/// Returns the socket (already caught up on the new conversation) and the conversation id.
pub async fn visitor_with_conversation(app: &TestApp, seed: &Seed, client_id: &str, body: &str) -> (VisitorSocket, Uuid) {
    let mut visitor = app.visitor_socket(&seed.site).await;
    let ack = visitor.say(None, client_id, body).await.expect("ack");
    let caught_up = expect_frame!(visitor, VisitorOut::CaughtUp { conversation_id, .. } => conversation_id).expect("caught_up");
    assert_eq!(caught_up, ack.conversation_id);
    (visitor, ack.conversation_id)
}

/// An agent socket with the API token `secret`, caught up on the feed's head.
pub async fn caught_up_agent(app: &TestApp, secret: &str) -> AgentSocket {
    let mut agent = app.agent_socket(secret).await;
    expect_frame!(agent, AgentOut::CaughtUp { .. }).expect("caught_up");
    agent
}

/// Asserts that a call was refused with `status` and the stable `code`, with a message.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(got: Result<T, ClientError>, status: StatusCode, code: ErrorCode) {
    match got {
        Err(ClientError::Api { status: s, body }) => {
            assert_eq!((s, body.code), (status.as_u16(), code), "expected {status} {code}, got {s} {body:?}");
            assert!(!body.message.is_empty(), "errors carry a message: {body:?}");
        }
        other => panic!("expected {status} {code}, got {other:?}"),
    }
}

/// Asserts a `422 validation_failed` naming exactly `field`.
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(got: Result<T, ClientError>, field: &str) {
    let Err(ClientError::Api { status: 422, body }) = got else { panic!("expected 422 validation_failed on {field}, got {got:?}") };
    assert_eq!(body.code, ErrorCode::ValidationFailed, "{body:?}");
    let fields: Vec<_> = body.fields.iter().map(|f| (f.field.as_str(), !f.message.is_empty())).collect();
    assert_eq!(fields, [(field, true)], "{body:?}");
}

/// Reads frames until an `error`; asserts its code and returns its `ref`.
pub async fn expect_error(ws: &mut VisitorSocket, code: ErrorCode) -> Option<String> {
    let (got, reference) = expect_frame!(ws, VisitorOut::Error { code, reference, .. } => (code, reference)).expect("an error frame");
    assert_eq!(got, code, "ref {reference:?}");
    reference
}

/// Pings and expects the very next frame to be `pong`: the socket is still usable.
pub async fn assert_usable(ws: &mut VisitorSocket) {
    ws.send(&VisitorIn::Ping).await.unwrap();
    let f = ws.next().await.expect("socket closed instead of answering ping");
    assert!(matches!(f, VisitorOut::Pong), "{f:?}");
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

/// Creates an agent with `role` through the API and signs them in (password [`AGENT_PASSWORD`]).
pub async fn new_agent(app: &TestApp, owner: &Api, email: &str, role: Role) -> (Agent, Api) {
    let name = format!("{role} {email}");
    let new =
        CreateAgent { email: email.into(), name, role, password: AGENT_PASSWORD.into(), locale: None, max_chats: None, avatar_url: None };
    let agent = owner.create_agent(&new).await.expect("creating an agent");
    (agent, app.login(email, AGENT_PASSWORD).await)
}

/// What the stories about sending and resuming look at in a frame of either socket.
#[derive(Debug)]
pub enum Seen {
    Ack {
        client_id: String,
        acked: Acked,
    },
    Event(Event),
    /// `caught_up`, with the cursor it names: `seq` (visitor) or `feed_seq` (agent).
    CaughtUp(i64),
    Reconnect,
    /// An `error` frame, described.
    Error(String),
    Other,
}

/// The outgoing frames of both sockets, seen the same way.
pub trait Frame: DeserializeOwned + Send + 'static {
    fn seen(self) -> Seen;
}

impl Frame for VisitorOut {
    fn seen(self) -> Seen {
        match self {
            VisitorOut::Ack { client_id, conversation_id, seq, message, replayed } => {
                Seen::Ack { client_id, acked: Acked { conversation_id, seq, message, replayed } }
            }
            VisitorOut::Event { event } => Seen::Event(event),
            VisitorOut::CaughtUp { seq, .. } => Seen::CaughtUp(seq),
            VisitorOut::Reconnect { .. } => Seen::Reconnect,
            VisitorOut::Error { code, message, reference, .. } => Seen::Error(format!("{code} {message} (ref {reference:?})")),
            _ => Seen::Other,
        }
    }
}

impl Frame for AgentOut {
    fn seen(self) -> Seen {
        match self {
            AgentOut::Ack { client_id, conversation_id, seq, message, replayed } => {
                Seen::Ack { client_id, acked: Acked { conversation_id, seq, message, replayed } }
            }
            AgentOut::Event { event } => Seen::Event(event),
            AgentOut::CaughtUp { feed_seq } => Seen::CaughtUp(feed_seq),
            AgentOut::Reconnect { .. } => Seen::Reconnect,
            AgentOut::Error { code, message, reference, .. } => Seen::Error(format!("{code} {message} (ref {reference:?})")),
            _ => Seen::Other,
        }
    }
}

/// The wire name of an event's kind, to compare timelines in one line.
pub fn kind(body: &EventBody) -> &'static str {
    match body {
        EventBody::ConversationStarted => "conversation_started",
        EventBody::Message { .. } => "message",
        EventBody::Note { .. } => "note",
        EventBody::StatusChanged { .. } => "status_changed",
        EventBody::Assigned { .. } => "assigned",
        EventBody::LabelsChanged { .. } => "labels_changed",
        EventBody::PriorityChanged { .. } => "priority_changed",
        EventBody::Receipt { .. } => "receipt",
        EventBody::ConversationRated { .. } => "conversation_rated",
        EventBody::ContactErased => "contact_erased",
        EventBody::Queued { .. } => "queued",
        EventBody::Dequeued { .. } => "dequeued",
        EventBody::OutsideHours { .. } => "outside_hours",
    }
}

/// What a visitor receives for the same event: the same, without the agent-only cursor.
pub fn as_visitor_sees(event: &Event) -> Event {
    let mut seen = Event { feed_seq: None, ..event.clone() };
    if let EventBody::Assigned { note, .. } = &mut seen.body {
        *note = None;
    }
    seen
}

/// Wire types have no `PartialEq`: two values are the same when they serialise the same,
/// which is also what a client would compare.
#[track_caller]
pub fn assert_same<A: Serialize + std::fmt::Debug, B: Serialize + std::fmt::Debug>(got: &A, expected: &B, what: &str) {
    assert_eq!(serde_json::to_value(got).unwrap(), serde_json::to_value(expected).unwrap(), "{what}");
}

pub fn ids<T: HasId>(page: &Page<T>) -> Vec<Uuid> {
    page.items.iter().map(HasId::id).collect()
}

pub fn sorted(mut v: Vec<Uuid>) -> Vec<Uuid> {
    v.sort();
    v
}

/// Listed things that carry an id.
pub trait HasId {
    fn id(&self) -> Uuid;
}

macro_rules! has_id {
    ($($t:ty),*) => {$(
        impl HasId for $t {
            fn id(&self) -> Uuid {
                self.id
            }
        }
    )*};
}
has_id!(
    switchboard_testkit::proto::Conversation,
    switchboard_testkit::proto::Contact,
    switchboard_testkit::proto::Agent,
    switchboard_testkit::proto::Team,
    switchboard_testkit::proto::Site,
    switchboard_testkit::proto::CannedResponse,
    switchboard_testkit::proto::ApiToken,
    switchboard_testkit::proto::Inbox
);

/// The ids of a list, in its order.
pub fn list_ids<T: HasId>(items: &[T]) -> Vec<Uuid> {
    items.iter().map(HasId::id).collect()
}

/// A refused socket upgrade: asserts its HTTP status and error code.
pub fn assert_upgrade_refused(e: SocketError, status: StatusCode, code: &str) {
    let SocketError::WebSocket(tokio_tungstenite::tungstenite::Error::Http(res)) = e else { panic!("expected an HTTP refusal, got {e}") };
    assert_eq!(res.status().as_u16(), status.as_u16());
    let body: Value = serde_json::from_slice(res.body().as_deref().unwrap_or_default()).expect("json error body");
    assert_eq!(body["code"], code, "{body}");
}

/// The JSON-value helpers of the malformed-input stories (`bad_input`): they send bodies and
/// frames no typed client can, and read answers as they came.
pub mod raw {
    use reqwest::StatusCode;
    use serde_json::{Value, json};
    use switchboard_testkit::{Api, Seed, TestApp, Ws};

    /// Creates an API token with `role` and returns its secret.
    pub async fn api_token(owner: &Api, role: &str) -> String {
        let (status, body) = owner.post("/api/v1/api-tokens", json!({"name": format!("{role} integration"), "role": role})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["secret"].as_str().expect("secret").to_owned()
    }

    /// A new visitor on the seed's site who starts a conversation with `body`, on an untyped socket.
    pub async fn visitor_with_conversation(app: &TestApp, seed: &Seed, client_id: &str, body: &str) -> (Ws, String) {
        let mut visitor = app.visitor(&seed.site).await;
        let ack = visitor.say(None, client_id, body).await;
        let conversation = ack["conversation_id"].as_str().expect("conversation id").to_owned();
        let caught_up = visitor.expect("caught_up").await;
        assert_eq!(caught_up["conversation_id"], conversation.as_str());
        (visitor, conversation)
    }

    /// Asserts an error response: status, stable code, and a message.
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

    /// Creates an agent with `role` through the API and signs them in.
    pub async fn new_agent(app: &TestApp, owner: &Api, email: &str, role: &str) -> (Value, Api) {
        let password = super::AGENT_PASSWORD;
        let (status, agent) = owner
            .post("/api/v1/agents", json!({"email": email, "name": format!("{role} {email}"), "role": role, "password": password}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{agent}");
        (agent, app.login(email, password).await)
    }

    /// Uploads `bytes` as the multipart field `file`; returns the status and body as they came.
    pub async fn upload(api: &Api, filename: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned());
        let mut req =
            api.http.post(format!("{}/api/v1/attachments", api.base)).multipart(reqwest::multipart::Form::new().part("file", part));
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
}
