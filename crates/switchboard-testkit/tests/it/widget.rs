//! What the visitor widget needs from the server: the launcher before any socket, the
//! site's widget settings, unread counts every tab agrees on, ratings, transcripts,
//! tracked events, identify without a hash, the chat page's QR code, and offline messages.

use reqwest::StatusCode;
use serde_json::json;
use switchboard_core::Limits;
use switchboard_server::ServerConfig;
use switchboard_testkit::proto::{
    AgentOut, Appearance, ConversationStatus, ErrorCode, EventBody, ReceiptKind, Reply, ReplyTime, Role, SiteRequest, StatusRequest,
    VisitorIn, VisitorOut,
};
use switchboard_testkit::{Api, ClientError, TestApp, VisitorSocket, expect_frame};
use uuid::Uuid;

use crate::support::raw::assert_invalid_field;
use crate::support::{agent_socket_with_cookie, api_token, new_agent, session_cookie, visitor_with_conversation};

/// The `error` frame that answers a refused frame: its code, message and `ref`.
async fn refused(ws: &mut VisitorSocket) -> (ErrorCode, String, Option<String>) {
    expect_frame!(ws, VisitorOut::Error { code, message, reference, .. } => (code, message, reference)).expect("error frame")
}

/// Frames are handled in order: once `pong` is back, everything sent before it was handled.
async fn handled(ws: &mut VisitorSocket) {
    ws.send(&VisitorIn::Ping).await.unwrap();
    expect_frame!(ws, VisitorOut::Pong => ()).expect("pong");
}

fn api_code(e: ClientError) -> (u16, ErrorCode) {
    match e {
        ClientError::Api { status, body } => (status, body.code),
        e => panic!("expected an API error, got {e}"),
    }
}

async fn resolve(owner: &Api, conv: Uuid) {
    owner.set_status(conv, &StatusRequest { status: ConversationStatus::Resolved, snoozed_until: None }).await.unwrap();
}

#[tokio::test]
async fn the_launcher_shows_who_is_online_before_any_socket_opens() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    for email in ["bora@acme.example", "cem@acme.example", "zeynep@acme.example"] {
        new_agent(&app, &owner, email, Role::Agent).await;
    }
    let anonymous = Api::new(app.url(""));

    let launcher = anonymous.widget_site(&seed.site.public_key).await.unwrap();
    assert_eq!((launcher.id, launcher.agents_online), (seed.site.id.0, 0));
    assert_eq!(launcher.agents.len(), 3, "at most three of the four agents");
    assert_eq!(launcher.appearance.reply_time, ReplyTime::Hours, "the default promise");
    assert!(!launcher.appearance.title_badge && !launcher.appearance.require_identity);

    // Zeynep comes last by name, but she is the one online: she comes first.
    let (cookie, _) = session_cookie(&app, "zeynep@acme.example", "another good password").await;
    let zeynep = agent_socket_with_cookie(&app, &cookie).await;
    let launcher = anonymous.widget_site(&seed.site.public_key).await.unwrap();
    assert_eq!(launcher.agents_online, 1);
    assert_eq!(launcher.agents[0].id, zeynep.agent_id());
    assert_eq!(launcher.agents[0].name, "agent zeynep@acme.example");

    let missing = anonymous.widget_site("pk_nobody").await.unwrap_err();
    assert_eq!(api_code(missing), (404, ErrorCode::SiteNotFound));
}

