//! The cluster tier: two `switchboard serve` children on one throwaway PostgreSQL and
//! one throwaway Redis, with timings about ten times shorter than production's, and the
//! failures of issue 16 done to them for real: `kill -9` of a node, Redis stopped and
//! started again, Redis paused with `SIGSTOP`. Every story asserts the same two things
//! at the sockets: nothing acknowledged is lost, nothing is delivered twice.
//!
//! No story sleeps to wait for something: each waits for the frame (or the `/readyz`
//! answer) it expects, with a timeout.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_testkit::services::{EphemeralPostgres, EphemeralRedis, EphemeralS3};
use switchboard_testkit::{Api, Ws};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const OWNER: &str = "boss@shop.example";
const PASSWORD: &str = "a long enough password";

/// One PostgreSQL database and one Redis shared by the nodes of one story.
struct Cluster {
    pg: &'static EphemeralPostgres,
    postgres_url: String,
    redis: EphemeralRedis,
    /// Keys and channels of this story only.
    name: String,
    data: tempfile::TempDir,
    /// The nodes' `[blobs]` settings (`SWITCHBOARD__BLOBS__…`): one directory every
    /// node shares, unless a story says otherwise.
    blobs: Vec<(&'static str, String)>,
}

/// A node: a `switchboard serve` child.
struct Node {
    child: Child,
    addr: SocketAddr,
}

impl Cluster {
    /// A fresh database with a workspace, and a Redis of its own.
    async fn start() -> Self {
        let pg = EphemeralPostgres::shared().await.expect("PostgreSQL");
        let postgres_url = pg.create_database().await.expect("a fresh database");
        let redis = EphemeralRedis::start().await.expect("Redis");
        let data = tempfile::tempdir().unwrap();
        let name = format!("t{}", uuid::Uuid::new_v4().simple());
        let shared = data.path().join("shared-blobs").display().to_string();
        let blobs = vec![("DIR", shared), ("SHARED", "true".to_owned())];
        let cluster = Self { pg, postgres_url, redis, name, data, blobs };
        let out = cluster
            .command("admin")
            .args(["admin", "create-workspace", "--name", "Shop", "--owner-email", OWNER, "--password", PASSWORD])
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "create-workspace: {}", String::from_utf8_lossy(&out.stderr));
        cluster
    }

    /// Runs SQL on the cluster's database, as an operator (or a fault) would.
    async fn sql(&self, sql: &str) -> String {
        self.pg.psql(&self.postgres_url, sql).await.expect("psql")
    }

    /// `switchboard` on this cluster's database; a node (anything but `admin`) also on its Redis.
    fn command(&self, node: &str) -> Command {
        let mut cmd = Command::new(BIN);
        let data = self.data.path().join(node);
        cmd.arg("--data")
            .arg(&data)
            .env_remove("RUST_LOG")
            .env("SWITCHBOARD__LOG__LEVEL", "warn")
            .env("SWITCHBOARD__STORAGE__BACKEND", "postgres")
            .env("SWITCHBOARD__STORAGE__POSTGRES_URL", &self.postgres_url);
        if node != "admin" {
            cmd.env("SWITCHBOARD__BUS__BACKEND", "redis")
                .env("SWITCHBOARD__BUS__REDIS_URL", self.redis.url())
                .env("SWITCHBOARD__BUS__CLUSTER", &self.name)
                .env("SWITCHBOARD__BUS__NODE", node)
                .env("SWITCHBOARD__BUS__PROBE_MS", "100")
                .env("SWITCHBOARD__BUS__POLL_MS", "100")
                .env("SWITCHBOARD__BUS__POSITION_CHECK_MS", "500")
                .env("SWITCHBOARD__BUS__PRESENCE_HEARTBEAT_MS", "200")
                .env("SWITCHBOARD__BUS__PRESENCE_TTL_MS", "1000")
                // A node killed or cut off is the story here, not the grace period that
                // spares a reloading agent (presence's own tests cover it).
                .env("SWITCHBOARD__PRESENCE__GRACE_SECONDS", "0");
            for (key, value) in &self.blobs {
                cmd.env(format!("SWITCHBOARD__BLOBS__{key}"), value);
            }
            // These stories send bursts and sign in far faster than people do; every
            // limit has stories of its own (limits.rs).
            let rates = serde_json::to_value(switchboard_core::Rates::default()).expect("rates serialise");
            for kind in rates.as_object().expect("an object of rates").keys() {
                cmd.env(format!("SWITCHBOARD__LIMITS__RATES__{}__BURST", kind.to_uppercase()), "0");
            }
        }
        cmd
    }

    /// Starts a node and waits until it listens.
    async fn node(&self, name: &str) -> Node {
        self.node_with(name, &[]).await
    }

    /// [`Cluster::node`] with more environment (a limit turned on, for instance).
    async fn node_with(&self, name: &str, env: &[(&str, &str)]) -> Node {
        let mut command = self.command(name);
        command.envs(env.iter().copied());
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn a node");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("Switchboard is listening on http://") {
                    return url.parse().unwrap();
                }
            }
            panic!("node {name} exited before listening");
        })
        .await
        .expect("the node did not start");
        Node { child, addr }
    }
}

impl Node {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `kill -9`: no goodbye, no flush.
    async fn kill(mut self) {
        self.child.start_kill().expect("kill -9");
        self.child.wait().await.unwrap();
    }

    async fn readyz(&self) -> String {
        reqwest::get(format!("{}/readyz", self.base())).await.unwrap().text().await.unwrap()
    }

    /// Waits until `/readyz` says `bus: {state}`.
    async fn wait_for_bus(&self, state: &str) {
        let want = format!("bus: {state}");
        let waited = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                if self.readyz().await.contains(&want) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        waited.await.unwrap_or_else(|_| panic!("the node never said `{want}`"));
    }

    async fn metric(&self, name: &str) -> f64 {
        let text = reqwest::get(format!("{}/metrics", self.base())).await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.parse().ok()))
            .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
    }
}

/// The owner's session on `node`, a site and an admin API token (made on that node;
/// they are rows in the shared database, good on every node).
async fn seed(node: &Node) -> (Api, String, String) {
    let mut owner = Api::new(node.base());
    owner.login(OWNER, PASSWORD).await.unwrap();
    let site = owner.ok(reqwest::Method::POST, "/api/v1/sites", Some(json!({"name": "Shop"}))).await;
    let token = owner.ok(reqwest::Method::POST, "/api/v1/api-tokens", Some(json!({"name": "t", "role": "admin"}))).await;
    (owner, site["public_key"].as_str().unwrap().to_owned(), token["secret"].as_str().unwrap().to_owned())
}

/// What an agent socket received: each message's `client_id` by `feed_seq`.
#[derive(Default)]
struct Seen {
    by_feed: Vec<(i64, String)>,
    last_feed_seq: i64,
}

