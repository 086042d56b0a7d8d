//! `TestApp::spawn()`: a real server, in-process, on `127.0.0.1:0` with a fresh SQLite
//! database in a temporary directory.

use std::net::SocketAddr;
use std::sync::Arc;

use switchboard_bus::LocalBus;
use switchboard_core::{Clock, Core, Limits, ManualClock, NewAgent, Publisher, RanJob, SiteInput};
use switchboard_domain::*;
use switchboard_server::{Server, ServerConfig};
use switchboard_store::FsBlobStore;
use switchboard_store_sqlite::{Durability, SqliteOptions, SqliteStore};
use tokio::sync::oneshot;

use crate::clients::{AgentSocket, Api, VisitorSocket, Ws};

/// A workspace with an owner and a site, as the demo creates.
#[derive(Clone, Debug)]
pub struct Seed {
    pub workspace: Workspace,
    pub owner: Agent,
    pub password: String,
    pub site: Site,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub core: Core,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(ServerConfig::default(), Limits::default()).await
    }

    /// A server whose clock moves only when the test moves `clock`; run due jobs with
    /// [`TestApp::run_pending_jobs`].
    pub async fn spawn_at(clock: Arc<ManualClock>) -> Self {
        Self::spawn_full(ServerConfig::default(), Limits::default(), Some(clock)).await
    }

    pub async fn spawn_with(config: ServerConfig, limits: Limits) -> Self {
        Self::spawn_full(config, limits, None).await
    }

    /// The server never runs jobs by itself here (`run_jobs` is off), so tests are
    /// deterministic: they call [`TestApp::run_pending_jobs`].
    async fn spawn_full(config: ServerConfig, limits: Limits, clock: Option<Arc<ManualClock>>) -> Self {
        crate::telemetry::init();
        let dir = tempfile::tempdir().expect("temp dir");
        let bus = Arc::new(LocalBus::default());
        let opts = SqliteOptions {
            durability: Durability::Normal,
            hook: Some(Arc::new(Publisher { bus: bus.clone() })),
            ..SqliteOptions::new(dir.path().join("switchboard.db"))
        };
        let store = Arc::new(SqliteStore::open(&opts).await.expect("open store"));
        let blobs = Arc::new(FsBlobStore::new(dir.path().join("blobs")));
        let mut core = Core::new(store, bus, blobs, limits).await.expect("core");
        if let Some(clock) = clock {
            core = core.with_clock(clock as Arc<dyn Clock>);
        }
        let server = Server::new(core.clone(), ServerConfig { run_jobs: false, ..config });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(server.serve(listener, async move {
            let _ = stopped.await;
        }));
        Self { addr, core, stop: Some(stop), server: Some(handle), _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A workspace named `name` with owner `owner@<name>.example` and one site open to any origin.
    pub async fn seed(&self, name: &str) -> Seed {
        let password = "correct horse battery".to_owned();
        let owner = NewAgent {
            email: Email::parse(&format!("owner@{name}.example")).unwrap(),
            name: format!("{name} owner"),
            role: Role::Owner,
            password: password.clone(),
            locale: None,
            max_chats: None,
            avatar_url: None,
        };
        let (workspace, owner) = self.core.create_workspace(name, owner).await.expect("workspace");
        let who = switchboard_core::Principal { workspace_id: workspace.id, actor: Actor::Agent(owner.id), role: Role::Owner };
        let site = self.core.create_site(&who, SiteInput { name: Some(format!("{name} site")), ..Default::default() }).await.expect("site");
        Seed { workspace, owner, password, site }
    }

    /// An HTTP client signed in as the given agent (cookie + CSRF header).
    pub async fn login(&self, email: &str, password: &str) -> Api {
        let mut api = Api::new(self.url(""));
        api.login(email, password).await.expect("login");
        api
    }

    pub async fn owner(&self, seed: &Seed) -> Api {
        self.login(seed.owner.email.as_str(), &seed.password).await
    }

    /// An anonymous visitor socket on `site`, after `hello` (no token).
    pub async fn visitor(&self, site: &Site) -> Ws {
        Ws::visitor(self.addr, &site.public_key, None, None).await
    }

    /// An anonymous visitor on `site`, typed, after `hello` (no token).
    pub async fn visitor_socket(&self, site: &Site) -> VisitorSocket {
        VisitorSocket::open(&self.url(""), &site.public_key, None, vec![]).await.expect("visitor socket")
    }

    /// An integration's agent socket with the API token `secret`, after `hello`.
    pub async fn agent_socket(&self, secret: &str) -> AgentSocket {
        AgentSocket::open(&self.url(""), secret, None).await.expect("agent socket")
    }

    /// Runs every job due at the app's clock, as the server's worker would, and says what ran.
    pub async fn run_pending_jobs(&self) -> Vec<RanJob> {
        self.core.run_pending_jobs().await.expect("running due jobs")
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
