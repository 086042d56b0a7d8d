//! Agent WebSocket session: one per dashboard tab, carrying the workspace feed
//! (conversations, messages, changes), typing, presence and who views which conversation.
//!
//! Invariant: the workspace `feed_seq` has no gaps, so a live event that skips ahead
//! means something was missed; the session then re-reads the feed from the store.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_bus::{AgentStatus, BusMessage};
use switchboard_core::{AuthFailure, Error, Principal, SocketId};
use switchboard_domain::*;
use switchboard_proto::{self as p, AgentIn, AgentOut, ErrorCode};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::{Conn, FrameError, Gone, HARD_MAX_MESSAGE, Incoming, LIVE_BATCH, READ_BUFFER_SIZE, WRITE_BUFFER_SIZE, incoming, parse};
use crate::admission::busy;
use crate::auth::authenticate;
use crate::error::{ApiError, Query};
use crate::parse::draft;
use crate::state::AppState;

const PAGE: u32 = 500;

/// Browsers send cookies with cross-site WebSocket handshakes, so a cookie session is
/// accepted only when the page's Origin is this server (no cross-site hijacking).
fn same_origin(parts: &Parts) -> bool {
    let Some(origin) = parts.headers.get("origin").and_then(|o| o.to_str().ok()) else { return true };
    let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("");
    origin.split_once("://").map(|(_, rest)| rest == host).unwrap_or(false)
}

#[derive(Deserialize)]
pub struct Params {
    /// An API token, for integrations that cannot send headers with the upgrade.
    access_token: Option<String>,
}

/// `GET /ws/agent`: session cookie from the dashboard, or `?access_token=` for integrations.
pub async fn upgrade(State(app): State<AppState>, Query(q): Query<Params>, parts: Parts, ws: WebSocketUpgrade) -> Response {
    let Some(slot) = app.admission.socket() else {
        app.metrics.refused("agent", "socket_limit");
        return busy();
    };
    let who = match q.access_token {
        Some(t) => app.core.api_token(&t).await,
        None if !same_origin(&parts) => Err(Error::Unauthenticated(AuthFailure::CsrfMismatch)),
        None => authenticate(&parts, &app, false).await.map(|a| a.principal),
    };
    let who = match who {
        Ok(w) => w,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let tracker = app.sockets.clone();
    ws.read_buffer_size(READ_BUFFER_SIZE)
        .write_buffer_size(WRITE_BUFFER_SIZE)
        .max_message_size(HARD_MAX_MESSAGE)
        .max_frame_size(HARD_MAX_MESSAGE)
        .on_upgrade(move |socket| {
            let conn = Conn::new(socket, app.config.send_timeout, slot);
            tracker.track_future(run(app, conn, who))
        })
}

struct Session {
    app: AppState,
    who: Principal,
    /// This socket, as presence knows it (for the conversation it views).
    socket: SocketId,
    /// The last feed position delivered on this socket.
    delivered: i64,
}

/// The session of one agent socket. As for visitors (`visitor::run`), the handshake,
/// the replay and the answers to frames are boxed, so an idle session's task holds
/// little more than its loop.
pub(super) fn run(app: AppState, conn: Conn, who: Principal) -> impl Future<Output = ()> + Send {
    let open = app.metrics.socket("agent");
    // Everything logged while the socket lives names its workspace and agent (or token).
    let token = match who.actor {
        Actor::Integration(id) => Some(tracing::field::display(id)),
        _ => None,
    };
    let span = tracing::info_span!("agent_socket", workspace.id = %who.workspace_id, agent.id = who.agent_id().map(tracing::field::display), token.id = token);
    let handshake = Box::pin(handshake(app, conn, who));
    let task = async move {
        let _open = open;
        let Some((mut conn, mut s, mut feed)) = handshake.await else { return };
        session(&mut s, &mut conn, &mut feed).await;
        leave(&s);
    };
    tracing::Instrument::instrument(task, span)
}

/// The first frame must be `hello`: subscribe, come online, send `welcome`, replay.
/// `None` when the socket is finished (refused, or gone).
async fn handshake(app: AppState, mut conn: Conn, who: Principal) -> Option<(Conn, Session, switchboard_bus::Receiver)> {
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), conn.socket.recv()).await;
    let hello = match first.map(incoming) {
        Ok(Incoming::Text(text)) => parse::<AgentIn>(&text, app.config.max_frame_bytes),
        Ok(Incoming::Unsupported) => Err(FrameError::binary()),
        _ => {
            conn.close(1008, "hello required").await;
            return None;
        }
    };
    let after = match hello {
        Ok(AgentIn::Hello { after_feed_seq }) => after_feed_seq,
        Ok(_) => {
            conn.goodbye(
                AgentOut::from(FrameError::new(ErrorCode::HelloRequired, "the first frame must be hello")),
                1008,
                "hello required",
            )
            .await;
            return None;
        }
        Err(e) => {
            conn.goodbye(AgentOut::from(e), 1008, "hello required").await;
            return None;
        }
    };

    let (feed, head) = match app.core.follow_feed(&who).await {
        Ok(followed) => followed,
        Err(e) => {
            conn.goodbye(AgentOut::from(FrameError::from(e)), 1011, "store unavailable").await;
            return None;
        }
    };
    let socket = app.core.agent_connected(&who).await;
    let mut s = Session { app, who, socket, delivered: after.unwrap_or(head).min(head) };
    let agents = match s.app.core.team_presence(&who).await {
        Ok(agents) => agents.into_iter().map(|(id, status)| p::AgentPresence { agent_id: id.0, status: presence(status) }).collect(),
        Err(e) => {
            conn.goodbye(AgentOut::from(FrameError::from(e)), 1011, "store unavailable").await;
            leave(&s);
            return None;
        }
    };
    let online = s.app.core.agents_online(who.workspace_id).into_iter().map(|a| a.0).collect();
    let welcome = AgentOut::Welcome { agent_id: who.agent_id().map(|a| a.0).unwrap_or_default(), online_agent_ids: online, agents };
    match conn.send(&welcome).await {
        Ok(()) if catch_up(&mut s, &mut conn).await.is_ok() => Some((conn, s, feed)),
        _ => {
            leave(&s);
            None
        }
    }
}

