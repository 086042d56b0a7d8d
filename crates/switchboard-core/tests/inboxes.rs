//! Inboxes and workspace settings, proved by calling core directly: everyone lists the
//! inboxes, only owners and admins create them or change the workspace, and kinds that
//! cannot take conversations yet are refused. The inbox visibility is kept in memory
//! per node and dropped on every node when it changes.

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

/// Whether `who` sees the whole workspace on `core`.
async fn sees_everything(core: &Core, who: &Principal) -> bool {
    core.conversation_scope(who).await.unwrap().is_all()
}

#[tokio::test]
async fn inbox_visibility_is_read_once_per_node_and_a_change_reaches_every_node() {
    let dir = tempfile::tempdir().unwrap();
    let (store, bus, here) = support::open(dir.path()).await;
    let there =
        Core::new(store.clone(), bus.clone(), std::sync::Arc::new(switchboard_store::FsBlobStore::new(dir.path())), Limits::default())
            .await
            .unwrap();
    let (owner, _) = support::shop(&here).await;
    let ana = support::as_agent(&here.create_agent(&owner, support::new_agent("ana@shop.example", Role::Agent)).await.unwrap());
    assert!(sees_everything(&there, &ana).await);

    // Written behind both nodes' backs: the copy in memory still answers, so a read of
    // a conversation costs no read of the workspace.
    let mut ws = store.workspace(owner.workspace_id).await.unwrap();
    ws.inbox_visibility = InboxVisibility::Teams;
    store.update_workspace(&ws).await.unwrap();
    assert!(sees_everything(&there, &ana).await, "the node read the workspace again");

    // Changed through a node: that node at once, the other when the bus tells it.
    let patch = WorkspacePatch { inbox_visibility: Some(InboxVisibility::Teams), ..Default::default() };
    here.update_workspace(&owner, patch).await.unwrap();
    assert!(!sees_everything(&here, &ana).await);
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while sees_everything(&there, &ana).await {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the other node never heard that the workspace changed");

    let patch = WorkspacePatch { inbox_visibility: Some(InboxVisibility::All), ..Default::default() };
    there.update_workspace(&owner, patch).await.unwrap();
    assert!(sees_everything(&there, &ana).await);
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !sees_everything(&here, &ana).await {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the first node never heard that the workspace changed back");
}
