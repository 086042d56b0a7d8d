//! Delivery across nodes: the chat scenario's 2,000 msg/s step with the visitors on one
//! node and the agents' dashboards on another (both on one PostgreSQL and one Redis, the
//! Redis bus between them), beside the same step on one node over the same PostgreSQL
//! (the in-process bus). The difference is what the bus between nodes costs.

use serde_json::json;

use crate::Ctx;
use crate::chat::{self, ChatReport, Plan, Step};
use crate::report::{Measure, Outcome, at_most};
use crate::server::{Durability, Fixture, Server, ServerOpts};
use crate::switchboard::SwitchboardTarget;
use crate::throughput::{LATENCY_RATE, PER_WORKSPACE};
use switchboard_services::{EphemeralPostgres, EphemeralRedis};

/// The throughput plan's pairs, a short warm-up step, then the 2,000 msg/s step.
fn plan(quick: bool) -> Plan {
    let latency_secs = if quick { 6.0 } else { 20.0 };
    Plan {
        steps: vec![Step { rate: 250.0, secs: 2.0, warm_secs: 1.0 }, Step { rate: LATENCY_RATE, secs: latency_secs, warm_secs: 2.0 }],
        ..crate::throughput::plan(quick)
    }
}

pub async fn run(ctx: &Ctx, run: usize) -> anyhow::Result<Outcome> {
    let pg = EphemeralPostgres::start_durable().await?;
    let redis = EphemeralRedis::start().await?;
    let url = pg.create_database().await?;
    let storage =
        vec![("SWITCHBOARD__STORAGE__BACKEND".to_owned(), "postgres".to_owned()), ("SWITCHBOARD__STORAGE__POSTGRES_URL".to_owned(), url)];
    let plan = plan(ctx.quick);
    let dir = ctx.scratch(&format!("cluster-{run}"));
    // One database for both layouts: each run's visitors start new conversations, and
    // agents start at the feed's head, so neither sees the other's messages.
    let fixture = Fixture::build_with(&ctx.server_bin, dir.join("fixture"), plan.pairs.div_ceil(PER_WORKSPACE), &storage).await?;
    let mut measures = vec![];
    let mut details = vec![];
    for nodes in [1, 2] {
        let mut env = storage.clone();
        if nodes == 2 {
            for (k, v) in [("BACKEND", "redis"), ("REDIS_URL", redis.url()), ("CLUSTER", "bench")] {
                env.push((format!("SWITCHBOARD__BUS__{k}"), v.to_owned()));
            }
            // A cluster needs blobs every node reaches: here one directory both share.
            env.push(("SWITCHBOARD__BLOBS__DIR".to_owned(), dir.join("blobs").display().to_string()));
            env.push(("SWITCHBOARD__BLOBS__SHARED".to_owned(), "true".to_owned()));
        }
        let opts = ServerOpts { env, ..ctx.server_opts(Durability::Full) };
        let a = Server::start(&ctx.server_bin, &dir.join(format!("{nodes}-a")), &opts).await?;
        let b = if nodes == 2 { Some(Server::start(&ctx.server_bin, &dir.join("2-b"), &opts).await?) } else { None };
        let mut target = SwitchboardTarget::new(a.addr, fixture.workspaces.clone(), PER_WORKSPACE, Durability::Full);
        if let Some(b) = &b {
            target = target.with_agents_on(b.addr);
        }
        let report = chat::run(&target, &plan, Some(a.pid)).await;
        drop(target);
        a.kill9().await?;
        if let Some(b) = b {
            b.kill9().await?;
        }
        let report = report?;
        measures.extend(figures(&report, nodes));
        details.push(json!({"nodes": nodes, "report": report}));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Outcome { measures, details: json!(details) })
}

fn figures(r: &ChatReport, nodes: usize) -> Vec<Measure> {
    let (who, mode) = match nodes {
        1 => ("one node", "postgres, in-process bus"),
        _ => ("two nodes", "postgres + redis, visitors on A, agents on B"),
    };
    let id = |k: &str| format!("cluster.{}.{k}", if nodes == 1 { "one_node" } else { "two_nodes" });
    let Some(s) = r.steps.iter().find(|s| s.offered_per_s == LATENCY_RATE && s.ran && s.ack.count > 0) else {
        return vec![Measure::not_run(&id("delivery_p99_2k"), &format!("{who}: delivery p99 at 2,000 msg/s"), "ms", "no acks")];
    };
    let lost = (r.unacked + r.undelivered) as f64;
    let mut lost =
        Measure::new(&id("lost"), &format!("{who}: messages never acked or delivered"), "msgs", lost).goal(at_most(0.0)).mode(mode);
    if r.errors > 0 || r.duplicates > 0 {
        lost = lost.note(format!("{} errors, {} duplicates; first: {:?}", r.errors, r.duplicates, r.first_errors.first()));
    }
    vec![
        Measure::new(&id("delivery_p99_2k"), &format!("{who}: visitor→agent delivery p99 at 2,000 msg/s"), "ms", s.delivery.p99_ms)
            .mode(mode),
        Measure::new(&id("delivery_p50_2k"), &format!("{who}: visitor→agent delivery p50 at 2,000 msg/s"), "ms", s.delivery.p50_ms)
            .mode(mode),
        Measure::new(&id("ack_p99_2k"), &format!("{who}: ack p99 at 2,000 msg/s"), "ms", s.ack.p99_ms).mode(mode),
        lost,
    ]
}
