//! `cargo xtask bench`: builds the server and the benchmark runner in release, installs
//! what the peers need (Prosody, Node.js, socket.io), and runs the benchmark suite,
//! which prints the table and writes `target/bench/results.json` and `results.md`.
//!
//! The quick suite (the default) fits in 10 minutes on a 2-core machine; `--full`
//! runs longer steps. Arguments after `--` go to `switchboard-bench suite`.

use std::process::Command;

use anyhow::{Context, bail};

use crate::{apt_get, cargo, project_root, run_cmd};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut install = true;
    let mut quick = true;
    let mut rest: &[String] = &[];
    for (i, arg) in args.iter().enumerate() {
        match arg.as_str() {
            "--no-install" => install = false,
            "--full" => quick = false,
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
    run_cmd(&mut cmd)
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
}
