//! The chat harness: drives any [`ChatTarget`] with an open-loop, stepped load and
//! measures acknowledgement and delivery latency in HDR histograms.
//!
//! Open loop: each pair sends on a wall-clock schedule and never waits for replies
//! before sending the next message, so a stalled server cannot slow the offered load
//! down (no coordinated omission). Latency runs from the moment a message is written
//! to the socket; the generator's lag behind its schedule (tokio timers fire up to a
//! millisecond late) is measured separately, so a result limited by the generator can
//! be told apart. Everything runs on one thread (`LocalSet`), lock-free.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hdrhistogram::Histogram;
use serde::Serialize;
use switchboard_bench_peers::{ChatPair, ChatTarget, Observation};
use tokio::time::sleep_until;

use crate::report::{Latency, histogram};

/// One step of offered load.
#[derive(Clone, Debug)]
pub struct Step {
    /// Messages per second offered, over all pairs.
    pub rate: f64,
    pub secs: f64,
    /// The first part of the step, left out of the statistics while queues settle.
    pub warm_secs: f64,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub pairs: usize,
    pub steps: Vec<Step>,
    /// After the last step, outstanding acks and deliveries are awaited until none has
    /// arrived for this long, or until `drain_cap_secs`.
    pub drain_secs: f64,
    pub drain_cap_secs: f64,
    /// A step whose acks are this slow (p99, ms) stops the stepping: the target is
    /// saturated and higher steps would only grow a backlog.
    pub abort_p99_ms: f64,
    /// A pair never has more unacknowledged messages than this; sends beyond it are
    /// shed (counted) rather than piling up in socket buffers.
    pub max_outstanding: usize,
    /// Pairs opened at once during setup.
    pub setup_concurrency: usize,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct StepResult {
    pub offered_per_s: f64,
    pub sent: u64,
    pub shed: u64,
    /// Acks that arrived inside the step's measurement window, per second.
    pub acked_per_s: f64,
    pub delivered_per_s: f64,
    /// Messages sent in the window and acked / delivered by the end of the drain.
    pub acked: u64,
    pub delivered: u64,
    pub ack: Latency,
    pub delivery: Latency,
    /// Actual send time minus scheduled send time.
    pub generator_lag: Latency,
    /// Server CPU (user + system) per acknowledged message, in µs.
    pub server_cpu_us_per_msg: Option<f64>,
    /// The server's CPU use during the window, in cores (1.0 = one core busy).
    pub server_cores: Option<f64>,
    pub ran: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ChatReport {
    pub target: String,
    pub pairs: usize,
    pub setup_secs: f64,
    pub steps: Vec<StepResult>,
    pub errors: u64,
    pub first_errors: Vec<String>,
    /// Sent and never acknowledged / never delivered, after the drain.
    pub unacked: u64,
    pub undelivered: u64,
    /// Acks or deliveries seen twice for one message.
    pub duplicates: u64,
}

const ACKED: u8 = 1;
const DELIVERED: u8 = 2;

struct Sent {
    /// When the message was written to the socket, ns after `t0`.
    at_ns: u64,
    step: u16,
    /// Sent inside the step's measurement window (after its warm-up).
    measured: bool,
    seen: u8,
}

#[derive(Default)]
struct StepStats {
    sent: u64,
    shed: u64,
    acked: u64,
    delivered: u64,
    window_acks: u64,
    window_deliveries: u64,
    ack: Option<Histogram<u64>>,
    delivery: Option<Histogram<u64>>,
    lag: Option<Histogram<u64>>,
}

struct Timed {
    start: Instant,
    window: Instant,
    end: Instant,
}

struct Shared {
    t0: Instant,
    pairs: usize,
    steps: Vec<Step>,
    times: Vec<Timed>,
    max_outstanding: usize,
    sent: RefCell<Vec<Sent>>,
    stats: RefCell<Vec<StepStats>>,
    /// Steps from this index on are not run.
    stop_from: Cell<usize>,
    /// No waiting for outstanding messages after this.
    drain_until: Cell<Instant>,
    drain_idle: Duration,
    /// The last time anything was observed.
    last_progress: Cell<Instant>,
    errors: Cell<u64>,
    first_errors: RefCell<Vec<String>>,
    duplicates: Cell<u64>,
}

impl Shared {
    fn error(&self, e: anyhow::Error) {
        self.errors.set(self.errors.get() + 1);
        let mut first = self.first_errors.borrow_mut();
        if first.len() < 5 {
            first.push(format!("{e:#}"));
        }
    }

    fn window_of(&self, now: Instant) -> Option<usize> {
        self.times.iter().position(|t| now >= t.window && now < t.end)
    }

    /// Records an observation; returns which counter it settles.
    fn observe(&self, obs: Observation) -> u8 {
        let now = Instant::now();
        self.last_progress.set(now);
        let (id, flag) = match obs {
            Observation::Acked { id } => (id, ACKED),
            Observation::Delivered { id } => (id, DELIVERED),
        };
        let mut sent = self.sent.borrow_mut();
        let Some(rec) = sent.get_mut(id as usize) else {
            self.error(anyhow::anyhow!("observed unknown message id {id}"));
            return 0;
        };
        if rec.seen & flag != 0 {
            self.duplicates.set(self.duplicates.get() + 1);
            return 0;
        }
        rec.seen |= flag;
        let latency_us = (now.duration_since(self.t0).as_nanos() as u64).saturating_sub(rec.at_ns) / 1000;
        let mut stats = self.stats.borrow_mut();
        let window = self.window_of(now);
        let s = &mut stats[rec.step as usize];
        if flag == ACKED {
            if rec.measured {
                s.acked += 1;
                s.ack.get_or_insert_with(histogram).saturating_record(latency_us.max(1));
            }
            if let Some(w) = window {
                stats[w].window_acks += 1;
            }
        } else {
            if rec.measured {
                s.delivered += 1;
                s.delivery.get_or_insert_with(histogram).saturating_record(latency_us.max(1));
            }
            if let Some(w) = window {
                stats[w].window_deliveries += 1;
            }
        }
        flag
    }
}

/// Opens `plan.pairs` pairs on `target`, runs the steps, drains, and reports.
/// `server_pid`, when known, lets CPU per message be measured.
pub async fn run(target: &dyn ChatTarget, plan: &Plan, server_pid: Option<u32>) -> anyhow::Result<ChatReport> {
    let setup = Instant::now();
    let opened: Vec<(usize, anyhow::Result<Box<dyn ChatPair>>)> = futures::stream::iter(0..plan.pairs)
        .map(|i| async move { (i, target.pair(i).await) })
        .buffer_unordered(plan.setup_concurrency.max(1))
        .collect()
        .await;
    let mut pairs = Vec::with_capacity(plan.pairs);
    for (i, p) in opened {
        pairs.push((i, p.map_err(|e| e.context(format!("opening pair {i} on {}", target.name())))?));
    }
    let setup_secs = setup.elapsed().as_secs_f64();

    let t0 = Instant::now() + Duration::from_millis(200);
    let mut times = vec![];
    let mut at = t0;
    for s in &plan.steps {
        let end = at + Duration::from_secs_f64(s.secs);
        times.push(Timed { start: at, window: at + Duration::from_secs_f64(s.warm_secs), end });
        at = end;
    }
    let planned: f64 = plan.steps.iter().map(|s| s.rate * s.secs).sum();
    let shared = Rc::new(Shared {
        t0,
        pairs: plan.pairs,
        steps: plan.steps.clone(),
        times,
        max_outstanding: plan.max_outstanding,
        sent: RefCell::new(Vec::with_capacity(planned as usize + 1024)),
        stats: RefCell::new((0..plan.steps.len()).map(|_| StepStats::default()).collect()),
        stop_from: Cell::new(plan.steps.len()),
        drain_until: Cell::new(at + Duration::from_secs_f64(plan.drain_cap_secs)),
        drain_idle: Duration::from_secs_f64(plan.drain_secs),
        last_progress: Cell::new(t0),
        errors: Cell::new(0),
        first_errors: RefCell::new(vec![]),
        duplicates: Cell::new(0),
    });

    let local = tokio::task::LocalSet::new();
    let cpu = local
        .run_until(async {
            let mut handles = vec![];
            for (i, pair) in pairs {
                handles.push(tokio::task::spawn_local(drive(pair, i, shared.clone())));
            }
            let cpu = control(&shared, plan, server_pid).await;
            for h in handles {
                let _ = h.await;
            }
            cpu
        })
        .await;

    let stats = shared.stats.take();
    let sent = shared.sent.take();
    let stop_from = shared.stop_from.get();
    let steps = stats
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let step = &plan.steps[i];
            let window = (step.secs - step.warm_secs).max(1e-3);
            let (cpu_us, cores) = match cpu[i] {
                Some(secs) if s.window_acks > 0 => (Some(secs * 1e6 / s.window_acks as f64), Some(secs / window)),
                Some(secs) => (None, Some(secs / window)),
                None => (None, None),
            };
            let lat = |h: &Option<Histogram<u64>>| h.as_ref().map(Latency::of).unwrap_or_default();
            StepResult {
                offered_per_s: step.rate,
                sent: s.sent,
                shed: s.shed,
                acked_per_s: s.window_acks as f64 / window,
                delivered_per_s: s.window_deliveries as f64 / window,
                acked: s.acked,
                delivered: s.delivered,
                ack: lat(&s.ack),
                delivery: lat(&s.delivery),
                generator_lag: lat(&s.lag),
                server_cpu_us_per_msg: cpu_us,
                server_cores: cores,
                ran: i < stop_from,
            }
        })
        .collect();
    Ok(ChatReport {
        target: target.name().into(),
        pairs: plan.pairs,
        setup_secs,
        steps,
        errors: shared.errors.get(),
        first_errors: shared.first_errors.take(),
        unacked: sent.iter().filter(|s| s.seen & ACKED == 0).count() as u64,
        undelivered: sent.iter().filter(|s| s.seen & DELIVERED == 0).count() as u64,
        duplicates: shared.duplicates.get(),
    })
}

