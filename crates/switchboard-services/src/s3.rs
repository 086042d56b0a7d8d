//! A throwaway S3-compatible server for the blob store's tests: moto's server (PyPI
//! `moto[server]`, a real HTTP server speaking the S3 protocol, objects in memory) on a
//! random port of 127.0.0.1, in its own temporary directory, under the watchdog
//! (`process.rs`). `cargo xtask test` installs it when `moto_server` is missing.

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::process::{ServerProcess, start_on_free_port, temp_dir};

/// The PyPI requirement that provides `moto_server`; `cargo xtask test` installs it.
pub const MOTO_REQUIREMENT: &str = "moto[server]==5.2.1";

/// An S3-compatible server owned by this process; it stops (and forgets every object)
/// when dropped. It checks no signature, so any access key works.
#[derive(Debug)]
pub struct EphemeralS3 {
    endpoint: String,
    port: u16,
    _process: ServerProcess,
}

impl EphemeralS3 {
    /// Starts a new server with no bucket.
    pub async fn start() -> anyhow::Result<Self> {
        let binary = moto_server()?;
        let (process, port) =
            start_on_free_port(async |port| spawn(&binary, port), |port| async move { http(port, "GET", "/").await.is_ok() }).await?;
        Ok(Self { endpoint: format!("http://127.0.0.1:{port}"), port, _process: process })
    }

    /// `http://127.0.0.1:PORT`, the endpoint a client is configured with.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Creates a bucket (S3's `CreateBucket`: `PUT /{bucket}`).
    pub async fn create_bucket(&self, bucket: &str) -> anyhow::Result<()> {
        let status = http(self.port, "PUT", &format!("/{bucket}")).await.context("creating a bucket")?;
        if status != 200 {
            bail!("creating bucket {bucket} answered HTTP {status}");
        }
        Ok(())
    }
}

/// `moto_server` on the `PATH` (pip puts it there), or a message that says how to get it.
fn moto_server() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join("moto_server")).find(|p| p.is_file()).with_context(|| {
        format!(
            "moto_server not found on PATH: install it with `python3 -m pip install '{MOTO_REQUIREMENT}'`; \
             `cargo xtask test` installs it for you"
        )
    })
}

fn spawn(binary: &std::path::Path, port: u16) -> anyhow::Result<ServerProcess> {
    let dir = temp_dir("switchboard-s3-", None)?;
    let args: Vec<OsString> = vec!["--host".into(), "127.0.0.1".into(), "--port".into(), port.to_string().into()];
    ServerProcess::spawn(&format!("moto (S3) on 127.0.0.1:{port}"), dir, "TERM", None, binary, &args)
}

/// One bodiless HTTP/1.1 request to 127.0.0.1:`port`; the response's status code.
async fn http(port: u16, method: &str, path: &str) -> anyhow::Result<u16> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
        let request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        std::io::Result::Ok(head)
    };
    let head = tokio::time::timeout(Duration::from_secs(5), exchange).await.context("no answer within 5 s")??;
    let status = std::str::from_utf8(&head[9..12]).ok().and_then(|s| s.parse().ok());
    status.with_context(|| format!("not an HTTP response: {:?}", String::from_utf8_lossy(&head)))
}
