//! What a figure needs beside it to mean anything: the machine (cores, kernel, CPU,
//! load), the commit and the date; and the `/proc` readers that measure a server
//! process from the outside (resident memory, CPU time).

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use anyhow::Context;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub kernel: String,
    pub cpu_model: String,
    pub mem_total_mib: u64,
    pub open_files_limit: String,
    pub commit: String,
    /// Uncommitted changes in the work tree when the bench ran.
    pub dirty: bool,
    pub date: String,
    /// `/proc/loadavg` when the bench started: other jobs on a shared machine show here.
    pub loadavg_at_start: String,
}

fn cmd_out(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

impl Machine {
    pub fn probe(repo: &Path) -> Self {
        let repo = repo.to_string_lossy();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned()))
            .unwrap_or_else(|| "unknown".into());
        let mem_total_mib = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:").and_then(|r| r.trim().trim_end_matches(" kB").parse::<u64>().ok()))
            .unwrap_or(0)
            / 1024;
        let open_files_limit = read("/proc/self/limits")
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .map(|l| l.split_whitespace().skip(3).take(2).collect::<Vec<_>>().join("/"))
            .unwrap_or_default();
        Self {
            nproc: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            cpu_model,
            mem_total_mib,
            open_files_limit,
            commit: cmd_out("git", &["-C", &repo, "rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into()),
            dirty: cmd_out("git", &["-C", &repo, "status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty()),
            date: cmd_out("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]).unwrap_or_default(),
            loadavg_at_start: loadavg(),
        }
    }

    pub fn one_line(&self) -> String {
        format!(
            "{} cores ({}), kernel {}, {} MiB RAM, open files {}; commit {}{}; {}; load at start {}",
            self.nproc,
            self.cpu_model,
            self.kernel,
            self.mem_total_mib,
            self.open_files_limit,
            &self.commit[..self.commit.len().min(12)],
            if self.dirty { " (+uncommitted changes)" } else { "" },
            self.date,
            self.loadavg_at_start
        )
    }
}

pub fn loadavg() -> String {
    read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Resident memory of a process, in bytes (`VmRSS` of `/proc/PID/status`).
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| format!("reading /proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|r| r.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        .context("no VmRSS line")?;
    Ok(kib * 1024)
}

/// CPU time (user + system) a process has used, in seconds.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The command name may hold spaces and parentheses; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')').context("malformed stat")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(3) … utime is field 14 and stime field 15 of the full line.
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok((utime + stime) as f64 / clk_tck())
}

/// Clock ticks per second (`getconf CLK_TCK`, almost always 100).
pub fn clk_tck() -> f64 {
    static TCK: OnceLock<f64> = OnceLock::new();
    *TCK.get_or_init(|| cmd_out("getconf", &["CLK_TCK"]).and_then(|s| s.parse().ok()).unwrap_or(100.0))
}

/// Wall-clock nanoseconds since the Unix epoch: comparable across processes on one
/// host, which `Instant` is not.
pub fn unix_nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_process() {
        let pid = std::process::id();
        assert!(rss_bytes(pid).unwrap() > 0);
        assert!(cpu_seconds(pid).unwrap() >= 0.0);
    }
}
