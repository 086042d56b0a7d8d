//! Admission control: a cap on open WebSocket sockets, kept below the process's
//! open-file limit, and a bound on visitor handshakes running at once. A reconnect storm
//! is then told to come back later (`503` with `Retry-After`), and the server finishes
//! the handshakes it started, instead of running out of file descriptors and database
//! connections and failing everyone.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// What a refused upgrade is told to wait before trying again, in seconds.
pub const RETRY_AFTER_SECS: u64 = 5;

pub struct Admission {
    sockets: Arc<Semaphore>,
    handshakes: Arc<Semaphore>,
    handshake_wait: Duration,
}

/// A place among the open sockets, held for the socket's whole life.
pub struct SocketSlot {
    _permit: OwnedSemaphorePermit,
}

/// A turn to run a visitor handshake, held from `hello` until the replay is sent.
pub struct HandshakeTurn {
    _permit: OwnedSemaphorePermit,
}

impl Admission {
    pub fn new(max_sockets: usize, max_handshakes: usize, handshake_wait: Duration) -> Self {
        Self { sockets: Arc::new(Semaphore::new(max_sockets)), handshakes: Arc::new(Semaphore::new(max_handshakes)), handshake_wait }
    }

    /// A place for one more socket, unless the cap is reached.
    pub fn socket(&self) -> Option<SocketSlot> {
        self.sockets.clone().try_acquire_owned().ok().map(|p| SocketSlot { _permit: p })
    }

    /// Waits for a turn to run a handshake; `None` if none came within the wait. Turns
    /// are given in order of arrival.
    pub async fn handshake(&self) -> Option<HandshakeTurn> {
        let turn = tokio::time::timeout(self.handshake_wait, self.handshakes.clone().acquire_owned()).await;
        turn.ok()?.ok().map(|p| HandshakeTurn { _permit: p })
    }
}

/// The answer to an upgrade beyond the cap: `503`, `Retry-After`, and the API's error body.
pub fn busy() -> Response {
    let mut response =
        ApiError::new(switchboard_proto::ErrorCode::ServerBusy, "the server holds all the sockets it can; retry later").into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// The default cap: the process's open-file limit less room for everything else that
/// needs a file (database files and connections, uploads, HTTP requests, the listener):
/// a fortieth of the limit, at least 256, at most half. At 20,000 open files that is
/// 19,500 sockets: the 19,000 visitors and the agents of the project's own load goals.
pub fn default_max_sockets() -> usize {
    max_sockets_for(open_file_limit())
}

fn max_sockets_for(open_files: u64) -> usize {
    let headroom = (open_files / 40).max(256).min(open_files / 2);
    usize::try_from(open_files - headroom).unwrap_or(usize::MAX)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard one, as servers that hold a socket per
/// client do (nginx's `worker_rlimit_nofile`, Go's runtime): a distribution's default
/// soft limit of 1,024 would otherwise cap the server near a thousand visitors, whatever
/// the administrator allowed. Returns the limits before and after.
#[cfg(unix)]
pub fn raise_open_file_limit() -> std::io::Result<(u64, u64)> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let before = open_file_limit();
    let wanted = limit.maximum.unwrap_or(KERNEL_NOFILE_CEILING);
    if before >= wanted {
        return Ok((before, before));
    }
    setrlimit(Resource::Nofile, Rlimit { current: Some(wanted), maximum: limit.maximum })?;
    Ok((before, open_file_limit()))
}

#[cfg(not(unix))]
pub fn raise_open_file_limit() -> std::io::Result<(u64, u64)> {
    Ok((open_file_limit(), open_file_limit()))
}

/// "No limit" cannot be set for open files on Linux; the kernel's default ceiling
/// (`fs.nr_open`) stands in for it.
#[cfg(unix)]
const KERNEL_NOFILE_CEILING: u64 = 1 << 20;

/// The soft `RLIMIT_NOFILE`: what this process may open now.
#[cfg(unix)]
fn open_file_limit() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current.unwrap_or(KERNEL_NOFILE_CEILING)
}

#[cfg(not(unix))]
fn open_file_limit() -> u64 {
    8192
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_leaves_room_below_the_open_file_limit() {
        assert_eq!(max_sockets_for(20_000), 19_500);
        assert_eq!(max_sockets_for(1024), 768);
        assert_eq!(max_sockets_for(1 << 20), 1_022_362);
        assert_eq!(max_sockets_for(300), 150);
        assert!(default_max_sockets() > 0);
    }

    #[cfg(unix)]
    #[test]
    fn the_soft_open_file_limit_is_raised_to_the_hard_one() {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        let hard = limit.maximum.expect("a hard limit on open files");
        // One below the hard limit: enough to see it raised, harmless to tests running meanwhile.
        setrlimit(Resource::Nofile, Rlimit { current: Some(hard - 1), maximum: Some(hard) }).unwrap();
        assert_eq!(open_file_limit(), hard - 1);
        assert_eq!(raise_open_file_limit().unwrap(), (hard - 1, hard));
        assert_eq!(open_file_limit(), hard);
        assert_eq!(raise_open_file_limit().unwrap(), (hard, hard), "raising again changes nothing");
    }

    #[tokio::test]
    async fn a_slot_is_given_back_when_its_socket_ends() {
        let admission = Admission::new(1, 1, Duration::from_millis(10));
        let slot = admission.socket().expect("a first socket");
        assert!(admission.socket().is_none(), "the cap is one socket");
        drop(slot);
        assert!(admission.socket().is_some());

        let turn = admission.handshake().await.expect("a first turn");
        assert!(admission.handshake().await.is_none(), "one handshake at a time; the second waits, then gives up");
        drop(turn);
        assert!(admission.handshake().await.is_some());
    }
}
