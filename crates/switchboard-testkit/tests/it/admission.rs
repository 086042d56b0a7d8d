//! Admission control: a server at its cap on open sockets tells newcomers to come back
//! later (503 with Retry-After) and keeps serving the sockets it has; a flood of
//! handshakes is served a few at a time instead of timing everyone out.

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_core::Limits;
use switchboard_server::ServerConfig;
use switchboard_testkit::{TestApp, Ws};
use tokio_tungstenite::tungstenite;

use crate::support::{api_token, visitor_with_conversation};

/// An upgrade refused before it became a socket: its status, `Retry-After` and JSON body.
async fn refused(url: &str) -> (StatusCode, Option<String>, Value) {
    match Ws::connect(url, None).await {
        Err(tungstenite::Error::Http(response)) => {
            let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body = response.body().as_deref().map(|b| serde_json::from_slice(b).expect("a JSON error body")).unwrap_or(Value::Null);
            (StatusCode::from_u16(response.status().as_u16()).unwrap(), retry_after, body)
        }
        Err(e) => panic!("expected an HTTP answer, got {e}"),
        Ok(_) => panic!("the upgrade was accepted beyond the cap"),
    }
}

/// How many sockets the server has turned away, by kind and reason, from `/metrics`.
async fn refused_count(app: &TestApp, kind: &str, reason: &str) -> u64 {
    let text = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
    let series = format!("switchboard_sockets_refused_total{{kind=\"{kind}\",reason=\"{reason}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&series)).map(|v| v.trim().parse().unwrap()).unwrap_or(0)
}

#[tokio::test]
async fn at_its_socket_cap_the_server_turns_newcomers_away_and_keeps_serving_the_others() {
    let app = TestApp::spawn_with(ServerConfig { max_sockets: 3, ..ServerConfig::default() }, Limits::default()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let mut agent = Ws::agent(app.addr, &secret, None).await;
    agent.expect("caught_up").await;
    let (mut alice, conversation) = visitor_with_conversation(&app, &seed, "a-1", "Hello?").await;
    let bob = app.visitor(&seed.site).await;

    // Three sockets are open: a fourth visitor, and a fourth agent socket, are told to come back.
    let visitor_url = format!("ws://{}/ws/visitor?site={}", app.addr, seed.site.public_key);
    let (status, retry_after, body) = refused(&visitor_url).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after.as_deref(), Some("5"));
    assert_eq!(body["code"], "server_busy", "{body}");
    let (status, retry_after, body) = refused(&format!("ws://{}/ws/agent?access_token={secret}", app.addr)).await;
    assert_eq!((status, retry_after.as_deref(), &body["code"]), (StatusCode::SERVICE_UNAVAILABLE, Some("5"), &json!("server_busy")));
    assert_eq!(refused_count(&app, "visitor", "socket_limit").await, 1);
    assert_eq!(refused_count(&app, "agent", "socket_limit").await, 1);

    // The sockets already open lose nothing.
    agent.expect("event").await; // conversation_started
    agent.expect("event").await; // Alice's first message
    agent.send(json!({"type": "send", "client_id": "s-1", "conversation_id": conversation, "body": "Hi Alice"})).await;
    let reply = loop {
        let f = alice.expect("event").await;
        if f["event"]["kind"] == "message" {
            break f;
        }
    };
    assert_eq!(reply["event"]["message"]["body"], "Hi Alice");
    alice.say(Some(&conversation), "a-2", "Thanks!").await;
    let thanks = loop {
        let f = agent.expect("event").await;
        if f["event"]["kind"] == "message" && f["event"]["message"]["client_id"] == "a-2" {
            break f;
        }
    };
    assert_eq!(thanks["event"]["message"]["body"], "Thanks!");

    // Bob leaves: a visitor who retries gets his place.
    drop(bob);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut carol = loop {
        match Ws::connect(&visitor_url, None).await {
            Ok(ws) => break ws,
            Err(tungstenite::Error::Http(r)) if r.status() == 503 && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("a visitor could not get in after another left: {e}"),
        }
    };
    carol.send(json!({"type": "hello"})).await;
    carol.expect("welcome").await;
}

#[tokio::test]
async fn a_hello_that_waits_too_long_for_its_turn_is_told_to_come_back() {
    // No handshake turn ever frees up, as when a flood of visitors holds them all.
    let config = ServerConfig { max_handshakes: 0, handshake_wait: Duration::from_millis(100), ..ServerConfig::default() };
    let app = TestApp::spawn_with(config, Limits::default()).await;
    let seed = app.seed("acme").await;
    let mut visitor = Ws::connect(&format!("ws://{}/ws/visitor?site={}", app.addr, seed.site.public_key), None).await.unwrap();
    visitor.send(json!({"type": "hello"})).await;
    let f = visitor.expect("error").await;
    assert_eq!(f["code"], "server_busy", "{f}");
    assert_eq!(visitor.closed_with().await, Some(1013), "closed with 'try again later'");
    assert_eq!(refused_count(&app, "visitor", "handshake_busy").await, 1);
}

#[tokio::test]
async fn visitors_arriving_together_are_all_welcomed_one_handshake_at_a_time() {
    let app = TestApp::spawn_with(ServerConfig { max_handshakes: 1, ..ServerConfig::default() }, Limits::default()).await;
    let seed = app.seed("acme").await;
    let visitors = join_all((0..20).map(|_| app.visitor(&seed.site))).await;
    assert!(visitors.iter().all(|v| v.welcome["type"] == "welcome"));
    assert_eq!(refused_count(&app, "visitor", "handshake_busy").await, 0);
}
