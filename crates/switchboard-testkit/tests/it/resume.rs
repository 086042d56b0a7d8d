//! Reconnecting with a cursor: a socket dropped in the middle of a burst of messages
//! comes back and gets every missed event exactly once, in order, then `caught_up`.
//! The same for the agent feed, for a visitor's token, and for private notes, which
//! must never reach a visitor live or on replay.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::Serialize;
use switchboard_client::{Acked, Socket};
use switchboard_testkit::proto::{
    AgentIn, AgentOut, ConversationStatus, Cursor, EventBody, MessageKind, Reply, Role, VisitorIn, VisitorOut,
};
use switchboard_testkit::{AgentSocket, Api, ConversationFilter, HistoryFilter, SocketError, TestApp, VisitorSocket, expect_frame};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::support::{Frame, Seen, api_token, assert_usable, caught_up_agent, kind, visitor_with_conversation};

/// Messages in a burst.
const N: usize = 200;
/// How many of the burst the first socket reads before it is dropped.
const READ_BEFORE_DROP: usize = 50;
const WAIT: Duration = Duration::from_secs(10);

fn body(i: usize) -> String {
    format!("m-{i:03}")
}

fn all_bodies() -> Vec<String> {
    (0..N).map(body).collect()
}

fn reply(body: &str) -> Reply {
    Reply { body: body.into(), ..Reply::default() }
}

/// Writes `frames` on a socket without waiting between them and collects one `ack` per
/// frame, with its `client_id` (reading concurrently, so neither side's buffers fill up).
/// Panics on an error frame.
fn burst<In: Serialize + Send + 'static, Out: Frame>(ws: Socket<In, Out>, frames: Vec<In>) -> JoinHandle<Vec<(String, Acked)>> {
    tokio::spawn(async move {
        let n = frames.len();
        let (mut tx, mut rx) = ws.stream.split();
        let send = async move {
            for f in frames {
                tx.send(Message::Text(serde_json::to_string(&f).unwrap().into())).await.expect("send");
            }
            tx
        };
        let acks = async move {
            let mut acks = Vec::with_capacity(n);
            while acks.len() < n {
                let msg = tokio::time::timeout(WAIT, rx.next()).await.expect("timed out waiting for acks");
                let Some(Ok(Message::Text(text))) = msg else {
                    let alive = matches!(msg, Some(Ok(Message::Ping(_) | Message::Pong(_))));
                    assert!(alive, "the sender's socket ended after {} acks: {msg:?}", acks.len());
                    continue;
                };
                let frame: Out = serde_json::from_str(&text).expect("a frame of the protocol");
                match frame.seen() {
                    Seen::Ack { client_id, acked } => acks.push((client_id, acked)),
                    Seen::Error(_) | Seen::Reconnect => panic!("burst send failed after {} acks: {text}", acks.len()),
                    _ => {}
                }
            }
            acks
        };
        let (_tx, acks) = tokio::join!(send, acks);
        acks
    })
}

/// Every ack of a burst is fresh and the burst was stored in order, right after `after_seq`.
fn assert_acks_in_order(acks: &[(String, Acked)], after_seq: i64) {
    assert_eq!(acks.len(), N);
    for (i, (client_id, ack)) in acks.iter().enumerate() {
        assert_eq!(*client_id, format!("burst-{i}"), "acks come in the order of the sends");
        assert_eq!(ack.seq, after_seq + 1 + i as i64);
        assert_eq!(ack.message.body, body(i));
        assert!(!ack.replayed);
    }
}

/// What a client has seen so far on one cursor (a conversation's `seq` or the feed's `feed_seq`).
struct Log {
    /// Whether the cursor is the feed's `feed_seq` (an agent socket) rather than `seq`.
    feed: bool,
    last: i64,
    bodies: Vec<String>,
}

enum Step {
    Event,
    CaughtUp,
    Reconnect,
    Other,
}

impl Log {
    fn seq(last: i64) -> Self {
        Self { feed: false, last, bodies: vec![] }
    }

    fn feed_seq(last: i64) -> Self {
        Self { feed: true, last, bodies: vec![] }
    }

