//! Timers: a conversation an agent snoozes over REST reopens at its time, and every
//! socket hears it. The test moves the server's clock and runs the due jobs itself.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_core::{Clock, JobOutcome, ManualClock};
use switchboard_domain::Timestamp;
use switchboard_testkit::{TestApp, Ws};

use crate::support::{api_token, visitor_with_conversation};

const HOUR: i64 = 3_600_000;

/// The next event frame about `conversation` that changes its status.
async fn next_status_change(ws: &mut Ws, conversation: &str) -> Value {
    loop {
        let frame = ws.expect("event").await;
        if frame["event"]["conversation_id"] == conversation && frame["event"]["kind"] == "status_changed" {
            return frame["event"].clone();
        }
    }
}

#[tokio::test]
async fn a_snoozed_conversation_reopens_on_time_and_the_agent_hears_it() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, "agent").await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Call me back tomorrow").await;
    let mut agent = Ws::agent(app.addr, &secret, None).await;
    agent.expect("caught_up").await;

    let until = clock.now().plus_millis(HOUR).0;
    owner
        .ok(Method::PUT, &format!("/api/v1/conversations/{conv}/status"), Some(json!({"status": "snoozed", "snoozed_until": until})))
        .await;
    let snoozed = next_status_change(&mut agent, &conv).await;
    assert_eq!((&snoozed["status"], &snoozed["snoozed_until"]), (&json!("snoozed"), &json!(until)));
    assert!(app.run_pending_jobs().await.is_empty(), "nothing is due an hour early");

    clock.advance(HOUR);
    let ran = app.run_pending_jobs().await;
    assert_eq!(ran.iter().map(|r| r.outcome.clone()).collect::<Vec<_>>(), [JobOutcome::Done]);

    let woke = next_status_change(&mut agent, &conv).await;
    assert_eq!(woke["status"], "open");
    assert_eq!(woke["actor"]["kind"], "system", "{woke}");
    assert_eq!(woke["at"], json!(until));
    assert_eq!(next_status_change(&mut visitor, &conv).await["status"], "snoozed");
    assert_eq!(next_status_change(&mut visitor, &conv).await["status"], "open", "the visitor hears it too");
    let listed = owner.ok(Method::GET, &format!("/api/v1/conversations/{conv}"), None).await;
    assert_eq!(listed["status"], "open", "{listed}");
}