impl Seen {
    fn take(&mut self, frame: &Value) {
        if frame["type"] != "event" {
            return;
        }
        let event = &frame["event"];
        let feed_seq = event["feed_seq"].as_i64().unwrap();
        assert!(feed_seq > self.last_feed_seq, "feed_seq {feed_seq} after {}: delivered twice or out of order", self.last_feed_seq);
        self.last_feed_seq = feed_seq;
        if let Some(id) = event["message"]["client_id"].as_str() {
            self.by_feed.push((feed_seq, id.to_owned()));
        }
    }

    fn ids(&self) -> HashSet<String> {
        self.by_feed.iter().map(|(_, id)| id.clone()).collect()
    }

    /// Reads frames until every id in `want` was received.
    async fn until_all(&mut self, ws: &mut Ws, want: &HashSet<String>) {
        while !want.is_subset(&self.ids()) {
            let f = ws.next().await.expect("the agent's socket closed");
            self.take(&f);
        }
    }
}

/// An agent socket (API token) on `node`, caught up.
async fn agent(node: &Node, token: &str, after: Option<i64>, seen: &mut Seen) -> Ws {
    let mut ws = Ws::agent(node.addr, token, after).await;
    loop {
        let f = ws.next().await.expect("agent socket closed during the replay");
        if f["type"] == "caught_up" {
            return ws;
        }
        seen.take(&f);
    }
}

/// A new visitor on `node` with a conversation started by `first`.
async fn visitor(node: &Node, site: &str, first: &str) -> (Ws, String, String) {
    let mut ws = Ws::visitor(node.addr, site, None, None).await;
    let token = ws.welcome["token"].as_str().unwrap().to_owned();
    let ack = ws.say(None, first, "hello").await;
    (ws, ack["conversation_id"].as_str().unwrap().to_owned(), token)
}

/// Sends `ids` in conversation `conv` and waits for every ack.
async fn send_all(ws: &mut Ws, conv: &str, ids: &[String]) {
    for id in ids {
        ws.send(json!({"type": "send", "client_id": id, "conversation_id": conv, "body": "hi"})).await;
    }
    let mut acked = HashSet::new();
    while acked.len() < ids.len() {
        let f = ws.next().await.expect("visitor socket closed before the acks");
        if f["type"] == "ack" {
            acked.insert(f["client_id"].as_str().unwrap().to_owned());
        }
    }
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

/// Every message `client_id` stored in the conversation, through the REST API.
async fn stored(api: &Api, conv: &str) -> Vec<String> {
    let (mut ids, mut after) = (vec![], 0);
    loop {
        let path = format!("/api/v1/conversations/{conv}/messages?after_seq={after}&limit=200");
        let page = api.ok(reqwest::Method::GET, &path, None).await;
        for e in page["items"].as_array().unwrap() {
            after = e["seq"].as_i64().unwrap();
            ids.extend(e["message"]["client_id"].as_str().map(str::to_owned));
        }
        if page["next_cursor"].is_null() {
            return ids;
        }
    }
}

fn assert_each_once(all: &[String]) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in all {
        *counts.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
}

#[tokio::test]
async fn a_visitor_on_one_node_and_an_agent_on_another_chat_live() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (_, site, token) = seed(&a).await;
    a.wait_for_bus("live").await;
    b.wait_for_bus("live").await;

    let mut seen = Seen::default();
    let mut agent_b = agent(&b, &token, None, &mut seen).await;
    let (mut visitor_a, conv, _) = visitor(&a, &site, "first").await;
    let sent = ids("live", 50);
    send_all(&mut visitor_a, &conv, &sent).await;
    let mut want: HashSet<String> = sent.iter().cloned().collect();
    want.insert("first".into());
    seen.until_all(&mut agent_b, &want).await;

    // The agent answers on B; the visitor on A hears it.
    agent_b.send(json!({"type": "send", "client_id": "reply-1", "conversation_id": conv, "body": "How can I help?"})).await;
    loop {
        let f = visitor_a.next().await.expect("visitor socket closed");
        if f["type"] == "event" && f["event"]["message"]["client_id"] == "reply-1" {
            break;
        }
    }
    assert!(b.metric("switchboard_bus_received_total").await >= 51.0, "B heard A's events over Redis");
    assert!(a.metric("switchboard_bus_published_total").await >= 51.0);
    assert_eq!(b.metric("switchboard_bus_degraded").await, 0.0);
    assert!(a.readyz().await.contains("database: ok"));
}

#[tokio::test]
async fn an_agent_moving_to_another_node_resumes_from_its_cursor() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (_, site, token) = seed(&a).await;
    let mut seen = Seen::default();
    let agent_a = agent(&a, &token, None, &mut seen).await;
    let (mut visitor_b, conv, _) = visitor(&b, &site, "first").await;
    let mut agent_a = agent_a;
    seen.until_all(&mut agent_a, &HashSet::from(["first".to_owned()])).await;
    let cursor = seen.last_feed_seq;
    drop(agent_a);

    let missed = ids("missed", 20);
    send_all(&mut visitor_b, &conv, &missed).await;
    let mut agent_b = agent(&b, &token, Some(cursor), &mut seen).await;
    let later = ids("later", 20);
    send_all(&mut visitor_b, &conv, &later).await;
    let want: HashSet<String> = missed.iter().chain(&later).cloned().collect();
    seen.until_all(&mut agent_b, &want).await;
    assert_eq!(seen.by_feed.len(), 41, "each message once, none twice (Seen checks the order)");
}

#[tokio::test]
async fn presence_is_cluster_wide_and_a_killed_node_is_forgotten() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (owner, _, _) = seed(&a).await;
    let me = owner.ok(reqwest::Method::GET, "/api/v1/me", None).await;
    let owner_id = me["agent"]["id"].as_str().expect("the owner's id").to_owned();
    // A colleague watches from B.
    owner
        .ok(
            reqwest::Method::POST,
            "/api/v1/agents",
            Some(json!({"email": "ana@shop.example", "name": "Ana", "role": "agent", "password": PASSWORD})),
        )
        .await;
    let mut ana = Api::new(b.base());
    ana.login("ana@shop.example", PASSWORD).await.unwrap();
    let mut watcher = cookie_socket(&b, "ana@shop.example").await;
    watcher.expect("caught_up").await;

    // The owner opens the dashboard on A: B's socket hears it.
    let mut dashboard = cookie_socket(&a, OWNER).await;
    dashboard.expect("caught_up").await;
    wait_presence(&mut watcher, &owner_id, "online").await;
    // A new socket on B counts the owner online, from A's share in Redis.
    let late = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let ws = cookie_socket(&b, "ana@shop.example").await;
            if ws.welcome["online_agent_ids"].as_array().unwrap().iter().any(|id| id == owner_id.as_str()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    late.await.expect("B never counted the owner online");

    // A dies without a word: B forgets the owner within the TTL and says so.
    a.kill().await;
    wait_presence(&mut watcher, &owner_id, "offline").await;
    assert_eq!(b.metric("switchboard_presence_nodes").await, 1.0, "only B is left");
}

