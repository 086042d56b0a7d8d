//! A visitor and an agent chat, in real time, through the real server.

use switchboard_testkit::proto::{ActorKind, AgentOut, CreateApiToken, EventBody, Reply, Role, VisitorOut};
use switchboard_testkit::{TestApp, expect_frame};

#[tokio::test]
async fn a_visitor_and_an_agent_chat() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let token = owner.create_api_token(&CreateApiToken { name: "dash".into(), role: Some(Role::Admin), expires_at: None }).await.unwrap();
    let mut agent = app.agent_socket(&token.secret).await;
    expect_frame!(agent, AgentOut::CaughtUp { .. }).unwrap();

    let mut visitor = app.visitor_socket(&seed.site).await;
    let ack = visitor.say(None, "c-1", "سلام! Is my order shipped?").await.unwrap();
    assert_eq!(ack.message.body, "سلام! Is my order shipped?");

    let started = expect_frame!(agent, AgentOut::Event { event } => event).unwrap();
    assert!(matches!(started.body, EventBody::ConversationStarted), "{started:?}");
    let message = expect_frame!(agent, AgentOut::Event { event } => event).unwrap();
    assert_eq!(message.body.message().expect("a message event").body, "سلام! Is my order shipped?");

    let reply = owner.reply(ack.conversation_id, &Reply { body: "Yes, it left today.".into(), ..Reply::default() }).await.unwrap();
    assert!(matches!(reply.events[..], [switchboard_testkit::proto::Event { body: EventBody::Message { .. }, .. }]), "{reply:?}");
    let event = expect_frame!(visitor, VisitorOut::Event { event } if event.actor.kind == ActorKind::Agent && matches!(event.body, EventBody::Message { .. }) => event).unwrap();
    assert_eq!(event.body.message().unwrap().body, "Yes, it left today.");
    assert_eq!(event.feed_seq, None, "visitors only see conversation cursors");
}
