//! The chat scenario: visitor–agent pairs in conversations, every message stored and
//! acknowledged, offered load stepped up; run against Switchboard in both durability
//! modes and against the real peers, and turned into figures with goals and ratios.

use serde_json::json;
use switchboard_bench_peers::ChatTarget;

use crate::Ctx;
use crate::chat::{self, ChatReport, Plan, Step};
use crate::report::{Measure, Outcome, at_least, at_most};
use crate::server::{Durability, Server};
use crate::switchboard::SwitchboardTarget;

/// Conversations per workspace (and so per agent socket) in the Switchboard target.
pub const PER_WORKSPACE: usize = 20;
/// The step that measures latency at the goal's load.
pub const LATENCY_RATE: f64 = 2_000.0;
pub const ACK_P99_GOAL_MS: f64 = 50.0;

/// `SWITCHBOARD_BENCH_CHAT_RATES=2000,10000` replaces the steps by these rates (for
/// profiling one load; the figures then lack the steps left out).
pub fn plan(quick: bool) -> Plan {
    let step = |rate: f64, secs: f64, warm: f64| Step { rate, secs, warm_secs: warm };
    let (secs, warm) = if quick { (4.0, 1.0) } else { (10.0, 3.0) };
    let latency_secs = if quick { 6.0 } else { 20.0 };
    let steps = match std::env::var("SWITCHBOARD_BENCH_CHAT_RATES") {
        Ok(rates) => rates
            .split(',')
            .filter_map(|r| r.trim().parse::<f64>().ok())
            .map(|rate| if rate == LATENCY_RATE { step(rate, latency_secs, 2.0) } else { step(rate, secs, warm) })
            .collect(),
        Err(_) => {
            // Low steps first, so a target that saturates early still gets a figure; the
            // goal's latency step is longer; then up until the target saturates.
            let mut steps = vec![step(250.0, 3.0, 1.0), step(1_000.0, 3.0, 1.0), step(LATENCY_RATE, latency_secs, 2.0)];
            for rate in [5_000.0, 7_500.0, 10_000.0, 15_000.0, 20_000.0, 30_000.0, 40_000.0, 60_000.0] {
                steps.push(step(rate, secs, warm));
            }
            steps
        }
    };
    Plan {
        pairs: 1_000,
        steps,
        drain_secs: 5.0,
        drain_cap_secs: 30.0,
        abort_p99_ms: 4.0 * ACK_P99_GOAL_MS,
        max_outstanding: 256,
        setup_concurrency: 32,
    }
}

/// Workspaces the fixture needs for `plan`.
pub fn workspaces_needed(quick: bool) -> usize {
    plan(quick).pairs.div_ceil(PER_WORKSPACE)
}

/// One run against Switchboard in `durability` mode.
pub async fn switchboard(ctx: &Ctx, durability: Durability, run: usize) -> anyhow::Result<Outcome> {
    let dir = ctx.scratch(&format!("chat-{}-{run}", durability.as_str()));
    ctx.fixture.instance(&dir)?;
    let server = Server::start(&ctx.server_bin, &dir, &ctx.server_opts(durability)).await?;
    let target = SwitchboardTarget::new(server.addr, ctx.fixture.workspaces.clone(), PER_WORKSPACE, durability);
    let plan = plan(ctx.quick);
    let report = chat::run(&target, &plan, Some(server.pid)).await;
    drop(target);
    server.kill9().await?;
    let _ = std::fs::remove_dir_all(&dir);
    let report = report?;
    print_steps(&report);
    let measures = figures(&report, "switchboard", &durability.mode(), true);
    Ok(Outcome { measures, details: json!(report) })
}

/// Runs the plan against a peer target (already running).
pub async fn peer(ctx: &Ctx, name: &str, target: &dyn ChatTarget, pid: Option<u32>) -> anyhow::Result<(ChatReport, Outcome)> {
    let report = chat::run(target, &plan(ctx.quick), pid).await?;
    print_steps(&report);
    let s = target.semantics();
    let mode = format!("{name} defaults");
    let mut measures = figures(&report, name, &mode, false);
    // What the peer's ack means goes once, beside its headline figure.
    if let Some(m) = measures.first_mut() {
        m.note = format!("ack means: {}", s.ack_means);
    }
    Ok((
        report.clone(),
        Outcome {
            measures,
            details: json!({"report": report, "ack_means": s.ack_means, "durable_ack": s.durable_ack, "ordered": s.ordered, "resumable": s.resumable}),
        },
    ))
}