    /// Takes one frame. Every event here is visible to the reader, so the cursor must
    /// advance by exactly one each time: a jump is a lost event, a repeat a duplicate.
    fn take(&mut self, f: Seen) -> Step {
        match f {
            Seen::Event(event) => {
                let at = if self.feed {
                    event.feed_seq.unwrap_or_else(|| panic!("a feed event without feed_seq: {event:?}"))
                } else {
                    event.seq
                };
                assert_eq!(at, self.last + 1, "after {} came {at}: {event:?}", self.last);
                self.last = at;
                if let EventBody::Message { message } = &event.body
                    && message.body.starts_with("m-")
                {
                    self.bodies.push(message.body.clone());
                }
                Step::Event
            }
            Seen::CaughtUp(at) => {
                assert_eq!(at, self.last, "caught_up names the last event delivered");
                Step::CaughtUp
            }
            Seen::Reconnect => Step::Reconnect,
            Seen::Error(e) => panic!("unexpected error frame: {e}"),
            Seen::Ack { .. } | Seen::Other => Step::Other,
        }
    }
}

/// The next frame of a socket, or `None` once the server has closed it. Waiting too long,
/// or a frame outside the protocol, fails the test.
async fn next_or_closed<In: Serialize, Out: Frame>(ws: &mut Socket<In, Out>) -> Option<Seen> {
    match ws.next().await {
        Ok(f) => Some(f.seen()),
        Err(e @ (SocketError::Timeout(_) | SocketError::Decode { .. })) => panic!("{e}"),
        Err(_) => None,
    }
}

/// Reads a live socket until `READ_BEFORE_DROP` messages of the burst have arrived
/// (or the server asks it to reconnect), then drops it without a close frame.
async fn read_some_then_drop<In: Serialize, Out: Frame>(mut ws: Socket<In, Out>, log: &mut Log) {
    while log.bodies.len() < READ_BEFORE_DROP {
        match next_or_closed(&mut ws).await {
            Some(f) => {
                if let Step::Reconnect = log.take(f) {
                    break;
                }
            }
            None => break,
        }
    }
    assert!(log.bodies.len() < N, "the socket must be dropped partway through the burst");
    drop(ws);
}

/// Reconnects with `log`'s cursor (again whenever the server asks) until the whole
/// burst has arrived. Returns how many events came before the first `caught_up`.
async fn resume_until_complete<In, Out, F, Fut>(log: &mut Log, connect: F) -> usize
where
    In: Serialize,
    Out: Frame,
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = Socket<In, Out>>,
{
    let mut ws = connect(log.last).await;
    let mut replayed = None;
    let mut events = 0;
    let mut reconnects = 0;
    while log.bodies.len() < N || replayed.is_none() {
        let step = match next_or_closed(&mut ws).await {
            Some(f) => log.take(f),
            None => Step::Reconnect,
        };
        match step {
            Step::Event => events += 1,
            Step::CaughtUp => {
                replayed.get_or_insert(events);
            }
            Step::Reconnect => {
                reconnects += 1;
                assert!(reconnects <= 5, "the server keeps dropping the resumed socket");
                ws = connect(log.last).await;
            }
            Step::Other => {}
        }
    }
    assert_eq!(log.bodies, all_bodies(), "every message exactly once and in order");
    replayed.unwrap()
}

struct Chat {
    app: TestApp,
    site_key: String,
    visitor_token: String,
    conversation: Uuid,
    agent_secret: String,
    owner: Api,
}

async fn chat() -> (Chat, VisitorSocket) {
    // These stories send bursts of 200 to test delivery, far faster than a person: the
    // limits that would stop them have stories of their own (limits.rs).
    let limits = switchboard_core::Limits { rates: switchboard_core::Rates::unlimited(), ..Default::default() };
    let app = TestApp::spawn_with(switchboard_server::ServerConfig::default(), limits).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let agent_secret = api_token(&owner, Role::Admin).await;
    let (visitor, conversation) = visitor_with_conversation(&app, &seed, "v-1", "Where is my order?").await;
    let chat =
        Chat { visitor_token: visitor.token().to_owned(), site_key: seed.site.public_key.clone(), app, conversation, agent_secret, owner };
    (chat, visitor)
}

fn agent_frames(conversation: Uuid) -> Vec<AgentIn> {
    (0..N)
        .map(|i| AgentIn::Send {
            client_id: format!("burst-{i}"),
            conversation_id: conversation,
            body: body(i),
            format: None,
            attachment_ids: vec![],
            note: false,
        })
        .collect()
}

impl Chat {
    /// Another integration's socket, caught up, to send from while the first one reads.
    async fn second_integration(&self) -> AgentSocket {
        let secret = api_token(&self.owner, Role::Agent).await;
        caught_up_agent(&self.app, &secret).await
    }