async fn cookie_socket(node: &Node, email: &str) -> Ws {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/sessions", node.base()))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sb_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/ws/agent", node.addr).into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (stream, _) = tokio_tungstenite::connect_async(req).await.expect("agent socket");
    let mut ws = Ws { stream, welcome: Value::Null };
    ws.send(json!({"type": "hello"})).await;
    ws.welcome = ws.expect("welcome").await;
    ws
}

async fn wait_presence(ws: &mut Ws, agent: &str, status: &str) {
    loop {
        let f = ws.next().await.expect("socket closed while waiting for presence");
        if f["type"] == "presence" && f["agent_id"] == agent && f["status"] == status {
            return;
        }
    }
}

#[tokio::test]
async fn a_node_killed_mid_chat_loses_nothing_acknowledged_and_doubles_nothing() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (owner, site, token) = seed(&a).await;
    let mut seen = Seen::default();
    let mut agent_b = agent(&b, &token, None, &mut seen).await;
    let (mut visitor_a, conv, visitor_token) = visitor(&a, &site, "first").await;

    // A burst in flight when A dies: some acknowledged, some not.
    let burst = ids("burst", 200);
    for id in &burst {
        visitor_a.send(json!({"type": "send", "client_id": id, "conversation_id": conv, "body": "burst"})).await;
    }
    let mut acked = HashSet::new();
    while acked.len() < 50 {
        let f = visitor_a.next().await.expect("A closed before 50 acks");
        if f["type"] == "ack" {
            acked.insert(f["client_id"].as_str().unwrap().to_owned());
        }
    }
    a.kill().await;
    while let Some(f) = visitor_a.next().await {
        if f["type"] == "ack" {
            acked.insert(f["client_id"].as_str().unwrap().to_owned());
        }
    }

    // The visitor comes back on B with its token and cursor and sends the whole burst
    // again, same client ids: what A stored is answered as a replay.
    let resume = json!([{"conversation_id": conv, "after_seq": 0}]);
    let mut visitor_b = Ws::visitor(b.addr, &site, Some(&visitor_token), Some(resume)).await;
    send_all(&mut visitor_b, &conv, &burst).await;
    let want: HashSet<String> = burst.iter().cloned().collect();
    seen.until_all(&mut agent_b, &want).await;
    assert!(acked.is_subset(&seen.ids()), "every message A acknowledged reached the agent on B");

    let api = Api::with_token(b.base(), &token);
    let all = stored(&api, &conv).await;
    assert_each_once(&all);
    assert_eq!(all.len(), 201, "the first message and the burst, each once");
    drop(owner);
}

#[tokio::test]
async fn redis_stopped_mid_chat_delays_delivery_between_nodes_but_loses_and_doubles_nothing() {
    let mut cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (_, site, token) = seed(&a).await;
    b.wait_for_bus("live").await;
    let mut seen = Seen::default();
    let mut agent_b = agent(&b, &token, None, &mut seen).await;
    let (mut visitor_a, conv, _) = visitor(&a, &site, "first").await;
    seen.until_all(&mut agent_b, &HashSet::from(["first".to_owned()])).await;

    let during = ids("during", 30);
    let redis = &mut cluster.redis;
    let (visitor_a, agent_b, seen) = (&mut visitor_a, &mut agent_b, &mut seen);
    redis
        .restart_after(async || {
            // Nodes keep serving and committing; B reads A's messages from the database.
            b.wait_for_bus("degraded").await;
            send_all(visitor_a, &conv, &during).await;
            seen.until_all(agent_b, &during.iter().cloned().collect()).await;
        })
        .await
        .expect("Redis starts again");
    a.wait_for_bus("live").await;
    b.wait_for_bus("live").await;
    let after = ids("after", 30);
    send_all(visitor_a, &conv, &after).await;
    seen.until_all(agent_b, &after.iter().cloned().collect()).await;
    assert_eq!(seen.by_feed.len(), 61, "each once");
    assert!(b.metric("switchboard_bus_repaired_total").await >= 30.0, "B read the outage's messages from the database");
}

#[tokio::test]
async fn a_hung_redis_is_noticed_by_the_probe_and_late_copies_are_dropped() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (_, site, token) = seed(&a).await;
    b.wait_for_bus("live").await;
    let mut seen = Seen::default();
    let mut agent_b = agent(&b, &token, None, &mut seen).await;
    let (mut visitor_a, conv, _) = visitor(&a, &site, "first").await;
    seen.until_all(&mut agent_b, &HashSet::from(["first".to_owned()])).await;

    let pid = cluster.redis.pid().expect("redis pid").to_string();
    let signal = |sig: &str| std::process::Command::new("kill").args([sig, &pid]).status().unwrap();
    assert!(signal("-STOP").success());
    // TCP stays up and nothing is delivered: only the probe can tell.
    b.wait_for_bus("degraded").await;
    let during = ids("hung", 30);
    send_all(&mut visitor_a, &conv, &during).await;
    seen.until_all(&mut agent_b, &during.iter().cloned().collect()).await;
    assert!(signal("-CONT").success());
    b.wait_for_bus("live").await;
    // Whatever A published into the hung Redis arrives now, late: dropped by feed_seq.
    let after = ids("after", 10);
    send_all(&mut visitor_a, &conv, &after).await;
    seen.until_all(&mut agent_b, &after.iter().cloned().collect()).await;
    assert_eq!(seen.by_feed.len(), 41, "each once");
}

