//! Live visitors (issue 15): visitors arrive, browse and leave while agents watch the
//! live list; consent and tracking off record nothing; visits split after 30 minutes;
//! an agent invites a visitor, whose reply starts a conversation assigned to them.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use switchboard_core::{Limits, ManualClock, SystemClock};
use switchboard_domain::IpRange;
use switchboard_domain::Timestamp;
use switchboard_server::ServerConfig;
use switchboard_testkit::proto::{
    AgentIn, AgentOut, ChatState, ErrorCode, EventBody, LiveVisitor, LiveVisitors, SiteRequest, TrackingMode, TriggerAction,
    TriggerCondition, TriggerFrequency, TriggerRequest, VisitPage, VisitorIn, VisitorOut,
};
use switchboard_testkit::{AgentSocket, Api, Client, HistoryFilter, Seed, TestApp, VisitorSocket, expect_frame};
use uuid::Uuid;

use crate::support::{api_token, caught_up_agent};

const SHOP: &str = "https://shop.example";

/// A typed read through the REST client (paths under `/api/v1`).
async fn read<T: serde::de::DeserializeOwned>(api: &Api, path: &str) -> T {
    let client: &Client = api;
    client.get(path).await.unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// A POST expected to fail: its status and error code.
async fn refused(api: &Api, path: &str, body: serde_json::Value) -> (StatusCode, String) {
    let (status, body) = api.post(&format!("/api/v1{path}"), body).await;
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// Departures show at once, so the stories need not wait out a grace period.
fn no_grace() -> Limits {
    Limits { live_leave_grace_ms: 0, ..Limits::default() }
}

async fn watching(app: &TestApp, seed: &Seed) -> AgentSocket {
    let owner = app.owner(seed).await;
    let secret = api_token(&owner, switchboard_testkit::proto::Role::Admin).await;
    let mut agent = caught_up_agent(app, &secret).await;
    agent.send(&AgentIn::Visitors { watch: true, site_id: None }).await.unwrap();
    let snapshot = expect_frame!(agent, AgentOut::Visitors { visitors } => visitors).unwrap();
    assert!(snapshot.is_empty(), "nobody is on the site yet");
    agent
}

async fn page(visitor: &mut VisitorSocket, path: &str, title: &str, referrer: Option<&str>) {
    let url = format!("{SHOP}{path}");
    visitor.send(&VisitorIn::Page { url, title: Some(title.into()), referrer: referrer.map(Into::into), again: false }).await.unwrap();
}

/// Waits until the server has handled every frame sent before (a `ping` is answered in order).
async fn settled(visitor: &mut VisitorSocket) {
    visitor.send(&VisitorIn::Ping).await.unwrap();
    expect_frame!(visitor, VisitorOut::Pong => ()).unwrap();
}

async fn next_row(agent: &mut AgentSocket) -> LiveVisitor {
    expect_frame!(agent, AgentOut::Visitor { visitor } => visitor).unwrap()
}

#[tokio::test]
async fn visitors_arrive_browse_and_leave_and_agents_see_it_in_order() {
    let app = TestApp::spawn_with(ServerConfig::default(), no_grace()).await;
    let seed = app.seed("live").await;
    let mut agent = watching(&app, &seed).await;
    let owner = app.owner(&seed).await;

    let mut tab = app.visitor_socket(&seed.site).await;
    let contact = tab.contact_id();
    page(&mut tab, "/?utm_source=newsletter&utm_campaign=spring", "Home", Some("https://search.example/")).await;
    let arrived = next_row(&mut agent).await;
    assert_eq!((arrived.contact_id, arrived.site_id), (contact, seed.site.id.0));
    assert_eq!((arrived.pages_this_visit, arrived.tabs, arrived.visit_number), (1, 1, 1), "a new visitor's first page");
    assert_eq!(arrived.title.as_deref(), Some("Home"));
    assert_eq!(arrived.referrer.as_deref(), Some("https://search.example/"));
    assert_eq!((arrived.utm.source.as_deref(), arrived.utm.campaign.as_deref()), (Some("newsletter"), Some("spring")));
    assert_eq!(arrived.chat.state, ChatState::None);

    page(&mut tab, "/pricing", "Pricing", None).await;
    let moved = next_row(&mut agent).await;
    assert_eq!((moved.url.as_str(), moved.pages_this_visit), (format!("{SHOP}/pricing").as_str(), 2));
    assert_eq!(moved.visit_id, arrived.visit_id, "the same visit");

    // A second tab of the same person is the same row, counted twice.
    let mut second = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(tab.token()), vec![]).await.unwrap();
    page(&mut second, "/cart", "Cart", None).await;
    let two_tabs = next_row(&mut agent).await;
    assert_eq!((two_tabs.tabs, two_tabs.pages_this_visit, two_tabs.url.as_str()), (2, 3, format!("{SHOP}/cart").as_str()));

    let live: LiveVisitors = read(&owner, "/visitors/live").await;
    assert_eq!(live.visitors.iter().map(|v| v.contact_id).collect::<Vec<_>>(), [contact]);
    let by_site: LiveVisitors = read(&owner, &format!("/visitors/live?site_id={}", seed.site.id.0)).await;
    assert_eq!(by_site.visitors.len(), 1);

    // The first tab closes: still there, with one tab; the last one closes: gone.
    drop(tab);
    assert_eq!(next_row(&mut agent).await.tabs, 1);
    drop(second);
    let (left, site) = expect_frame!(agent, AgentOut::VisitorLeft { contact_id, site_id } => (contact_id, site_id)).unwrap();
    assert_eq!((left, site), (contact, seed.site.id.0));
    let live: LiveVisitors = read(&owner, "/visitors/live").await;
    assert!(live.visitors.is_empty());

    // The whole visit is in the history, pages in the order they were opened.
    let history: VisitPage = read(&owner, &format!("/contacts/{contact}/visits")).await;
    assert_eq!(history.visits.len(), 1);
    let visit = &history.visits[0];
    assert_eq!((visit.id, visit.number), (arrived.visit_id, 1));
    let paths: Vec<_> = visit.pages.iter().map(|p| p.url.trim_start_matches(SHOP).to_owned()).collect();
    assert_eq!(paths, ["/?utm_source=newsletter&utm_campaign=spring", "/pricing", "/cart"]);
    assert_eq!(visit.utm.source.as_deref(), Some("newsletter"));
    assert!(history.next.is_none());
}

#[tokio::test]
async fn the_chat_taking_over_the_launchers_socket_on_the_same_page_is_the_same_view() {
    // With the grace period: a reconnect comes back before the visitor is taken for gone.
    let app = TestApp::spawn_with(ServerConfig::default(), Limits::default()).await;
    let seed = app.seed("handover").await;
    let mut agent = watching(&app, &seed).await;
    let owner = app.owner(&seed).await;

    // The launcher's socket reports the page the visitor is on.
    let mut launcher = app.visitor_socket(&seed.site).await;
    let contact = launcher.contact_id();
    let token = launcher.token().to_owned();
    page(&mut launcher, "/", "Home", None).await;
    page(&mut launcher, "/shoes", "Shoes", None).await;
    assert_eq!(next_row(&mut agent).await.pages_this_visit, 1);
    assert_eq!(next_row(&mut agent).await.pages_this_visit, 2);

    // The visitor opens the chat: its frame's socket says the same page again as its first,
    // then the launcher's closes. One view, one tab.
    let mut chat = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    page(&mut chat, "/shoes", "Shoes", None).await;
    let handed = next_row(&mut agent).await;
    assert_eq!((handed.tabs, handed.pages_this_visit, handed.url.as_str()), (2, 2, format!("{SHOP}/shoes").as_str()));
    drop(launcher);
    assert_eq!(next_row(&mut agent).await.tabs, 1);

    // A reconnect on the same page is the same view too; the next page is a new one.
    settled(&mut chat).await;
    drop(chat);
    let mut again = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    page(&mut again, "/shoes", "Shoes", None).await;
    settled(&mut again).await;
    // (Whether the old socket's close is handled before or after, the list says the same.)
    let live: LiveVisitors = read(&owner, "/visitors/live").await;
    assert_eq!(live.visitors.iter().map(|v| v.pages_this_visit).collect::<Vec<_>>(), [2], "the reconnected socket's first page");
    page(&mut again, "/cart", "Cart", None).await;
    settled(&mut again).await;

    let history: VisitPage = read(&owner, &format!("/contacts/{contact}/visits")).await;
    let paths: Vec<_> = history.visits.iter().flat_map(|v| v.pages.iter().map(|p| p.url.trim_start_matches(SHOP).to_owned())).collect();
    assert_eq!(paths, ["/", "/shoes", "/cart"], "each page once");
}

#[tokio::test]
async fn a_reconnect_of_the_same_page_load_after_the_visitor_was_taken_for_gone_records_no_page_a_reload_does() {
    // No grace period: the visitor is taken for gone the moment their socket closes, as
    // when a laptop sleeps longer than the grace period.
    let app = TestApp::spawn_with(ServerConfig::default(), no_grace()).await;
    let seed = app.seed("asleep").await;
    let mut agent = watching(&app, &seed).await;
    let owner = app.owner(&seed).await;
    let shoes = format!("{SHOP}/shoes");

    let mut tab = app.visitor_socket(&seed.site).await;
    let contact = tab.contact_id();
    let token = tab.token().to_owned();
    page(&mut tab, "/shoes", "Shoes", None).await;
    let arrived = next_row(&mut agent).await;
    assert_eq!(arrived.pages_this_visit, 1);
    drop(tab);
    let left = expect_frame!(agent, AgentOut::VisitorLeft { contact_id, .. } => contact_id).unwrap();
    assert_eq!(left, contact);

    // The laptop wakes: the same page load connects again and says it reported this
    // page before. The visitor is back, on the same visit, with the same one page.
    let mut woke = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    woke.send(&VisitorIn::Page { url: shoes.clone(), title: Some("Shoes".into()), referrer: None, again: true }).await.unwrap();
    let back = next_row(&mut agent).await;
    assert_eq!((back.tabs, back.pages_this_visit, back.url.as_str()), (1, 1, shoes.as_str()));
    assert_eq!(back.title.as_deref(), Some("Shoes"));
    assert_eq!(back.visit_id, arrived.visit_id, "the same visit");
    drop(woke);
    expect_frame!(agent, AgentOut::VisitorLeft { contact_id, .. } => contact_id).unwrap();

    // A reload is a new page load at the same address: a page view of its own.
    let mut reloaded = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.unwrap();
    page(&mut reloaded, "/shoes", "Shoes", None).await;
    assert_eq!(next_row(&mut agent).await.pages_this_visit, 2);
    settled(&mut reloaded).await;

    let history: VisitPage = read(&owner, &format!("/contacts/{contact}/visits")).await;
    let paths: Vec<_> = history.visits.iter().flat_map(|v| v.pages.iter().map(|p| p.url.trim_start_matches(SHOP).to_owned())).collect();
    assert_eq!(paths, ["/shoes", "/shoes"], "the page load's view once, the reload's once");
}

#[tokio::test]
async fn a_watch_on_one_site_hears_only_that_site_and_stops_when_asked() {
    let app = TestApp::spawn_with(ServerConfig::default(), no_grace()).await;
    let seed = app.seed("sites").await;
    let owner = app.owner(&seed).await;
    let other = owner.create_site(&SiteRequest { name: Some("Blog".into()), ..Default::default() }).await.unwrap();
    let secret = api_token(&owner, switchboard_testkit::proto::Role::Agent).await;
    let mut agent = caught_up_agent(&app, &secret).await;
    agent.send(&AgentIn::Visitors { watch: true, site_id: Some(seed.site.id.0) }).await.unwrap();
    expect_frame!(agent, AgentOut::Visitors { .. } => ()).unwrap();

    let blog_site = app.core.store.site(seed.workspace.id, switchboard_domain::SiteId(other.id)).await.unwrap();
    let mut reader = app.visitor_socket(&blog_site).await;
    page(&mut reader, "/post", "Post", None).await;
    settled(&mut reader).await;
    let mut buyer = app.visitor_socket(&seed.site).await;
    page(&mut buyer, "/", "Home", None).await;
    // The first row this socket hears is the shop's visitor: the blog's was never sent.
    assert_eq!(next_row(&mut agent).await.contact_id, buyer.contact_id());

    agent.send(&AgentIn::Visitors { watch: false, site_id: None }).await.unwrap();
    page(&mut buyer, "/pricing", "Pricing", None).await;
    settled(&mut buyer).await;
    // Nothing more about visitors: the next frame this socket gets is the pong.
    agent.send(&AgentIn::Ping).await.unwrap();
    let next = agent.next().await.unwrap();
    assert!(matches!(next, AgentOut::Pong), "a stopped watch hears nothing, got {next:?}");

    // A site of another workspace is not found.
    let stranger = app.seed("stranger").await;
    agent.send(&AgentIn::Visitors { watch: true, site_id: Some(stranger.site.id.0) }).await.unwrap();
    let code = expect_frame!(agent, AgentOut::Error { code, .. } => code).unwrap();
    assert_eq!(code, ErrorCode::SiteNotFound);
}

#[tokio::test]
async fn a_count_watch_hears_the_number_of_visitors_on_arrivals_and_departures_only() {
    let app = TestApp::spawn_with(ServerConfig::default(), no_grace()).await;
    let seed = app.seed("count").await;
    let owner = app.owner(&seed).await;
    let secret = api_token(&owner, switchboard_testkit::proto::Role::Agent).await;

    // Someone is on the shop before the agent's socket opens: the first count has them.
    let mut early = app.visitor_socket(&seed.site).await;
    page(&mut early, "/", "Home", None).await;
    settled(&mut early).await;
    let mut agent = caught_up_agent(&app, &secret).await;
    agent.send(&AgentIn::VisitorCount { watch: true }).await.unwrap();
    assert_eq!(expect_frame!(agent, AgentOut::VisitorCount { count } => count).unwrap(), 1);

    // A second visitor arrives: two. The first moves to another page: no news.
    let mut late = app.visitor_socket(&seed.site).await;
    page(&mut late, "/pricing", "Pricing", None).await;
    assert_eq!(expect_frame!(agent, AgentOut::VisitorCount { count } => count).unwrap(), 2);
    page(&mut early, "/shoes", "Shoes", None).await;
    settled(&mut early).await;
    drop(late);
    assert_eq!(expect_frame!(agent, AgentOut::VisitorCount { count } => count).unwrap(), 1, "the move was no change");

    // The count is all this socket follows: no rows. Stopped, it hears nothing more.
    agent.send(&AgentIn::VisitorCount { watch: false }).await.unwrap();
    drop(early);
    let mut third = app.visitor_socket(&seed.site).await;
    page(&mut third, "/", "Home", None).await;
    settled(&mut third).await;
    agent.send(&AgentIn::Ping).await.unwrap();
    let next = agent.next().await.unwrap();
    assert!(matches!(next, AgentOut::Pong), "a stopped count hears nothing, got {next:?}");
}

#[tokio::test]
async fn before_consent_nothing_is_recorded_or_shown() {
    let app = TestApp::spawn_with(ServerConfig::default(), no_grace()).await;
    let seed = app.seed("consent").await;
    let owner = app.owner(&seed).await;
    let site =
        owner.update_site(seed.site.id.0, &SiteRequest { tracking: Some(TrackingMode::Consent), ..Default::default() }).await.unwrap();
    assert_eq!(site.tracking, TrackingMode::Consent);
    let mut agent = watching(&app, &seed).await;

    let mut visitor = app.visitor_socket(&seed.site).await;
    let contact = visitor.contact_id();
    page(&mut visitor, "/", "Home", None).await;
    visitor.send(&VisitorIn::Track { name: "signup".into(), data: Default::default() }).await.unwrap();
    settled(&mut visitor).await;
    let live: LiveVisitors = read(&owner, "/visitors/live").await;
    assert!(live.visitors.is_empty(), "not shown before consent");
    let history: VisitPage = read(&owner, &format!("/contacts/{contact}/visits")).await;
    assert!(history.visits.is_empty(), "no visit stored before consent");
    let (_, events) = owner.get(&format!("/api/v1/contacts/{contact}/events")).await;
    assert_eq!(events["items"], json!([]), "no tracked event stored before consent");

    visitor.send(&VisitorIn::Consent { granted: true }).await.unwrap();
    page(&mut visitor, "/pricing", "Pricing", None).await;
    let row = next_row(&mut agent).await;
    assert_eq!((row.contact_id, row.pages_this_visit), (contact, 1), "only the page after consent counts");

    // Withdrawn: they leave the list at once.
    visitor.send(&VisitorIn::Consent { granted: false }).await.unwrap();
    let left = expect_frame!(agent, AgentOut::VisitorLeft { contact_id, .. } => contact_id).unwrap();
    assert_eq!(left, contact);
}

#[tokio::test]
async fn with_tracking_off_nobody_is_shown_or_recorded() {
    let app = TestApp::spawn_with(ServerConfig::default(), no_grace()).await;
    let seed = app.seed("off").await;
    let owner = app.owner(&seed).await;
    owner.update_site(seed.site.id.0, &SiteRequest { tracking: Some(TrackingMode::Off), ..Default::default() }).await.unwrap();
    let mut visitor = app.visitor_socket(&seed.site).await;
    let contact = visitor.contact_id();
    let welcome_tracking = match &visitor.welcome {
        Some(VisitorOut::Welcome { site, .. }) => site.tracking,
        _ => panic!("no welcome"),
    };
    assert_eq!(welcome_tracking, TrackingMode::Off, "the widget is told not to send pages");
    page(&mut visitor, "/", "Home", None).await;
    settled(&mut visitor).await;
    let live: LiveVisitors = read(&owner, "/visitors/live").await;
    assert!(live.visitors.is_empty());
    let history: VisitPage = read(&owner, &format!("/contacts/{contact}/visits")).await;
    assert!(history.visits.is_empty());
    // Nobody to invite either.
    let got = refused(&owner, &format!("/contacts/{contact}/invite"), json!({"body": "Hi"})).await;
    assert_eq!(got, (StatusCode::CONFLICT, "visitor_not_live".into()));
}

#[tokio::test]
async fn a_visit_ends_after_thirty_minutes_without_a_page() {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let app = TestApp::spawn_limited(no_grace(), clock.clone()).await;
    let seed = app.seed("visits").await;
    let mut agent = watching(&app, &seed).await;
    let owner = app.owner(&seed).await;
    let mut visitor = app.visitor_socket(&seed.site).await;
    let contact = visitor.contact_id();

    page(&mut visitor, "/", "Home", None).await;
    let first = next_row(&mut agent).await;
    clock.advance(29 * 60_000);
    page(&mut visitor, "/pricing", "Pricing", None).await;
    let same = next_row(&mut agent).await;
    assert_eq!((same.visit_id, same.pages_this_visit), (first.visit_id, 2), "29 minutes later: the same visit");

    clock.advance(30 * 60_000 + 1);
    page(&mut visitor, "/?utm_source=ad", "Home", None).await;
    let next = next_row(&mut agent).await;
    assert_ne!(next.visit_id, first.visit_id);
    assert_eq!((next.visit_number, next.pages_this_visit), (2, 1), "30 minutes without a page: a returning visitor's second visit");
    assert_eq!(next.visit_started_at, switchboard_core::Clock::now(&*clock).0);
    assert_eq!(next.utm.source.as_deref(), Some("ad"));

    let history: VisitPage = read(&owner, &format!("/contacts/{contact}/visits")).await;
    let numbers: Vec<_> = history.visits.iter().map(|v| (v.number, v.pages.len())).collect();
    assert_eq!(numbers, [(2, 1), (1, 2)], "newest first, with their pages");
    // Paged one at a time, the cursor leads to the older one.
    let page1: VisitPage = read(&owner, &format!("/contacts/{contact}/visits?limit=1")).await;
    let before = page1.next.expect("a full page has a cursor");
    let page2: VisitPage = read(&owner, &format!("/contacts/{contact}/visits?limit=1&before={before}")).await;
    assert_eq!(page2.visits.iter().map(|v| v.number).collect::<Vec<_>>(), [1]);
    let (status, bad) = owner.get(&format!("/api/v1/contacts/{contact}/visits?before=yesterday")).await;
    assert_eq!((status, bad["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")));
}

#[tokio::test]
async fn an_invited_visitor_answers_and_the_inviting_agent_gets_the_conversation() {
    let app = TestApp::spawn_with(ServerConfig::default(), no_grace()).await;
    let seed = app.seed("invite").await;
    let owner = app.owner(&seed).await;
    let mut agent = watching(&app, &seed).await;
    let mut visitor = app.visitor_socket(&seed.site).await;
    let contact = visitor.contact_id();
    page(&mut visitor, "/pricing", "Pricing", None).await;
    next_row(&mut agent).await;

    let client: &Client = &owner;
    let sent: switchboard_testkit::proto::Invitation = client
        .post(&format!("/contacts/{contact}/invite"), &json!({"body": "Merhaba! Fiyatlar hakkında yardım ister misiniz?"}))
        .await
        .unwrap();
    let shown = expect_frame!(visitor, VisitorOut::Invitation { invitation } => invitation).unwrap();
    assert_eq!(shown.id, sent.id);
    assert_eq!(shown.body.as_deref(), Some("Merhaba! Fiyatlar hakkında yardım ister misiniz?"));
    assert_eq!(shown.agent.as_ref().map(|a| a.id), Some(seed.owner.id.0), "from the agent who invited");

    let reply = VisitorIn::Send {
        client_id: "answer-1".into(),
        conversation_id: None,
        body: "Evet, lütfen".into(),
        format: None,
        attachment_ids: vec![],
        pow: None,
        invitation_id: Some(sent.id),
        team_id: None,
    };
    visitor.send(&reply).await.unwrap();
    let (conversation, replayed) =
        expect_frame!(visitor, VisitorOut::Ack { conversation_id, replayed, .. } => (conversation_id, replayed)).unwrap();
    assert!(!replayed);
    // A retry of the same reply stores nothing twice.
    visitor.send(&reply).await.unwrap();
    let again = expect_frame!(visitor, VisitorOut::Ack { conversation_id, replayed, .. } => (conversation_id, replayed)).unwrap();
    assert_eq!(again, (conversation, true));

    let c = owner.conversation(conversation).await.unwrap();
    assert_eq!(c.assignee_id, Some(seed.owner.id.0), "assigned to the inviting agent");
    let events = owner.history(conversation, &HistoryFilter::default()).await.unwrap().items;
    let messages: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Message { message } => Some((message.author.kind, message.body.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 2, "the invitation, then the reply: {messages:?}");
    assert_eq!(messages[0].1, "Merhaba! Fiyatlar hakkında yardım ister misiniz?");
    assert_eq!(messages[1].1, "Evet, lütfen");
    assert_eq!(messages[0].0, switchboard_testkit::proto::ActorKind::Agent);

    // The live list shows them chatting with that agent.
    let row = expect_frame!(agent, AgentOut::Visitor { visitor } if visitor.chat.state == ChatState::Chatting => visitor).unwrap();
    assert_eq!((row.chat.conversation_id, row.chat.agent_id), (Some(conversation), Some(seed.owner.id.0)));
}

#[tokio::test]
async fn invitations_are_refused_for_strangers_unknown_contacts_visitors_not_live_and_wrong_invitations() {
    let app = TestApp::spawn_with(ServerConfig::default(), no_grace()).await;
    let seed = app.seed("refuse").await;
    let owner = app.owner(&seed).await;
    let mut visitor = app.visitor_socket(&seed.site).await;
    let contact = visitor.contact_id();

    // Connected but no page yet: not on the live list, so not invitable.
    let not_live = refused(&owner, &format!("/contacts/{contact}/invite"), json!({"body": "Hi"})).await;
    assert_eq!(not_live, (StatusCode::CONFLICT, "visitor_not_live".into()));

    page(&mut visitor, "/", "Home", None).await;
    settled(&mut visitor).await;
    let unknown = refused(&owner, &format!("/contacts/{}/invite", Uuid::new_v4()), json!({"body": "Hi"})).await;
    assert_eq!(unknown, (StatusCode::NOT_FOUND, "contact_not_found".into()));
    let stranger_seed = app.seed("other").await;
    let stranger = app.owner(&stranger_seed).await;
    let foreign = refused(&stranger, &format!("/contacts/{contact}/invite"), json!({"body": "Hi"})).await;
    assert_eq!(foreign, (StatusCode::NOT_FOUND, "contact_not_found".into()), "another workspace's visitor is not found");
    let empty = refused(&owner, &format!("/contacts/{contact}/invite"), json!({"body": "   "})).await;
    assert_eq!(empty, (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into()));
    let (status, _) = stranger.get(&format!("/api/v1/contacts/{contact}/visits")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another workspace's history is not found");

    // A reply naming an invitation that is not theirs is refused, and starts nothing.
    let mut other = app.visitor_socket(&seed.site).await;
    page(&mut other, "/", "Home", None).await;
    settled(&mut other).await;
    let client: &Client = &owner;
    let theirs: switchboard_testkit::proto::Invitation =
        client.post(&format!("/contacts/{}/invite", other.contact_id()), &json!({"body": "Hello"})).await.unwrap();
    let reply = VisitorIn::Send {
        client_id: "steal".into(),
        conversation_id: None,
        body: "mine now".into(),
        format: None,
        attachment_ids: vec![],
        pow: None,
        invitation_id: Some(theirs.id),
        team_id: None,
    };
    visitor.send(&reply).await.unwrap();
    let code = expect_frame!(visitor, VisitorOut::Error { code, .. } => code).unwrap();
    assert_eq!(code, ErrorCode::InvitationNotFound);
    let live: LiveVisitors = read(&owner, "/visitors/live").await;
    assert!(live.visitors.iter().all(|v| v.chat.state == ChatState::None), "no conversation started");
}

/// GeoIP (`geoip.database`): the country comes from the address the visitor connects
/// from (behind a trusted proxy, the one it forwards), the contact keeps it, and rules can
/// ask for it.
#[tokio::test]
async fn with_a_geoip_database_a_visitors_country_shows_is_kept_on_the_contact_and_a_country_rule_fires() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("country.mmdb");
    std::fs::write(&database, switchboard_testkit::mmdb::country_database(&[("203.0.113.0/24", "TR"), ("2001:db8::/32", "DE")])).unwrap();
    let proxied = ServerConfig { trusted_proxies: vec![IpRange::parse("127.0.0.0/8").unwrap()], ..ServerConfig::default() };
    let geo = database.clone();
    let app = TestApp::spawn_configured(proxied, no_grace(), Arc::new(SystemClock), move |c| c.geoip.database = Some(geo)).await;
    let seed = app.seed("geo").await;
    let owner = app.owner(&seed).await;
    let from_turkey = TriggerRequest {
        name: "Türkiye".into(),
        enabled: true,
        conditions: vec![TriggerCondition::Country { countries: vec!["TR".into()] }],
        actions: vec![TriggerAction::Message { body: "Merhaba! Yardım edebilir miyiz?".into(), agent_id: None, typing_seconds: 0 }],
        frequency: TriggerFrequency::OncePerVisit,
        every_days: None,
    };
    let rule = owner.create_trigger(seed.site.id.0, &from_turkey).await.unwrap();
    let mut agent = watching(&app, &seed).await;
    let socket_from = |forwarded: &'static str| {
        let url = format!("ws://{}/ws/visitor?site={}", app.addr, seed.site.public_key);
        async move {
            let mut ws = VisitorSocket::connect(&url, &[("x-forwarded-for", forwarded)]).await.unwrap();
            ws.hello(None, vec![]).await.unwrap();
            ws
        }
    };

    let mut istanbul = socket_from("203.0.113.7").await;
    page(&mut istanbul, "/", "Anasayfa", None).await;
    let row = next_row(&mut agent).await;
    assert_eq!((row.contact_id, row.country.as_deref()), (istanbul.contact_id(), Some("TR")));
    let shown = expect_frame!(istanbul, VisitorOut::Invitation { invitation } => invitation).unwrap();
    assert_eq!(shown.body.as_deref(), Some("Merhaba! Yardım edebilir miyiz?"));

    // An address the database does not know: no country, and the rule does not hold.
    let mut elsewhere = socket_from("192.0.2.44").await;
    page(&mut elsewhere, "/", "Home", None).await;
    let row = next_row(&mut agent).await;
    assert_eq!((row.contact_id, row.country), (elsewhere.contact_id(), None));
    let ws = switchboard_domain::WorkspaceId(seed.workspace.id.0);
    let facts = app.core.live_facts(ws, switchboard_domain::ContactId(elsewhere.contact_id())).await.expect("live");
    assert_eq!(facts.country, None);
    app.core.visitor_moment(&facts, &switchboard_domain::Moment::Page).await;
    assert_eq!(owner.trigger(rule.id).await.unwrap().stats.fired, 1, "only the visitor from Türkiye");

    // The live list says it as JSON, and the visit keeps it.
    let (_, live) = owner.get("/api/v1/visitors/live").await;
    let countries: std::collections::HashMap<String, serde_json::Value> =
        live["visitors"].as_array().unwrap().iter().map(|v| (v["contact_id"].as_str().unwrap().to_owned(), v["country"].clone())).collect();
    assert_eq!(countries[&istanbul.contact_id().to_string()], json!("TR"));
    assert_eq!(countries[&elsewhere.contact_id().to_string()], json!(null));
    let history: VisitPage = read(&owner, &format!("/contacts/{}/visits", istanbul.contact_id())).await;
    assert_eq!(history.visits[0].country.as_deref(), Some("TR"));
    // The contact keeps it too, like the browser and the language, for the contact panel
    // and exports; an unknown address records none.
    assert_eq!(owner.contact(istanbul.contact_id()).await.unwrap().country.as_deref(), Some("TR"));
    assert_eq!(owner.contact(elsewhere.contact_id()).await.unwrap().country, None);
    let (_, exported) = owner.get(&format!("/api/v1/contacts/{}/export", istanbul.contact_id())).await;
    assert_eq!(exported["contact"]["country"], json!("TR"), "the export has it: {exported}");

    // An IPv6 visitor is looked up too.
    let mut berlin = socket_from("2001:db8:5::1").await;
    page(&mut berlin, "/", "Startseite", None).await;
    assert_eq!(next_row(&mut agent).await.country.as_deref(), Some("DE"));
}

#[tokio::test]
async fn a_missing_or_malformed_geoip_database_stops_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("GeoLite2-Country.mmdb");
    let mut config = switchboard::config::Config::default();
    config.storage.data_dir = dir.path().join("data");
    config.server.listen = ([127, 0, 0, 1], 0).into();
    config.geoip.database = Some(missing.clone());
    let err = format!("{:#}", switchboard::App::build(&config).await.err().expect("refused"));
    assert!(err.contains("geoip.database") && err.contains("GeoLite2-Country.mmdb"), "{err}");
    std::fs::write(&missing, b"not a database at all").unwrap();
    let err = format!("{:#}", switchboard::App::build(&config).await.err().expect("refused"));
    assert!(err.contains("GeoLite2-Country.mmdb") && err.contains("not a MaxMind DB"), "{err}");
}
