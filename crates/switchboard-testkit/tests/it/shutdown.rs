//! A graceful stop (a deploy, a restart): every open socket is told to reconnect,
//! with the reason, before it is closed, and the server then stops accepting.

use std::time::Duration;

use serde_json::json;
use switchboard_testkit::TestApp;
use switchboard_testkit::proto::{AgentOut, ReconnectReason, Role, VisitorOut};

use crate::support::{api_token, visitor_with_conversation};

#[tokio::test]
async fn stopping_the_server_tells_open_sockets_to_reconnect_before_closing() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let (mut visitor, _conv) = visitor_with_conversation(&app, &seed, "v-1", "Still there?").await;
    let mut agent = app.agent_socket(&secret).await;
    switchboard_testkit::expect_frame!(agent, AgentOut::CaughtUp { .. }).unwrap();
    let addr = app.addr;

    let stopping = tokio::spawn(app.stop());

    // The frame's exact JSON is part of the protocol: pinned here as the server sends it.
    let goodbye = json!({"type": "reconnect", "reason": "server_shutdown", "retry_after_ms": 1000});
    let f = visitor.next_text().await.expect("the visitor socket closed without a reconnect frame");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&f).unwrap(), goodbye);
    assert!(matches!(
        serde_json::from_str(&f).unwrap(),
        VisitorOut::Reconnect { reason: ReconnectReason::ServerShutdown, retry_after_ms: 1000 }
    ));
    assert_eq!(visitor.closed_with().await.unwrap(), Some(1012));
    let f = agent.next().await.expect("the agent socket closed without a reconnect frame");
    assert!(matches!(f, AgentOut::Reconnect { reason: ReconnectReason::ServerShutdown, retry_after_ms: 1000 }), "{f:?}");
    assert_eq!(agent.closed_with().await.unwrap(), Some(1012));

    tokio::time::timeout(Duration::from_secs(10), stopping).await.expect("the server stops once its sockets are closed").expect("stop");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "a stopped server accepts no connections");
}
