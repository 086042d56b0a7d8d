//! Limits that act before the database: for every bucket, a client at its limit is
//! served, one over it is told `rate_limited` with how long to wait (and nothing is
//! stored, and the socket stays usable), and after that wait it is served again. The
//! server's clock is a `ManualClock`, so "after the window" is a step of the test.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use switchboard_core::{Limits, ManualClock, Rate, Rates};
use switchboard_domain::Timestamp;
use switchboard_server::ServerConfig;
use switchboard_testkit::proto::{ErrorCode, EventBody, Role, VisitorIn, VisitorOut};
use switchboard_testkit::{Api, ClientError, SocketError, TestApp, VisitorSocket, expect_frame};
use uuid::Uuid;

use crate::support::{PNG_3X2, api_token, assert_usable};

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)))
}

/// Every limit off but the ones the story sets.
fn only(rates: impl FnOnce(&mut Rates)) -> Limits {
    let mut all = Rates::unlimited();
    rates(&mut all);
    Limits { rates: all, ..Limits::default() }
}

/// The next `error` frame: its code, `ref` and `retry_after_ms`.
async fn error_frame(ws: &mut VisitorSocket) -> (ErrorCode, Option<String>, Option<u64>) {
    expect_frame!(ws, VisitorOut::Error { code, reference, retry_after_ms, .. } => (code, reference, retry_after_ms))
        .expect("an error frame")
}

fn rate_limited_after<T: std::fmt::Debug>(got: Result<T, SocketError>) -> u64 {
    match got {
        Err(SocketError::Refused { code: ErrorCode::RateLimited, retry_after_ms: Some(ms), .. }) => ms,
        other => panic!("expected rate_limited with retry_after_ms, got {other:?}"),
    }
}