/// The socket is finished: it views nothing any more, and the agent goes offline if
/// it was their last socket.
fn leave(s: &Session) {
    s.app.core.agent_disconnected(&s.who, s.socket);
}

fn presence(status: AgentStatus) -> p::PresenceStatus {
    match status {
        AgentStatus::Online => p::PresenceStatus::Online,
        AgentStatus::Away => p::PresenceStatus::Away,
        AgentStatus::Offline => p::PresenceStatus::Offline,
    }
}

/// Sends everything in the feed after `delivered`, then `caught_up`.
async fn catch_up(s: &mut Session, conn: &mut Conn) -> Result<(), Gone> {
    loop {
        let events = match s.app.core.feed(&s.who, s.delivered, PAGE).await {
            Ok(e) => e,
            Err(e) => return conn.send(&AgentOut::from(FrameError::from(e))).await,
        };
        for e in &events {
            conn.feed(&AgentOut::Event { event: p::Event::new(e, p::Viewer::Agent) }).await?;
            s.delivered = e.feed_seq;
        }
        if (events.len() as u32) < PAGE {
            break;
        }
    }
    conn.send(&AgentOut::CaughtUp { feed_seq: s.delivered }).await
}

async fn session(s: &mut Session, conn: &mut Conn, feed: &mut switchboard_bus::Receiver) {
    let config = s.app.config.clone();
    let mut shutdown = s.app.shutdown.clone();
    let mut heartbeat = tokio::time::interval(config.heartbeat);
    heartbeat.reset();
    loop {
        tokio::select! {
            // Biased: live events are forwarded before the next client frame is read, so
            // a client sending fast cannot pile up its own echoes until it lags.
            biased;
            _ = shutdown.changed() => {
                let bye = AgentOut::Reconnect { reason: p::ReconnectReason::ServerShutdown, retry_after_ms: 1000 };
                return Box::pin(conn.goodbye(bye, 1012, "server restarting")).await;
            }
            item = feed.recv() => {
                if Box::pin(deliver(s, conn, feed, item)).await.is_err() {
                    return;
                }
            }
            msg = conn.socket.recv() => {
                if Box::pin(received(s, conn, msg)).await.is_err() {
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
async fn deliver(
    s: &mut Session,
    conn: &mut Conn,
    feed: &mut switchboard_bus::Receiver,
    first: Result<Arc<BusMessage>, RecvError>,
) -> Result<(), Gone> {
    let mut item = first;
    let mut delivered = 0;
    loop {
        match item {
            Ok(message) => live(s, conn, &message).await?,
            Err(RecvError::Lagged(_)) => {
                // Too slow to keep up: cut off with a hint; the cursor makes resuming lossless.
                let bye = AgentOut::Reconnect { reason: p::ReconnectReason::SlowConsumer, retry_after_ms: 0 };
                conn.goodbye(bye, 1013, "slow consumer").await;
                return Err(Gone);
            }
            Err(RecvError::Closed) => return conn.flush().await.and(Err(Gone)),
        }
        delivered += 1;
        if delivered == LIVE_BATCH {
            break;
        }
        item = match feed.try_recv() {
            Ok(message) => Ok(message),
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
        };
    }
    conn.flush().await
}

/// Queues one live message's frame, if this socket should have it.
async fn live(s: &mut Session, conn: &mut Conn, message: &BusMessage) -> Result<(), Gone> {
    match message {
        BusMessage::Event { event, published, frames } => {
            if event.feed_seq <= s.delivered {
                return Ok(());
            }
            if event.feed_seq > s.delivered + 1 {
                // A gap: re-read from the store, which has everything in order.
                return catch_up(s, conn).await;
            }
            s.delivered = event.feed_seq;
            conn.feed_shared(&frames.agents, || AgentOut::Event { event: p::Event::new(event, p::Viewer::Agent) }).await?;
            s.app.metrics.delivery_seconds.observe(published.elapsed().as_secs_f64());
            Ok(())
        }
        BusMessage::Typing { conversation_id, actor, typing } if *actor != s.who.actor => {
            conn.feed(&AgentOut::Typing { conversation_id: conversation_id.0, actor: (*actor).into(), typing: *typing }).await
        }
        BusMessage::Presence { agent_id, status } => {
            conn.feed(&AgentOut::Presence { agent_id: agent_id.0, status: presence(*status) }).await
        }
        BusMessage::Viewers { conversation_id, agent_ids } => {
            let agent_ids = agent_ids.iter().map(|a| a.0).collect();
            conn.feed(&AgentOut::Viewers { conversation_id: conversation_id.0, agent_ids }).await
        }
        _ => Ok(()),
    }
}

/// Whatever the client sent: a text frame is handled, anything else answered or ended.
async fn received(s: &mut Session, conn: &mut Conn, msg: Option<Result<Message, axum::Error>>) -> Result<(), Gone> {
    match conn.text(msg).await? {
        Some(text) => handle(s, conn, &text).await,
        None => Ok(()),
    }
}

async fn handle(s: &mut Session, conn: &mut Conn, text: &str) -> Result<(), Gone> {
    let frame = match parse::<AgentIn>(text, s.app.config.max_frame_bytes) {
        Ok(f) => f,
        Err(e) => return conn.send(&AgentOut::from(e)).await,
    };
    let core = s.app.core.clone();
    match frame {
        AgentIn::Hello { .. } => {
            conn.send(&AgentOut::from(FrameError::new(ErrorCode::AlreadyWelcomed, "hello was already received"))).await
        }
        AgentIn::Ping => conn.send(&AgentOut::Pong).await,
        AgentIn::Send { client_id, conversation_id, body, format, attachment_ids, note } => {
            let reference = Some(client_id.clone());
            let draft = draft(Some(client_id.clone()), body, format, &attachment_ids);
            let sent = core.reply(&s.who, ConversationId(conversation_id), draft, note).await.map_err(FrameError::from);
            match sent {
                Ok(done) => match done.events.iter().find_map(|e| Some((e, e.data.message()?))) {
                    Some((e, m)) => {
                        conn.send(&AgentOut::Ack {
                            client_id,
                            conversation_id,
                            seq: e.seq,
                            message: p::Message::new(m, p::Viewer::Agent),
                            replayed: done.replayed,
                        })
                        .await
                    }
                    _ => {
                        conn.send(&AgentOut::from(FrameError::new(ErrorCode::Internal, "the message was not stored").about(reference)))
                            .await
                    }
                },
                Err(e) => conn.send(&AgentOut::from(e.about(reference))).await,
            }
        }
        AgentIn::Typing { conversation_id, typing } => match core.agent_typing(&s.who, ConversationId(conversation_id), typing).await {
            Ok(()) => Ok(()),
            Err(e) => conn.send(&AgentOut::from(FrameError::from(e).about(Some(conversation_id.to_string())))).await,
        },
        AgentIn::Read { conversation_id, up_to_seq } => match core.agent_read(&s.who, ConversationId(conversation_id), up_to_seq).await {
            Ok(_) => Ok(()),
            Err(e) => conn.send(&AgentOut::from(FrameError::from(e).about(Some(conversation_id.to_string())))).await,
        },
        AgentIn::View { conversation_id } => match core.agent_viewing(&s.who, s.socket, conversation_id.map(ConversationId)).await {
            Ok(()) => Ok(()),
            Err(e) => conn.send(&AgentOut::from(FrameError::from(e).about(conversation_id.map(|c| c.to_string())))).await,
        },
    }
}
