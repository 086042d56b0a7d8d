//! Configuration: defaults, then a TOML file (`--config`), then environment variables
//! `SWITCHBOARD__SECTION__KEY`, then command-line flags. Unknown keys and bad values
//! are errors that name the key. Each section maps once into the options of the part it
//! configures ([`Config::server_config`], [`Config::limits`], [`Config::s3_settings`],
//! the store's options in `app.rs`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use switchboard_core::{Limits, Rates};
pub use switchboard_mail::TlsMode;
use switchboard_mail::{SmtpMailer, SmtpSettings};
use switchboard_server::{ServerConfig, default_max_sockets};
use switchboard_store::S3Settings;
pub use switchboard_store_sqlite::Durability;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
pub struct Config {
    pub server: ServerSection,
    pub storage: StorageSection,
    pub limits: LimitsSection,
    pub bus: BusSection,
    pub blobs: BlobsSection,
    pub presence: PresenceSection,
    pub live: LiveSection,
    pub geoip: GeoipSection,
    /// Outgoing mail; absent: nothing is mailed (invitations are links to hand on).
    pub mail: Option<MailSection>,
    pub log: LogSection,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    pub listen: SocketAddr,
    pub secure_cookies: bool,
    pub max_frame_bytes: usize,
    pub heartbeat_secs: u64,
    pub idle_timeout_secs: u64,
    /// Unset: the open-file limit less room for the rest (`default_max_sockets`).
    pub max_sockets: Option<usize>,
    pub max_handshakes: usize,
    /// Threads that run sockets and requests; 0: one per core.
    pub workers: usize,
    /// The address people reach the server at, such as `https://chat.example.com`, for
    /// links the server hands out (the chat page's QR code). Unset: the request's `Host`.
    pub public_url: Option<String>,
    /// Addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `Debug` is written by hand: it shows `postgres_url` without its password.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSection {
    pub data_dir: PathBuf,
    pub backend: Backend,
    pub postgres_url: Option<String>,
    pub durability: Durability,
    pub max_batch: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BusBackend {
    /// In the process: one node.
    Local,
    /// Redis pub/sub between the nodes of a cluster, with cluster-wide presence.
    Redis,
}

/// How events reach the sockets of other nodes. `Debug` is written by hand: it shows
/// `redis_url` without its password.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusSection {
    pub backend: BusBackend,
    pub redis_url: Option<String>,
    /// The cluster's name: the prefix of its Redis keys and channels.
    pub cluster: String,
    /// This node's name, unique in the cluster. Unset: a random one at each start.
    pub node: Option<String>,
    pub probe_ms: u64,
    pub poll_ms: u64,
    pub position_check_ms: u64,
    pub presence_heartbeat_ms: u64,
    pub presence_ttl_ms: u64,
}

impl Default for BusSection {
    fn default() -> Self {
        Self {
            backend: BusBackend::Local,
            redis_url: None,
            cluster: "switchboard".into(),
            node: None,
            probe_ms: 1000,
            poll_ms: 1000,
            position_check_ms: 5000,
            presence_heartbeat_ms: 5000,
            presence_ttl_ms: 15_000,
        }
    }
}

impl std::fmt::Debug for BusSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusSection")
            .field("backend", &self.backend)
            .field("redis_url", &self.redis_url.as_deref().map(redact_password))
            .field("cluster", &self.cluster)
            .field("node", &self.node)
            .field("probe_ms", &self.probe_ms)
            .field("poll_ms", &self.poll_ms)
            .field("position_check_ms", &self.position_check_ms)
            .field("presence_heartbeat_ms", &self.presence_heartbeat_ms)
            .field("presence_ttl_ms", &self.presence_ttl_ms)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobBackend {
    /// Files under a directory: this node's, or one every node mounts (`shared`).
    #[default]
    Fs,
    /// An S3-compatible bucket every node reaches.
    S3,
}

/// Where uploaded files live. `Debug` is written by hand: it never shows the secret key.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlobsSection {
    pub backend: BlobBackend,
    /// `fs`: the directory. Unset: `blobs` under `storage.data_dir`.
    pub dir: Option<PathBuf>,
    /// `fs`: every node of the cluster mounts `dir` (NFS, CephFS…); required with
    /// `bus.backend = "redis"`, where one node's disk would hide its uploads from the others.
    pub shared: bool,
    /// `s3`: the bucket (it must exist), the endpoint of a server other than AWS, the
    /// region, and the credentials; unset credentials come from the environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, …, or the instance's role).
    pub bucket: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for BlobsSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobsSection")
            .field("backend", &self.backend)
            .field("dir", &self.dir)
            .field("shared", &self.shared)
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSection {
    pub max_upload_bytes: u64,
    pub max_message_chars: usize,
    pub session_ttl_hours: i64,
    /// The token buckets checked before anything is stored (`switchboard_core::limiter`).
    pub rates: Rates,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PresenceSection {
    /// Seconds all of an agent's sockets must stay closed before they show offline.
    pub grace_seconds: u64,
}

impl Default for PresenceSection {
    fn default() -> Self {
        Self { grace_seconds: 60 }
    }
}

/// Live visitors (issue 15).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveSection {
    /// Milliseconds a visitor whose last tab closed stays on the live list, so going to
    /// the next page is not a departure.
    pub leave_grace_ms: u64,
}

