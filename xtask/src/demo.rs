//! `cargo xtask demo`: builds the front end if it changed, then runs `switchboard demo`.

use crate::{cargo, run_cmd, web};

/// `args` (after an optional `--`) go to `switchboard demo`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    web::build_if_needed()?;
    let args = args.strip_prefix(&["--".to_owned()]).unwrap_or(args);
    // A debug build: the first run compiles much faster, and a demo is not a benchmark.
    run_cmd(cargo().args(["run", "-p", "switchboard", "--", "demo"]).args(args))
}
