//! Visitor WebSocket protocol: handshake, resume from per-conversation cursors,
//! acknowledged sends, receipts, typing, and live events in `seq` order. The loop
//! around it is `session.rs`.
//!
//! Invariant: a conversation is subscribed on the bus *before* its missed events are
//! read from the store, and live events at or below the delivered `seq` are dropped,
//! so every event reaches the visitor exactly once and in order.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use serde::Deserialize;
use switchboard_bus::{BusMessage, Delivery};
use switchboard_core::{Identity, Kick, NewContactEvent, NewPageView, Notice, Visitor, VisitorSocket};
use switchboard_domain::*;
use switchboard_proto::{self as p, ErrorCode, VisitorIn, VisitorOut};
use tokio_stream::StreamExt;
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;

use super::session::{self, Live, Protocol};
use super::{Conn, FrameError, Gone, HARD_MAX_MESSAGE, READ_BUFFER_SIZE, WRITE_BUFFER_SIZE};
use crate::admission::busy;
use crate::device::device_info;
use crate::error::{ApiError, Query};
use crate::parse;
use crate::security::ClientIp;
use crate::state::AppState;

const PAGE: u32 = 500;

#[derive(Deserialize)]
pub struct Params {
    /// The site's public key.
    site: String,
}

/// `GET /ws/visitor?site=<public key>`: checks the site and origin, then upgrades. The
/// site read here is the one the session uses.
pub async fn upgrade(
    State(app): State<AppState>,
    Query(q): Query<Params>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // Admission first, so that an upgrade turned away costs no database read.
    let Some(slot) = app.admission.socket() else {
        app.metrics.refused("visitor", "socket_limit");
        return busy();
    };
    let site = match app.core.visitor_site(&q.site, &crate::auth::page_origin(&headers)).await {
        Ok(site) => site,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let device = device_info(&headers);
    let tracker = app.sockets.clone();
    ws.read_buffer_size(READ_BUFFER_SIZE)
        .write_buffer_size(WRITE_BUFFER_SIZE)
        .max_message_size(HARD_MAX_MESSAGE)
        .max_frame_size(HARD_MAX_MESSAGE)
        .on_upgrade(move |socket| {
            let conn = Conn::new(socket, app.config.send_timeout, slot);
            tracker.track_future(run(app, conn, site, device, ip))
        })
}

type Streams = StreamMap<ConversationId, BroadcastStream<Arc<Delivery>>>;

/// What a visitor socket waits on: each of the visitor's conversations on the bus, and
/// its entry in this node's registry of visitor sockets, which a ban or an erasure ends.
/// An idle socket follows no bus topic of its own.
struct Feed {
    streams: Streams,
    socket: VisitorSocket,
}

impl Feed {
    fn new(socket: VisitorSocket) -> Self {
        Self { streams: Streams::new(), socket }
    }
}

/// A message from one of the visitor's conversations (`Some`), or what this node told
/// the socket (`None`): the end of the session, or an invitation to write.
type From = Option<ConversationId>;

fn told(notice: Notice) -> Live<From> {
    let why = match notice {
        Notice::Kick(why) => why,
        Notice::Message(message) => return Live::Message(None, Arc::new(Delivery::new(message))),
    };
    match why {
        Kick::Banned => Live::Refused(FrameError::from(switchboard_core::Error::Banned), "banned"),
        Kick::Erased => Live::Refused(
            FrameError::new(ErrorCode::InvalidToken, "the visitor's data was erased; connect without a token to start afresh"),
            "erased",
        ),
    }
}

fn conversation(live: Live<ConversationId>) -> Live<From> {
    match live {
        Live::Message(id, delivery) => Live::Message(Some(id), delivery),
        Live::Lagged => Live::Lagged,
        Live::Closed => Live::Closed,
        Live::Refused(e, why) => Live::Refused(e, why),
    }
}

impl session::Feed for Feed {
    type Key = From;

    fn is_live(&self) -> bool {
        self.socket.is_live() || !self.streams.is_empty()
    }

    async fn next(&mut self) -> Live<From> {
        if self.streams.is_empty() {
            return told(self.socket.notice().await);
        }
        tokio::select! {
            biased;
            notice = self.socket.notice() => told(notice),
            item = StreamExt::next(&mut self.streams) => conversation(session::keyed(item)),
        }
    }

    fn ready(&mut self) -> Option<Live<From>> {
        if let Some(notice) = self.socket.try_notice() {
            return Some(told(notice));
        }
        // An empty map is "closed" to a stream: nothing is queued then, and the session goes on.
        if self.streams.is_empty() {
            return None;
        }
        // Only what is already queued: `now_or_never` does not wait for more.
        StreamExt::next(&mut self.streams).now_or_never().map(|item| conversation(session::keyed(item)))
    }
}

struct Session {
    app: AppState,
    visitor: Visitor,
    /// Conversations followed live, with the last `seq` delivered on this socket.
    delivered: HashMap<ConversationId, i64>,
    /// This socket counts as one of the visitor's tabs on the live list (it sent a page
    /// the site records).
    tracked: bool,
    /// The page said the visitor agreed to tracking (`consent`), on sites that ask.
    consented: bool,
}

/// The session of one visitor socket (see `session::run`).
pub(super) fn run(app: AppState, conn: Conn, site: Site, device: DeviceInfo, ip: Option<IpAddr>) -> impl Future<Output = ()> + Send {
    // Everything logged while the socket lives names its site and, after hello, its contact.
    let span = tracing::info_span!("visitor_socket", site.id = %site.id, contact.id = tracing::field::Empty);
    session::run::<Session>(app, conn, (site, device, ip), "visitor", span)
}

impl Protocol for Session {
    type In = VisitorIn;
    type Out = VisitorOut;
    /// The visitor's token, and their cursors.
    type Hello = (Option<String>, Vec<p::Cursor>);
    /// The site the upgrade checked, the browser, and the client's address.
    type Opening = (Site, DeviceInfo, Option<IpAddr>);
    type Feed = Feed;
    const REFUSED: &'static str = "handshake refused";

    fn hello(frame: VisitorIn) -> Option<Self::Hello> {
        match frame {
            VisitorIn::Hello { token, resume } => Some((token, resume)),
            _ => None,
        }
    }

    /// Authenticates the visitor on the site the upgrade checked, sends `welcome`, replays.
    async fn on_hello(
        app: AppState,
        conn: &mut Conn,
        (site, device, ip): Self::Opening,
        (token, resume): Self::Hello,
    ) -> Option<(Self, Feed)> {
        // A bounded number of handshakes run at once, so a reconnect storm finishes some of
        // them instead of timing all of them out. The turn is held until the replay is sent.
        let Some(_turn) = app.admission.handshake().await else {
            app.metrics.refused("visitor", "handshake_busy");
            let busy = VisitorOut::from(FrameError::new(ErrorCode::ServerBusy, "too many visitors are connecting; retry later"));
            conn.goodbye(busy, 1013, "server busy").await;
            return None;
        };
        let visitor = match app.core.visitor_on(site, token.as_deref(), device, ip).await {
            Ok(v) => v,
            Err(e) => return session::refuse::<Self, _>(conn, e.into()).await,
        };
        // Registered before anything else is read, so a ban made from now on reaches it.
        let mut feed = Feed::new(app.core.visitor_connected(&visitor));
        let mut s = Session { app, visitor, delivered: HashMap::new(), tracked: false, consented: false };
        // A ban made between the hello's check and the registration.
        if s.app.core.visitor_banned(&s.visitor).await.unwrap_or(false) {
            return session::refuse::<Self, _>(conn, switchboard_core::Error::Banned.into()).await;
        }
        welcome(&mut s, conn, &mut feed.streams, resume).await.ok()?;
        tracing::Span::current().record("contact.id", tracing::field::display(s.visitor.contact.id));
        Some((s, feed))
    }

    fn on_frame(&mut self, conn: &mut Conn, feed: &mut Feed, frame: VisitorIn) -> impl Future<Output = Result<(), Gone>> + Send {
        handle(self, conn, feed, frame)
    }

    fn on_bus_message(&mut self, conn: &mut Conn, from: From, delivery: &Delivery) -> impl Future<Output = Result<(), Gone>> + Send {
        delivered(self, conn, from, delivery)
    }

    fn reconnect(reason: p::ReconnectReason, retry_after_ms: u64) -> VisitorOut {
        VisitorOut::Reconnect { reason, retry_after_ms }
    }

    /// A tracked tab closed: the visitor leaves the live list when it was their last.
    fn on_close(&mut self) {
        if self.tracked {
            self.app.core.live_tab_closed(&self.visitor);
        }
    }

    fn app(&self) -> &AppState {
        &self.app
    }
}

fn viewer(s: &Session) -> p::Viewer<'_> {
    p::Viewer::Visitor { site_key: &s.visitor.site.public_key }
}