#[tokio::test]
async fn a_slow_consumer_on_one_node_does_not_slow_the_other() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (_, site, token) = seed(&a).await;
    // An agent socket on A that never reads again.
    let stuck = Ws::agent(a.addr, &token, None).await;
    let mut seen = Seen::default();
    let mut agent_b = agent(&b, &token, None, &mut seen).await;
    let (mut visitor_a, conv, _) = visitor(&a, &site, "first").await;
    let burst = ids("burst", 300);
    send_all(&mut visitor_a, &conv, &burst).await;
    seen.until_all(&mut agent_b, &burst.iter().cloned().collect()).await;
    assert_eq!(seen.by_feed.len(), 301);
    drop(stuck);
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test]
async fn a_job_whose_runner_died_is_taken_over_when_its_lease_runs_out() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (_, site, token) = seed(&a).await;
    let mut watcher = Ws::agent(b.addr, &token, None).await;
    let (_visitor, conv, _) = visitor(&a, &site, "first").await;
    let api_b = Api::with_token(b.base(), &token);
    let until = now_ms() + 1500;
    api_b
        .ok(
            reqwest::Method::PUT,
            &format!("/api/v1/conversations/{conv}/status"),
            Some(json!({"status": "snoozed", "snoozed_until": until})),
        )
        .await;

    // A runner claims the wake-up and dies without a word: it holds the lease until it
    // runs out. (The claim is the store's own statement, run here so the story knows
    // which runner held it; then node A dies too.)
    let claimed = cluster
        .sql(&format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, leased_until = {} WHERE kind = 'wake_conversation' RETURNING attempts",
            until + 1000
        ))
        .await;
    assert_eq!(claimed.trim(), "1", "the timer was pending, claimed once");
    // Every node reads the queue from the shared table: held by a lease, nothing due.
    assert_eq!(b.metric("switchboard_job_queue{state=\"leased\"}").await, 1.0);
    assert_eq!(b.metric("switchboard_job_queue{state=\"due\"}").await, 0.0);
    a.kill().await;

    // B takes the job over once the lease has run out, and the conversation reopens once.
    loop {
        let f = watcher.next().await.expect("the watcher's socket closed");
        if f["type"] == "event" && f["event"]["kind"] == "status_changed" && f["event"]["status"] == "open" {
            assert!(now_ms() >= until + 1000, "not before the dead runner's lease ran out");
            break;
        }
    }
    // The runner commits the job's work, then finishes the job: wait for that second
    // step (the event above can arrive between the two).
    let finished = tokio::time::timeout(Duration::from_secs(10), async {
        while cluster.sql("SELECT count(*) FROM jobs WHERE state <> 'dead'").await.trim() != "0" {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    finished.await.expect("the job was never finished");
    assert_eq!(b.metric("switchboard_job_lease_takeovers_total").await, 1.0);
    assert_eq!(b.metric("switchboard_job_queue{state=\"leased\"}").await, 0.0, "the job is done");
    assert_eq!(b.metric("switchboard_job_queue{state=\"dead\"}").await, 0.0);
    let left = cluster.sql("SELECT count(*) FROM jobs").await;
    assert_eq!(left.trim(), "0", "the job is done, not run again");
}

/// Sends `ids` until each is acknowledged, sending again (same `client_id`) any that
/// failed: what a client does when a write fails with a retryable error.
async fn send_until_acked(ws: &mut Ws, conv: &str, ids: &[String]) -> usize {
    let mut acked = HashSet::new();
    let mut retries = 0;
    for id in ids {
        ws.send(json!({"type": "send", "client_id": id, "conversation_id": conv, "body": "hi"})).await;
    }
    while acked.len() < ids.len() {
        let f = ws.next().await.expect("visitor socket closed");
        match f["type"].as_str() {
            Some("ack") => {
                acked.insert(f["client_id"].as_str().unwrap().to_owned());
            }
            Some("error") if f["ref"].is_string() => {
                assert_eq!(f["code"], "unavailable", "a failed write says it can be retried: {f}");
                retries += 1;
                ws.send(json!({"type": "send", "client_id": f["ref"], "conversation_id": conv, "body": "hi"})).await;
            }
            _ => {}
        }
    }
    retries
}

#[tokio::test]
async fn postgresql_dropping_every_connection_mid_chat_loses_and_doubles_nothing() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (_, site, token) = seed(&a).await;
    let mut seen = Seen::default();
    let mut agent_b = agent(&b, &token, None, &mut seen).await;
    let (mut visitor_a, conv, _) = visitor(&a, &site, "first").await;
    let burst = ids("burst", 150);
    let (first, rest) = burst.split_at(50);
    send_all(&mut visitor_a, &conv, first).await;

    // What a PostgreSQL restart does to the nodes: every connection cut at once.
    let cut = cluster
        .sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        .await;
    assert!(cut.trim().parse::<u32>().unwrap() >= 2, "both nodes were connected: {cut}");
    send_until_acked(&mut visitor_a, &conv, rest).await;
    // And the whole burst once more, as a client unsure of its acks would: replays only.
    send_until_acked(&mut visitor_a, &conv, &burst).await;

    seen.until_all(&mut agent_b, &burst.iter().cloned().collect()).await;
    let api = Api::with_token(b.base(), &token);
    let all = stored(&api, &conv).await;
    assert_each_once(&all);
    assert_eq!(all.len(), 151, "the first message and the burst, each once");
    assert!(b.readyz().await.contains("database: ok"), "the nodes reconnected by themselves");
}

/// With the Redis bus, limits are cluster-wide: a visitor who used their burst on node A
/// is refused on node B too (each node counting alone would let them send the burst
/// again there).
#[tokio::test]
async fn a_visitor_limited_on_one_node_is_limited_on_the_other() {
    let cluster = Cluster::start().await;
    let limit = [
        ("SWITCHBOARD__LIMITS__RATES__MESSAGES_PER_VISITOR__BURST", "3"),
        ("SWITCHBOARD__LIMITS__RATES__MESSAGES_PER_VISITOR__EVERY_MS", "60000"),
    ];
    let (a, b) = (cluster.node_with("a", &limit).await, cluster.node_with("b", &limit).await);
    let (_, site, _) = seed(&a).await;
    a.wait_for_bus("live").await;

    let (mut on_a, conv, token) = visitor(&a, &site, "first").await;
    on_a.say(Some(&conv), "second", "hi").await;
    on_a.say(Some(&conv), "third", "hi").await;
    let mut on_b = Ws::visitor(b.addr, &site, Some(&token), None).await;
    on_b.send(json!({"type": "send", "client_id": "fourth", "conversation_id": conv, "body": "hi"})).await;
    let refused = on_b.expect("error").await;
    assert_eq!(refused["code"], "rate_limited", "{refused}");
    let wait = refused["retry_after_ms"].as_u64().expect("retry_after_ms");
    assert!(wait > 50_000, "the bucket A emptied, refilling one a minute: {wait} ms");
    // A visitor who has sent nothing yet is served on B.
    visitor(&b, &site, "someone-else").await;
}

/// A ban made on node A closes the banned visitor's socket on node B at once, and B
/// refuses them from then on.
#[tokio::test]
async fn a_ban_on_one_node_closes_the_visitor_on_the_other() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (owner, site, _) = seed(&a).await;
    a.wait_for_bus("live").await;
    b.wait_for_bus("live").await;

    let (mut troll, _, token) = visitor(&b, &site, "first").await;
    let contact = troll.welcome["contact_id"].as_str().expect("contact_id").to_owned();
    let (mut neighbour, _, _) = visitor(&b, &site, "hello").await;
    let ban = json!({"kind": "contact", "value": contact, "reason": "abuse"});
    owner.ok(reqwest::Method::POST, "/api/v1/bans", Some(ban)).await;

    let told = troll.expect("error").await;
    assert_eq!(told["code"], "banned", "{told}");
    assert_eq!(troll.closed_with().await, Some(1008), "B closed the socket");
    let mut again = Ws::connect(&format!("ws://{}/ws/visitor?site={site}", b.addr), None).await.unwrap();
    again.send(json!({"type": "hello", "token": token, "resume": []})).await;
    assert_eq!(again.expect("error").await["code"], "banned", "B refuses them from now on");
    // Only the banned visitor: the other socket on B still answers.
    neighbour.send(json!({"type": "ping"})).await;
    neighbour.expect("pong").await;
}

