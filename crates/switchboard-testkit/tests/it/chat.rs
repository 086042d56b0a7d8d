//! A visitor and an agent chat, in real time, through the real server.

use serde_json::json;
use switchboard_testkit::{TestApp, Ws};

#[tokio::test]
async fn a_visitor_and_an_agent_chat() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let token = owner.ok(reqwest::Method::POST, "/api/v1/api-tokens", Some(json!({"name": "dash", "role": "admin"}))).await;
    let mut agent = Ws::agent(app.addr, token["secret"].as_str().unwrap(), None).await;
    agent.expect("caught_up").await;

    let mut visitor = app.visitor(&seed.site).await;
    let ack = visitor.say(None, "c-1", "سلام! Is my order shipped?").await;
    let conversation = ack["conversation_id"].as_str().unwrap().to_owned();
    assert_eq!(ack["message"]["body"], "سلام! Is my order shipped?");

    let started = agent.expect("event").await;
    assert_eq!(started["event"]["kind"], "conversation_started");
    let message = agent.expect("event").await;
    assert_eq!(message["event"]["message"]["body"], "سلام! Is my order shipped?");

    let reply = owner
        .ok(reqwest::Method::POST, &format!("/api/v1/conversations/{conversation}/messages"), Some(json!({"body": "Yes, it left today."})))
        .await;
    assert_eq!(reply["events"][0]["kind"], "message");
    loop {
        let f = visitor.expect("event").await;
        if f["event"]["kind"] == "message" && f["event"]["actor"]["kind"] == "agent" {
            assert_eq!(f["event"]["message"]["body"], "Yes, it left today.");
            assert!(f["event"].get("feed_seq").is_none(), "visitors only see conversation cursors");
            break;
        }
    }
}