#[tokio::test]
async fn the_widget_settings_are_saved_shown_to_visitors_and_checked() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let mut appearance = owner.site(seed.site.id.0).await.unwrap().appearance;
    appearance.reply_time = ReplyTime::Minutes;
    appearance.title_badge = true;
    appearance.require_identity = true;
    let change = SiteRequest { appearance: Some(appearance.clone()), ..SiteRequest::default() };
    let saved = owner.update_site(seed.site.id.0, &change).await.unwrap().appearance;
    assert_eq!((saved.reply_time, saved.title_badge, saved.require_identity), (ReplyTime::Minutes, true, true));

    let shown = Api::new(app.url("")).widget_site(&seed.site.public_key).await.unwrap().appearance;
    assert_eq!((shown.reply_time, shown.title_badge, shown.require_identity), (ReplyTime::Minutes, true, true));
    let visitor = app.visitor_socket(&seed.site).await;
    let Some(VisitorOut::Welcome { site, .. }) = &visitor.welcome else { panic!("no welcome") };
    assert_eq!(site.appearance.reply_time, ReplyTime::Minutes, "welcome.site says the same");

    let mut bad = serde_json::to_value(&appearance).unwrap();
    bad["reply_time"] = json!("weeks");
    let got = owner.patch(&format!("/api/v1/sites/{}", seed.site.id), json!({"appearance": bad})).await;
    assert_invalid_field(&got, "appearance.reply_time");
    bad["reply_time"] = json!("day");
    bad["title_badge"] = json!("yes");
    let got = owner.patch(&format!("/api/v1/sites/{}", seed.site.id), json!({"appearance": bad})).await;
    assert_invalid_field(&got, "appearance.title_badge");
    let kept: Appearance = owner.site(seed.site.id.0).await.unwrap().appearance;
    assert_eq!(kept.reply_time, ReplyTime::Minutes, "a refused change changes nothing");
}

#[tokio::test]
async fn unread_comes_from_the_visitors_read_mark_and_every_tab_learns_when_it_moves() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (mut first_tab, conv) = visitor_with_conversation(&app, &seed, "v-1", "Where is my order?").await;
    owner.reply(conv, &Reply { body: "Let me look.".into(), ..Reply::default() }).await.unwrap();
    let done = owner.reply(conv, &Reply { body: "It left today.".into(), ..Reply::default() }).await.unwrap();
    let last_reply = done.events[0].seq;
    let mut note = Reply { body: "internal".into(), ..Reply::default() };
    note.client_id = Some("n-1".into());
    owner.note(conv, &note).await.unwrap();
    for _ in 0..2 {
        expect_frame!(first_tab, VisitorOut::Event { event } if event.body.message().is_some() => ()).unwrap();
    }

    // A new tab does not clear the count: it reads the same marks.
    let token = first_tab.token().to_owned();
    let mut second_tab = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    let Some(VisitorOut::Welcome { conversations, .. }) = &second_tab.welcome else { panic!("no welcome") };
    assert_eq!((conversations[0].id, conversations[0].unread, conversations[0].visitor_read_seq), (conv, 2, 0), "notes do not count");

    first_tab.send(&VisitorIn::Receipt { conversation_id: conv, kind: ReceiptKind::Read, up_to_seq: last_reply }).await.unwrap();
    for tab in [&mut first_tab, &mut second_tab] {
        let mark = expect_frame!(tab, VisitorOut::ReadMark { conversation_id, up_to_seq, unread } => (conversation_id, up_to_seq, unread));
        assert_eq!(mark.unwrap(), (conv, last_reply, 0));
    }
    let third_tab = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    let Some(VisitorOut::Welcome { conversations, .. }) = &third_tab.welcome else { panic!("no welcome") };
    assert_eq!((conversations[0].unread, conversations[0].visitor_read_seq), (0, last_reply));

    // A mark beyond the conversation is refused, naming the conversation.
    first_tab.send(&VisitorIn::Receipt { conversation_id: conv, kind: ReceiptKind::Read, up_to_seq: 999 }).await.unwrap();
    let (code, message, reference) = refused(&mut first_tab).await;
    assert_eq!((code, reference), (ErrorCode::ValidationFailed, Some(conv.to_string())));
    assert!(message.contains("up_to_seq"), "{message}");
}

