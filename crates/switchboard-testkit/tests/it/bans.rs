//! Stories about bans: a workspace refuses an address or range, a visitor, or an e-mail;
//! the refused visitor is turned away before anything of theirs is written (rows are
//! counted before and after), their open sockets close, and a ban ends when it expires.

use std::sync::Arc;

use reqwest::StatusCode;
use switchboard_core::{Clock, ManualClock};
use switchboard_domain::{ContactId, ConversationId, IpRange, Timestamp};
use switchboard_server::ServerConfig;
use switchboard_store::{Audience, ConversationFilter, EventQuery};
use switchboard_testkit::proto::{BanKind, BanRequest, BlockVisitorRequest, ErrorCode, Role, VisitorIn, VisitorOut};
use switchboard_testkit::{Seed, SocketError, TestApp, VisitorSocket, expect_frame};
use uuid::Uuid;

use crate::support::*;

fn ban(kind: BanKind, value: &str) -> BanRequest {
    BanRequest { kind, value: value.into(), reason: "abusive messages".into(), expires_at: None }
}

/// What the store holds of a workspace's visitors: contacts, and events in a conversation.
async fn contacts(app: &TestApp, seed: &Seed) -> usize {
    app.core.store.search_contacts(seed.workspace.id, &[], 1000).await.unwrap().len()
}

async fn events(app: &TestApp, seed: &Seed, conversation: Uuid) -> usize {
    let query = EventQuery::replay(0, 1000, Audience::Agents);
    app.core.store.conversation_events(seed.workspace.id, ConversationId(conversation), &query).await.unwrap().len()
}

#[track_caller]
fn refused_as_banned<T>(got: Result<T, SocketError>) {
    match got {
        Err(SocketError::Refused { code, .. }) => assert_eq!(code, ErrorCode::Banned),
        Err(other) => panic!("expected the hello to be refused as banned, got {other:?}"),
        Ok(_) => panic!("expected the hello to be refused as banned, but the visitor was welcomed"),
    }
}

#[tokio::test]
async fn a_banned_address_is_refused_before_anything_is_written_and_lifting_the_ban_lets_it_in() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let (visitor, conversation) = visitor_with_conversation(&app, &seed, "c-1", "hello").await;
    let token = visitor.token().to_owned();
    drop(visitor);
    let (before_contacts, before_events) = (contacts(&app, &seed).await, events(&app, &seed, conversation).await);
    let last_seen = app.core.store.search_contacts(seed.workspace.id, &[], 10).await.unwrap()[0].last_seen;

    // The tests connect from 127.0.0.1.
    let banned = owner.create_ban(&ban(BanKind::Ip, "127.0.0.1")).await.unwrap();
    assert_eq!((banned.value.as_str(), banned.active), ("127.0.0.1/32", true));
    refused_as_banned(VisitorSocket::open(&app.url(""), &seed.site.public_key, None, vec![]).await);
    refused_as_banned(VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await);
    assert_refused(owner.widget_site(&seed.site.public_key).await, StatusCode::FORBIDDEN, ErrorCode::Banned);
    assert_refused(
        owner.widget_upload(&seed.site.public_key, &token, "a.png", PNG_3X2.to_vec()).await,
        StatusCode::FORBIDDEN,
        ErrorCode::Banned,
    );
    assert_eq!(contacts(&app, &seed).await, before_contacts, "no contact was created");
    assert_eq!(events(&app, &seed, conversation).await, before_events, "nothing was posted");
    let contact = app.core.store.search_contacts(seed.workspace.id, &[], 10).await.unwrap()[0].clone();
    assert_eq!(contact.last_seen, last_seen, "the returning visitor was not even marked as seen");

    owner.lift_ban(banned.id).await.unwrap();
    let mut back = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.expect("welcome after the lift");
    back.say(Some(conversation), "c-2", "me again").await.expect("ack");
    assert!(owner.bans().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_range_bans_the_addresses_inside_it_and_not_the_next_one() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    // 127.0.0.2/31 is .2 and .3: it ends right after the tests' address.
    let next_door = owner.create_ban(&ban(BanKind::Ip, "127.0.0.2/31")).await.unwrap();
    assert_eq!(next_door.value, "127.0.0.2/31");
    let mut visitor = app.visitor_socket(&seed.site).await;
    visitor.say(None, "c-1", "still welcome").await.expect("ack");
    // 127.0.0.0/31 is .0 and .1, written with host bits that are cleared.
    let ours = owner.create_ban(&ban(BanKind::Ip, "127.0.0.1/31")).await.unwrap();
    assert_eq!(ours.value, "127.0.0.0/31");
    expect_error(&mut visitor, ErrorCode::Banned).await;
    assert!(visitor.next().await.is_err(), "the open socket was closed");
    refused_as_banned(VisitorSocket::open(&app.url(""), &seed.site.public_key, None, vec![]).await);
    assert_invalid(owner.create_ban(&ban(BanKind::Ip, "127.0.0.1/33")).await, "value");
    assert_invalid(owner.create_ban(&ban(BanKind::Ip, "0.0.0.0/0")).await, "value");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_ipv6_address_is_the_one_checked() {
    let config = ServerConfig { trusted_proxies: vec![IpRange::parse("127.0.0.0/8").unwrap()], ..ServerConfig::default() };
    let app = TestApp::spawn_with(config, Default::default()).await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    owner.create_ban(&ban(BanKind::Ip, "2001:db8:0:ff00::/56")).await.unwrap();
    let widget = |from: &'static str| {
        let url = app.url(&format!("/api/v1/widget/{}", seed.site.public_key));
        async move { reqwest::Client::new().get(url).header("x-forwarded-for", from).send().await.unwrap().status() }
    };
    assert_eq!(widget("2001:db8:0:ff00::1").await, StatusCode::FORBIDDEN, "first address of the range");
    assert_eq!(widget("2001:db8:0:ffff:ffff:ffff:ffff:ffff").await, StatusCode::FORBIDDEN, "last address of the range");
    assert_eq!(widget("2001:db8:0:feff:ffff:ffff:ffff:ffff").await, StatusCode::OK, "just before it");
    assert_eq!(widget("2001:db8:0:1::").await, StatusCode::OK, "just after it");
    assert_eq!(widget("198.51.100.1, 2001:db8:0:ff00::9").await, StatusCode::FORBIDDEN, "the last hop before our proxy counts");
}