/// Samples server CPU over each step's window and stops the stepping once the target
/// is saturated. Returns CPU seconds per step window.
async fn control(sh: &Shared, plan: &Plan, pid: Option<u32>) -> Vec<Option<f64>> {
    let cpu = |pid: Option<u32>| pid.and_then(|p| crate::machine::cpu_seconds(p).ok());
    let mut out = vec![None; plan.steps.len()];
    for (i, t) in sh.times.iter().enumerate() {
        sleep_until(t.window.into()).await;
        let before = cpu(pid);
        sleep_until(t.end.into()).await;
        let after = cpu(pid);
        out[i] = before.zip(after).map(|(a, b)| b - a);
        let (p99_ms, unacked_share, shed) = {
            let stats = sh.stats.borrow();
            let s = &stats[i];
            let p99 = s.ack.as_ref().map(|h| h.value_at_quantile(0.99) as f64 / 1000.0).unwrap_or(0.0);
            let sent = s.sent.max(1) as f64;
            (p99, 1.0 - s.acked as f64 / sent, s.shed)
        };
        // Late acks are not in the histogram yet; a large unacked share means the same.
        let saturated = p99_ms > plan.abort_p99_ms || shed > 0 || (unacked_share > 0.5 && sh.steps[i].rate > 0.0);
        if saturated && i + 1 < plan.steps.len() {
            sh.stop_from.set(i + 1);
            sh.drain_until.set(t.end + Duration::from_secs_f64(plan.drain_cap_secs));
            break;
        }
    }
    out
}

