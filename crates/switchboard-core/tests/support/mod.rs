//! What the core tests share: a real SQLite store publishing to an in-process bus, a core
//! over it, and a workspace's first accounts. Each test binary uses part of it.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use switchboard_bus::LocalBus;
use switchboard_core::*;
use switchboard_domain::*;
use switchboard_store::{FsBlobStore, Store};
use switchboard_store_sqlite::{Durability, SqliteOptions, SqliteStore};

/// The store in `dir` (opened again after a "restart" if it exists), its bus, and a core over
/// them, as the server wires them: committed events are published on the bus.
pub async fn open(dir: &Path) -> (Arc<dyn Store>, Arc<LocalBus>, Core) {
    let bus = Arc::new(LocalBus::default());
    let opts = SqliteOptions {
        durability: Durability::Normal,
        hook: Some(Arc::new(Publisher { bus: bus.clone() })),
        ..SqliteOptions::new(dir.join("switchboard.db"))
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&opts).await.unwrap());
    let core = Core::new(store.clone(), bus.clone(), Arc::new(FsBlobStore::new(dir)), Limits::default()).await.unwrap();
    (store, bus, core)
}

/// An account to create, named after its e-mail's local part.
pub fn new_agent(email: &str, role: Role) -> NewAgent {
    NewAgent {
        email: Email::parse(email).unwrap(),
        name: email.split('@').next().unwrap().into(),
        role,
        password: "long enough password".into(),
        locale: None,
        max_chats: None,
        avatar_url: None,
    }
}

/// The agent, acting on their own behalf.
pub fn as_agent(agent: &Agent) -> Principal {
    Principal { workspace_id: agent.workspace_id, actor: Actor::Agent(agent.id), role: agent.role }
}

/// The "Shop" workspace with its owner `o@shop.example` and one site open to any origin.
pub async fn shop(core: &Core) -> (Principal, Site) {
    let (_, owner) = core.create_workspace("Shop", new_agent("o@shop.example", Role::Owner)).await.unwrap();
    let owner = as_agent(&owner);
    let site = core.create_site(&owner, SiteInput { name: Some("Shop".into()), ..Default::default() }).await.unwrap();
    (owner, site)
}

/// A workspace with its owner, an admin and an agent, over a real store in `_dir`.
pub struct Team {
    pub _dir: tempfile::TempDir,
    pub core: Core,
    pub owner: Principal,
    pub admin: Principal,
    pub agent: Principal,
}

pub async fn team() -> Team {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, core) = open(dir.path()).await;
    let (ws, owner) = core.create_workspace("Shop", new_agent("olga@shop.example", Role::Owner)).await.unwrap();
    let owner = as_agent(&owner);
    let admin = as_agent(&core.create_agent(&owner, new_agent("adam@shop.example", Role::Admin)).await.unwrap());
    let agent = as_agent(&core.create_agent(&owner, new_agent("ana@shop.example", Role::Agent)).await.unwrap());
    assert_eq!(owner.workspace_id, ws.id);
    Team { _dir: dir, core, owner, admin, agent }
}
