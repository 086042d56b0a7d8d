//! Agent WebSocket protocol: one socket per dashboard tab, carrying the workspace feed
//! (conversations, messages, changes), typing, presence and who views which
//! conversation. The loop around it is `session.rs`.
//!
//! Invariant: the workspace `feed_seq` has no gaps, so a live event that skips ahead
//! means something was missed; the session then re-reads the feed from the store.

use std::collections::HashSet;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchboard_bus::{AgentStatus, BusMessage, Delivery};
use switchboard_core::{AuthFailure, Error, FeedScope, Principal, SocketId};
use switchboard_domain::*;
use switchboard_proto::{self as p, AgentIn, AgentOut, ErrorCode};

use super::session::{self, Protocol};
use super::{Conn, FrameError, Gone, HARD_MAX_MESSAGE, READ_BUFFER_SIZE, WRITE_BUFFER_SIZE};
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
        Some(t) => app.core.api_token(&t).await.map(|who| (who, None)),
        None if !same_origin(&parts) => Err(Error::Unauthenticated(AuthFailure::CsrfMismatch)),
        None => authenticate(&parts, &app, false).await.map(|a| (a.principal, a.session_id)),
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
    /// The sign-in session the socket was opened with (none for API tokens): when it
    /// ends, the socket closes.
    session: Option<SessionId>,
    /// This socket, as presence knows it (for the conversation it views).
    socket: SocketId,
    /// The last feed position delivered on this socket (or passed over: an event of a
    /// conversation the agent may not see).
    delivered: i64,
    /// Which conversations' events this socket delivers (restricted inboxes).
    scope: FeedScope,
    /// The live visitors this socket follows: `Some(None)` the workspace's, `Some(Some(site))`
    /// one site's, `None` none.
    watching: Option<Option<SiteId>>,
    /// Held while watching: tells core (and in a cluster, the Redis live list) that
    /// someone on this node follows the workspace's visitors.
    live_watch: Option<switchboard_core::LiveWatch>,
    /// Who is on the sites (contact, site), kept only to count them, for a socket that
    /// follows the count (`visitor_count`); `None` for one that does not.
    counting: Option<HashSet<(uuid::Uuid, uuid::Uuid)>>,
}

/// The session of one agent socket (see `session::run`).
pub(super) fn run(app: AppState, conn: Conn, (who, session): (Principal, Option<SessionId>)) -> impl Future<Output = ()> + Send {
    // Everything logged while the socket lives names its workspace and agent (or token).
    let token = match who.actor {
        Actor::Integration(id) => Some(tracing::field::display(id)),
        _ => None,
    };
    let span = tracing::info_span!("agent_socket", workspace.id = %who.workspace_id, agent.id = who.agent_id().map(tracing::field::display), token.id = token);
    session::run::<Session>(app, conn, (who, session), "agent", span)
}

impl Protocol for Session {
    type In = AgentIn;
    type Out = AgentOut;
    /// Where the client's feed cursor is, if it has one.
    type Hello = Option<i64>;
    type Opening = (Principal, Option<SessionId>);
    type Feed = switchboard_bus::Receiver;
    const REFUSED: &'static str = "hello required";

    fn hello(frame: AgentIn) -> Option<Option<i64>> {
        match frame {
            AgentIn::Hello { after_feed_seq } => Some(after_feed_seq),
            _ => None,
        }
    }

    /// Subscribes, comes online, sends `welcome`, replays the feed after the cursor.
    async fn on_hello(app: AppState, conn: &mut Conn, (who, session): Self::Opening, after: Option<i64>) -> Option<(Self, Self::Feed)> {
        let (feed, head) = match app.core.follow_feed(&who).await {
            Ok(followed) => followed,
            Err(e) => {
                conn.goodbye(AgentOut::from(FrameError::from(e)), 1011, "store unavailable").await;
                return None;
            }
        };
        let scope = match app.core.feed_scope(&who).await {
            Ok(scope) => scope,
            Err(e) => {
                conn.goodbye(AgentOut::from(FrameError::from(e)), 1011, "store unavailable").await;
                return None;
            }
        };
        let socket = app.core.agent_connected(&who).await;
        active(&app, &who).await;
        let mut s = Session {
            app,
            who,
            session,
            socket,
            delivered: after.unwrap_or(head).min(head),
            scope,
            watching: None,
            live_watch: None,
            counting: None,
        };
        let agents = match s.app.core.team_presence(&who).await {
            Ok(agents) => agents.into_iter().map(|(id, status)| p::AgentPresence { agent_id: id.0, status: presence(status) }).collect(),
            Err(e) => {
                conn.goodbye(AgentOut::from(FrameError::from(e)), 1011, "store unavailable").await;
                s.on_close();
                return None;
            }
        };
        let online = s.app.core.agents_online(who.workspace_id).into_iter().map(|a| a.0).collect();
        let welcome = AgentOut::Welcome { agent_id: who.agent_id().map(|a| a.0).unwrap_or_default(), online_agent_ids: online, agents };
        let queues = match s.app.core.queues(&who).await {
            Ok(queues) => AgentOut::Queues { queues: queues.iter().map(Into::into).collect() },
            Err(e) => {
                conn.goodbye(AgentOut::from(FrameError::from(e)), 1011, "store unavailable").await;
                s.on_close();
                return None;
            }
        };
        match conn.send(&welcome).await {
            Ok(()) if conn.send(&queues).await.is_ok() && catch_up(&mut s, conn).await.is_ok() => Some((s, feed)),
            _ => {
                s.on_close();
                None
            }
        }
    }