fn print_steps(r: &ChatReport) {
    eprintln!("chat: {} — {} pairs opened in {:.1} s", r.target, r.pairs, r.setup_secs);
    for s in r.steps.iter().filter(|s| s.ran) {
        eprintln!(
            "  offered {:>6.0}/s: acked {:>7.0}/s delivered {:>7.0}/s | ack p50 {:>7.2} p99 {:>8.2} ms | delivery p50 {:>7.2} p99 {:>8.2} ms | gen lag p99 {:>6.2} ms | shed {} | server {:.2} cores, {} µs/msg",
            s.offered_per_s,
            s.acked_per_s,
            s.delivered_per_s,
            s.ack.p50_ms,
            s.ack.p99_ms,
            s.delivery.p50_ms,
            s.delivery.p99_ms,
            s.generator_lag.p99_ms,
            s.shed,
            s.server_cores.unwrap_or(f64::NAN),
            s.server_cpu_us_per_msg.map(|v| format!("{v:.1}")).unwrap_or_else(|| "?".into()),
        );
    }
    if r.errors > 0 {
        eprintln!("  {} errors, e.g. {:?}", r.errors, r.first_errors.first());
    }
}

/// The highest step that was acknowledged with p99 within the goal, nothing shed.
pub fn sustained(r: &ChatReport) -> Option<&chat::StepResult> {
    r.steps
        .iter()
        .filter(|s| s.ran && s.ack.count > 0 && s.shed == 0 && s.ack.p99_ms <= ACK_P99_GOAL_MS)
        .max_by(|a, b| a.acked_per_s.total_cmp(&b.acked_per_s))
}

fn figures(r: &ChatReport, who: &str, mode: &str, goals: bool) -> Vec<Measure> {
    let g = |goal| if goals { goal } else { None };
    let id = |k: &str| format!("chat.{who}.{k}");
    let mut out = vec![];
    let best = sustained(r);
    out.push(
        Measure::new(
            &id("sustained"),
            &format!("{who}: stored msgs/s with ack p99 ≤ 50 ms"),
            "msg/s",
            best.map(|s| s.acked_per_s).unwrap_or(0.0),
        )
        .goal(g(at_least(20_000.0)))
        .mode(mode),
    );
    if let Some(s) = best {
        out.push(Measure::new(&id("sustained_ack_p99"), &format!("{who}: ack p99 at that load"), "ms", s.ack.p99_ms).mode(mode));
        if let Some(cpu) = s.server_cpu_us_per_msg {
            out.push(
                Measure::new(&id("cpu_at_sustained"), &format!("{who}: server CPU per routed message at that load"), "µs", cpu).mode(mode),
            );
        }
    }
    let peak = r.steps.iter().filter(|s| s.ran).map(|s| s.acked_per_s).fold(0.0, f64::max);
    out.push(Measure::new(&id("peak"), &format!("{who}: peak acked msgs/s (any latency)"), "msg/s", peak).mode(mode));
    match r.steps.iter().find(|s| s.offered_per_s == LATENCY_RATE && s.ran && s.ack.count > 0) {
        Some(s) => {
            out.push(
                Measure::new(&id("delivery_p99_2k"), &format!("{who}: visitor→agent delivery p99 at 2,000 msg/s"), "ms", s.delivery.p99_ms)
                    .goal(g(at_most(1.0)))
                    .mode(mode),
            );
            out.push(
                Measure::new(&id("delivery_p50_2k"), &format!("{who}: visitor→agent delivery p50 at 2,000 msg/s"), "ms", s.delivery.p50_ms)
                    .mode(mode),
            );
            out.push(
                Measure::new(&id("ack_p99_2k"), &format!("{who}: ack p99 at 2,000 msg/s"), "ms", s.ack.p99_ms)
                    .goal(g(at_most(10.0)))
                    .mode(mode),
            );
            out.push(Measure::new(&id("ack_p50_2k"), &format!("{who}: ack p50 at 2,000 msg/s"), "ms", s.ack.p50_ms).mode(mode));
            if let Some(cpu) = s.server_cpu_us_per_msg {
                out.push(
                    Measure::new(&id("cpu_2k"), &format!("{who}: server CPU per routed message at 2,000 msg/s"), "µs", cpu)
                        .goal(g(at_most(15.0)))
                        .mode(mode),
                );
            }
            // Latency runs from the actual send, but a generator far behind its schedule
            // offered less load than planned: say so.
            if s.generator_lag.p99_ms > 5.0
                && let Some(m) = out.iter_mut().find(|m| m.id.ends_with("delivery_p99_2k"))
            {
                m.note = format!("the generator ran up to {:.1} ms (p99) behind its schedule", s.generator_lag.p99_ms);
            }
        }
        None => out.push(Measure::not_run(
            &id("delivery_p99_2k"),
            &format!("{who}: visitor→agent delivery p99 at 2,000 msg/s"),
            "ms",
            "no acks",
        )),
    }
    let lost = (r.unacked + r.undelivered) as f64;
    let mut m =
        Measure::new(&id("lost"), &format!("{who}: messages never acked or delivered (5 s without progress ends the wait)"), "msgs", lost)
            .mode(mode);
    if goals {
        m = m.goal(at_most(0.0));
    }
    if r.errors > 0 || r.duplicates > 0 {
        m = m.note(format!("{} errors, {} duplicates; first: {:?}", r.errors, r.duplicates, r.first_errors.first()));
    }
    out.push(m);
    out
}
