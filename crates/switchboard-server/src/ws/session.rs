//! The skeleton of every socket session, written once: the `hello` handshake and its
//! deadline, the loop over shutdown, live bus messages, the client's frames and
//! heartbeats, batched delivery with one flush, the slow-consumer cut-off, and the
//! close codes. A kind of socket (`visitor.rs`, `agent.rs`) supplies only its protocol
//! ([`Protocol`]): what its hello does, how it answers a frame, and what it sends for a
//! bus message.
//!
//! Invariant: every frame of a session goes through its one [`Conn`], in order; a
//! session's own futures (handshake, answers, deliveries) are boxed while they run, so
//! an idle socket's task holds little more than this loop (`an_idle_session_is_small`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::Message;
use futures::{FutureExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use strum::VariantNames;
use switchboard_bus::Delivery;
use switchboard_proto::{ErrorCode, ReconnectReason};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::{Conn, FRAME_BATCH, FrameError, Gone, Incoming, LIVE_BATCH, incoming, parse};
use crate::state::AppState;

/// How long a socket may take to send its first frame, `hello`.
const HELLO_WAIT: Duration = Duration::from_secs(10);

/// What one kind of socket does; the skeleton does the rest.
pub(super) trait Protocol: Send + Sized + 'static {
    /// The frames its clients send.
    type In: DeserializeOwned + VariantNames + Send;
    /// The frames the server sends them.
    type Out: Serialize + From<FrameError> + Send + Sync;
    /// What a `hello` frame carries.
    type Hello: Send;
    /// What the upgrade learnt before the socket opened (the site, the caller).
    type Opening: Send;
    /// Where its live bus messages come from.
    type Feed: Feed;
    /// The close reason sent with 1008 when the first frame is not a valid `hello`.
    const REFUSED: &'static str;

    /// The `hello` in a first frame, or `None` when the first frame is something else.
    fn hello(frame: Self::In) -> Option<Self::Hello>;

    /// Answers `hello` (authenticate, welcome, replay) and starts following the bus:
    /// the session and its feed, or `None` when the socket was refused (and told why)
    /// or is gone.
    fn on_hello(
        app: AppState,
        conn: &mut Conn,
        opening: Self::Opening,
        hello: Self::Hello,
    ) -> impl Future<Output = Option<(Self, Self::Feed)>> + Send;

    /// Answers a frame the client sent after `hello`.
    fn on_frame(&mut self, conn: &mut Conn, feed: &mut Self::Feed, frame: Self::In) -> impl Future<Output = Result<(), Gone>> + Send;

    /// Queues what this socket sends for a live bus message (the skeleton flushes).
    fn on_bus_message(
        &mut self,
        conn: &mut Conn,
        key: <Self::Feed as Feed>::Key,
        delivery: &Delivery,
    ) -> impl Future<Output = Result<(), Gone>> + Send;

    /// The frame asking the client to come back later.
    fn reconnect(reason: ReconnectReason, retry_after_ms: u64) -> Self::Out;

    /// The session is over, however it ended (not called for a refused `hello`).
    fn on_close(&mut self) {}

    fn app(&self) -> &AppState;
}

/// A live bus message, or why there are none.
pub(super) enum Live<K> {
    Message(K, Arc<Delivery>),
    /// The socket fell too far behind the bus.
    Lagged,
    /// The bus is gone.
    Closed,
    /// This node ended the session (a ban, an erasure): the client is told why, and the
    /// socket closes with 1008 and this reason.
    Refused(FrameError, &'static str),
}

/// Where a session's live messages come from: one topic, or one topic per key.
pub(super) trait Feed: Send {
    /// Which of the session's topics a message came from.
    type Key: Send;
    /// Whether there is anything to wait on (a visitor who follows no conversation has not).
    fn is_live(&self) -> bool;
    /// Waits for the next message.
    fn next(&mut self) -> impl Future<Output = Live<Self::Key>> + Send;
    /// A message already queued, without waiting.
    fn ready(&mut self) -> Option<Live<Self::Key>>;
}

/// One topic (an agent's workspace).
impl Feed for switchboard_bus::Receiver {
    type Key = ();

    fn is_live(&self) -> bool {
        true
    }

