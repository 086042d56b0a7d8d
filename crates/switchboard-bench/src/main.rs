//! `switchboard-bench`: load generator and benchmark runner. The server runs as its own
//! process; the load comes from this process or from generator processes it starts;
//! every figure is printed beside its goal and written to a JSON results file.

mod chat;
mod churn;
mod cluster;
mod crash;
mod fanout;
mod flood;
mod footprint;
mod frames;
mod http;
mod idle;
mod live;
mod machine;
mod peerwiring;
mod procs;
mod report;
mod routing;
mod server;
mod storage;
mod storm;
mod suite;
mod switchboard;
mod throughput;
mod visitors;
mod ws;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use server::{Durability, Fixture, ServerOpts};

/// The generator processes (`switchboard-bench gen <kind>`), registered here by the
/// scenarios that start them, so that `procs` depends on none of them.
const GENERATORS: &[procs::Generator] = &[visitors::GENERATOR, churn::GENERATOR, fanout::GENERATOR, flood::GENERATOR, live::GENERATOR];

#[derive(Parser)]
#[command(name = "switchboard-bench", about = "Load generator and benchmarks for Switchboard")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
pub struct Common {
    /// Shorter steps and fewer runs: the whole suite within 10 minutes on 2 cores.
    #[arg(long)]
    pub quick: bool,
    /// Runs per scenario (default: 3, or the quick suite's per-scenario choice).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Where to write the JSON results.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Pin the server to CPU 0 and the generators to CPU 1 (default: share all cores).
    #[arg(long)]
    pub pinned: bool,
    /// The `switchboard` binary (default: next to this one).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Conversations waiting when the routing figure's agents come online (default 10,000).
    #[arg(long, default_value_t = crate::routing::WAITING)]
    pub routing_waiting: usize,
    /// Agents of the routing figure's team (default 200).
    #[arg(long, default_value_t = crate::routing::AGENTS)]
    pub routing_agents: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Every scenario, Switchboard and the peers side by side.
    Suite {
        #[command(flatten)]
        common: Common,
        /// Only these scenarios (comma-separated: footprint,storage,routing,idle,chat,fanout,churn,storm,crash,flood,live).

        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Memory per idle visitor socket (RSS slope over connection counts).
    Idle(Common),
    /// Chat throughput and latency (Switchboard in both durability modes, and the peers).
    Chat(Common),
    /// One event to many agent sockets.
    Fanout(Common),
    /// New sockets per second and connect latency.
    Churn(Common),
    /// All clients dropped by a restart and reconnected; nothing lost.
    Storm(Common),
    /// `kill -9` under load; acknowledged messages missing after restart.
    Crash(Common),
    /// 1,000 abusive visitors against the default limits, beside legitimate ones.
    Flood(Common),
    /// Tracked visitors browsing while agents watch the live list
    /// (`SWITCHBOARD_BENCH_LIVE_VISITORS`, `SWITCHBOARD_BENCH_LIVE_AGENTS`).
    Live(Common),
    /// Idle RSS, cold start, binary size.
    Footprint(Common),
    /// The batched writer alone, on SQLite and PostgreSQL.
    Storage(Common),
    /// Delivery across two nodes (PostgreSQL and Redis) beside one node.
    Cluster(Common),
    /// The routing engine: a 10,000 queue drained by 200 agents, and first message → assigned.
    Routing(Common),
    /// A generator process (started by the scenarios).
    #[command(hide = true)]
    Gen { kind: String, config: String },
    /// What the peers still need installed, as JSON (for `cargo xtask bench`).
    #[command(hide = true)]
    PeerPrerequisites,
}

/// What every scenario needs: binaries, a scratch directory, the fixture, the mode.
pub struct Ctx {
    pub server_bin: PathBuf,
    pub bench_bin: PathBuf,
    pub repo: PathBuf,
    pub root: PathBuf,
    pub fixture: Fixture,
    pub quick: bool,
    pub server_cpus: Option<String>,
    pub gen_cpus: Option<String>,
    /// The routing figure's size: conversations waiting, agents.
    pub routing: (usize, usize),
}

impl Ctx {
    async fn new(common: &Common, need_fixture: bool) -> anyhow::Result<Self> {
        let bench_bin = std::env::current_exe()?;
        let server_bin = match &common.server_bin {
            Some(p) => p.clone(),
            None => bench_bin.with_file_name("switchboard"),
        };
        anyhow::ensure!(
            server_bin.exists(),
            "{} does not exist: build it with `cargo build --release -p switchboard`",
            server_bin.display()
        );
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
        let root = repo.join("target/bench/tmp");
        std::fs::create_dir_all(&root)?;
        let fixture = if need_fixture {
            Fixture::build(&server_bin, &root, throughput::workspaces_needed(common.quick)).await.context("building the fixture")?
        } else {
            Fixture { dir: root.join("fixture"), workspaces: vec![] }
        };
        let (server_cpus, gen_cpus) = if common.pinned { (Some("0".into()), Some("1".into())) } else { (None, None) };
        anyhow::ensure!(common.routing_agents > 0 && common.routing_waiting > 0, "--routing-waiting and --routing-agents must be positive");
        let routing = (common.routing_waiting, common.routing_agents);
        Ok(Self { server_bin, bench_bin, repo, root, fixture, quick: common.quick, server_cpus, gen_cpus, routing })
    }

