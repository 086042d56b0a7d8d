//! A server as a child process that cannot outlive the process that started it, and
//! the small helpers every throwaway server needs (a temporary directory its user
//! owns, the user to run as, a free port, running a command to completion).
//!
//! No-leak guarantee: a server is never started directly. It runs under a small `sh`
//! watchdog whose stdin is a pipe held only by this process. When the pipe closes —
//! `Drop`, a normal exit that never drops a `static`, a panic or a `kill -9` — the
//! watchdog stops the server and removes its directory. `Drop` additionally waits for
//! that to finish, so a dropped server's port is free when `drop` returns.

use std::ffi::OsString;
use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tempfile::TempDir;

/// How long a server may take to be ready before waiting for it gives up.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(25);
/// A freshly picked port can be taken by someone else before the server binds it.
const START_ATTEMPTS: usize = 4;

/// The watchdog. `$1` is the directory to remove, `$2` the signal that stops
/// the server, the rest is the server's command line. It writes
/// `server.pid`, `server.log` (stdout and stderr) and, once the server exits,
/// `server.exited`. The directory is removed only after stdin has closed, so the
/// owner can read the log of a server that failed to start. `mv` makes
/// `server.exited` appear complete or not at all.
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

/// Uid and gid a server runs as, when not the current user.
pub type User = Option<(u32, u32)>;

/// A server running under the watchdog, with its temporary directory.
#[derive(Debug)]
pub struct ServerProcess {
    /// For messages: `postgres`, `prosody`, ….
    name: String,
    /// The watchdog; dropping its stdin stops the server.
    watchdog: Child,
    /// Pid of the server itself, known once it is ready.
    pid: Option<u32>,
    /// Removed by the watchdog; kept as a fallback if the watchdog is gone.
    dir: TempDir,
}

impl ServerProcess {
    /// Starts `program` in `dir` (its working directory, removed when the server
    /// stops) as `user`; `signal` (`TERM`, `QUIT`, …) is what stops it.
    pub fn spawn(name: &str, dir: TempDir, signal: &str, user: User, program: &Path, args: &[OsString]) -> anyhow::Result<Self> {
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
        let watchdog = cmd.spawn().with_context(|| format!("starting {name} ({})", program.display()))?;
        Ok(Self { name: name.to_owned(), watchdog, pid: None, dir })
    }