#[tokio::test]
async fn a_visitor_rates_a_resolved_conversation_and_the_team_sees_it() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let token = api_token(&owner, Role::Agent).await;
    let mut feed = app.agent_socket(&token).await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello").await;
    let rate = |score, comment: Option<&str>| VisitorIn::Rate { conversation_id: conv, score, comment: comment.map(Into::into) };

    visitor.send(&rate(5, None)).await.unwrap();
    let (code, _, reference) = refused(&mut visitor).await;
    assert_eq!((code, reference), (ErrorCode::ConversationNotResolved, Some(conv.to_string())));

    resolve(&owner, conv).await;
    for (bad, field) in [(rate(0, None), "score"), (rate(6, None), "score"), (rate(4, Some(&"x".repeat(2001))), "comment")] {
        visitor.send(&bad).await.unwrap();
        let (code, message, _) = refused(&mut visitor).await;
        assert_eq!(code, ErrorCode::ValidationFailed);
        assert!(message.starts_with(field), "{message}");
    }
    let stranger = app.visitor_socket(&seed.site).await;
    let mut stranger = stranger;
    stranger.send(&rate(1, None)).await.unwrap();
    assert_eq!(refused(&mut stranger).await.0, ErrorCode::ConversationNotFound, "someone else's conversation");

    visitor.send(&rate(4, Some("Quick and kind, teşekkürler"))).await.unwrap();
    let rated = |event: &switchboard_testkit::proto::Event| match &event.body {
        EventBody::ConversationRated { score, comment } => Some((*score, comment.clone())),
        _ => None,
    };
    let seen = expect_frame!(visitor, VisitorOut::Event { event } if rated(&event).is_some() => rated(&event)).unwrap();
    assert_eq!(seen, Some((4, Some("Quick and kind, teşekkürler".into()))));
    let heard = expect_frame!(feed, AgentOut::Event { event } if rated(&event).is_some() => rated(&event)).unwrap();
    assert_eq!(heard, seen, "the agents' feed hears it too");
    let rating = owner.conversation(conv).await.unwrap().rating.expect("a rating");
    assert_eq!((rating.score, rating.comment.as_deref()), (4, Some("Quick and kind, teşekkürler")));

    visitor.send(&rate(5, None)).await.unwrap();
    expect_frame!(visitor, VisitorOut::Event { event } if rated(&event) == Some((5, None)) => ()).unwrap();
    let rating = owner.conversation(conv).await.unwrap().rating.expect("a rating");
    assert_eq!((rating.score, rating.comment), (5, None), "rating again replaces");
}

#[tokio::test]
async fn a_transcript_request_is_stored_for_the_email_channel() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let (mut visitor, conv) = visitor_with_conversation(&app, &seed, "v-1", "Hello").await;

    visitor.send(&VisitorIn::Transcript { conversation_id: conv, email: "not an address".into() }).await.unwrap();
    let (code, message, reference) = refused(&mut visitor).await;
    assert_eq!((code, reference), (ErrorCode::ValidationFailed, Some(conv.to_string())));
    assert!(message.starts_with("email"), "{message}");
    let mut stranger = app.visitor_socket(&seed.site).await;
    stranger.send(&VisitorIn::Transcript { conversation_id: conv, email: "eve@example.com".into() }).await.unwrap();
    assert_eq!(refused(&mut stranger).await.0, ErrorCode::ConversationNotFound);

    visitor.send(&VisitorIn::Transcript { conversation_id: conv, email: " Leyla@Example.com ".into() }).await.unwrap();
    let answered = expect_frame!(visitor, VisitorOut::TranscriptRequested { conversation_id } => conversation_id).unwrap();
    assert_eq!(answered, conv);
    let stored = app.core.store.transcript_requests(seed.workspace.id, switchboard_domain::ConversationId(conv)).await.unwrap();
    assert_eq!(stored.len(), 1, "only the visitor's own, valid request");
    assert_eq!(stored[0].email.as_str(), "leyla@example.com");
    assert_eq!(stored[0].sent_at, None, "sent later by the e-mail channel");
}