impl Default for LiveSection {
    fn default() -> Self {
        Self { leave_grace_ms: 3_000 }
    }
}

/// GeoIP (issue 15): the visitor's country from their address.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeoipSection {
    /// A MaxMind or DB-IP `.mmdb` file (Country or City). Unset: countries are unknown.
    pub database: Option<PathBuf>,
}

/// Outgoing mail over SMTP (invitations; later the e-mail channel's replies). `Debug` is
/// written by hand: it never shows the password.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSection {
    pub smtp_host: String,
    /// Unset: 587 with `starttls`, 465 with `tls`, 25 with `none`.
    pub smtp_port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    pub username: Option<String>,
    /// Or `SWITCHBOARD__MAIL__PASSWORD`, or a file holding it (`password_file`).
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    /// `"Acme Support <support@acme.example>"` or a bare address.
    pub from: String,
}

impl std::fmt::Debug for MailSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSection")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("password_file", &self.password_file)
            .field("from", &self.from)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    pub level: String,
    pub format: LogFormat,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: ([127, 0, 0, 1], 8080).into(),
            secure_cookies: false,
            max_frame_bytes: 64 * 1024,
            heartbeat_secs: 25,
            idle_timeout_secs: 60,
            max_sockets: None,
            max_handshakes: 64,
            workers: 0,
            public_url: None,
            trusted_proxies: vec![],
        }
    }
}

impl Default for StorageSection {
    fn default() -> Self {
        Self { data_dir: PathBuf::from("data"), backend: Backend::Sqlite, postgres_url: None, durability: Durability::Full, max_batch: 512 }
    }
}

