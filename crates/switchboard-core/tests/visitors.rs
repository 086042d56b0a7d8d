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

#[tokio::test]
async fn a_returning_visitor_is_rewritten_only_when_something_changed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_temp(dir.path()).await.unwrap());
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let core = Core::new(store.clone(), Arc::new(LocalBus::default()), Arc::new(FsBlobStore::new(dir.path())), Limits::default())
        .await
        .unwrap()
        .with_clock(clock.clone());
    let owner = NewAgent {
        email: Email::parse("o@shop.example").unwrap(),
        name: "O".into(),
        role: Role::Owner,
        password: "long enough password".into(),
        locale: None,
        max_chats: None,
        avatar_url: None,
    };
    let (ws, owner) = core.create_workspace("Shop", owner).await.unwrap();
    let who = Principal { workspace_id: ws.id, actor: Actor::Agent(owner.id), role: Role::Owner };
    let site = core.create_site(&who, SiteInput { name: Some("Shop".into()), ..Default::default() }).await.unwrap();
    let firefox = DeviceInfo { browser: Some("Firefox".into()), ..Default::default() };
    let hello = |token: Option<String>, device: DeviceInfo| VisitorHello { site_key: site.public_key.clone(), origin: None, token, device };

    let first = core.visitor(hello(None, firefox.clone())).await.unwrap();
    let seen = |id| {
        let store = store.clone();
        async move { switchboard_store::Store::contact(&*store, ws.id, id).await.unwrap() }
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
