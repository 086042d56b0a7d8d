//! Flood: the product's default limits against 1,000 abusive visitors who send as fast
//! as they can (ignoring every `rate_limited` and its `retry_after_ms`), while
//! legitimate visitors chat. Figures: the legitimate visitors' send-to-ack p99, quiet
//! and under the flood (goal: at most twice the quiet one), and what the abusive
//! visitors got stored against what their limit allows.
//!
//! The abusive visitors run in `flood` generator processes, spread over source
//! addresses as a botnet would be (25 per address, within the new-session limit), so
//! the legitimate visitors' latency is measured in this process without their load.
//! The legitimate visitors each come from an address of their own, as people do, so
//! the per-address buckets count the abusive ones, not them.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::future::join_all;
use serde_json::{Value, json};

use crate::procs::{Commands, GenProc, Generator, emit};
use crate::report::{Latency, Measure, Outcome, at_most, histogram};
use crate::server::{Durability, Server};
use crate::ws::{self, frame_type, source_ips, str_field};
use crate::{Ctx, frames};

pub const GENERATOR: Generator = Generator { kind: "flood", run: |config, commands| Box::pin(generator(config, commands)) };

const ABUSIVE: usize = 1_000;
const GENERATORS: usize = 2;
/// Abusive visitors per source address (the default allows 30 new sessions at once).
const PER_ADDRESS: usize = 25;
/// Sends each abusive socket keeps unanswered: as fast as the server answers.
const IN_FLIGHT: usize = 8;
const LEGITIMATE: usize = 30;
/// Each legitimate visitor writes this often (a fast typist; well within the limit).
const LEGIT_EVERY: Duration = Duration::from_millis(1500);

