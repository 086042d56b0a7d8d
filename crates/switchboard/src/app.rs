//! The one place that wires Switchboard together from a [`Config`]: the store (SQLite or
//! PostgreSQL) with the publisher hook, the bus (in the process, or Redis between the
//! nodes of a cluster, with cluster-wide presence), blobs, core with its clock and limits,
//! and the server whose graceful shutdown also stops the background workers. The
//! binary, the test harness and the bench's in-process benchmark all build through it,
//! so none of them picks concrete types by hand.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use switchboard_bus::{Bus, LocalBus};
use switchboard_cluster::{RedisBus, RedisLimiter, RedisLive, RedisPresence, RedisSettings};
use switchboard_core::{Clock, Core, GeoIp, Limits, Publisher, StoreFeed, SystemClock};
use switchboard_server::{Server, ServerConfig};
use switchboard_store::{BlobStore, CommitHook, FsBlobStore, S3BlobStore, Store};
use switchboard_store_postgres::{PgOptions, PgStore};
use switchboard_store_sqlite::{SqliteOptions, SqliteStore};
use tokio::net::TcpListener;

use crate::config::{Backend, BlobBackend, BusBackend, Config};

/// What the configuration file cannot say, for tests and benches: the server's finer
/// settings (millisecond heartbeats, jobs left to the test) and the clock.
/// [`Options::from_config`] is what the binary uses.
#[derive(Clone)]
pub struct Options {
    pub server: ServerConfig,
    pub limits: Limits,
    pub clock: Arc<dyn Clock>,
}

impl Options {
    pub fn from_config(config: &Config) -> Self {
        Self { server: config.server_config(), limits: config.limits(), clock: Arc::new(SystemClock) }
    }
}

/// A built application: core, and a server bound to its listener but not yet serving.
pub struct App {
    /// The server's core (its commits are counted in `/metrics`): what seeding, the
    /// CLI and tests call directly.
    pub core: Core,
    server: Server,
    listener: TcpListener,
    addr: SocketAddr,
    /// Held while serving a SQLite database, so a second node on the same file refuses
    /// to start.
    _lock: Option<std::fs::File>,
}

impl App {
    /// Wires everything as `config` says and binds `server.listen` (port 0: a free one).
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with(config, Options::from_config(config)).await
    }

    pub async fn build_with(config: &Config, options: Options) -> anyhow::Result<Self> {
        let lock = match config.storage.backend {
            Backend::Sqlite => Some(lock_data_dir(config)?),
            Backend::Postgres => None,
        };
        let core = core_with(config, options.limits, options.clock).await?;
        let listener = TcpListener::bind(config.server.listen).await.with_context(|| format!("listening on {}", config.server.listen))?;
        let addr = listener.local_addr().context("reading the listening address")?;
        let server = Server::new(core, options.server);
        Ok(Self { core: server.state.core.clone(), server, listener, addr, _lock: lock })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Serves until `stop` resolves, then shuts down gracefully: sockets are told to
    /// reconnect, requests finish, the background workers (the job worker, when
    /// `ServerConfig::run_jobs` is on) finish the job under way, and the store is
    /// flushed and closed last.
    pub async fn run_until_stopped(self, stop: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let served = self.server.serve(self.listener, stop).await;
        drop(self._lock);
        served
    }
}

/// Core over the configured store, bus and blobs, on the system clock with the
/// configured limits, without a server: for commands (`admin`) and benchmarks.
pub async fn core(config: &Config) -> anyhow::Result<Core> {
    core_with(config, config.limits(), Arc::new(SystemClock)).await
}

