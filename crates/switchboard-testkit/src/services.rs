//! Throwaway PostgreSQL and Redis servers for the cluster test tier.
//!
//! Each server lives in its own temporary directory on a random port of
//! 127.0.0.1 and uses Debian's binaries (`postgresql`, `redis-server`).
//!
//! No-leak guarantee: a server is never started directly. It runs under a small
//! `sh` watchdog whose stdin is a pipe held only by the test process. When the
//! pipe closes — `Drop`, a normal exit that never drops a `static`, a panic or a
//! `kill -9` of the test process — the watchdog stops the server and removes
//! its directory. `Drop` additionally waits for that to finish, so a dropped
//! server's port is free when `drop` returns.

use std::ffi::OsString;
use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::OnceCell;

/// How long a server may take to accept connections before `start` gives up.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(25);
/// A freshly picked port can be taken by someone else before the server binds it.
const START_ATTEMPTS: usize = 4;
/// Initialised data directories are copied from a cached template; bump the
/// tag whenever the `initdb` flags change.
const TEMPLATE_TAG: &str = "v1";

/// The watchdog. `$1` is the directory to remove, `$2` the signal that stops
/// the server, the rest is the server's command line. It writes
/// `server.pid`, `server.log` and, once the server exits, `server.exited`.
/// The directory is removed only after stdin has closed, so the owner can read
/// the log of a server that failed to start. `mv` makes `server.exited`
/// appear complete or not at all.
const WATCHDOG: &str = r#"
dir=$1; sig=$2; shift 2
exec 3<&0 </dev/null
"$@" 3<&- >"$dir/server.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/server.pid"
{ cat >/dev/null; [ -e "$dir/server.exited" ] || kill -s "$sig" "$pid" 2>/dev/null; } <&3 &
wd=$!
exec 3<&-
wait "$pid"
st=$?
echo "$st" >"$dir/.exited" && mv "$dir/.exited" "$dir/server.exited"
wait "$wd"
rm -rf "$dir"
exit "$st"
"#;

/// A PostgreSQL server owned by this test process; tests get one database each
/// from [`EphemeralPostgres::create_database`].
#[derive(Debug)]
pub struct EphemeralPostgres {
    url: String,
    bin: PathBuf,
    next_database: AtomicU32,
    process: ServerProcess,
}

impl EphemeralPostgres {
    /// Starts a new server; it stops when dropped.
    pub async fn start() -> anyhow::Result<Self> {
        let bin = postgres_bin_dir(Path::new("/usr/lib/postgresql"))?;
        let user = server_user()?;
        let template = postgres_template(&bin, user).await?;
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let dir = temp_dir("switchboard-pg-", user)?;
            let data = dir.path().join("data");
            run(command(Path::new("cp"), user).arg("-a").arg(&template).arg(&data).current_dir(dir.path()))
                .await
                .context("copying the PostgreSQL template data directory")?;
            let port = free_port()?;
            let mut args: Vec<OsString> = vec!["-D".into(), data.into_os_string()];
            args.extend(["-p".into(), port.to_string().into()]);
            args.extend(["-k".into(), dir.path().as_os_str().to_owned()]);
            // Durability against OS crashes is worthless for a throwaway
            // server, and fsync dominates CREATE DATABASE on small machines.
            for setting in [
                "listen_addresses=127.0.0.1",
                "fsync=off",
                "synchronous_commit=off",
                "full_page_writes=off",
                "max_connections=200",
                "shared_buffers=32MB",
            ] {
                args.extend(["-c".into(), setting.into()]);
            }
            let mut process = ServerProcess::spawn(dir, "QUIT", user, &bin.join("postgres"), &args, port)?;
            let ready = process.wait_ready("postgres", || pg_isready(&bin, port)).await;
            match ready {
                Ok(()) => {
                    return Ok(Self {
                        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                        bin,
                        next_database: AtomicU32::new(0),
                        process,
                    });
                }
                Err(e) if process.lost_port_race() => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.expect("at least one attempt"))
    }

