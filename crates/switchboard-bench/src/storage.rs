//! Storage micro-benchmark: the batched writer alone, in-process, through the same
//! `Core::visitor_send` → `Store::commit` path the server uses, on SQLite (both
//! durability modes) and on a throwaway PostgreSQL with its default durability. One
//! submitter shows the cost of a lone commit; 1,024 concurrent submitters show what
//! group commit makes of it. The `Core` is built by the application's builder
//! (`switchboard::app::core`), so it is wired exactly as the server's is.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use switchboard::config::{Backend, Config, Durability};
use switchboard_core::{Core, Draft, NewAgent, Principal, SiteInput, Visitor, VisitorHello};
use switchboard_domain::{Actor, ConversationId, Email, MessageFormat, Role};
use switchboard_services::EphemeralPostgres;

use crate::Ctx;
use crate::report::{Latency, Measure, Outcome, at_least, histogram};

const SUBMITTERS: usize = 1_024;

struct Result1 {
    single_commits_per_s: f64,
    single: Latency,
    rows_per_s: f64,
    batched: Latency,
}

pub async fn run(ctx: &Ctx, run: usize) -> anyhow::Result<Outcome> {
    let secs = if ctx.quick { 2.0 } else { 10.0 };
    let root = ctx.scratch(&format!("storage-{run}"));
    std::fs::create_dir_all(&root)?;
    // Like the server: a two-worker runtime, on threads of its own.
    let bench_root = root.clone();
    let results = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        rt.block_on(all(&bench_root, secs))
    })
    .await??;
    let _ = std::fs::remove_dir_all(&root);
    let mut measures = vec![];
    let mut details = vec![];
    for (name, goal, result) in results {
        let id = format!("storage.{name}");
        match result {
            Ok(r) => {
                eprintln!(
                    "storage {name}: 1 submitter {:.0} commits/s (p50 {:.2} ms); {SUBMITTERS} submitters {:.0} rows/s (p50 {:.2}, p99 {:.2} ms)",
                    r.single_commits_per_s, r.single.p50_ms, r.rows_per_s, r.batched.p50_ms, r.batched.p99_ms
                );
                measures.push(
                    Measure::new(
                        &format!("{id}.rows"),
                        &format!("writer {name}: messages/s, {SUBMITTERS} concurrent submitters"),
                        "rows/s",
                        r.rows_per_s,
                    )
                    .goal(goal),
                );
                measures.push(Measure::new(
                    &format!("{id}.p99"),
                    &format!("writer {name}: commit p99 with {SUBMITTERS} submitters"),
                    "ms",
                    r.batched.p99_ms,
                ));
                measures.push(Measure::new(
                    &format!("{id}.single"),
                    &format!("writer {name}: commits/s, one submitter"),
                    "commit/s",
                    r.single_commits_per_s,
                ));
                details.push(json!({"backend": name, "single_commits_per_s": r.single_commits_per_s, "single": r.single, "rows_per_s": r.rows_per_s, "batched": r.batched}));
            }
            Err(reason) => {
                eprintln!("storage {name}: {reason}");
                measures.push(
                    Measure::not_run(
                        &format!("{id}.rows"),
                        &format!("writer {name}: messages/s, {SUBMITTERS} concurrent submitters"),
                        "rows/s",
                        reason,
                    )
                    .goal(goal),
                );
            }
        }
    }
    Ok(Outcome { measures, details: json!(details) })
}

