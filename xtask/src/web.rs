//! `cargo xtask web`: builds the front end in `web/` with npm.
//!
//! `build.rs` never runs npm (see DESIGN.md); this task is the only way in.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{project_root, run_cmd, succeeds};

pub fn build() -> anyhow::Result<()> {
    let Some(web) = web_dir() else {
        println!("xtask: no web/package.json yet, so there are no web assets to build");
        return Ok(());
    };
    install(&web)?;
    if !has_script(&web, "build") {
        println!("xtask: web/package.json has no build script yet, so there are no web assets to build");
        return Ok(());
    }
    run_cmd(npm(&web).args(["run", "build"]))
}

/// `web/`, if it holds an npm project.
pub fn web_dir() -> Option<PathBuf> {
    let web = project_root().join("web");
    web.join("package.json").exists().then_some(web)
}

/// Installs npm packages when `node_modules` is missing or older than the lockfile.
pub fn install(web: &Path) -> anyhow::Result<()> {
    let lock = web.join("package-lock.json");
    // npm records what it installed in node_modules/.package-lock.json.
    let installed = web.join("node_modules/.package-lock.json");
    let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    let stale = match (modified(&lock), modified(&installed)) {
        (_, None) => true,
        (Some(lock), Some(installed)) => lock > installed,
        (None, Some(_)) => false,
    };
    if !stale {
        return Ok(());
    }
    let task = if lock.exists() { "ci" } else { "install" };
    run_cmd(npm(web).arg(task))
}

/// True if `web/package.json` defines `script`.
pub fn has_script(web: &Path, script: &str) -> bool {
    let output = npm(web).args(["pkg", "get", &format!("scripts.{script}")]).output();
    // `npm pkg get` prints `{}` for a missing key and a JSON string otherwise.
    output.is_ok_and(|o| o.status.success() && o.stdout.trim_ascii().starts_with(b"\""))
}

pub fn npm(web: &Path) -> Command {
    let mut cmd = Command::new("npm");
    cmd.current_dir(web);
    cmd
}

/// Fails early with a helpful message when npm is missing.
pub fn require_npm() -> anyhow::Result<()> {
    if succeeds(Command::new("npm").arg("--version")) {
        Ok(())
    } else {
        anyhow::bail!("npm not found: install Node.js 20+ and npm (Debian: apt-get install nodejs npm)")
    }
}
