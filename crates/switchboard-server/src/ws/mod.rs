//! WebSocket plumbing shared by visitor and agent sessions: frame parsing with
//! clear errors, bounded sends, heartbeats, and the protocol error codes. The loop of
//! a session is `session.rs`; each kind of socket is its protocol.

pub mod agent;
mod session;
pub mod visitor;

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::SinkExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use strum::VariantNames;
use switchboard_proto::ErrorCode;

use crate::admission::SocketSlot;
use crate::error::classify;

/// Largest message tungstenite will buffer at all; frames above the application
/// limit but below this get an error frame and the socket stays open.
pub const HARD_MAX_MESSAGE: usize = 1024 * 1024;
/// Small socket buffers instead of tungstenite's 128 KiB each: an idle socket pays for
/// its read buffer, allocated up front. What clients send is small (a `hello` resuming
/// 20 conversations is about 1.6 KiB); a larger frame takes more reads, not more memory.
pub const READ_BUFFER_SIZE: usize = 2048;
/// Frames are written out once this much is buffered, or at a flush.
pub const WRITE_BUFFER_SIZE: usize = 4096;
/// Most live messages a session takes from its queue before it flushes and looks at its
/// other duties (heartbeat, shutdown, the client's frames) again.
pub const LIVE_BATCH: usize = 64;
/// `rate_limited` answers in a row (no frame served in between) after which a client is
/// taken to ignore `retry_after_ms`: its frames are then left unread for that long.
/// A client that waits as told meets one or two; a flood meets this many at once.
/// Three, not more: each refusal read costs the server as much as a small frame served,
/// and at eight the bench's 1,000 abusive visitors doubled the legitimate ones' p99.
pub const IGNORED_REFUSALS: u8 = 3;
/// The longest a client's frames are left unread for ignoring `retry_after_ms`.
/// Shorter than the 10 s shutdown waits for sockets to close.
pub const LONGEST_PAUSE: Duration = Duration::from_secs(5);
/// Most client frames already received that a session answers together with one write
/// to the socket, while it refuses them (`rate_limited`: a flood).
pub const FRAME_BATCH: usize = 16;

/// A protocol error to report in an `error` frame.
pub struct FrameError {
    pub code: ErrorCode,
    pub message: String,
    /// The `client_id` of a frame that failed to parse, when it had one.
    pub client_id: Option<String>,
    /// `rate_limited`: when the same frame will be accepted.
    pub retry_after_ms: Option<u64>,
    /// `pow_required`, `pow_invalid`: the challenge to solve (visitor sockets only).
    pub pow: Option<switchboard_proto::PowChallenge>,
}

impl FrameError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), client_id: None, retry_after_ms: None, pow: None }
    }

    /// Names what the error is about (the `client_id` of a `send`, a conversation id),
    /// over the `client_id` read from a frame that failed to parse.
    pub fn about(mut self, reference: impl Into<Option<String>>) -> Self {
        self.client_id = reference.into().or(self.client_id);
        self
    }
}

impl From<FrameError> for switchboard_proto::VisitorOut {
    fn from(e: FrameError) -> Self {
        Self::Error { code: e.code, message: e.message, reference: e.client_id, retry_after_ms: e.retry_after_ms, pow: e.pow }
    }
}

impl From<FrameError> for switchboard_proto::AgentOut {
    fn from(e: FrameError) -> Self {
        Self::Error { code: e.code, message: e.message, reference: e.client_id, retry_after_ms: e.retry_after_ms }
    }
}

impl FrameError {
    /// A binary frame: the protocol is JSON text frames only.
    pub fn binary() -> Self {
        Self::new(ErrorCode::InvalidFrame, "only JSON text frames are accepted")
    }
}

impl From<switchboard_core::Error> for FrameError {
    fn from(e: switchboard_core::Error) -> Self {
        let (code, message) = classify(&e);
        let message = match &e {
            switchboard_core::Error::Invalid(v) => v.to_string(),
            _ => message,
        };
        let retry_after_ms = match &e {
            switchboard_core::Error::RateLimited { retry_after_ms, .. } => Some(*retry_after_ms),
            _ => None,
        };
        let pow = match e {
            switchboard_core::Error::PowRequired(c) | switchboard_core::Error::PowInvalid { challenge: c, .. } => {
                Some(switchboard_proto::PowChallenge { challenge: c.challenge, difficulty: c.difficulty })
            }
            _ => None,
        };
        Self { retry_after_ms, pow, ..Self::new(code, message) }
    }
}