#[tokio::test]
async fn tracked_events_are_kept_on_the_contact_and_listed_newest_first() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let mut visitor = app.visitor_socket(&seed.site).await;
    let contact = visitor.contact_id();
    let track = |name: &str, data: serde_json::Value| VisitorIn::Track { name: name.into(), data: serde_json::from_value(data).unwrap() };
    for (i, name) in ["viewed_pricing", "started_trial", "invited_team"].into_iter().enumerate() {
        visitor.send(&track(name, json!({"step": i, "plan": "pro", "annual": true}))).await.unwrap();
        handled(&mut visitor).await;
    }
    let too_many: serde_json::Map<String, serde_json::Value> = (0..21).map(|i| (format!("k{i}"), json!(i))).collect();
    for (bad, field) in [
        (track("  ", json!({})), "name"),
        (track(&"n".repeat(101), json!({})), "name"),
        (track("ok", serde_json::Value::Object(too_many)), "data"),
        (track("ok", json!({"cart": {"items": 2}})), "data"),
        (track("ok", json!({"coupon": null})), "data"),
    ] {
        visitor.send(&bad).await.unwrap();
        let (code, message, _) = refused(&mut visitor).await;
        assert_eq!(code, ErrorCode::ValidationFailed);
        assert!(message.starts_with(field), "{message}");
    }

    let page = |cursor: Option<String>| switchboard_client::PageQuery { cursor, limit: Some(2) };
    let first = owner.contact_events(contact, &page(None)).await.unwrap();
    let names: Vec<_> = first.items.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["invited_team", "started_trial"]);
    assert_eq!(first.items[0].data, serde_json::from_value(json!({"step": 2.0, "plan": "pro", "annual": true})).unwrap());
    let second = owner.contact_events(contact, &page(first.next_cursor.clone())).await.unwrap();
    assert_eq!(second.items.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["viewed_pricing"]);
    assert_eq!(second.next_cursor, None, "the last page");

    let got = owner.get(&format!("/api/v1/contacts/{contact}/events?cursor=yesterday")).await;
    assert_invalid_field(&got, "cursor");
    let missing = owner.contact_events(Uuid::now_v7(), &page(None)).await.unwrap_err();
    assert_eq!(api_code(missing), (404, ErrorCode::ContactNotFound));
    let other = app.seed("elsewhere").await;
    let outsider = app.owner(&other).await;
    let foreign = outsider.contact_events(contact, &page(None)).await.unwrap_err();
    assert_eq!(api_code(foreign), (404, ErrorCode::ContactNotFound), "another workspace's contact does not exist");
}

#[tokio::test]
async fn identify_without_a_hash_sets_the_profile_but_never_claims_a_user() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    // Ana is a known user, identified with a hash on her laptop.
    let mut laptop = app.visitor_socket(&seed.site).await;
    let user_hash = switchboard_core::auth::identity_hash(&seed.site.identity_secret, "user-42");
    let with_hash = VisitorIn::Identify { external_id: "user-42".into(), user_hash: Some(user_hash), name: None, email: None, phone: None };
    laptop.send(&with_hash).await.unwrap();
    expect_frame!(laptop, VisitorOut::Identified { .. } => ()).unwrap();

    // Someone else claims her id without the hash: only their own profile changes.
    let mut stranger = app.visitor_socket(&seed.site).await;
    let claim = VisitorIn::Identify {
        external_id: "user-42".into(),
        user_hash: None,
        name: Some("Not Ana".into()),
        email: Some("eve@example.com".into()),
        phone: Some("+90 555 000 00 00".into()),
    };
    stranger.send(&claim).await.unwrap();
    let (contact_id, token) = expect_frame!(stranger, VisitorOut::Identified { contact_id, token, .. } => (contact_id, token)).unwrap();
    assert_eq!(contact_id, stranger.contact_id(), "still their own contact");
    let contact = owner.contact(contact_id).await.unwrap();
    assert_eq!(
        (contact.external_id, contact.name.as_deref(), contact.email.as_deref(), contact.phone.as_deref()),
        (None, Some("Not Ana"), Some("eve@example.com"), Some("+90 555 000 00 00"))
    );
    let again = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    assert_eq!(again.contact_id(), contact_id, "the fresh token names the same contact");

    let VisitorIn::Identify { external_id, .. } = &claim else { unreachable!() };
    stranger
        .send(&VisitorIn::Identify {
            external_id: external_id.clone(),
            user_hash: None,
            name: None,
            email: Some("nope".into()),
            phone: None,
        })
        .await
        .unwrap();
    let (code, message, _) = refused(&mut stranger).await;
    assert_eq!(code, ErrorCode::ValidationFailed);
    assert!(message.starts_with("email"), "{message}");

    // A site that requires identity refuses it.
    let mut appearance = owner.site(seed.site.id.0).await.unwrap().appearance;
    appearance.require_identity = true;
    owner.update_site(seed.site.id.0, &SiteRequest { appearance: Some(appearance), ..SiteRequest::default() }).await.unwrap();
    let mut strict = app.visitor_socket(&seed.site).await;
    strict.send(&claim).await.unwrap();
    assert_eq!(refused(&mut strict).await.0, ErrorCode::IdentityRequired);
    assert_eq!(owner.contact(strict.contact_id()).await.unwrap().name, None, "nothing was set");
    strict.send(&with_hash).await.unwrap();
    let ana = expect_frame!(strict, VisitorOut::Identified { contact_id, .. } => contact_id).unwrap();
    assert_eq!(ana, laptop.contact_id(), "with the hash it works as before");
}

