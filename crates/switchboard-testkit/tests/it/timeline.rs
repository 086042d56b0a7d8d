//! How a conversation's timeline moves on its own: read marks travel to the other side
//! and only move forward, and a visitor writing again reopens a resolved conversation.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_testkit::{TestApp, Ws};

use crate::support::{api_token, as_visitor_sees, visitor_with_conversation};

#[tokio::test]
async fn read_marks_travel_both_ways_and_only_move_forward() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hi").await;
    let token = visitor.welcome["token"].as_str().unwrap().to_owned();
    let mut feed = Ws::agent(app.addr, &secret, None).await;
    feed.expect("caught_up").await;
    let c = format!("/api/v1/conversations/{conv}");

    owner.ok(Method::POST, &format!("{c}/messages"), Some(json!({"body": "Hello, how can I help?"}))).await; // 3
    assert_eq!(visitor.expect("event").await["event"]["seq"], 3);
    assert_eq!(feed.expect("event").await["event"]["seq"], 3);

    visitor.send(json!({"type": "receipt", "conversation_id": conv, "kind": "read", "up_to_seq": 3})).await; // 4
    let receipt = feed.expect("event").await["event"].clone();
    assert_eq!(receipt["kind"], "receipt");
    assert_eq!(
        (receipt["seq"].as_i64(), receipt["side"].as_str(), receipt["receipt"].as_str(), receipt["up_to_seq"].as_i64()),
        (Some(4), Some("visitor"), Some("read"), Some(3))
    );
    assert_eq!(visitor.expect("event").await["event"], as_visitor_sees(&receipt), "a receipt goes to both sides");

    // Receipts that move nothing are not recorded: the next event is the next reply.
    visitor.send(json!({"type": "receipt", "conversation_id": conv, "kind": "read", "up_to_seq": 3})).await;
    visitor.send(json!({"type": "receipt", "conversation_id": conv, "kind": "delivered", "up_to_seq": 2})).await;
    visitor.send(json!({"type": "ping"})).await;
    assert_eq!(visitor.expect("pong").await["type"], "pong");
    owner.ok(Method::POST, &format!("{c}/messages"), Some(json!({"body": "Anything else?"}))).await; // 5
    let next = feed.expect("event").await;
    assert_eq!((next["event"]["seq"].as_i64(), next["event"]["kind"].as_str()), (Some(5), Some("message")));

    // The team reads up to the visitor's message, over REST and over the socket.
    let done = owner.ok(Method::POST, &format!("{c}/read"), Some(json!({"up_to_seq": 2}))).await; // 6
    let read = &done["events"][0];
    assert_eq!((read["seq"].as_i64(), read["side"].as_str(), read["up_to_seq"].as_i64()), (Some(6), Some("agent"), Some(2)));
    let seen: Vec<Value> = {
        let mut v = vec![];
        while v.len() < 2 {
            v.push(visitor.expect("event").await["event"].clone());
        }
        v
    };
    assert_eq!(seen[1], as_visitor_sees(read));
    let again = owner.ok(Method::POST, &format!("{c}/read"), Some(json!({"up_to_seq": 1}))).await;
    assert_eq!(again["events"], json!([]), "marks only move forward");
    feed.send(json!({"type": "read", "conversation_id": conv, "up_to_seq": 4})).await; // 7
    let by_socket = visitor.expect("event").await;
    assert_eq!((by_socket["event"]["seq"].as_i64(), by_socket["event"]["up_to_seq"].as_i64()), (Some(7), Some(4)));

    let conversation = owner.ok(Method::GET, &c, None).await;
    assert_eq!(conversation["visitor"], json!({"delivered_seq": 3, "read_seq": 3}));
    assert_eq!(conversation["agent"], json!({"delivered_seq": 4, "read_seq": 4}));
    let later = Ws::visitor(app.addr, &seed.site.public_key, Some(&token), None).await;
    assert_eq!(later.welcome["conversations"][0]["agent_read_seq"], 4);
}

#[tokio::test]
async fn a_visitor_writing_into_a_resolved_conversation_reopens_it() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hi").await;
    let c = format!("/api/v1/conversations/{conv}");
    owner.ok(Method::PUT, &format!("{c}/status"), Some(json!({"status": "resolved"}))).await; // 3
    assert_eq!(visitor.expect("event").await["event"]["status"], "resolved");
    let mut feed = Ws::agent(app.addr, &secret, None).await;
    feed.expect("caught_up").await;

    let ack = visitor.say(Some(&conv), "v-2", "One more thing").await; // 4, then the reopening 5
    assert_eq!(ack["seq"], 4);
    let message = feed.expect("event").await["event"].clone();
    let reopened = feed.expect("event").await["event"].clone();
    assert_eq!((message["seq"].as_i64(), message["kind"].as_str()), (Some(4), Some("message")));
    assert_eq!(
        (reopened["seq"].as_i64(), reopened["kind"].as_str(), reopened["status"].as_str()),
        (Some(5), Some("status_changed"), Some("open"))
    );
    assert_eq!(reopened["actor"], json!({"kind": "system", "id": null}));
    let mut to_visitor = vec![];
    while to_visitor.len() < 2 {
        to_visitor.push(visitor.expect("event").await["event"].clone());
    }
    assert_eq!(to_visitor, [as_visitor_sees(&message), as_visitor_sees(&reopened)]);

    // A retry of the same message reopens nothing again.
    owner.ok(Method::PUT, &format!("{c}/status"), Some(json!({"status": "resolved"}))).await; // 6
    let retry = visitor.say(Some(&conv), "v-2", "One more thing").await;
    assert_eq!((retry["replayed"].as_bool(), retry["seq"].as_i64()), (Some(true), Some(4)));
    let conversation = owner.ok(Method::GET, &c, None).await;
    assert_eq!((conversation["status"].as_str(), conversation["last_seq"].as_i64()), (Some("resolved"), Some(6)));
    let open = owner.ok(Method::GET, "/api/v1/conversations?status=open", None).await;
    assert_eq!(open["items"], json!([]));
}
