//! Connection churn: new visitor sockets per second, opened on a wall-clock schedule
//! (open loop), with the connect + upgrade latency of each; stepped up until p99
//! passes 20 ms or a connection fails. A second series also says `hello` and waits
//! for `welcome`: that is what a page load costs, a new contact included.

use std::cell::{Cell, RefCell};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::Ctx;
use crate::procs::{GenProc, Generator, emit};
use crate::report::{Latency, Measure, Outcome, at_least, at_most, histogram};
use crate::server::{Durability, Server};
use crate::ws::{self, source_ips};

const P99_GOAL_MS: f64 = 20.0;
const GENERATORS: usize = 2;

struct Series {
    hello: bool,
    rates: &'static [f64],
}

const SERIES: [Series; 2] = [
    Series { hello: false, rates: &[1_000.0, 2_500.0, 5_000.0, 7_500.0, 10_000.0] },
    Series { hello: true, rates: &[100.0, 250.0, 500.0, 1_000.0, 2_000.0] },
];

pub async fn run(ctx: &Ctx, run: usize) -> anyhow::Result<Outcome> {
    let secs = if ctx.quick { 2.0 } else { 5.0 };
    let dir = ctx.scratch(&format!("churn-{run}"));
    ctx.fixture.instance(&dir)?;
    let durability = Durability::Full;
    let server = Server::start(&ctx.server_bin, &dir, &ctx.server_opts(durability)).await?;
    let site = &ctx.fixture.workspaces[0].site_key;
    let mut details = vec![];
    let mut measures = vec![];
    for (si, series) in SERIES.iter().enumerate() {
        let mut best = 0.0f64;
        let mut at_5k = None;
        let mut at_250 = None;
        for (ri, &rate) in series.rates.iter().enumerate() {
            let mut gens = vec![];
            for g in 0..GENERATORS {
                // Fresh source addresses for every step and run: closed sockets linger in
                // TIME_WAIT for a minute and hold their ports.
                let first = ((run * SERIES.len() + si) * 5 + ri) * GENERATORS * 2 + g * 2;
                let sources: Vec<String> = source_ips(first as u32, 2).iter().map(|ip| ip.to_string()).collect();
                let cfg = json!({"addr": server.addr.to_string(), "site_key": site, "sources": sources,
                                 "rate": rate / GENERATORS as f64, "secs": secs, "hello": series.hello});
                gens.push(GenProc::spawn(ctx, &GENERATOR, &cfg).await?);
            }
            let (mut ok, mut failed, mut p99, mut p50) = (0u64, 0u64, 0.0f64, 0.0f64);
            let mut errors = vec![];
            for g in gens.iter_mut() {
                let r = g.recv(Duration::from_secs_f64(secs + 60.0)).await?;
                ok += r["ok"].as_u64().unwrap_or(0);
                failed += r["failed"].as_u64().unwrap_or(0);
                // Histograms stay in their processes: the larger p99 is the conservative merge.
                p99 = p99.max(r["latency"]["p99_ms"].as_f64().unwrap_or(f64::NAN));
                p50 = p50.max(r["latency"]["p50_ms"].as_f64().unwrap_or(f64::NAN));
                errors.extend(r["first_errors"].as_array().cloned().unwrap_or_default());
            }
            for g in gens {
                g.finish().await?;
            }
            let achieved = ok as f64 / secs;
            eprintln!(
                "churn{}: offered {rate:.0}/s: {ok} ok ({achieved:.0}/s), {failed} failed, p50 {p50:.2} ms, p99 {p99:.2} ms",
                if series.hello { " (with hello)" } else { "" }
            );
            details.push(json!({"hello": series.hello, "offered_per_s": rate, "ok": ok, "failed": failed, "achieved_per_s": achieved,
                                "p50_ms": p50, "p99_ms": p99, "first_errors": errors}));
            if (rate - 5_000.0).abs() < 1.0 {
                at_5k = Some(p99);
            }
            if (rate - 250.0).abs() < 1.0 {
                at_250 = Some(p99);
            }
            let passed = failed == 0 && p99 < P99_GOAL_MS && achieved >= 0.95 * rate;
            if !passed {
                break;
            }
            best = best.max(achieved);
            // Let the closed sockets drain out of the server before the next step.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let mode = durability.mode();
        if series.hello {
            measures.push(
                Measure::new("churn.hello_rate", "new visitor sessions/s (upgrade + hello → welcome) with p99 < 20 ms", "conn/s", best)
                    .mode(&mode)
                    .note("each hello writes a contact row outside the group commit"),
            );
            if let Some(p) = at_250 {
                measures
                    .push(Measure::new("churn.hello_p99_250", "upgrade + hello → welcome p99 at 250 new visitors/s", "ms", p).mode(&mode));
            }
        } else {
            measures.push(
                Measure::new("churn.rate", "new sockets/s (connect + upgrade) with p99 < 20 ms, no failures", "conn/s", best)
                    .goal(at_least(5_000.0)),
            );
            match at_5k {
                Some(p) => measures
                    .push(Measure::new("churn.p99_5k", "connect + upgrade p99 at 5,000 new sockets/s", "ms", p).goal(at_most(P99_GOAL_MS))),
                None => measures.push(Measure::not_run(
                    "churn.p99_5k",
                    "connect + upgrade p99 at 5,000 new sockets/s",
                    "ms",
                    "a lower step failed",
                )),
            }
        }
    }
    server.kill9().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Outcome { measures, details: json!(details) })
}

