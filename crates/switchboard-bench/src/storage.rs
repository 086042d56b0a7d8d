//! Storage micro-benchmark: the batched writer alone, in-process, through the same
//! `Core::visitor_send` → `Store::commit` path the server uses, on SQLite (both
//! durability modes) and on a throwaway PostgreSQL with its default durability. One
//! submitter shows the cost of a lone commit; 1,024 concurrent submitters show what
//! group commit makes of it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use switchboard_bus::LocalBus;
use switchboard_core::{Core, Draft, Limits, NewAgent, Principal, SiteInput, Visitor, VisitorHello};
use switchboard_domain::{Actor, ConversationId, Email, MessageFormat, Role};
use switchboard_store::{FsBlobStore, Store};
use switchboard_store_postgres::{PgOptions, PgStore};
use switchboard_store_sqlite::{Durability as SqliteDurability, SqliteOptions, SqliteStore};

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
        [("sqlite durability=full", SqliteDurability::Full, 100_000.0), ("sqlite durability=normal", SqliteDurability::Normal, 300_000.0)]
    {
        let dir = root.join(name.replace([' ', '='], "-"));
        std::fs::create_dir_all(&dir)?;
        let opts = SqliteOptions { durability, ..SqliteOptions::new(dir.join("switchboard.db")) };
        let result = match SqliteStore::open(&opts).await {
            Ok(store) => bench(Arc::new(store), &dir, secs).await.map_err(|e| format!("{e:#}")),
            Err(e) => Err(format!("opening SQLite: {e}")),
        };
        out.push((name, at_least(goal), result));
    }
    let pg = match Postgres::start(&root.join("pg")).await {
        Ok(pg) => {
            let result = match PgStore::connect(&PgOptions::new(pg.url.clone())).await {
                Ok(store) => bench(Arc::new(store), &root.join("pg-blobs"), secs).await.map_err(|e| format!("{e:#}")),
                Err(e) => Err(format!("connecting: {e}")),
            };
            pg.stop().await;
            result
        }
        Err(e) => Err(format!("PostgreSQL not available: {e:#}")),
    };
    out.push(("postgresql", at_least(8_000.0), pg));
    Ok(out)
}

async fn bench(store: Arc<dyn Store>, dir: &Path, secs: f64) -> anyhow::Result<Result1> {
    let core =
        Core::new(store.clone(), Arc::new(LocalBus::default()), Arc::new(FsBlobStore::new(dir.join("blobs"))), Limits::default()).await?;
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

/// A throwaway PostgreSQL server from Debian's binaries, with its default durability
/// (fsync on, synchronous_commit on): the figure is about durable commits.
struct Postgres {
    url: String,
    child: tokio::process::Child,
    dir: PathBuf,
}

impl Postgres {
    async fn start(dir: &Path) -> anyhow::Result<Self> {
        let bin = newest_bin(Path::new("/usr/lib/postgresql"))?;
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir)?;
        // initdb refuses to run as root; run the server as `postgres` then.
        let ids = if is_root() { Some(postgres_ids()?) } else { None };
        let as_user = |program: PathBuf| {
            let mut c = tokio::process::Command::new(program);
            if let Some((uid, gid)) = ids {
                c.uid(uid).gid(gid);
            }
            c
        };
        if let Some((uid, gid)) = ids {
            let ok = std::process::Command::new("chown").arg("-R").arg(format!("{uid}:{gid}")).arg(dir).status()?.success();
            anyhow::ensure!(ok, "chown of {} failed", dir.display());
        }
        let data = dir.join("data");
        let out = as_user(bin.join("initdb")).arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "-E", "UTF8"]).output().await?;
        anyhow::ensure!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let port = crate::server::free_port()?;
        let child = as_user(bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-k"])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let t = Instant::now();
        loop {
            let ready = std::process::Command::new(bin.join("pg_isready")).args(["-h", "127.0.0.1", "-p", &port.to_string()]).output()?;
            if ready.status.success() {
                break;
            }
            anyhow::ensure!(t.elapsed() < Duration::from_secs(30), "PostgreSQL did not start within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self { url: format!("postgres://postgres@127.0.0.1:{port}/postgres"), child, dir: dir.to_owned() })
    }

    /// Fast shutdown (SIGINT), then the directory goes.
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn newest_bin(root: &Path) -> anyhow::Result<PathBuf> {
    let mut versions: Vec<u32> = std::fs::read_dir(root)
        .with_context(|| format!("{} is missing (apt-get install postgresql)", root.display()))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort_unstable();
    let v = versions.last().with_context(|| format!("no PostgreSQL version under {}", root.display()))?;
    Ok(root.join(v.to_string()).join("bin"))
}

fn is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn postgres_ids() -> anyhow::Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:")).context("no `postgres` user (apt-get install postgresql)")?;
    let f: Vec<&str> = line.split(':').collect();
    Ok((f[2].parse()?, f[3].parse()?))
}
