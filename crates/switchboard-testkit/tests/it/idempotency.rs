//! Retries are safe: a message sent again with the same `client_id` (a flaky network,
//! a double click, a resend after reconnecting) is stored once and answered with the
//! original message, over the visitor socket, the agent socket and REST alike.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use switchboard_testkit::{Api, TestApp, Ws};

use crate::support::{api_token, visitor_with_conversation};

/// Sends a frame and returns its `ack`, keeping every other frame that arrives meanwhile.
async fn send_for_ack(ws: &mut Ws, frame: Value, others: &mut Vec<Value>) -> Value {
    let client_id = frame["client_id"].clone();
    ws.send(frame).await;
    loop {
        let f = ws.next().await.expect("socket closed before ack");
        if f["type"] == "ack" && f["client_id"] == client_id {
            return f;
        }
        assert_ne!(f["type"], "error", "{f}");
        others.push(f);
    }
}

/// Reads until an event with `seq`, keeping the frames on the way.
async fn events_until_seq(ws: &mut Ws, seq: i64, frames: &mut Vec<Value>) {
    loop {
        let f = ws.next().await.expect("socket closed");
        let done = f["type"] == "event" && f["event"]["seq"] == seq;
        frames.push(f);
        if done {
            return;
        }
    }
}

fn event_seqs(frames: &[Value]) -> Vec<i64> {
    frames.iter().filter(|f| f["type"] == "event").map(|f| f["event"]["seq"].as_i64().unwrap()).collect()
}

async fn history(owner: &Api, conversation: &str) -> Vec<Value> {
    let page = owner.ok(Method::GET, &format!("/api/v1/conversations/{conversation}/messages?after_seq=0&limit=200"), None).await;
    page["items"].as_array().unwrap().clone()
}

fn count_client_id(history: &[Value], client_id: &str) -> usize {
    history.iter().filter(|e| e["message"]["client_id"] == client_id).count()
}

#[tokio::test]
async fn a_visitor_resending_with_the_same_client_id_gets_the_same_message_once() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello?").await;
    let mut agent = Ws::agent(app.addr, &secret, None).await;
    agent.expect("caught_up").await;

    let mut seen = vec![];
    let send = json!({"type": "send", "client_id": "retry-1", "conversation_id": conv, "body": "Is anyone there?"});
    let first = send_for_ack(&mut visitor, send.clone(), &mut seen).await;
    let again = send_for_ack(&mut visitor, send, &mut seen).await;
    assert_eq!(first["replayed"], false);
    assert_eq!(again["replayed"], true);
    assert_eq!(first["seq"], 3);
    assert_eq!(again["seq"], 3);
    assert_eq!(again["conversation_id"], conv.as_str());
    assert_eq!(again["message"]["id"], first["message"]["id"]);
    assert_eq!(again["message"], first["message"]);

    // A different message after the retry takes the next seq: nothing was stored in between.
    let next =
        send_for_ack(&mut visitor, json!({"type": "send", "client_id": "retry-2", "conversation_id": conv, "body": "Hello??"}), &mut seen)
            .await;
    assert_eq!((next["seq"].as_i64(), next["replayed"].as_bool()), (Some(4), Some(false)));
    events_until_seq(&mut visitor, 4, &mut seen).await;
    assert_eq!(event_seqs(&seen), [3, 4], "the visitor sees its message echoed once");

    // The team's feed has it once too.
    let mut feed = vec![];
    events_until_seq(&mut agent, 4, &mut feed).await;
    assert_eq!(event_seqs(&feed), [3, 4]);

    let history = history(&owner, &conv).await;
    assert_eq!(count_client_id(&history, "retry-1"), 1);
    assert_eq!(history.len(), 4);
}

#[tokio::test]
async fn an_agent_resending_over_the_socket_gets_the_same_message_once() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let (_visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello?").await;
    let mut agent = Ws::agent(app.addr, &secret, None).await;
    agent.expect("caught_up").await;

    let mut seen = vec![];
    let send = json!({"type": "send", "client_id": "a-1", "conversation_id": conv, "body": "Hi, how can I help?"});
    let first = send_for_ack(&mut agent, send.clone(), &mut seen).await;
    let again = send_for_ack(&mut agent, send, &mut seen).await;
    assert_eq!((first["replayed"].as_bool(), again["replayed"].as_bool()), (Some(false), Some(true)));
    assert_eq!(first["seq"], 3);
    assert_eq!(again["seq"], 3);
    assert_eq!(again["message"], first["message"]);

    let history = history(&owner, &conv).await;
    assert_eq!(count_client_id(&history, "a-1"), 1);
    assert_eq!(history.last().unwrap()["seq"], 3);
}