    /// Polls `ready` (a connection attempt, say) until it succeeds, the server
    /// exits, or time runs out.
    pub async fn wait_ready<F, Fut>(&mut self, mut ready: F) -> anyhow::Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        self.poll(|_| {
            let probe = ready();
            async move { Ok(probe.await.then_some(())) }
        })
        .await
    }

    /// Polls the server's log until `ready` finds what it looks for in it, the
    /// server exits, or time runs out.
    pub async fn wait_for_log<T>(&mut self, mut ready: impl FnMut(&str) -> anyhow::Result<Option<T>>) -> anyhow::Result<T> {
        self.poll(|log| std::future::ready(ready(&log))).await
    }

    /// The loop behind both waits: `check` gets the log so far each time.
    async fn poll<T, F, Fut>(&mut self, mut check: F) -> anyhow::Result<T>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = anyhow::Result<Option<T>>>,
    {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if self.pid.is_none() {
                self.pid = self.read("server.pid").and_then(|s| s.trim().parse().ok());
            }
            if let Some(status) = self.read("server.exited") {
                bail!("{} exited with status {} before it was ready; its log:\n{}", self.name, status.trim(), self.log());
            }
            if let Ok(Some(status)) = self.watchdog.try_wait() {
                bail!("the watchdog for {} exited early ({status}); log:\n{}", self.name, self.log());
            }
            if self.pid.is_some()
                && let Some(found) = check(self.log()).await?
            {
                return Ok(found);
            }
            if Instant::now() > deadline {
                bail!("{} was not ready within {READY_TIMEOUT:?}; its log:\n{}", self.name, self.log());
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The server's pid, once a wait has succeeded.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The server's directory (gone once it has stopped).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the server has printed so far.
    pub fn log(&self) -> String {
        self.read("server.log").unwrap_or_default()
    }

    /// True if the server failed because another process took its port.
    pub fn lost_port_race(&self) -> bool {
        // C servers print "Address already in use"; Python's asyncio, "address already in use".
        self.log().to_ascii_lowercase().contains("address already in use")
    }

    fn read(&self, file: &str) -> Option<String> {
        fs::read_to_string(self.dir.path().join(file)).ok()
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
        eprintln!("{} did not stop within 10s; killing it", self.name);
        if let Some(pid) = self.pid {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

/// Starts a server with `spawn(port)` on a free port and waits until `ready(port)`;
/// when another process took the port first, starts it again on another one.
pub(crate) async fn start_on_free_port(
    mut spawn: impl AsyncFnMut(u16) -> anyhow::Result<ServerProcess>,
    ready: impl AsyncFn(u16) -> bool,
) -> anyhow::Result<(ServerProcess, u16)> {
    let mut last_error = None;
    for _ in 0..START_ATTEMPTS {
        let port = free_port()?;
        let mut process = spawn(port).await?;
        match process.wait_ready(|| ready(port)).await {
            Ok(()) => return Ok((process, port)),
            Err(e) if process.lost_port_race() => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.expect("at least one attempt"))
}

/// A temporary directory that `user` owns.
pub fn temp_dir(prefix: &str, user: User) -> anyhow::Result<TempDir> {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().context("creating a temporary directory")?;
    chown(dir.path(), user)?;
    Ok(dir)
}

/// Hands `path` to `user` (nothing to do when running as ourselves).
pub fn chown(path: &Path, user: User) -> anyhow::Result<()> {
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).with_context(|| format!("handing {} to uid {uid}", path.display()))?;
    }
    Ok(())
}

/// Servers that refuse to run as root (PostgreSQL, Prosody) run as `system_user`,
/// which the Debian package `package` creates, when we are root.
pub fn server_user(system_user: &str, package: &str) -> anyhow::Result<User> {
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
    let entry = passwd.lines().find_map(|l| l.strip_prefix(&format!("{system_user}:"))).with_context(|| {
        format!("running as root, but there is no `{system_user}` user to run the server as (the Debian package `{package}` creates it)")
    })?;
    let mut fields = entry.split(':').skip(1);
    let mut id = || fields.next().and_then(|f| f.parse().ok());
    let (uid, gid) = (id(), id());
    Ok(Some((uid.with_context(|| format!("bad uid for {system_user}"))?, gid.with_context(|| format!("bad gid for {system_user}"))?)))
}

/// A `tokio` command for `program` that runs as `user`.
pub fn command(program: &Path, user: User) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

/// Runs a command to completion; its stdout on success, its output in the error.
pub async fn run(cmd: &mut tokio::process::Command) -> anyhow::Result<String> {
    let out =
        cmd.stdin(Stdio::null()).kill_on_drop(true).output().await.with_context(|| format!("running {:?}", cmd.as_std().get_program()))?;
    if !out.status.success() {
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let output = [stdout.trim(), stderr.trim()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("\n");
        bail!("{:?} failed ({}): {output}", cmd.as_std(), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A TCP port on 127.0.0.1 that was free a moment ago: someone else can take it
/// before the server binds it, which [`ServerProcess::lost_port_race`] tells.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("picking a free port")?;
    Ok(listener.local_addr()?.port())
}

/// What to say when a server's binaries are not installed.
pub(crate) fn missing(what: &str, looked_for: &str, package: &str) -> String {
    format!(
        "{what} not found ({looked_for}): install the Debian package `{package}` \
         (apt-get install {package}); `cargo xtask test` installs it for you"
    )
}
