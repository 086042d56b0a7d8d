//! How a conversation's timeline moves on its own: read marks travel to the other side
//! and only move forward, and a visitor writing again reopens a resolved conversation.

use switchboard_testkit::proto::{
    ActorKind, AgentIn, AgentOut, ConversationStatus, Event, EventBody, ReadRequest, ReceiptKind, Reply, Role, Side, StatusRequest,
    VisitorIn, VisitorOut,
};
use switchboard_testkit::{AgentSocket, ConversationFilter, TestApp, VisitorSocket, expect_frame};

use crate::support::{api_token, as_visitor_sees, assert_same, caught_up_agent, visitor_with_conversation};

async fn next_event(visitor: &mut VisitorSocket) -> Event {
    expect_frame!(visitor, VisitorOut::Event { event } => event).expect("an event")
}

async fn next_feed_event(feed: &mut AgentSocket) -> Event {
    expect_frame!(feed, AgentOut::Event { event } => event).expect("an event")
}

fn reply(body: &str) -> Reply {
    Reply { body: body.into(), ..Reply::default() }
}

fn status(status: ConversationStatus) -> StatusRequest {
    StatusRequest { status, snoozed_until: None }
}

#[tokio::test]
async fn read_marks_travel_both_ways_and_only_move_forward() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hi").await;
    let token = visitor.token().to_owned();
    let mut feed = caught_up_agent(&app, &secret).await;

    owner.reply(conv, &reply("Hello, how can I help?")).await.unwrap(); // 3
    assert_eq!(next_event(&mut visitor).await.seq, 3);
    assert_eq!(next_feed_event(&mut feed).await.seq, 3);

    let read = |kind, up_to_seq| VisitorIn::Receipt { conversation_id: conv, kind, up_to_seq };
    visitor.send(&read(ReceiptKind::Read, 3)).await.unwrap(); // 4
    let receipt = next_feed_event(&mut feed).await;
    let EventBody::Receipt { side, receipt: kind, up_to_seq } = receipt.body.clone() else { panic!("not a receipt: {receipt:?}") };
    assert_eq!((receipt.seq, side, kind, up_to_seq), (4, Side::Visitor, ReceiptKind::Read, 3));
    assert_same(&next_event(&mut visitor).await, &as_visitor_sees(&receipt), "a receipt goes to both sides");

    // Receipts that move nothing are not recorded: the next event is the next reply.
    visitor.send(&read(ReceiptKind::Read, 3)).await.unwrap();
    visitor.send(&read(ReceiptKind::Delivered, 2)).await.unwrap();
    visitor.send(&VisitorIn::Ping).await.unwrap();
    expect_frame!(visitor, VisitorOut::Pong).unwrap();
    owner.reply(conv, &reply("Anything else?")).await.unwrap(); // 5
    let next = next_feed_event(&mut feed).await;
    assert!(matches!(next, Event { seq: 5, body: EventBody::Message { .. }, .. }), "{next:?}");

    // The team reads up to the visitor's message, over REST and over the socket.
    let done = owner.read(conv, &ReadRequest { up_to_seq: 2 }).await.unwrap(); // 6
    let [read_by_team] = &done.events[..] else { panic!("one event: {done:?}") };
    let EventBody::Receipt { side, up_to_seq, .. } = read_by_team.body else { panic!("not a receipt: {read_by_team:?}") };
    assert_eq!((read_by_team.seq, side, up_to_seq), (6, Side::Agent, 2));
    let _reply = next_event(&mut visitor).await;
    assert_same(&next_event(&mut visitor).await, &as_visitor_sees(read_by_team), "the visitor hears the team's read mark");
    let again = owner.read(conv, &ReadRequest { up_to_seq: 1 }).await.unwrap();
    assert!(again.events.is_empty(), "marks only move forward: {again:?}");
    feed.send(&AgentIn::Read { conversation_id: conv, up_to_seq: 4 }).await.unwrap(); // 7
    let by_socket = next_event(&mut visitor).await;
    assert!(matches!(by_socket, Event { seq: 7, body: EventBody::Receipt { up_to_seq: 4, .. }, .. }), "{by_socket:?}");

    let conversation = owner.conversation(conv).await.unwrap();
    assert_eq!((conversation.visitor.delivered_seq, conversation.visitor.read_seq), (3, 3));
    assert_eq!((conversation.agent.delivered_seq, conversation.agent.read_seq), (4, 4));
    let later = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    let Some(VisitorOut::Welcome { conversations, .. }) = &later.welcome else { panic!("no welcome") };
    assert_eq!(conversations[0].agent_read_seq, 4);
}

#[tokio::test]
async fn a_visitor_writing_into_a_resolved_conversation_reopens_it() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hi").await;
    owner.set_status(conv, &status(ConversationStatus::Resolved)).await.unwrap(); // 3
    let resolved = next_event(&mut visitor).await;
    assert!(matches!(resolved.body, EventBody::StatusChanged { status: ConversationStatus::Resolved, .. }), "{resolved:?}");
    let mut feed = caught_up_agent(&app, &secret).await;

    let ack = visitor.say(Some(conv), "v-2", "One more thing").await.unwrap(); // 4, then the reopening 5
    assert_eq!(ack.seq, 4);
    let message = next_feed_event(&mut feed).await;
    let reopened = next_feed_event(&mut feed).await;
    assert!(matches!(message, Event { seq: 4, body: EventBody::Message { .. }, .. }), "{message:?}");
    assert!(
        matches!(reopened, Event { seq: 5, body: EventBody::StatusChanged { status: ConversationStatus::Open, .. }, .. }),
        "{reopened:?}"
    );
    assert_eq!((reopened.actor.kind, reopened.actor.id), (ActorKind::System, None));
    let to_visitor = [next_event(&mut visitor).await, next_event(&mut visitor).await];
    assert_same(&to_visitor, &[as_visitor_sees(&message), as_visitor_sees(&reopened)], "the visitor sees both");

    // A retry of the same message reopens nothing again.
    owner.set_status(conv, &status(ConversationStatus::Resolved)).await.unwrap(); // 6
    let retry = visitor.say(Some(conv), "v-2", "One more thing").await.unwrap();
    assert_eq!((retry.replayed, retry.seq), (true, 4));
    let conversation = owner.conversation(conv).await.unwrap();
    assert_eq!((conversation.status, conversation.last_seq), (ConversationStatus::Resolved, 6));
    let open = owner.conversations(&ConversationFilter { status: Some(ConversationStatus::Open), ..Default::default() }).await.unwrap();
    assert!(open.items.is_empty(), "{open:?}");
}
