//! Routing benchmark (issue 14), in-process like the storage one: a team of 200 agents,
//! 10,000 conversations waiting in its queue, then every agent comes online at once and
//! the queue drains through the real routing engine (guarded commits, capacity checks):
//! conversations routed per second. Then, with places free, new visitors' first
//! messages: the p99 from the send to the `assigned` event reaching the agents' feed
//! (the workspace's bus subscription every agent socket reads; the socket write itself
//! is not counted). `--routing-waiting` and `--routing-agents` run it smaller (every agent
//! has room for 100 chats, so the agents must hold the queue and the probes).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::config::Config;
use switchboard_bus::BusMessage;
use switchboard_core::{AgentPatch, Core, Draft, NewAgent, Principal, RoutingPatch, SiteInput, VisitorHello};
use switchboard_domain::{Actor, Email, MessageFormat, Role, Strategy};
use switchboard_proto::EventBody;

use crate::Ctx;
use crate::report::{Latency, Measure, Outcome, at_least, at_most, histogram};

pub const AGENTS: usize = 200;
pub const WAITING: usize = 10_000;
/// First messages timed once places are free.
const PROBES: usize = 500;
/// Each agent's limit, room for the queue and the probes: the largest an agent may have.
const ROOM: u32 = 100;

pub async fn run(ctx: &Ctx, run: usize) -> anyhow::Result<Outcome> {
    let root = ctx.scratch(&format!("routing-{run}"));
    std::fs::create_dir_all(&root)?;
    let bench_root = root.clone();
    let (waiting, agents) = ctx.routing;
    // Like the server: a two-worker runtime, on threads of its own.
    let (routed_per_s, drain_secs, latency) = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        rt.block_on(bench(&bench_root, waiting, agents))
    })
    .await??;
    let _ = std::fs::remove_dir_all(&root);
    eprintln!(
        "routing: {waiting} waiting, {agents} agents: {routed_per_s:.0} routed/s ({drain_secs:.1} s); first message → assigned p50 {:.2} ms, p99 {:.2} ms",
        latency.p50_ms, latency.p99_ms
    );
    Ok(Outcome {
        measures: vec![
            Measure::new(
                "routing.routed",
                &format!("conversations routed/s, {waiting} waiting, {agents} agents (SQLite)"),
                "conv/s",
                routed_per_s,
            )
            .goal(at_least(1_000.0)),
            Measure::new("routing.assigned_p99", "first message → `assigned` on the agents' feed, p99", "ms", latency.p99_ms)
                .goal(at_most(100.0)),
        ],
        details: json!({"routed_per_s": routed_per_s, "drain_secs": drain_secs, "assigned": latency}),
    })
}

async fn bench(root: &Path, waiting: usize, agent_count: usize) -> anyhow::Result<(f64, f64, Latency)> {
    let mut config = Config::default();
    config.storage.data_dir = root.join("sqlite");
    // The setup starts thousands of conversations on one site within seconds, far past
    // the per-site flood guard (`new_conversations_per_site`); routing is what is measured.
    config.limits.rates = switchboard_core::Rates::unlimited();
    let core = switchboard::app::core(&config).await?;
    let owner = new_agent("owner@routing.example", Role::Owner);
    let (ws, owner) = core.create_workspace("routing", owner).await?;
    let who = Principal { workspace_id: ws.id, actor: Actor::Agent(owner.id), role: Role::Owner };
    let mut agents = vec![];
    anyhow::ensure!(
        waiting + PROBES <= agent_count * ROOM as usize,
        "{agent_count} agents cannot hold {waiting} waiting and {PROBES} probes ({ROOM} chats each at most)"
    );
    for i in 0..agent_count {
        let agent = core.create_agent(&who, new_agent(&format!("a{i}@routing.example"), Role::Agent)).await?;
        core.update_agent(&who, agent.id, AgentPatch { max_chats: Some(Some(ROOM)), ..Default::default() }).await?;
        agents.push(agent.id);
    }
    let routing = RoutingPatch { strategy: Some(Strategy::Balanced), sticky: Some(false), ..Default::default() };
    let team = core.create_team(&who, "Support", agents.clone(), None, routing).await?;
    let site =
        core.create_site(&who, SiteInput { name: Some("Shop".into()), default_team_id: Some(Some(team.id)), ..Default::default() }).await?;

    // Nobody online: every new conversation waits. 256 visitors at a time, as the
    // storage benchmark's submitters (the read pool has four connections).
    for chunk in (0..waiting).collect::<Vec<_>>().chunks(256) {
        let mut starts = tokio::task::JoinSet::new();
        for &i in chunk {
            let (core, key) = (core.clone(), site.public_key.clone());
            starts.spawn(async move {
                let v = core.visitor(VisitorHello { site_key: key, ..Default::default() }).await?;
                core.visitor_send(&v, None, draft(format!("w{i}"))).await?;
                anyhow::Ok(())
            });
        }
        for r in starts.join_all().await {
            r?;
        }
    }
    wait_for(&core, &who, |len| len == waiting as u64, "every conversation to be queued").await?;

    // Everyone comes online: the queue drains.
    let t = Instant::now();
    for agent in &agents {
        let principal = Principal { workspace_id: ws.id, actor: Actor::Agent(*agent), role: Role::Agent };
        core.agent_connected(&principal).await;
    }
    wait_for(&core, &who, |len| len == 0, "the queue to drain").await?;
    let drain_secs = t.elapsed().as_secs_f64();
    let routed_per_s = waiting as f64 / drain_secs;

    // New first messages, one at a time, timed to their `assigned` on the feed.
    let (mut feed, _) = core.follow_feed(&who).await?;
    let mut h = histogram();
    for i in 0..PROBES {
        let v = core.visitor(VisitorHello { site_key: site.public_key.clone(), ..Default::default() }).await?;
        let sent = Instant::now();
        let id = core.visitor_send(&v, None, draft(format!("p{i}"))).await?.conversation.id.0;
        loop {
            let d = tokio::time::timeout(Duration::from_secs(10), feed.recv()).await??;
            if let BusMessage::Event { event, .. } = &*d.message
                && event.conversation_id == id
                && matches!(event.body, EventBody::Assigned { assignee_id: Some(_), .. })
            {
                break;
            }
        }
        h.saturating_record(sent.elapsed().as_micros() as u64);
    }
    core.store.close().await;
    Ok((routed_per_s, drain_secs, Latency::of(&h)))
}

/// Polls the team's queue length until `done` (a benchmark may poll; tests may not).
async fn wait_for(core: &Core, who: &Principal, done: impl Fn(u64) -> bool, what: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let waiting: u64 = core.queues(who).await?.iter().map(|q| q.length).sum();
        if done(waiting) {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "timed out waiting for {what} ({waiting} waiting)");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn new_agent(email: &str, role: Role) -> NewAgent {
    NewAgent {
        email: Email::parse(email).expect("a valid e-mail"),
        name: email.into(),
        role,
        password: "routing bench password".into(),
        locale: None,
        max_chats: None,
        avatar_url: None,
    }
}

fn draft(client_id: String) -> Draft {
    Draft { client_id: Some(client_id), body: "hello".into(), format: MessageFormat::Text, attachments: vec![] }
}
