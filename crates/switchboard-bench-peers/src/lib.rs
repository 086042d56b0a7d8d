//! Chat targets no one here wrote, installed from the package registries, measured by
//! the same chat scenario as Switchboard, on the same machine, at the same time.
//!
//! Each peer is a real server started as a throwaway child process (temporary
//! directory, free loopback port, stopped when its [`PeerHandle`] is dropped or the
//! benchmark dies) plus an adapter implementing [`ChatTarget`] for its protocol. To add
//! a peer: a module with `start()` and a `ChatTarget`, a line in [`start`] and
//! [`ALL`], and its packages in [`prerequisites`].
//!
//! # What each peer does and does not guarantee
//!
//! **Prosody** 0.12 (Debian `prosody`), XMPP over WebSocket (RFC 7395), config in
//! `bench/peers/prosody/prosody.cfg.lua` (each change from Debian's stock config is
//! explained there):
//! - *Acknowledgement*: stream management (XEP-0198). The visitor sends `<r/>` after
//!   each message (a client may ask at any time), so each message gets its own answer;
//!   the server's `<a h=…/>` acknowledges every message counted in `h`. XEP-0198 only promises that
//!   the server has "handled" the stanza. Prosody counts a stanza when it reads it but
//!   handles one session's stanzas strictly one after another, so the `<a/>` is written
//!   after the message was routed to the agent and archived.
//! - *Durability*: `mod_mam` (XEP-0313) archives every chat message in the agent's
//!   archive, in SQLite through `mod_storage_sql`. Prosody sets no PRAGMA, so SQLite's
//!   defaults apply (rollback journal, `synchronous=FULL`): each message is its own
//!   transaction, committed with fsync, before delivery and before the ack. But if the
//!   archive write fails Prosody logs an error and still delivers and acknowledges.
//!   Visitors' own archives are not kept (anonymous accounts are per-connection and
//!   Prosody keeps no data for them by default).
//! - *Ordering*: RFC 6120 §10.1 requires in-order processing of a session's stanzas;
//!   Prosody delivers to the agent in the order the visitor sent.
//! - *Resumption*: the agent can page through its archive (MAM) after reconnecting;
//!   either side can resume its stream (XEP-0198 `resume`) for 10 minutes
//!   (`smacks_hibernation_time`), and unacknowledged stanzas are then resent.
//!
//! **socket.io** 4.x from npm, `bench/peers/socketio/server.js`: visitors and agents join
//! a room per conversation; a message is relayed to the rest of the room, then the
//! sender's ack callback is called. Stock options.
//! - *Acknowledgement*: the callback fires when the server's handler ran: the Node
//!   process has the message in memory. Nothing is written anywhere.
//! - *Durability*: none. A server restart loses everything; an agent that is
//!   disconnected misses messages for good ("at most once", socket.io's documented
//!   default: <https://socket.io/docs/v4/delivery-guarantees/>).
//! - *Ordering*: guaranteed per connection (same page), so a visitor's messages reach
//!   the agent in order.
//! - *Resumption*: none by default. Connection state recovery exists since 4.6 but is
//!   opt-in, in memory and bounded (2 minutes by default); `server.js` does not enable
//!   it, as hand-rolled servers mostly do not.

mod prosody;
mod socketio;
pub mod target;
mod xmpp;

use std::path::{Path, PathBuf};

pub use target::{ChatPair, ChatTarget, Observation, Semantics};

/// The peers [`start`] knows, by [`ChatTarget::name`].
pub const ALL: &[&str] = &["prosody", "socket.io"];

/// A running peer server and its adapter. Dropping it (or just its `target`) stops the
/// server and removes its files; so does the benchmark process dying.
pub struct PeerHandle {
    pub target: Box<dyn ChatTarget>,
    /// Pid of the server process, for sampling its CPU time and memory.
    pub pid: u32,
    /// What runs, for the report: `Prosody 0.12.3`, `socket.io 4.8.4 (Node.js v20.…)`.
    pub version: String,
}

/// Starts the peer called `name` (one of [`ALL`]; `socketio` is accepted too).
pub async fn start(name: &str) -> anyhow::Result<PeerHandle> {
    match name {
        "prosody" => prosody().await,
        "socket.io" | "socketio" => socketio().await,
        _ => anyhow::bail!("unknown peer {name:?}; known: {}", ALL.join(", ")),
    }
}

