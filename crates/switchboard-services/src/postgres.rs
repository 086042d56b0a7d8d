//! A throwaway PostgreSQL server from Debian's binaries, on a random port of
//! 127.0.0.1, in its own temporary directory, under the watchdog (`process.rs`).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, bail};
use tokio::sync::OnceCell;

use crate::process::{ServerProcess, User, command, missing, run, server_user, start_on_free_port, temp_dir};

/// Initialised data directories are copied from a cached template; bump the
/// tag whenever the `initdb` flags change.
const TEMPLATE_TAG: &str = "v1";

/// Settings for tests. Durability against OS crashes is worthless for a throwaway
/// server, and fsync dominates CREATE DATABASE on small machines; many test processes
/// share one machine. [`EphemeralPostgres::start_durable`] keeps PostgreSQL's defaults.
const FOR_TESTS: [&str; 5] = ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200", "shared_buffers=32MB"];

/// A PostgreSQL server owned by this process; tests get one database each
/// from [`EphemeralPostgres::create_database`].
#[derive(Debug)]
pub struct EphemeralPostgres {
    url: String,
    bin: PathBuf,
    port: u16,
    next_database: AtomicU32,
    pub(crate) process: ServerProcess,
}

impl EphemeralPostgres {
    /// Starts a new server without fsync (for tests); it stops when dropped.
    pub async fn start() -> anyhow::Result<Self> {
        Self::launch(&FOR_TESTS).await
    }

    /// Starts a new server with PostgreSQL's stock settings, so its default
    /// durability (fsync and synchronous commit on), for measuring durable commits;
    /// it stops when dropped.
    pub async fn start_durable() -> anyhow::Result<Self> {
        Self::launch(&[]).await
    }

    async fn launch(settings: &[&str]) -> anyhow::Result<Self> {
        let bin = postgres_bin_dir(Path::new("/usr/lib/postgresql"))?;
        let user = server_user("postgres", "postgresql")?;
        let template = postgres_template(&bin, user).await?;
        let spawn = async |port: u16| {
            let dir = temp_dir("switchboard-pg-", user)?;
            let data = dir.path().join("data");
            run(command(Path::new("cp"), user).arg("-a").arg(&template).arg(&data).current_dir(dir.path()))
                .await
                .context("copying the PostgreSQL template data directory")?;
            let mut args: Vec<OsString> = vec!["-D".into(), data.into_os_string()];
            args.extend(["-p".into(), port.to_string().into()]);
            args.extend(["-k".into(), dir.path().as_os_str().to_owned()]);
            for setting in ["listen_addresses=127.0.0.1"].iter().chain(settings) {
                args.extend(["-c".into(), setting.into()]);
            }
            ServerProcess::spawn(&format!("postgres on 127.0.0.1:{port}"), dir, "QUIT", user, &bin.join("postgres"), &args)
        };
        let (process, port) = start_on_free_port(spawn, async |port| pg_isready(&bin, port).await).await?;
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        Ok(Self { url, bin, port, next_database: AtomicU32::new(0), process })
    }

    /// One server for the whole process, started on first use.
    ///
    /// It is never dropped; the watchdog stops it when the process exits.
    pub async fn shared() -> anyhow::Result<&'static Self> {
        static SHARED: OnceCell<EphemeralPostgres> = OnceCell::const_new();
        SHARED.get_or_try_init(Self::start).await
    }

    /// URL of the `postgres` maintenance database, as superuser `postgres`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Pid of the server process, for sampling its CPU time and memory.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Creates a fresh, uniquely named database and returns its URL.
    pub async fn create_database(&self) -> anyhow::Result<String> {
        let n = self.next_database.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{}_{n}", std::process::id());
        let port = self.port.to_string();
        run(tokio::process::Command::new(self.bin.join("createdb")).args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", &name]))
            .await
            .with_context(|| format!("creating database {name}"))?;
        Ok(format!("postgres://postgres@127.0.0.1:{port}/{name}"))
    }

    /// Runs `sql` with `psql` against the database at `url` and returns the
    /// unaligned, tuples-only output; any SQL error fails the call.
    pub async fn psql(&self, url: &str, sql: &str) -> anyhow::Result<String> {
        let out = run(tokio::process::Command::new(self.bin.join("psql")).args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ]))
        .await?;
        Ok(out.trim_end().to_owned())
    }
}

/// The newest `/usr/lib/postgresql/<major>/bin` that has a server binary.
pub(crate) fn postgres_bin_dir(root: &Path) -> anyhow::Result<PathBuf> {
    let newest = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((major, bin))
        })
        .max();
    match newest {
        Some((_, bin)) => Ok(bin),
        None => bail!(missing("PostgreSQL server binaries", &format!("{}/*/bin/postgres", root.display()), "postgresql")),
    }
}

/// `initdb` takes about a second, a copy a tenth of that; with nextest every
/// test is a process of its own, so the initialised data directory is cached
/// in the temp dir (per major version, flags and user) and copied per server.
async fn postgres_template(bin: &Path, user: User) -> anyhow::Result<PathBuf> {
    let major = bin.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let uid = user.map_or_else(|| "self".to_owned(), |(uid, _)| uid.to_string());
    let name = format!("switchboard-services-pg{major}-template-{TEMPLATE_TAG}-{uid}");
    let cached = std::env::temp_dir().join(name);
    let data = cached.join("data");
    // The rename below is atomic, so a present PG_VERSION means complete.
    if data.join("PG_VERSION").exists() {
        return Ok(data);
    }
    let staging = temp_dir(".switchboard-pg-template-", user)?;
    run(command(&bin.join("initdb"), user)
        .arg("-D")
        .arg(staging.path().join("data"))
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
        .args(["--locale=C.UTF-8", "--no-sync", "--no-instructions"])
        .current_dir(staging.path()))
    .await
    .context("initdb")?;
    let staging = staging.keep();
    if let Err(e) = fs::rename(&staging, &cached) {
        // Another process won the race; use its template.
        let _ = fs::remove_dir_all(&staging);
        if !data.join("PG_VERSION").exists() {
            return Err(e).with_context(|| format!("caching {}", cached.display()));
        }
    }
    Ok(data)
}

async fn pg_isready(bin: &Path, port: u16) -> bool {
    let port = port.to_string();
    tokio::process::Command::new(bin.join("pg_isready"))
        .args(["-q", "-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-t", "1"])
        .stdin(std::process::Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}