type Row = (&'static str, Option<crate::report::Goal>, Result<Result1, String>);

async fn all(root: &Path, secs: f64) -> anyhow::Result<Vec<Row>> {
    let mut out = vec![];
    for (name, durability, goal) in
        [("sqlite durability=full", Durability::Full, 100_000.0), ("sqlite durability=normal", Durability::Normal, 300_000.0)]
    {
        let mut config = Config::default();
        config.storage.data_dir = root.join(name.replace([' ', '='], "-"));
        config.storage.durability = durability;
        out.push((name, at_least(goal), bench(&config, secs).await.map_err(|e| format!("{e:#}"))));
    }
    // Dropping the server stops it and removes its directory.
    let pg = match EphemeralPostgres::start_durable().await {
        Ok(pg) => {
            let mut config = Config::default();
            config.storage.data_dir = root.join("pg");
            config.storage.backend = Backend::Postgres;
            config.storage.postgres_url = Some(pg.url().to_owned());
            bench(&config, secs).await.map_err(|e| format!("{e:#}"))
        }
        Err(e) => Err(format!("PostgreSQL not available: {e:#}")),
    };
    out.push(("postgresql", at_least(8_000.0), pg));
    Ok(out)
}

async fn bench(config: &Config, secs: f64) -> anyhow::Result<Result1> {
    let core = switchboard::app::core(config).await?;
    let store = core.store.clone();
    let owner = NewAgent {
        email: Email::parse("owner@storage.example")?,
        name: "Owner".into(),
        role: Role::Owner,
        password: "storage bench password".into(),
        locale: None,
        max_chats: None,
        avatar_url: None,
    };
    let (ws, agent) = core.create_workspace("storage", owner).await?;
    let who = Principal { workspace_id: ws.id, actor: Actor::Agent(agent.id), role: Role::Owner };
    let site = core.create_site(&who, SiteInput { name: Some("Shop".into()), ..Default::default() }).await?;
    // 16 visitors with 64 conversations each: one per submitter.
    let mut visitors = vec![];
    for _ in 0..16 {
        visitors.push(Arc::new(core.visitor(VisitorHello { site_key: site.public_key.clone(), ..Default::default() }).await?));
    }
    let mut starts = vec![];
    for s in 0..SUBMITTERS {
        let (core, v) = (core.clone(), visitors[s % visitors.len()].clone());
        starts.push(tokio::spawn(async move { core.visitor_send(&v, None, draft(format!("start-{s}"))).await }));
    }
    let mut conversations = vec![];
    for s in starts {
        conversations.push(s.await??.conversation.id);
    }

    // One submitter: every commit alone.
    let mut h = histogram();
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < Duration::from_secs_f64(secs / 2.0) {
        let c = Instant::now();
        core.visitor_send(&visitors[0], Some(conversations[0]), draft(format!("single-{n}"))).await?;
        h.saturating_record(c.elapsed().as_micros() as u64);
        n += 1;
    }
    let single_commits_per_s = n as f64 / t.elapsed().as_secs_f64();
    let single = Latency::of(&h);

    // Many submitters: the writer batches whatever is queued.
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = vec![];
    let t = Instant::now();
    for s in 0..SUBMITTERS {
        let (core, v, conv) = (core.clone(), visitors[s % visitors.len()].clone(), conversations[s]);
        tasks.push(tokio::spawn(submit(core, v, conv, s, deadline)));
    }
    let mut h = histogram();
    let mut rows = 0u64;
    for task in tasks {
        let (count, hist) = task.await??;
        rows += count;
        h.add(&hist).context("merging histograms")?;
    }
    let rows_per_s = rows as f64 / t.elapsed().as_secs_f64();
    store.close().await;
    Ok(Result1 { single_commits_per_s, single, rows_per_s, batched: Latency::of(&h) })
}

async fn submit(
    core: Core,
    visitor: Arc<Visitor>,
    conv: ConversationId,
    s: usize,
    deadline: Instant,
) -> anyhow::Result<(u64, hdrhistogram::Histogram<u64>)> {
    let mut h = histogram();
    let mut n = 0u64;
    while Instant::now() < deadline {
        let t = Instant::now();
        core.visitor_send(&visitor, Some(conv), draft(format!("b{s}.{n}"))).await?;
        h.saturating_record(t.elapsed().as_micros() as u64);
        n += 1;
    }
    Ok((n, h))
}

fn draft(client_id: String) -> Draft {
    Draft {
        client_id: Some(client_id),
        body: "Hello, I have a question about my order, could you help me with it please?".into(),
        format: MessageFormat::Text,
        attachments: vec![],
    }
}
