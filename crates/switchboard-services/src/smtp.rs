//! A throwaway SMTP server that keeps what it receives, for the mail stories: aiosmtpd
//! from Debian's `python3-aiosmtpd` (run by Debian's own `/usr/bin/python3`, which has
//! it; a pyenv `python3` on the `PATH` may not), with a small handler
//! (`smtp_sink.py`) that writes each message to a directory the test reads. It can be
//! told to refuse (answer `451`, try again later) to test retries. Random port on
//! 127.0.0.1, under the watchdog (`process.rs`); stopped when dropped.

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::AsyncReadExt;

use crate::process::{ServerProcess, missing, start_on_free_port, temp_dir};

const PYTHON: &str = "/usr/bin/python3";
const SINK: &str = include_str!("smtp_sink.py");

/// An SMTP server owned by this process that accepts everything (unless told to
/// refuse) and keeps each message.
#[derive(Debug)]
pub struct EphemeralSmtp {
    port: u16,
    process: ServerProcess,
}

impl EphemeralSmtp {
    /// Starts a new server with an empty mailbox.
    pub async fn start() -> anyhow::Result<Self> {
        if !Path::new(PYTHON).exists() || !Path::new("/usr/lib/python3/dist-packages/aiosmtpd").exists() {
            bail!(missing("aiosmtpd", "/usr/lib/python3/dist-packages/aiosmtpd", "python3-aiosmtpd"));
        }
        let (process, port) = start_on_free_port(async |port| spawn(port), smtp_greets).await?;
        Ok(Self { port, process })
    }

    /// The TCP port on 127.0.0.1 (plain SMTP, no TLS).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// While on, every recipient is answered `451 4.3.0` (a temporary failure).
    pub fn refuse(&self, on: bool) -> anyhow::Result<()> {
        let flag = self.process.dir().join("refuse");
        if on {
            std::fs::write(&flag, b"").context("turning refusals on")
        } else {
            match std::fs::remove_file(&flag) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).context("turning refusals off"),
                _ => Ok(()),
            }
        }
    }

    fn mailbox(&self) -> PathBuf {
        self.process.dir().join("new")
    }

    /// Every message received so far, raw (headers and body as sent), oldest first.
    pub fn messages(&self) -> anyhow::Result<Vec<String>> {
        let mut names: Vec<PathBuf> = match std::fs::read_dir(self.mailbox()) {
            Ok(dir) => dir.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
            Err(e) => return Err(e).context("reading the mailbox"),
        };
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))).collect()
    }

    /// Waits until at least `n` messages arrived, at most `timeout`; returns them all.
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> anyhow::Result<Vec<String>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let messages = self.messages()?;
            if messages.len() >= n {
                return Ok(messages);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("{} message(s) arrived within {timeout:?}, expected {n}", messages.len());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn spawn(port: u16) -> anyhow::Result<ServerProcess> {
    let dir = temp_dir("switchboard-smtp-", None)?;
    let script = dir.path().join("smtp_sink.py");
    std::fs::write(&script, SINK).context("writing the SMTP handler")?;
    let args: Vec<OsString> = vec![script.into(), port.to_string().into(), dir.path().into()];
    ServerProcess::spawn(&format!("aiosmtpd on 127.0.0.1:{port}"), dir, "TERM", None, Path::new(PYTHON), &args)
}

/// Ready once the server greets a connection with `220`.
async fn smtp_greets(port: u16) -> bool {
    let greet = async {
        let mut stream = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
        let mut code = [0u8; 3];
        stream.read_exact(&mut code).await?;
        std::io::Result::Ok(&code == b"220")
    };
    tokio::time::timeout(Duration::from_secs(1), greet).await.is_ok_and(|r| r.is_ok_and(|ok| ok))
}
