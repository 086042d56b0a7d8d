//! One set of rules for a message body on every path that writes one: a visitor's
//! `send`, an agent's reply and note over REST and over the socket, an integration's
//! post with an API token, and canned responses. A body with nothing visible, with NUL
//! or another control character, with a Unicode noncharacter, or over the length limit
//! is refused with `validation_failed` naming `body`, and nothing is stored.

use switchboard_core::Limits;
use switchboard_server::ServerConfig;
use switchboard_testkit::proto::{CannedRequest, ErrorCode, Reply, Role};
use switchboard_testkit::{Api, SocketError, TestApp};
use uuid::Uuid;

use crate::support::{PNG_3X2, api_token, assert_invalid, caught_up_agent, visitor_with_conversation};

/// The longest body these stories allow, so "too long" is short to write.
const MAX: usize = 40;

/// Bodies every path must refuse, and why.
fn refused_bodies() -> Vec<(&'static str, String)> {
    vec![
        ("empty", String::new()),
        ("only spaces and line breaks", " \n\t ".into()),
        ("only zero-width characters", "\u{200B}\u{200C}\u{FEFF}".into()),
        ("only bidi marks and isolates", "\u{200F}\u{2067}\u{2069}\u{200E}".into()),
        ("a NUL inside", "hello\u{0}world".into()),
        ("another control character", "ding\u{7}".into()),
        ("a noncharacter", "hi \u{FFFF}".into()),
        ("a noncharacter of another plane", "hi \u{1FFFE}".into()),
        ("one character too long", "ش".repeat(MAX + 1)),
    ]
}

async fn app() -> TestApp {
    TestApp::spawn_with(ServerConfig::default(), Limits { max_message_chars: MAX, ..Limits::default() }).await
}

fn reply(body: &str) -> Reply {
    Reply { client_id: Some(Uuid::new_v4().to_string()), body: body.into(), ..Reply::default() }
}

#[track_caller]
fn assert_socket_invalid<T: std::fmt::Debug>(got: Result<T, SocketError>, why: &str) {
    match got {
        Err(SocketError::Refused { code: ErrorCode::ValidationFailed, message, .. }) => {
            assert!(message.contains("body"), "{why}: {message}");
        }
        other => panic!("{why}: expected validation_failed, got {other:?}"),
    }
}

#[tokio::test]
async fn every_write_path_refuses_the_same_bodies_and_stores_nothing() {
    let app = app().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, Role::Agent).await;
    let integration = Api::with_token(app.url(""), &secret);
    let (mut visitor, conversation) = visitor_with_conversation(&app, &seed, "v-0", "Hello").await;
    let mut agent = caught_up_agent(&app, &secret).await;
    let stored = owner.history(conversation, &Default::default()).await.unwrap().items.len();

    for (why, body) in refused_bodies() {
        assert_socket_invalid(visitor.say(Some(conversation), &Uuid::new_v4().to_string(), &body).await, why);
        assert_socket_invalid(visitor.say(None, &Uuid::new_v4().to_string(), &body).await, why);
        assert_invalid(owner.reply(conversation, &reply(&body)).await, "body");
        assert_invalid(owner.note(conversation, &reply(&body)).await, "body");
        assert_invalid(integration.reply(conversation, &reply(&body)).await, "body");
        assert_socket_invalid(agent.say(conversation, &Uuid::new_v4().to_string(), &body, false).await, why);
        assert_socket_invalid(agent.say(conversation, &Uuid::new_v4().to_string(), &body, true).await, why);
        let canned = CannedRequest { shortcut: Some("x".into()), body: Some(body.clone()), scope: None };
        assert_invalid(owner.create_canned_response(&canned).await, "body");
    }
    assert_eq!(owner.history(conversation, &Default::default()).await.unwrap().items.len(), stored, "nothing was stored");
    assert_eq!(owner.conversations(&Default::default()).await.unwrap().items.len(), 1, "no conversation was started");
    assert!(owner.canned_responses().await.unwrap().is_empty());
}

#[tokio::test]
async fn bodies_are_trimmed_and_otherwise_kept_exactly_and_files_may_go_without_text() {
    let app = app().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (mut visitor, conversation) = visitor_with_conversation(&app, &seed, "v-0", "Hello").await;

    // At the limit, with marks that belong to the text, once the ends are trimmed.
    let hebrew = format!("\u{200F}{}", "ש".repeat(MAX - 1));
    let acked = visitor.say(Some(conversation), "v-1", &format!("  {hebrew}\n")).await.unwrap();
    assert_eq!(acked.message.body, hebrew);
    let sent = owner.reply(conversation, &reply("  👩\u{200D}💻 on it  ")).await.unwrap();
    assert_eq!(sent.events[0].body.message().unwrap().body, "👩\u{200D}💻 on it");

    // A file with only invisible characters beside it is stored with an empty body.
    let file = owner.upload("red.png", PNG_3X2.to_vec()).await.unwrap();
    let with_file = Reply { attachment_ids: vec![file.id], ..reply("\u{200B} ") };
    let sent = owner.reply(conversation, &with_file).await.unwrap();
    let message = sent.events[0].body.message().unwrap();
    assert_eq!((message.body.as_str(), message.attachments.len()), ("", 1));
    // But never a NUL, even beside a file.
    let with_nul = Reply { attachment_ids: vec![file.id], ..reply("a\u{0}") };
    assert_invalid(owner.reply(conversation, &with_nul).await, "body");
}