/// The workspace's agents, fetched when a frame needs them rather than kept per socket.
async fn agents(s: &Session) -> Arc<[Agent]> {
    s.app.core.roster(s.visitor.workspace_id()).await.unwrap_or_default()
}

/// The visitor's conversations as the wire shows them, with their unread counts (from
/// the visitor's read marks, so every tab and device agrees).
async fn visitor_conversations(s: &Session, list: &[Conversation]) -> Vec<p::VisitorConversation> {
    let agents = agents(s).await;
    let unread = if list.is_empty() { Default::default() } else { s.app.core.visitor_unread(&s.visitor).await.unwrap_or_default() };
    list.iter().map(|c| p::VisitorConversation::new(c, &agents, unread.get(&c.id).copied().unwrap_or(0))).collect()
}

/// Whether an event moved the visitor's read mark (a `read` receipt of theirs, from
/// this tab or another): the socket then sends `read_mark`.
/// (The live path checks the same on the wire event.)
fn moves_read_mark(event: &Event) -> bool {
    matches!(event.data, EventData::Receipt { side: Side::Visitor, kind: ReceiptKind::Read, .. })
}

/// Tells this socket where the visitor's read mark of a conversation is now and what is
/// still unread, so every tab agrees.
async fn read_mark(s: &Session, conn: &mut Conn, id: ConversationId) -> Result<(), Gone> {
    match s.app.core.visitor_read_mark(&s.visitor, id).await {
        Ok((up_to_seq, unread)) => conn.feed(&VisitorOut::ReadMark { conversation_id: id.0, up_to_seq, unread }).await,
        Err(e) => conn.feed(&VisitorOut::from(FrameError::from(e).about(Some(id.to_string())))).await,
    }
}

