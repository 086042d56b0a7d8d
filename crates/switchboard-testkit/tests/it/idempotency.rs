//! Retries are safe: a message sent again with the same `client_id` (a flaky network,
//! a double click, a resend after reconnecting) is stored once and answered with the
//! original message, over the visitor socket, the agent socket and REST alike.

use serde::Serialize;
use switchboard_client::{Acked, Socket};
use switchboard_testkit::proto::{AgentIn, AgentOut, Event, EventBody, Reply, Role, VisitorIn, VisitorOut};
use switchboard_testkit::{Api, ConversationFilter, HistoryFilter, TestApp, VisitorSocket, expect_frame};
use uuid::Uuid;

use crate::support::{Frame, Seen, api_token, assert_same, caught_up_agent, visitor_with_conversation};

/// Sends a frame and returns its `ack`, keeping every other frame that arrives meanwhile.
async fn send_for_ack<In: Serialize, Out: Frame>(ws: &mut Socket<In, Out>, frame: &In, client_id: &str, others: &mut Vec<Seen>) -> Acked {
    ws.send(frame).await.unwrap();
    loop {
        match ws.next().await.expect("socket closed before ack").seen() {
            Seen::Ack { client_id: id, acked } if id == client_id => return acked,
            Seen::Error(e) => panic!("{e}"),
            other => others.push(other),
        }
    }
}

/// Reads until an event with `seq`, keeping the frames on the way.
async fn events_until_seq<In: Serialize, Out: Frame>(ws: &mut Socket<In, Out>, seq: i64, frames: &mut Vec<Seen>) {
    loop {
        let f = ws.next().await.expect("socket closed").seen();
        let done = matches!(&f, Seen::Event(e) if e.seq == seq);
        frames.push(f);
        if done {
            return;
        }
    }
}

fn event_seqs(frames: &[Seen]) -> Vec<i64> {
    frames.iter().filter_map(|f| if let Seen::Event(e) = f { Some(e.seq) } else { None }).collect()
}

fn visitor_send(client_id: &str, conversation: Option<Uuid>, body: &str) -> VisitorIn {
    VisitorIn::Send {
        client_id: client_id.into(),
        conversation_id: conversation,
        body: body.into(),
        format: None,
        attachment_ids: vec![],
        pow: None,
        invitation_id: None,
        team_id: None,
    }
}

fn agent_send(client_id: &str, conversation: Uuid, body: &str) -> AgentIn {
    AgentIn::Send {
        client_id: client_id.into(),
        conversation_id: conversation,
        body: body.into(),
        format: None,
        attachment_ids: vec![],
        note: false,
    }
}

async fn history(owner: &Api, conversation: Uuid) -> Vec<Event> {
    owner.history(conversation, &HistoryFilter { after_seq: Some(0), limit: Some(200), ..HistoryFilter::default() }).await.unwrap().items
}

fn count_client_id(history: &[Event], client_id: &str) -> usize {
    history.iter().filter(|e| e.body.message().is_some_and(|m| m.client_id.as_deref() == Some(client_id))).count()
}

#[tokio::test]
async fn a_visitor_resending_with_the_same_client_id_gets_the_same_message_once() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello?").await;
    let mut agent = caught_up_agent(&app, &secret).await;

    let mut seen = vec![];
    let send = visitor_send("retry-1", Some(conv), "Is anyone there?");
    let first = send_for_ack(&mut visitor, &send, "retry-1", &mut seen).await;
    let again = send_for_ack(&mut visitor, &send, "retry-1", &mut seen).await;
    assert!(!first.replayed);
    assert!(again.replayed);
    assert_eq!(first.seq, 3);
    assert_eq!(again.seq, 3);
    assert_eq!(again.conversation_id, conv);
    assert_eq!(again.message.id, first.message.id);
    assert_same(&again.message, &first.message, "the original message, as it was stored");

    // A different message after the retry takes the next seq: nothing was stored in between.
    let next = send_for_ack(&mut visitor, &visitor_send("retry-2", Some(conv), "Hello??"), "retry-2", &mut seen).await;
    assert_eq!((next.seq, next.replayed), (4, false));
    events_until_seq(&mut visitor, 4, &mut seen).await;
    assert_eq!(event_seqs(&seen), [3, 4], "the visitor sees its message echoed once");

    // The team's feed has it once too.
    let mut feed = vec![];
    events_until_seq(&mut agent, 4, &mut feed).await;
    assert_eq!(event_seqs(&feed), [3, 4]);

    let history = history(&owner, conv).await;
    assert_eq!(count_client_id(&history, "retry-1"), 1);
    assert_eq!(history.len(), 4);
}

