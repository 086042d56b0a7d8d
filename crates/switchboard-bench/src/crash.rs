//! Crash: `kill -9` of the server under an open-loop message load, then a restart;
//! every message the server acknowledged before dying must be in the store. Run in
//! both durability modes: a process crash must lose nothing in either (`normal` only
//! gives up on power loss, which this cannot simulate).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::Ctx;
use crate::http::get_with_token;
use crate::report::{Measure, Outcome, at_most};
use crate::server::{Durability, Server, ServerOpts, free_port};
use crate::ws::{self, frame_type, str_field};

const VISITORS: usize = 100;
const RATE: f64 = 5_000.0;
const KILL_AFTER: Duration = Duration::from_secs(3);

pub async fn run(ctx: &Ctx, run: usize) -> anyhow::Result<Outcome> {
    let mut measures = vec![];
    let mut details = vec![];
    for durability in [Durability::Full, Durability::Normal] {
        let r = once(ctx, durability, run).await?;
        eprintln!(
            "crash ({}): {} sent, {} acknowledged before kill -9; after restart {} missing, {} stored twice",
            durability.mode(),
            r.sent,
            r.acked,
            r.missing,
            r.duplicates
        );
        let mode = durability.mode();
        measures.push(
            Measure::new(
                &format!("crash.missing.{}", durability.as_str()),
                "kill -9 under load: acknowledged messages missing after restart",
                "msgs",
                r.missing as f64,
            )
            .goal(at_most(0.0))
            .mode(&mode)
            .note(format!("{} acknowledged before the kill", r.acked)),
        );
        measures.push(
            Measure::new(
                &format!("crash.duplicates.{}", durability.as_str()),
                "kill -9 under load: messages stored twice",
                "msgs",
                r.duplicates as f64,
            )
            .goal(at_most(0.0))
            .mode(&mode),
        );
        details.push(json!({"mode": mode, "sent": r.sent, "acked": r.acked, "missing": r.missing, "duplicates": r.duplicates}));
    }
    Ok(Outcome { measures, details: json!(details) })
}

struct Crash {
    sent: u64,
    acked: usize,
    missing: usize,
    duplicates: usize,
}

async fn once(ctx: &Ctx, durability: Durability, run: usize) -> anyhow::Result<Crash> {
    let dir = ctx.scratch(&format!("crash-{}-{run}", durability.as_str()));
    ctx.fixture.instance(&dir)?;
    let opts = ServerOpts { listen: format!("127.0.0.1:{}", free_port()?), ..ctx.server_opts(durability) };
    let server = Server::start(&ctx.server_bin, &dir, &opts).await?;
    let workspace = &ctx.fixture.workspaces[1 % ctx.fixture.workspaces.len()];
    let mut visitors = vec![];
    for v in 0..VISITORS {
        visitors.push(ws::visitor_in_conversation(server.addr, &workspace.site_key, &format!("k{v}"), "first").await?);
    }
    let t0 = Instant::now() + Duration::from_millis(100);
    let mut tasks = vec![];
    for (v, (mut socket, conversation)) in visitors.into_iter().enumerate() {
        let conv = conversation.clone();
        tasks.push(tokio::spawn(async move {
            let interval = Duration::from_secs_f64(VISITORS as f64 / RATE);
            let mut next = t0 + interval.mul_f64(v as f64 / VISITORS as f64);
            let (mut sent, mut acked) = (0u64, vec![]);
            // Open loop until the socket dies: the kill comes from outside.
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(next.into()) => {
                        let frame = format!(r#"{{"type":"send","client_id":"k{v}.{sent}","conversation_id":"{conv}","body":"crash test {sent}"}}"#);
                        if socket.send(Message::text(frame)).await.is_err() {
                            break;
                        }
                        sent += 1;
                        next += interval;
                    }
                    frame = socket.next() => match frame {
                        Some(Ok(Message::Text(t))) if frame_type(&t) == "ack" => {
                            if let Some(id) = str_field(&t, "client_id") {
                                acked.push(id.to_owned());
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => break,
                    },
                }
            }
            (conversation, sent, acked)
        }));
    }
    tokio::time::sleep_until((t0 + KILL_AFTER).into()).await;
    server.kill9().await?;
    let mut sent = 0;
    let mut acked: Vec<(String, Vec<String>)> = vec![];
    for t in tasks {
        let (conv, s, a) = t.await?;
        sent += s;
        acked.push((conv, a));
    }
    let server = Server::start(&ctx.server_bin, &dir, &opts).await?;
    let (mut missing, mut duplicates, mut total) = (0, 0, 0);
    for (conv, ids) in &acked {
        let stored = stored_client_ids(server.addr, &workspace.token, conv).await?;
        let unique: HashSet<&String> = stored.iter().collect();
        duplicates += stored.len() - unique.len();
        missing += ids.iter().filter(|id| !unique.contains(id)).count();
        total += ids.len();
    }
    server.kill9().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Crash { sent, acked: total, missing, duplicates })
}

/// Every message `client_id` stored in a conversation, read back through the REST API.
async fn stored_client_ids(addr: std::net::SocketAddr, token: &str, conversation: &str) -> anyhow::Result<Vec<String>> {
    let mut ids = vec![];
    let mut after = 0;
    loop {
        let page =
            get_with_token(addr, &format!("/api/v1/conversations/{conversation}/messages?after_seq={after}&limit=200"), token).await?;
        let items = page["items"].as_array().context("no items")?;
        for e in items {
            after = e["seq"].as_i64().unwrap_or(after);
            if let Some(id) = e["message"]["client_id"].as_str() {
                ids.push(id.to_owned());
            }
        }
        if page["next_cursor"].is_null() || items.is_empty() {
            return Ok(ids);
        }
    }
}
