//! Reconnecting with a cursor: a socket dropped in the middle of a burst of messages
//! comes back and gets every missed event exactly once, in order, then `caught_up`.
//! The same for the agent feed, for a visitor's token, and for private notes, which
//! must never reach a visitor live or on replay.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use switchboard_testkit::{Api, TestApp, Ws};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{api_token, assert_usable, visitor_with_conversation};

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

/// Writes `frames` on a socket without waiting between them and collects one `ack` per
/// frame (reading concurrently, so neither side's buffers fill up). Panics on an error frame.
fn burst(ws: Ws, frames: Vec<Value>) -> JoinHandle<Vec<Value>> {
    tokio::spawn(async move {
        let n = frames.len();
        let (mut tx, mut rx) = ws.stream.split();
        let send = async move {
            for f in frames {
                tx.send(Message::Text(f.to_string().into())).await.expect("send");
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
                let f: Value = serde_json::from_str(&text).expect("json");
                match f["type"].as_str() {
                    Some("ack") => acks.push(f),
                    Some("error" | "reconnect") => panic!("burst send failed after {} acks: {f}", acks.len()),
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
fn assert_acks_in_order(acks: &[Value], after_seq: i64) {
    assert_eq!(acks.len(), N);
    for (i, ack) in acks.iter().enumerate() {
        assert_eq!(ack["client_id"], format!("burst-{i}"), "acks come in the order of the sends");
        assert_eq!(ack["seq"], after_seq + 1 + i as i64);
        assert_eq!(ack["message"]["body"], body(i));
        assert_eq!(ack["replayed"], false);
    }
}

/// What a client has seen so far on one cursor (a conversation's `seq` or the feed's `feed_seq`).
struct Log {
    cursor: &'static str,
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
    /// Takes one frame. Every event here is visible to the reader, so the cursor must
    /// advance by exactly one each time: a jump is a lost event, a repeat a duplicate.
    fn take(&mut self, f: &Value) -> Step {
        match f["type"].as_str().unwrap_or_default() {
            "event" => {
                let at = f["event"][self.cursor].as_i64().unwrap_or_else(|| panic!("event without {}: {f}", self.cursor));
                assert_eq!(at, self.last + 1, "after {} {} came {at}: {f}", self.cursor, self.last);
                self.last = at;
                if f["event"]["kind"] == "message"
                    && let Some(b) = f["event"]["message"]["body"].as_str().filter(|b| b.starts_with("m-"))
                {
                    self.bodies.push(b.to_owned());
                }
                Step::Event
            }
            "caught_up" => {
                assert_eq!(f[self.cursor], self.last, "caught_up names the last event delivered: {f}");
                Step::CaughtUp
            }
            "reconnect" => Step::Reconnect,
            "error" => panic!("unexpected error frame: {f}"),
            _ => Step::Other,
        }
    }
}

/// Reads a live socket until `READ_BEFORE_DROP` messages of the burst have arrived
/// (or the server asks it to reconnect), then drops it without a close frame.
async fn read_some_then_drop(mut ws: Ws, log: &mut Log) {
    while log.bodies.len() < READ_BEFORE_DROP {
        match ws.next().await {
            Some(f) => {
                if let Step::Reconnect = log.take(&f) {
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
async fn resume_until_complete<F, Fut>(log: &mut Log, connect: F) -> usize
where
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = Ws>,
{
    let mut ws = connect(log.last).await;
    let mut replayed = None;
    let mut events = 0;
    let mut reconnects = 0;
    while log.bodies.len() < N || replayed.is_none() {
        let step = match ws.next().await {
            Some(f) => log.take(&f),
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
    conversation: String,
    agent_secret: String,
    owner: Api,
}

async fn chat() -> (Chat, Ws) {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let agent_secret = api_token(&owner, "admin").await;
    let (visitor, conversation) = visitor_with_conversation(&app, &seed, "v-1", "Where is my order?").await;
    let chat = Chat {
        visitor_token: visitor.welcome["token"].as_str().unwrap().to_owned(),
        site_key: seed.site.public_key.clone(),
        app,
        conversation,
        agent_secret,
        owner,
    };
    (chat, visitor)
}

fn agent_frames(conversation: &str) -> Vec<Value> {
    (0..N).map(|i| json!({"type": "send", "client_id": format!("burst-{i}"), "conversation_id": conversation, "body": body(i)})).collect()
}

impl Chat {
    /// Another integration's socket, caught up, to send from while the first one reads.
    async fn second_integration(&self) -> Ws {
        let secret = api_token(&self.owner, "agent").await;
        let mut ws = Ws::agent(self.app.addr, &secret, None).await;
        ws.expect("caught_up").await;
        ws
    }

    async fn resume_visitor(&self, after_seq: i64) -> Ws {
        let cursors = json!([{"conversation_id": self.conversation, "after_seq": after_seq}]);
        Ws::visitor(self.app.addr, &self.site_key, Some(&self.visitor_token), Some(cursors)).await
    }
}

#[tokio::test]
async fn a_visitor_dropped_mid_burst_gets_the_rest_on_replay_then_caught_up() {
    let (chat, visitor) = chat().await;
    let mut agent = Ws::agent(chat.app.addr, &chat.agent_secret, None).await;
    agent.expect("caught_up").await;
    // The conversation has `conversation_started` (1) and the visitor's message (2).
    let mut log = Log { cursor: "seq", last: 2, bodies: vec![] };

    let sender = burst(agent, agent_frames(&chat.conversation));
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
    let mut agent = Ws::agent(chat.app.addr, &chat.agent_secret, None).await;
    agent.expect("caught_up").await;
    let mut log = Log { cursor: "seq", last: 2, bodies: vec![] };

    let sender = burst(agent, agent_frames(&chat.conversation));
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
    let secret = chat.agent_secret.clone();
    let mut agent = Ws::agent(chat.app.addr, &secret, None).await;
    agent.expect("caught_up").await;
    assert_acks_in_order(&burst(agent, agent_frames(&chat.conversation)).await.unwrap(), 2);

    let mut ws = chat.resume_visitor(2).await;
    let conversations = ws.welcome["conversations"].as_array().unwrap().clone();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["last_seq"], 2 + N as i64);
    let mut log = Log { cursor: "seq", last: 2, bodies: vec![] };
    loop {
        let f = ws.next().await.expect("socket closed during replay");
        if let Step::CaughtUp = log.take(&f) {
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
    let mut reader = Ws::agent(chat.app.addr, &chat.agent_secret, None).await;
    // Without a cursor the feed starts at its head: both earlier events are behind it.
    let head = reader.expect("caught_up").await;
    assert_eq!(head["feed_seq"], 2);
    let mut log = Log { cursor: "feed_seq", last: 2, bodies: vec![] };

    let sender = burst(chat.second_integration().await, agent_frames(&chat.conversation));
    read_some_then_drop(reader, &mut log).await;
    let seen_before_drop = log.last;
    assert_acks_in_order(&sender.await.unwrap(), 2);

    let secret = chat.agent_secret.clone();
    let addr = chat.app.addr;
    let replayed = resume_until_complete(&mut log, |after| {
        let secret = secret.clone();
        async move { Ws::agent(addr, &secret, Some(after)).await }
    })
    .await;
    assert_eq!(replayed as i64, 2 + N as i64 - seen_before_drop);
    assert_eq!(log.last, 2 + N as i64);
}

#[tokio::test]
async fn an_agent_feed_that_reconnects_during_the_burst_misses_nothing_and_sees_nothing_twice() {
    let (chat, _visitor) = chat().await;
    let mut reader = Ws::agent(chat.app.addr, &chat.agent_secret, None).await;
    reader.expect("caught_up").await;
    let mut log = Log { cursor: "feed_seq", last: 2, bodies: vec![] };

    let sender = burst(chat.second_integration().await, agent_frames(&chat.conversation));
    read_some_then_drop(reader, &mut log).await;
    let secret = chat.agent_secret.clone();
    let addr = chat.app.addr;
    resume_until_complete(&mut log, |after| {
        let secret = secret.clone();
        async move { Ws::agent(addr, &secret, Some(after)).await }
    })
    .await;
    assert_eq!(log.last, 2 + N as i64);
    assert_acks_in_order(&sender.await.unwrap(), 2);
}

#[tokio::test]
async fn a_visitor_token_brings_back_the_same_contact_and_conversations() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let mut first = app.visitor(&seed.site).await;
    assert_eq!(first.welcome["conversations"], json!([]));
    let token = first.welcome["token"].as_str().unwrap().to_owned();
    let contact = first.welcome["contact_id"].as_str().unwrap().to_owned();
    let a = first.say(None, "q-1", "Do you ship to Tabriz?").await["conversation_id"].as_str().unwrap().to_owned();
    first.expect("caught_up").await;
    let b = first.say(None, "q-2", "And a separate question about invoices").await["conversation_id"].as_str().unwrap().to_owned();
    first.expect("caught_up").await;
    assert_ne!(a, b);
    drop(first);

    let mut again = Ws::visitor(app.addr, &seed.site.public_key, Some(&token), None).await;
    assert_eq!(again.welcome["contact_id"], contact.as_str());
    let mut ids: Vec<_> = again.welcome["conversations"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    for c in again.welcome["conversations"].as_array().unwrap() {
        assert_eq!(c["last_seq"], 2);
        assert_eq!(c["status"], "open");
    }
    let renewed = again.welcome["token"].as_str().unwrap().to_owned();
    assert!(renewed.starts_with("v1."), "{renewed}");

    // Without a cursor the conversations are followed live from where they are.
    for _ in 0..2 {
        let c = again.expect("caught_up").await;
        assert_eq!(c["seq"], 2);
    }
    owner.ok(Method::POST, &format!("/api/v1/conversations/{a}/messages"), Some(json!({"body": "Yes, we do."}))).await;
    let reply = again.expect("event").await;
    assert_eq!(reply["event"]["conversation_id"], a.as_str());
    assert_eq!(reply["event"]["seq"], 3);
    assert_eq!(reply["event"]["message"]["body"], "Yes, we do.");

    // The renewed token is the same person too; no token is somebody new.
    let third = Ws::visitor(app.addr, &seed.site.public_key, Some(&renewed), None).await;
    assert_eq!(third.welcome["contact_id"], contact.as_str());
    assert_eq!(third.welcome["conversations"].as_array().unwrap().len(), 2);
    let stranger = app.visitor(&seed.site).await;
    assert_ne!(stranger.welcome["contact_id"], contact.as_str());
    assert_eq!(stranger.welcome["conversations"], json!([]));

    // The team sees one contact with both conversations.
    let list = owner.ok(Method::GET, &format!("/api/v1/conversations?contact_id={contact}"), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn private_notes_never_reach_the_visitor_live_or_on_replay() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "My card was charged twice").await;
    let token = visitor.welcome["token"].as_str().unwrap().to_owned();
    let path = |p: &str| format!("/api/v1/conversations/{conv}/{p}");

    owner.ok(Method::POST, &path("messages"), Some(json!({"body": "Let me check."}))).await; // 3
    owner.ok(Method::POST, &path("notes"), Some(json!({"body": "NOTE refund fraud risk"}))).await; // 4
    owner.ok(Method::PUT, &path("labels"), Some(json!({"labels": ["billing"]}))).await; // 5, team-internal
    owner.ok(Method::PUT, &path("priority"), Some(json!({"priority": "high"}))).await; // 6, team-internal
    let mut agent = Ws::agent(app.addr, &secret, None).await;
    agent.expect("caught_up").await;
    agent
        .send(json!({"type": "send", "client_id": "n-1", "conversation_id": conv, "body": "NOTE second private note", "note": true}))
        .await; // 7
    let ack = agent.expect("ack").await;
    assert_eq!((ack["seq"].as_i64(), ack["message"]["kind"].as_str()), (Some(7), Some("note")));
    owner.ok(Method::POST, &path("messages"), Some(json!({"body": "Refunded."}))).await; // 8

    // Live: only the two replies arrive, with their real seqs.
    let mut live = vec![];
    loop {
        let f = visitor.next().await.expect("visitor socket closed");
        assert_ne!(f["type"], "error", "{f}");
        if f["type"] == "event" {
            live.push((f["event"]["seq"].as_i64().unwrap(), f["event"]["kind"].as_str().unwrap().to_owned()));
            assert!(!f.to_string().contains("NOTE"), "a note reached the visitor: {f}");
            if f["event"]["message"]["body"] == "Refunded." {
                break;
            }
        }
    }
    assert_eq!(live, [(3, "message".to_owned()), (8, "message".to_owned())]);

    // The team's history has all of it (so the notes really were stored).
    let history = owner.ok(Method::GET, &format!("{}?after_seq=0", path("messages")), None).await;
    let kinds: Vec<_> = history["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds, ["conversation_started", "message", "message", "note", "labels_changed", "priority_changed", "note", "message"]);

    // Replay from the start on a new socket, and the history frame: no notes either.
    let mut again =
        Ws::visitor(app.addr, &seed.site.public_key, Some(&token), Some(json!([{"conversation_id": conv, "after_seq": 0}]))).await;
    let mut replayed = vec![];
    loop {
        let f = again.next().await.expect("socket closed during replay");
        assert!(!f.to_string().contains("NOTE"), "a note reached the visitor: {f}");
        match f["type"].as_str().unwrap() {
            "event" => replayed.push(f["event"]["seq"].as_i64().unwrap()),
            "caught_up" => {
                assert_eq!(f["seq"], 8);
                break;
            }
            other => panic!("unexpected {other}: {f}"),
        }
    }
    assert_eq!(replayed, [1, 2, 3, 8]);
    again.send(json!({"type": "history", "conversation_id": conv, "after_seq": 0})).await;
    let history = again.expect("history").await;
    assert!(!history.to_string().contains("NOTE"), "a note reached the visitor: {history}");
    let seqs: Vec<_> = history["events"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 8]);
}

/// A widget flushing a queue of messages (say, typed while offline) sends them back to
/// back. It reads every frame promptly, so it must not be cut off as a slow consumer:
/// each send is acknowledged and echoed back as an event, in order.
#[tokio::test]
async fn a_visitor_sending_a_burst_while_reading_promptly_is_not_cut_off() {
    let (chat, visitor) = chat().await;
    let frames: Vec<Value> = (0..N)
        .map(|i| json!({"type": "send", "client_id": format!("burst-{i}"), "conversation_id": chat.conversation, "body": body(i)}))
        .collect();
    let acks = burst(visitor, frames).await;
    let acks = acks.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    assert_acks_in_order(&acks, 2);

    // And the echoes are all in the log, in order, for a resumed socket.
    let mut log = Log { cursor: "seq", last: 2, bodies: vec![] };
    let mut ws = chat.resume_visitor(2).await;
    loop {
        let f = ws.next().await.expect("socket closed during replay");
        if let Step::CaughtUp = log.take(&f) {
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
    let token = visitor.welcome["token"].as_str().unwrap().to_owned();
    owner.ok(Method::POST, &format!("/api/v1/conversations/{conv}/messages"), Some(json!({"body": "Hi!"}))).await;

    let cursors = json!([{"conversation_id": conv, "after_seq": 0}, {"conversation_id": conv, "after_seq": 1}]);
    let mut ws = Ws::visitor(app.addr, &seed.site.public_key, Some(&token), Some(cursors)).await;
    // The replay is written before the first frame we send is read: `pong` closes it.
    ws.send(json!({"type": "ping"})).await;
    let (mut seqs, mut caught_up) = (vec![], 0);
    loop {
        let f = ws.next().await.expect("closed");
        match f["type"].as_str().unwrap() {
            "event" => seqs.push(f["event"]["seq"].as_i64().unwrap()),
            "caught_up" => caught_up += 1,
            "pong" => break,
            _ => panic!("unexpected {f}"),
        }
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "each event once, in order: {seqs:?}");
    assert_eq!(seqs.last(), Some(&3));
    assert_eq!(caught_up, 1, "one caught_up per conversation");
}
