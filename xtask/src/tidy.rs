//! `cargo xtask tidy`: project rules that rustfmt and clippy do not check.
//!
//! - SQLite and PostgreSQL migrations have identical file names, so both
//!   backends always sit at the same schema version.
//! - Every source file opens with a `//!` comment saying why it exists
//!   (CONVENTIONS.md, rule 9).
//! - Every crate under `crates/` but the bench's is in the root's `default-members`
//!   (a list: Cargo cannot leave one crate of a glob out).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::project_root;

pub fn run() -> anyhow::Result<()> {
    let root = project_root();
    let mut problems = migrations(&root)?;
    problems.extend(doc_comments(&root)?);
    problems.extend(default_members(&root)?);
    for problem in &problems {
        println!("tidy: {problem}");
    }
    match problems.len() {
        0 => {
            println!("tidy: ok");
            Ok(())
        }
        n => bail!("tidy found {n} problem(s)"),
    }
}

fn migrations(root: &Path) -> anyhow::Result<Vec<String>> {
    let sqlite = root.join("crates/switchboard-store-sqlite/migrations");
    let postgres = root.join("crates/switchboard-store-postgres/migrations");
    if !sqlite.is_dir() || !postgres.is_dir() {
        return Ok(Vec::new());
    }
    let (s, p) = (file_names(&sqlite)?, file_names(&postgres)?);
    let mut problems = only_in(&s, &p, "crates/switchboard-store-sqlite/migrations");
    problems.extend(only_in(&p, &s, "crates/switchboard-store-postgres/migrations"));
    Ok(problems)
}

fn only_in(a: &BTreeSet<String>, b: &BTreeSet<String>, dir: &str) -> Vec<String> {
    a.difference(b).map(|name| format!("migration {name} exists only in {dir} (both backends need the same file names)")).collect()
}

fn file_names(dir: &Path) -> anyhow::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            names.insert(entry.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(names)
}

/// `crates/*/src/**/*.rs` and `xtask/src/**/*.rs` must start with `//!`.
fn doc_comments(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut dirs = vec![root.join("xtask/src")];
    for krate in fs::read_dir(root.join("crates")).context("reading crates/")? {
        dirs.push(krate?.path().join("src"));
    }
    let mut files = Vec::new();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        rust_files(dir, &mut files)?;
    }
    files.sort();
    let mut problems = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        if !text.starts_with("//!") {
            let file = file.strip_prefix(root).unwrap_or(&file).display();
            problems.push(format!("{file}: first line must be a `//!` comment saying why the file exists"));
        }
    }
    Ok(problems)
}

/// Crates left out of the default build on purpose: the benchmark is not the product.
const NOT_DEFAULT: [&str; 2] = ["switchboard-bench", "switchboard-bench-peers"];

/// `cargo build` and `cargo test` at the root must cover every crate of the product,
/// and skip the bench.
fn default_members(root: &Path) -> anyhow::Result<Vec<String>> {
    let manifest = fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
    let listed = listed_default_members(&manifest);
    let mut problems = Vec::new();
    for krate in fs::read_dir(root.join("crates")).context("reading crates/")? {
        let path = krate?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).filter(|_| path.join("Cargo.toml").is_file()) else {
            continue;
        };
        match (listed.contains(&format!("crates/{name}")), NOT_DEFAULT.contains(&name)) {
            (false, false) => problems.push(format!(
                "crates/{name} is missing from `default-members` in Cargo.toml (`cargo build` and `cargo test` at the root skip it)"
            )),
            (true, true) => problems.push(format!("crates/{name} is in `default-members`; the bench stays out of the default build")),
            _ => {}
        }
    }
    problems.sort();
    Ok(problems)
}

/// The quoted paths of `default-members = [ … ]`.
fn listed_default_members(manifest: &str) -> BTreeSet<String> {
    let list = manifest.split_once("\ndefault-members").and_then(|(_, rest)| rest.split_once('[')).map_or("", |(_, rest)| rest);
    let list = list.split_once(']').map_or(list, |(list, _)| list);
    list.split('"').skip(1).step_by(2).map(str::to_owned).collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unpaired_migrations_and_files_without_a_why() -> anyhow::Result<()> {
        let root = std::env::temp_dir().join(format!("xtask-tidy-{}", std::process::id()));
        let write = |path: &str, text: &str| -> anyhow::Result<()> {
            let path = root.join(path);
            fs::create_dir_all(path.parent().expect("has a parent"))?;
            Ok(fs::write(path, text)?)
        };
        write("crates/switchboard-store-sqlite/migrations/0001_init.sql", "")?;
        write("crates/switchboard-store-sqlite/migrations/0002_tags.sql", "")?;
        write("crates/switchboard-store-postgres/migrations/0001_init.sql", "")?;
        write("crates/a/src/lib.rs", "//! Why.\npub mod b;\n")?;
        write("crates/a/src/b/c.rs", "// not a module doc\n")?;
        let (migrations, docs) = (migrations(&root), doc_comments(&root));
        fs::remove_dir_all(&root)?;
        let migrations = migrations?;
        assert_eq!(migrations.len(), 1, "{migrations:?}");
        assert!(migrations[0].contains("0002_tags.sql exists only in crates/switchboard-store-sqlite"));
        let docs = docs?;
        assert_eq!(docs.len(), 1, "{docs:?}");
        assert!(docs[0].starts_with("crates/a/src/b/c.rs:"), "{docs:?}");
        Ok(())
    }

    #[test]
    fn the_product_is_built_by_default_and_the_bench_is_not() -> anyhow::Result<()> {
        let root = std::env::temp_dir().join(format!("xtask-tidy-members-{}", std::process::id()));
        for name in ["switchboard-a", "switchboard-b", "switchboard-bench", "switchboard-bench-peers"] {
            fs::create_dir_all(root.join("crates").join(name))?;
            fs::write(root.join("crates").join(name).join("Cargo.toml"), "")?;
        }
        fs::create_dir_all(root.join("crates/not-a-crate"))?;
        let manifest = "[workspace]\nmembers = [\"crates/*\"]\ndefault-members = [\n    \"crates/switchboard-a\",\n    \"crates/switchboard-bench\",\n]\n";
        fs::write(root.join("Cargo.toml"), manifest)?;
        let problems = default_members(&root);
        fs::remove_dir_all(&root)?;
        let problems = problems?;
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("crates/switchboard-b is missing"), "{problems:?}");
        assert!(problems[1].starts_with("crates/switchboard-bench is in"), "{problems:?}");
        Ok(())
    }
}
