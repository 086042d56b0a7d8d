//! The `visitors` generator: holds thousands of visitor sockets (optionally each in a
//! conversation of its own), keeps them alive by reading (tungstenite answers the
//! server's pings), and — for the reconnect storm — reconnects them the way
//! docs/protocol.md tells clients to: wait `retry_after_ms` plus jitter, back off
//! exponentially on failure, resume with the token and the conversation cursor. It
//! checks what arrives: each agent reply exactly once, no event at or below the cursor.

use std::cell::{Cell, RefCell};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use crate::frames;
use crate::machine::unix_nanos;
use crate::procs::{Commands, Generator, Rng, emit};
use crate::report::{Latency, histogram};
use crate::ws::{self, Ws, frame_type, int_field, str_field};

struct Cfg {
    addr: SocketAddr,
    site_key: String,
    sources: Vec<IpAddr>,
    /// Global index of this generator's first visitor; reply ids use global indexes.
    first_index: u64,
    concurrency: usize,
    reconnect: bool,
}

#[derive(Default)]
struct Visitor {
    index: u64,
    token: String,
    conversation: Option<String>,
    cursor: i64,
    up: bool,
    drops: u32,
    /// Wall-clock ns of the last resume (welcome, then `caught_up` if in a conversation).
    back_ns: u64,
    replies: u32,
    stale_events: u32,
    wrong_replies: u32,
}

type Shared = Rc<RefCell<Visitor>>;

#[derive(Default)]
struct Totals {
    failed: Cell<u64>,
    first_errors: RefCell<Vec<String>>,
    reconnect_failures: Cell<u64>,
}

impl Totals {
    fn error(&self, e: &anyhow::Error) {
        self.failed.set(self.failed.get() + 1);
        let mut first = self.first_errors.borrow_mut();
        if first.len() < 5 {
            first.push(format!("{e:#}"));
        }
    }
}

/// The `visitors` generator: holds visitor sockets (idle and storm scenarios).
pub const GENERATOR: Generator = Generator { kind: "visitors", run: |config, commands| Box::pin(generator(config, commands)) };

async fn generator(config: Value, mut commands: Commands) -> anyhow::Result<()> {
    let cfg = Rc::new(Cfg {
        addr: config["addr"].as_str().context("addr")?.parse()?,
        site_key: config["site_key"].as_str().context("site_key")?.to_owned(),
        sources: config["sources"].as_array().context("sources")?.iter().filter_map(|s| s.as_str()?.parse().ok()).collect(),
        first_index: config["first_index"].as_u64().unwrap_or(0),
        concurrency: config["concurrency"].as_u64().unwrap_or(64) as usize,
        reconnect: config["reconnect"].as_bool().unwrap_or(false),
    });
    let totals = Rc::new(Totals::default());
    let mut visitors: Vec<Shared> = vec![];
    while let Some(cmd) = commands.next().await {
        let answer = match cmd["cmd"].as_str().unwrap_or("") {
            "grow" => {
                let to = cmd["to"].as_u64().unwrap_or(0) as usize;
                grow(&cfg, &totals, &mut visitors, to, cmd["converse"].as_bool().unwrap_or(false)).await
            }
            "conversations" => {
                let list: Vec<Value> = visitors
                    .iter()
                    .filter_map(|v| {
                        let v = v.borrow();
                        v.conversation.as_ref().map(|c| json!([v.index, c]))
                    })
                    .collect();
                json!({ "conversations": list })
            }
            "status" => status(&visitors, &totals, cmd["since_ns"].as_u64().unwrap_or(0)),
            "final" => {
                // Who resumed since `since_ns`, and who got their answer: the parent
                // checks these against the answers the server acknowledged.
                let since = cmd["since_ns"].as_u64().unwrap_or(0);
                let (mut resumed, mut answered) = (vec![], vec![]);
                for v in &visitors {
                    let v = v.borrow();
                    if v.up && v.drops > 0 && v.back_ns >= since {
                        resumed.push(v.index);
                    }
                    if v.replies > 0 {
                        answered.push(v.index);
                    }
                }
                json!({ "resumed": resumed, "answered": answered })
            }
            other => json!({ "error": format!("unknown command {other}") }),
        };
        emit(&answer);
    }
    Ok(())
}

