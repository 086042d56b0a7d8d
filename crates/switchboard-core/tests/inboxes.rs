//! Inboxes and workspace settings, proved by calling core directly: everyone lists the
//! inboxes, only owners and admins create them or change the workspace, and kinds that
//! cannot take conversations yet are refused.

mod support;

use switchboard_core::*;
use switchboard_domain::*;

use support::{Team as World, team as world};

#[tokio::test]
async fn a_new_site_is_an_inbox_every_agent_can_list() {
    let World { core, owner, agent, .. } = &world().await;
    let site = core.create_site(owner, SiteInput { name: Some("Shop".into()), ..Default::default() }).await.unwrap();

    let listed = core.inboxes(agent).await.unwrap();
    assert_eq!(
        listed.iter().map(|i| (i.id, i.name.as_str(), i.kind)).collect::<Vec<_>>(),
        [(InboxId::from(site.id), "Shop", InboxKind::Website)]
    );
}

#[tokio::test]
async fn admins_create_website_inboxes_and_agents_cannot() {
    let World { core, owner, admin, agent, .. } = &world().await;
    assert!(matches!(core.create_inbox(agent, "Blog", InboxKind::Website).await, Err(Error::Forbidden)));

    let blog = core.create_inbox(admin, "Blog", InboxKind::Website).await.unwrap();
    let site = core.site(owner, SiteId(blog.id.0)).await.unwrap();
    assert_eq!((site.name.as_str(), blog.kind), ("Blog", InboxKind::Website), "a website inbox is a site");
    assert_eq!(core.inboxes(agent).await.unwrap(), vec![blog]);
}

#[tokio::test]
async fn inbox_kinds_without_a_channel_yet_are_refused_not_pretended() {
    let World { core, owner, .. } = &world().await;
    for kind in [InboxKind::Email, InboxKind::Telegram, InboxKind::Api] {
        let refused = core.create_inbox(owner, "Support", kind).await;
        assert!(matches!(refused, Err(Error::InboxKindUnsupported(k)) if k == kind), "{kind:?}: {refused:?}");
    }
    assert!(core.inboxes(owner).await.unwrap().is_empty(), "nothing was created");
    assert!(core.sites(owner).await.unwrap().is_empty());
}

#[tokio::test]
async fn owners_and_admins_set_the_workspace_time_zone_and_agents_cannot() {
    let World { core, owner, admin, agent, .. } = &world().await;
    assert_eq!(core.workspace(agent).await.unwrap().time_zone.as_str(), "UTC", "a new workspace is on UTC");

    let tehran = WorkspacePatch { time_zone: Some(TimeZone::parse("Asia/Tehran").unwrap()), ..Default::default() };
    assert!(matches!(core.update_workspace(agent, tehran.clone()).await, Err(Error::Forbidden)));
    assert_eq!(core.workspace(agent).await.unwrap().time_zone.as_str(), "UTC");

    let changed = core.update_workspace(admin, tehran).await.unwrap();
    assert_eq!((changed.name.as_str(), changed.time_zone.as_str()), ("Shop", "Asia/Tehran"));
    let istanbul =
        WorkspacePatch { name: Some("Dükkan".into()), time_zone: Some(TimeZone::parse("Europe/Istanbul").unwrap()), ..Default::default() };
    core.update_workspace(owner, istanbul).await.unwrap();
    let read = core.workspace(agent).await.unwrap();
    assert_eq!((read.name.as_str(), read.time_zone.as_str()), ("Dükkan", "Europe/Istanbul"));

    let blank = WorkspacePatch { name: Some("  ".into()), ..Default::default() };
    assert!(matches!(core.update_workspace(owner, blank).await, Err(Error::Invalid(_))));
}
