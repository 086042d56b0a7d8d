//! Rebuilds this crate when `web/dist` changes, so a release binary embeds the newest
//! front-end build. Never runs npm (`cargo xtask web` does).
//!
//! Debug builds read `web/dist` from disk when the server starts (rust-embed's fallback),
//! so they need no rebuild. Cargo reruns a build script on every build while a watched
//! path is missing; in debug that would rebuild the server each time for nothing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo:rerun-if-changed={manifest}/../../web/dist");
    }
}