    /// A fresh, empty scratch directory for one run.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.root.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    pub fn server_opts(&self, durability: Durability) -> ServerOpts {
        ServerOpts { cpus: self.server_cpus.clone(), ..ServerOpts::new(durability) }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gen { kind, config } => procs::main(GENERATORS, &kind, &config),
        Command::PeerPrerequisites => {
            peerwiring::print_prerequisites();
            Ok(())
        }
        command => {
            // The orchestrator and the in-process chat generator share one thread: the
            // other core is the server's.
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
            runtime.block_on(orchestrate(command))
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn orchestrate(command: Command) -> anyhow::Result<()> {
    let (common, only): (Common, Vec<suite::Scenario>) = match command {
        Command::Suite { common, only } => {
            let only = only.iter().map(|s| suite::Scenario::parse(s)).collect::<anyhow::Result<Vec<_>>>()?;
            (common, if only.is_empty() { suite::Scenario::ALL.to_vec() } else { only })
        }
        Command::Idle(c) => (c, vec![suite::Scenario::Idle]),
        Command::Chat(c) => (c, vec![suite::Scenario::Chat]),
        Command::Fanout(c) => (c, vec![suite::Scenario::Fanout]),
        Command::Churn(c) => (c, vec![suite::Scenario::Churn]),
        Command::Storm(c) => (c, vec![suite::Scenario::Storm]),
        Command::Crash(c) => (c, vec![suite::Scenario::Crash]),
        Command::Flood(c) => (c, vec![suite::Scenario::Flood]),
        Command::Live(c) => (c, vec![suite::Scenario::Live]),
        Command::Footprint(c) => (c, vec![suite::Scenario::Footprint]),
        Command::Storage(c) => (c, vec![suite::Scenario::Storage]),
        Command::Cluster(c) => (c, vec![suite::Scenario::Cluster]),
        Command::Routing(c) => (c, vec![suite::Scenario::Routing]),
        Command::Gen { .. } | Command::PeerPrerequisites => unreachable!("handled in main"),
    };
    // The storage and cluster scenarios build their own (on PostgreSQL, or none).
    let need_fixture = only.iter().any(|s| !matches!(s, suite::Scenario::Storage | suite::Scenario::Cluster | suite::Scenario::Routing));

    let ctx = Ctx::new(&common, need_fixture).await?;
    // On Ctrl-C or SIGTERM the suite's future is dropped, and with it every server,
    // peer and generator process it started (they are killed on drop).
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = suite::run(&ctx, &common, &only) => result,
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted"),
        _ = term.recv() => anyhow::bail!("terminated"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_generator_has_a_kind_of_its_own_and_an_unknown_kind_is_refused_by_name() {
        let kinds: Vec<&str> = GENERATORS.iter().map(|g| g.kind).collect();
        let distinct: std::collections::BTreeSet<&str> = kinds.iter().copied().collect();
        assert_eq!(distinct.len(), kinds.len(), "two generators share a kind: {kinds:?}");
        let err = procs::main(GENERATORS, "nope", "{}").expect_err("no such generator").to_string();
        assert!(err.contains("`nope`") && kinds.iter().all(|kind| err.contains(kind)), "{err}");
    }
}
