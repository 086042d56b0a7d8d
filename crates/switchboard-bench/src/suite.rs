//! The suite: runs the chosen scenarios (each several times), folds the runs into
//! figures, prints the table, and writes `results.json` (with the machine facts and
//! the commit) and `results.md` (the table for docs/benchmarks.md).

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Value, json};

use crate::machine::{Machine, loadavg};
use crate::report::{Figure, Measure, Outcome, aggregate, markdown, table};
use crate::server::Durability;
use crate::{Common, Ctx};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    Footprint,
    Storage,
    Idle,
    Chat,
    Fanout,
    Churn,
    Storm,
    Crash,
    Cluster,
    Routing,
    Flood,
    Live,
}

impl Scenario {
    pub const ALL: [Scenario; 12] = [
        Scenario::Footprint,
        Scenario::Storage,
        Scenario::Routing,
        Scenario::Idle,
        Scenario::Chat,
        Scenario::Fanout,
        Scenario::Churn,
        Scenario::Crash,
        Scenario::Storm,
        Scenario::Cluster,
        Scenario::Flood,
        Scenario::Live,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Footprint => "footprint",
            Scenario::Storage => "storage",
            Scenario::Idle => "idle",
            Scenario::Chat => "chat",
            Scenario::Fanout => "fanout",
            Scenario::Churn => "churn",
            Scenario::Storm => "storm",
            Scenario::Crash => "crash",
            Scenario::Cluster => "cluster",
            Scenario::Routing => "routing",
            Scenario::Flood => "flood",
            Scenario::Live => "live",
        }
    }

    pub fn parse(s: &str) -> anyhow::Result<Self> {
        Self::ALL.into_iter().find(|x| x.name() == s).ok_or_else(|| anyhow::anyhow!("unknown scenario `{s}`"))
    }

    /// Runs in the quick suite: enough for min/median/max where a run is cheap, fewer
    /// where one run is long. The full suite runs everything three times.
    fn quick_runs(self) -> usize {
        match self {
            Scenario::Footprint | Scenario::Storage | Scenario::Fanout | Scenario::Churn => 3,
            Scenario::Chat | Scenario::Idle | Scenario::Crash => 2,
            Scenario::Storm | Scenario::Cluster | Scenario::Routing | Scenario::Flood | Scenario::Live => 1,
        }
    }
}

#[derive(Serialize)]
struct ScenarioResult {
    name: &'static str,
    runs: usize,
    secs: f64,
    figures: Vec<Figure>,
    details: Vec<Value>,
}

async fn once(ctx: &Ctx, s: Scenario, run: usize) -> anyhow::Result<Outcome> {
    match s {
        Scenario::Footprint => crate::footprint::run(ctx, run).await,
        Scenario::Storage => crate::storage::run(ctx, run).await,
        Scenario::Idle => crate::idle::run(ctx, &crate::idle::IdleOpts::new(ctx.quick), run).await,
        Scenario::Fanout => crate::fanout::run(ctx, run).await,
        Scenario::Churn => crate::churn::run(ctx, run).await,
        Scenario::Storm => crate::storm::run(ctx, run).await,
        Scenario::Crash => crate::crash::run(ctx, run).await,
        Scenario::Cluster => crate::cluster::run(ctx, run).await,
        Scenario::Routing => crate::routing::run(ctx, run).await,
        Scenario::Flood => crate::flood::run(ctx, run).await,
        Scenario::Live => crate::live::run(ctx, &crate::live::LiveOpts::from_env(), run).await,
        Scenario::Chat => unreachable!("the chat scenario has its own loop"),
    }
}

fn failed(s: &str, e: anyhow::Error) -> Vec<Measure> {
    eprintln!("{s}: run failed: {e:#}");
    vec![Measure::not_run(&format!("{s}.run"), &format!("{s}: a run failed"), "", format!("{e:#}"))]
}

pub async fn run(ctx: &Ctx, common: &Common, scenarios: &[Scenario]) -> anyhow::Result<()> {
    let machine = Machine::probe(&ctx.repo);
    eprintln!("machine: {}", machine.one_line());
    let started = Instant::now();
    let mut results = vec![];
    for &s in scenarios {
        let runs = common.runs.unwrap_or(if ctx.quick { s.quick_runs() } else { 3 });
        let t = Instant::now();
        eprintln!("== {} ({runs} runs) ==", s.name());
        let (figures, details) = if s == Scenario::Chat {
            chat(ctx, runs).await
        } else {
            let mut measures = vec![];
            let mut details = vec![];
            for r in 0..runs {
                match once(ctx, s, r).await {
                    Ok(o) => {
                        measures.push(o.measures);
                        details.push(o.details);
                    }
                    Err(e) => measures.push(failed(s.name(), e)),
                }
            }
            (aggregate(s.name(), &measures), details)
        };
        eprint!("{}", table(&figures));
        eprintln!("== {} took {:.0} s ==\n", s.name(), t.elapsed().as_secs_f64());
        results.push(ScenarioResult { name: s.name(), runs, secs: t.elapsed().as_secs_f64(), figures, details });
    }
    let all: Vec<Figure> = results.iter().flat_map(|r| r.figures.clone()).collect();
    println!("\nSwitchboard benchmarks — {}", machine.one_line());
    println!("(median of the runs judged against the goal; ~noisy = runs more than 25% apart)\n");
    print!("{}", table(&all));
    let out = common.out.clone().unwrap_or_else(|| {
        let name = if scenarios.len() == 1 { format!("{}.json", scenarios[0].name()) } else { "results.json".into() };
        ctx.repo.join("target/bench").join(name)
    });
    write(&out, &machine, ctx, started, &results, &all)?;
    println!("\nwrote {} and {}", out.display(), out.with_extension("md").display());
    let _ = std::fs::remove_dir_all(ctx.root.join("fixture"));
    Ok(())
}