pub async fn run(ctx: &Ctx, run: usize) -> anyhow::Result<Outcome> {
    let phase = Duration::from_secs(if ctx.quick { 8 } else { 20 });
    let dir = ctx.scratch(&format!("flood-{run}"));
    ctx.fixture.instance(&dir)?;
    let opts = crate::server::ServerOpts { rate_limits: true, ..ctx.server_opts(Durability::Full) };
    let server = Server::start(&ctx.server_bin, &dir, &opts).await?;
    let site = ctx.fixture.workspaces.first().context("the fixture has no workspace")?.site_key.clone();
    let rates = switchboard_core::Rates::default().messages_per_visitor;

    // The legitimate visitors, each in a conversation of their own and on an address of
    // their own, as people are (the abusive ones start at address 1,000).
    let mut legit = vec![];
    for (i, src) in source_ips(100 + (run * LEGITIMATE) as u32, LEGITIMATE as u32).into_iter().enumerate() {
        legit.push(ws::visitor_in_conversation_from(server.addr, Some(src), &site, &format!("legit-{run}-{i}"), "Hello").await?);
    }
    let quiet = chat(&mut legit, phase, run, "quiet").await?;

    // The abusive visitors connect and start a conversation each, then flood.
    let mut gens = vec![];
    for g in 0..GENERATORS {
        let count = ABUSIVE / GENERATORS;
        let addresses = count.div_ceil(PER_ADDRESS) as u32;
        let first = 1_000 + (run * GENERATORS + g) as u32 * addresses;
        let sources: Vec<String> = source_ips(first, addresses).iter().map(|ip| ip.to_string()).collect();
        let cfg = json!({"addr": server.addr.to_string(), "site_key": site, "sources": sources, "count": count, "run": run, "g": g});
        gens.push(GenProc::spawn(ctx, &GENERATOR, &cfg).await?);
    }
    for g in gens.iter_mut() {
        g.recv(Duration::from_secs(120)).await.context("abusive visitors connecting")?;
    }
    for g in gens.iter_mut() {
        g.send(&json!({"cmd": "flood", "secs": phase.as_secs_f64() + 2.0})).await?;
    }
    // Give the flood a second to build up, then measure the same chat again beside it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let flooded = chat(&mut legit, phase, run, "flood").await?;
    let mut reports = vec![];
    for g in gens.iter_mut() {
        reports.push(g.recv(phase + Duration::from_secs(60)).await.context("the flood's report")?);
    }
    for g in gens {
        g.finish().await?;
    }
    server.kill9().await?;
    let _ = std::fs::remove_dir_all(&dir);

    let acked: Vec<u64> =
        reports.iter().flat_map(|r| r["acked"].as_array().cloned().unwrap_or_default()).filter_map(|v| v.as_u64()).collect();
    let refused: u64 = reports.iter().filter_map(|r| r["refused"].as_u64()).sum();
    let secs = reports.iter().filter_map(|r| r["secs"].as_f64()).fold(0.0, f64::max);
    // What one visitor may have stored over the time they flooded: the burst, then one
    // per refill, plus the conversation's first message.
    let allowed = 1 + rates.burst as u64 + (secs * 1000.0 / rates.every_ms as f64).ceil() as u64;
    let worst = acked.iter().copied().max().unwrap_or(0);
    let stored: u64 = acked.iter().sum();
    let ratio = if quiet.p99_ms > 0.0 { flooded.p99_ms / quiet.p99_ms } else { f64::NAN };
    let measures = vec![
        Measure::new("flood.legit_ack_p99_quiet", "legitimate send→ack p99, quiet (default limits)", "ms", quiet.p99_ms).note(format!(
            "{LEGITIMATE} visitors, one message each every {} ms; {} samples",
            LEGIT_EVERY.as_millis(),
            quiet.count
        )),
        Measure::new("flood.legit_ack_p99_flood", "legitimate send→ack p99, under a flood of 1,000 visitors", "ms", flooded.p99_ms)
            .note(format!("{} samples; the flood was refused {refused} times", flooded.count)),
        Measure::new("flood.legit_ack_p99_ratio", "legitimate ack p99, flood ÷ quiet", "×", ratio).goal(at_most(2.0)),
        Measure::new(
            "flood.abusive_stored_max",
            "most messages one abusive visitor got stored, ÷ their limit",
            "×",
            worst as f64 / allowed as f64,
        )
        .goal(at_most(1.0))
        .note(format!("{worst} stored; the limit allows {allowed} in {secs:.1} s ({} then 1 per {} ms)", rates.burst, rates.every_ms)),
        Measure::new("flood.abusive_stored_total", "messages the 1,000 abusive visitors got stored", "msgs", stored as f64)
            .note(format!("{:.0} msg/s against {refused} refused sends", stored as f64 / secs.max(1.0))),
    ];
    let details = json!({"quiet": quiet, "flood": flooded, "abusive": {"visitors": acked.len(), "stored": stored, "refused": refused,
                         "worst": worst, "allowed": allowed, "secs": secs}});
    Ok(Outcome { measures, details })
}

/// Each legitimate visitor sends one message every [`LEGIT_EVERY`] for `phase` (staggered)
/// and times each from send to ack. A `rate_limited` answer fails the run: the limits
/// must never catch a person.
async fn chat(visitors: &mut [(ws::Ws, String)], phase: Duration, run: usize, name: &str) -> anyhow::Result<Latency> {
    let n = visitors.len();
    let runs = visitors.iter_mut().enumerate().map(|(i, (socket, conversation))| async move {
        let conversation = conversation.as_str();
        let mut h = histogram();
        tokio::time::sleep(LEGIT_EVERY.mul_f64(i as f64 / n as f64)).await;
        let end = Instant::now() + phase;
        let mut k = 0;
        while Instant::now() < end {
            let next = Instant::now() + LEGIT_EVERY;
            let cid = format!("{name}-{run}-{i}-{k}");
            let sent = Instant::now();
            ws::send_text(socket, frames::visitor_send(cid.clone(), Some(conversation), "Could you check my order, please?".into())?)
                .await?;
            loop {
                let text = tokio::time::timeout(ws::FRAME_TIMEOUT, ws::next_text(socket)).await??.context("socket closed")?;
                match frame_type(&text) {
                    "ack" if str_field(&text, "client_id") == Some(&cid) => break,
                    "error" => bail!("a legitimate visitor was refused: {text}"),
                    _ => continue,
                }
            }
            h.record(sent.elapsed().as_micros().max(1) as u64)?;
            k += 1;
            tokio::time::sleep_until(next.into()).await;
        }
        anyhow::Ok(h)
    });
    let mut all = histogram();
    for h in join_all(runs).await {
        all.add(h?)?;
    }
    Ok(Latency::of(&all))
}