    async fn resume_visitor(&self, after_seq: i64) -> VisitorSocket {
        let cursors = vec![Cursor { conversation_id: self.conversation, after_seq }];
        VisitorSocket::open(&self.app.url(""), &self.site_key, Some(&self.visitor_token), cursors).await.expect("a resumed visitor socket")
    }

    async fn resume_feed(&self, after_feed_seq: i64) -> AgentSocket {
        AgentSocket::open(&self.app.url(""), &self.agent_secret, Some(after_feed_seq)).await.expect("a resumed agent socket")
    }
}

#[tokio::test]
async fn a_visitor_dropped_mid_burst_gets_the_rest_on_replay_then_caught_up() {
    let (chat, visitor) = chat().await;
    let agent = caught_up_agent(&chat.app, &chat.agent_secret).await;
    // The conversation has `conversation_started` (1) and the visitor's message (2).
    let mut log = Log::seq(2);

    let sender = burst(agent, agent_frames(chat.conversation));
    read_some_then_drop(visitor, &mut log).await;
    let seen_before_drop = log.last;
    assert_acks_in_order(&sender.await.unwrap(), 2);

    // Everything is stored before the reconnect, so all of it is replay.
    let replayed = resume_until_complete(&mut log, |after| chat.resume_visitor(after)).await;
    assert_eq!(replayed as i64, 2 + N as i64 - seen_before_drop, "the missed messages came before caught_up");
    assert_eq!(log.last, 2 + N as i64);
}

#[tokio::test]
async fn a_visitor_that_reconnects_while_the_burst_goes_on_misses_nothing_and_sees_nothing_twice() {
    let (chat, visitor) = chat().await;
    let agent = caught_up_agent(&chat.app, &chat.agent_secret).await;
    let mut log = Log::seq(2);

    let sender = burst(agent, agent_frames(chat.conversation));
    read_some_then_drop(visitor, &mut log).await;
    // Reconnect at once: replay and live overlap while the agent keeps sending.
    resume_until_complete(&mut log, |after| chat.resume_visitor(after)).await;
    assert_eq!(log.last, 2 + N as i64);
    assert_acks_in_order(&sender.await.unwrap(), 2);
}

#[tokio::test]
async fn the_visitor_socket_is_quiet_after_catching_up_on_a_complete_replay() {
    let (chat, visitor) = chat().await;
    drop(visitor);
    let agent = caught_up_agent(&chat.app, &chat.agent_secret).await;
    assert_acks_in_order(&burst(agent, agent_frames(chat.conversation)).await.unwrap(), 2);

    let mut ws = chat.resume_visitor(2).await;
    let Some(VisitorOut::Welcome { conversations, .. }) = &ws.welcome else { panic!("no welcome") };
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].last_seq, 2 + N as i64);
    let mut log = Log::seq(2);
    loop {
        let f = next_or_closed(&mut ws).await.expect("socket closed during replay");
        if let Step::CaughtUp = log.take(f) {
            break;
        }
    }
    assert_eq!(log.bodies, all_bodies());
    // Nothing is repeated after caught_up: the next frame answers our ping.
    assert_usable(&mut ws).await;
}

#[tokio::test]
async fn an_agent_feed_dropped_mid_burst_resumes_from_after_feed_seq() {
    let (chat, _visitor) = chat().await;
    let mut reader = chat.app.agent_socket(&chat.agent_secret).await;
    // Without a cursor the feed starts at its head: both earlier events are behind it.
    let head = expect_frame!(reader, AgentOut::CaughtUp { feed_seq } => feed_seq).unwrap();
    assert_eq!(head, 2);
    let mut log = Log::feed_seq(2);

    let sender = burst(chat.second_integration().await, agent_frames(chat.conversation));
    read_some_then_drop(reader, &mut log).await;
    let seen_before_drop = log.last;
    assert_acks_in_order(&sender.await.unwrap(), 2);

    let replayed = resume_until_complete(&mut log, |after| chat.resume_feed(after)).await;
    assert_eq!(replayed as i64, 2 + N as i64 - seen_before_drop);
    assert_eq!(log.last, 2 + N as i64);
}