impl std::fmt::Debug for StorageSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageSection")
            .field("data_dir", &self.data_dir)
            .field("backend", &self.backend)
            .field("postgres_url", &self.postgres_url.as_deref().map(redact_password))
            .field("durability", &self.durability)
            .field("max_batch", &self.max_batch)
            .finish()
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`; a URL without a
/// password is shown as it is.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    // The user information ends at the last `@` before the path.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return url.to_owned() };
    match rest[..at].split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self { max_upload_bytes: 10 * 1024 * 1024, max_message_chars: 10_000, session_ttl_hours: 14 * 24, rates: Rates::default() }
    }
}

impl Default for LogSection {
    fn default() -> Self {
        Self { level: "info".into(), format: LogFormat::Text }
    }
}

/// Flags that override the file and the environment.
#[derive(Default)]
pub struct Overrides {
    pub data: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: Overrides) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            anyhow::ensure!(path.exists(), "config file {} does not exist", path.display());
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("SWITCHBOARD__").split("__"));
        let mut config: Config = figment.extract().map_err(|e| {
            let errors: Vec<String> = e.into_iter().map(|e| e.to_string()).collect();
            anyhow::anyhow!("invalid configuration: {}", errors.join("; "))
        })?;
        if let Some(data) = overrides.data {
            config.storage.data_dir = data;
        }
        if let Some(listen) = overrides.listen {
            config.server.listen = listen;
        }
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.server.max_frame_bytes >= 1024, "server.max_frame_bytes must be at least 1024");
        anyhow::ensure!(self.server.heartbeat_secs >= 1, "server.heartbeat_secs must be at least 1");
        anyhow::ensure!(
            self.server.idle_timeout_secs > self.server.heartbeat_secs,
            "server.idle_timeout_secs must be longer than server.heartbeat_secs"
        );
        anyhow::ensure!(self.server.max_sockets != Some(0), "server.max_sockets must be at least 1");
        anyhow::ensure!(self.server.max_handshakes >= 1, "server.max_handshakes must be at least 1");
        anyhow::ensure!(self.server.workers <= 1024, "server.workers must be at most 1024 (0: one per core)");
        if let Some(url) = &self.server.public_url {
            let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or("");
            anyhow::ensure!(
                !rest.is_empty() && !rest.contains(['?', '#', ' ']),
                "server.public_url must be an http(s):// URL such as \"https://chat.example.com\""
            );
        }
        for proxy in &self.server.trusted_proxies {
            switchboard_domain::IpRange::parse(proxy).map_err(|e| anyhow::anyhow!("server.trusted_proxies: {proxy:?} {}", e.reason))?;
        }
        anyhow::ensure!((1..=10_000).contains(&self.storage.max_batch), "storage.max_batch must be between 1 and 10000");
        anyhow::ensure!(self.limits.max_upload_bytes >= 1024, "limits.max_upload_bytes must be at least 1024");
        anyhow::ensure!(self.limits.session_ttl_hours >= 1, "limits.session_ttl_hours must be at least 1");
        anyhow::ensure!(self.presence.grace_seconds <= 3600, "presence.grace_seconds must be at most 3600 (an hour)");
        anyhow::ensure!(self.live.leave_grace_ms <= 600_000, "live.leave_grace_ms must be at most 600000 (ten minutes)");
        anyhow::ensure!((1..=1_000_000).contains(&self.limits.max_message_chars), "limits.max_message_chars must be between 1 and 1000000");
        self.limits.rates.check().map_err(anyhow::Error::msg)?;
        if self.storage.backend == Backend::Postgres {
            let url = self.storage.postgres_url.as_deref().unwrap_or("");
            anyhow::ensure!(
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "storage.postgres_url must be a postgres:// URL when storage.backend = \"postgres\""
            );
        }
        self.check_bus()?;
        self.check_blobs()?;
        if self.mail.is_some() {
            // Builds the transport (no connection yet): every key is checked at start.
            SmtpMailer::new(&self.smtp_settings()?.expect("mail is set"))?;
        }
        self.log.level.parse::<tracing_subscriber::filter::EnvFilter>().context("log.level is not a valid filter")?;
        Ok(())
    }

    fn check_bus(&self) -> anyhow::Result<()> {
        let bus = &self.bus;
        if bus.backend == BusBackend::Local {
            return Ok(());
        }
        anyhow::ensure!(
            self.storage.backend == Backend::Postgres,
            "bus.backend = \"redis\" needs storage.backend = \"postgres\": a SQLite database is one node's file, so there \
             are no other nodes to reach (use bus.backend = \"local\" with SQLite)"
        );
        let url = bus.redis_url.as_deref().unwrap_or("");
        anyhow::ensure!(
            url.starts_with("redis://") || url.starts_with("rediss://"),
            "bus.redis_url must be a redis:// (or rediss:// for TLS) URL when bus.backend = \"redis\""
        );
        anyhow::ensure!(
            !bus.cluster.is_empty() && bus.cluster.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "bus.cluster must be letters, digits, '-', '_' or '.'"
        );
        if let Some(node) = &bus.node {
            anyhow::ensure!(
                !node.is_empty() && node.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
                "bus.node must be letters, digits, '-', '_' or '.'"
            );
        }
        for (key, ms) in [
            ("bus.probe_ms", bus.probe_ms),
            ("bus.poll_ms", bus.poll_ms),
            ("bus.position_check_ms", bus.position_check_ms),
            ("bus.presence_heartbeat_ms", bus.presence_heartbeat_ms),
        ] {
            anyhow::ensure!((10..=600_000).contains(&ms), "{key} must be between 10 and 600000");
        }
        anyhow::ensure!(
            bus.presence_ttl_ms > bus.presence_heartbeat_ms,
            "bus.presence_ttl_ms must be longer than bus.presence_heartbeat_ms (a live node's presence would expire between heartbeats)"
        );
        Ok(())
    }

    fn check_blobs(&self) -> anyhow::Result<()> {
        let blobs = &self.blobs;
        match blobs.backend {
            BlobBackend::Fs => {
                anyhow::ensure!(
                    blobs.bucket.is_none() && blobs.endpoint.is_none(),
                    "blobs.bucket and blobs.endpoint are for blobs.backend = \"s3\""
                );
                self.check_cluster_blobs()
            }
            BlobBackend::S3 => {
                anyhow::ensure!(blobs.dir.is_none() && !blobs.shared, "blobs.dir and blobs.shared are for blobs.backend = \"fs\"");
                let bucket = blobs.bucket.as_deref().unwrap_or("");
                anyhow::ensure!(
                    (3..=63).contains(&bucket.len())
                        && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c)),
                    "blobs.bucket must name a bucket (3 to 63 lower-case letters, digits, '-' or '.') when blobs.backend = \"s3\""
                );
                if let Some(endpoint) = &blobs.endpoint {
                    let rest = endpoint.strip_prefix("https://").or_else(|| endpoint.strip_prefix("http://")).unwrap_or("");
                    anyhow::ensure!(
                        !rest.is_empty() && !rest.contains(['?', '#', ' ']),
                        "blobs.endpoint must be an http(s):// URL such as \"https://s3.example.com\""
                    );
                }
                anyhow::ensure!(
                    blobs.access_key_id.is_some() == blobs.secret_access_key.is_some(),
                    "blobs.access_key_id and blobs.secret_access_key go together (or set neither, to take them from the environment)"
                );
                Ok(())
            }
        }
    }

    /// A cluster's nodes must all reach every upload: files on one node's disk would be
    /// missing on the others, so a node-local directory is refused unless the operator
    /// says it is shared.
    pub fn check_cluster_blobs(&self) -> anyhow::Result<()> {
        if self.bus.backend == BusBackend::Redis && self.blobs.backend == BlobBackend::Fs && !self.blobs.shared {
            anyhow::bail!(
                "bus.backend = \"redis\" runs several nodes, but uploads would be kept in {}, on this node's disk only: \
                 a file uploaded on one node could not be downloaded from another. Use blobs.backend = \"s3\" with a bucket \
                 every node reaches, or mount one directory on every node, point blobs.dir at it and set blobs.shared = true",
                self.blobs_dir().display()
            );
        }
        Ok(())
    }

    /// The directory of `blobs.backend = "fs"`.
    pub fn blobs_dir(&self) -> PathBuf {
        self.blobs.dir.clone().unwrap_or_else(|| self.storage.data_dir.join("blobs"))
    }

    /// The S3 settings of `blobs.backend = "s3"`.
    pub fn s3_settings(&self) -> Option<S3Settings> {
        let blobs = &self.blobs;
        (blobs.backend == BlobBackend::S3).then(|| S3Settings {
            bucket: blobs.bucket.clone().unwrap_or_default(),
            endpoint: blobs.endpoint.clone(),
            region: blobs.region.clone(),
            access_key_id: blobs.access_key_id.clone(),
            secret_access_key: blobs.secret_access_key.clone(),
        })
    }

    /// The SMTP settings of `[mail]`, the password read from `password_file` when set;
    /// `None` without a `[mail]` section.
    pub fn smtp_settings(&self) -> anyhow::Result<Option<SmtpSettings>> {
        let Some(mail) = &self.mail else { return Ok(None) };
        let password = match (&mail.password, &mail.password_file) {
            (Some(_), Some(_)) => anyhow::bail!("mail.password and mail.password_file: set one of them, not both"),
            (Some(p), None) => Some(p.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("mail.password_file: reading {}", path.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
            ),
            (None, None) => None,
        };
        Ok(Some(SmtpSettings {
            host: mail.smtp_host.clone(),
            port: mail.smtp_port,
            tls: mail.tls,
            username: mail.username.clone(),
            password,
            from: mail.from.clone(),
            timeout: Duration::from_secs(30),
        }))
    }

    pub fn database_path(&self) -> PathBuf {
        self.storage.data_dir.join("switchboard.db")
    }

    /// The server's settings from `[server]`; the socket cap defaults to the open-file limit.
    pub fn server_config(&self) -> ServerConfig {
        ServerConfig {
            secure_cookies: self.server.secure_cookies,
            max_frame_bytes: self.server.max_frame_bytes,
            heartbeat: Duration::from_secs(self.server.heartbeat_secs),
            idle_timeout: Duration::from_secs(self.server.idle_timeout_secs),
            max_sockets: self.server.max_sockets.unwrap_or_else(default_max_sockets),
            max_handshakes: self.server.max_handshakes,
            public_url: self.server.public_url.as_deref().map(|u| u.trim_end_matches('/').to_owned()),
            // Checked by `check`.
            trusted_proxies: self.server.trusted_proxies.iter().filter_map(|p| switchboard_domain::IpRange::parse(p).ok()).collect(),
            ..ServerConfig::default()
        }
    }

    /// Core's limits from `[limits]` and `[presence]`.
    pub fn limits(&self) -> Limits {
        Limits {
            max_upload_bytes: self.limits.max_upload_bytes,
            max_message_chars: self.limits.max_message_chars,
            session_ttl_ms: self.limits.session_ttl_hours * 3600 * 1000,
            presence_grace_ms: self.presence.grace_seconds as i64 * 1000,
            live_leave_grace_ms: self.live.leave_grace_ms as i64,
            rates: self.limits.rates.clone(),
            ..Limits::default()
        }
    }
}

/// The commented example printed by `switchboard config print-default`.
pub const DEFAULT_TOML: &str = r#"# Switchboard configuration. Every key is optional; these are the defaults.
# Environment variables override this file: SWITCHBOARD__SERVER__LISTEN=0.0.0.0:8080
# and so on (section and key in upper case, separated by two underscores).

[server]
# Address and port to listen on.
listen = "127.0.0.1:8080"
# Mark the session cookie Secure; turn on when serving over HTTPS.
secure_cookies = false
# Largest WebSocket frame accepted from clients, in bytes.
max_frame_bytes = 65536
# Seconds between WebSocket pings, and of silence before a socket is closed.
heartbeat_secs = 25
idle_timeout_secs = 60
# Most WebSocket sockets (visitors and agents) open at once. Upgrades beyond it are
# answered 503 with Retry-After. Unset: the process's open-file limit (RLIMIT_NOFILE)
# less room for the database, uploads and HTTP (a fortieth, at least 256).
# max_sockets = 10000
# Most visitor handshakes (hello until the replay is sent) running at once; the others
# wait their turn, up to 10 s, then are told to retry.
max_handshakes = 64
# Threads that run sockets and requests (the store's writer has threads of its own).
# 0: one per core.
workers = 0
# The address people reach the server at, for links it hands out (the chat page's
# QR code). Unset: the Host of the request that asks.
# public_url = "https://chat.example.com"
# Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For (the client's
# address, for bans and the limits counted per address) and X-Forwarded-Proto (https
# turns HSTS on) are believed. Leave it empty without a proxy, or any client could pick
# the address it is banned or counted under.
trusted_proxies = []

[storage]
# Where the SQLite database and uploaded files live.
data_dir = "data"
# "sqlite" (embedded, zero setup) or "postgres" (for clusters).
backend = "sqlite"
# Required with backend = "postgres", e.g. "postgres://switchboard@db/switchboard".
# postgres_url = ""
# "full": fsync each commit (survives power loss). "normal": survives crashes only.
durability = "full"
# Most changes committed together in one transaction.
max_batch = 512

[limits]
# Largest upload, in bytes.
max_upload_bytes = 10485760
# Longest message body, in characters (Unicode scalar values), once trimmed.
max_message_chars = 10000
session_ttl_hours = 336

[bus]
# How events reach the sockets of other nodes. "local": one node (the only choice with
# SQLite). "redis": several identical nodes on one PostgreSQL database and one Redis,
# each started the same way; presence (agents online, viewers) is cluster-wide.
backend = "local"
# Required with backend = "redis": "redis://[:password@]host:6379/0", or "rediss://"
# for TLS.
# redis_url = "redis://:secret@redis.internal:6379/0"
# The prefix of this cluster's keys and channels, so clusters may share a Redis.
cluster = "switchboard"
# This node's name, unique in the cluster. Unset: a random one at each start.
# node = "node-1"
# Every probe_ms a node sends a probe through Redis and expects it back; two missed
# probes and it catches up from the database every poll_ms until Redis delivers again.
probe_ms = 1000
poll_ms = 1000
# How often a node checks anyway that it delivered every event its sockets follow.
position_check_ms = 5000
# A node rewrites its presence every presence_heartbeat_ms; a node that stops doing so
# (killed, cut off) is forgotten presence_ttl_ms after its last heartbeat.
presence_heartbeat_ms = 5000
presence_ttl_ms = 15000

[blobs]
# Where uploaded files live. "fs": files under a directory. "s3": an S3-compatible
# bucket (AWS S3, MinIO, Ceph, Garage…) that every node reaches.
backend = "fs"
# fs: the directory. Unset: "blobs" under storage.data_dir.
# dir = "/srv/switchboard/blobs"
# fs with bus.backend = "redis": every node must see the same files, so a cluster
# refuses to start on a directory unless it is marked shared (mounted on every node,
# by NFS or the like).
shared = false
# s3: the bucket (it must exist), the endpoint of a server other than AWS S3, the
# region, and the credentials. Unset credentials come from the environment as AWS
# tools read them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or from
# the instance's role; or set them here or as SWITCHBOARD__BLOBS__SECRET_ACCESS_KEY.
# bucket = "switchboard-uploads"
# endpoint = "https://s3.example.com"
# region = "us-east-1"
# access_key_id = ""
# secret_access_key = ""

[presence]
# Seconds all of an agent's dashboards must stay closed before the team sees them
# offline, so a reload or a short network drop changes nothing. 0: at once.
grace_seconds = 60

[live]
# Milliseconds a visitor whose last tab closed stays on the live list, so a click to
# the next page (a new socket) is not a departure. 0: at once.
leave_grace_ms = 3000

[geoip]
# A MaxMind (GeoIP2/GeoLite2 Country or City) or DB-IP (Country Lite) .mmdb file, read
# once at start: the visitor's country (from their address, as server.trusted_proxies
# says) shows on the live list, their visits and the "country" condition of proactive
# rules. Unset: countries are unknown. A missing or malformed file stops the start.
# database = "/var/lib/switchboard/GeoLite2-Country.mmdb"

# Token buckets, checked before anything is read or written. Each allows `burst`
# requests in a row, then one more every `every_ms` milliseconds; `burst = 0` turns
# that limit off. Over a limit, REST answers 429 with Retry-After and sockets an error
# frame with code "rate_limited" and retry_after_ms; the socket stays open.
# Buckets are kept in this process (one node); idle ones are forgotten.
[limits.rates]
# Visitor hellos without a token (new contacts), per client address.
new_sessions_per_ip = { burst = 30, every_ms = 2000 }
# Per visitor: messages, typing frames, page views, track events, uploads.
messages_per_visitor = { burst = 20, every_ms = 1000 }
# Visitor messages from one client address together (an office shares one; a botnet
# spreads over a few), and to one site together (the last guard against a flood from
# many addresses; a site with 200 chats open sends a few dozen a second at most).
messages_per_ip = { burst = 60, every_ms = 100 }
messages_per_site = { burst = 2000, every_ms = 1 }
# Messages that start a conversation, per client address and per site.
new_conversations_per_ip = { burst = 30, every_ms = 2000 }
new_conversations_per_site = { burst = 1000, every_ms = 100 }
typing_per_visitor = { burst = 20, every_ms = 500 }
page_views_per_visitor = { burst = 30, every_ms = 2000 }
track_per_visitor = { burst = 60, every_ms = 1000 }
uploads_per_visitor = { burst = 10, every_ms = 6000 }
# All visitor uploads of one site together.
uploads_per_site = { burst = 200, every_ms = 300 }
# REST calls (and agent socket connections) per API token and per session cookie.
rest_per_token = { burst = 200, every_ms = 50 }
rest_per_session = { burst = 300, every_ms = 50 }
# Sign-in attempts per e-mail: five, then one a minute; and past twenty, one every
# fifteen minutes, so delays grow. Unlocked by time alone. And per client address.
sign_in_per_account = { burst = 5, every_ms = 60000 }
sign_in_lockout_per_account = { burst = 20, every_ms = 900000 }
sign_in_per_ip = { burst = 30, every_ms = 6000 }

# Outgoing mail: invitations to join a workspace (and later the e-mail channel's
# replies). Without this section nothing is mailed, and the dashboard shows each
# invitation's link to hand on. A malformed section (no host, a bad from address, an
# unknown tls mode) stops the start. Links are built from server.public_url (or the
# address the admin's request reached).
# [mail]
# smtp_host = "smtp.example.com"
# "starttls" (plain, then STARTTLS, required), "tls" (TLS from the first byte, SMTPS)
# or "none" (no encryption: a relay on this host or a private network only).
# tls = "starttls"
# Unset: 587 with starttls, 465 with tls, 25 with none.
# smtp_port = 587
# username = "switchboard"
# The password here, as SWITCHBOARD__MAIL__PASSWORD, or in a file (password_file).
# password = ""
# password_file = "/run/secrets/smtp-password"
# The sender: an address, optionally with a name.
# from = "Acme Support <support@acme.example>"

[log]
# A tracing filter such as "info" or "switchboard_server=debug,info".
level = "info"
# "text" or "json".
format = "text"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_default_is_the_default() {
        let printed: Config = Figment::from(Toml::string(DEFAULT_TOML)).extract().unwrap();
        let default = Config::default();
        assert_eq!(printed.server.listen, default.server.listen);
        assert_eq!(printed.storage.data_dir, default.storage.data_dir);
        assert_eq!(printed.limits.max_upload_bytes, default.limits.max_upload_bytes);
        assert_eq!(printed.presence.grace_seconds, default.presence.grace_seconds);
        assert_eq!(printed.server.idle_timeout_secs, default.server.idle_timeout_secs);
        assert_eq!(printed.server.max_sockets, default.server.max_sockets);
        assert_eq!(printed.server.max_handshakes, default.server.max_handshakes);
        assert_eq!(printed.server.workers, default.server.workers);
        assert_eq!(printed.server.trusted_proxies, default.server.trusted_proxies);
        assert_eq!(printed.limits.rates, default.limits.rates, "every rate is printed as it is");
        assert_eq!(printed.limits.max_message_chars, default.limits.max_message_chars);
        assert_eq!(format!("{:?}", printed.bus), format!("{:?}", default.bus));
        assert_eq!(format!("{:?}", printed.blobs), format!("{:?}", default.blobs));
        assert_eq!(printed.geoip.database, default.geoip.database);
    }

    #[test]
    fn a_cluster_refuses_uploads_on_one_nodes_disk_unless_the_directory_is_shared() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        let cluster = "[storage]\nbackend = \"postgres\"\npostgres_url = \"postgres://sb@db/sb\"\n\
                       [bus]\nbackend = \"redis\"\nredis_url = \"redis://r\"\n";
        std::fs::write(&file, cluster).unwrap();
        let err = Config::load(Some(&file), Overrides { data: Some("/srv/sb".into()), listen: None }).unwrap_err().to_string();
        assert!(err.contains("/srv/sb/blobs") && err.contains("blobs.shared = true") && err.contains("blobs.backend = \"s3\""), "{err}");

        std::fs::write(&file, format!("{cluster}[blobs]\ndir = \"/mnt/nfs/blobs\"\nshared = true\n")).unwrap();
        let config = Config::load(Some(&file), Overrides::default()).expect("a shared directory is the simple option");
        assert_eq!(config.blobs_dir(), PathBuf::from("/mnt/nfs/blobs"));
        assert!(config.s3_settings().is_none());

        std::fs::write(&file, format!("{cluster}[blobs]\nbackend = \"s3\"\nbucket = \"sb-uploads\"\n")).unwrap();
        let config = Config::load(Some(&file), Overrides::default()).expect("a bucket every node reaches");
        assert_eq!(config.s3_settings().unwrap().bucket, "sb-uploads");
    }

    #[test]
    fn s3_blobs_need_a_bucket_and_never_print_their_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[blobs]\nbackend = \"s3\"\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("blobs.bucket"), "{err}");
        std::fs::write(&file, "[blobs]\nbackend = \"s3\"\nbucket = \"b-1\"\nendpoint = \"s3.example.com\"\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("blobs.endpoint"), "{err}");
        std::fs::write(&file, "[blobs]\nbackend = \"s3\"\nbucket = \"b-1\"\nsecret_access_key = \"hunter2\"\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("blobs.access_key_id"), "{err}");
        std::fs::write(&file, "[blobs]\nbackend = \"fs\"\nbucket = \"b-1\"\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("blobs.backend = \"s3\""), "{err}");

        let toml = "[blobs]\nbackend = \"s3\"\nbucket = \"b-1\"\nendpoint = \"http://127.0.0.1:9000\"\n\
                    region = \"eu-west-1\"\naccess_key_id = \"AKIA1\"\nsecret_access_key = \"hunter2\"\n";
        std::fs::write(&file, toml).unwrap();
        let config = Config::load(Some(&file), Overrides::default()).unwrap();
        let s3 = config.s3_settings().unwrap();
        assert_eq!((s3.endpoint.as_deref(), s3.region.as_deref()), (Some("http://127.0.0.1:9000"), Some("eu-west-1")));
        assert_eq!(s3.secret_access_key.as_deref(), Some("hunter2"), "the client still gets it");
        let printed = format!("{config:?} {s3:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn a_redis_bus_needs_postgres_and_a_redis_url() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[bus]\nbackend = \"redis\"\nredis_url = \"redis://127.0.0.1:6379\"\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("needs storage.backend = \"postgres\"") && err.contains("SQLite"), "{err}");

        let postgres = "[storage]\nbackend = \"postgres\"\npostgres_url = \"postgres://sb@db/sb\"\n\
                        [blobs]\ndir = \"/mnt/shared\"\nshared = true\n";
        std::fs::write(&file, format!("{postgres}[bus]\nbackend = \"redis\"\n")).unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("bus.redis_url"), "{err}");
        std::fs::write(&file, format!("{postgres}[bus]\nbackend = \"redis\"\nredis_url = \"http://redis\"\n")).unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("bus.redis_url"), "{err}");
        let toml = format!(
            "{postgres}[bus]\nbackend = \"redis\"\nredis_url = \"redis://r\"\npresence_ttl_ms = 100\npresence_heartbeat_ms = 100\n"
        );
        std::fs::write(&file, toml).unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("bus.presence_ttl_ms"), "{err}");

        std::fs::write(&file, format!("{postgres}[bus]\nbackend = \"redis\"\nredis_url = \"rediss://:hunter2@redis.internal:6380/0\"\n"))
            .unwrap();
        let config = Config::load(Some(&file), Overrides::default()).expect("TLS with a password is fine");
        assert_eq!(config.bus.redis_url.as_deref(), Some("rediss://:hunter2@redis.internal:6380/0"), "the bus still gets it");
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("rediss://:***@redis.internal:6380/0"), "{printed}");
    }

    #[test]
    fn rates_are_set_per_kind_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[limits.rates]
messages_per_visitor = { burst = 3, every_ms = 250 }
",
        )
        .unwrap();
        let limits = Config::load(Some(&file), Overrides::default()).unwrap().limits();
        assert_eq!(limits.rates.messages_per_visitor, switchboard_core::Rate::new(3, 250));
        assert_eq!(limits.rates.typing_per_visitor, Rates::default().typing_per_visitor, "the others keep their defaults");
        std::fs::write(
            &file,
            "[limits.rates]
typing_per_visitor = { burst = 3, every_ms = 0 }
",
        )
        .unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("typing_per_visitor"), "{err}");
        std::fs::write(
            &file,
            "[limits.rates]
mesages_per_visitor = { burst = 3, every_ms = 10 }
",
        )
        .unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("mesages_per_visitor"), "{err}");
    }

    #[test]
    fn the_socket_cap_is_the_open_file_limit_unless_set() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[server]\nmax_sockets = 500\n").unwrap();
        assert_eq!(Config::load(Some(&file), Overrides::default()).unwrap().server.max_sockets, Some(500));
        std::fs::write(&file, "[server]\nmax_sockets = 0\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("server.max_sockets"), "{err}");
        std::fs::write(&file, "[server]\nmax_handshakes = 0\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("server.max_handshakes"), "{err}");
    }

    #[test]
    fn mail_is_off_by_default_and_a_malformed_section_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        assert!(Config::default().smtp_settings().unwrap().is_none(), "no [mail]: nothing is mailed");
        std::fs::write(&file, "[mail]\nsmtp_host = \"smtp.example.com\"\nfrom = \"Acme Support\"\n").unwrap();
        let err = format!("{:#}", Config::load(Some(&file), Overrides::default()).unwrap_err());
        assert!(err.contains("mail.from"), "{err}");
        std::fs::write(&file, "[mail]\nsmtp_host = \"smtp.example.com\"\nfrom = \"a@b.example\"\ntls = \"ssl3\"\n").unwrap();
        let err = format!("{:#}", Config::load(Some(&file), Overrides::default()).unwrap_err());
        assert!(err.contains("tls") && err.contains("ssl3"), "{err}");
        std::fs::write(&file, "[mail]\nfrom = \"a@b.example\"\n").unwrap();
        let err = format!("{:#}", Config::load(Some(&file), Overrides::default()).unwrap_err());
        assert!(err.contains("smtp_host"), "{err}");
        let secret = dir.path().join("pw");
        std::fs::write(&secret, "hunter2\n").unwrap();
        std::fs::write(
            &file,
            format!(
                "[mail]\nsmtp_host = \"smtp.example.com\"\nusername = \"sb\"\npassword_file = \"{}\"\nfrom = \"Acme <a@b.example>\"\ntls = \"tls\"\n",
                secret.display()
            ),
        )
        .unwrap();
        let config = Config::load(Some(&file), Overrides::default()).unwrap();
        let smtp = config.smtp_settings().unwrap().unwrap();
        assert_eq!((smtp.password.as_deref(), smtp.tls, smtp.port), (Some("hunter2"), TlsMode::Tls, None));
        assert!(!format!("{config:?}").contains("hunter2"), "the password never reaches a debug print");
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[server]\nlisen = \"0.0.0.0:1\"\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("lisen"), "{err}");
        std::fs::write(&file, "[storage]\ndurability = \"sometimes\"\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("durability") && err.contains("sometimes"), "{err}");
        std::fs::write(&file, "[server]\nlisten = \"not an address\"\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("listen"), "{err}");
        std::fs::write(&file, "[server]\nworkers = 5000\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("server.workers"), "{err}");
        std::fs::write(&file, "[server]\npublic_url = \"chat.example.com\"\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("server.public_url"), "{err}");
    }

    #[test]
    fn the_postgres_password_never_reaches_a_debug_print() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[storage]\nbackend = \"postgres\"\npostgres_url = \"postgres://sb:hunter2@db:5432/sb\"\n").unwrap();
        let config = Config::load(Some(&file), Overrides::default()).unwrap();
        assert_eq!(config.storage.postgres_url.as_deref(), Some("postgres://sb:hunter2@db:5432/sb"), "the store still gets it");
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("postgres://sb:***@db:5432/sb"), "{printed}");
        assert_eq!(redact_password("postgres://sb@db/sb"), "postgres://sb@db/sb");
        assert_eq!(redact_password("postgres://sb:p@ss@db/sb"), "postgres://sb:***@db/sb");
    }

    #[test]
    fn sections_map_onto_the_parts_they_configure() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        let toml = "[server]\nheartbeat_secs = 5\nidle_timeout_secs = 20\nmax_sockets = 70\npublic_url = \"https://chat.example/\"\n\
                    [limits]\nsession_ttl_hours = 2\nmax_message_chars = 42\n[storage]\ndurability = \"normal\"\n\
                    [presence]\ngrace_seconds = 5\n";
        std::fs::write(&file, toml).unwrap();
        let config = Config::load(Some(&file), Overrides::default()).unwrap();
        let server = config.server_config();
        assert_eq!((server.heartbeat, server.idle_timeout, server.max_sockets), (Duration::from_secs(5), Duration::from_secs(20), 70));
        assert!(server.run_jobs, "the binary runs due jobs");
        assert_eq!(server.public_url.as_deref(), Some("https://chat.example"), "without its trailing slash");
        let limits = config.limits();
        assert_eq!((limits.session_ttl_ms, limits.max_message_chars), (2 * 3600 * 1000, 42));
        assert_eq!(limits.presence_grace_ms, 5_000);
        assert_eq!(config.storage.durability, Durability::Normal);
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9000\"\n[storage]\ndata_dir = \"/tmp/x\"\n").unwrap();
        let c = Config::load(Some(&file), Overrides { data: Some("/srv/sb".into()), listen: None }).unwrap();
        assert_eq!(c.server.listen.port(), 9000);
        assert_eq!(c.storage.data_dir, PathBuf::from("/srv/sb"));
    }
}
