//! Reconnect storm: thousands of visitors, each in a conversation, are all dropped at
//! once by a server restart (SIGTERM: every socket is told `reconnect`), and come back
//! as the protocol says (delay plus jitter, backoff, resume from their cursor). While
//! they are away, an agent answers every conversation. Measured: time until every
//! visitor has resumed, and whether every answer arrived exactly once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::Ctx;
use crate::machine::unix_nanos;
use crate::procs::GenProc;
use crate::report::{Measure, Outcome, at_most};
use crate::server::{Durability, Server, ServerOpts, free_port};
use crate::switchboard::agent_socket;
use crate::ws::{self, frame_type, source_ips, str_field};

const GENERATORS: usize = 4;
const AGENT_SOCKETS: usize = 8;
const AGENT_WINDOW: usize = 64;
const GOAL_SECS: f64 = 15.0;

pub async fn run(ctx: &Ctx, run: usize) -> anyhow::Result<Outcome> {
    // The goal names 19,000 visitors; setting that many up in conversations takes the
    // server about two minutes here, so the quick suite storms 5,000.
    let clients = if ctx.quick { 5_000 } else { 19_000 };
    let timeout = Duration::from_secs(if ctx.quick { 100 } else { 300 });
    let dir = ctx.scratch(&format!("storm-{run}"));
    ctx.fixture.instance(&dir)?;
    let listen = format!("127.0.0.1:{}", free_port()?);
    // Setting up 19,000 conversations is faster without fsync; the storm itself runs
    // on the production default.
    let setup = ServerOpts { listen: listen.clone(), ..ctx.server_opts(Durability::Normal) };
    let durability = Durability::Full;
    let server = Server::start(&ctx.server_bin, &dir, &setup).await?;
    let ws0 = ctx.fixture.workspaces[0].clone();
    let mut gens = vec![];
    for g in 0..GENERATORS {
        let sources: Vec<String> = source_ips(100 + (run * GENERATORS + g) as u32 * 4, 4).iter().map(|ip| ip.to_string()).collect();
        let cfg = json!({"addr": server.addr.to_string(), "site_key": ws0.site_key, "sources": sources,
                         "first_index": g * 100_000, "concurrency": 32, "reconnect": true});
        gens.push(GenProc::spawn(ctx, &crate::visitors::GENERATOR, &cfg).await?);
    }
    let setup_t = Instant::now();
    let share = clients / GENERATORS;
    for g in gens.iter_mut() {
        g.send(&json!({"cmd": "grow", "to": share, "converse": true})).await?;
    }
    let mut held = 0;
    for g in gens.iter_mut() {
        held += g.recv(Duration::from_secs(600)).await?["held"].as_u64().unwrap_or(0);
    }
    let mut conversations: Vec<(u64, String)> = vec![];
    for g in gens.iter_mut() {
        let list = g.ask(&json!({"cmd": "conversations"}), Duration::from_secs(30)).await?;
        for c in list["conversations"].as_array().context("conversations")? {
            conversations.push((c[0].as_u64().unwrap_or(0), c[1].as_str().unwrap_or("").to_owned()));
        }
    }
    eprintln!("storm: {held} visitors in conversations after {:.1} s; restarting the server", setup_t.elapsed().as_secs_f64());

    let since = unix_nanos();
    let t = Instant::now();
    let stop_secs = server.stop().await?.as_secs_f64();
    let server = Server::start(&ctx.server_bin, &dir, &ServerOpts { listen, ..ctx.server_opts(durability) }).await?;
    let restart_secs = t.elapsed().as_secs_f64();
    let replies = tokio::spawn(answer(server.addr, ws0.token.clone(), conversations));

    let mut last: Vec<Value> = vec![];
    let mut replies_result: Option<(u64, Vec<u64>, u64)> = None;
    let mut replies = Some(replies);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if replies.as_ref().is_some_and(|r| r.is_finished()) {
            replies_result = Some(replies.take().expect("some").await.context("reply task")??);
        }
        last.clear();
        for g in gens.iter_mut() {
            last.push(g.ask(&json!({"cmd": "status", "since_ns": since}), Duration::from_secs(30)).await?);
        }
        let resumed: u64 = last.iter().map(|s| s["resumed"].as_u64().unwrap_or(0)).sum();
        let got: u64 = last.iter().map(|s| s["replies"].as_u64().unwrap_or(0)).sum();
        let all_back = resumed >= held;
        let all_replies = replies_result.as_ref().is_some_and(|(_, acked, _)| got >= acked.len() as u64);
        if (all_back && all_replies) || t.elapsed() > timeout {
            break;
        }
    }
    if let Some(r) = replies.take() {
        r.abort();
    }
    let (mut resumed_set, mut answered) = (HashSet::new(), HashSet::new());
    for g in gens.iter_mut() {
        let f = g.ask(&json!({"cmd": "final", "since_ns": since}), Duration::from_secs(30)).await?;
        resumed_set.extend(f["resumed"].as_array().into_iter().flatten().filter_map(Value::as_u64));
        answered.extend(f["answered"].as_array().into_iter().flatten().filter_map(Value::as_u64));
    }
    for g in gens {
        g.finish().await?;
    }
    server.kill9().await?;
    // Keep the server's log (errors under the storm are part of the finding).
    let kept = ctx.repo.join(format!("target/bench/storm-{run}-server.log"));
    let _ = std::fs::copy(dir.join("server.log"), &kept);
    let _ = std::fs::remove_dir_all(&dir);

    let sum = |k: &str| last.iter().map(|s| s[k].as_u64().unwrap_or(0)).sum::<u64>();
    let resumed = sum("resumed");
    let all_back_s = last.iter().map(|s| s["last_back_ms"].as_f64().unwrap_or(0.0)).fold(0.0, f64::max) / 1000.0;
    let back_p99_s = last.iter().map(|s| s["back"]["p99_ms"].as_f64().unwrap_or(0.0)).fold(0.0, f64::max) / 1000.0;
    let (sent, acked_for, refused) = replies_result.unwrap_or((0, vec![], 0));
    let acked = acked_for.len();
    let received = sum("replies");
    // Lost: acknowledged answers that a visitor who did resume never got. Answers to
    // visitors still away are not lost (they come with the resume), but not checked.
    let missing = acked_for.iter().filter(|i| resumed_set.contains(*i) && !answered.contains(*i)).count() as f64;
    let unchecked = acked_for.iter().filter(|i| !resumed_set.contains(*i)).count();
    let duplicates = (sum("duplicate_replies") + sum("stale_events")) as f64;
    eprintln!(
        "storm: {resumed}/{held} back; all back after {all_back_s:.1} s (p99 {back_p99_s:.1} s); replies sent {sent}, acked {acked}, refused {refused}, received {received}; duplicates {duplicates}"
    );
    let mode = durability.mode();
    let everyone = resumed >= held && held > 0;
    let name = format!("reconnect storm: {held} visitors all resumed after a restart");
    let back = if everyone {
        Measure::new("storm.all_back", &name, "s", all_back_s)
    } else {
        // Not everyone came back: the wait itself is a lower bound of the figure.
        Measure::new("storm.all_back", &name, "s", t.elapsed().as_secs_f64())
            .note(format!("only {resumed} of {held} resumed before the bench gave up; the value is a lower bound"))
    }
    .goal(at_most(GOAL_SECS))
    .mode(&mode);
    let missing_figure =
        Measure::new("storm.missing", "reconnect storm: acknowledged answers a resumed visitor never got", "msgs", missing)
            .goal(at_most(0.0))
            .mode(&mode);
    let missing_figure = if unchecked > 0 {
        missing_figure.note(format!("{unchecked} answers went to visitors who had not resumed and could not be checked"))
    } else {
        missing_figure
    };
    let measures = vec![
        back,
        Measure::new("storm.back_p99", "reconnect storm: p99 time to resume", "s", back_p99_s).mode(&mode),
        missing_figure,
        Measure::new("storm.duplicates", "reconnect storm: answers or events delivered twice", "msgs", duplicates)
            .goal(at_most(0.0))
            .mode(&mode),
        Measure::new("storm.refused", "reconnect storm: answers the server refused with an error", "msgs", refused as f64)
            .goal(at_most(0.0))
            .mode(&mode),
    ];
    let details = json!({"held": held, "resumed": resumed, "stop_secs": stop_secs, "restart_secs": restart_secs,
                         "replies_sent": sent, "replies_acked": acked, "replies_unchecked": unchecked, "replies_refused": refused, "replies_received": received, "generators": last});
    Ok(Outcome { measures, details })
}

