//! Visitor sessions over a real store, with a clock the test controls.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use switchboard_bus::LocalBus;
use switchboard_core::*;
use switchboard_domain::*;
use switchboard_store::FsBlobStore;
use switchboard_store_sqlite::SqliteStore;

struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// A workspace with an owner and a site, over a real store, with a clock the test controls.
struct World {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    clock: Arc<ManualClock>,
    core: Core,
    ws: Workspace,
    owner: Principal,
    site: Site,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_temp(dir.path()).await.unwrap());
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let core = Core::new(store.clone(), Arc::new(LocalBus::default()), Arc::new(FsBlobStore::new(dir.path())), Limits::default())
        .await
        .unwrap()
        .with_clock(clock.clone());
    let (ws, owner) = core.create_workspace("Shop", new_agent("o@shop.example", "O", Role::Owner)).await.unwrap();
    let owner = Principal { workspace_id: ws.id, actor: Actor::Agent(owner.id), role: Role::Owner };
    let site = core.create_site(&owner, SiteInput { name: Some("Shop".into()), ..Default::default() }).await.unwrap();
    World { _dir: dir, store, clock, core, ws, owner, site }
}

fn new_agent(email: &str, name: &str, role: Role) -> NewAgent {
    NewAgent {
        email: Email::parse(email).unwrap(),
        name: name.into(),
        role,
        password: "long enough password".into(),
        locale: None,
        max_chats: None,
        avatar_url: None,
    }
}

#[tokio::test]
async fn a_returning_visitor_is_rewritten_only_when_something_changed() {
    let World { store, clock, core, ws, site, .. } = &world().await;
    let firefox = DeviceInfo { browser: Some("Firefox".into()), ..Default::default() };
    let hello = |token: Option<String>, device: DeviceInfo| VisitorHello {
        site_key: site.public_key.clone(),
        origin: Default::default(),
        token,
        device,
        ip: None,
    };

    let first = core.visitor(hello(None, firefox.clone())).await.unwrap();
    let seen = |id| {
        let store = store.clone();
        async move { switchboard_store::Contacts::contact(&*store, ws.id, id).await.unwrap() }
    };
    clock.0.fetch_add(30_000, Ordering::SeqCst);
    core.visitor(hello(Some(first.token.clone()), firefox.clone())).await.unwrap();
    assert_eq!(seen(first.contact.id).await.last_seen, Timestamp(1_000_000), "half a minute later: nothing to write");

    let chrome = DeviceInfo { browser: Some("Chrome".into()), ..Default::default() };
    core.visitor(hello(Some(first.token.clone()), chrome.clone())).await.unwrap();
    let contact = seen(first.contact.id).await;
    assert_eq!((contact.last_seen, contact.device), (Timestamp(1_030_000), chrome.clone()), "a new browser is recorded");

    clock.0.fetch_add(60_000, Ordering::SeqCst);
    core.visitor(hello(Some(first.token), chrome)).await.unwrap();
    assert_eq!(seen(first.contact.id).await.last_seen, Timestamp(1_090_000), "a minute later, last_seen moves");
}

#[tokio::test]
async fn visitors_see_agent_changes_made_here_at_once_and_elsewhere_within_the_roster_ttl() {
    let World { store, clock, core, ws, owner, .. } = &world().await;
    let names = || async { core.roster(ws.id).await.unwrap().iter().map(|a| a.name.clone()).collect::<Vec<_>>() };
    assert_eq!(names().await, ["O"]);

    let sam = core.create_agent(owner, new_agent("sam@shop.example", "Sam", Role::Agent)).await.unwrap();
    assert_eq!(names().await, ["O", "Sam"], "an agent added on this node is shown at once");
    let patch = AgentPatch { name: Some("Sam K".into()), ..Default::default() };
    core.update_agent(owner, sam.id, patch).await.unwrap();
    assert_eq!(names().await, ["O", "Sam K"], "and so is a rename");

    // Another node sharing the database renames Sam: this node learns it when its copy expires.
    switchboard_store::Directory::update_agent(&**store, &Agent { name: "Samuel".into(), ..sam.clone() }).await.unwrap();
    assert_eq!(names().await, ["O", "Sam K"]);
    clock.0.fetch_add(ROSTER_TTL_MS, Ordering::SeqCst);
    assert_eq!(names().await, ["O", "Samuel"]);

    core.delete_agent(owner, sam.id).await.unwrap();
    assert_eq!(names().await, ["O"], "a removed agent is gone at once");
}

/// A thousand visitors on one site keep one copy of it between them, not one each; a
/// site edited meanwhile is what the next visitor gets, and those before keep theirs.
#[tokio::test]
async fn visitors_on_one_site_share_one_copy_of_it_until_it_changes() {
    let World { core, owner, site, .. } = &world().await;
    let hello = || VisitorHello {
        site_key: site.public_key.clone(),
        origin: Default::default(),
        token: None,
        device: Default::default(),
        ip: None,
    };

    let ana = core.visitor(hello()).await.unwrap();
    let ben = core.visitor(hello()).await.unwrap();
    assert!(Arc::ptr_eq(&ana.site, &ben.site), "two visitors of an unchanged site share its copy");

    core.update_site(owner, site.id, SiteInput { name: Some("Shop (sale)".into()), ..Default::default() }).await.unwrap();
    let cy = core.visitor(hello()).await.unwrap();
    assert_eq!(cy.site.name, "Shop (sale)", "the next visitor sees the edit");
    assert!(!Arc::ptr_eq(&ana.site, &cy.site));
    assert_eq!(ana.site.name, "Shop", "an open session keeps the site it was welcomed on");
    let dee = core.visitor(hello()).await.unwrap();
    assert!(Arc::ptr_eq(&cy.site, &dee.site), "and the edited copy is shared from then on");
}
