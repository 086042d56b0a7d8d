//! Wires the real peers (`crate::peers`, written separately) into the chat scenario:
//! start a peer, run the same plan against it, stop it. A peer that cannot run here is
//! reported as "not available: <reason>", never with made-up numbers.

use anyhow::anyhow;

use crate::Ctx;
use crate::report::Outcome;

/// The peers the chat scenario runs beside Switchboard, in order.
pub const PEERS: &[&str] = switchboard_bench_peers::ALL;

/// Starts `name`, runs the chat plan against it, and stops it.
pub async fn run(ctx: &Ctx, name: &str) -> anyhow::Result<Outcome> {
    let missing = switchboard_bench_peers::prerequisites();
    let peer = switchboard_bench_peers::start(name).await.map_err(|e| {
        let hint = if missing.is_empty() { String::new() } else { format!(" (missing: {missing:?}; `cargo xtask bench` installs them)") };
        anyhow!("not available: {e:#}{hint}")
    })?;
    eprintln!("chat: {name} is {} (pid {})", peer.version, peer.pid);
    let (_, mut outcome) = crate::throughput::peer(ctx, name, &*peer.target, Some(peer.pid)).await?;
    for m in &mut outcome.measures {
        m.mode = format!("{}, stock settings", peer.version);
    }
    if let serde_json::Value::Object(map) = &mut outcome.details {
        map.insert("version".into(), peer.version.clone().into());
    }
    drop(peer);
    Ok(outcome)
}

/// For `cargo xtask bench`: what the peers still need, as JSON on stdout.
pub fn print_prerequisites() {
    let p = switchboard_bench_peers::prerequisites();
    let npm: Vec<String> = p.npm_ci.iter().map(|d| d.display().to_string()).collect();
    println!("{}", serde_json::json!({"apt_packages": p.apt_packages, "npm_ci": npm}));
}