    fn on_frame(&mut self, conn: &mut Conn, _: &mut Self::Feed, frame: AgentIn) -> impl Future<Output = Result<(), Gone>> + Send {
        handle(self, conn, frame)
    }

    fn on_bus_message(&mut self, conn: &mut Conn, (): (), delivery: &Delivery) -> impl Future<Output = Result<(), Gone>> + Send {
        live(self, conn, delivery)
    }

    fn reconnect(reason: p::ReconnectReason, retry_after_ms: u64) -> AgentOut {
        AgentOut::Reconnect { reason, retry_after_ms }
    }

    /// The socket is finished: it views nothing any more, and if it was the agent's
    /// last, they go offline after the presence grace period.
    fn on_close(&mut self) {
        let (app, who, socket) = (self.app.clone(), self.who, self.socket);
        tokio::spawn(async move {
            app.core.agent_disconnected(&who, socket).await;
            active(&app, &who).await
        });
    }

    fn app(&self) -> &AppState {
        &self.app
    }
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
        let page = match s.app.core.feed(&s.who, &mut s.scope, s.delivered, PAGE).await {
            Ok(page) => page,
            Err(e) => return conn.send(&AgentOut::from(FrameError::from(e))).await,
        };
        for e in &page.events {
            conn.feed(&AgentOut::Event { event: p::Event::new(e, p::Viewer::Agent) }).await?;
        }
        s.delivered = page.up_to;
        if !page.full {
            break;
        }
    }
    conn.send(&AgentOut::CaughtUp { feed_seq: s.delivered }).await
}

