//! `cargo xtask`: the project's automation, in Rust rather than shell scripts.
//!
//! Every task runs from the workspace root and echoes each command it runs.

mod bench;
mod codegen;
mod demo;
mod fuzz;
mod test;
mod tidy;
mod web;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  test [--no-install] [-- <test args>]   every tier: prerequisites, fmt, tidy, clippy, tests, browser
  bench [--full] [--no-install] [-- <suite args>]
                                         release build, peers' prerequisites, the benchmark suite
                                         (quick: ≤ 10 min on 2 cores) → target/bench/results.json
  codegen [--check]                      write the OpenAPI document and TypeScript wire types to
                                         web/generated/ (--check: fail if the committed ones are stale)
  fuzz [--random]                        schemathesis against a real server and its OpenAPI document
                                         (fixed seed unless --random)
  web                                    install npm packages if needed and build web/
  demo [-- <args>]                       build web/, then `switchboard demo <args>`
  tidy                                   project rules that rustfmt and clippy do not check";

fn main() -> ExitCode {
    match try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the context chain on one line, without a backtrace.
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn try_main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    match task {
        "test" => test::run(rest),
        "bench" => bench::run(rest),
        "codegen" => codegen::run(rest),
        "fuzz" => fuzz::run(rest),
        "web" => web::build(),
        "demo" => demo::run(rest),
        "tidy" => tidy::run(),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

/// The workspace root (the parent of `xtask/`).
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the workspace").to_owned()
}

/// The `cargo` that runs us, so toolchain overrides carry through.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(project_root());
    cmd
}

/// Echoes and runs a command; a non-zero exit is an error.
fn run_cmd(cmd: &mut Command) -> anyhow::Result<()> {
    echo(cmd);
    let status = cmd.status().with_context(|| format!("starting {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{} failed ({status})", display(cmd));
    }
    Ok(())
}

/// `apt-get`, through sudo unless we are root.
fn apt_get(args: &[&str]) -> anyhow::Result<()> {
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")));
    let mut cmd = if root {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg("apt-get");
        sudo
    };
    cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    run_cmd(&mut cmd)
}

/// True if the command runs and exits with success; its output is discarded.
fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).status().is_ok_and(|s| s.success())
}

fn echo(cmd: &Command) {
    println!("$ {}", display(cmd));
}

fn display(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}