#[tokio::test]
async fn an_agent_resending_over_the_socket_gets_the_same_message_once() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let (_visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello?").await;
    let mut agent = caught_up_agent(&app, &secret).await;

    let mut seen = vec![];
    let send = agent_send("a-1", conv, "Hi, how can I help?");
    let first = send_for_ack(&mut agent, &send, "a-1", &mut seen).await;
    let again = send_for_ack(&mut agent, &send, "a-1", &mut seen).await;
    assert_eq!((first.replayed, again.replayed), (false, true));
    assert_eq!(first.seq, 3);
    assert_eq!(again.seq, 3);
    assert_same(&again.message, &first.message, "the original message");

    let history = history(&owner, conv).await;
    assert_eq!(count_client_id(&history, "a-1"), 1);
    assert_eq!(history.last().unwrap().seq, 3);
}

#[tokio::test]
async fn a_rest_reply_retried_with_the_same_client_id_returns_the_original() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello?").await;
    let reply = Reply { client_id: Some("r-1".into()), body: "We are on it.".into(), ..Reply::default() };

    let first = owner.reply(conv, &reply).await.unwrap();
    let again = owner.reply(conv, &reply).await.unwrap();
    assert!(!first.replayed);
    assert!(again.replayed);
    assert_eq!(first.events.len(), 1);
    assert_same(&again.events, &first.events, "the same event, id, seq and all");
    assert_eq!(again.events[0].seq, 3);
    assert_eq!(again.conversation.last_seq, 3);

    let history = history(&owner, conv).await;
    assert_eq!(count_client_id(&history, "r-1"), 1);
    assert_eq!(history.len(), 3);
}

#[tokio::test]
async fn an_integration_retrying_over_another_transport_is_still_recognised() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let (_visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello?").await;
    let bot = Api::with_token(app.url(""), &secret);

    let reply = Reply { client_id: Some("bot-1".into()), body: "Ticket #42 opened.".into(), ..Reply::default() };
    let by_rest = bot.reply(conv, &reply).await.unwrap();
    let mut agent = caught_up_agent(&app, &secret).await;
    let by_socket = send_for_ack(&mut agent, &agent_send("bot-1", conv, "Ticket #42 opened."), "bot-1", &mut vec![]).await;
    assert!(by_socket.replayed);
    assert_same(&by_socket.message, &by_rest.events[0].body.message().expect("a message event"), "the message REST stored");
    assert_eq!(count_client_id(&history(&owner, conv).await, "bot-1"), 1);
}

#[tokio::test]
async fn starting_a_conversation_twice_with_the_same_client_id_creates_one_conversation() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let mut agent = caught_up_agent(&app, &secret).await;

    let mut visitor = app.visitor_socket(&seed.site).await;
    let token = visitor.token().to_owned();
    let contact = visitor.contact_id();
    let start = visitor_send("start-1", None, "I need help with my order");
    let mut seen = vec![];
    let first = send_for_ack(&mut visitor, &start, "start-1", &mut seen).await;
    let again = send_for_ack(&mut visitor, &start, "start-1", &mut seen).await;
    assert_eq!((first.replayed, again.replayed), (false, true));
    assert_eq!(again.conversation_id, first.conversation_id);
    assert_same(&again.message, &first.message, "the original message");
    assert_eq!(again.seq, 2);

    // The same retry from a later socket of the same visitor is recognised as well.
    drop(visitor);
    let mut later = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    let Some(VisitorOut::Welcome { conversations, .. }) = &later.welcome else { panic!("no welcome") };
    assert_eq!(conversations.len(), 1);
    let third = send_for_ack(&mut later, &start, "start-1", &mut vec![]).await;
    assert!(third.replayed);
    assert_eq!(third.conversation_id, first.conversation_id);

    // Another visitor's `start-1` is their own message, not this one.
    let mut other = app.visitor_socket(&seed.site).await;
    let theirs = send_for_ack(&mut other, &visitor_send("start-1", None, "Hello from someone else"), "start-1", &mut vec![]).await;
    assert!(!theirs.replayed);
    assert_ne!(theirs.conversation_id, first.conversation_id);

    let mine = owner.conversations(&ConversationFilter { contact_id: Some(contact), ..Default::default() }).await.unwrap();
    assert_eq!(mine.items.len(), 1);
    let all = owner.conversations(&ConversationFilter::default()).await.unwrap();
    assert_eq!(all.items.len(), 2);

    // The team's feed: one start for each visitor, nothing from the retries.
    let mut feed = vec![];
    while feed.len() < 4 {
        let event = expect_frame!(agent, AgentOut::Event { event } => event).unwrap();
        let kind = match event.body {
            EventBody::ConversationStarted => "conversation_started",
            EventBody::Message { .. } => "message",
            ref other => panic!("unexpected {other:?}"),
        };
        feed.push((event.conversation_id, kind));
    }
    let (mine, theirs) = (first.conversation_id, theirs.conversation_id);
    assert_eq!(feed, [(mine, "conversation_started"), (mine, "message"), (theirs, "conversation_started"), (theirs, "message")]);
}