fn bodies(events: &[switchboard_testkit::proto::Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Message { message } => Some(message.body.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_visitor_over_their_message_limit_is_told_to_wait_and_their_resend_is_stored_once() {
    let clock = clock();
    let app = TestApp::spawn_limited(only(|r| r.messages_per_visitor = Rate::new(3, 1000)), clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let mut visitor = app.visitor_socket(&seed.site).await;

    let first = visitor.say(None, "m-1", "one").await.expect("within the burst");
    let conversation = Some(first.conversation_id);
    visitor.say(conversation, "m-2", "two").await.expect("within the burst");
    visitor.say(conversation, "m-3", "three").await.expect("the last of the burst");
    let wait = rate_limited_after(visitor.say(conversation, "m-4", "four").await);
    assert_eq!(wait, 1000, "one token comes back each second");

    // Nothing of it was stored, and the socket still answers.
    assert_usable(&mut visitor).await;
    let stored = owner.history(first.conversation_id, &Default::default()).await.unwrap().items;
    assert_eq!(bodies(&stored), ["one", "two", "three"]);

    // Too early is still refused; after the wait the same frame is stored, once.
    clock.advance(999);
    assert_eq!(rate_limited_after(visitor.say(conversation, "m-4", "four").await), 1);
    clock.advance(1);
    let resent = visitor.say(conversation, "m-4", "four").await.expect("after the wait");
    assert!(!resent.replayed, "stored now, for the first time");
    let stored = owner.history(first.conversation_id, &Default::default()).await.unwrap().items;
    assert_eq!(bodies(&stored), ["one", "two", "three", "four"]);
    // Another visitor has a bucket of their own.
    let mut other = app.visitor_socket(&seed.site).await;
    other.say(None, "o-1", "hello").await.expect("a full bucket");
}

#[tokio::test]
async fn typing_page_views_and_track_events_each_have_their_own_bucket() {
    let clock = clock();
    let limits = only(|r| {
        r.typing_per_visitor = Rate::new(2, 500);
        r.page_views_per_visitor = Rate::new(2, 2000);
        r.track_per_visitor = Rate::new(2, 1000);
    });
    let app = TestApp::spawn_limited(limits, clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let mut visitor = app.visitor_socket(&seed.site).await;
    let contact = visitor.contact_id();
    let conversation = visitor.say(None, "m-1", "hi").await.unwrap().conversation_id;
    expect_frame!(visitor, VisitorOut::CaughtUp { .. }).unwrap();

    let typing = VisitorIn::Typing { conversation_id: conversation, typing: true };
    let page = |n: u32| VisitorIn::Page { url: format!("https://acme.example/p{n}"), title: None, referrer: None, again: false };
    let track = |n: u32| VisitorIn::Track { name: format!("event-{n}"), data: Default::default() };

    for (frame, wait) in [(typing.clone(), 500), (page(1), 2000), (track(1), 1000)] {
        visitor.send(&frame).await.unwrap();
        visitor.send(&frame).await.unwrap();
        visitor.send(&frame).await.unwrap();
        let (code, _, retry_after_ms) = error_frame(&mut visitor).await;
        assert_eq!((code, retry_after_ms), (ErrorCode::RateLimited, Some(wait)), "the third of {frame:?}");
        assert_usable(&mut visitor).await;
    }
    // Two of each were taken; the third stored nothing.
    let pages = owner.contact_pages(contact).await.unwrap();
    assert_eq!(pages.len(), 2, "{pages:?}");
    let events = owner.contact_events(contact, &Default::default()).await.unwrap().items;
    assert_eq!(events.len(), 2, "{events:?}");

    clock.advance(2000);
    for frame in [typing, page(3), track(3)] {
        visitor.send(&frame).await.unwrap();
    }
    assert_usable(&mut visitor).await; // no error frame came before the pong
    assert_eq!(owner.contact_pages(contact).await.unwrap().len(), 3);
    assert_eq!(owner.contact_events(contact, &Default::default()).await.unwrap().items.len(), 3);
}

#[tokio::test]
async fn new_visitors_from_one_address_are_limited_and_returning_ones_are_not() {
    let clock = clock();
    let app = TestApp::spawn_limited(only(|r| r.new_sessions_per_ip = Rate::new(2, 60_000)), clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await;
    let first = app.visitor_socket(&seed.site).await;
    app.visitor_socket(&seed.site).await;

    let mut third = VisitorSocket::connect_site(&app.url(""), &seed.site.public_key, None).await.unwrap();
    assert_eq!(rate_limited_after(third.hello(None, vec![]).await), 60_000);
    assert_eq!(owner.contacts("").await.unwrap().len(), 2, "no contact was created for the third");

    // A returning visitor (with a token) is no new session.
    VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(first.token()), vec![]).await.expect("returning visitor");

    clock.advance(60_000);
    app.visitor_socket(&seed.site).await; // one token is back
    assert_eq!(owner.contacts("").await.unwrap().len(), 3);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_has_its_own_bucket() {
    let config =
        ServerConfig { trusted_proxies: vec![switchboard_domain::IpRange::parse("127.0.0.0/8").unwrap()], ..ServerConfig::default() };
    let app = TestApp::spawn_full(config, only(|r| r.new_sessions_per_ip = Rate::new(1, 60_000)), clock()).await;
    let seed = app.seed("acme").await;
    let url = format!("ws://{}/ws/visitor?site={}", app.addr, seed.site.public_key);
    let hello = |forwarded: &'static str| {
        let url = url.clone();
        async move {
            let mut ws = VisitorSocket::connect(&url, &[("x-forwarded-for", forwarded)]).await.unwrap();
            ws.hello(None, vec![]).await
        }
    };
    hello("203.0.113.1").await.expect("the first from this address");
    assert_eq!(rate_limited_after(hello("198.51.100.2, 203.0.113.1").await), 60_000, "the proxy's entry is the last");
    hello("203.0.113.2").await.expect("another address");
}

#[tokio::test]
async fn uploads_are_limited_per_visitor_and_per_site() {
    let clock = clock();
    let limits = only(|r| {
        r.uploads_per_visitor = Rate::new(2, 5000);
        r.uploads_per_site = Rate::new(3, 1000);
    });
    let app = TestApp::spawn_limited(limits, clock.clone()).await;
    let seed = app.seed("acme").await;
    let key = &seed.site.public_key;
    let api = Api::new(app.url(""));
    let ana = app.visitor_socket(&seed.site).await;
    let bo = app.visitor_socket(&seed.site).await;
    let carl = app.visitor_socket(&seed.site).await;

    api.widget_upload(key, ana.token(), "a.png", PNG_3X2.to_vec()).await.expect("1st of Ana's");
    api.widget_upload(key, ana.token(), "b.png", PNG_3X2.to_vec()).await.expect("2nd of Ana's");
    assert_rate_limited(api.widget_upload(key, ana.token(), "c.png", PNG_3X2.to_vec()).await, 5000);
    api.widget_upload(key, bo.token(), "d.png", PNG_3X2.to_vec()).await.expect("Bo's first: the site's third");
    assert_rate_limited(api.widget_upload(key, bo.token(), "e.png", PNG_3X2.to_vec()).await, 1000);

    // (Bo's refused upload took his second token, as any attempt does; the site's bucket
    // refused it.)
    clock.advance(1000);
    api.widget_upload(key, carl.token(), "f.png", PNG_3X2.to_vec()).await.expect("the site has a token again");
    clock.advance(4000);
    api.widget_upload(key, ana.token(), "c.png", PNG_3X2.to_vec()).await.expect("Ana has a token again");
}

/// A REST answer of `429 rate_limited`, with `retry_after_ms` in the body.
#[track_caller]
fn assert_rate_limited<T: std::fmt::Debug>(got: Result<T, ClientError>, wait_ms: u64) {
    match got {
        Err(ClientError::Api { status: 429, body }) => {
            assert_eq!((body.code, body.retry_after_ms), (ErrorCode::RateLimited, Some(wait_ms)), "{body:?}");
        }
        other => panic!("expected 429 rate_limited, got {other:?}"),
    }
}

/// A raw GET, for the `Retry-After` header.
async fn get_with(app: &TestApp, path: &str, header: (&str, &str)) -> (StatusCode, Option<String>) {
    let res = reqwest::Client::new().get(app.url(path)).header(header.0, header.1).send().await.unwrap();
    (res.status(), res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()))
}

#[tokio::test]
async fn rest_calls_are_limited_per_api_token_and_per_session() {
    let clock = clock();
    let limits = only(|r| {
        r.rest_per_token = Rate::new(3, 1500);
        r.rest_per_session = Rate::new(4, 1000);
    });
    let app = TestApp::spawn_limited(limits, clock.clone()).await;
    let seed = app.seed("acme").await;
    let owner = app.owner(&seed).await; // signing in is no REST call of a session yet
    let secret = api_token(&owner, Role::Agent).await; // the session's 1st
    let bearer = format!("Bearer {secret}");

    for _ in 0..3 {
        assert_eq!(get_with(&app, "/api/v1/conversations", ("authorization", &bearer)).await.0, StatusCode::OK);
    }
    let (status, retry_after) = get_with(&app, "/api/v1/conversations", ("authorization", &bearer)).await;
    assert_eq!((status, retry_after.as_deref()), (StatusCode::TOO_MANY_REQUESTS, Some("2")), "1.5 s, rounded up");

    // The session is counted apart from the token.
    owner.me().await.expect("the session's 2nd");
    owner.conversations(&Default::default()).await.expect("3rd");
    owner.agents().await.expect("4th");
    assert_rate_limited(owner.agents().await, 1000);

    clock.advance(1000);
    owner.agents().await.expect("the session has a token again");
    assert_rate_limited(Api::with_token(app.url(""), &secret).agents().await, 500);
    clock.advance(500);
    Api::with_token(app.url(""), &secret).agents().await.expect("the token has one again");
}

async fn sign_in(app: &TestApp, email: &str, password: &str, from: &str) -> (StatusCode, Option<String>, serde_json::Value) {
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/sessions"))
        .header("x-forwarded-for", from)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (res.status(), retry_after, res.json().await.unwrap())
}

#[tokio::test]
async fn sign_in_attempts_wait_longer_and_longer_and_unlock_by_time() {
    let clock = clock();
    let limits = only(|r| {
        r.sign_in_per_account = Rate::new(2, 60_000);
        r.sign_in_lockout_per_account = Rate::new(3, 600_000);
    });
    let app = TestApp::spawn_limited(limits, clock.clone()).await;
    let seed = app.seed("acme").await;
    let (email, password) = (seed.owner.email.as_str().to_owned(), seed.password.clone());
    let here = "192.0.2.1";

    assert_eq!(sign_in(&app, &email, "wrong", here).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, &email, "wrong again", here).await.0, StatusCode::UNAUTHORIZED);
    let (status, retry_after, body) = sign_in(&app, &email, &password, here).await;
    assert_eq!((status, retry_after.as_deref()), (StatusCode::TOO_MANY_REQUESTS, Some("60")), "even the right password waits");
    assert_eq!((body["code"].as_str(), body["retry_after_ms"].as_u64()), (Some("rate_limited"), Some(60_000)));
    let (status, ..) = sign_in(&app, " OWNER@acme.example", &password, here).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the same account however it is typed");

    // A minute later: one more try. Past the slower bucket's three, the wait grows.
    clock.advance(60_000);
    assert_eq!(sign_in(&app, &email, "wrong", here).await.0, StatusCode::UNAUTHORIZED);
    clock.advance(60_000);
    let (status, retry_after, body) = sign_in(&app, &email, &password, here).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let wait = body["retry_after_ms"].as_u64().unwrap();
    assert!(wait > 60_000 && wait <= 480_000, "a longer wait than a minute: {wait} ms ({retry_after:?} s)");

    // Another account is not locked by this one.
    assert_eq!(sign_in(&app, "nobody@acme.example", "x", here).await.0, StatusCode::UNAUTHORIZED);
    // Unlocked by time alone.
    clock.advance(wait as i64);
    assert_eq!(sign_in(&app, &email, &password, here).await.0, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_address_across_accounts() {
    let clock = clock();
    let config =
        ServerConfig { trusted_proxies: vec![switchboard_domain::IpRange::parse("127.0.0.0/8").unwrap()], ..ServerConfig::default() };
    let app = TestApp::spawn_full(config, only(|r| r.sign_in_per_ip = Rate::new(3, 10_000)), clock.clone()).await;
    let seed = app.seed("acme").await;
    for n in 0..3 {
        assert_eq!(sign_in(&app, &format!("guess{n}@acme.example"), "x", "198.51.100.7").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, retry_after, _) = sign_in(&app, seed.owner.email.as_str(), &seed.password, "198.51.100.7").await;
    assert_eq!((status, retry_after.as_deref()), (StatusCode::TOO_MANY_REQUESTS, Some("10")));
    let (status, ..) = sign_in(&app, seed.owner.email.as_str(), &seed.password, "198.51.100.8").await;
    assert_eq!(status, StatusCode::OK, "another address signs in");
    clock.advance(10_000);
    let (status, ..) = sign_in(&app, seed.owner.email.as_str(), &seed.password, "198.51.100.7").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_default_limits_stop_a_flooding_visitor_and_serve_a_chatting_one() {
    let app = TestApp::spawn().await;
    let seed = app.seed("acme").await;
    let mut flood = app.visitor_socket(&seed.site).await;
    let conversation = flood.say(None, "f-0", "spam").await.unwrap().conversation_id;
    let started = std::time::Instant::now();
    // Past the burst the flood meets refusals, ignores three of them and is left unread
    // for the wait it was told, so a few dozen frames take a few seconds.
    const FRAMES: u32 = 48;
    for n in 1..FRAMES {
        let frame = VisitorIn::Send {
            client_id: format!("f-{n}"),
            conversation_id: Some(conversation),
            body: "spam".into(),
            format: None,
            attachment_ids: vec![],
            pow: None,
            invitation_id: None,
            team_id: None,
        };
        flood.send(&frame).await.unwrap();
    }
    let (mut acked, mut refused) = (1, 0);
    while acked + refused < FRAMES {
        match flood.next().await.expect("a frame") {
            VisitorOut::Ack { .. } => acked += 1,
            VisitorOut::Error { code: ErrorCode::RateLimited, retry_after_ms: Some(_), .. } => refused += 1,
            _ => {}
        }
    }
    // The default burst is 20, and a token comes back every second while they flood.
    let secs = started.elapsed().as_secs() as u32 + 1;
    assert!((20..=21 + secs).contains(&acked), "{acked} stored in {secs} s");
    assert!(refused > 0);
    // The socket is still usable: the echoes of the last stored messages may still be
    // on their way, then the pong.
    flood.send(&VisitorIn::Ping).await.unwrap();
    loop {
        match flood.next().await.expect("socket closed instead of answering ping") {
            VisitorOut::Pong => break,
            VisitorOut::Event { .. } => {}
            f => panic!("{f:?}"),
        }
    }
    let mut person = app.visitor_socket(&seed.site).await;
    person.say(None, &Uuid::new_v4().to_string(), "Hello, is anyone there?").await.expect("a person is served");
}

/// A botnet spreads its visitors over a few addresses: every visitor message from one
/// address counts against that address's bucket, whoever sends it. Two visitors behind
/// one address share it; after the window both are served again.
#[tokio::test]
async fn visitors_behind_one_address_share_its_message_bucket() {
    let clock = clock();
    let app = TestApp::spawn_limited(only(|r| r.messages_per_ip = Rate::new(3, 1000)), clock.clone()).await;
    let seed = app.seed("acme").await;
    let mut ana = app.visitor_socket(&seed.site).await;
    let mut bo = app.visitor_socket(&seed.site).await;

    let hers = Some(ana.say(None, "a-1", "one").await.expect("within the burst").conversation_id);
    ana.say(hers, "a-2", "two").await.expect("within the burst");
    let his = Some(bo.say(None, "b-1", "three").await.expect("the last of the address's burst").conversation_id);
    assert_eq!(rate_limited_after(bo.say(his, "b-2", "four").await), 1000, "a visitor who sent one message is over the address's limit");
    assert_eq!(rate_limited_after(ana.say(hers, "a-3", "five").await), 1000);
    assert_usable(&mut bo).await;

    clock.advance(1000);
    bo.say(his, "b-2", "four").await.expect("after the window");
    assert_eq!(rate_limited_after(ana.say(hers, "a-3", "five").await), 1000, "one token came back, and bo took it");
}

/// The last guard against a flood from many addresses: every visitor message to a site
/// counts against the site's bucket. Another workspace's site has its own.
#[tokio::test]
async fn a_sites_visitor_messages_share_its_bucket_and_another_site_is_not_touched() {
    let clock = clock();
    let app = TestApp::spawn_limited(only(|r| r.messages_per_site = Rate::new(3, 500)), clock.clone()).await;
    let seed = app.seed("acme").await;
    let other = app.seed("globex").await;
    let mut visitors = vec![];
    for i in 0..3 {
        let mut v = app.visitor_socket(&seed.site).await;
        let started = v.say(None, &format!("v-{i}"), "hello").await.expect("within the site's burst");
        visitors.push((v, Some(started.conversation_id)));
    }
    let mut late = app.visitor_socket(&seed.site).await;
    assert_eq!(rate_limited_after(late.say(None, "late-1", "hello?").await), 500, "a fourth visitor is over the site's limit");
    let (first, conversation) = &mut visitors[0];
    assert_eq!(rate_limited_after(first.say(*conversation, "v-0-2", "again").await), 500);
    assert_usable(&mut late).await;
    let mut elsewhere = app.visitor_socket(&other.site).await;
    elsewhere.say(None, "g-1", "hello").await.expect("another site has a bucket of its own");

    clock.advance(500);
    late.say(None, "late-1", "hello?").await.expect("after the window");
}

/// Starting a conversation counts against the address's and the site's new
/// conversations; a visitor refused a new one still writes in the one they have.
#[tokio::test]
async fn new_conversations_are_counted_per_address_and_per_site() {
    let clock = clock();
    let limits = only(|r| {
        r.new_conversations_per_ip = Rate::new(2, 1000);
        r.new_conversations_per_site = Rate::new(3, 4000);
    });
    let app = TestApp::spawn_limited(limits, clock.clone()).await;
    let seed = app.seed("acme").await;
    let mut ana = app.visitor_socket(&seed.site).await;
    let mut bo = app.visitor_socket(&seed.site).await;

    let hers = Some(ana.say(None, "a-1", "one").await.expect("the address's first").conversation_id);
    bo.say(None, "b-1", "two").await.expect("the address's second");
    assert_eq!(rate_limited_after(ana.say(None, "a-2", "another chat").await), 1000, "over the address's new conversations");
    ana.say(hers, "a-3", "in the one I have").await.expect("an existing conversation is not a new one");

    clock.advance(1000);
    ana.say(None, "a-2", "another chat").await.expect("the address's bucket refilled: the site's third");
    clock.advance(1000);
    let wait = rate_limited_after(bo.say(None, "b-2", "a fourth chat").await);
    assert_eq!(wait, 2000, "the address has a token again, but the site's bucket is empty until 4 s after its first");
    clock.advance(2000);
    bo.say(None, "b-2", "a fourth chat").await.expect("after the site's window");
}

/// A script that keeps sending after being told to wait: once it has ignored three
/// `rate_limited` answers in a row (the server's `ws::IGNORED_REFUSALS`), its frames
/// are left unread for the wait it was told, so its flood costs the server nothing
/// meanwhile; then it is served again.
#[tokio::test]
async fn a_visitor_who_ignores_retry_after_is_not_read_until_the_wait_is_over() {
    let clock = clock();
    let app = TestApp::spawn_limited(only(|r| r.messages_per_visitor = Rate::new(1, 1000)), clock.clone()).await;
    let seed = app.seed("acme").await;
    let mut script = app.visitor_socket(&seed.site).await;
    let conversation = Some(script.say(None, "s-0", "spam").await.expect("the burst").conversation_id);

    const IGNORED_REFUSALS: usize = 3;
    for i in 1..=IGNORED_REFUSALS {
        let send = VisitorIn::Send {
            client_id: format!("s-{i}"),
            conversation_id: conversation,
            body: "spam".into(),
            format: None,
            attachment_ids: vec![],
            pow: None,
            invitation_id: None,
            team_id: None,
        };
        script.send(&send).await.unwrap();
    }
    for _ in 1..=IGNORED_REFUSALS {
        let (code, _, retry_after_ms) = error_frame(&mut script).await;
        assert_eq!((code, retry_after_ms), (ErrorCode::RateLimited, Some(1000)));
    }
    let asked = std::time::Instant::now();
    script.send(&VisitorIn::Ping).await.unwrap();
    expect_frame!(script, VisitorOut::Pong).expect("answered once the wait is over");
    assert!(asked.elapsed() >= std::time::Duration::from_millis(900), "answered after {:?}: it was read at once", asked.elapsed());
}
