//! Application state shared by every handler and socket.

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::Core;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use crate::admission::{Admission, default_max_sockets};
use crate::metrics::Metrics;

#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Mark the session cookie `Secure` (serve over HTTPS in production).
    pub secure_cookies: bool,
    /// Largest WebSocket frame the application accepts; larger ones get an error frame.
    pub max_frame_bytes: usize,
    /// How often sockets are pinged.
    pub heartbeat: Duration,
    /// A socket that sends nothing (not even a pong) for this long is closed.
    pub idle_timeout: Duration,
    /// A socket that cannot take a frame for this long is cut off.
    pub send_timeout: Duration,
    /// Most WebSocket sockets open at once, both kinds together; upgrades beyond it are
    /// answered `503` with `Retry-After`. Defaults to the open-file limit less room for
    /// everything else ([`default_max_sockets`]).
    pub max_sockets: usize,
    /// Most visitor handshakes (`hello` until the replay is sent) running at once; the
    /// others wait their turn, in order.
    pub max_handshakes: usize,
    /// How long a visitor's `hello` may wait for its turn before it is told to come back.
    pub handshake_wait: Duration,
    /// Run due jobs and timers in the background while serving (`Core::spawn_job_worker`),
    /// stopped by the graceful shutdown. Tests leave it off and run jobs themselves.
    pub run_jobs: bool,
    /// Where people reach the server (`https://chat.example.com`, no trailing slash), for
    /// links it hands out; `None`: the request's `Host`.
    pub public_url: Option<String>,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (bans and
    /// limits by address, HSTS); anyone else's are ignored.
    pub trusted_proxies: Vec<switchboard_domain::IpRange>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            max_frame_bytes: 64 * 1024,
            heartbeat: Duration::from_secs(25),
            idle_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(10),
            max_sockets: default_max_sockets(),
            max_handshakes: 64,
            handshake_wait: Duration::from_secs(10),
            run_jobs: true,
            public_url: None,
            trusted_proxies: vec![],
        }
    }
}

/// What every handler and socket shares, behind one `Arc`: a socket's session keeps a
/// pointer to it rather than its own copy of the core's handles (several hundred bytes
/// per open socket, see `ws::tests::an_idle_session_is_small`). Fields read through
/// `Deref` (`app.core`, `app.config`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub core: Core,
    pub metrics: Arc<Metrics>,
    pub config: Arc<ServerConfig>,
    /// Flips to `true` when the server starts shutting down; sockets then say goodbye.
    pub shutdown: watch::Receiver<bool>,
    /// Every WebSocket session, so shutdown can wait for them.
    pub sockets: TaskTracker,
    pub admission: Arc<Admission>,
}
