//! `cargo xtask test`: every tier CI runs, in order, stopping at the first failure.
//!
//! prerequisites → fmt → tidy → generated wire types → clippy → Rust tests (nextest if installed) →
//! the cluster tier (two nodes on one PostgreSQL and one Redis, and their failures) →
//! the system tests again on PostgreSQL → doc tests → API fuzzing → typecheck and build of `web/` → browser tests. The last line of a
//! green run is `N passed, 0 failed`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};

use crate::{apt_get, cargo, echo, run_cmd, succeeds, tidy, web};

/// Debian packages the tests need: a browser and a colour emoji font (so screenshots
/// show what agents see) for the browser tier, servers
/// for the cluster tier (see the `switchboard-services` crate), and the real peers
/// whose adapters the benchmark's smoke tests check (see the `switchboard-bench-peers` crate).
const PACKAGES: [&str; 7] =
    ["chromium", "fonts-noto-color-emoji", "postgresql", "redis-server", "prosody", "lua-dbi-sqlite3", "python3-aiosmtpd"];

/// The nextest filter of the workspace run: everything but the cluster tier
/// (`crates/switchboard/tests/cluster.rs`), which has a step of its own.
const CLUSTER_TIER_EXCLUDED: &str = "not (package(switchboard) & binary(cluster))";

/// The S3-compatible server the blob store's tests and the cluster tier start
/// (`switchboard_services::EphemeralS3`, which names the same requirement), from PyPI.
const MOTO: &str = "moto[server]==5.2.1";

/// npm projects besides `web/` whose packages the tests need.
const NPM_PROJECTS: [&str; 1] = ["bench/peers/socketio"];

