//! Live visitors (issue 15): tracked visitors browse (visitor sockets sending `page`
//! frames) while agents watch the live list (`visitors` watch). Figures: page views per
//! second the server ingests (each one reaching every watching agent as a `visitor`
//! event), and the p99 from a page change to an agent's `visitor` event (goal: a change
//! shows within a second).
//!
//! Visitors live in `live` generator processes (2,500 each, over several source
//! addresses); each sends a page every [`PAGE_EVERY`], staggered, so the offered rate
//! is visitors ÷ 10 s. The page's URL carries its send time in wall-clock nanoseconds
//! (`?t=`), comparable across processes on one host, so the agents in this process
//! time each change from it. `SWITCHBOARD_BENCH_LIVE_VISITORS` and
//! `SWITCHBOARD_BENCH_LIVE_AGENTS` (default 10,000 and 20) make it run small.

use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use crate::machine::unix_nanos;
use crate::procs::{Commands, GenProc, Generator, emit};
use crate::report::{Latency, Measure, Outcome, at_most, histogram};
use crate::server::{Durability, Server};
use crate::ws::{self, frame_type, source_ips};
use crate::{Ctx, frames};

pub const GENERATOR: Generator = Generator { kind: "live", run: |config, commands| Box::pin(generator(config, commands)) };

/// Each visitor opens a page this often.
const PAGE_EVERY: Duration = Duration::from_secs(10);
const PER_GENERATOR: usize = 2_500;
/// Visitors per source address (loopback's ephemeral ports, and no limit is on anyway).
const PER_ADDRESS: usize = 2_000;
const TIME_MARK: &str = "?t=";

/// How many visitors and agents, from the environment or the figure's defaults.
pub struct LiveOpts {
    pub visitors: usize,
    pub agents: usize,
}

impl LiveOpts {
    pub fn from_env() -> Self {
        let var = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default);
        Self { visitors: var("SWITCHBOARD_BENCH_LIVE_VISITORS", 10_000), agents: var("SWITCHBOARD_BENCH_LIVE_AGENTS", 20) }
    }
}