    /// One server for the whole test process, started on first use.
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
        self.process.port
    }

    /// Creates a fresh, uniquely named database and returns its URL.
    pub async fn create_database(&self) -> anyhow::Result<String> {
        let n = self.next_database.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{}_{n}", std::process::id());
        let port = self.process.port.to_string();
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

/// A Redis server owned by this test process, with persistence turned off.
#[derive(Debug)]
pub struct EphemeralRedis {
    url: String,
    process: ServerProcess,
}

impl EphemeralRedis {
    /// Starts a new server; it stops when dropped.
    pub async fn start() -> anyhow::Result<Self> {
        let binary = Path::new("/usr/bin/redis-server");
        if !binary.exists() {
            bail!(missing("redis-server", "/usr/bin/redis-server", "redis-server"));
        }
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let dir = temp_dir("switchboard-redis-", None)?;
            let port = free_port()?;
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
            let mut process = ServerProcess::spawn(dir, "TERM", None, binary, &args, port)?;
            match process.wait_ready("redis", || redis_ping(port)).await {
                Ok(()) => {
                    let url = format!("redis://127.0.0.1:{port}");
                    return Ok(Self { url, process });
                }
                Err(e) if process.lost_port_race() => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.expect("at least one attempt"))
    }

    /// One server for the whole test process, started on first use.
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
        self.process.port
    }
}

/// Uid and gid a server runs as, when not the current user.
type User = Option<(u32, u32)>;

/// A server running under the watchdog, with its temporary directory.
#[derive(Debug)]
struct ServerProcess {
    /// The watchdog; dropping its stdin stops the server.
    watchdog: Child,
    /// Pid of the server itself, known once it is ready.
    pid: Option<u32>,
    port: u16,
    /// Removed by the watchdog; kept as a fallback if the watchdog is gone.
    dir: TempDir,
}

impl ServerProcess {
    fn spawn(dir: TempDir, signal: &str, user: User, program: &Path, args: &[OsString], port: u16) -> anyhow::Result<Self> {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", WATCHDOG, "watchdog"])
            .arg(dir.path())
            .arg(signal)
            .arg(program)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((uid, gid)) = user {
            std::os::unix::process::CommandExt::uid(&mut cmd, uid);
            std::os::unix::process::CommandExt::gid(&mut cmd, gid);
        }
        let watchdog = cmd.spawn().with_context(|| format!("starting {}", program.display()))?;
        Ok(Self { watchdog, pid: None, port, dir })
    }

    /// Polls `ready` until it succeeds, the server exits, or time runs out.
    async fn wait_ready<F, Fut>(&mut self, name: &str, ready: F) -> anyhow::Result<()>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if self.pid.is_none() {
                self.pid = self.read("server.pid").and_then(|s| s.trim().parse().ok());
            }
            if let Some(status) = self.read("server.exited") {
                bail!("{name} exited with status {} before accepting connections; its log:\n{}", status.trim(), self.log());
            }
            if let Ok(Some(status)) = self.watchdog.try_wait() {
                bail!("the watchdog for {name} exited early ({status}); log:\n{}", self.log());
            }
            if self.pid.is_some() && ready().await {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{name} did not accept connections on 127.0.0.1:{} within {READY_TIMEOUT:?}; its log:\n{}", self.port, self.log());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn read(&self, file: &str) -> Option<String> {
        fs::read_to_string(self.dir.path().join(file)).ok()
    }

    fn log(&self) -> String {
        self.read("server.log").unwrap_or_default()
    }

