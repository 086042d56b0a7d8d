//! `cargo xtask web`: builds the front end in `web/` with npm.
//!
//! `build.rs` never runs npm (see DESIGN.md); this task is the only way in.
//! `cargo xtask demo`, `test` and `bench` call [`build_if_needed`]: the release binary
//! embeds `web/dist`, and debug binaries read it when they start.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

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

/// Builds `web/` when `web/dist` is missing or older than a source file.
pub fn build_if_needed() -> anyhow::Result<()> {
    let Some(web) = web_dir() else {
        return Ok(());
    };
    match stale(&web)? {
        Some(why) => {
            println!("xtask: building web/ ({why})");
            build()
        }
        None => {
            println!("xtask: web/dist is up to date");
            Ok(())
        }
    }
}

/// Folders of `web/` that are not sources of the build.
const NOT_SOURCES: [&str; 3] = ["node_modules", "dist", "tests"];

/// Why `web/dist` needs a build, or `None` if it is newer than every source (the
/// package files, configuration and code of `web/`, but not its tests).
fn stale(web: &Path) -> anyhow::Result<Option<String>> {
    let mut built = Vec::new();
    files(&web.join("dist"), &[], &mut built)?;
    // Vite empties dist/ first, so its oldest file is about when the last build began.
    let Some(oldest) = built.iter().map(|(_, modified)| *modified).min() else {
        return Ok(Some("web/dist is missing".to_owned()));
    };
    let mut sources = Vec::new();
    files(web, &NOT_SOURCES, &mut sources)?;
    Ok(sources.into_iter().find(|(_, modified)| *modified > oldest).map(|(path, _)| {
        let path = path.strip_prefix(web).unwrap_or(&path).display().to_string();
        format!("web/{path} is newer than web/dist")
    }))
}

/// Every file under `dir` with its modification time, skipping the folders named in `skip`
/// at the top level. A missing `dir` has no files.
fn files(dir: &Path, skip: &[&str], out: &mut Vec<(PathBuf, SystemTime)>) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            files(&entry.path(), &[], out)?;
        } else if kind.is_file() {
            out.push((entry.path(), entry.metadata()?.modified()?));
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use std::fs::{self, File};
    use std::time::Duration;

    use super::*;

    fn touch(path: &Path, at: SystemTime) -> anyhow::Result<()> {
        fs::create_dir_all(path.parent().expect("has a parent"))?;
        File::create(path)?.set_modified(at)?;
        Ok(())
    }

    #[test]
    fn dist_is_rebuilt_when_missing_or_older_than_a_source() -> anyhow::Result<()> {
        let web = std::env::temp_dir().join(format!("xtask-web-{}", std::process::id()));
        let t = |secs: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + secs);
        let result = (|| -> anyhow::Result<()> {
            touch(&web.join("package.json"), t(0))?;
            touch(&web.join("api-docs/main.ts"), t(10))?;
            assert_eq!(stale(&web)?.as_deref(), Some("web/dist is missing"));

            touch(&web.join("dist/api-docs/index.html"), t(20))?;
            touch(&web.join("dist/assets/api-docs-1a2b.js"), t(21))?;
            // Neither tests nor installed packages are sources of the build.
            touch(&web.join("tests/api-docs.test.mjs"), t(30))?;
            touch(&web.join("node_modules/vite/index.js"), t(30))?;
            assert_eq!(stale(&web)?, None);

            touch(&web.join("api-docs/main.ts"), t(25))?;
            assert_eq!(stale(&web)?.as_deref(), Some("web/api-docs/main.ts is newer than web/dist"));
            Ok(())
        })();
        fs::remove_dir_all(&web)?;
        result
    }
}
