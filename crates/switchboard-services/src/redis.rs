//! A throwaway Redis server from Debian's `redis-server`, persistence off, on a random
//! port of 127.0.0.1, in its own temporary directory, under the watchdog (`process.rs`).
//! The cluster tier stops it and starts it again on the same port (an outage), and
//! pauses it by pid (`SIGSTOP`: a hung Redis).

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use anyhow::bail;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::OnceCell;

use crate::process::{ServerProcess, missing, start_on_free_port, temp_dir};

/// A Redis server owned by this process, with persistence turned off.
#[derive(Debug)]
pub struct EphemeralRedis {
    url: String,
    port: u16,
    /// `None` only during [`EphemeralRedis::restart_after`]'s outage.
    pub(crate) process: Option<ServerProcess>,
}

impl EphemeralRedis {
    /// Starts a new server; it stops when dropped.
    pub async fn start() -> anyhow::Result<Self> {
        let (process, port) = start_on_free_port(async |port| spawn(port), redis_ping).await?;
        Ok(Self { url: format!("redis://127.0.0.1:{port}"), port, process: Some(process) })
    }

    /// Stops the server (its data is gone: persistence is off), runs `outage`, then
    /// starts an empty server on the same port and waits until it answers.
    pub async fn restart_after<T>(&mut self, outage: impl AsyncFnOnce() -> T) -> anyhow::Result<T> {
        drop(self.process.take());
        let during = outage().await;
        let mut process = spawn(self.port)?;
        let port = self.port;
        process.wait_ready(|| redis_ping(port)).await?;
        self.process = Some(process);
        Ok(during)
    }

    /// One server for the whole process, started on first use.
    ///
    /// It is never dropped; the watchdog stops it when the process exits.
    pub async fn shared() -> anyhow::Result<&'static Self> {
        static SHARED: OnceCell<EphemeralRedis> = OnceCell::const_new();
        SHARED.get_or_try_init(Self::start).await
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Pid of the server process.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref()?.pid()
    }
}

fn spawn(port: u16) -> anyhow::Result<ServerProcess> {
    let binary = Path::new("/usr/bin/redis-server");
    if !binary.exists() {
        bail!(missing("redis-server", "/usr/bin/redis-server", "redis-server"));
    }
    let dir = temp_dir("switchboard-redis-", None)?;
    let mut args: Vec<OsString> = Vec::new();
    for (key, value) in [
        ("--port", port.to_string()),
        ("--bind", "127.0.0.1".into()),
        ("--save", String::new()),
        ("--appendonly", "no".into()),
        ("--daemonize", "no".into()),
        ("--dir", dir.path().display().to_string()),
    ] {
        args.extend([key.into(), value.into()]);
    }
    ServerProcess::spawn(&format!("redis on 127.0.0.1:{port}"), dir, "TERM", None, binary, &args)
}

/// `PING` over raw RESP; `-LOADING` and refused connections count as not ready.
pub(crate) async fn redis_ping(port: u16) -> bool {
    let ping = async {
        let mut stream = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).await?;
        std::io::Result::Ok(&reply == b"+PONG\r\n")
    };
    tokio::time::timeout(Duration::from_secs(1), ping).await.is_ok_and(|r| r.is_ok_and(|pong| pong))
}