#[tokio::test]
async fn a_file_uploaded_on_one_node_downloads_from_another_through_s3() {
    let mut cluster = Cluster::start().await;

    // Uploads on one node's disk would be missing on the other: such a cluster refuses
    // to start, and says what to do instead.
    cluster.blobs = vec![];
    let refused = cluster.command("local").args(["serve", "--listen", "127.0.0.1:0"]).output().await.unwrap();
    assert!(!refused.status.success(), "a cluster node with node-local uploads must not start");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("blobs.shared = true") && said.contains("blobs.backend = \"s3\""), "{said}");

    let s3 = EphemeralS3::start().await.expect("an S3-compatible server");
    s3.create_bucket("switchboard-uploads").await.unwrap();
    cluster.blobs = vec![
        ("BACKEND", "s3".to_owned()),
        ("BUCKET", "switchboard-uploads".to_owned()),
        ("ENDPOINT", s3.endpoint().to_owned()),
        ("REGION", "us-east-1".to_owned()),
        ("ACCESS_KEY_ID", "switchboard".to_owned()),
        ("SECRET_ACCESS_KEY", "not-checked-by-this-server".to_owned()),
    ];
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (owner_a, site, token) = seed(&a).await;

    // The team uploads on A and downloads on B.
    let report = b"quarterly report: every number in order".to_vec();
    let uploaded = owner_a.upload("report.txt", report.clone()).await.expect("an upload on A");
    let api_b = Api::with_token(b.base(), &token);
    assert_eq!(api_b.attachment(uploaded.id).await.expect("a download on B"), report, "B serves A's upload, byte for byte");

    // A visitor on B uploads from the widget; the agent on A downloads it.
    let (_visitor_b, _conv, visitor_token) = visitor(&b, &site, "first").await;
    let photo = vec![0x5au8; 200_000];
    let anon = Api::new(b.base());
    let theirs = anon.widget_upload(&site, &visitor_token, "photo.bin", photo.clone()).await.expect("a visitor's upload on B");
    let api_a = Api::with_token(a.base(), &token);
    assert_eq!(api_a.attachment(theirs.id).await.expect("a download on A"), photo);
}