async fn grow(cfg: &Rc<Cfg>, totals: &Rc<Totals>, visitors: &mut Vec<Shared>, to: usize, converse: bool) -> Value {
    let started = Instant::now();
    let failed_before = totals.failed.get();
    let permits = Rc::new(Semaphore::new(cfg.concurrency.max(1)));
    let latency = Rc::new(RefCell::new(histogram()));
    let mut tasks = vec![];
    for n in visitors.len()..to {
        let state: Shared = Rc::new(RefCell::new(Visitor { index: cfg.first_index + n as u64, ..Default::default() }));
        visitors.push(state.clone());
        let (cfg, totals, permits, latency) = (cfg.clone(), totals.clone(), permits.clone(), latency.clone());
        tasks.push(tokio::task::spawn_local(async move {
            let _permit = permits.acquire().await.expect("semaphore open");
            let t = Instant::now();
            match open(&cfg, &state, converse).await {
                Ok(ws) => {
                    latency.borrow_mut().saturating_record(t.elapsed().as_micros() as u64);
                    tokio::task::spawn_local(hold(ws, state, cfg, totals));
                }
                Err(e) => totals.error(&e),
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let up = visitors.iter().filter(|v| v.borrow().up).count();
    json!({
        "held": up,
        "failed": totals.failed.get() - failed_before,
        "secs": started.elapsed().as_secs_f64(),
        "open": Latency::of(&latency.borrow()),
        "first_errors": totals.first_errors.borrow().clone(),
    })
}

fn status(visitors: &[Shared], totals: &Totals, since_ns: u64) -> Value {
    let mut back: Histogram<u64> = histogram();
    let (mut up, mut resumed, mut dropped, mut replies, mut dup, mut wrong, mut stale, mut last_back) = (0, 0, 0, 0, 0, 0, 0, 0u64);
    for v in visitors {
        let v = v.borrow();
        up += v.up as u64;
        dropped += (v.drops > 0) as u64;
        if v.up && v.drops > 0 && v.back_ns >= since_ns {
            resumed += 1;
            let ms = (v.back_ns - since_ns) / 1_000_000;
            back.saturating_record(ms.max(1) * 1000);
            last_back = last_back.max(v.back_ns);
        }
        replies += (v.replies > 0) as u64;
        dup += v.replies.saturating_sub(1) as u64;
        wrong += v.wrong_replies as u64;
        stale += v.stale_events as u64;
    }
    json!({
        "total": visitors.len(), "up": up, "dropped": dropped, "resumed": resumed,
        "back": Latency::of(&back),
        "last_back_ms": if last_back > 0 { (last_back - since_ns) as f64 / 1e6 } else { 0.0 },
        "replies": replies, "duplicate_replies": dup, "wrong_replies": wrong, "stale_events": stale,
        "reconnect_failures": totals.reconnect_failures.get(),
    })
}

/// Connects a visitor: `hello` (with the token and cursor when it has them) until
/// `welcome`, then — in a conversation — replays until `caught_up`.
async fn open(cfg: &Cfg, state: &Shared, converse: bool) -> anyhow::Result<Ws> {
    let (index, token, conversation, cursor) = {
        let v = state.borrow();
        (v.index, v.token.clone(), v.conversation.clone(), v.cursor)
    };
    let src = cfg.sources.get(index as usize % cfg.sources.len().max(1)).copied();
    let mut ws = ws::connect(cfg.addr, src, &format!("/ws/visitor?site={}", cfg.site_key)).await?;
    let hello = match (&conversation, token.is_empty()) {
        (_, true) => frames::VISITOR_HELLO.clone(),
        (c, false) => frames::visitor_hello(&token, c.as_deref().map(|c| (c, cursor)))?,
    };
    ws::send_text(&mut ws, hello).await?;
    let welcome = ws::expect(&mut ws, "welcome").await?;
    let fresh = str_field(&welcome, "token").context("welcome without token")?.to_owned();
    state.borrow_mut().token = fresh;
    if conversation.is_none() && converse {
        let send = frames::visitor_send(format!("c{index}"), None, "Hello, I need help with my order".to_owned())?;
        ws::send_text(&mut ws, send).await?;
        let ack = ws::expect(&mut ws, "ack").await?;
        state.borrow_mut().conversation = Some(str_field(&ack, "conversation_id").context("ack without conversation")?.to_owned());
    }
    if state.borrow().conversation.is_some() {
        let caught_up = tokio::time::timeout(ws::FRAME_TIMEOUT, async {
            loop {
                let Some(text) = ws::next_text(&mut ws).await? else { anyhow::bail!("closed before caught_up") };
                if on_frame(&text, state) == Flow::CaughtUp {
                    return Ok(());
                }
            }
        });
        caught_up.await.context("no caught_up")??;
    }
    let mut v = state.borrow_mut();
    v.up = true;
    v.back_ns = unix_nanos();
    Ok(ws)
}

#[derive(PartialEq)]
enum Flow {
    Continue,
    CaughtUp,
    Reconnect(u64),
}

fn on_frame(text: &str, state: &Shared) -> Flow {
    let mut v = state.borrow_mut();
    match frame_type(text) {
        "event" => {
            // The event's own `seq` comes before the message's, so the first one is it.
            let seq = int_field(text, "seq").unwrap_or(0);
            if seq <= v.cursor {
                v.stale_events += 1;
            } else {
                v.cursor = seq;
            }
            if let Some(reply) = str_field(text, "client_id").and_then(|c| c.strip_prefix('r')) {
                if reply.parse::<u64>().ok() == Some(v.index) {
                    v.replies += 1;
                } else {
                    v.wrong_replies += 1;
                }
            }
            Flow::Continue
        }
        "caught_up" => {
            v.cursor = v.cursor.max(int_field(text, "seq").unwrap_or(0));
            Flow::CaughtUp
        }
        "reconnect" => Flow::Reconnect(int_field(text, "retry_after_ms").unwrap_or(1000).max(0) as u64),
        _ => Flow::Continue,
    }
}

/// Keeps a visitor's socket read; on loss, reconnects per the protocol if configured.
async fn hold(mut ws: Ws, state: Shared, cfg: Rc<Cfg>, totals: Rc<Totals>) {
    let mut rng = Rng::new(state.borrow().index + 1);
    loop {
        let mut retry_after = None;
        while let Some(frame) = ws.next().await {
            match frame {
                Ok(Message::Text(t)) => {
                    if let Flow::Reconnect(ms) = on_frame(&t, &state) {
                        retry_after = Some(ms);
                    }
                }
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        {
            let mut v = state.borrow_mut();
            v.up = false;
            v.drops += 1;
        }
        if !cfg.reconnect {
            return;
        }
        // After a `reconnect` hint: its delay plus up to a second of jitter. Otherwise
        // exponential backoff from 0.5 s, with jitter, up to 8 s.
        let mut delay = retry_after.unwrap_or(500);
        let mut backoff = 500;
        ws = loop {
            tokio::time::sleep(Duration::from_millis(delay + rng.below(1000))).await;
            match open(&cfg, &state, false).await {
                Ok(ws) => break ws,
                Err(_) => {
                    totals.reconnect_failures.set(totals.reconnect_failures.get() + 1);
                    delay = backoff;
                    backoff = (backoff * 2).min(8000);
                }
            }
        };
    }
}