async fn welcome(s: &mut Session, conn: &mut Conn, streams: &mut Streams, resume: Vec<p::Cursor>) -> Result<(), Gone> {
    let conversations = match s.app.core.visitor_inbox(&mut s.visitor).await {
        Ok(c) => c,
        Err(e) => return conn.send(&VisitorOut::from(FrameError::from(e))).await,
    };
    let outlook = match s.app.core.site_outlook(&s.visitor.site).await {
        Ok(o) => o,
        Err(e) => return conn.send(&VisitorOut::from(FrameError::from(e))).await,
    };
    let online = s.app.core.agents_available(s.visitor.workspace_id()).len() as u32;
    let agents = agents(s).await;
    conn.send(&VisitorOut::Welcome {
        // Handed over, not kept: an open socket never needs its token again.
        token: std::mem::take(&mut s.visitor.token),
        contact_id: s.visitor.contact.id.0,
        site: p::PublicSite::at(&s.visitor.site, outlook.hours.as_ref(), &outlook.teams, s.app.core.now()),
        conversations: visitor_conversations(s, &conversations).await,
        agents: agents.iter().map(Into::into).collect(),
        agents_online: online,
    })
    .await?;
    // A conversation named twice is replayed once, from the earlier cursor.
    let mut cursors: Vec<(ConversationId, i64)> = vec![];
    for cursor in &resume {
        let id = ConversationId(cursor.conversation_id);
        match cursors.iter_mut().find(|(c, _)| *c == id) {
            Some((_, after)) => *after = (*after).min(cursor.after_seq),
            None => cursors.push((id, cursor.after_seq)),
        }
    }
    for (id, after_seq) in cursors {
        if let Some(c) = conversations.iter().find(|c| c.id == id) {
            watch(s, conn, streams, id, after_seq, c.queued_at.is_some()).await?;
        } else {
            conn.send(&VisitorOut::from(
                FrameError::new(ErrorCode::ConversationNotFound, "conversation not found").about(Some(id.to_string())),
            ))
            .await?;
        }
    }
    // Conversations the client has no cursor for are followed live from now on.
    for c in &conversations {
        if !s.delivered.contains_key(&c.id) {
            watch(s, conn, streams, c.id, c.last_seq, c.queued_at.is_some()).await?;
        }
    }
    Ok(())
}