/// The contact ids on the live list (`GET /visitors/live`) of the node `api` talks to.
async fn live_ids(api: &Api) -> Vec<String> {
    let live = api.ok(reqwest::Method::GET, "/api/v1/visitors/live", None).await;
    live["visitors"].as_array().unwrap().iter().map(|v| v["contact_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_live_list_is_cluster_wide_and_a_killed_nodes_visitors_vanish_within_the_ttl() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (owner, site, token) = seed(&a).await;

    // A visitor browses on B.
    let mut visitor = Ws::visitor(b.addr, &site, None, None).await;
    let contact = visitor.welcome["contact_id"].as_str().unwrap().to_owned();
    visitor.send(json!({"type": "page", "url": "https://shop.example/pricing", "title": "Pricing"})).await;

    // An agent connecting to A sees them in its first snapshot, from B's rows in Redis
    // (B writes them soon after the arrival: wait for that, not for a fixed time).
    let snapshot = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let mut agent = Ws::agent(a.addr, &token, None).await;
            agent.expect("caught_up").await;
            agent.send(json!({"type": "visitors", "watch": true, "site_id": null})).await;
            let frame = agent.expect("visitors").await;
            let rows = frame["visitors"].as_array().unwrap().clone();
            if rows.iter().any(|r| r["contact_id"] == contact.as_str()) {
                return (agent, rows);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let (_agent, rows) = snapshot.await.expect("A's snapshot never showed B's visitor");
    let row = rows.iter().find(|r| r["contact_id"] == contact.as_str()).unwrap();
    assert_eq!(row["url"], "https://shop.example/pricing");
    assert_eq!(rows.len(), 1, "one row per visitor, whichever node holds it");
    assert_eq!(live_ids(&owner).await, [contact.as_str()], "the REST list too");
    let mut on_b = Api::new(b.base());
    on_b.login(OWNER, PASSWORD).await.unwrap();
    assert_eq!(live_ids(&on_b).await, [contact.as_str()], "B's own list, not doubled");

    // The owner, signed in on A, invites the visitor on B: the invitation reaches B's
    // socket, and the visitor's answer there starts a conversation assigned to the owner.
    let invited = owner
        .ok(reqwest::Method::POST, &format!("/api/v1/contacts/{contact}/invite"), Some(json!({"body": "Questions about pricing?"})))
        .await;
    let shown = visitor.expect("invitation").await;
    assert_eq!(shown["invitation"]["id"], invited["id"], "{shown}");
    visitor.send(json!({"type": "send", "client_id": "answer-1", "body": "Yes, the yearly plan", "invitation_id": invited["id"]})).await;
    let ack = visitor.expect("ack").await;
    let conversation = ack["conversation_id"].as_str().expect("the answer started a conversation").to_owned();
    let seen = owner.ok(reqwest::Method::GET, &format!("/api/v1/conversations/{conversation}"), None).await;
    assert_eq!(seen["assignee_id"], invited["agent"]["id"], "assigned to the inviting agent: {seen}");
    assert!(seen["assignee_id"].is_string());

    // B dies without a word: its visitors leave A's list within the TTL (1 s here).
    b.kill().await;
    let killed = std::time::Instant::now();
    let gone = tokio::time::timeout(Duration::from_secs(10), async {
        while !live_ids(&owner).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    gone.await.expect("B's visitor never left A's list");
    assert!(killed.elapsed() < Duration::from_millis(2_500), "gone within the TTL, took {:?}", killed.elapsed());
}

/// Reads `ws` until a frame for which `pick` gives something, or `within` passes.
async fn frame_within<T>(ws: &mut Ws, within: Duration, mut pick: impl FnMut(&Value) -> Option<T>) -> Option<T> {
    let wait = async {
        loop {
            let f = ws.next().await.expect("the socket closed");
            if let Some(found) = pick(&f) {
                return found;
            }
        }
    };
    tokio::time::timeout(within, wait).await.ok()
}

/// A node killed with `kill -9` says nothing about its visitors: the node where an agent
/// watches the live list notices that the dead node's rows expired and tells the agent
/// `visitor_left`, as a departure would. A visitor whose widget reconnects to the living
/// node is not reported as gone: the agent hears them arrive there, as a reconnect on one
/// node is heard (a `visitor` row), and never hears them leave.
#[tokio::test]
async fn a_killed_nodes_visitors_leave_the_list_of_an_agent_already_watching() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (_, site, token) = seed(&a).await;
    a.wait_for_bus("live").await;
    b.wait_for_bus("live").await;

    // The agent watches on B; nobody is on the site yet.
    let mut agent = Ws::agent(b.addr, &token, None).await;
    agent.expect("caught_up").await;
    agent.send(json!({"type": "visitors", "watch": true, "site_id": null})).await;
    assert_eq!(agent.expect("visitors").await["visitors"], json!([]));

    // Ana and Ben browse on A; the agent on B hears them arrive over the bus.
    let page = |url: &str| json!({"type": "page", "url": url, "title": "Shop"});
    let mut ana = Ws::visitor(a.addr, &site, None, None).await;
    let ana_id = ana.welcome["contact_id"].as_str().unwrap().to_owned();
    ana.send(page("https://shop.example/pricing")).await;
    let mut ben = Ws::visitor(a.addr, &site, None, None).await;
    let ben_id = ben.welcome["contact_id"].as_str().unwrap().to_owned();
    let ben_token = ben.welcome["token"].as_str().unwrap().to_owned();
    ben.send(page("https://shop.example/shoes")).await;
    let (mut arrived, mut site_id) = (HashSet::new(), Value::Null);
    while arrived.len() < 2 {
        let f = agent.expect("visitor").await;
        arrived.insert(f["visitor"]["contact_id"].as_str().unwrap().to_owned());
        site_id = f["visitor"]["site_id"].clone();
    }
    assert_eq!(arrived, HashSet::from([ana_id.clone(), ben_id.clone()]));
    // A has written them to Redis (B's snapshot shows them): B's heartbeat knows them.
    let on_b = Api::with_token(b.base(), &token);
    let written = tokio::time::timeout(Duration::from_secs(10), async {
        while live_ids(&on_b).await.len() < 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    written.await.expect("A never wrote its visitors to Redis");

    // A dies without a word. Ben's widget reconnects to B at once and opens his page again.
    a.kill().await;
    drop((ana, ben));
    let killed = std::time::Instant::now();
    let mut ben = Ws::visitor(b.addr, &site, Some(&ben_token), None).await;
    assert_eq!(ben.welcome["contact_id"], ben_id.as_str(), "the same contact");
    ben.send(page("https://shop.example/shoes")).await;

    // Ana leaves the agent's list once A's rows expire (TTL 1 s), with no reload.
    let mut about_ben = vec![];
    let left = frame_within(&mut agent, Duration::from_secs(8), |f| {
        if f["contact_id"] == ben_id.as_str() || f["visitor"]["contact_id"] == ben_id.as_str() {
            about_ben.push(f["type"].as_str().unwrap().to_owned());
        }
        (f["type"] == "visitor_left" && f["contact_id"] == ana_id.as_str()).then(|| f.clone())
    })
    .await
    .expect("the agent on B never heard that Ana left with A");
    assert_eq!(left["site_id"], site_id, "{left}");
    assert!(killed.elapsed() < Duration::from_secs(5), "told within the TTL and a confirmation, took {:?}", killed.elapsed());

    // Ben is still there. Whatever B told about him was published before his next page,
    // so reading up to that page's row sees it all: arrivals, never a departure.
    ben.send(page("https://shop.example/shoes/red")).await;
    frame_within(&mut agent, Duration::from_secs(5), |f| {
        if f["contact_id"] == ben_id.as_str() || f["visitor"]["contact_id"] == ben_id.as_str() {
            about_ben.push(f["type"].as_str().unwrap().to_owned());
        }
        (f["type"] == "visitor" && f["visitor"]["url"] == "https://shop.example/shoes/red").then_some(())
    })
    .await
    .expect("the agent never saw Ben's next page");
    assert!(!about_ben.contains(&"visitor_left".to_owned()), "Ben reconnected to B, he did not leave: {about_ben:?}");
    assert_eq!(live_ids(&on_b).await, [ben_id.as_str()], "B's list: Ben, and Ana gone");
}

/// The dashboard's navigation only counts the visitors (`visitor_count`), without
/// watching the list: a node killed with `kill -9` still takes its visitors off that count.
#[tokio::test]
async fn a_killed_nodes_visitors_leave_the_visitor_count_of_an_agent_on_another_node() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (_, site, token) = seed(&a).await;
    a.wait_for_bus("live").await;
    b.wait_for_bus("live").await;

    let mut agent = Ws::agent(b.addr, &token, None).await;
    agent.expect("caught_up").await;
    agent.send(json!({"type": "visitor_count", "watch": true})).await;
    assert_eq!(agent.expect("visitor_count").await["count"], 0);

    // Ana browses on A; the count on B goes up over the bus.
    let mut ana = Ws::visitor(a.addr, &site, None, None).await;
    ana.send(json!({"type": "page", "url": "https://shop.example/pricing", "title": "Shop"})).await;
    assert_eq!(agent.expect("visitor_count").await["count"], 1);
    let on_b = Api::with_token(b.base(), &token);
    let written = tokio::time::timeout(Duration::from_secs(10), async {
        while live_ids(&on_b).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    written.await.expect("A never wrote its visitors to Redis");

    a.kill().await;
    drop(ana);
    let zero = frame_within(&mut agent, Duration::from_secs(8), |f| (f["type"] == "visitor_count" && f["count"] == 0).then_some(()));
    zero.await.expect("the count on B never forgot the visitor of the killed node");
}

/// Sends `frame` from the visitor, again every 100 ms, until `effect` shows on `watch`
/// (at most 5 s). The change crosses the bus in milliseconds, but nothing orders it
/// before the visitor's next frame on the other node; a node that never drops its copy
/// never shows the effect.
async fn until_effect<T>(visitor: &mut Ws, frame: impl Fn(usize) -> Value, mut effect: impl FnMut(&Value) -> Option<T>) -> T {
    let tried = async {
        for n in 0.. {
            visitor.send(frame(n)).await;
            if let Some(found) = frame_within(visitor, Duration::from_millis(100), &mut effect).await {
                return found;
            }
        }
        unreachable!()
    };
    tokio::time::timeout(Duration::from_secs(5), tried).await.expect("the change made on A never reached the visitor on B")
}

/// Each node keeps copies of the site, the scoring rules and the proactive rules that
/// visitor moments read (`core/src/rules_cache.rs`). A change an admin makes through node
/// A drops node B's copies at once through `RulesChanged`, not after some expiry: B's
/// visitor is invited by a new rule, scored by a new scoring rule, and their event counted
/// as a conversion once the site declares it.
/// The id of the site whose public key is `key`.
async fn site_id(owner: &Api, key: &str) -> String {
    let sites = owner.ok(reqwest::Method::GET, "/api/v1/sites", None).await;
    sites.as_array().unwrap().iter().find(|s| s["public_key"] == key).unwrap()["id"].as_str().unwrap().to_owned()
}

/// A proactive rule that invites, once per visit, with `body` on a pricing page.
fn pricing_rule(name: &str, body: &str) -> Value {
    json!({
        "name": name, "enabled": true, "frequency": "once_per_visit",
        "conditions": [{"kind": "url", "match": "contains", "value": "/pricing"}],
        "actions": [{"kind": "message", "body": body, "agent_id": null, "typing_seconds": 0}],
    })
}

#[tokio::test]
async fn rules_scoring_and_site_changed_on_one_node_hold_at_once_for_a_visitor_on_the_other() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (owner, site, token) = seed(&a).await;
    a.wait_for_bus("live").await;
    b.wait_for_bus("live").await;
    let site_id = site_id(&owner, &site).await;
    let triggers = format!("/api/v1/sites/{site_id}/triggers");
    owner.ok(reqwest::Method::POST, &triggers, Some(pricing_rule("First", "first"))).await;

    // A visitor on B: their first page fires the first rule, so B now holds its copies
    // of the site, the (empty) scoring and the rules.
    let mut visitor = Ws::visitor(b.addr, &site, None, None).await;
    let page = |n: usize| json!({"type": "page", "url": format!("https://shop.example/pricing?step={n}"), "title": "Pricing"});
    visitor.send(page(0)).await;
    assert_eq!(visitor.expect("invitation").await["invitation"]["body"], "first");

    // A rule made on A: B's visitor is invited by it (the first rule fired this visit already).
    owner.ok(reqwest::Method::POST, &triggers, Some(pricing_rule("Second", "second"))).await;
    let body = |f: &Value| (f["type"] == "invitation").then(|| f["invitation"]["body"].clone());
    assert_eq!(until_effect(&mut visitor, page, body).await, "second", "the first rule fired once this visit");

    // A scoring rule set on A: B's next page of the visitor earns its points. An agent
    // watching on B sees the score move.
    let mut agent = Ws::agent(b.addr, &token, None).await;
    agent.expect("caught_up").await;
    agent.send(json!({"type": "visitors", "watch": true, "site_id": null})).await;
    assert_eq!(agent.expect("visitors").await["visitors"][0]["lead_score"], 0);
    let scoring = json!({"rules": [{"kind": "event", "name": "compare", "points": 7}], "half_life_days": null, "priority_at": null});
    owner.ok(reqwest::Method::PUT, "/api/v1/scoring", Some(scoring)).await;
    let track = |name: &str| json!({"type": "track", "name": name, "data": {}});
    let scored = async {
        loop {
            visitor.send(track("compare")).await;
            let seen = frame_within(&mut agent, Duration::from_millis(100), |f| {
                (f["type"] == "visitor" && f["visitor"]["lead_score"].as_i64() > Some(0)).then(|| f["visitor"]["lead_score"].clone())
            });
            if let Some(score) = seen.await {
                return score;
            }
        }
    };
    let score = tokio::time::timeout(Duration::from_secs(5), scored).await.expect("the scoring set on A never counted on B");
    assert_eq!(score.as_i64().unwrap() % 7, 0, "points of the new rule: {score}");

    // The site: "purchase" declared a conversion event on A counts on B's next event.
    let conversions = format!("/api/v1/sites/{site_id}/conversions");
    owner.ok(reqwest::Method::PATCH, &format!("/api/v1/sites/{site_id}"), Some(json!({"conversion_events": ["purchase"]}))).await;
    let converted = async {
        loop {
            visitor.send(track("purchase")).await;
            // The visitor's answer to a ping follows the event's handling on B.
            visitor.send(json!({"type": "ping"})).await;
            visitor.expect("pong").await;
            if !owner.ok(reqwest::Method::GET, &conversions, None).await["conversions"].as_array().unwrap().is_empty() {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), converted).await.expect("the conversion event declared on A never counted on B");
}

/// Each node keeps the workspace's inbox visibility (`core/src/visibility.rs`). An admin
/// restricting inboxes through node A holds at once for an agent's request on node B,
/// through `WorkspaceChanged`, and opening them again too.
#[tokio::test]
async fn inbox_visibility_changed_on_one_node_holds_at_once_for_an_agent_on_the_other() {
    let cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (owner, site, _) = seed(&a).await;
    a.wait_for_bus("live").await;
    b.wait_for_bus("live").await;
    let agent = json!({"email": "ana@shop.example", "name": "Ana", "role": "agent", "password": PASSWORD});
    owner.ok(reqwest::Method::POST, "/api/v1/agents", Some(agent)).await;
    let mut ana = Api::new(b.base());
    ana.login("ana@shop.example", PASSWORD).await.unwrap();
    // A conversation of Billing, a team Ana is not in: she sees it while inboxes are open.
    let billing = owner.ok(reqwest::Method::POST, "/api/v1/teams", Some(json!({"name": "Billing", "agent_ids": []}))).await;
    let sites = owner.ok(reqwest::Method::GET, "/api/v1/sites", None).await;
    let site_id = sites.as_array().unwrap().iter().find(|s| s["public_key"] == site.as_str()).unwrap()["id"].as_str().unwrap().to_owned();
    let to_billing = json!({"default_team_id": billing["id"]});
    owner.ok(reqwest::Method::PATCH, &format!("/api/v1/sites/{site_id}"), Some(to_billing)).await;
    let (_visitor, conversation, _) = visitor(&a, &site, "first").await;
    let path = format!("/api/v1/conversations/{conversation}");
    assert_eq!(ana.get(&path).await.0, reqwest::StatusCode::OK, "B now holds the workspace's visibility: all");

    // Restricted on A: Ana, in no team, no longer sees it on B.
    owner.ok(reqwest::Method::PATCH, "/api/v1/workspace", Some(json!({"inbox_visibility": "teams"}))).await;
    answers_soon(&ana, &path, reqwest::StatusCode::NOT_FOUND).await;
    // And opened again on A: she sees it on B again.
    owner.ok(reqwest::Method::PATCH, "/api/v1/workspace", Some(json!({"inbox_visibility": "all"}))).await;
    answers_soon(&ana, &path, reqwest::StatusCode::OK).await;
}

/// Waits (at most 5 s) until `GET path` answers `want`: the change crossed the bus.
async fn answers_soon(api: &Api, path: &str, want: reqwest::StatusCode) {
    let waited = tokio::time::timeout(Duration::from_secs(5), async {
        while api.get(path).await.0 != want {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    waited.await.unwrap_or_else(|_| panic!("{path} never answered {want} after the change on A"));
}

/// A visitor whose widget reconnects to the other node within `live.leave_grace_ms` (a
/// load balancer need not send them back) has not left: the agent hears them arrive on
/// B, and A, when its grace period ends, tells nobody they left, as a reconnect on one
/// node is no departure. Cem, who closes his tab on A later and does not come back, is
/// told gone: A still reports real departures.
#[tokio::test]
async fn a_visitor_reconnecting_to_the_other_node_within_the_grace_period_does_not_leave() {
    let cluster = Cluster::start().await;
    let grace = [("SWITCHBOARD__LIVE__LEAVE_GRACE_MS", "1000")];
    let (a, b) = (cluster.node_with("a", &grace).await, cluster.node_with("b", &grace).await);
    let (_, site, token) = seed(&a).await;
    a.wait_for_bus("live").await;
    b.wait_for_bus("live").await;
    let mut agent = Ws::agent(b.addr, &token, None).await;
    agent.expect("caught_up").await;
    agent.send(json!({"type": "visitors", "watch": true, "site_id": null})).await;
    agent.expect("visitors").await;

    let page = json!({"type": "page", "url": "https://shop.example/pricing", "title": "Pricing"});
    let mut ana = Ws::visitor(a.addr, &site, None, None).await;
    let (ana_id, ana_token) = (ana.welcome["contact_id"].as_str().unwrap().to_owned(), ana.welcome["token"].as_str().unwrap().to_owned());
    ana.send(page.clone()).await;
    let mut cem = Ws::visitor(a.addr, &site, None, None).await;
    let cem_id = cem.welcome["contact_id"].as_str().unwrap().to_owned();
    cem.send(page.clone()).await;
    let mut arrived = HashSet::new();
    while arrived.len() < 2 {
        arrived.insert(agent.expect("visitor").await["visitor"]["contact_id"].as_str().unwrap().to_owned());
    }

    // Ana's connection to A drops; her widget reconnects to B.
    drop(ana);
    let mut ana = Ws::visitor(b.addr, &site, Some(&ana_token), None).await;
    ana.send(page.clone()).await;
    let on_b = frame_within(&mut agent, Duration::from_secs(5), |f| {
        (f["type"] == "visitor" && f["visitor"]["contact_id"] == ana_id.as_str()).then(|| f["visitor"]["tabs"].clone())
    });
    assert_eq!(on_b.await, Some(json!(1)), "the agent hears Ana on B");
    // Then Cem closes his tab on A for good; his grace period ends after Ana's.
    drop(cem);
    let mut left = vec![];
    let cem_left = frame_within(&mut agent, Duration::from_secs(5), |f| {
        if f["type"] == "visitor_left" {
            left.push(f["contact_id"].as_str().unwrap().to_owned());
        }
        left.contains(&cem_id).then_some(())
    });
    cem_left.await.expect("A never said Cem left");
    assert_eq!(left, [cem_id.as_str()], "Ana is on B: A says nothing of her");
    // B's list: Ana, once A has rewritten its rows without Cem (soon after he left).
    let on_b = Api::with_token(b.base(), &token);
    let settled = tokio::time::timeout(Duration::from_secs(5), async {
        while live_ids(&on_b).await != [ana_id.as_str()] {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    settled.await.expect("B's list never came to Ana alone");
    ana.send(json!({"type": "ping"})).await;
    ana.expect("pong").await;
}

/// A `RulesChanged` published while Redis is down is lost (only events are read again
/// from the database). So a node whose link comes back drops its copies of every
/// workspace's settings (`BusMessage::Resync`): a rule made on A during the outage
/// reaches B's visitor once Redis is back, not at B's next restart.
#[tokio::test]
async fn a_rule_changed_while_redis_was_down_holds_on_the_other_node_once_it_is_back() {
    let mut cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (owner, site, _) = seed(&a).await;
    a.wait_for_bus("live").await;
    b.wait_for_bus("live").await;
    let site_id = site_id(&owner, &site).await;
    let triggers = format!("/api/v1/sites/{site_id}/triggers");
    owner.ok(reqwest::Method::POST, &triggers, Some(pricing_rule("First", "first"))).await;
    let mut visitor = Ws::visitor(b.addr, &site, None, None).await;
    let page = |n: usize| json!({"type": "page", "url": format!("https://shop.example/pricing?step={n}"), "title": "Pricing"});
    visitor.send(page(0)).await;
    assert_eq!(visitor.expect("invitation").await["invitation"]["body"], "first", "B holds its copy of the rules");

    let (owner, b_ref) = (&owner, &b);
    cluster
        .redis
        .restart_after(async || {
            b_ref.wait_for_bus("degraded").await;
            // Stored on A; its RulesChanged goes nowhere.
            owner.ok(reqwest::Method::POST, &triggers, Some(pricing_rule("Second", "second"))).await;
        })
        .await
        .expect("Redis starts again");
    b.wait_for_bus("live").await;
    let body = |f: &Value| (f["type"] == "invitation").then(|| f["invitation"]["body"].clone());
    assert_eq!(until_effect(&mut visitor, page, body).await, "second");
}

/// An erasure on A while Redis is down publishes a `ContactErased` that reaches nobody;
/// once the bus is back, B checks its open visitor sockets against the database and
/// closes the erased person's, as it would have at once.
#[tokio::test]
async fn a_contact_erased_while_redis_was_down_is_closed_on_the_other_node_once_it_is_back() {
    let mut cluster = Cluster::start().await;
    let (a, b) = (cluster.node("a").await, cluster.node("b").await);
    let (owner, site, _) = seed(&a).await;
    a.wait_for_bus("live").await;
    b.wait_for_bus("live").await;

    let (mut erased, _, _) = visitor(&b, &site, "please erase me").await;
    let contact = erased.welcome["contact_id"].as_str().expect("contact_id").to_owned();
    let (mut neighbour, _, _) = visitor(&b, &site, "hello").await;

    let (owner, b_ref, contact_ref) = (&owner, &b, &contact);
    cluster
        .redis
        .restart_after(async || {
            b_ref.wait_for_bus("degraded").await;
            // Stored on A; its ContactErased goes nowhere.
            owner.ok(reqwest::Method::POST, &format!("/api/v1/contacts/{contact_ref}/erase"), None).await;
        })
        .await
        .expect("Redis starts again");
    b.wait_for_bus("live").await;

    let told = erased.expect("error").await;
    assert_eq!(told["code"], "invalid_token", "{told}");
    assert_eq!(erased.closed_with().await, Some(1008), "B closed the erased person's socket");
    // Only theirs: the other visitor on B still answers.
    neighbour.send(json!({"type": "ping"})).await;
    neighbour.expect("pong").await;
}
