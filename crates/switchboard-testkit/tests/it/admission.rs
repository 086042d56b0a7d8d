//! Admission control: a server at its cap on open sockets tells newcomers to come back
//! later (503 with Retry-After) and keeps serving the sockets it has; a flood of
//! handshakes is served a few at a time instead of timing everyone out.

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::StatusCode;
use switchboard_core::Limits;
use switchboard_server::ServerConfig;
use switchboard_testkit::proto::{AgentIn, AgentOut, ErrorCode, Event, EventBody, Role, VisitorIn, VisitorOut};
use switchboard_testkit::{SocketError, TestApp, VisitorSocket, expect_frame};
use tokio_tungstenite::tungstenite;

use crate::support::{api_token, caught_up_agent, visitor_with_conversation};

/// An upgrade refused before it became a socket: its status, `Retry-After` and error code.
async fn refused(url: &str) -> (StatusCode, Option<String>, ErrorCode) {
    match VisitorSocket::connect(url, &[]).await {
        Err(SocketError::WebSocket(tungstenite::Error::Http(response))) => {
            let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body: switchboard_testkit::proto::ErrorBody =
                serde_json::from_slice(response.body().as_deref().unwrap_or_default()).expect("a JSON error body");
            (StatusCode::from_u16(response.status().as_u16()).unwrap(), retry_after, body.code)
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

/// The body of a message event, if `event` is one.
fn message_body(event: &Event) -> Option<&str> {
    match &event.body {
        EventBody::Message { message } => Some(&message.body),
        _ => None,
    }
}

#[tokio::test]
async fn at_its_socket_cap_the_server_turns_newcomers_away_and_keeps_serving_the_others() {
    let app = TestApp::spawn_with(ServerConfig { max_sockets: 3, ..ServerConfig::default() }, Limits::default()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let mut agent = caught_up_agent(&app, &secret).await;
    let (mut alice, conversation) = visitor_with_conversation(&app, &seed, "a-1", "Hello?").await;
    let bob = app.visitor_socket(&seed.site).await;

    // Three sockets are open: a fourth visitor, and a fourth agent socket, are told to come back.
    let visitor_url = format!("ws://{}/ws/visitor?site={}", app.addr, seed.site.public_key);
    let (status, retry_after, code) = refused(&visitor_url).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after.as_deref(), Some("5"));
    assert_eq!(code, ErrorCode::ServerBusy);
    let (status, retry_after, code) = refused(&format!("ws://{}/ws/agent?access_token={secret}", app.addr)).await;
    assert_eq!((status, retry_after.as_deref(), code), (StatusCode::SERVICE_UNAVAILABLE, Some("5"), ErrorCode::ServerBusy));
    assert_eq!(refused_count(&app, "visitor", "socket_limit").await, 1);
    assert_eq!(refused_count(&app, "agent", "socket_limit").await, 1);

    // The sockets already open lose nothing.
    let started = expect_frame!(agent, AgentOut::Event { event } => event).unwrap();
    assert!(matches!(started.body, EventBody::ConversationStarted), "{started:?}");
    let first = expect_frame!(agent, AgentOut::Event { event } => event).unwrap();
    assert_eq!(message_body(&first), Some("Hello?"), "Alice's first message");
    let hi = AgentIn::Send {
        client_id: "s-1".into(),
        conversation_id: conversation,
        body: "Hi Alice".into(),
        format: None,
        attachment_ids: vec![],
        note: false,
    };
    agent.send(&hi).await.unwrap();
    let reply = expect_frame!(alice, VisitorOut::Event { event } if message_body(&event).is_some() => event).unwrap();
    assert_eq!(message_body(&reply), Some("Hi Alice"));
    alice.say(Some(conversation), "a-2", "Thanks!").await.unwrap();
    let thanks = expect_frame!(
        agent,
        AgentOut::Event { event } if event.body.message().is_some_and(|m| m.client_id.as_deref() == Some("a-2")) => event
    )
    .unwrap();
    assert_eq!(message_body(&thanks), Some("Thanks!"));

    // Bob leaves: a visitor who retries gets his place.
    drop(bob);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut carol = loop {
        match VisitorSocket::connect(&visitor_url, &[]).await {
            Ok(ws) => break ws,
            Err(SocketError::WebSocket(tungstenite::Error::Http(r))) if r.status() == 503 && Instant::now() < deadline => {
                // A client backs off before it retries; the server frees the place when it sees Bob's socket close.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("a visitor could not get in after another left: {e}"),
        }
    };
    carol.hello(None, vec![]).await.expect("welcome");
}

#[tokio::test]
async fn a_hello_that_waits_too_long_for_its_turn_is_told_to_come_back() {
    // No handshake turn ever frees up, as when a flood of visitors holds them all.
    let config = ServerConfig { max_handshakes: 0, handshake_wait: Duration::from_millis(100), ..ServerConfig::default() };
    let app = TestApp::spawn_with(config, Limits::default()).await;
    let seed = app.seed("acme").await;
    let mut visitor = VisitorSocket::connect_site(&app.url(""), &seed.site.public_key, None).await.unwrap();
    visitor.send(&VisitorIn::Hello { token: None, resume: vec![] }).await.unwrap();
    let code = expect_frame!(visitor, VisitorOut::Error { code, .. } => code).unwrap();
    assert_eq!(code, ErrorCode::ServerBusy);
    assert_eq!(visitor.closed_with().await.unwrap(), Some(1013), "closed with 'try again later'");
    assert_eq!(refused_count(&app, "visitor", "handshake_busy").await, 1);
}

#[tokio::test]
async fn visitors_arriving_together_are_all_welcomed_one_handshake_at_a_time() {
    let app = TestApp::spawn_with(ServerConfig { max_handshakes: 1, ..ServerConfig::default() }, Limits::default()).await;
    let seed = app.seed("acme").await;
    let visitors = join_all((0..20).map(|_| app.visitor_socket(&seed.site))).await;
    assert!(visitors.iter().all(|v| matches!(v.welcome, Some(VisitorOut::Welcome { .. }))));
    assert_eq!(refused_count(&app, "visitor", "handshake_busy").await, 0);
}