fn installed(package: &str) -> bool {
    match package {
        "chromium" => Path::new("/usr/bin/chromium").exists(),
        "fonts-noto-color-emoji" => Path::new("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf").exists(),
        "redis-server" => Path::new("/usr/bin/redis-server").exists(),
        "prosody" => Path::new("/usr/bin/prosody").exists(),
        "lua-dbi-sqlite3" | "python3-aiosmtpd" => Command::new("dpkg-query")
            .args(["-W", "-f=${Status}", package])
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed")),
        // Debian keeps server binaries out of PATH, one directory per major version.
        "postgresql" => std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .any(|version| version.path().join("bin/postgres").exists()),
        _ => unreachable!("unknown package {package}"),
    }
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut install = true;
    let mut test_args: &[String] = &[];
    for (i, arg) in args.iter().enumerate() {
        match arg.as_str() {
            "--no-install" => install = false,
            "--" => {
                test_args = &args[i + 1..];
                break;
            }
            other => bail!("unknown argument to `cargo xtask test`: {other}"),
        }
    }

    let mut tiers = Tiers::default();
    if install {
        tiers.step("prerequisites", prerequisites)?;
    } else {
        tiers.skip("prerequisites", "--no-install");
    }
    tiers.step("cargo fmt", || run_cmd(cargo().args(["fmt", "--all", "--", "--check"])))?;
    tiers.step("tidy", tidy::run)?;
    tiers.step("generated wire types", || crate::codegen::run(&["--check".to_owned()]))?;
    tiers.step("cargo clippy", || run_cmd(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])))?;
    let nextest = succeeds(cargo().args(["nextest", "--version"]));
    let mut passed = 0;
    tiers.step("rust tests", || {
        passed += if nextest {
            let mut cmd = cargo();
            cmd.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
            // The cluster tier runs next, on its own, two stories at a time.
            cmd.args(["-E", CLUSTER_TIER_EXCLUDED]);
            if !test_args.is_empty() {
                cmd.arg("--").args(test_args);
            }
            run_counting(&mut cmd, Counter::Nextest)?
        } else {
            let mut cmd = cargo();
            cmd.args(["test", "--workspace", "--no-fail-fast"]);
            cmd.args(["--lib", "--bins", "--tests", "--examples"]);
            cmd.arg("--").args(test_args);
            run_counting(&mut cmd, Counter::Libtest)?
        };
        Ok(())
    })?;
    // Each story starts two server processes and a Redis: at most two stories at once on
    // two cores, so a slow machine delays them instead of failing their timeouts. With
    // libtest, the workspace run above already ran them.
    if nextest {
        tiers.step("cluster tier", || {
            let mut cmd = cargo();
            cmd.args(["nextest", "run", "-p", "switchboard", "--test", "cluster", "--no-fail-fast", "--test-threads", "2"]);
            if !test_args.is_empty() {
                cmd.arg("--").args(test_args);
            }
            passed += run_counting(&mut cmd, Counter::Nextest)?;
            Ok(())
        })?;
    }
    // The same system tests on the other backend: about 70 s on 2 busy cores, most of it
    // starting one throwaway PostgreSQL server per test process.
    tiers.step("system tests on PostgreSQL", || {
        let mut cmd = cargo();
        cmd.env("SWITCHBOARD_TEST_BACKEND", "postgres");
        passed += if nextest {
            cmd.args(["nextest", "run", "-p", "switchboard-testkit", "--no-fail-fast"]);
            if !test_args.is_empty() {
                cmd.arg("--").args(test_args);
            }
            run_counting(&mut cmd, Counter::Nextest)?
        } else {
            cmd.args(["test", "-p", "switchboard-testkit", "--tests", "--no-fail-fast", "--"]).args(test_args);
            run_counting(&mut cmd, Counter::Libtest)?
        };
        Ok(())
    })?;
    tiers.step("doc tests", || {
        let mut cmd = cargo();
        cmd.args(["test", "--workspace", "--doc", "--"]).args(test_args);
        passed += run_counting(&mut cmd, Counter::Libtest)?;
        Ok(())
    })?;
    tiers.step("API fuzzing (schemathesis)", || crate::fuzz::run(&[]))?;
    match web::web_dir() {
        Some(web) if web.join("tests").is_dir() && web::has_script(&web, "test") => {
            if web::has_script(&web, "typecheck") {
                tiers.step("typescript", || run_cmd(web::npm(&web).args(["run", "typecheck"])))?;
            }
            // The debug binary the browser tests start reads web/dist when it starts.
            tiers.step("web build", web::build_if_needed)?;
            tiers.step("browser tests", || run_cmd(web::npm(&web).arg("test")))?;
        }
        _ => tiers.skip("browser tests", "no web/tests with an npm `test` script yet"),
    }

    tiers.summary();
    println!("xtask: all tiers passed");
    // Only Rust test counts: the browser runner's output is not parsed.
    println!("{passed} passed, 0 failed");
    Ok(())
}

/// Installs missing Debian packages, npm packages and the PyPI servers the tests run.
fn prerequisites() -> anyhow::Result<()> {
    let missing: Vec<&str> = PACKAGES.into_iter().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        println!("Debian packages: all present ({})", PACKAGES.join(", "));
    } else {
        let prerequisites = "installing test prerequisites (or install them yourself)";
        apt_get(&["update"]).context(prerequisites)?;
        let mut install = vec!["install", "-y", "--no-install-recommends"];
        install.extend(&missing);
        apt_get(&install).context(prerequisites)?;
    }
    let projects = web::web_dir().into_iter().chain(NPM_PROJECTS.iter().map(|p| crate::project_root().join(p)));
    for project in projects.filter(|p| p.join("package.json").exists()) {
        web::require_npm()?;
        web::install(&project)?;
    }
    if succeeds(Command::new("moto_server").arg("--help")) {
        println!("moto_server (S3): present");
    } else {
        run_cmd(Command::new("python3").args(["-m", "pip", "install", "--quiet", MOTO]))
            .context("installing the S3-compatible test server (or install it yourself)")?;
    }
    crate::fuzz::install()
}

/// Which runner's summary lines to count.
#[derive(Clone, Copy)]
enum Counter {
    /// `test result: ok. 7 passed; 0 failed; …` per test binary.
    Libtest,
    /// `Summary [ 3.6s] 7 tests run: 7 passed, 1 skipped` once.
    Nextest,
}