    /// True if the server failed because another process took its port.
    fn lost_port_race(&self) -> bool {
        self.log().contains("Address already in use")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Closing the pipe is the stop signal; then wait so the port is free
        // and the directory gone when `drop` returns.
        drop(self.watchdog.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match self.watchdog.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        tracing::warn!(port = self.port, "test server did not stop within 10s; killing it");
        if let Some(pid) = self.pid {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

/// The newest `/usr/lib/postgresql/<major>/bin` that has a server binary.
fn postgres_bin_dir(root: &Path) -> anyhow::Result<PathBuf> {
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

fn missing(what: &str, looked_for: &str, package: &str) -> String {
    format!(
        "{what} not found ({looked_for}): install the Debian package `{package}` \
         (apt-get install {package}); `cargo xtask test` installs it for you"
    )
}

/// PostgreSQL refuses to run as root; then servers run as the `postgres`
/// system user that Debian's package creates.
fn server_user() -> anyhow::Result<User> {
    let status = fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .context("no effective uid in /proc/self/status")?;
    if euid != "0" {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    let entry = passwd
        .lines()
        .find_map(|l| l.strip_prefix("postgres:"))
        .context("running as root, but there is no `postgres` user to run PostgreSQL as (the Debian package `postgresql` creates it)")?;
    let mut fields = entry.split(':').skip(1);
    let mut id = || fields.next().and_then(|f| f.parse().ok());
    let (uid, gid) = (id(), id());
    Ok(Some((uid.context("bad postgres uid")?, gid.context("bad postgres gid")?)))
}

/// A temporary directory that `user` owns.
fn temp_dir(prefix: &str, user: User) -> anyhow::Result<TempDir> {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().context("creating a temporary directory")?;
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
            .with_context(|| format!("handing {} to the postgres user", dir.path().display()))?;
    }
    Ok(dir)
}

/// `initdb` takes about a second, a copy a tenth of that; with nextest every
/// test is a process of its own, so the initialised data directory is cached
/// in the temp dir (per major version, flags and user) and copied per server.
async fn postgres_template(bin: &Path, user: User) -> anyhow::Result<PathBuf> {
    let major = bin.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let uid = user.map_or_else(|| "self".to_owned(), |(uid, _)| uid.to_string());
    let name = format!("switchboard-testkit-pg{major}-template-{TEMPLATE_TAG}-{uid}");
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
        // Another test process won the race; use its template.
        let _ = fs::remove_dir_all(&staging);
        if !data.join("PG_VERSION").exists() {
            return Err(e).with_context(|| format!("caching {}", cached.display()));
        }
    }
    Ok(data)
}

fn command(program: &Path, user: User) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

/// Runs a command to completion; its stdout on success, its stderr in the error.
async fn run(cmd: &mut tokio::process::Command) -> anyhow::Result<String> {
    let out =
        cmd.stdin(Stdio::null()).kill_on_drop(true).output().await.with_context(|| format!("running {:?}", cmd.as_std().get_program()))?;
    if !out.status.success() {
        bail!("{:?} failed ({}): {}", cmd.as_std(), out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("picking a free port")?;
    Ok(listener.local_addr()?.port())
}

async fn pg_isready(bin: &Path, port: u16) -> bool {
    let port = port.to_string();
    tokio::process::Command::new(bin.join("pg_isready"))
        .args(["-q", "-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-t", "1"])
        .stdin(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// `PING` over raw RESP; `-LOADING` and refused connections count as not ready.
async fn redis_ping(port: u16) -> bool {
    let ping = async {
        let mut stream = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).await?;
        std::io::Result::Ok(&reply == b"+PONG\r\n")
    };
    tokio::time::timeout(Duration::from_secs(1), ping).await.is_ok_and(|r| r.is_ok_and(|pong| pong))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn postgres_gives_each_test_its_own_database() -> anyhow::Result<()> {
        let pg = EphemeralPostgres::start().await?;
        let (a, b) = (pg.create_database().await?, pg.create_database().await?);
        assert_ne!(a, b);
        let (name_a, name_b) = (pg.psql(&a, "select current_database()").await?, pg.psql(&b, "select current_database()").await?);
        assert!(a.ends_with(&format!("/{name_a}")), "{a} vs {name_a}");
        assert!(b.ends_with(&format!("/{name_b}")), "{b} vs {name_b}");
        assert_ne!(name_a, name_b);

        let sql = "create table t (x int); insert into t values (42); select x from t";
        assert_eq!(pg.psql(&a, sql).await?, "42");
        let in_b = "select count(*) from pg_tables where tablename = 't'";
        assert_eq!(pg.psql(&b, in_b).await?, "0");
        assert!(pg.psql(&b, "select nonsense from nowhere").await.is_err());
        Ok(())
    }

    #[tokio::test]
    async fn postgres_stops_and_cleans_up_on_drop() -> anyhow::Result<()> {
        let pg = EphemeralPostgres::start().await?;
        let url = pg.create_database().await?;
        assert_eq!(pg.psql(&url, "select 1").await?, "1");
        let (port, pid, dir) = gone_after_drop(&pg.process);
        drop(pg);
        assert_gone(port, pid, &dir);
        Ok(())
    }

    #[tokio::test]
    async fn shared_postgres_is_one_server() -> anyhow::Result<()> {
        let (a, b) = (EphemeralPostgres::shared().await?, EphemeralPostgres::shared().await?);
        assert!(std::ptr::eq(a, b));
        let url = a.create_database().await?;
        assert_eq!(a.psql(&url, "select 2 + 2").await?, "4");
        Ok(())
    }

    #[tokio::test]
    async fn redis_answers_ping_and_stops_on_drop() -> anyhow::Result<()> {
        let redis = EphemeralRedis::start().await?;
        let port = redis.port();
        assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}"));
        assert!(redis_ping(port).await);
        let (port, pid, dir) = gone_after_drop(&redis.process);
        drop(redis);
        assert_gone(port, pid, &dir);
        assert!(!redis_ping(port).await);
        Ok(())
    }

    #[tokio::test]
    async fn a_server_that_dies_at_startup_fails_fast_with_its_log() -> anyhow::Result<()> {
        let dir = temp_dir("switchboard-test-", None)?;
        let path = dir.path().to_owned();
        let args: Vec<OsString> = vec!["-c".into(), "echo boom >&2; exit 3".into()];
        let mut process = ServerProcess::spawn(dir, "TERM", None, Path::new("sh"), &args, 1)?;
        let started = Instant::now();
        let err = process.wait_ready("fake", || async { false }).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        let err = err.to_string();
        assert!(err.contains("exited with status 3") && err.contains("boom"), "{err}");
        drop(process);
        assert!(!path.exists());
        Ok(())
    }

    #[test]
    fn missing_binaries_say_what_to_install() {
        let err = postgres_bin_dir(Path::new("/nonexistent")).unwrap_err().to_string();
        assert!(err.contains("`postgresql`"), "{err}");
        assert!(err.contains("cargo xtask test"), "{err}");
    }

    /// Shared servers are never dropped; they must still die with the process,
    /// whether it exits normally or is killed.
    #[test]
    fn shared_servers_die_with_a_process_that_exits() -> anyhow::Result<()> {
        probe_leaks("exit")
    }

    #[test]
    fn shared_servers_die_with_a_process_that_is_killed() -> anyhow::Result<()> {
        probe_leaks("kill")
    }

    /// Runs [`leak_probe`] in a child test process and checks that the servers
    /// it reports are gone once the child is.
    fn probe_leaks(how: &str) -> anyhow::Result<()> {
        use std::io::BufRead;
        let mut child = Command::new(std::env::current_exe()?)
            .args(["services::tests::leak_probe", "--exact", "--ignored"])
            .args(["--nocapture", "--test-threads=1"])
            .env("SWITCHBOARD_TESTKIT_LEAK_PROBE", how)
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = std::io::BufReader::new(child.stdout.take().expect("piped"));
        let mut lines = stdout.lines();
        let mut servers = Vec::new();
        for line in lines.by_ref() {
            let line = line?;
            // libtest may print `test … ... ` on the same line first.
            if let Some((_, fields)) = line.split_once("LEAK_PROBE ") {
                let f: Vec<&str> = fields.split(' ').collect();
                servers.push((f[0].parse::<u16>()?, f[1].parse::<u32>()?, PathBuf::from(f[2])));
                if servers.len() == 2 {
                    break;
                }
            }
        }
        assert_eq!(servers.len(), 2, "the probe did not report its servers");
        if how == "kill" {
            child.kill()?;
        }
        lines.for_each(drop); // let it print its summary
        let status = child.wait()?;
        assert!(how == "kill" || status.success(), "probe failed: {status}");
        for (port, pid, dir) in servers {
            // Nobody waits for an orphaned watchdog, so poll for it.
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && (pid_alive(pid) || dir.exists()) {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_gone(port, Some(pid), &dir);
        }
        Ok(())
    }

    /// Started by [`probe_leaks`]: reports its shared servers, then exits
    /// without dropping them (or waits to be killed).
    #[tokio::test]
    #[ignore = "helper run in a child process by probe_leaks"]
    async fn leak_probe() -> anyhow::Result<()> {
        let pg = EphemeralPostgres::shared().await?;
        let redis = EphemeralRedis::shared().await?;
        for process in [&pg.process, &redis.process] {
            let pid = process.pid.context("pid known once ready")?;
            let dir = process.dir.path().display();
            println!("LEAK_PROBE {} {pid} {dir}", process.port);
        }
        if std::env::var("SWITCHBOARD_TESTKIT_LEAK_PROBE").as_deref() == Ok("kill") {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Ok(())
    }

    fn gone_after_drop(process: &ServerProcess) -> (u16, Option<u32>, PathBuf) {
        assert!(process.pid.is_some_and(pid_alive));
        assert!(process.dir.path().exists());
        (process.port, process.pid, process.dir.path().to_owned())
    }

    fn assert_gone(port: u16, pid: Option<u32>, dir: &Path) {
        let pid = pid.expect("server pid");
        assert!(!pid_alive(pid), "server {pid} still running");
        assert!(!dir.exists(), "{} still exists", dir.display());
        assert!(std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(), "port {port} still accepts connections");
    }

    /// Zombies count as dead: in a container nobody may reap an orphan.
    fn pid_alive(pid: u32) -> bool {
        fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
    }
}