impl From<switchboard_domain::ValidationError> for FrameError {
    fn from(e: switchboard_domain::ValidationError) -> Self {
        switchboard_core::Error::Invalid(e).into()
    }
}

/// Parses a text frame as one of the frame types `T` declares.
pub fn parse<T: DeserializeOwned + VariantNames>(text: &str, max: usize) -> Result<T, FrameError> {
    if text.len() > max {
        return Err(FrameError::new(ErrorCode::FrameTooLarge, format!("frames are limited to {max} bytes")));
    }
    // The common case parses once; only a bad frame pays for finding out what is wrong.
    if let Ok(frame) = serde_json::from_str(text) {
        return Ok(frame);
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| FrameError::new(ErrorCode::InvalidFrame, format!("not JSON: {e}")))?;
    let Some(kind) = value.get("type").and_then(|t| t.as_str()) else {
        return Err(FrameError::new(ErrorCode::InvalidFrame, "a frame is a JSON object with a string `type`"));
    };
    if !T::VARIANTS.contains(&kind) {
        return Err(FrameError::new(ErrorCode::UnknownFrameType, format!("unknown frame type `{kind}`")));
    }
    let client_id = value.get("client_id").and_then(|c| c.as_str()).map(str::to_owned);
    serde_json::from_value(value).map_err(|e| FrameError { client_id, ..FrameError::new(ErrorCode::InvalidFrame, e.to_string()) })
}

/// A socket with a send deadline: a peer that stops reading is cut off rather than
/// stalling its session forever. It holds its place under the cap on open sockets
/// until it is dropped.
pub struct Conn {
    pub socket: WebSocket,
    pub send_timeout: Duration,
    pub last_heard: Instant,
    refusals: Refusals,
    /// While the session answers a batch of frames: sends are queued, and written with
    /// the batch's one flush.
    corked: bool,
    /// For a client that ignores `retry_after_ms`: how long (ms, at most
    /// [`LONGEST_PAUSE`]) its frames are left unread once the answers are written.
    pause_ms: u16,
    _slot: SocketSlot,
}

pub struct Gone;

/// `rate_limited` answers since the client's last frame that was served.
#[derive(Default)]
struct Refusals {
    in_a_row: u8,
}

impl Refusals {
    /// Counts an answer; how long to leave the client's frames unread, when it has just
    /// ignored [`IGNORED_REFUSALS`] of them in a row.
    fn note(&mut self, refused: Option<&FrameError>) -> Option<Duration> {
        let Some(retry_after_ms) = refused.filter(|e| e.code == ErrorCode::RateLimited).and_then(|e| e.retry_after_ms) else {
            self.in_a_row = 0;
            return None;
        };
        self.in_a_row = self.in_a_row.saturating_add(1);
        if self.in_a_row < IGNORED_REFUSALS {
            return None;
        }
        self.in_a_row = 0;
        Some(Duration::from_millis(retry_after_ms).min(LONGEST_PAUSE))
    }
}

impl Conn {
    pub fn new(socket: WebSocket, send_timeout: Duration, slot: SocketSlot) -> Self {
        Self { socket, send_timeout, last_heard: Instant::now(), refusals: Refusals::default(), corked: false, pause_ms: 0, _slot: slot }
    }

    /// Notes the answer to one of the client's frames: a `rate_limited` one counts, any
    /// other starts the count again. Past [`IGNORED_REFUSALS`] in a row, once the answers
    /// are written, the client's frames are left unread until its `retry_after_ms` has
    /// passed (TCP pushes back on it), so its flood costs nothing meanwhile
    /// ([`Conn::pause`], in the session's boxed answer: an idle socket pays nothing).
    pub fn answered(&mut self, refused: Option<&FrameError>) {
        if let Some(wait) = self.refusals.note(refused) {
            self.pause_ms = wait.as_millis().min(LONGEST_PAUSE.as_millis()) as u16;
        }
    }

    /// Whether the last frame answered was refused as `rate_limited`.
    pub fn refusing(&self) -> bool {
        self.refusals.in_a_row > 0
    }