impl Counter {
    fn passed(self, line: &str) -> Option<u64> {
        let marker = match self {
            Counter::Libtest => "test result:",
            Counter::Nextest => " tests run: ",
        };
        let (_, tail) = line.split_once(marker)?;
        let words: Vec<&str> = tail.split_whitespace().collect();
        let at = words.iter().position(|w| w.starts_with("passed"))?;
        words.get(at.checked_sub(1)?)?.parse().ok()
    }
}

/// Runs a test runner, passing its output through while counting passed tests.
fn run_counting(cmd: &mut Command, counter: Counter) -> anyhow::Result<u64> {
    echo(cmd);
    count_through(cmd, counter, std::io::stdout(), std::io::stderr())
}

/// The body of [`run_counting`], with the destinations of the output.
fn count_through(cmd: &mut Command, counter: Counter, out: impl Write + Send, err: impl Write + Send) -> anyhow::Result<u64> {
    let mut child =
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let (from_out, from_err) = std::thread::scope(|s| {
        let out = s.spawn(|| tee(stdout, out, counter));
        let err = s.spawn(|| tee(stderr, err, counter));
        (out.join(), err.join())
    });
    let status = child.wait()?;
    if !status.success() {
        bail!("{} failed ({status})", crate::display(cmd));
    }
    let passed = from_out.expect("tee thread") + from_err.expect("tee thread");
    Ok(passed)
}

/// Copies lines from `from` to `to`, returning the sum of passed counts.
fn tee(from: impl std::io::Read, mut to: impl Write, counter: Counter) -> u64 {
    let mut passed = 0;
    let mut reader = BufReader::new(from);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        let _ = to.write_all(&line);
        let _ = to.flush();
        passed += counter.passed(&String::from_utf8_lossy(&line)).unwrap_or(0);
        line.clear();
    }
    passed
}

/// The steps run so far, for the summary.
#[derive(Default)]
struct Tiers {
    done: Vec<(&'static str, String)>,
}

impl Tiers {
    fn step(&mut self, name: &'static str, f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<()> {
        println!("\n==> {name}");
        let started = Instant::now();
        let result = f();
        let took = format!("{:.1}s", started.elapsed().as_secs_f64());
        match result {
            Ok(()) => {
                self.done.push((name, format!("ok ({took})")));
                Ok(())
            }
            Err(e) => {
                self.done.push((name, format!("FAILED ({took})")));
                self.summary();
                Err(e.context(format!("step `{name}` failed")))
            }
        }
    }

    fn skip(&mut self, name: &'static str, why: &str) {
        println!("\n==> {name}: skipped ({why})");
        self.done.push((name, format!("skipped: {why}")));
    }

    fn summary(&self) {
        println!("\n==> summary");
        for (name, outcome) in &self.done {
            println!("  {name:<16} {outcome}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Counter, count_through};
    use std::io::sink;

    #[test]
    fn counts_passed_tests_from_runner_summaries() {
        let libtest = "test result: ok. 7 passed; 0 failed; 1 ignored; 0 measured";
        assert_eq!(Counter::Libtest.passed(libtest), Some(7));
        let nextest = "     Summary [   3.611s] 12 tests run: 12 passed (1 slow), 1 skipped";
        assert_eq!(Counter::Nextest.passed(nextest), Some(12));
        assert_eq!(Counter::Nextest.passed(libtest), None);
        assert_eq!(Counter::Libtest.passed("running 7 tests"), None);
    }

    #[test]
    fn counting_sums_both_streams_and_fails_with_the_runner() {
        let script = "echo 'test result: ok. 3 passed; 0 failed'; \
                      echo 'test result: ok. 2 passed; 0 failed' >&2";
        let mut ok = std::process::Command::new("sh");
        ok.args(["-c", script]);
        assert_eq!(count_through(&mut ok, Counter::Libtest, sink(), sink()).unwrap(), 5);
        let mut failing = std::process::Command::new("sh");
        failing.args(["-c", "echo 'test result: FAILED. 1 passed; 1 failed'; exit 101"]);
        assert!(count_through(&mut failing, Counter::Libtest, sink(), sink()).is_err());
    }
}
