//! A graceful stop (a deploy, a restart): every open socket is told to reconnect,
//! with the reason, before it is closed, and the server then stops accepting.

use std::time::Duration;

use serde_json::json;
use switchboard_testkit::{TestApp, Ws};

use crate::support::{api_token, visitor_with_conversation};

#[tokio::test]
async fn stopping_the_server_tells_open_sockets_to_reconnect_before_closing() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let (mut visitor, _conv) = visitor_with_conversation(&app, &seed, "v-1", "Still there?").await;
    let mut agent = Ws::agent(app.addr, &secret, None).await;
    agent.expect("caught_up").await;
    let addr = app.addr;

    let stopping = tokio::spawn(app.stop());

    let goodbye = json!({"type": "reconnect", "reason": "server_shutdown", "retry_after_ms": 1000});
    let f = visitor.next().await.expect("the visitor socket closed without a reconnect frame");
    assert_eq!(f, goodbye);
    assert_eq!(visitor.closed_with().await, Some(1012));
    let f = agent.next().await.expect("the agent socket closed without a reconnect frame");
    assert_eq!(f, goodbye);
    assert_eq!(agent.closed_with().await, Some(1012));

    tokio::time::timeout(Duration::from_secs(10), stopping).await.expect("the server stops once its sockets are closed").expect("stop");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "a stopped server accepts no connections");
}