#[tokio::test]
async fn a_rest_reply_retried_with_the_same_client_id_returns_the_original() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (_visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello?").await;
    let path = format!("/api/v1/conversations/{conv}/messages");

    let (s1, first) = owner.post(&path, json!({"client_id": "r-1", "body": "We are on it."})).await;
    let (s2, again) = owner.post(&path, json!({"client_id": "r-1", "body": "We are on it."})).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{first} {again}");
    assert_eq!(first["replayed"], false);
    assert_eq!(again["replayed"], true);
    assert_eq!(first["events"].as_array().unwrap().len(), 1);
    assert_eq!(again["events"], first["events"], "the same event, id, seq and all");
    assert_eq!(again["events"][0]["seq"], 3);
    assert_eq!(again["conversation"]["last_seq"], 3);

    let history = history(&owner, &conv).await;
    assert_eq!(count_client_id(&history, "r-1"), 1);
    assert_eq!(history.len(), 3);
}

#[tokio::test]
async fn an_integration_retrying_over_another_transport_is_still_recognised() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let (_visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello?").await;
    let bot = Api::with_token(app.url(""), &secret);

    let (status, by_rest) =
        bot.post(&format!("/api/v1/conversations/{conv}/messages"), json!({"client_id": "bot-1", "body": "Ticket #42 opened."})).await;
    assert_eq!(status, StatusCode::OK, "{by_rest}");
    let mut agent = Ws::agent(app.addr, &secret, None).await;
    agent.expect("caught_up").await;
    let by_socket = send_for_ack(
        &mut agent,
        json!({"type": "send", "client_id": "bot-1", "conversation_id": conv, "body": "Ticket #42 opened."}),
        &mut vec![],
    )
    .await;
    assert_eq!(by_socket["replayed"], true);
    assert_eq!(by_socket["message"], by_rest["events"][0]["message"]);
    assert_eq!(count_client_id(&history(&owner, &conv).await, "bot-1"), 1);
}

#[tokio::test]
async fn starting_a_conversation_twice_with_the_same_client_id_creates_one_conversation() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let mut agent = Ws::agent(app.addr, &secret, None).await;
    agent.expect("caught_up").await;

    let mut visitor = app.visitor(&seed.site).await;
    let token = visitor.welcome["token"].as_str().unwrap().to_owned();
    let contact = visitor.welcome["contact_id"].as_str().unwrap().to_owned();
    let start = json!({"type": "send", "client_id": "start-1", "body": "I need help with my order"});
    let mut seen = vec![];
    let first = send_for_ack(&mut visitor, start.clone(), &mut seen).await;
    let again = send_for_ack(&mut visitor, start, &mut seen).await;
    assert_eq!((first["replayed"].as_bool(), again["replayed"].as_bool()), (Some(false), Some(true)));
    assert_eq!(again["conversation_id"], first["conversation_id"]);
    assert_eq!(again["message"], first["message"]);
    assert_eq!(again["seq"], 2);

    // The same retry from a later socket of the same visitor is recognised as well.
    drop(visitor);
    let mut later = Ws::visitor(app.addr, &seed.site.public_key, Some(&token), None).await;
    assert_eq!(later.welcome["conversations"].as_array().unwrap().len(), 1);
    let third =
        send_for_ack(&mut later, json!({"type": "send", "client_id": "start-1", "body": "I need help with my order"}), &mut vec![]).await;
    assert_eq!(third["replayed"], true);
    assert_eq!(third["conversation_id"], first["conversation_id"]);

    // Another visitor's `start-1` is their own message, not this one.
    let mut other = app.visitor(&seed.site).await;
    let theirs =
        send_for_ack(&mut other, json!({"type": "send", "client_id": "start-1", "body": "Hello from someone else"}), &mut vec![]).await;
    assert_eq!(theirs["replayed"], false);
    assert_ne!(theirs["conversation_id"], first["conversation_id"]);

    let mine = owner.ok(Method::GET, &format!("/api/v1/conversations?contact_id={contact}"), None).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let all = owner.ok(Method::GET, "/api/v1/conversations", None).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);

    // The team's feed: one start for each visitor, nothing from the retries.
    let mut feed = vec![];
    while feed.len() < 4 {
        let f = agent.expect("event").await;
        feed.push((f["event"]["conversation_id"].as_str().unwrap().to_owned(), f["event"]["kind"].as_str().unwrap().to_owned()));
    }
    let mine = first["conversation_id"].as_str().unwrap().to_owned();
    let theirs = theirs["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(
        feed,
        [
            (mine.clone(), "conversation_started".to_owned()),
            (mine, "message".to_owned()),
            (theirs.clone(), "conversation_started".to_owned()),
            (theirs, "message".to_owned())
        ]
    );
}