#[tokio::test]
async fn an_agent_feed_that_reconnects_during_the_burst_misses_nothing_and_sees_nothing_twice() {
    let (chat, _visitor) = chat().await;
    let reader = caught_up_agent(&chat.app, &chat.agent_secret).await;
    let mut log = Log::feed_seq(2);

    let sender = burst(chat.second_integration().await, agent_frames(chat.conversation));
    read_some_then_drop(reader, &mut log).await;
    resume_until_complete(&mut log, |after| chat.resume_feed(after)).await;
    assert_eq!(log.last, 2 + N as i64);
    assert_acks_in_order(&sender.await.unwrap(), 2);
}

#[tokio::test]
async fn a_visitor_token_brings_back_the_same_contact_and_conversations() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let welcomed = |ws: &VisitorSocket| match &ws.welcome {
        Some(VisitorOut::Welcome { conversations, .. }) => conversations.clone(),
        _ => panic!("no welcome"),
    };
    let mut first = app.visitor_socket(&seed.site).await;
    assert!(welcomed(&first).is_empty());
    let token = first.token().to_owned();
    let contact = first.contact_id();
    let a = first.say(None, "q-1", "Do you ship to Tabriz?").await.unwrap().conversation_id;
    expect_frame!(first, VisitorOut::CaughtUp { .. }).unwrap();
    let b = first.say(None, "q-2", "And a separate question about invoices").await.unwrap().conversation_id;
    expect_frame!(first, VisitorOut::CaughtUp { .. }).unwrap();
    assert_ne!(a, b);
    drop(first);

    let base = app.url("");
    let mut again = VisitorSocket::open(&base, &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    assert_eq!(again.contact_id(), contact);
    let mut ids: Vec<_> = welcomed(&again).iter().map(|c| c.id).collect();
    ids.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(ids, expected);
    for c in welcomed(&again) {
        assert_eq!((c.last_seq, c.status), (2, ConversationStatus::Open));
    }
    let renewed = again.token().to_owned();
    assert!(renewed.starts_with("v1."), "{renewed}");

    // Without a cursor the conversations are followed live from where they are.
    for _ in 0..2 {
        let seq = expect_frame!(again, VisitorOut::CaughtUp { seq, .. } => seq).unwrap();
        assert_eq!(seq, 2);
    }
    owner.reply(a, &reply("Yes, we do.")).await.unwrap();
    let event = expect_frame!(again, VisitorOut::Event { event } => event).unwrap();
    assert_eq!((event.conversation_id, event.seq), (a, 3));
    assert_eq!(event.body.message().map(|m| m.body.as_str()), Some("Yes, we do."));

    // The renewed token is the same person too; no token is somebody new.
    let third = VisitorSocket::open(&base, &seed.site.public_key, Some(&renewed), vec![]).await.unwrap();
    assert_eq!(third.contact_id(), contact);
    assert_eq!(welcomed(&third).len(), 2);
    let stranger = app.visitor_socket(&seed.site).await;
    assert_ne!(stranger.contact_id(), contact);
    assert!(welcomed(&stranger).is_empty());

    // The team sees one contact with both conversations.
    let list = owner.conversations(&ConversationFilter { contact_id: Some(contact), ..ConversationFilter::default() }).await.unwrap();
    assert_eq!(list.items.len(), 2);
}

/// The next frame a visitor receives, decoded, after checking that its text holds no
/// trace of a private note (every note's body here starts with `NOTE`).
async fn next_without_notes(ws: &mut VisitorSocket) -> VisitorOut {
    let text = ws.next_text().await.expect("visitor socket closed");
    assert!(!text.contains("NOTE"), "a note reached the visitor: {text}");
    serde_json::from_str(&text).expect("a frame of the protocol")
}