/// A `flood` generator: connects `count` visitors over `sources`, each starting a
/// conversation; says `{"ready"}`; on `{"cmd":"flood","secs"}` every socket sends as fast
/// as the server answers, for `secs`, then reports each visitor's stored messages.
async fn generator(config: Value, mut commands: Commands) -> anyhow::Result<()> {
    let addr: SocketAddr = config["addr"].as_str().context("addr")?.parse()?;
    let site = config["site_key"].as_str().context("site_key")?.to_owned();
    let sources: Vec<std::net::IpAddr> =
        config["sources"].as_array().context("sources")?.iter().filter_map(|s| s.as_str()?.parse().ok()).collect();
    let count = config["count"].as_u64().context("count")? as usize;
    let tag = format!("f{}-{}", config["run"], config["g"]);
    let mut sockets = vec![];
    for i in 0..count {
        let src = sources[i / PER_ADDRESS % sources.len()];
        let mut socket = ws::connect(addr, Some(src), &format!("/ws/visitor?site={site}")).await?;
        ws::send_text(&mut socket, frames::VISITOR_HELLO.clone()).await?;
        ws::expect(&mut socket, "welcome").await?;
        ws::send_text(&mut socket, frames::visitor_send(format!("{tag}-{i}-0"), None, "spam".into())?).await?;
        let ack = ws::expect(&mut socket, "ack").await?;
        let conversation = str_field(&ack, "conversation_id").context("ack without conversation_id")?.to_owned();
        sockets.push((socket, conversation));
    }
    emit(&json!({"ready": count}));
    let Some(cmd) = commands.next().await else { return Ok(()) };
    let secs = cmd["secs"].as_f64().context("secs")?;
    let started = Instant::now();
    let end = started + Duration::from_secs_f64(secs);
    let refused = Rc::new(RefCell::new(0u64));
    let floods = sockets.into_iter().enumerate().map(|(i, (socket, conversation))| {
        let (tag, refused) = (tag.clone(), refused.clone());
        async move {
            let mut socket = socket;
            let mut acked = 1u64; // the message that started the conversation
            let mut next = 1u64;
            let mut unanswered = 0usize;
            while Instant::now() < end {
                while unanswered < IN_FLIGHT {
                    let frame = frames::visitor_send(format!("{tag}-{i}-{next}"), Some(&conversation), "spam".into())?;
                    ws::send_text(&mut socket, frame).await?;
                    next += 1;
                    unanswered += 1;
                }
                let Ok(read) = tokio::time::timeout_at(end.into(), ws::next_text(&mut socket)).await else { break };
                let Some(text) = read? else { break };
                match frame_type(&text) {
                    "ack" => {
                        acked += 1;
                        unanswered -= 1;
                    }
                    "error" => {
                        *refused.borrow_mut() += 1;
                        unanswered -= 1;
                    }
                    _ => {}
                }
            }
            // Sends still unanswered may yet be stored: wait for their answers.
            while unanswered > 0 {
                let Ok(Ok(Some(text))) = tokio::time::timeout(Duration::from_secs(10), ws::next_text(&mut socket)).await else { break };
                match frame_type(&text) {
                    "ack" => {
                        acked += 1;
                        unanswered -= 1;
                    }
                    "error" => unanswered -= 1,
                    _ => {}
                }
            }
            anyhow::Ok(acked)
        }
    });
    let acked: Vec<u64> = join_all(floods).await.into_iter().collect::<anyhow::Result<_>>()?;
    let refused = *refused.borrow();
    emit(&json!({"acked": acked, "refused": refused, "secs": started.elapsed().as_secs_f64()}));
    while commands.next().await.is_some() {}
    Ok(())
}