/// Follows a conversation: subscribe, replay what is missing after `after_seq`, go live.
/// With `queued` (the conversation waits, or may just have started waiting), the
/// visitor is told their place after the replay: a `queue` frame published before the
/// subscription would otherwise be lost.
async fn watch(
    s: &mut Session,
    conn: &mut Conn,
    streams: &mut Streams,
    id: ConversationId,
    after_seq: i64,
    queued: bool,
) -> Result<(), Gone> {
    if !streams.contains_key(&id) {
        match s.app.core.follow_conversation(&s.visitor, id).await {
            Ok(live) => streams.insert(id, BroadcastStream::new(live)),
            Err(e) => return conn.send(&VisitorOut::from(FrameError::from(e).about(Some(id.to_string())))).await,
        };
    }
    let Some(cursor) = replay(s, conn, id, after_seq).await? else { return Ok(()) };
    s.delivered.insert(id, cursor);
    conn.send(&VisitorOut::CaughtUp { conversation_id: id.0, seq: cursor }).await?;
    if queued && let Ok(Some((position, estimated_wait_seconds))) = s.app.core.visitor_queue_place(&s.visitor, id).await {
        conn.send(&VisitorOut::Queue { conversation_id: id.0, position, estimated_wait_seconds }).await?;
    }
    Ok(())
}

/// Queues the conversation's events after `after_seq` as the store has them (what the
/// visitor may see, in order). The last `seq` sent, or `None` when the store refused
/// (the visitor has been told with an `error` frame).
async fn replay(s: &Session, conn: &mut Conn, id: ConversationId, after_seq: i64) -> Result<Option<i64>, Gone> {
    let mut cursor = after_seq;
    // A read mark that moved while this socket was away (or between its welcome and its
    // subscription) is told once, after the replay.
    let mut marked = false;
    loop {
        let events = match s.app.core.visitor_history(&s.visitor, id, cursor, PAGE).await {
            Ok(events) => events,
            Err(e) => return conn.send(&VisitorOut::from(FrameError::from(e).about(Some(id.to_string())))).await.map(|()| None),
        };
        for e in &events {
            conn.feed(&VisitorOut::Event { event: p::Event::new(e, viewer(s)) }).await?;
            cursor = e.seq;
            marked |= moves_read_mark(e);
        }
        if (events.len() as u32) < PAGE {
            if marked {
                read_mark(s, conn, id).await?;
            }
            return Ok(Some(cursor));
        }
    }
}

/// What to do with a live event of a conversation, given the last `seq` delivered.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Already delivered (by the replay, or a duplicate): drop it.
    Stale,
    /// The next event: deliver it.
    Next,
    /// It skips ahead, or came out of order: re-read from the store after the delivered
    /// `seq`. The visitor's topic carries only events they may see, so a skip is either
    /// agent-only events in between (the re-read finds none of them and costs a read)
    /// or a message lost or reordered on the way (the re-read delivers it in order).
    Reread,
}

fn step(delivered: i64, seq: i64) -> Step {
    match seq {
        s if s <= delivered => Step::Stale,
        s if s == delivered + 1 => Step::Next,
        _ => Step::Reread,
    }
}

