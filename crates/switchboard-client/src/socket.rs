//! Both WebSockets, typed: `send` takes the socket's incoming frame type
//! (`VisitorIn`/`AgentIn`), and reading decodes the outgoing one (`VisitorOut`/`AgentOut`).
//! Every read waits at most [`Socket::timeout`] for the next frame: callers wait for the
//! frame they expect, never for a span of time.

use std::marker::PhantomData;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_proto::{AgentIn, AgentOut, Cursor, Message as ProtoMessage, VisitorIn, VisitorOut};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use crate::SocketError;

/// How long a read waits for the next frame by default.
pub const WAIT: Duration = Duration::from_secs(10);

/// A WebSocket that sends `In` frames and receives `Out` frames.
pub struct Socket<In, Out> {
    /// The raw stream, for what the protocol does not cover (pings, binary frames).
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The `welcome` frame the server answered `hello` with, once it did.
    pub welcome: Option<Out>,
    /// How long a read waits for a frame before failing with [`SocketError::Timeout`].
    pub timeout: Duration,
    frames: PhantomData<fn(In) -> Out>,
}

/// `/ws/visitor`: a visitor's browser.
pub type VisitorSocket = Socket<VisitorIn, VisitorOut>;
/// `/ws/agent`: an agent's dashboard or an integration.
pub type AgentSocket = Socket<AgentIn, AgentOut>;

/// The server's `ack` of a `send`: the message is durably stored.
#[derive(Clone, Debug)]
pub struct Acked {
    pub conversation_id: Uuid,
    pub seq: i64,
    pub message: ProtoMessage,
    pub replayed: bool,
}

type Result<T> = std::result::Result<T, SocketError>;

/// `http://host:port` (or `https://`) and a path: the socket's URL.
fn ws_url(base: &str, path_and_query: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = base.strip_prefix("https://").map(|rest| format!("wss://{rest}")).unwrap_or_else(|| base.replacen("http://", "ws://", 1));
    format!("{base}{path_and_query}")
}

impl<In: Serialize, Out: DeserializeOwned> Socket<In, Out> {
    /// Opens a socket to `url` (`ws://…`) with extra handshake headers (`origin`, `cookie`),
    /// without saying anything.
    pub async fn connect(url: &str, headers: &[(&str, &str)]) -> Result<Self> {
        let mut req = url.into_client_request()?;
        for (name, value) in headers {
            let value = HeaderValue::from_str(value).map_err(|e| tungstenite::Error::HttpFormat(e.into()))?;
            let name: tungstenite::http::HeaderName =
                name.parse().map_err(|e: tungstenite::http::header::InvalidHeaderName| tungstenite::Error::HttpFormat(e.into()))?;
            req.headers_mut().insert(name, value);
        }
        let (stream, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Self { stream, welcome: None, timeout: WAIT, frames: PhantomData })
    }

    pub async fn send(&mut self, frame: &In) -> Result<()> {
        let text = serde_json::to_string(frame).expect("wire frames always serialise");
        self.stream.send(Message::Text(text.into())).await?;
        Ok(())
    }

    /// The escape hatch: any WebSocket message, such as malformed JSON or a binary frame.
    pub async fn send_raw(&mut self, msg: Message) -> Result<()> {
        self.stream.send(msg).await?;
        Ok(())
    }