    /// Whether the client was found ignoring its refusals (its frames should not be
    /// read for a while).
    pub fn pausing(&self) -> bool {
        self.pause_ms > 0
    }

    /// Leaves the client's frames unread for the pause [`Conn::answered`] decided, if any.
    pub async fn pause(&mut self) {
        let wait = std::mem::take(&mut self.pause_ms);
        if wait > 0 {
            tracing::debug!(pause_ms = wait, "a client ignores retry_after_ms; not reading it meanwhile");
            tokio::time::sleep(Duration::from_millis(wait.into())).await;
        }
    }

    /// From now on sends are queued, to be written by [`Conn::uncork`]'s one flush.
    pub fn cork(&mut self) {
        self.corked = true;
    }

    /// Writes out what was queued since [`Conn::cork`]; sends write at once again.
    pub async fn uncork(&mut self) -> Result<(), Gone> {
        self.corked = false;
        self.flush().await
    }

    /// Writes a frame now, with everything queued before it, or, while the session
    /// answers a batch of frames ([`Conn::cork`]), queues it for the batch's flush.
    pub async fn send<T: Serialize>(&mut self, frame: &T) -> Result<(), Gone> {
        let text = serde_json::to_string(frame).expect("frames serialise");
        if self.corked {
            return within(self.send_timeout, self.socket.feed(Message::Text(text.into()))).await;
        }
        self.send_raw(Message::Text(text.into())).await
    }

    pub async fn send_raw(&mut self, msg: Message) -> Result<(), Gone> {
        within(self.send_timeout, self.socket.send(msg)).await
    }

    /// Queues a frame to be written with the next [`Conn::flush`] (or any send, which
    /// flushes everything queued before it, in order). A burst then costs one write to
    /// the socket, not one per frame. Frames are written early when the write buffer
    /// ([`WRITE_BUFFER_SIZE`]) fills, so feeding may wait for a slow peer, under the
    /// same deadline as a send.
    pub async fn feed<T: Serialize>(&mut self, frame: &T) -> Result<(), Gone> {
        let text = serde_json::to_string(frame).expect("frames serialise");
        within(self.send_timeout, self.socket.feed(Message::Text(text.into()))).await
    }

    /// Queues a frame encoded once for every socket a bus message goes to (see
    /// [`switchboard_bus::Delivery`]).
    pub async fn feed_shared<T: Serialize>(
        &mut self,
        cache: &std::sync::OnceLock<std::sync::Arc<str>>,
        frame: impl FnOnce() -> T,
    ) -> Result<(), Gone> {
        let text = cache.get_or_init(|| serde_json::to_string(&frame()).expect("frames serialise").into());
        within(self.send_timeout, self.socket.feed(Message::Text((&**text).into()))).await
    }

    /// Writes out every queued frame.
    pub async fn flush(&mut self) -> Result<(), Gone> {
        within(self.send_timeout, self.socket.flush()).await
    }

    /// On each heartbeat: close a socket that has been silent too long, ping the others.
    pub async fn heartbeat(&mut self, idle_timeout: Duration) -> Result<(), Gone> {
        if self.last_heard.elapsed() > idle_timeout {
            self.close(1001, "idle timeout").await;
            return Err(Gone);
        }
        self.send_raw(Message::Ping(Default::default())).await
    }

    /// Sends a last frame (a `reconnect` hint, a refused handshake's `error`), then closes.
    pub async fn goodbye<T: Serialize>(&mut self, frame: T, code: u16, reason: &'static str) {
        if self.send(&frame).await.is_ok() {
            self.close(code, reason).await;
        }
    }

    /// The closing handshake: send Close, then give the peer a moment to answer with
    /// its own Close before the connection is dropped. Dropping at once would reset the
    /// connection if the peer still had frames in flight, and it could lose the last
    /// frames we sent (such as a `reconnect` hint).
    pub async fn close(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
        if self.send_raw(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while let Some(Ok(msg)) = self.socket.recv().await {
                if let Message::Close(_) = msg {
                    break;
                }
            }
        })
        .await;
    }
}

/// A write to the socket, cut off if the peer cannot take it within `deadline`.
async fn within(deadline: Duration, write: impl Future<Output = Result<(), axum::Error>>) -> Result<(), Gone> {
    match tokio::time::timeout(deadline, write).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(Gone),
    }
}