    async fn next(&mut self) -> Live<()> {
        match self.recv().await {
            Ok(delivery) => Live::Message((), delivery),
            Err(RecvError::Lagged(_)) => Live::Lagged,
            Err(RecvError::Closed) => Live::Closed,
        }
    }

    fn ready(&mut self) -> Option<Live<()>> {
        match self.try_recv() {
            Ok(delivery) => Some(Live::Message((), delivery)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Lagged(_)) => Some(Live::Lagged),
            Err(TryRecvError::Closed) => Some(Live::Closed),
        }
    }
}

/// A topic per key (a visitor's conversations).
impl<K: Clone + Unpin + Send + 'static> Feed for StreamMap<K, BroadcastStream<Arc<Delivery>>> {
    type Key = K;

    fn is_live(&self) -> bool {
        !self.is_empty()
    }

    async fn next(&mut self) -> Live<K> {
        keyed(StreamExt::next(self).await)
    }

    fn ready(&mut self) -> Option<Live<K>> {
        // Only what is already queued: `now_or_never` does not wait for more.
        StreamExt::next(self).now_or_never().map(keyed)
    }
}

pub(super) fn keyed<K>(item: Option<(K, Result<Arc<Delivery>, BroadcastStreamRecvError>)>) -> Live<K> {
    match item {
        Some((key, Ok(delivery))) => Live::Message(key, delivery),
        Some((_, Err(BroadcastStreamRecvError::Lagged(_)))) => Live::Lagged,
        None => Live::Closed,
    }
}

/// The task of one socket of kind `P`, from its first frame to its close. `kind` names
/// it in the metrics; everything logged meanwhile is in `span`.
///
/// The handshake is boxed together with its inputs, which an `async fn` would keep in
/// the task for the socket's whole life.
pub(super) fn run<P: Protocol>(
    app: AppState,
    conn: Conn,
    opening: P::Opening,
    kind: &'static str,
    span: tracing::Span,
) -> impl Future<Output = ()> + Send {
    let open = app.metrics.socket(kind);
    let handshake = Box::pin(handshake::<P>(app, conn, opening));
    let task = async move {
        let _open = open;
        let Some((mut conn, mut s, mut feed)) = handshake.await else { return };
        session(&mut s, &mut conn, &mut feed).await;
        s.on_close();
    };
    tracing::Instrument::instrument(task, span)
}

/// The first frame must be `hello`, within [`HELLO_WAIT`]. `None` when the socket is
/// finished (refused, or gone).
async fn handshake<P: Protocol>(app: AppState, mut conn: Conn, opening: P::Opening) -> Option<(Conn, P, P::Feed)> {
    let first = tokio::time::timeout(HELLO_WAIT, conn.socket.recv()).await;
    let frame = match first.map(incoming) {
        Ok(Incoming::Text(text)) => parse::<P::In>(&text, app.config.max_frame_bytes),
        Ok(Incoming::Unsupported) => Err(FrameError::binary()),
        _ => {
            conn.close(1008, "hello required").await;
            return None;
        }
    };
    let hello = match frame.map(P::hello) {
        Ok(Some(hello)) => hello,
        Ok(None) => return refuse::<P, _>(&mut conn, FrameError::new(ErrorCode::HelloRequired, "the first frame must be hello")).await,
        Err(e) => return refuse::<P, _>(&mut conn, e).await,
    };
    let (s, feed) = P::on_hello(app, &mut conn, opening, hello).await?;
    Some((conn, s, feed))
}

/// A `hello` refused: the reason in an `error` frame, then close with 1008.
pub(super) async fn refuse<P: Protocol, T>(conn: &mut Conn, e: FrameError) -> Option<T> {
    // A refusal that passes with time (a full bucket) asks the client to come back (1013).
    let close = if e.code == switchboard_proto::ErrorCode::RateLimited { 1013 } else { 1008 };
    conn.goodbye(P::Out::from(e), close, P::REFUSED).await;
    None
}