/// The one place `Core::new` is called outside core's own tests.
async fn core_with(config: &Config, limits: Limits, clock: Arc<dyn Clock>) -> anyhow::Result<Core> {
    let cluster = redis_settings(config)?;
    let redis = cluster.clone().map(RedisBus::new).transpose()?.map(Arc::new);
    let bus: Arc<dyn Bus> = match &redis {
        Some(redis) => redis.clone(),
        None => Arc::new(LocalBus::default()),
    };
    // The store's writer publishes each batch's events after it commits.
    let store = open_store(config, Some(Arc::new(Publisher { bus: bus.clone() }))).await?;
    if let Some(redis) = &redis {
        // The bus reads what it missed from the store, so it starts once the store is open.
        redis.start(Arc::new(StoreFeed(store.clone())));
    }
    let blobs = blob_store(config)?;
    let rates = limits.rates.clone();
    let mut core = Core::new(store, bus.clone(), blobs, limits).await.context("starting core")?.with_clock(clock.clone());
    if let Some(smtp) = config.smtp_settings()? {
        // The settings were checked at load; the error names the key all the same.
        core = core.with_mailer(Arc::new(switchboard_mail::SmtpMailer::new(&smtp).context("[mail]")?));
    }
    if let Some(path) = &config.geoip.database {
        // The error names the file (and says what is wrong with it).
        core = core.with_geoip(Arc::new(GeoIp::open(path).context("geoip.database")?));
    }
    Ok(match cluster {
        // Limits, bans (through the bus), presence and the live list are cluster-wide.
        Some(settings) => {
            let live = Arc::new(RedisLive::start(settings.clone(), core.live_source(), bus.clone())?);
            core.with_limiter(Arc::new(RedisLimiter::new(&settings, &rates, clock)?))
                .with_presence(Arc::new(RedisPresence::start(settings, bus)?))
                .with_live_elsewhere(live)
        }
        None => core,
    })
}

/// The configured blob store: a directory, or an S3-compatible bucket.
pub fn blob_store(config: &Config) -> anyhow::Result<Arc<dyn BlobStore>> {
    Ok(match config.blobs.backend {
        BlobBackend::Fs => Arc::new(FsBlobStore::new(config.blobs_dir())),
        BlobBackend::S3 => {
            let settings = config.s3_settings().context("S3 settings")?;
            Arc::new(S3BlobStore::new(&settings).context("configuring the S3 blob store")?)
        }
    })
}

/// The Redis settings of `bus.backend = "redis"`, with this node's name.
fn redis_settings(config: &Config) -> anyhow::Result<Option<RedisSettings>> {
    let bus = &config.bus;
    if bus.backend == BusBackend::Local {
        return Ok(None);
    }
    let url = bus.redis_url.clone().context("bus.redis_url is required with bus.backend = \"redis\"")?;
    anyhow::ensure!(config.storage.backend == Backend::Postgres, "bus.backend = \"redis\" needs storage.backend = \"postgres\"");
    // `Config::load` checked it; a hand-built config gets the same answer.
    config.check_cluster_blobs()?;
    let node = bus.node.clone().unwrap_or_else(|| format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]));
    let ms = std::time::Duration::from_millis;
    Ok(Some(RedisSettings {
        probe_interval: ms(bus.probe_ms),
        poll_interval: ms(bus.poll_ms),
        position_check: ms(bus.position_check_ms),
        reorder_window: ms(bus.probe_ms / 10).max(ms(10)),
        presence_heartbeat: ms(bus.presence_heartbeat_ms),
        presence_ttl: ms(bus.presence_ttl_ms),
        ..RedisSettings::new(url, bus.cluster.clone(), node)
    }))
}

