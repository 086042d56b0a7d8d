//! `TestApp::spawn()`: the real application, built by the same builder as the binary
//! (`switchboard::App`), in-process on `127.0.0.1:0` with a fresh database: SQLite in a
//! temporary directory by default, or a fresh database on a throwaway PostgreSQL server
//! shared by the test process when `SWITCHBOARD_TEST_BACKEND=postgres`.

use std::net::SocketAddr;
use std::sync::Arc;

use switchboard::config::{Backend, Config, Durability};
use switchboard::{App, Options};
use switchboard_core::{Clock, Core, Limits, ManualClock, NewAgent, RanJob, SiteInput, SystemClock};
use switchboard_domain::*;
use switchboard_server::ServerConfig;
use switchboard_services::EphemeralPostgres;
use tokio::sync::oneshot;

use crate::clients::{AgentSocket, Api, VisitorSocket, Ws};

/// The environment variable that picks the store of every [`TestApp`]: `sqlite` (the
/// default) or `postgres`.
pub const BACKEND_VAR: &str = "SWITCHBOARD_TEST_BACKEND";

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
    /// Which store this app runs on, as [`BACKEND_VAR`] chose.
    pub backend: Backend,
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
        Self::spawn_full(ServerConfig::default(), Limits::default(), clock).await
    }

    pub async fn spawn_with(config: ServerConfig, limits: Limits) -> Self {
        Self::spawn_full(config, limits, Arc::new(SystemClock)).await
    }

    /// A server with these limits whose clock (the limits' buckets included) moves only
    /// when the test moves `clock`.
    pub async fn spawn_limited(limits: Limits, clock: Arc<ManualClock>) -> Self {
        Self::spawn_full(ServerConfig::default(), limits, clock).await
    }

    /// The server never runs jobs by itself here (`run_jobs` is off), so tests are
    /// deterministic: they call [`TestApp::run_pending_jobs`].
    pub async fn spawn_full(server: ServerConfig, limits: Limits, clock: Arc<dyn Clock>) -> Self {
        Self::spawn_configured(server, limits, clock, |_| {}).await
    }

    /// [`TestApp::spawn_full`] with what only the configuration file says (such as
    /// `geoip.database`) set by `configure`.
    pub async fn spawn_configured(
        server: ServerConfig,
        limits: Limits,
        clock: Arc<dyn Clock>,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        crate::telemetry::init();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(dir.path()).await;
        configure(&mut config);
        let options = Options { server: ServerConfig { run_jobs: false, ..server }, limits, clock };
        let app = App::build_with(&config, options).await.expect("building the app");
        let (addr, core) = (app.addr(), app.core.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Self { addr, core, backend: config.storage.backend, stop: Some(stop), server: Some(handle), _dir: dir }
    }

    /// A server that mails through the plain SMTP server on 127.0.0.1:`smtp_port` (an
    /// [`EphemeralSmtp`](crate::services::EphemeralSmtp)), as `[mail]` with `tls = "none"` says.
    pub async fn spawn_with_mail(smtp_port: u16, clock: Arc<dyn Clock>) -> Self {
        Self::spawn_configured(ServerConfig::default(), Limits::default(), clock, |config| {
            config.mail = Some(switchboard::config::MailSection {
                smtp_host: "127.0.0.1".into(),
                smtp_port: Some(smtp_port),
                tls: switchboard::config::TlsMode::None,
                username: None,
                password: None,
                password_file: None,
                from: "Switchboard <noreply@switchboard.test>".into(),
            });
        })
        .await
    }

    /// The app's data directory (uploads live under it).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
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

    /// An anonymous visitor socket on `site`, after `hello` (no token), untyped: for the
    /// stories about malformed frames. Others use [`TestApp::visitor_socket`].
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

/// The configuration of a test app: a free port, blobs in `dir`, and the store that
/// [`BACKEND_VAR`] names (SQLite in `dir` without fsync, or a new database on the
/// process's shared PostgreSQL server).
async fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.server.listen = ([127, 0, 0, 1], 0).into();
    config.storage.data_dir = dir.to_owned();
    config.storage.durability = Durability::Normal;
    match std::env::var(BACKEND_VAR).as_deref() {
        Err(std::env::VarError::NotPresent) | Ok("" | "sqlite") => {}
        Ok("postgres") => {
            let server = EphemeralPostgres::shared().await.expect("starting the shared PostgreSQL server");
            config.storage.backend = Backend::Postgres;
            config.storage.postgres_url = Some(server.create_database().await.expect("creating a test database"));
        }
        Ok(other) => panic!("{BACKEND_VAR}={other:?}: expected \"sqlite\" or \"postgres\""),
        Err(e) => panic!("{BACKEND_VAR}: {e}"),
    }
    config
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
