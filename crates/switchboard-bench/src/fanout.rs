//! Fan-out: one event to many agent sockets. Visitors publish messages on an open-loop
//! schedule; every agent socket of the workspace receives each one. Agent sockets live
//! in generator processes, which count deliveries per measurement window and the
//! publish → deliver latency (the publish time travels in the message body as
//! wall-clock nanoseconds, comparable across processes on one host).

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use crate::Ctx;
use crate::machine::unix_nanos;
use crate::procs::{Commands, GenProc, Generator, emit};
use crate::report::{Latency, Measure, Outcome, at_least, histogram};
use crate::server::{Durability, Server};
use crate::ws::{self, frame_type, source_ips};

const AGENTS: usize = 1_000;
const GENERATORS: usize = 2;
const PUBLISHERS: usize = 8;
/// Messages per second, over all publishers; each is delivered to every agent socket.
const RATES: [f64; 5] = [100.0, 200.0, 300.0, 400.0, 500.0];
const BODY_PREFIX: &str = "\"body\":\"f ";

pub async fn run(ctx: &Ctx, run: usize) -> anyhow::Result<Outcome> {
    let (secs, warm) = if ctx.quick { (3.0, 1.0) } else { (8.0, 2.0) };
    let dir = ctx.scratch(&format!("fanout-{run}"));
    ctx.fixture.instance(&dir)?;
    let durability = Durability::Full;
    let server = Server::start(&ctx.server_bin, &dir, &ctx.server_opts(durability)).await?;
    let ws0 = &ctx.fixture.workspaces[0];

    let mut gens = vec![];
    let mut agents = 0;
    for g in 0..GENERATORS {
        let sources: Vec<String> = source_ips(60 + g as u32, 1).iter().map(|ip| ip.to_string()).collect();
        let cfg = json!({"addr": server.addr.to_string(), "token": ws0.token, "conns": AGENTS / GENERATORS, "sources": sources});
        let mut g = GenProc::spawn(ctx, &GENERATOR, &cfg).await?;
        let ready = g.recv(Duration::from_secs(120)).await?;
        agents += ready["ready"].as_u64().unwrap_or(0);
        gens.push(g);
    }
    let mut publishers = vec![];
    for p in 0..PUBLISHERS {
        publishers.push(ws::visitor_in_conversation(server.addr, &ws0.site_key, &format!("p{p}"), "start").await?);
    }
    // Let the setup's own events reach every agent before measuring.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let t0 = Instant::now() + Duration::from_millis(300);
    let unix0 = unix_nanos() + 300_000_000;
    let windows: Vec<(u64, u64)> = (0..RATES.len())
        .map(|i| {
            let start = unix0 + ((i as f64 * secs + warm) * 1e9) as u64;
            (start, unix0 + ((i as f64 + 1.0) * secs * 1e9) as u64)
        })
        .collect();
    for g in gens.iter_mut() {
        g.ask(&json!({"cmd": "measure", "windows": windows}), Duration::from_secs(10)).await?;
    }
    let cpu_at = |i: usize, start: bool| t0 + Duration::from_secs_f64(i as f64 * secs + if start { warm } else { secs });
    let mut tasks = vec![];
    for (p, (mut v, conversation)) in publishers.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            for (i, rate) in RATES.iter().enumerate() {
                let interval = Duration::from_secs_f64(PUBLISHERS as f64 / rate);
                let end = t0 + Duration::from_secs_f64((i + 1) as f64 * secs);
                let mut next = t0 + Duration::from_secs_f64(i as f64 * secs) + interval.mul_f64(p as f64 / PUBLISHERS as f64);
                while next < end {
                    tokio::select! {
                        _ = tokio::time::sleep_until(next.into()) => {
                            let at = unix0 + (next.duration_since(t0).as_nanos() as u64);
                            let frame = format!(r#"{{"type":"send","client_id":"p{p}.{n}","conversation_id":"{conversation}","body":"f {at}"}}"#);
                            n += 1;
                            if v.send(Message::text(frame)).await.is_err() {
                                return n;
                            }
                            next += interval;
                        }
                        frame = v.next() => if frame.is_none() { return n },
                    }
                }
            }
            // Read the last acks so the socket closes cleanly.
            let _ = tokio::time::timeout(Duration::from_secs(2), async { while v.next().await.is_some() {} }).await;
            n
        }));
    }
    // Server CPU per window, and the generators' (to tell a generator-bound result).
    let gen_pids: Vec<u32> = gens.iter().filter_map(|g| g.pid()).collect();
    let gen_cpu = || gen_pids.iter().filter_map(|p| crate::machine::cpu_seconds(*p).ok()).sum::<f64>();
    let mut cpu = vec![];
    let mut gen_cores = vec![];
    for i in 0..RATES.len() {
        tokio::time::sleep_until(cpu_at(i, true).into()).await;
        let (a, ga) = (server.cpu_seconds()?, gen_cpu());
        tokio::time::sleep_until(cpu_at(i, false).into()).await;
        cpu.push(server.cpu_seconds()? - a);
        gen_cores.push((gen_cpu() - ga) / (secs - warm));
    }
    let mut published = 0;
    for t in tasks {
        published += t.await.unwrap_or(0);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut delivered = vec![0u64; RATES.len()];
    let mut p99 = vec![0.0f64; RATES.len()];
    let mut closed = 0;
    for mut g in gens {
        let r = g.ask(&json!({"cmd": "report"}), Duration::from_secs(30)).await?;
        for (i, w) in r["windows"].as_array().context("windows")?.iter().enumerate() {
            delivered[i] += w["deliveries"].as_u64().unwrap_or(0);
            p99[i] = p99[i].max(w["latency"]["p99_ms"].as_f64().unwrap_or(0.0));
        }
        closed += r["closed"].as_u64().unwrap_or(0);
        g.finish().await?;
    }
    server.kill9().await?;
    let _ = std::fs::remove_dir_all(&dir);

    let window = secs - warm;
    let mut best: Option<(f64, f64, f64)> = None;
    let mut peak = 0.0f64;
    let mut steps = vec![];
    for (i, rate) in RATES.iter().enumerate() {
        let per_s = delivered[i] as f64 / window;
        let offered = rate * agents as f64;
        let cpu_us = if delivered[i] > 0 { cpu[i] * 1e6 / delivered[i] as f64 } else { f64::NAN };
        let server_cores = cpu[i] / window;
        eprintln!(
            "fanout: {rate:.0} msg/s × {agents} agents = {offered:.0}/s offered: {per_s:.0} deliveries/s, p99 {:.2} ms, server {:.2} µs/delivery ({server_cores:.2} cores), generators {:.2} cores",
            p99[i], cpu_us, gen_cores[i]
        );
        steps.push(json!({"rate": rate, "offered_per_s": offered, "deliveries_per_s": per_s, "p99_ms": p99[i],
                          "server_cpu_us_per_delivery": cpu_us, "server_cores": server_cores, "generator_cores": gen_cores[i]}));
        peak = peak.max(per_s);
        if per_s >= 0.95 * offered && closed == 0 && best.is_none_or(|b| per_s > b.0) {
            best = Some((per_s, p99[i], cpu_us));
        }
    }
    let mode = durability.mode();
    let mut measures = vec![
        Measure::new(
            "fanout.sustained",
            "fan-out deliveries/s (one event to 1,000 agent sockets), keeping up",
            "deliv/s",
            best.map(|b| b.0).unwrap_or(0.0),
        )
        .goal(at_least(250_000.0))
        .mode(&mode),
        Measure::new("fanout.peak", "fan-out deliveries/s, peak (any latency)", "deliv/s", peak).mode(&mode),
    ];
    if let Some((_, p99, cpu)) = best {
        measures.push(Measure::new("fanout.p99", "fan-out publish → deliver p99 at that rate", "ms", p99).mode(&mode));
        measures.push(Measure::new("fanout.cpu", "server CPU per delivery at that rate", "µs", cpu).mode(&mode));
    }
    if closed > 0 {
        measures[0].note = format!("{closed} agent sockets were closed (slow consumer) during the run");
    }
    Ok(Outcome { measures, details: json!({"agents": agents, "published": published, "closed": closed, "steps": steps}) })
}