#[tokio::test]
async fn private_notes_never_reach_the_visitor_live_or_on_replay() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "My card was charged twice").await;
    let token = visitor.token().to_owned();

    owner.reply(conv, &reply("Let me check.")).await.unwrap(); // 3
    owner.note(conv, &reply("NOTE refund fraud risk")).await.unwrap(); // 4
    owner.set_labels(conv, &switchboard_testkit::proto::LabelsRequest { labels: vec!["billing".into()] }).await.unwrap(); // 5, team-internal
    let high = switchboard_testkit::proto::PriorityRequest { priority: switchboard_testkit::proto::Priority::High };
    owner.set_priority(conv, &high).await.unwrap(); // 6, team-internal
    let mut agent = caught_up_agent(&app, &secret).await;
    let note = AgentIn::Send {
        client_id: "n-1".into(),
        conversation_id: conv,
        body: "NOTE second private note".into(),
        format: None,
        attachment_ids: vec![],
        note: true,
    };
    agent.send(&note).await.unwrap(); // 7
    let (seq, message) = expect_frame!(agent, AgentOut::Ack { seq, message, .. } => (seq, message)).unwrap();
    assert_eq!((seq, message.kind), (7, MessageKind::Note));
    owner.reply(conv, &reply("Refunded.")).await.unwrap(); // 8

    // Live: only the two replies arrive, with their real seqs.
    let mut live = vec![];
    loop {
        match next_without_notes(&mut visitor).await {
            VisitorOut::Event { event } => {
                live.push((event.seq, kind(&event.body)));
                if event.body.message().is_some_and(|m| m.body == "Refunded.") {
                    break;
                }
            }
            f @ VisitorOut::Error { .. } => panic!("{f:?}"),
            _ => {}
        }
    }
    assert_eq!(live, [(3, "message"), (8, "message")]);

    // The team's history has all of it (so the notes really were stored).
    let history = owner.history(conv, &HistoryFilter { after_seq: Some(0), ..HistoryFilter::default() }).await.unwrap();
    let kinds: Vec<_> = history.items.iter().map(|e| kind(&e.body)).collect();
    assert_eq!(kinds, ["conversation_started", "message", "message", "note", "labels_changed", "priority_changed", "note", "message"]);

    // Replay from the start on a new socket, and the history frame: no notes either.
    let from_start = vec![Cursor { conversation_id: conv, after_seq: 0 }];
    let mut again = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), from_start).await.unwrap();
    let mut replayed = vec![];
    loop {
        match next_without_notes(&mut again).await {
            VisitorOut::Event { event } => replayed.push(event.seq),
            VisitorOut::CaughtUp { seq, .. } => {
                assert_eq!(seq, 8);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(replayed, [1, 2, 3, 8]);
    again.send(&VisitorIn::History { conversation_id: conv, after_seq: 0, limit: None }).await.unwrap();
    let events = loop {
        if let VisitorOut::History { events, .. } = next_without_notes(&mut again).await {
            break events;
        }
    };
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 8]);
}

/// A widget flushing a queue of messages (say, typed while offline) sends them back to
/// back. It reads every frame promptly, so it must not be cut off as a slow consumer:
/// each send is acknowledged and echoed back as an event, in order.
#[tokio::test]
async fn a_visitor_sending_a_burst_while_reading_promptly_is_not_cut_off() {
    let (chat, visitor) = chat().await;
    let frames: Vec<VisitorIn> = (0..N)
        .map(|i| VisitorIn::Send {
            client_id: format!("burst-{i}"),
            conversation_id: Some(chat.conversation),
            body: body(i),
            format: None,
            attachment_ids: vec![],
            pow: None,
            invitation_id: None,
            team_id: None,
        })
        .collect();
    let acks = burst(visitor, frames).await;
    let acks = acks.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    assert_acks_in_order(&acks, 2);

    // And the echoes are all in the log, in order, for a resumed socket.
    let mut log = Log::seq(2);
    let mut ws = chat.resume_visitor(2).await;
    loop {
        let f = next_or_closed(&mut ws).await.expect("socket closed during replay");
        if let Step::CaughtUp = log.take(f) {
            break;
        }
    }
    assert_eq!(log.bodies, all_bodies());
}

/// A client that lists one conversation twice in `resume` (two stored cursors after a
/// bug of its own, say) still gets each event once and one `caught_up`, as promised.
#[tokio::test]
async fn a_conversation_named_twice_in_resume_is_replayed_once() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello").await;
    let token = visitor.token().to_owned();
    owner.reply(conv, &reply("Hi!")).await.unwrap();

    let cursors = vec![Cursor { conversation_id: conv, after_seq: 0 }, Cursor { conversation_id: conv, after_seq: 1 }];
    let mut ws = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), cursors).await.unwrap();
    // The replay is written before the first frame we send is read: `pong` closes it.
    ws.send(&VisitorIn::Ping).await.unwrap();
    let (mut seqs, mut caught_up) = (vec![], 0);
    loop {
        match ws.next().await.expect("closed") {
            VisitorOut::Event { event } => seqs.push(event.seq),
            VisitorOut::CaughtUp { .. } => caught_up += 1,
            VisitorOut::Pong => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "each event once, in order: {seqs:?}");
    assert_eq!(seqs.last(), Some(&3));
    assert_eq!(caught_up, 1, "one caught_up per conversation");
}