/// Queues one live message's frame, if this socket should have it.
async fn live(s: &mut Session, conn: &mut Conn, id: ConversationId, delivery: &Delivery) -> Result<(), Gone> {
    match &*delivery.message {
        BusMessage::Event { event, visible_to_contact, published_us } => {
            if !visible_to_contact {
                return Ok(());
            }
            let delivered = s.delivered.get(&id).copied().unwrap_or_default();
            match step(delivered, event.seq) {
                Step::Stale => Ok(()),
                Step::Next => {
                    s.delivered.insert(id, event.seq);
                    if s.tracked {
                        chat_moved(s, id, &event.body);
                    }
                    // Every subscriber of a conversation's topic is that conversation's
                    // visitor, so they all send the same frame.
                    let site_key = &s.visitor.site.public_key;
                    conn.feed_shared(&delivery.frame, || VisitorOut::Event { event: event.seen_by_visitor(site_key) }).await?;
                    s.app.metrics.observe_delivery(*published_us);
                    if matches!(event.body, p::EventBody::Receipt { side: p::Side::Visitor, receipt: p::ReceiptKind::Read, .. }) {
                        read_mark(s, conn, id).await?;
                    }
                    Ok(())
                }
                Step::Reread => {
                    // The re-read tells the read mark if it moved.
                    if let Some(cursor) = replay(s, conn, id, delivered).await? {
                        s.delivered.insert(id, cursor);
                    }
                    Ok(())
                }
            }
        }
        BusMessage::Typing { conversation_id, actor, typing } if actor.is_team_side() => {
            conn.feed(&VisitorOut::Typing { conversation_id: conversation_id.0, actor: (*actor).into(), typing: *typing }).await
        }
        BusMessage::Queue { conversation_id, position, estimated_wait_seconds } => {
            conn.feed(&VisitorOut::Queue {
                conversation_id: conversation_id.0,
                position: *position,
                estimated_wait_seconds: *estimated_wait_seconds,
            })
            .await
        }
        BusMessage::QueueTimeout { conversation_id } => conn.feed(&VisitorOut::QueueTimeout { conversation_id: conversation_id.0 }).await,
        _ => Ok(()),
    }
}

/// A live message, from a conversation or from this node.
async fn delivered(s: &mut Session, conn: &mut Conn, from: From, delivery: &Delivery) -> Result<(), Gone> {
    match from {
        Some(id) => live(s, conn, id, delivery).await,
        // Rare: boxed, so an idle session's future does not carry its size.
        None => Box::pin(invited(conn, delivery)).await,
    }
}

/// What this node handed the socket beside its conversations: an invitation for this
/// visitor on this site (the registry picked the sockets).
async fn invited(conn: &mut Conn, delivery: &Delivery) -> Result<(), Gone> {
    match &*delivery.message {
        BusMessage::Invitation { invitation } => conn.send(&VisitorOut::Invitation { invitation: (**invitation).clone() }).await,
        _ => Ok(()),
    }
}

/// Where the visitor stands with the team after an assignment or a status change of
/// their conversation, for the live list.
fn chat_moved(s: &Session, id: ConversationId, body: &p::EventBody) {
    let chat = match body {
        p::EventBody::Assigned { assignee_id: Some(agent), .. } => {
            LiveChat { state: ChatState::Chatting, conversation_id: Some(id), agent_id: Some(AgentId(*agent)) }
        }
        p::EventBody::Assigned { assignee_id: None, .. } => {
            LiveChat { state: ChatState::Waiting, conversation_id: Some(id), agent_id: None }
        }
        p::EventBody::StatusChanged { status: p::ConversationStatus::Resolved, .. } => LiveChat::default(),
        _ => return,
    };
    s.app.core.live_chat(&s.visitor, chat);
}

