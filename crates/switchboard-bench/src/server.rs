//! The server under test as a separate process: start `switchboard serve` on a data
//! directory, wait until it listens, measure it through `/proc`, stop it gently or
//! with `kill -9`; and the fixture every scenario starts from (workspaces, sites, API
//! tokens), built once per bench invocation and copied for each run.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::http;
use crate::machine;

/// `storage.durability`: `full` fsyncs every commit (the default), `normal` does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    Full,
    Normal,
}

impl Durability {
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Full => "full",
            Durability::Normal => "normal",
        }
    }

    pub fn mode(self) -> String {
        format!("durability={}", self.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct ServerOpts {
    pub durability: Durability,
    /// `127.0.0.1:0` picks a free port.
    pub listen: String,
    /// `taskset -c` CPU list for the pinned topology; `None` shares all cores.
    pub cpus: Option<String>,
    /// Configuration as `SWITCHBOARD__…` environment variables (PostgreSQL, Redis).
    pub env: Vec<(String, String)>,
    /// Keep the product's rate limits (`[limits.rates]`). Off by default: the other
    /// scenarios measure the store, delivery and sockets with load far above what one
    /// person sends, from a few source addresses; the flood scenario turns them on.
    pub rate_limits: bool,
}

impl ServerOpts {
    pub fn new(durability: Durability) -> Self {
        Self { durability, listen: "127.0.0.1:0".into(), cpus: None, env: vec![], rate_limits: false }
    }
}

/// `SWITCHBOARD__LIMITS__RATES__<KIND>__BURST=0` for every rate: all limits off.
fn rate_limits_off() -> Vec<(String, String)> {
    let rates = serde_json::to_value(switchboard_core::Rates::default()).expect("rates serialise");
    let kinds = rates.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    kinds.into_iter().map(|k| (format!("SWITCHBOARD__LIMITS__RATES__{}__BURST", k.to_uppercase()), "0".to_owned())).collect()
}

/// A running `switchboard serve`. Dropping it kills it.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
}

pub fn command(bin: &Path, data: &Path, cpus: Option<&str>) -> Command {
    let mut cmd = match cpus {
        Some(list) => {
            let mut c = Command::new("taskset");
            c.args(["-c", list]).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.arg("--data").arg(data).env_remove("RUST_LOG").env("SWITCHBOARD__LOG__LEVEL", "warn");
    cmd
}

impl Server {
    pub async fn start(bin: &Path, data: &Path, opts: &ServerOpts) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data)?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(data.join("server.log"))?;
        let mut cmd = command(bin, data, opts.cpus.as_deref());
        if !opts.rate_limits {
            cmd.envs(rate_limits_off());
        }
        let mut child = cmd
            .env("SWITCHBOARD__STORAGE__DURABILITY", opts.durability.as_str())
            .envs(opts.env.iter().map(|(k, v)| (k, v)))
            .args(["serve", "--listen", &opts.listen])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("server exited at once")?;
        let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let addr = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix("Switchboard is listening on http://") {
                    return Ok(url.trim().parse::<SocketAddr>()?);
                }
            }
            bail!("the server exited before listening; see {}", data.join("server.log").display())
        })
        .await
        .context("the server did not listen within 30 s")??;
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, addr, pid })
    }

    pub fn rss_bytes(&self) -> anyhow::Result<u64> {
        machine::rss_bytes(self.pid)
    }

    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        machine::cpu_seconds(self.pid)
    }

    /// `kill -9`: no shutdown code runs.
    pub async fn kill9(mut self) -> anyhow::Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }

    /// SIGTERM, then waits for the graceful shutdown (sockets told to reconnect, the
    /// store flushed). Returns how long the shutdown took.
    pub async fn stop(mut self) -> anyhow::Result<Duration> {
        let t = Instant::now();
        let status = std::process::Command::new("kill").args(["-TERM", &self.pid.to_string()]).status()?;
        anyhow::ensure!(status.success(), "kill -TERM {} failed", self.pid);
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                anyhow::ensure!(status.success(), "the server exited with {status} on SIGTERM");
                Ok(t.elapsed())
            }
            Err(_) => {
                self.child.start_kill()?;
                bail!("the server did not stop within 30 s of SIGTERM")
            }
        }
    }
}

/// One workspace of the fixture: how to act as its owner, its site and an admin token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Workspace {
    pub email: String,
    pub password: String,
    pub site_key: String,
    pub token: String,
}

/// A data directory holding `workspaces`, each with a site and an API token; every
/// run works on a fresh copy, so runs never see each other's messages.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub dir: PathBuf,
    pub workspaces: Vec<Workspace>,
}

impl Fixture {
    pub async fn build(bin: &Path, root: &Path, count: usize) -> anyhow::Result<Self> {
        Self::build_with(bin, root.join("fixture"), count, &[]).await
    }

    /// The fixture in `dir` with configuration `env` (a PostgreSQL database: the
    /// workspaces are then in that database, and `dir` only holds uploads).
    pub async fn build_with(bin: &Path, dir: PathBuf, count: usize, env: &[(String, String)]) -> anyhow::Result<Self> {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let t = Instant::now();
        let mut creds = vec![];
        for i in 0..count {
            let email = format!("owner{i}@bench.example");
            let password = format!("bench password {i}");
            let out = command(bin, &dir, None)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .args(["admin", "create-workspace", "--name", &format!("bench-{i}"), "--owner-email", &email, "--password", &password])
                .output()
                .await?;
            anyhow::ensure!(out.status.success(), "create-workspace failed: {}", String::from_utf8_lossy(&out.stderr));
            creds.push((email, password));
        }
        let opts = ServerOpts { env: env.to_vec(), ..ServerOpts::new(Durability::Normal) };
        let server = Server::start(bin, &dir, &opts).await?;
        let mut workspaces = vec![];
        for (email, password) in creds {
            let session = http::Session::login(server.addr, &email, &password).await?;
            let site = session.post("/api/v1/sites", &serde_json::json!({"name": "Bench shop"})).await?;
            let token = session.post("/api/v1/api-tokens", &serde_json::json!({"name": "bench", "role": "admin"})).await?;
            workspaces.push(Workspace {
                email,
                password,
                site_key: site["public_key"].as_str().context("site without public_key")?.to_owned(),
                token: token["secret"].as_str().context("token without secret")?.to_owned(),
            });
        }
        server.stop().await?;
        let _ = std::fs::remove_file(dir.join("server.log"));
        eprintln!("fixture: {count} workspaces with a site and an API token in {:.1} s", t.elapsed().as_secs_f64());
        Ok(Self { dir, workspaces })
    }

    /// A fresh copy of the fixture's data directory at `dest`.
    pub fn instance(&self, dest: &Path) -> anyhow::Result<()> {
        let _ = std::fs::remove_dir_all(dest);
        copy_dir(&self.dir, dest)
    }
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// A free TCP port on 127.0.0.1 (free now; a race is possible but harmless here).
pub use switchboard_services::free_port;