struct Window {
    start: u64,
    end: u64,
    deliveries: u64,
    latency: Histogram<u64>,
}

#[derive(Default)]
struct Counts {
    windows: Vec<Window>,
    closed: u64,
}

/// The `agents` generator: holds agent sockets and counts what they receive.
pub const GENERATOR: Generator = Generator { kind: "agents", run: |config, commands| Box::pin(generator(config, commands)) };

async fn generator(config: Value, mut commands: Commands) -> anyhow::Result<()> {
    let addr: SocketAddr = config["addr"].as_str().context("addr")?.parse()?;
    let token = config["token"].as_str().context("token")?.to_owned();
    let conns = config["conns"].as_u64().context("conns")? as usize;
    let sources: Vec<IpAddr> = config["sources"].as_array().context("sources")?.iter().filter_map(|s| s.as_str()?.parse().ok()).collect();
    let counts = Rc::new(RefCell::new(Counts::default()));
    let permits = Rc::new(Semaphore::new(64));
    let path = Rc::new(format!("/ws/agent?access_token={token}"));
    let mut opening = vec![];
    for n in 0..conns {
        let (permits, path, counts) = (permits.clone(), path.clone(), counts.clone());
        let src = sources.get(n % sources.len().max(1)).copied();
        opening.push(tokio::task::spawn_local(async move {
            let _p = permits.acquire().await.expect("open");
            let mut socket = ws::connect(addr, src, &path).await?;
            ws::send_text(&mut socket, crate::frames::AGENT_HELLO.clone()).await?;
            ws::expect(&mut socket, "welcome").await?;
            ws::expect(&mut socket, "caught_up").await?;
            tokio::task::spawn_local(count(socket, counts));
            anyhow::Ok(())
        }));
    }
    let mut ready = 0;
    let mut errors = vec![];
    for t in opening {
        match t.await {
            Ok(Ok(())) => ready += 1,
            Ok(Err(e)) if errors.len() < 3 => errors.push(format!("{e:#}")),
            _ => {}
        }
    }
    emit(&json!({"ready": ready, "failed": conns - ready, "first_errors": errors}));
    while let Some(cmd) = commands.next().await {
        match cmd["cmd"].as_str() {
            Some("measure") => {
                let windows = cmd["windows"].as_array().context("windows")?;
                counts.borrow_mut().windows = windows
                    .iter()
                    .map(|w| Window {
                        start: w[0].as_u64().unwrap_or(0),
                        end: w[1].as_u64().unwrap_or(0),
                        deliveries: 0,
                        latency: histogram(),
                    })
                    .collect();
                emit(&json!({"ok": true}));
            }
            Some("report") => {
                let c = counts.borrow();
                let windows: Vec<Value> =
                    c.windows.iter().map(|w| json!({"deliveries": w.deliveries, "latency": Latency::of(&w.latency)})).collect();
                emit(&json!({"windows": windows, "closed": c.closed}));
            }
            _ => emit(&json!({"error": "unknown command"})),
        }
    }
    Ok(())
}

async fn count(mut socket: ws::Ws, counts: Rc<RefCell<Counts>>) {
    while let Some(frame) = socket.next().await {
        let text = match frame {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let now = unix_nanos();
        if frame_type(&text) == "reconnect" {
            break;
        }
        let Some(at) = text.find(BODY_PREFIX).map(|i| &text[i + BODY_PREFIX.len()..]) else { continue };
        let sent: u64 = at.split('"').next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let mut c = counts.borrow_mut();
        if let Some(w) = c.windows.iter_mut().find(|w| now >= w.start && now < w.end) {
            w.deliveries += 1;
            w.latency.saturating_record(now.saturating_sub(sent) / 1000);
        }
    }
    counts.borrow_mut().closed += 1;
}