async fn drive(mut pair: Box<dyn ChatPair>, index: usize, sh: Rc<Shared>) {
    let mut unacked = 0usize;
    let mut undelivered = 0usize;
    let settle = |flag: u8, unacked: &mut usize, undelivered: &mut usize| match flag {
        ACKED => *unacked = unacked.saturating_sub(1),
        DELIVERED => *undelivered = undelivered.saturating_sub(1),
        _ => {}
    };
    'steps: for (s, step) in sh.steps.iter().enumerate() {
        if s >= sh.stop_from.get() || step.rate <= 0.0 {
            break;
        }
        let t = &sh.times[s];
        let interval = Duration::from_secs_f64(sh.pairs as f64 / step.rate);
        // Pairs are spread evenly over the interval, so the total rate is smooth.
        let mut next = t.start + interval.mul_f64(index as f64 / sh.pairs as f64);
        while next < t.end {
            if s >= sh.stop_from.get() {
                break 'steps;
            }
            tokio::select! {
                biased;
                obs = pair.next() => match obs {
                    Ok(o) => settle(sh.observe(o), &mut unacked, &mut undelivered),
                    Err(e) => return sh.error(e.context(format!("pair {index}"))),
                },
                _ = sleep_until(next.into()) => {
                    if unacked >= sh.max_outstanding {
                        sh.stats.borrow_mut()[s].shed += 1;
                    } else {
                        // Latency runs from the moment the message is handed to the socket:
                        // tokio's timers fire up to a millisecond late, which would swamp
                        // sub-millisecond figures. That lag is measured on its own below.
                        let now = Instant::now();
                        let id = {
                            let mut sent = sh.sent.borrow_mut();
                            sent.push(Sent {
                                at_ns: now.duration_since(sh.t0).as_nanos() as u64,
                                step: s as u16,
                                measured: next >= t.window,
                                seen: 0,
                            });
                            (sent.len() - 1) as u64
                        };
                        if let Err(e) = pair.send(id).await {
                            return sh.error(e.context(format!("pair {index}")));
                        }
                        let lag = now.duration_since(next).as_micros() as u64;
                        let mut stats = sh.stats.borrow_mut();
                        stats[s].sent += 1;
                        if next >= t.window {
                            stats[s].lag.get_or_insert_with(histogram).saturating_record(lag.max(1));
                        }
                        unacked += 1;
                        undelivered += 1;
                    }
                    next += interval;
                }
            }
        }
    }
    // Wait for what is outstanding while the target still makes progress.
    while unacked + undelivered > 0 {
        let give_up = (sh.last_progress.get() + sh.drain_idle).min(sh.drain_until.get());
        if Instant::now() >= give_up {
            break;
        }
        tokio::select! {
            obs = pair.next() => match obs {
                Ok(o) => settle(sh.observe(o), &mut unacked, &mut undelivered),
                Err(e) => return sh.error(e.context(format!("pair {index} while draining"))),
            },
            _ = sleep_until(give_up.into()) => {}
        }
    }
}