async fn session<P: Protocol>(s: &mut P, conn: &mut Conn, feed: &mut P::Feed) {
    let config = s.app().config.clone();
    let mut shutdown = s.app().shutdown.clone();
    let mut heartbeat = tokio::time::interval(config.heartbeat);
    heartbeat.reset();
    loop {
        tokio::select! {
            // Biased: live messages are forwarded before the next client frame is read,
            // so a client sending fast cannot pile up its own echoes until it lags.
            biased;
            _ = shutdown.changed() => {
                let bye = P::reconnect(ReconnectReason::ServerShutdown, 1000);
                return Box::pin(conn.goodbye(bye, 1012, "server restarting")).await;
            }
            first = feed.next(), if feed.is_live() => {
                if Box::pin(deliver(s, conn, feed, first)).await.is_err() {
                    return;
                }
            }
            msg = conn.socket.recv() => {
                if Box::pin(answer(s, conn, feed, msg)).await.is_err() {
                    return;
                }
            }
            _ = heartbeat.tick() => {
                if Box::pin(conn.heartbeat(config.idle_timeout)).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Delivers a live message and those already queued behind it (up to [`LIVE_BATCH`]),
/// in order, with one flush: a socket that fell behind catches up in a few writes
/// instead of one per frame. `Err(Gone)` when the session is over.
async fn deliver<P: Protocol>(s: &mut P, conn: &mut Conn, feed: &mut P::Feed, first: Live<<P::Feed as Feed>::Key>) -> Result<(), Gone> {
    let mut item = first;
    let mut delivered = 0;
    loop {
        match item {
            Live::Message(key, delivery) => s.on_bus_message(conn, key, &delivery).await?,
            Live::Lagged => {
                // Too slow to keep up: cut off with a hint; the cursor makes resuming lossless.
                conn.goodbye(P::reconnect(ReconnectReason::SlowConsumer, 0), 1013, "slow consumer").await;
                return Err(Gone);
            }
            Live::Closed => return conn.flush().await.and(Err(Gone)),
            Live::Refused(e, reason) => {
                conn.goodbye(P::Out::from(e), 1008, reason).await;
                return Err(Gone);
            }
        }
        delivered += 1;
        if delivered == LIVE_BATCH {
            break;
        }
        match feed.ready() {
            Some(next) => item = next,
            None => break,
        }
    }
    conn.flush().await
}

/// Answers what the client sent and, while the answers are `rate_limited` refusals, the
/// frames already received behind it (up to [`FRAME_BATCH`]), in order, with one write
/// to the socket: a flood that keeps several sends in flight costs one write per batch of
/// refusals, not one per refusal. Anything else is answered alone, as before, so the
/// live events its answer causes (a message's echo) go out before the next frame is
/// read. A client found ignoring its refusals is then left unread for a while.
async fn answer<P: Protocol>(
    s: &mut P,
    conn: &mut Conn,
    feed: &mut P::Feed,
    first: Option<Result<Message, axum::Error>>,
) -> Result<(), Gone> {
    conn.cork();
    let mut answered = received(s, conn, feed, first).await;
    let mut n = 1;
    while answered.is_ok() && n < FRAME_BATCH && conn.refusing() && !conn.pausing() {
        // Only what has arrived: `now_or_never` does not wait for more.
        let Some(next) = conn.socket.recv().now_or_never() else { break };
        answered = received(s, conn, feed, next).await;
        n += 1;
    }
    answered?;
    conn.uncork().await?;
    conn.pause().await;
    Ok(())
}

/// Whatever the client sent: a text frame is parsed and answered by the protocol, a
/// binary one answered with an error, pings and pongs only prove the peer alive, and a
/// close or an oversized message ends the session.
async fn received<P: Protocol>(
    s: &mut P,
    conn: &mut Conn,
    feed: &mut P::Feed,
    msg: Option<Result<Message, axum::Error>>,
) -> Result<(), Gone> {
    conn.last_heard = Instant::now();
    match incoming(msg) {
        Incoming::Text(text) => match parse::<P::In>(&text, s.app().config.max_frame_bytes) {
            Ok(frame) => s.on_frame(conn, feed, frame).await,
            Err(e) => conn.send(&P::Out::from(e)).await,
        },
        Incoming::Unsupported => conn.send(&P::Out::from(FrameError::binary())).await,
        Incoming::Alive => Ok(()),
        Incoming::Closed => Err(Gone),
        Incoming::TooBig => {
            conn.close(1009, "frame too large").await;
            Err(Gone)
        }
    }
}
