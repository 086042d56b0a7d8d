//! Inboxes and the workspace's time zone over the REST API: a site is a website inbox,
//! conversations say which inbox they came in through and can be listed by it (the
//! `site_id` filter keeps working), and owners and admins set an IANA time zone.

use reqwest::StatusCode;
use switchboard_testkit::ConversationFilter;
use switchboard_testkit::TestApp;
use switchboard_testkit::proto::{CreateInbox, ErrorCode, InboxKind, Role, SiteRequest, UpdateWorkspace};

use crate::support::{assert_invalid, assert_refused, ids, new_agent, visitor_with_conversation};

#[tokio::test]
async fn a_conversation_names_its_website_inbox_and_lists_filter_by_it() {
    let app = TestApp::spawn().await;
    let seed = app.seed("inboxes").await;
    let owner = app.owner(&seed).await;
    let site = seed.site.id.0;
    let (_visitor, conversation) = visitor_with_conversation(&app, &seed, "c-1", "Hello from the shop").await;
    let (_, agent) = new_agent(&app, &owner, "ana@inboxes.example", Role::Agent).await;

    let inboxes = agent.inboxes().await.unwrap();
    assert_eq!(inboxes.len(), 1, "{inboxes:?}");
    assert_eq!((inboxes[0].id, inboxes[0].kind), (site, InboxKind::Website));
    assert_eq!(inboxes[0].name, seed.site.name);

    let read = agent.conversation(conversation).await.unwrap();
    assert_eq!((read.inbox_id, read.inbox_kind), (site, InboxKind::Website));
    assert_eq!(read.site_id, site, "site_id stays");

    let by_inbox = agent.conversations(&ConversationFilter { inbox_id: Some(site), ..Default::default() }).await.unwrap();
    assert_eq!(ids(&by_inbox), [conversation]);
    let by_site = agent.conversations(&ConversationFilter { site_id: Some(site), ..Default::default() }).await.unwrap();
    assert_eq!(ids(&by_site), [conversation]);

    let blog = owner.create_site(&SiteRequest { name: Some("Blog".into()), ..SiteRequest::default() }).await.unwrap();
    let elsewhere = agent.conversations(&ConversationFilter { inbox_id: Some(blog.id), ..Default::default() }).await.unwrap();
    assert!(ids(&elsewhere).is_empty(), "{elsewhere:?}");
}

#[tokio::test]
async fn only_website_inboxes_can_be_created_and_only_by_admins() {
    let app = TestApp::spawn().await;
    let seed = app.seed("creating").await;
    let owner = app.owner(&seed).await;
    let (_, agent) = new_agent(&app, &owner, "ana@creating.example", Role::Agent).await;
    let inbox = |name: &str, kind| CreateInbox { name: name.into(), kind };

    assert_refused(agent.create_inbox(&inbox("Blog", InboxKind::Website)).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    for kind in [InboxKind::Email, InboxKind::Telegram, InboxKind::Api] {
        let refused = owner.create_inbox(&inbox("Support", kind)).await;
        assert_refused(refused, StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InboxKindUnsupported);
    }
    let blog = owner.create_inbox(&inbox("Blog", InboxKind::Website)).await.unwrap();
    assert_eq!(blog.kind, InboxKind::Website);
    let site = owner.site(blog.id).await.expect("a website inbox is a site");
    assert_eq!(site.name, "Blog");
    assert_eq!(owner.inboxes().await.unwrap().len(), 2);
}

#[tokio::test]
async fn admins_set_the_workspace_time_zone_from_the_iana_database() {
    let app = TestApp::spawn().await;
    let seed = app.seed("zoned").await;
    let owner = app.owner(&seed).await;
    let (_, admin) = new_agent(&app, &owner, "adam@zoned.example", Role::Admin).await;
    let (_, agent) = new_agent(&app, &owner, "ana@zoned.example", Role::Agent).await;
    let zone = |tz: &str| UpdateWorkspace { time_zone: Some(tz.into()), ..UpdateWorkspace::default() };

    assert_eq!(agent.workspace().await.unwrap().time_zone, "UTC");
    assert_refused(agent.update_workspace(&zone("Asia/Tehran")).await, StatusCode::FORBIDDEN, ErrorCode::Forbidden);
    assert_invalid(admin.update_workspace(&zone("Mars/Olympus_Mons")).await, "time_zone");

    let ws = admin.update_workspace(&zone("asia/tehran")).await.unwrap();
    assert_eq!((ws.time_zone.as_str(), ws.name.as_str()), ("Asia/Tehran", seed.workspace.name.as_str()));
    let me = agent.me().await.unwrap();
    assert_eq!(me.workspace.time_zone, "Asia/Tehran", "everyone sees it: {me:?}");
}