/// The QR code the server should send for `url`, rendered as the server renders it.
fn qr_of(url: &str) -> String {
    use qrcode::render::svg;
    qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .unwrap()
        .render::<svg::Color>()
        .min_dimensions(256, 256)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build()
}

#[tokio::test]
async fn the_chat_page_link_comes_as_a_qr_code_for_every_role_of_the_workspace() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let (content_type, svg) = owner.site_qr(seed.site.id.0).await.unwrap();
    assert_eq!(content_type, "image/svg+xml");
    let own = format!("http://{}/chat/{}", app.addr, seed.site.public_key);
    assert_eq!(svg, qr_of(&own), "the link is built from the request's Host");
    let (_, agent) = new_agent(&app, &owner, "bora@acme.example", Role::Agent).await;
    assert_eq!(agent.site_qr(seed.site.id.0).await.unwrap().1, svg, "an agent may fetch it too");

    let other = app.seed("elsewhere").await;
    let outsider = app.owner(&other).await;
    assert_eq!(api_code(outsider.site_qr(seed.site.id.0).await.unwrap_err()), (404, ErrorCode::SiteNotFound));
    assert_eq!(api_code(Api::new(app.url("")).site_qr(seed.site.id.0).await.unwrap_err()), (401, ErrorCode::Unauthenticated));
    let got = owner.get("/api/v1/sites/not-an-id/qr.svg").await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST, "{}", got.1);

    let config = ServerConfig { public_url: Some("https://chat.acme.example".into()), ..ServerConfig::default() };
    let app = TestApp::spawn_with(config, Limits::default()).await;
    let seed = app.seed("acme").await;
    let (_, svg) = app.owner(&seed).await.site_qr(seed.site.id.0).await.unwrap();
    assert_eq!(svg, qr_of(&format!("https://chat.acme.example/chat/{}", seed.site.public_key)), "server.public_url wins");
}

#[tokio::test]
async fn a_message_left_while_nobody_is_online_reaches_the_team() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    assert_eq!(Api::new(app.url("")).widget_site(&seed.site.public_key).await.unwrap().agents_online, 0);

    // The offline form: the visitor's e-mail, then the message.
    let mut visitor = app.visitor_socket(&seed.site).await;
    let Some(VisitorOut::Welcome { agents_online, .. }) = &visitor.welcome else { panic!("no welcome") };
    assert_eq!(*agents_online, 0);
    let profile = VisitorIn::Profile { name: None, email: Some("leyla@example.com".into()), phone: None, attributes: Default::default() };
    visitor.send(&profile).await.unwrap();
    let conv = visitor.say(None, "offline-1", "Please call me back tomorrow").await.unwrap().conversation_id;

    // An agent who comes online later finds it in the inbox and in the feed.
    let list = owner.conversations(&Default::default()).await.unwrap();
    assert_eq!(list.items.iter().map(|c| c.id).collect::<Vec<_>>(), [conv]);
    assert_eq!(owner.contact(list.items[0].contact_id).await.unwrap().email.as_deref(), Some("leyla@example.com"));
    let (cookie, _) = session_cookie(&app, seed.owner.email.as_str(), &seed.password).await;
    let mut dashboard = switchboard_testkit::AgentSocket::connect_cookie(&app.url(""), &cookie, None).await.unwrap();
    dashboard.hello(Some(0)).await.unwrap();
    let message = expect_frame!(dashboard, AgentOut::Event { event } if event.body.message().is_some() => event).unwrap();
    assert_eq!((message.conversation_id, message.body.message().unwrap().body.as_str()), (conv, "Please call me back tomorrow"));
}