/// Queues one live message's frame, if this socket should have it.
async fn live(s: &mut Session, conn: &mut Conn, delivery: &Delivery) -> Result<(), Gone> {
    match &*delivery.message {
        BusMessage::Event { event, published_us, .. } => {
            // The agents' view always has its feed position.
            let feed_seq = event.feed_seq.unwrap_or_default();
            if feed_seq <= s.delivered {
                return Ok(());
            }
            if feed_seq > s.delivered + 1 {
                // A gap: re-read from the store, which has everything in order.
                return catch_up(s, conn).await;
            }
            let assigned = match &event.body {
                p::EventBody::Assigned { assignee_id, team_id, .. } => Some((assignee_id.map(AgentId), team_id.map(TeamId))),
                _ => None,
            };
            let sees = s.app.core.clone();
            let sees = sees.scope_sees(&mut s.scope, s.who.workspace_id, ConversationId(event.conversation_id), assigned).await;
            s.delivered = feed_seq;
            match sees {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => return conn.send(&AgentOut::from(FrameError::from(e))).await,
            }
            conn.feed_shared(&delivery.frame, || AgentOut::Event { event: event.clone() }).await?;
            s.app.metrics.observe_delivery(*published_us);
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
        BusMessage::SessionsEnded { agent_id, session_ids }
            if s.who.agent_id() == Some(*agent_id) && s.session.is_some_and(|id| session_ids.contains(&id)) =>
        {
            let ended = FrameError::new(ErrorCode::Unauthenticated, "this session was signed out");
            conn.goodbye(AgentOut::from(ended), 1008, "session ended").await;
            Err(Gone)
        }
        // Coalesced where it is published (at most one every 250 ms per workspace).
        BusMessage::Queues { queues } => conn.feed(&AgentOut::Queues { queues: queues.clone() }).await,
        // Every watching socket sends the same frame, so it is encoded once.
        BusMessage::LiveVisitor { visitor } => {
            count_visitors(s, conn, |on| on.insert((visitor.contact_id, visitor.site_id))).await?;
            if !watches(s, visitor.site_id) {
                return Ok(());
            }
            conn.feed_shared(&delivery.frame, || AgentOut::Visitor { visitor: (**visitor).clone() }).await
        }
        BusMessage::VisitorLeft { contact_id, site_id } => {
            count_visitors(s, conn, |on| on.remove(&(contact_id.0, site_id.0))).await?;
            if !watches(s, site_id.0) {
                return Ok(());
            }
            conn.feed_shared(&delivery.frame, || AgentOut::VisitorLeft { contact_id: contact_id.0, site_id: site_id.0 }).await
        }
        _ => Ok(()),
    }
}

/// Answers a frame of the agent's.
async fn handle(s: &mut Session, conn: &mut Conn, frame: AgentIn) -> Result<(), Gone> {
    let core = s.app.core.clone();
    match frame {
        AgentIn::Hello { .. } => {
            conn.send(&AgentOut::from(FrameError::new(ErrorCode::AlreadyWelcomed, "hello was already received"))).await
        }
        AgentIn::Ping => conn.send(&AgentOut::Pong).await,
        AgentIn::Activity => match core.agent_activity(&s.who).await {
            Ok(()) => Ok(()),
            Err(e) => conn.send(&AgentOut::from(FrameError::from(e))).await,
        },
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
        AgentIn::VisitorCount { watch: false } => {
            s.counting = None;
            release_live_watch(s);
            Ok(())
        }
        // Like the list's snapshot, read after the subscription: arrivals and departures
        // from now on follow on the bus (a dead node's too: the count holds a live watch).
        // Only keys are kept, one per contact and site.
        AgentIn::VisitorCount { watch: true } => {
            s.live_watch.get_or_insert_with(|| core.watch_live(s.who.workspace_id));
            match core.live_visitors(&s.who, None).await {
                Ok(rows) => {
                    let on: HashSet<_> = rows.iter().map(|v| (v.contact_id.0, v.site_id.0)).collect();
                    let count = u32::try_from(on.len()).unwrap_or(u32::MAX);
                    s.counting = Some(on);
                    conn.send(&AgentOut::VisitorCount { count }).await
                }
                Err(e) => {
                    release_live_watch(s);
                    conn.send(&AgentOut::from(FrameError::from(e))).await
                }
            }
        }
        AgentIn::Visitors { watch: false, .. } => {
            s.watching = None;
            release_live_watch(s);
            Ok(())
        }
        // The snapshot is read after the socket's subscription, so a change from now on
        // follows it on the bus.
        AgentIn::Visitors { watch: true, site_id } => {
            let site = site_id.map(SiteId);
            // Counted before the snapshot, so a node dying after it is noticed.
            s.live_watch.get_or_insert_with(|| core.watch_live(s.who.workspace_id));
            match core.live_visitors(&s.who, site).await {
                Ok(rows) => {
                    s.watching = Some(site);
                    conn.send(&AgentOut::Visitors { visitors: rows.iter().map(Into::into).collect() }).await
                }
                Err(e) => {
                    release_live_watch(s);
                    conn.send(&AgentOut::from(FrameError::from(e).about(site_id.map(|id| id.to_string())))).await
                }
            }
        }
    }
}

/// Lets go of the socket's live watch once it follows neither the live list nor its count.
fn release_live_watch(s: &mut Session) {
    if s.watching.is_none() && s.counting.is_none() {
        s.live_watch = None;
    }
}

/// Applies an arrival or a departure to a counting socket's set of who is on, and
/// sends the new count when `change` says it moved (a row that only changed is no news).
async fn count_visitors(
    s: &mut Session,
    conn: &mut Conn,
    change: impl FnOnce(&mut HashSet<(uuid::Uuid, uuid::Uuid)>) -> bool,
) -> Result<(), Gone> {
    let Some(on) = s.counting.as_mut() else { return Ok(()) };
    if !change(on) {
        return Ok(());
    }
    let count = u32::try_from(on.len()).unwrap_or(u32::MAX);
    conn.feed(&AgentOut::VisitorCount { count }).await
}

/// Whether this socket follows the live visitors of `site`.
fn watches(s: &Session, site: uuid::Uuid) -> bool {
    s.watching.is_some_and(|w| w.is_none_or(|id| id.0 == site))
}

/// Remembers when the agent was last online, for the launcher's "most recently active".
/// A failure only costs that ordering, so it is logged and the socket goes on.
async fn active(app: &AppState, who: &Principal) {
    if let Err(e) = app.core.agent_active(who).await {
        tracing::warn!(error = %e, "could not record the agent's activity");
    }
}
