//! Idle connections: memory per idle visitor socket, as the slope of the server's
//! resident memory over several connection counts (not total ÷ count, which would
//! charge the server's fixed memory to the sockets). Visitors say `hello` and get
//! `welcome` (authenticated, as a widget does on page load), then stay idle. The
//! sockets come from several generator processes and source addresses, because one
//! process may hold at most 20,000 files here.

use std::time::Duration;

use serde_json::json;

use crate::Ctx;
use crate::procs::GenProc;
use crate::report::{Measure, Outcome, at_most, slope};
use crate::server::{Durability, Server};
use crate::ws::source_ips;

pub struct IdleOpts {
    pub counts: Vec<usize>,
    pub generators: usize,
    pub settle: Duration,
}

impl IdleOpts {
    /// `SWITCHBOARD_BENCH_IDLE_COUNTS=500,2000` overrides the counts, for profiling the
    /// server under a heap profiler, where 19,000 handshakes would take too long.
    pub fn new(quick: bool) -> Self {
        let counts = std::env::var("SWITCHBOARD_BENCH_IDLE_COUNTS")
            .ok()
            .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect::<Vec<usize>>())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| vec![1_000, 5_000, 10_000, 15_000, 19_000]);
        Self { counts, generators: 4, settle: Duration::from_secs(if quick { 2 } else { 5 }) }
    }
}

pub async fn run(ctx: &Ctx, opts: &IdleOpts, run: usize) -> anyhow::Result<Outcome> {
    let dir = ctx.scratch(&format!("idle-{run}"));
    ctx.fixture.instance(&dir)?;
    // Each hello writes the new contact; the commit mode does not change what an idle
    // socket costs, and `normal` makes setting up 19,000 visitors take seconds.
    let durability = Durability::Normal;
    let server = Server::start(&ctx.server_bin, &dir, &ctx.server_opts(durability)).await?;
    let site = &ctx.fixture.workspaces[0].site_key;
    let mut gens = vec![];
    for g in 0..opts.generators {
        let sources: Vec<String> = source_ips(g as u32 * 4, 4).iter().map(|ip| ip.to_string()).collect();
        let config =
            json!({"addr": server.addr.to_string(), "site_key": site, "sources": sources, "first_index": g * 100_000, "concurrency": 32});
        gens.push(GenProc::spawn(ctx, &crate::visitors::GENERATOR, &config).await?);
    }
    tokio::time::sleep(opts.settle).await;
    let baseline = sample_rss(&server).await?;
    let mut points = vec![(0.0, baseline as f64)];
    let mut steps = vec![json!({"connections": 0, "rss_bytes": baseline})];
    let mut failed = 0;
    for &count in &opts.counts {
        let share = count.div_ceil(opts.generators);
        for g in gens.iter_mut() {
            g.send(&json!({"cmd": "grow", "to": share})).await?;
        }
        let mut held = 0;
        let mut open_p99 = 0.0f64;
        for g in gens.iter_mut() {
            let r = g.recv(Duration::from_secs(300)).await?;
            held += r["held"].as_u64().unwrap_or(0);
            failed += r["failed"].as_u64().unwrap_or(0);
            open_p99 = open_p99.max(r["open"]["p99_ms"].as_f64().unwrap_or(0.0));
            if let Some(e) = r["first_errors"].as_array().and_then(|a| a.first()) {
                eprintln!("idle: generator error: {e}");
            }
        }
        tokio::time::sleep(opts.settle).await;
        let rss = sample_rss(&server).await?;
        eprintln!("idle: {held} idle visitors, server RSS {:.1} MiB", rss as f64 / 1048576.0);
        points.push((held as f64, rss as f64));
        steps.push(json!({"connections": held, "rss_bytes": rss, "hello_p99_ms": open_p99}));
    }
    for g in gens {
        g.finish().await?;
    }
    // A clean exit, so a heap profiler wrapped around the server can write its report.
    server.stop().await?;
    let _ = std::fs::remove_dir_all(&dir);

    // The slope over the counts the method names (1k…19k), leaving out the empty server.
    let fit: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.0 > 0.0).collect();
    let per_conn = slope(&fit).unwrap_or(f64::NAN);
    let mode = durability.mode();
    let top = points.last().copied().unwrap_or_default();
    let mut measures = vec![
        Measure::new("idle.kib_per_conn", "idle visitor socket: server memory per connection (RSS slope)", "KiB", per_conn / 1024.0)
            .goal(at_most(8.0))
            .mode(&mode),
        Measure::new("idle.connections", "idle visitor sockets held by one server process", "sockets", top.0).mode(&mode),
        Measure::new("idle.rss_at_max", "server RSS with the most idle sockets", "MiB", top.1 / 1048576.0).mode(&mode),
    ];
    if failed > 0 {
        measures[1] = measures[1].clone().note(format!("{failed} connection attempts failed"));
    }
    Ok(Outcome { measures, details: json!({"points": steps, "failed": failed}) })
}

/// Median of three RSS readings half a second apart.
async fn sample_rss(server: &Server) -> anyhow::Result<u64> {
    let mut v = vec![];
    for i in 0..3 {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        v.push(server.rss_bytes()?);
    }
    v.sort_unstable();
    Ok(v[1])
}
