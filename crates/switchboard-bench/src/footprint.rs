//! Footprint: what one Switchboard costs before any load — resident memory at idle,
//! time from exec to a ready `/readyz` (on an empty data directory, and restarting on
//! an existing one), and the size of the release binary.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::Ctx;
use crate::http;
use crate::report::{Measure, Outcome, at_most};
use crate::server::{Durability, Server, command, free_port};

const COLD_STARTS: usize = 5;

pub async fn run(ctx: &Ctx, run: usize) -> anyhow::Result<Outcome> {
    let mut measures = vec![];
    if run == 0 {
        // The same file every run: measured once.
        let bytes = std::fs::metadata(&ctx.server_bin)?.len();
        measures.push(
            Measure::new("footprint.binary", "release binary size (stripped, assets embedded)", "MB", bytes as f64 / 1e6)
                .goal(at_most(20.0)),
        );
    }
    let mut empty = vec![];
    let mut existing = vec![];
    for i in 0..COLD_STARTS {
        let dir = ctx.scratch(&format!("cold-{run}-{i}"));
        empty.push(cold_start(&ctx.server_bin, &dir).await?);
        // The same directory again: the database exists and is migrated.
        existing.push(cold_start(&ctx.server_bin, &dir).await?);
        let _ = std::fs::remove_dir_all(&dir);
    }
    for ms in &empty {
        measures.push(
            Measure::new("footprint.cold_start_empty", "cold start to /readyz 200, empty data directory", "ms", *ms)
                .goal(at_most(100.0))
                .note("each run is one exec; the database is created and migrated"),
        );
    }
    for ms in &existing {
        measures.push(
            Measure::new("footprint.cold_start_existing", "cold start to /readyz 200, existing database", "ms", *ms).goal(at_most(100.0)),
        );
    }

    let dir = ctx.scratch(&format!("idle-rss-{run}"));
    ctx.fixture.instance(&dir)?;
    let server = Server::start(&ctx.server_bin, &dir, &ctx.server_opts(Durability::Full)).await?;
    wait_ready(server.addr, Duration::from_secs(10)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = server.rss_bytes()?;
    server.kill9().await?;
    let _ = std::fs::remove_dir_all(&dir);
    measures.push(
        Measure::new("footprint.idle_rss", "idle RSS (SQLite open, no connections)", "MB", rss as f64 / 1e6)
            .goal(at_most(20.0))
            .mode(Durability::Full.mode()),
    );
    Ok(Outcome { measures, details: json!({"cold_empty_ms": empty, "cold_existing_ms": existing, "idle_rss_bytes": rss}) })
}

/// Exec → the first `200` from `/readyz`, in ms.
async fn cold_start(bin: &Path, dir: &Path) -> anyhow::Result<f64> {
    std::fs::create_dir_all(dir)?;
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let t = Instant::now();
    let mut child = command(bin, dir, None)
        .args(["serve", "--listen", &addr.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let ready = wait_ready(addr, Duration::from_secs(10)).await;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    child.start_kill()?;
    child.wait().await?;
    ready?;
    Ok(ms)
}

async fn wait_ready(addr: SocketAddr, within: Duration) -> anyhow::Result<()> {
    let t = Instant::now();
    loop {
        if let Ok(r) = http::request(addr, "GET", "/readyz", &[], None).await
            && r.status == 200
        {
            return Ok(());
        }
        anyhow::ensure!(t.elapsed() < within, "{addr} not ready within {within:?}");
        // Poll every half millisecond; nothing else runs on this thread meanwhile.
        std::thread::sleep(Duration::from_micros(500));
    }
}