/// Answers a frame of the visitor's.
async fn handle(s: &mut Session, conn: &mut Conn, feed: &mut Feed, frame: VisitorIn) -> Result<(), Gone> {
    let Feed { streams, socket } = feed;
    let core = s.app.core.clone();
    match frame {
        VisitorIn::Hello { .. } => {
            conn.send(&VisitorOut::from(FrameError::new(ErrorCode::AlreadyWelcomed, "hello was already received"))).await
        }
        VisitorIn::Ping => conn.send(&VisitorOut::Pong).await,
        VisitorIn::Send { client_id, conversation_id, body, format, attachment_ids, pow, invitation_id, team_id } => {
            let reference = Some(client_id.clone());
            let draft = parse::draft(Some(client_id.clone()), body, format, &attachment_ids);
            let sent = match (invitation_id, conversation_id) {
                // A reply to an invitation starts its conversation.
                (Some(invitation), None) => core.visitor_answer(&s.visitor, InvitationId(invitation), draft).await,
                _ => {
                    let pow = pow.map(|p| switchboard_core::pow::PowSolution { challenge: p.challenge, nonce: p.nonce });
                    let options = switchboard_core::SendOptions { pow: pow.as_ref(), team: team_id.map(TeamId) };
                    core.visitor_send_with(&s.visitor, conversation_id.map(ConversationId), draft, options).await
                }
            }
            .map_err(FrameError::from);
            conn.answered(sent.as_ref().err());
            let done = match sent {
                Ok(done) => done,
                Err(e) => return conn.send(&VisitorOut::from(e.about(reference))).await,
            };
            s.visitor.committed(&done);
            if s.tracked && !done.replayed && conversation_id.is_none() {
                let c = &done.conversation;
                let state = if c.assignee_id.is_some() { ChatState::Chatting } else { ChatState::Waiting };
                core.live_chat(&s.visitor, LiveChat { state, conversation_id: Some(c.id), agent_id: c.assignee_id });
            }
            let Some((event, message)) = done.events.iter().find_map(|e| Some((e, e.data.message()?))) else {
                return conn
                    .send(&VisitorOut::from(FrameError::new(ErrorCode::Internal, "the message was not stored").about(reference)))
                    .await;
            };
            let conversation = event.conversation_id;
            conn.send(&VisitorOut::Ack {
                client_id,
                conversation_id: conversation.0,
                seq: event.seq,
                message: p::Message::new(message, viewer(s)),
                replayed: done.replayed,
            })
            .await?;
            if !s.delivered.contains_key(&conversation) {
                watch(s, conn, streams, conversation, 0, true).await?;
            }
            Ok(())
        }
        VisitorIn::Typing { conversation_id, typing } => {
            let typed = core.visitor_typing(&s.visitor, ConversationId(conversation_id), typing).await.map_err(FrameError::from);
            conn.answered(typed.as_ref().err());
            match typed {
                Ok(()) => Ok(()),
                Err(e) => conn.send(&VisitorOut::from(e.about(Some(conversation_id.to_string())))).await,
            }
        }
        VisitorIn::Receipt { conversation_id, kind, up_to_seq } => {
            match core.visitor_receipt(&s.visitor, ConversationId(conversation_id), kind.into(), up_to_seq).await {
                Ok(_) => Ok(()),
                Err(e) => conn.send(&VisitorOut::from(FrameError::from(e).about(Some(conversation_id.to_string())))).await,
            }
        }
        VisitorIn::History { conversation_id, after_seq, limit } => {
            let id = ConversationId(conversation_id);
            match core.visitor_history(&s.visitor, id, after_seq, limit.unwrap_or(100)).await {
                Ok(events) => {
                    let events = events.iter().map(|e| p::Event::new(e, viewer(s))).collect();
                    conn.send(&VisitorOut::History { conversation_id, events }).await
                }
                Err(e) => conn.send(&VisitorOut::from(FrameError::from(e).about(Some(id.to_string())))).await,
            }
        }
        VisitorIn::Page { url, title, referrer, again } => {
            match core.live_page(&s.visitor, s.consented, !s.tracked, NewPageView { url, title, referrer, again }).await {
                Ok(counted) => {
                    s.tracked |= counted;
                    Ok(())
                }
                Err(e) => conn.send(&VisitorOut::from(FrameError::from(e))).await,
            }
        }
        VisitorIn::Profile { name, email, phone, attributes } => {
            let result = match parse::visitor_profile(name, email.as_deref(), phone, &attributes) {
                Ok(patch) => core.visitor_update(&s.visitor, patch).await.map_err(FrameError::from),
                Err(e) => Err(e.into()),
            };
            match result {
                Ok(contact) => {
                    s.visitor.contact = contact;
                    // An e-mail ban refuses the socket from now on.
                    socket.update(&s.visitor);
                    core.live_profile(&s.visitor);
                    Ok(())
                }
                Err(e) => conn.send(&VisitorOut::from(e)).await,
            }
        }
        VisitorIn::Identify { external_id, user_hash, name, email, phone } => {
            let email = match parse::email(email.as_deref()) {
                Ok(e) => e,
                Err(e) => return conn.send(&VisitorOut::from(FrameError::from(e))).await,
            };
            let identified = match core.identify(&s.visitor, Identity { external_id, user_hash, name, email, phone }).await {
                Ok(v) => v,
                Err(e) => return conn.send(&VisitorOut::from(FrameError::from(e))).await,
            };
            let same = identified.contact.id == s.visitor.contact.id;
            if !same && s.tracked {
                // The tab now belongs to another contact: it joins the live list as them
                // with its next page.
                core.live_tab_closed(&s.visitor);
                s.tracked = false;
            }
            s.visitor = identified;
            socket.update(&s.visitor);
            core.live_profile(&s.visitor);
            if !same {
                // A different contact: follow their conversations instead.
                streams.clear();
                s.delivered.clear();
            }
            let conversations = core.visitor_inbox(&mut s.visitor).await.unwrap_or_default();
            conn.send(&VisitorOut::Identified {
                token: std::mem::take(&mut s.visitor.token),
                contact_id: s.visitor.contact.id.0,
                conversations: visitor_conversations(s, &conversations).await,
            })
            .await?;
            for c in &conversations {
                if !s.delivered.contains_key(&c.id) {
                    watch(s, conn, streams, c.id, c.last_seq, c.queued_at.is_some()).await?;
                }
            }
            Ok(())
        }
        VisitorIn::Rate { conversation_id, score, comment } => {
            // The `conversation_rated` event reaches this socket like any other.
            match core.visitor_rate(&s.visitor, ConversationId(conversation_id), score, comment.as_deref()).await {
                Ok(_) => Ok(()),
                Err(e) => conn.send(&VisitorOut::from(FrameError::from(e).about(Some(conversation_id.to_string())))).await,
            }
        }
        VisitorIn::Transcript { conversation_id, email } => {
            let requested = match Email::parse(&email) {
                Ok(email) => core.visitor_transcript(&s.visitor, ConversationId(conversation_id), email).await.map_err(FrameError::from),
                Err(e) => Err(e.into()),
            };
            match requested {
                Ok(_) => conn.send(&VisitorOut::TranscriptRequested { conversation_id }).await,
                Err(e) => conn.send(&VisitorOut::from(e.about(Some(conversation_id.to_string())))).await,
            }
        }
        VisitorIn::Track { name, data } => {
            // Before consent on a site that asks for it, nothing is recorded.
            if s.visitor.site.tracking == TrackingMode::Consent && !s.consented {
                return Ok(());
            }
            let tracked = match parse::track_data(&data) {
                Ok(data) => core.visitor_track(&s.visitor, NewContactEvent { name, data }).await.map_err(FrameError::from),
                Err(e) => Err(e.into()),
            };
            match tracked {
                Ok(event) => {
                    core.live_event(&s.visitor, &event.name, event.data);
                    Ok(())
                }
                Err(e) => conn.send(&VisitorOut::from(e)).await,
            }
        }
        VisitorIn::Consent { granted } => {
            s.consented = granted;
            if !granted && s.tracked {
                // Withdrawn: the visitor leaves the live list and nothing more is recorded.
                core.live_tab_closed(&s.visitor);
                s.tracked = false;
            }
            Ok(())
        }
        VisitorIn::ExitIntent => {
            core.live_exit_intent(&s.visitor);
            Ok(())
        }
        VisitorIn::Invitation { invitation_id, action } => {
            match core.invitation_action(&s.visitor, InvitationId(invitation_id), action.into()).await {
                Ok(()) => Ok(()),
                Err(e) => conn.send(&VisitorOut::from(FrameError::from(e).about(Some(invitation_id.to_string())))).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Step, step};

    #[test]
    fn the_next_seq_is_delivered_and_an_old_one_dropped() {
        assert_eq!(step(4, 5), Step::Next);
        assert_eq!(step(4, 4), Step::Stale, "a duplicate");
        assert_eq!(step(4, 2), Step::Stale, "replayed already");
    }

    /// Seqs 5 and 6 published out of order: 6 arrives first, so the session re-reads
    /// after 4 (and gets 5 and 6 from the store, in order); 5 then arrives stale.
    #[test]
    fn a_gap_or_an_out_of_order_seq_re_reads_from_the_store() {
        assert_eq!(step(4, 6), Step::Reread);
        assert_eq!(step(6, 5), Step::Stale);
        assert_eq!(step(0, 3), Step::Reread, "a conversation whose first events were agent-only");
    }
}