/// Prosody from Debian, with XMPP over WebSocket, an anonymous visitors' host, a
/// registered agent and a SQLite message archive.
pub async fn prosody() -> anyhow::Result<PeerHandle> {
    let server = prosody::start().await?;
    let pid = server.pid().unwrap_or_default();
    let version = server.version.clone();
    Ok(PeerHandle { target: Box::new(prosody::ProsodyTarget { server, sessions: Default::default() }), pid, version })
}

/// `bench/peers/socketio/server.js` under Node.js.
pub async fn socketio() -> anyhow::Result<PeerHandle> {
    let server = socketio::start().await?;
    let pid = server.pid().unwrap_or_default();
    let version = server.version.clone();
    Ok(PeerHandle { target: Box::new(socketio::SocketIoTarget { server }), pid, version })
}

/// What still has to be installed before the peers can run; empty when ready.
///
/// In full: the Debian packages `prosody` and `lua-dbi-sqlite3` (SQLite driver for its
/// SQL storage), Node.js 18 or newer with npm (Debian `nodejs npm`, unless a `node` is
/// already on `PATH`), and `npm ci` in `bench/peers/socketio` (versions pinned by its
/// `package-lock.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prerequisites {
    /// Debian packages to `apt-get install -y`.
    pub apt_packages: Vec<&'static str>,
    /// Directories to run `npm ci` in, after the packages are installed.
    pub npm_ci: Vec<PathBuf>,
}

impl Prerequisites {
    pub fn is_empty(&self) -> bool {
        self.apt_packages.is_empty() && self.npm_ci.is_empty()
    }
}

/// Checks what [`Prerequisites`] lists against this machine.
pub fn prerequisites() -> Prerequisites {
    let mut missing = Prerequisites::default();
    if !Path::new("/usr/bin/prosody").exists() {
        missing.apt_packages.push("prosody");
    }
    if !debian_package_installed("lua-dbi-sqlite3") {
        missing.apt_packages.push("lua-dbi-sqlite3");
    }
    if std::process::Command::new("node").arg("--version").output().is_err() {
        missing.apt_packages.extend(["nodejs", "npm"]);
    }
    let socketio = socketio::package_dir();
    if !socketio.join("node_modules/socket.io/package.json").exists() {
        missing.npm_ci.push(socketio);
    }
    missing
}