/// The `churn` generator: opens sockets at `rate` per second for `secs`, each closed
/// as soon as it is upgraded (or welcomed). It takes no commands.
pub const GENERATOR: Generator = Generator { kind: "churn", run: |config, _commands| Box::pin(generator(config)) };

async fn generator(config: Value) -> anyhow::Result<()> {
    let addr: SocketAddr = config["addr"].as_str().context("addr")?.parse()?;
    let site = config["site_key"].as_str().context("site_key")?.to_owned();
    let sources: Vec<IpAddr> = config["sources"].as_array().context("sources")?.iter().filter_map(|s| s.as_str()?.parse().ok()).collect();
    let rate = config["rate"].as_f64().context("rate")?;
    let secs = config["secs"].as_f64().context("secs")?;
    let hello = config["hello"].as_bool().unwrap_or(false);
    let path = Rc::new(format!("/ws/visitor?site={site}"));
    let latency = Rc::new(RefCell::new(histogram()));
    let ok = Rc::new(Cell::new(0u64));
    let failed = Rc::new(Cell::new(0u64));
    let errors = Rc::new(RefCell::new(Vec::<String>::new()));
    let total = (rate * secs).round() as u64;
    let start = Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        let due = start + Duration::from_secs_f64(n as f64 / rate);
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        let src = sources.get(n as usize % sources.len().max(1)).copied();
        let (path, latency, ok, failed, errors) = (path.clone(), latency.clone(), ok.clone(), failed.clone(), errors.clone());
        tasks.push(tokio::task::spawn_local(async move {
            let attempt = async {
                let mut socket = ws::connect(addr, src, &path).await?;
                if hello {
                    ws::send_text(&mut socket, crate::frames::VISITOR_HELLO.clone()).await?;
                    ws::expect(&mut socket, "welcome").await?;
                }
                anyhow::Ok(socket)
            };
            match tokio::time::timeout(Duration::from_secs(10), attempt).await {
                Ok(Ok(socket)) => {
                    // From the scheduled time, so a generator running late counts against it.
                    latency.borrow_mut().saturating_record(due.elapsed().as_micros() as u64);
                    ok.set(ok.get() + 1);
                    drop(socket);
                }
                result => {
                    failed.set(failed.get() + 1);
                    let mut e = errors.borrow_mut();
                    if e.len() < 3 {
                        e.push(match result {
                            Ok(Err(err)) => format!("{err:#}"),
                            _ => "timed out after 10 s".into(),
                        });
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    emit(&json!({"ok": ok.get(), "failed": failed.get(), "latency": Latency::of(&latency.borrow()), "first_errors": *errors.borrow()}));
    Ok(())
}
