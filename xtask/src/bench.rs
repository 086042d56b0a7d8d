//! `cargo xtask bench`: builds the server and the benchmark runner in release, installs
//! what the peers need (Prosody, Node.js, socket.io), and runs the benchmark suite,
//! which prints the table and writes `target/bench/results.json` and `results.md`.
//!
//! The quick suite (the default) fits in 10 minutes on a 2-core machine; `--full`
//! runs longer steps. Arguments after `--` go to `switchboard-bench suite`.
//!
//! Then the front ends' budgets, which only a browser can measure: the browser tier's
//! budget tests (`web/tests`, those named "budget") run against the release binary,
//! and their figures are printed after the suite's table (`--no-browser` skips them).

use std::process::Command;

use anyhow::{Context, bail};

use crate::{apt_get, cargo, project_root, run_cmd};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut install = true;
    let mut quick = true;
    let mut browser = true;
    let mut rest: &[String] = &[];
    for (i, arg) in args.iter().enumerate() {
        match arg.as_str() {
            "--no-install" => install = false,
            "--full" => quick = false,
            "--no-browser" => browser = false,
            "--" => {
                rest = &args[i + 1..];
                break;
            }
            other => bail!("unknown argument to `cargo xtask bench`: {other}"),
        }
    }
    // The release binary embeds web/dist.
    crate::web::build_if_needed()?;
    // Only the measured binaries are built in release.
    run_cmd(cargo().args(["build", "--release", "-p", "switchboard", "-p", "switchboard-bench"]))?;
    let bench = project_root().join("target/release/switchboard-bench");
    if install {
        peer_prerequisites(&bench)?;
    }
    let out = project_root().join("target/bench/results.json");
    let mut cmd = Command::new(&bench);
    cmd.current_dir(project_root()).arg("suite").arg("--out").arg(&out);
    if quick {
        cmd.arg("--quick");
    }
    cmd.args(rest);
    run_cmd(&mut cmd)?;
    if browser {
        front_end_budgets(install)?;
    }
    Ok(())
}

/// The widget's and the dashboard's budgets, measured by the browser tier's budget
/// tests in Debian's chromium against the release binary (which embeds `web/dist`).
/// A budget exceeded fails the bench like it fails the tests.
fn front_end_budgets(install: bool) -> anyhow::Result<()> {
    let Some(web) = crate::web::web_dir() else { return Ok(()) };
    if !std::path::Path::new("/usr/bin/chromium").exists() {
        if !install {
            println!("front-end budgets: skipped (no /usr/bin/chromium; run without --no-install)");
            return Ok(());
        }
        apt_get(&["update"]).and_then(|()| apt_get(&["install", "-y", "--no-install-recommends", "chromium"]))?;
    }
    let tests: Vec<_> =
        ["inbox-budgets.test.mjs", "widget-look.test.mjs"].iter().map(|t| format!("tests/{t}")).filter(|t| web.join(t).exists()).collect();
    let out = Command::new("node")
        .current_dir(&web)
        .args(["--test", "--test-concurrency=1", "--test-name-pattern=budget"])
        .args(&tests)
        .env("SWITCHBOARD_BIN", project_root().join("target/release/switchboard"))
        .output()
        .context("running the browser tier's budget tests")?;
    let text = String::from_utf8_lossy(&out.stdout);
    println!("\nfront-end budgets (browser tier, release binary):");
    for line in budget_lines(&text) {
        println!("  {line}");
    }
    if !out.status.success() {
        print!("{text}");
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        bail!("a front-end budget test failed (its output is above)");
    }
    Ok(())
}

/// The figures the budget tests print (`budget …` and `# widget budgets …` lines, which
/// the TAP reporter prints as `# \# widget budgets …`).
fn budget_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .map(|l| l.trim_start_matches(['#', ' ', '\\']))
        .filter(|l| l.starts_with("budget ") || l.starts_with("widget budgets"))
        .collect()
}

/// Asks the runner what the peers still need (it knows their packages), and installs it.
/// A failure here is not fatal: the suite then reports the peer as not available.
fn peer_prerequisites(bench: &std::path::Path) -> anyhow::Result<()> {
    let out = Command::new(bench).arg("peer-prerequisites").output().context("asking switchboard-bench for the peers' prerequisites")?;
    anyhow::ensure!(out.status.success(), "switchboard-bench peer-prerequisites failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let apt = json_strings(&text, "apt_packages");
    let npm = json_strings(&text, "npm_ci");
    if apt.is_empty() && npm.is_empty() {
        println!("peers: prerequisites present");
        return Ok(());
    }
    if !apt.is_empty() {
        let installed = apt_get(&["update"]).and_then(|()| {
            let mut args = vec!["install", "-y", "--no-install-recommends"];
            args.extend(apt.iter().map(String::as_str));
            apt_get(&args)
        });
        if let Err(e) = installed {
            eprintln!("xtask: could not install {}: {e:#}; the suite will report those peers as not available", apt.join(" "));
        }
    }
    for dir in npm {
        let mut cmd = Command::new("npm");
        cmd.arg("ci").arg("--no-audit").arg("--no-fund").current_dir(&dir);
        if let Err(e) = run_cmd(&mut cmd) {
            eprintln!("xtask: `npm ci` in {dir} failed: {e:#}; the suite will report that peer as not available");
        }
    }
    Ok(())
}

/// The string array `key` of a flat JSON object (xtask has no JSON dependency).
fn json_strings(text: &str, key: &str) -> Vec<String> {
    let Some(start) = text.find(&format!("\"{key}\":[")) else { return vec![] };
    let rest = &text[start + key.len() + 4..];
    let Some(end) = rest.find(']') else { return vec![] };
    rest[..end].split(',').map(|s| s.trim().trim_matches('"').replace("\\\\", "\\")).filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_runners_answer() {
        let text = r#"{"apt_packages":["prosody","lua-dbi-sqlite3"],"npm_ci":["/w/bench/peers/socketio"]}"#;
        assert_eq!(json_strings(text, "apt_packages"), ["prosody", "lua-dbi-sqlite3"]);
        assert_eq!(json_strings(text, "npm_ci"), ["/w/bench/peers/socketio"]);
        assert!(json_strings(r#"{"apt_packages":[],"npm_ci":[]}"#, "apt_packages").is_empty());
    }

    #[test]
    fn picks_the_figures_out_of_the_test_runners_output() {
        let out = "✔ budget: the first load\nbudget /app first load: 9 files, 60.1 KB gzip\n# \\# widget budgets (gzip -9): loader 4.93 KB of 5\n#   /widget.js  4.93 KB\nℹ tests 4";
        assert_eq!(budget_lines(out), ["budget /app first load: 9 files, 60.1 KB gzip", "widget budgets (gzip -9): loader 4.93 KB of 5"]);
    }
}