fn write(out: &PathBuf, machine: &Machine, ctx: &Ctx, started: Instant, results: &[ScenarioResult], all: &[Figure]) -> anyhow::Result<()> {
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let doc = json!({
        "machine": machine,
        "loadavg_at_end": loadavg(),
        "quick": ctx.quick,
        "pinned": ctx.server_cpus.is_some(),
        "wall_secs": started.elapsed().as_secs_f64(),
        "figures": all,
        "scenarios": results,
    });
    std::fs::write(out, serde_json::to_string_pretty(&doc)?)?;
    let md = format!("Machine: {}.\n\n{}", machine.one_line(), markdown(all));
    std::fs::write(out.with_extension("md"), md)?;
    Ok(())
}

/// Switchboard in both durability modes, then each peer, then the ratios.
/// `SWITCHBOARD_BENCH_CHAT_ONLY=full` (or `normal`, or a peer's name) runs that target alone.
async fn chat(ctx: &Ctx, runs: usize) -> (Vec<Figure>, Vec<Value>) {
    let mut figures = vec![];
    let mut details = vec![];
    let mut medians = vec![];
    let only = std::env::var("SWITCHBOARD_BENCH_CHAT_ONLY").ok();
    // The production default gets every run; `normal` (no fsync) one run in the quick suite.
    let modes = [(Durability::Full, runs), (Durability::Normal, if ctx.quick { 1 } else { runs })];
    for (durability, n) in modes.into_iter().filter(|(d, _)| only.as_deref().is_none_or(|o| o == d.as_str())) {
        let mut measures = vec![];
        for r in 0..n {
            match crate::throughput::switchboard(ctx, durability, r).await {
                Ok(o) => {
                    measures.push(o.measures);
                    details.push(json!({"target": format!("switchboard {}", durability.mode()), "run": r, "report": o.details}));
                }
                Err(e) => measures.push(failed("chat", e)),
            }
        }
        let f = aggregate("chat", &measures);
        if durability == Durability::Full {
            medians = f.clone();
        }
        figures.extend(f);
    }
    let peer_runs = if ctx.quick { 1 } else { runs };
    for &name in crate::peerwiring::PEERS.iter().filter(|&&name| only.as_deref().is_none_or(|o| o == name)) {
        let mut measures = vec![];
        for r in 0..peer_runs {
            match crate::peerwiring::run(ctx, name).await {
                Ok(o) => {
                    measures.push(o.measures);
                    details.push(json!({"target": name, "run": r, "report": o.details}));
                }
                Err(reason) => {
                    eprintln!("chat: {name}: {reason:#}");
                    measures.push(vec![Measure::not_run(
                        &format!("chat.{name}.sustained"),
                        &format!("{name}: stored msgs/s with ack p99 ≤ 50 ms"),
                        "msg/s",
                        format!("{reason:#}"),
                    )]);
                    break;
                }
            }
        }
        let f = aggregate("chat", &measures);
        figures.extend(ratios(name, &medians, &f));
        figures.extend(f);
    }
    (figures, details)
}

/// Switchboard (durability=full) against a peer, from the medians.
fn ratios(peer: &str, ours: &[Figure], theirs: &[Figure]) -> Vec<Figure> {
    let median = |fs: &[Figure], suffix: &str| fs.iter().find(|f| f.id.ends_with(suffix)).and_then(|f| f.median);
    let mut measures = vec![];
    let pairs = [
        ("sustained", "stored msgs/s at ack p99 ≤ 50 ms, Switchboard ÷", true),
        ("peak", "peak acked msgs/s, Switchboard ÷", true),
        ("delivery_p99_2k", "delivery p99 at 2,000 msg/s, peer ÷ Switchboard:", false),
        ("ack_p99_2k", "ack p99 at 2,000 msg/s, peer ÷ Switchboard:", false),
    ];
    for (suffix, name, ours_over_theirs) in pairs {
        let id = format!("chat.ratio.{peer}.{suffix}");
        let name = format!("{name} {peer}");
        let m = match (median(ours, suffix), median(theirs, suffix)) {
            (Some(a), Some(b)) if a > 0.0 && b > 0.0 => {
                let r = if ours_over_theirs { a / b } else { b / a };
                Measure::new(&id, &name, "×", r).note("ratio of medians; > 1 means Switchboard does better")
            }
            _ => Measure::not_run(&id, &name, "×", format!("{peer} has no figure to compare")),
        };
        measures.push(vec![m]);
    }
    measures.into_iter().flat_map(|m| aggregate("chat", &[m])).collect()
}
