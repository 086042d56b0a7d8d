//! Timers: a conversation an agent snoozes over REST reopens at its time, and every
//! socket hears it. The test moves the server's clock and runs the due jobs itself.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::{Clock, JobOutcome, ManualClock};
use switchboard_domain::Timestamp;
use switchboard_testkit::proto::{ActorKind, AgentOut, ConversationStatus, Event, EventBody, Role, StatusRequest, VisitorOut};
use switchboard_testkit::{TestApp, expect_frame, proto};
use uuid::Uuid;

use crate::support::{api_token, visitor_with_conversation};

const HOUR: i64 = 3_600_000;

/// An outgoing frame that may carry an event: both sockets' `event` frames.
trait EventFrame {
    fn into_event(self) -> Option<Event>;
}

impl EventFrame for VisitorOut {
    fn into_event(self) -> Option<Event> {
        if let VisitorOut::Event { event } = self { Some(event) } else { None }
    }
}

impl EventFrame for AgentOut {
    fn into_event(self) -> Option<Event> {
        if let AgentOut::Event { event } = self { Some(event) } else { None }
    }
}

/// The next event about `conversation` that changes its status: the event, its status
/// and `snoozed_until`.
async fn next_status_change<In: Serialize, Out: DeserializeOwned + EventFrame>(
    ws: &mut switchboard_client::Socket<In, Out>,
    conversation: Uuid,
) -> (Event, ConversationStatus, Option<i64>) {
    ws.find(|f| match f.into_event() {
        Some(event @ Event { body: EventBody::StatusChanged { status, snoozed_until }, .. }) if event.conversation_id == conversation => {
            Ok((event, status, snoozed_until))
        }
        _ => Err(()),
    })
    .await
    .expect("a status change")
}

#[tokio::test]
async fn a_snoozed_conversation_reopens_on_time_and_the_agent_hears_it() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Call me back tomorrow").await;
    let mut agent = app.agent_socket(&secret).await;
    expect_frame!(agent, AgentOut::CaughtUp { .. }).unwrap();

    let until = clock.now().plus_millis(HOUR).0;
    owner.set_status(conv, &StatusRequest { status: ConversationStatus::Snoozed, snoozed_until: Some(until) }).await.unwrap();
    let (_, status, snoozed_until) = next_status_change(&mut agent, conv).await;
    assert_eq!((status, snoozed_until), (ConversationStatus::Snoozed, Some(until)));
    assert!(app.run_pending_jobs().await.is_empty(), "nothing is due an hour early");

    clock.advance(HOUR);
    let ran = app.run_pending_jobs().await;
    assert_eq!(ran.iter().map(|r| r.outcome.clone()).collect::<Vec<_>>(), [JobOutcome::Done]);

    let (woke, status, _) = next_status_change(&mut agent, conv).await;
    assert_eq!(status, ConversationStatus::Open);
    assert_eq!(woke.actor.kind, ActorKind::System, "{woke:?}");
    assert_eq!(woke.at, until);
    assert_eq!(next_status_change(&mut visitor, conv).await.1, ConversationStatus::Snoozed);
    assert_eq!(next_status_change(&mut visitor, conv).await.1, ConversationStatus::Open, "the visitor hears it too");
    let listed: proto::Conversation = owner.conversation(conv).await.unwrap();
    assert_eq!(listed.status, ConversationStatus::Open, "{listed:?}");
}