/// What arrived on a socket, reduced to what sessions act on.
enum Incoming {
    Text(String),
    /// A frame we do not accept (binary), answered with an error frame.
    Unsupported,
    /// Pings, pongs: proof of life only.
    Alive,
    Closed,
    /// The peer sent more than [`HARD_MAX_MESSAGE`]: closed with 1009.
    TooBig,
}

fn incoming(msg: Option<Result<Message, axum::Error>>) -> Incoming {
    match msg {
        Some(Ok(Message::Text(t))) => Incoming::Text(t.to_string()),
        Some(Ok(Message::Binary(_))) => Incoming::Unsupported,
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Alive,
        Some(Ok(Message::Close(_))) | None => Incoming::Closed,
        Some(Err(e)) => match e.into_inner().downcast_ref::<tungstenite::Error>() {
            // Above `HARD_MAX_MESSAGE` (a message or a frame): tungstenite stops reading.
            Some(tungstenite::Error::Capacity(_)) => Incoming::TooBig,
            _ => Incoming::Closed,
        },
    }
}

#[cfg(test)]
mod tests {
    /// The size of the future a function returns, without calling it.
    trait ReturnSize<Args> {
        fn return_size(&self) -> usize;
    }

    impl<F: Fn(A, B, C) -> R, A, B, C, R> ReturnSize<(A, B, C)> for F {
        fn return_size(&self) -> usize {
            std::mem::size_of::<R>()
        }
    }

    impl<F: Fn(A, B, C, D) -> R, A, B, C, D, R> ReturnSize<(A, B, C, D)> for F {
        fn return_size(&self) -> usize {
            std::mem::size_of::<R>()
        }
    }

    impl<F: Fn(A, B, C, D, E) -> R, A, B, C, D, E, R> ReturnSize<(A, B, C, D, E)> for F {
        fn return_size(&self) -> usize {
            std::mem::size_of::<R>()
        }
    }

    /// A client that waits as told is never paused; one that keeps sending after
    /// [`super::IGNORED_REFUSALS`] refusals in a row is, for the wait it was told (at most
    /// [`super::LONGEST_PAUSE`]); a frame served in between starts the count again.
    #[test]
    fn only_a_client_that_ignores_its_refusals_is_paused() {
        use std::time::Duration;

        use super::{FrameError, IGNORED_REFUSALS, Refusals};
        use switchboard_proto::ErrorCode;

        let limited = |ms| FrameError { retry_after_ms: Some(ms), ..FrameError::new(ErrorCode::RateLimited, "slow down") };
        let mut r = Refusals::default();
        for _ in 0..3 {
            for _ in 0..IGNORED_REFUSALS - 1 {
                assert_eq!(r.note(Some(&limited(800))), None);
            }
            assert_eq!(r.note(None), None, "a frame served starts the count again");
        }
        assert_eq!(r.note(Some(&FrameError::new(ErrorCode::ValidationFailed, "bad"))), None, "other errors do not count");
        for _ in 0..IGNORED_REFUSALS - 1 {
            assert_eq!(r.note(Some(&limited(800))), None);
        }
        assert_eq!(r.note(Some(&limited(800))), Some(Duration::from_millis(800)), "ignored: paused for the wait it was told");
        for _ in 0..IGNORED_REFUSALS - 1 {
            r.note(Some(&limited(600_000)));
        }
        assert_eq!(r.note(Some(&limited(600_000))), Some(super::LONGEST_PAUSE), "never longer than the longest pause");
    }

    /// A session's task is the future its `run` returns, allocated once per socket and
    /// kept while the socket is open. With the handshake, the replay and the answers to
    /// frames inlined it was about 8 KiB per idle visitor; boxed, it is little more than
    /// the socket and the session's own state. A visitor's is about 1.5 KiB in a debug
    /// build: the app state is one pointer (a copy of the core's handles made it 2.1 KiB
    /// in session 10).
    #[test]
    fn an_idle_session_is_small() {
        let visitor = super::visitor::run.return_size();
        let agent = super::agent::run.return_size();
        assert!(visitor <= 2048, "an idle visitor session takes {visitor} bytes");
        assert!(agent <= 2048, "an idle agent session takes {agent} bytes");
    }
}