#[tokio::test]
async fn an_agent_blocks_a_visitor_from_the_conversation_and_their_sockets_close() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let (_, agent) = new_agent(&app, &owner, "ana@shop.example", Role::Agent).await;
    let (mut troll, conversation) = visitor_with_conversation(&app, &seed, "c-1", "you are all useless").await;
    let token = troll.token().to_owned();
    let mut neighbour = app.visitor_socket(&seed.site).await;
    let before = events(&app, &seed, conversation).await;

    let block = BlockVisitorRequest { reason: "insults".into(), expires_at: None, ip: false };
    let bans = agent.block_visitor(conversation, &block).await.unwrap();
    assert_eq!(bans.len(), 1);
    assert_eq!((bans[0].kind, bans[0].reason.as_str()), (BanKind::Contact, "insults"));
    expect_error(&mut troll, ErrorCode::Banned).await;
    assert!(troll.next().await.is_err(), "the visitor's socket was closed");
    refused_as_banned(VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await);
    assert_eq!(events(&app, &seed, conversation).await, before, "nothing more was stored");
    // Another visitor from the same address is not this contact: the address was not banned.
    neighbour.say(None, "n-1", "hello?").await.expect("another visitor is served");

    // An agent may not manage the list itself.
    assert_refused(agent.bans().await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_refused(agent.create_ban(&ban(BanKind::Ip, "192.0.2.1")).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_refused(agent.lift_ban(bans[0].id).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    let listed = owner.bans().await.unwrap();
    assert_eq!(listed.iter().map(|b| (b.id, b.created_by.id)).collect::<Vec<_>>(), [(bans[0].id, listed[0].created_by.id)]);
    assert!(listed[0].created_by.id.is_some(), "the author is recorded");
}

#[tokio::test]
async fn blocking_also_the_address_bans_where_the_visitor_connected_from() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let (_troll, conversation) = visitor_with_conversation(&app, &seed, "c-1", "spam spam").await;
    let bans = owner.block_visitor(conversation, &BlockVisitorRequest { reason: String::new(), expires_at: None, ip: true }).await.unwrap();
    let kinds: Vec<_> = bans.iter().map(|b| (b.kind, b.value.clone())).collect();
    assert_eq!(kinds[1], (BanKind::Ip, "127.0.0.1/32".to_owned()), "{kinds:?}");
    refused_as_banned(VisitorSocket::open(&app.url(""), &seed.site.public_key, None, vec![]).await);
}

#[tokio::test]
async fn a_banned_email_refuses_the_visitor_who_gives_it_without_storing_it() {
    let app = TestApp::spawn().await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    owner.create_ban(&ban(BanKind::Email, "Troll@Example.com")).await.unwrap();
    let mut visitor = app.visitor_socket(&seed.site).await;
    let contact = ContactId(visitor_contact(&visitor));
    let profile = VisitorIn::Profile { name: None, email: Some("troll@example.com".into()), phone: None, attributes: Default::default() };
    visitor.send(&profile).await.unwrap();
    expect_error(&mut visitor, ErrorCode::Banned).await;
    let stored = app.core.store.contact(seed.workspace.id, contact).await.unwrap();
    assert_eq!(stored.email, None, "the banned e-mail was never written");
    // A visitor whose contact already has the e-mail is refused at the next hello.
    let mut other = app.visitor_socket(&seed.site).await;
    let profile = VisitorIn::Profile { name: None, email: Some("friend@example.com".into()), phone: None, attributes: Default::default() };
    other.send(&profile).await.unwrap();
    assert_usable(&mut other).await;
    let token = other.token().to_owned();
    owner.create_ban(&ban(BanKind::Email, "friend@example.com")).await.unwrap();
    expect_error(&mut other, ErrorCode::Banned).await;
    refused_as_banned(VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await);
}

fn visitor_contact(v: &VisitorSocket) -> Uuid {
    match &v.welcome {
        Some(VisitorOut::Welcome { contact_id, .. }) => *contact_id,
        other => panic!("no welcome: {other:?}"),
    }
}

#[tokio::test]
async fn a_ban_ends_when_it_expires() {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let app = TestApp::spawn_at(clock.clone()).await;
    let seed = app.seed("shop").await;
    let owner = app.owner(&seed).await;
    let (visitor, conversation) = visitor_with_conversation(&app, &seed, "c-1", "hi").await;
    let token = visitor.token().to_owned();
    drop(visitor);
    let hour = 3_600_000;
    let block = BlockVisitorRequest { reason: "cool down".into(), expires_at: Some(clock.now().0 + hour), ip: false };
    owner.block_visitor(conversation, &block).await.unwrap();
    refused_as_banned(VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await);
    clock.advance(hour - 1);
    refused_as_banned(VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await);
    clock.advance(1);
    let mut back = VisitorSocket::open(&app.url(""), &seed.site.public_key, Some(&token), vec![]).await.expect("the ban has expired");
    back.say(Some(conversation), "c-2", "sorry").await.expect("ack");
    let listed = owner.bans().await.unwrap();
    assert!(!listed[0].active, "listed, but no longer in force");
    let past = BlockVisitorRequest { reason: String::new(), expires_at: Some(clock.now().0 - 1), ip: false };
    assert_invalid(owner.block_visitor(conversation, &past).await, "expires_at");
    let filter = ConversationFilter { limit: 10, ..Default::default() };
    assert_eq!(app.core.store.conversations(seed.workspace.id, &filter).await.unwrap().len(), 1);
}

#[tokio::test]
async fn one_workspace_never_sees_nor_lifts_anothers_bans() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.seed("a").await, app.seed("b").await);
    let (owner_a, owner_b) = (app.owner(&a).await, app.owner(&b).await);
    let banned = owner_a.create_ban(&ban(BanKind::Email, "x@example.com")).await.unwrap();
    assert!(owner_b.bans().await.unwrap().is_empty());
    assert_refused(owner_b.lift_ban(banned.id).await, StatusCode::NOT_FOUND, ErrorCode::BanNotFound);
    // A ban of A's does not refuse B's visitors.
    owner_a.create_ban(&ban(BanKind::Ip, "127.0.0.1")).await.unwrap();
    let mut at_b = app.visitor_socket(&b.site).await;
    at_b.say(None, "c-1", "hello B").await.expect("B serves the visitor");
    let _ = expect_frame!(at_b, VisitorOut::CaughtUp { .. });
}