fn debian_package_installed(package: &str) -> bool {
    std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::target::Observation;

    /// Two pairs, three messages each: every id must be acknowledged and delivered,
    /// and nothing else may show up.
    async fn exchange(target: &dyn ChatTarget) -> anyhow::Result<()> {
        let mut pairs = Vec::new();
        for index in 0..2 {
            pairs.push(target.pair(index).await?);
        }
        for (index, pair) in pairs.iter_mut().enumerate() {
            let ids: Vec<u64> = (0..3).map(|n| 100 * index as u64 + n).collect();
            for &id in &ids {
                pair.send(id).await?;
            }
            let mut expected: Vec<Observation> =
                ids.iter().flat_map(|&id| [Observation::Acked { id }, Observation::Delivered { id }]).collect();
            let mut delivered = Vec::new();
            while !expected.is_empty() {
                let observation = tokio::time::timeout(Duration::from_secs(10), pair.next())
                    .await
                    .map_err(|_| anyhow::anyhow!("{}: still waiting for {expected:?}", target.name()))??;
                let seen = expected.iter().position(|o| *o == observation);
                let seen = seen.ok_or_else(|| anyhow::anyhow!("{}: unexpected {observation:?}", target.name()))?;
                expected.swap_remove(seen);
                if let Observation::Delivered { id } = observation {
                    delivered.push(id);
                }
            }
            assert_eq!(delivered, ids, "{}: delivered out of order", target.name());
        }
        Ok(())
    }

    /// The smoke tests skip a peer only when its server itself is not installed.
    fn prosody_installed() -> bool {
        Path::new("/usr/bin/prosody").exists()
    }

    fn socketio_installed() -> bool {
        std::process::Command::new("node").arg("--version").output().is_ok()
            && socketio::package_dir().join("node_modules/socket.io").exists()
    }

    fn gone(pid: u32) -> bool {
        // Zombies count as gone: in a container nobody may reap an orphan.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_or(true, |stat| stat.rsplit_once(") ").is_some_and(|(_, s)| s.starts_with('Z')))
    }

    #[tokio::test]
    async fn prosody_acknowledges_and_delivers() -> anyhow::Result<()> {
        if !prosody_installed() {
            println!("SKIPPED: /usr/bin/prosody is missing (apt-get install prosody lua-dbi-sqlite3)");
            return Ok(());
        }
        let target = prosody::ProsodyTarget { server: prosody::start().await?, sessions: Default::default() };
        assert!(target.server.version.starts_with("Prosody 0."), "{}", target.server.version);
        exchange(&target).await?;
        // Stored, in order, where the agent can fetch it after reconnecting.
        let expected = ["message 0", "message 1", "message 2", "message 100", "message 101", "message 102"];
        assert_eq!(target.server.archived_bodies().await?, expected);
        let log = target.server.log();
        assert!(!log.contains("error\t") && !log.contains("warn\t"), "Prosody complained:\n{log}");
        let missing = prerequisites().apt_packages;
        assert!(!missing.contains(&"prosody") && !missing.contains(&"lua-dbi-sqlite3"), "{missing:?}");
        let pid = target.server.pid().expect("pid known once ready");
        drop(target);
        assert!(gone(pid), "prosody {pid} survived its handle");
        Ok(())
    }

    #[tokio::test]
    async fn socketio_acknowledges_and_delivers() -> anyhow::Result<()> {
        if !socketio_installed() {
            println!("SKIPPED: node or bench/peers/socketio/node_modules is missing (apt-get install nodejs npm; npm ci there)");
            return Ok(());
        }
        let peer = socketio().await?;
        assert!(peer.version.starts_with("socket.io 4."), "{}", peer.version);
        exchange(&*peer.target).await?;
        let missing = prerequisites();
        assert!(!missing.apt_packages.contains(&"nodejs") && missing.npm_ci.is_empty(), "{missing:?}");
        let pid = peer.pid;
        drop(peer);
        assert!(gone(pid), "node {pid} survived its handle");
        Ok(())
    }

    /// A benchmark can be killed before it drops anything; its servers must still go.
    #[test]
    fn peers_die_with_a_killed_benchmark() -> anyhow::Result<()> {
        use std::io::BufRead;
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .args(["tests::leak_probe", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("SWITCHBOARD_BENCH_LEAK_PROBE", "1")
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let (mut pids, mut ready) = (Vec::new(), false);
        for line in std::io::BufReader::new(child.stdout.take().expect("piped")).lines() {
            // libtest may print `test … ... ` on the same line first.
            match line?.split_once("LEAK_PROBE ").map(|(_, rest)| rest.to_owned()).as_deref() {
                Some("ready") => {
                    ready = true;
                    break;
                }
                Some(pid) => pids.push(pid.parse::<u32>()?),
                None => {}
            }
        }
        let all_running = pids.iter().all(|&pid| !gone(pid));
        child.kill()?;
        child.wait()?;
        assert!(ready, "the probe did not start its peers");
        let expected = usize::from(prosody_installed()) + usize::from(socketio_installed());
        assert_eq!(pids.len(), expected, "the probe did not report every peer");
        assert!(all_running, "probe servers died before the probe did");
        // Nobody waits for an orphaned watchdog, so poll.
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while std::time::Instant::now() < deadline && !pids.iter().all(|&pid| gone(pid)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let alive: Vec<u32> = pids.into_iter().filter(|&pid| !gone(pid)).collect();
        assert!(alive.is_empty(), "servers {alive:?} outlived the killed benchmark");
        Ok(())
    }

    /// Run by [`peers_die_with_a_killed_benchmark`]: starts the peers it can, reports
    /// their pids and waits to be killed.
    #[tokio::test]
    #[ignore = "run in a child process by peers_die_with_a_killed_benchmark"]
    async fn leak_probe() -> anyhow::Result<()> {
        if std::env::var_os("SWITCHBOARD_BENCH_LEAK_PROBE").is_none() {
            return Ok(());
        }
        let mut peers = Vec::new();
        if prosody_installed() {
            peers.push(prosody().await?);
        }
        if socketio_installed() {
            peers.push(socketio().await?);
        }
        for peer in &peers {
            println!("LEAK_PROBE {}", peer.pid);
        }
        println!("LEAK_PROBE ready");
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(())
    }

    #[test]
    fn unknown_peers_are_named() {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let err = rt.block_on(start("irc")).err().expect("no such peer").to_string();
        assert!(err.contains("prosody") && err.contains("socket.io"), "{err}");
    }
}