pub async fn run(ctx: &Ctx, opts: &LiveOpts, run: usize) -> anyhow::Result<Outcome> {
    let (secs, warm) = if ctx.quick { (10.0, 3.0) } else { (30.0, 5.0) };
    let dir = ctx.scratch(&format!("live-{run}"));
    ctx.fixture.instance(&dir)?;
    let durability = Durability::Full;
    let server = Server::start(&ctx.server_bin, &dir, &ctx.server_opts(durability)).await?;
    let ws0 = &ctx.fixture.workspaces[0];

    // The agents, each watching the whole workspace's live list, read from the start (a
    // socket that stops reading is closed as a slow consumer); they count and time only
    // the pages sent inside the window, set once browsing starts.
    let window = Arc::new((AtomicU64::new(u64::MAX), AtomicU64::new(0)));
    let stop = Arc::new(tokio::sync::Notify::new());
    let mut agents = vec![];
    for _ in 0..opts.agents {
        let mut socket = ws::connect(server.addr, None, &format!("/ws/agent?access_token={}", ws0.token)).await?;
        ws::send_text(&mut socket, frames::AGENT_HELLO.clone()).await?;
        ws::expect(&mut socket, "welcome").await?;
        ws::expect(&mut socket, "caught_up").await?;
        ws::send_text(&mut socket, frames::WATCH_VISITORS.clone()).await?;
        ws::expect(&mut socket, "visitors").await?;
        agents.push(tokio::spawn(watch(socket, window.clone(), stop.clone())));
    }

    // The visitors arrive (one page each), spread over generator processes.
    let mut gens = vec![];
    let mut arrived = 0;
    for g in 0..opts.visitors.div_ceil(PER_GENERATOR) {
        let count = PER_GENERATOR.min(opts.visitors - g * PER_GENERATOR);
        let addresses = count.div_ceil(PER_ADDRESS) as u32;
        let sources: Vec<String> = source_ips(200 + g as u32 * 4, addresses).iter().map(|ip| ip.to_string()).collect();
        let cfg = json!({"addr": server.addr.to_string(), "site_key": ws0.site_key, "sources": sources, "count": count, "g": g});
        let mut p = GenProc::spawn(ctx, &GENERATOR, &cfg).await?;
        let ready = p.recv(Duration::from_secs(300)).await.context("visitors arriving")?;
        arrived += ready["ready"].as_u64().unwrap_or(0);
        if let Some(e) = ready["first_errors"].as_array().and_then(|a| a.first()) {
            eprintln!("live: generator error: {e}");
        }
        gens.push(p);
    }
    eprintln!("live: {arrived} tracked visitors, {} agents watching", agents.len());

    // Browse for `secs`; agents count and time what they hear after the warm-up.
    let start = Instant::now();
    let measure_from = unix_nanos() + (warm * 1e9) as u64;
    let measure_to = unix_nanos() + (secs * 1e9) as u64;
    window.0.store(measure_from, Ordering::Relaxed);
    window.1.store(measure_to, Ordering::Relaxed);
    for g in gens.iter_mut() {
        g.send(&json!({"cmd": "browse", "secs": secs})).await?;
    }
    tokio::time::sleep(Duration::from_secs_f64(warm)).await;
    let cpu_before = server.cpu_seconds()?;
    let mut sent = 0;
    for g in gens.iter_mut() {
        let r = g.recv(Duration::from_secs_f64(secs + 60.0)).await.context("the visitors' report")?;
        sent += r["sent"].as_u64().unwrap_or(0);
    }
    let cpu = server.cpu_seconds()? - cpu_before;
    let browsed = start.elapsed().as_secs_f64();
    // The last pages' events are on their way (a late one counts in the p99 as late).
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.notify_waiters();
    let mut all = histogram();
    let mut fewest = u64::MAX;
    for w in agents {
        let (heard, h) = w.await.context("an agent's watcher")??;
        fewest = fewest.min(heard);
        all.add(h)?;
    }
    for g in gens {
        g.finish().await?;
    }
    server.kill9().await?;
    let _ = std::fs::remove_dir_all(&dir);

    let window = (measure_to - measure_from) as f64 / 1e9;
    let ingested = if fewest == u64::MAX { 0.0 } else { fewest as f64 / window };
    let latency = Latency::of(&all);
    let offered = arrived as f64 / PAGE_EVERY.as_secs_f64();
    let mode = durability.mode();
    let who = format!("{arrived} tracked visitors, {} agents watching", opts.agents);
    let measures = vec![
        Measure::new("live.page_views_per_s", "page views/s ingested, every one shown to every watching agent", "pages/s", ingested)
            .mode(&mode)
            .note(format!("{who}; {offered:.0}/s offered (a page per visitor every {} s)", PAGE_EVERY.as_secs())),
        Measure::new("live.change_p99", "page change → watching agent's `visitor` event, p99", "ms", latency.p99_ms)
            .goal(at_most(1_000.0))
            .mode(&mode)
            .note(format!("{} samples; p50 {:.1} ms", latency.count, latency.p50_ms)),
        Measure::new(
            "live.cpu_per_page",
            "server CPU per page view (tracking, rules, fan-out to the agents)",
            "µs",
            cpu * 1e6 / sent.max(1) as f64,
        )
        .mode(&mode),
    ];
    let details = json!({"visitors": arrived, "agents": opts.agents, "sent": sent, "browse_secs": browsed, "offered_per_s": offered,
                         "ingested_per_s": ingested, "latency": latency, "server_cpu_s": cpu});
    Ok(Outcome { measures, details })
}

/// Reads an agent's socket until `stop`: the `visitor` events of pages sent within the
/// window (`from`, `to`: wall-clock ns) and their latency from the page's send time.
async fn watch(
    mut socket: ws::Ws,
    window: Arc<(AtomicU64, AtomicU64)>,
    stop: Arc<tokio::sync::Notify>,
) -> anyhow::Result<(u64, Histogram<u64>)> {
    let mut h = histogram();
    let mut heard = 0;
    let stopped = stop.notified();
    tokio::pin!(stopped);
    loop {
        let text = tokio::select! {
            _ = &mut stopped => break,
            frame = ws::next_text(&mut socket) => match frame? {
                Some(text) => text,
                None => bail!("an agent's socket closed"),
            },
        };
        let now = unix_nanos();
        if frame_type(&text) != "visitor" {
            continue;
        }
        let Some(sent) = sent_at(&text) else { continue };
        if sent >= window.0.load(Ordering::Relaxed) && sent < window.1.load(Ordering::Relaxed) {
            heard += 1;
            h.saturating_record(now.saturating_sub(sent) / 1000);
        }
    }
    Ok((heard, h))
}

