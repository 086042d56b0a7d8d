//! Rebuilds this crate when `web/dist` changes, so a release binary embeds the newest
//! front-end build, and says how much it embeds: the assets are most of the binary's
//! growth, and the binary has a size goal (docs/benchmarks.md, G16). Never runs npm
//! (`cargo xtask web` does).
//!
//! Debug builds read `web/dist` from disk when the server starts (rust-embed's fallback),
//! so they need no rebuild. Cargo reruns a build script on every build while a watched
//! path is missing; in debug that would rebuild the server each time for nothing.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        let dist = Path::new(&manifest).join("../../web/dist");
        println!("cargo:rerun-if-changed={}", dist.display());
        let (files, bytes) = total(&dist);
        let mib = bytes as f64 / (1024.0 * 1024.0);
        println!("cargo:warning=embedding web/dist: {files} files, {mib:.2} MiB");
    }
}

/// The number of files under `dir` and their total size; nothing if it is missing.
fn total(dir: &Path) -> (u64, u64) {
    let Ok(entries) = std::fs::read_dir(dir) else { return (0, 0) };
    entries.flatten().fold((0, 0), |(files, bytes), entry| match entry.metadata() {
        Ok(meta) if meta.is_dir() => {
            let (f, b) = total(&entry.path());
            (files + f, bytes + b)
        }
        Ok(meta) => (files + 1, bytes + meta.len()),
        Err(_) => (files, bytes),
    })
}
