//! The clients the system tests drive the server with. Typed access is
//! `switchboard-client` ([`Client`], [`VisitorSocket`], [`AgentSocket`]), reached
//! through [`Api`] (which derefs to a [`Client`]) and `TestApp`'s helpers. What is left
//! here speaks JSON values, for the stories about bad input only (malformed bodies and
//! frames, unknown fields, values outside the enums), which must be able to send what
//! no typed client can. Waiting is always for a specific frame, with a timeout; never a sleep.

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
pub use switchboard_client::{AgentSocket, Client, VisitorSocket};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = switchboard_client::WAIT;

/// An HTTP client for the REST API, signed in or not: the typed [`Client`] (through
/// `Deref`), plus requests with JSON values for bodies the typed methods cannot send.
#[derive(Clone)]
pub struct Api {
    pub client: Client,
}

impl Deref for Api {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for Api {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl Api {
    pub fn new(base: String) -> Self {
        Self { client: Client::new(&base) }
    }

    pub fn with_token(base: String, token: &str) -> Self {
        Self { client: Client::with_token(&base, token) }
    }

    /// Any request to a path under the origin (`/api/v1/…`) with a JSON value; returns
    /// the status and the JSON body (`Value::Null` if none).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.client.http.request(method, format!("{}{path}", self.client.base));
        if let Some(csrf) = &self.client.csrf {
            req = req.header("x-csrf-token", csrf);
        }
        if let Some(token) = &self.client.bearer {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Same as [`Api::call`] but panics unless the status is 2xx; returns the body.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.call(method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path} answered {status}: {body}");
        body
    }
}

/// A WebSocket speaking the frame protocol as JSON values, for frames no typed client
/// sends; every other story uses [`VisitorSocket`]/[`AgentSocket`].
pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The `welcome` frame the server answered `hello` with.
    pub welcome: Value,
}

impl Ws {
    /// Opens `/ws/visitor`, says hello with `token` and `resume` cursors, reads `welcome`.
    pub async fn visitor(addr: SocketAddr, site_key: &str, token: Option<&str>, resume: Option<Value>) -> Self {
        let mut ws = Self::connect(&format!("ws://{addr}/ws/visitor?site={site_key}"), None).await.expect("connect");
        ws.send(json!({"type": "hello", "token": token, "resume": resume.unwrap_or(json!([]))})).await;
        ws.welcome = ws.expect("welcome").await;
        ws
    }

    /// Opens `/ws/agent` with an API token and says hello with an optional feed cursor.
    pub async fn agent(addr: SocketAddr, token: &str, after_feed_seq: Option<i64>) -> Self {
        let mut ws = Self::connect(&format!("ws://{addr}/ws/agent?access_token={token}"), None).await.expect("connect");
        ws.send(json!({"type": "hello", "after_feed_seq": after_feed_seq})).await;
        ws.welcome = ws.expect("welcome").await;
        ws
    }

    /// Connects without saying anything, optionally with an `Origin` header.
    pub async fn connect(url: &str, origin: Option<&str>) -> Result<Self, tungstenite::Error> {
        use tungstenite::client::IntoClientRequest;
        let mut req = url.into_client_request()?;
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        let (stream, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Self { stream, welcome: Value::Null })
    }

    pub async fn send(&mut self, frame: Value) {
        self.stream.send(Message::Text(frame.to_string().into())).await.expect("send");
    }

    pub async fn send_raw(&mut self, msg: Message) {
        self.stream.send(msg).await.expect("send");
    }

    /// The next JSON frame, or `None` when the socket closes; panics after [`WAIT`].
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next()).await.expect("timed out waiting for a frame");
            match msg {
                Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).expect("json frame")),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Skips frames until one of type `kind` arrives; returns it.
    pub async fn expect(&mut self, kind: &str) -> Value {
        loop {
            match self.next().await {
                Some(f) if f["type"] == kind => return f,
                Some(_) => continue,
                None => panic!("socket closed while waiting for `{kind}`"),
            }
        }
    }

    /// The close code the server ends the socket with (skipping other frames).
    pub async fn closed_with(&mut self) -> Option<u16> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next()).await.expect("timed out waiting for close");
            match msg {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code.into()),
                None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Sends a message and waits for its `ack`.
    pub async fn say(&mut self, conversation: Option<&str>, client_id: &str, body: &str) -> Value {
        self.send(json!({"type": "send", "client_id": client_id, "conversation_id": conversation, "body": body})).await;
        loop {
            let f = self.next().await.expect("socket closed before ack");
            if f["type"] == "ack" && f["client_id"] == client_id {
                return f;
            }
            if f["type"] == "error" && f["ref"] == client_id {
                panic!("send failed: {f}");
            }
        }
    }
}