/// The send time a bench page's URL carries.
fn sent_at(text: &str) -> Option<u64> {
    let url = ws::str_field(text, "url")?;
    let i = url.find(TIME_MARK)? + TIME_MARK.len();
    url[i..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// A `live` generator: connects `count` visitors, each opening a first page; says
/// `{"ready"}`; on `{"cmd":"browse","secs"}` each opens a page every [`PAGE_EVERY`]
/// (staggered over the interval), then reports how many it sent.
async fn generator(config: Value, mut commands: Commands) -> anyhow::Result<()> {
    let addr: SocketAddr = config["addr"].as_str().context("addr")?.parse()?;
    let site = config["site_key"].as_str().context("site_key")?.to_owned();
    let sources: Vec<IpAddr> = config["sources"].as_array().context("sources")?.iter().filter_map(|s| s.as_str()?.parse().ok()).collect();
    let count = config["count"].as_u64().context("count")? as usize;
    let g = config["g"].as_u64().unwrap_or(0);
    let permits = Rc::new(Semaphore::new(32));
    let path = Rc::new(format!("/ws/visitor?site={site}"));
    let mut opening = vec![];
    for i in 0..count {
        let (permits, path) = (permits.clone(), path.clone());
        let src = sources.get(i / PER_ADDRESS % sources.len().max(1)).copied();
        opening.push(tokio::task::spawn_local(async move {
            let _p = permits.acquire().await.expect("open");
            let mut socket = ws::connect(addr, src, &path).await?;
            ws::send_text(&mut socket, frames::VISITOR_HELLO.clone()).await?;
            ws::expect(&mut socket, "welcome").await?;
            ws::send_text(&mut socket, frames::visitor_page(page_url(g, i, unix_nanos()), "Home")).await?;
            anyhow::Ok(socket)
        }));
    }
    let mut sockets = vec![];
    let mut errors = vec![];
    for t in opening {
        match t.await {
            Ok(Ok(s)) => sockets.push(s),
            Ok(Err(e)) if errors.len() < 3 => errors.push(format!("{e:#}")),
            _ => {}
        }
    }
    emit(&json!({"ready": sockets.len(), "failed": count - sockets.len(), "first_errors": errors}));
    let Some(cmd) = commands.next().await else { return Ok(()) };
    let secs = cmd["secs"].as_f64().context("secs")?;
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let n = sockets.len().max(1);
    let browsing = sockets.into_iter().enumerate().map(|(i, mut socket)| {
        tokio::task::spawn_local(async move {
            let mut next = Instant::now() + PAGE_EVERY.mul_f64(i as f64 / n as f64);
            let mut sent = 0u64;
            while next < end {
                tokio::select! {
                    _ = tokio::time::sleep_until(next.into()) => {
                        let frame = frames::visitor_page(page_url(g, i, unix_nanos()), "Pricing");
                        if ws::send_text(&mut socket, frame).await.is_err() {
                            break;
                        }
                        sent += 1;
                        next += PAGE_EVERY;
                    }
                    // Reading answers the server's pings.
                    frame = socket.next() => match frame {
                        Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                        Some(Ok(_)) => {}
                    },
                }
            }
            sent
        })
    });
    let mut sent = 0;
    for t in futures::future::join_all(browsing).await {
        sent += t.unwrap_or(0);
    }
    emit(&json!({"sent": sent}));
    while commands.next().await.is_some() {}
    Ok(())
}

fn page_url(g: u64, i: usize, at_ns: u64) -> String {
    format!("https://shop.example/g{g}/v{i}{TIME_MARK}{at_ns}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agents_visitor_event_gives_back_the_pages_send_time() {
        let url = page_url(1, 7, 1_700_000_000_123_456_789);
        let event = format!(r#"{{"type":"visitor","visitor":{{"contact_id":"x","url":"{url}","title":"Pricing"}}}}"#);
        assert_eq!(sent_at(&event), Some(1_700_000_000_123_456_789));
        assert_eq!(sent_at(r#"{"type":"visitor","visitor":{"url":"https://shop.example/"}}"#), None);
    }
}