/// Takes the data directory's lock file, or says that another node serves it: SQLite is
/// one node's database (the log writer assumes it is the only writer), so a second node
/// on the same file must not start. The operating system drops the lock when the
/// process ends, even on `kill -9`.
pub fn lock_data_dir(config: &Config) -> anyhow::Result<std::fs::File> {
    let dir = &config.storage.data_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating data directory {}", dir.display()))?;
    let path = dir.join("switchboard.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another Switchboard node is already serving {}: a SQLite database serves one node. \
             For several nodes use storage.backend = \"postgres\" with bus.backend = \"redis\"",
            config.database_path().display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

/// The configured store, migrated, with `hook` told of every committed batch. Without a
/// hook nothing is published: for `migrate` and `backup`, which run no core.
pub async fn open_store(config: &Config, hook: Option<Arc<dyn CommitHook>>) -> anyhow::Result<Arc<dyn Store>> {
    let storage = &config.storage;
    Ok(match storage.backend {
        Backend::Sqlite => {
            std::fs::create_dir_all(&storage.data_dir)
                .with_context(|| format!("creating data directory {}", storage.data_dir.display()))?;
            let opts = SqliteOptions {
                durability: storage.durability,
                max_batch: storage.max_batch,
                hook,
                ..SqliteOptions::new(config.database_path())
            };
            Arc::new(SqliteStore::open(&opts).await.with_context(|| format!("opening {}", config.database_path().display()))?)
        }
        Backend::Postgres => {
            // `Config::load` checked it is there; a hand-built config gets the same answer.
            let url = storage.postgres_url.clone().context("storage.postgres_url is required with storage.backend = \"postgres\"")?;
            let opts = PgOptions { max_batch: storage.max_batch, hook, ..PgOptions::new(url) };
            Arc::new(PgStore::connect(&opts).await.context("connecting to PostgreSQL")?)
        }
    })
}

#[cfg(test)]
mod tests {
    use switchboard_core::NewAgent;
    use switchboard_domain::{Email, Role};

    use super::*;
    use crate::config::Durability;

    fn owner(email: &str) -> NewAgent {
        NewAgent {
            email: Email::parse(email).unwrap(),
            name: "Owner".into(),
            role: Role::Owner,
            password: "correct horse battery".into(),
            locale: None,
            max_chats: None,
            avatar_url: None,
        }
    }

    #[tokio::test]
    async fn an_app_built_from_a_config_serves_stops_and_keeps_what_it_committed() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.server.listen = ([127, 0, 0, 1], 0).into();
        config.storage.data_dir = dir.path().join("data");
        config.storage.durability = Durability::Normal;

        let app = App::build(&config).await.unwrap();
        assert_ne!(app.port(), 0, "port 0 asks for a free port; the app knows which it got");
        let (addr, core) = (app.addr(), app.core.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let (workspace, _) = core.create_workspace("Acme", owner("owner@acme.example")).await.unwrap();
        let mut http = tokio::net::TcpStream::connect(addr).await.expect("the app accepts connections while it runs");
        tokio::io::AsyncWriteExt::write_all(&mut http, b"GET /healthz HTTP/1.0\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut http, &mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");

        stop.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), serving).await.expect("the app stops").unwrap().unwrap();
        assert!(core.create_workspace("Late", owner("owner@late.example")).await.is_err(), "the store is closed once the app has stopped");

        let again = core_with(&config, config.limits(), Arc::new(SystemClock)).await.unwrap();
        let names: Vec<_> = again.store.workspaces().await.unwrap().into_iter().map(|w| (w.id, w.name)).collect();
        assert_eq!(names, [(workspace.id, "Acme".to_owned())], "what was committed before the stop is there after it");
        again.store.close().await;
    }

    #[tokio::test]
    async fn a_second_node_on_the_same_sqlite_file_refuses_to_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.server.listen = ([127, 0, 0, 1], 0).into();
        config.storage.data_dir = dir.path().join("data");
        config.storage.durability = Durability::Normal;
        let first = App::build(&config).await.unwrap();
        let err = format!("{:#}", App::build(&config).await.err().expect("the file is taken"));
        assert!(err.contains("another Switchboard node is already serving") && err.contains("postgres"), "{err}");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(first.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        stop.send(()).unwrap();
        serving.await.unwrap().unwrap();
        let again = App::build(&config).await.expect("once the first node has stopped, another may serve the file");
        again.core.store.close().await;
    }

    #[tokio::test]
    async fn a_postgres_config_without_a_url_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.storage.data_dir = dir.path().to_owned();
        config.storage.backend = Backend::Postgres;
        let err = format!("{:#}", core(&config).await.err().expect("no store without a URL"));
        assert!(err.contains("storage.postgres_url"), "{err}");
    }
}
