//! `cargo xtask codegen`: writes the wire contract for the front ends.
//!
//! `web/generated/openapi.json` is the OpenAPI document the server builds from
//! `switchboard-proto` (REST bodies and socket frames, printed by `switchboard openapi`),
//! and `web/generated/api.ts` the TypeScript types `openapi-typescript` generates from
//! it. Both are committed, so front-end work needs no Rust build; `--check` (run by
//! `cargo xtask test`) fails when either is stale, so they never drift from the Rust side.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::{cargo, echo, project_root, run_cmd, web};

const DOCUMENT: &str = "openapi.json";
const TYPES: &str = "api.ts";

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => bail!("usage: cargo xtask codegen [--check]"),
    };
    let web = web::web_dir().context("codegen writes into web/, which has no package.json")?;
    let committed = web.join("generated");
    let fresh = if check { tempfile_dir()? } else { committed.clone() };
    std::fs::create_dir_all(&fresh).with_context(|| format!("creating {}", fresh.display()))?;
    generate(&web, &fresh)?;
    if !check {
        println!("xtask: wrote {} and {}", committed.join(DOCUMENT).display(), committed.join(TYPES).display());
        return Ok(());
    }
    let stale: Vec<&str> = [DOCUMENT, TYPES].into_iter().filter(|f| read(&committed.join(f)) != read(&fresh.join(f))).collect();
    let _ = std::fs::remove_dir_all(&fresh);
    if !stale.is_empty() {
        bail!(
            "web/generated/{} {} stale: run `cargo xtask codegen` and commit the result",
            stale.join(" and "),
            if stale.len() == 1 { "is" } else { "are" }
        );
    }
    println!("xtask: web/generated is up to date with switchboard-proto");
    Ok(())
}

/// Writes the document and the types into `dir`.
fn generate(web: &Path, dir: &Path) -> anyhow::Result<()> {
    let mut print = cargo();
    print.args(["run", "--quiet", "-p", "switchboard", "--", "openapi"]);
    echo(&print);
    let out = print.output().context("running `switchboard openapi`")?;
    if !out.status.success() {
        bail!("`switchboard openapi` failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let document = dir.join(DOCUMENT);
    std::fs::write(&document, &out.stdout).with_context(|| format!("writing {}", document.display()))?;
    web::install(web)?;
    let generator = web.join("node_modules/.bin/openapi-typescript");
    run_cmd(Command::new(generator).current_dir(web).arg(&document).arg("--output").arg(dir.join(TYPES)).args([
        "--enum-values",
        "--root-types",
        "--root-types-no-schema-prefix",
    ]))
}

fn read(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

/// A fresh directory under `target/` for the `--check` copy.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = project_root().join("target/xtask-codegen");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    Ok(dir)
}