/// An agent answers every conversation (`r<visitor index>`), over a few pipelined
/// agent sockets. Returns how many were sent, the visitors whose answer was
/// acknowledged, and how many the server refused with an error frame.
async fn answer(addr: std::net::SocketAddr, token: String, conversations: Vec<(u64, String)>) -> anyhow::Result<(u64, Vec<u64>, u64)> {
    let chunk = conversations.len().div_ceil(AGENT_SOCKETS).max(1);
    let mut tasks = vec![];
    for part in conversations.chunks(chunk).map(<[_]>::to_vec) {
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let mut agent = agent_socket(addr, &token).await?;
            ws::send_text(&mut agent, r#"{"type":"hello"}"#.into()).await?;
            ws::expect(&mut agent, "welcome").await?;
            let (mut sent, mut acked, mut refused, mut queue) = (0u64, 0u64, 0u64, part.iter());
            let mut acked_for = vec![];
            loop {
                while (sent - acked - refused) < AGENT_WINDOW as u64 {
                    let Some((index, conv)) = queue.next() else { break };
                    let frame = json!({"type": "send", "client_id": format!("r{index}"), "conversation_id": conv, "body": format!("Answer {index}")});
                    ws::send_text(&mut agent, frame.to_string()).await?;
                    sent += 1;
                }
                if acked + refused == sent {
                    break;
                }
                match tokio::time::timeout(ws::FRAME_TIMEOUT, agent.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) => match frame_type(&t) {
                        "ack" => {
                            acked += 1;
                            if let Some(i) = str_field(&t, "client_id").and_then(|c| c.strip_prefix('r')?.parse::<u64>().ok()) {
                                acked_for.push(i);
                            }
                        }
                        "error" => {
                            refused += 1;
                            if refused == 1 {
                                eprintln!("storm: the server refused an answer: {t}");
                            }
                        }
                        _ => {}
                    },
                    Ok(Some(Ok(_))) => {}
                    _ => anyhow::bail!("agent socket closed or silent with {} answers unacknowledged", sent - acked - refused),
                }
            }
            anyhow::Ok((sent, acked_for, refused))
        }));
    }
    let (mut sent, mut acked, mut refused) = (0, vec![], 0);
    for t in tasks {
        let (s, a, r) = t.await??;
        sent += s;
        acked.extend(a);
        refused += r;
    }
    Ok((sent, acked, refused))
}