    /// The next text frame as it came, or [`SocketError::Closed`].
    pub async fn next_text(&mut self) -> Result<String> {
        loop {
            match tokio::time::timeout(self.timeout, self.stream.next()).await.map_err(|_| SocketError::Timeout(self.timeout))? {
                Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
                Some(Ok(Message::Close(_))) | None => return Err(SocketError::Closed),
                Some(Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed)) => return Err(SocketError::Closed),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next frame, decoded.
    pub async fn next(&mut self) -> Result<Out> {
        let text = self.next_text().await?;
        serde_json::from_str(&text).map_err(|e| SocketError::Decode { error: e.to_string(), text })
    }

    /// Skips frames until `pick` takes one (returns `Ok`); a frame it refuses (`Err`) is skipped.
    pub async fn find<T, R>(&mut self, mut pick: impl FnMut(Out) -> std::result::Result<T, R>) -> Result<T> {
        loop {
            if let Ok(found) = pick(self.next().await?) {
                return Ok(found);
            }
        }
    }

    /// Skips frames until one matches `wanted`; returns it.
    pub async fn expect(&mut self, mut wanted: impl FnMut(&Out) -> bool) -> Result<Out> {
        self.find(|f| if wanted(&f) { Ok(f) } else { Err(()) }).await
    }

    /// The close code the server ends the socket with, skipping other frames.
    pub async fn closed_with(&mut self) -> Result<Option<u16>> {
        loop {
            match tokio::time::timeout(self.timeout, self.stream.next()).await.map_err(|_| SocketError::Timeout(self.timeout))? {
                Some(Ok(Message::Close(frame))) => return Ok(frame.map(|f| f.code.into())),
                None | Some(Err(_)) => return Ok(None),
                Some(Ok(_)) => continue,
            }
        }
    }
}

impl VisitorSocket {
    /// Opens `/ws/visitor` for the site with `site_key`, from a page of `origin` if given.
    pub async fn connect_site(base: &str, site_key: &str, origin: Option<&str>) -> Result<Self> {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        Self::connect(&ws_url(base, &format!("/ws/visitor?site={site_key}")), &headers).await
    }

    /// Opens the socket and says hello: as a returning visitor with `token`, resuming
    /// each conversation after its cursor. Fails with the server's `error` if refused.
    pub async fn open(base: &str, site_key: &str, token: Option<&str>, resume: Vec<Cursor>) -> Result<Self> {
        let mut ws = Self::connect_site(base, site_key, None).await?;
        ws.hello(token, resume).await?;
        Ok(ws)
    }

    /// Sends `hello` and waits for `welcome` (kept in [`Socket::welcome`]).
    pub async fn hello(&mut self, token: Option<&str>, resume: Vec<Cursor>) -> Result<()> {
        self.send(&VisitorIn::Hello { token: token.map(str::to_owned), resume }).await?;
        let welcome = self
            .find(|f| match f {
                VisitorOut::Welcome { .. } => Ok(Ok(f)),
                VisitorOut::Error { code, message, retry_after_ms, .. } => Ok(Err(SocketError::Refused { code, message, retry_after_ms })),
                _ => Err(()),
            })
            .await??;
        self.welcome = Some(welcome);
        Ok(())
    }

    /// The token `welcome` handed out: the visitor's identity for the next connection.
    pub fn token(&self) -> &str {
        match &self.welcome {
            Some(VisitorOut::Welcome { token, .. }) => token,
            _ => panic!("no welcome yet: call hello first"),
        }
    }

    /// The contact `welcome` named.
    pub fn contact_id(&self) -> Uuid {
        match &self.welcome {
            Some(VisitorOut::Welcome { contact_id, .. }) => *contact_id,
            _ => panic!("no welcome yet: call hello first"),
        }
    }

    /// Sends a message (a new conversation without `conversation`) and waits for its `ack`.
    /// An `error` frame for this `client_id` fails with [`SocketError::Refused`].
    pub async fn say(&mut self, conversation: Option<Uuid>, client_id: &str, body: &str) -> Result<Acked> {
        let frame = VisitorIn::Send {
            client_id: client_id.to_owned(),
            conversation_id: conversation,
            body: body.to_owned(),
            format: None,
            attachment_ids: vec![],
            pow: None,
            invitation_id: None,
            team_id: None,
        };
        self.send(&frame).await?;
        self.find(|f| match f {
            VisitorOut::Ack { client_id: id, conversation_id, seq, message, replayed } if id == client_id => {
                Ok(Ok(Acked { conversation_id, seq, message, replayed }))
            }
            VisitorOut::Error { code, message, reference: Some(r), retry_after_ms, .. } if r == client_id => {
                Ok(Err(SocketError::Refused { code, message, retry_after_ms }))
            }
            _ => Err(()),
        })
        .await?
    }
}

impl AgentSocket {
    /// Opens `/ws/agent` for an integration with an API token.
    pub async fn connect_token(base: &str, token: &str) -> Result<Self> {
        Self::connect(&ws_url(base, &format!("/ws/agent?access_token={token}")), &[]).await
    }

    /// Opens `/ws/agent` as the dashboard does: with the session cookie (`sb_session=…`).
    pub async fn connect_cookie(base: &str, cookie: &str, origin: Option<&str>) -> Result<Self> {
        let mut headers = vec![("cookie", cookie)];
        headers.extend(origin.map(|o| ("origin", o)));
        Self::connect(&ws_url(base, "/ws/agent"), &headers).await
    }

    /// Opens the socket with an API token and says hello, replaying after `after_feed_seq`.
    pub async fn open(base: &str, token: &str, after_feed_seq: Option<i64>) -> Result<Self> {
        let mut ws = Self::connect_token(base, token).await?;
        ws.hello(after_feed_seq).await?;
        Ok(ws)
    }

    /// Sends `hello` and waits for `welcome` (kept in [`Socket::welcome`]).
    pub async fn hello(&mut self, after_feed_seq: Option<i64>) -> Result<()> {
        self.send(&AgentIn::Hello { after_feed_seq }).await?;
        let welcome = self
            .find(|f| match f {
                AgentOut::Welcome { .. } => Ok(Ok(f)),
                AgentOut::Error { code, message, retry_after_ms, .. } => Ok(Err(SocketError::Refused { code, message, retry_after_ms })),
                _ => Err(()),
            })
            .await??;
        self.welcome = Some(welcome);
        Ok(())
    }

    /// The agent `welcome` named.
    pub fn agent_id(&self) -> Uuid {
        match &self.welcome {
            Some(AgentOut::Welcome { agent_id, .. }) => *agent_id,
            _ => panic!("no welcome yet: call hello first"),
        }
    }

    /// Sends a reply (or a private note) and waits for its `ack`.
    pub async fn say(&mut self, conversation: Uuid, client_id: &str, body: &str, note: bool) -> Result<Acked> {
        let frame = AgentIn::Send {
            client_id: client_id.to_owned(),
            conversation_id: conversation,
            body: body.to_owned(),
            format: None,
            attachment_ids: vec![],
            note,
        };
        self.send(&frame).await?;
        self.find(|f| match f {
            AgentOut::Ack { client_id: id, conversation_id, seq, message, replayed } if id == client_id => {
                Ok(Ok(Acked { conversation_id, seq, message, replayed }))
            }
            AgentOut::Error { code, message, reference: Some(r), retry_after_ms } if r == client_id => {
                Ok(Err(SocketError::Refused { code, message, retry_after_ms }))
            }
            _ => Err(()),
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use super::ws_url;

    #[test]
    fn socket_urls_follow_the_http_scheme() {
        assert_eq!(ws_url("http://127.0.0.1:8080/", "/ws/agent"), "ws://127.0.0.1:8080/ws/agent");
        assert_eq!(ws_url("https://chat.example", "/ws/visitor?site=k"), "wss://chat.example/ws/visitor?site=k");
    }
}
