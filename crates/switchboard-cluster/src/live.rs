//! The cluster-wide live visitor list (issue 16): each node writes its own live rows
//! (core's registry, through `LiveSource`) to Redis under a TTL, soon after a visitor
//! arrives or leaves and at every presence heartbeat; a snapshot (an agent's `visitors`
//! watch, `GET /visitors/live`) reads the other nodes' rows of its workspace then. Page
//! changes need no write: they cross on the bus to the agents already watching, and a
//! new snapshot shows a row at most a heartbeat old (its page, not its presence).
//!
//! Redis keys, under `sb:{cluster}:`:
//! - `live:{node}:{workspace}`: STRING, the node's rows of the workspace (a JSON array
//!   of wire `LiveVisitor`s, the form the bus already carries), expiring after the TTL;
//! - `live-nodes:{workspace}`: ZSET, node → when its rows expire (Unix ms), so a reader
//!   knows whom to read in one round trip.
//!
//! A node killed with `kill -9` stops refreshing: its rows expire and its visitors
//! leave every other node's snapshot within the TTL. Agents already watching hear no
//! `VisitorLeft` from a dead node, so for the workspaces with a watching socket here
//! (`LiveSource::watched`) the writer also reads the other nodes' rows at every
//! heartbeat (two round trips for all of them) and `departures.rs` works out who left
//! with their node; this node tells its own sockets (`Bus::publish_local`), in the
//! message a departure is. A workspace a node no longer has visitors in is written once
//! more as an empty list (so the others read that its visitors left by its own account,
//! not with it), then left to expire.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_bus::{Bus, BusMessage, Topic, now_us};
use switchboard_core::{LiveElsewhere, LiveSource};
use switchboard_domain::{LiveVisitor, WorkspaceId};
use switchboard_proto as wire;
use tokio::sync::{Notify, watch};

use crate::departures::{Departures, Key, Read};
use crate::settings::RedisSettings;

/// Writes wait at least this long after the previous one, so an arrival storm costs a
/// few writes a second, not one per visitor.
const MIN_GAP: Duration = Duration::from_millis(100);

struct Inner {
    settings: RedisSettings,
    client: redis::Client,
    source: LiveSource,
    /// Carries the departures this node works out for itself to its own sockets.
    bus: Arc<dyn Bus>,
    changed: Notify,
    /// The connection snapshots read through (the writer keeps its own).
    reader: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    /// What each workspace's last successful read found, for when Redis does not answer.
    last: Mutex<HashMap<WorkspaceId, Vec<LiveVisitor>>>,
    failures: AtomicUsize,
}

pub struct RedisLive {
    inner: Arc<Inner>,
    stop: watch::Sender<()>,
}

impl RedisLive {
    /// Shares this node's live rows (`source`) through the Redis of `settings` and
    /// reads the other nodes'; `bus` tells this node's sockets about visitors who left
    /// with a dead node. Starts its writer: call inside a tokio runtime.
    pub fn start(settings: RedisSettings, source: LiveSource, bus: Arc<dyn Bus>) -> anyhow::Result<Self> {
        let client = redis::Client::open(settings.url.as_str())
            .map_err(|e| anyhow::anyhow!("bus.redis_url is not a usable redis:// or rediss:// URL: {e}"))?;
        let inner = Arc::new(Inner {
            settings,
            client,
            source,
            bus,
            changed: Notify::new(),
            reader: tokio::sync::Mutex::new(None),
            last: Mutex::default(),
            failures: AtomicUsize::new(0),
        });
        let (stop, stopped) = watch::channel(());
        tokio::spawn(writer(inner.clone(), stopped));
        Ok(Self { inner, stop })
    }
}

impl Drop for RedisLive {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

fn prefix(settings: &RedisSettings) -> String {
    format!("sb:{}", settings.cluster)
}

/// Writes this node's rows at every heartbeat and soon after each arrival or departure;
/// at every heartbeat, also looks for visitors who left with a dead node.
async fn writer(inner: Arc<Inner>, mut stop: watch::Receiver<()>) {
    let mut conn: Option<redis::aio::MultiplexedConnection> = None;
    let mut written: HashSet<WorkspaceId> = HashSet::new();
    let mut departures: HashMap<WorkspaceId, Departures> = HashMap::new();
    let mut since_read = std::time::Instant::now();
    loop {
        let changed = tokio::select! {
            _ = tokio::time::sleep(inner.settings.presence_heartbeat) => false,
            _ = inner.changed.notified() => true,
            _ = stop.changed() => return,
        };
        if conn.is_none() {
            conn = match tokio::time::timeout(inner.settings.connect_timeout(), inner.client.get_multiplexed_async_connection()).await {
                Ok(Ok(c)) => Some(c),
                _ => None,
            };
        }
        let Some(c) = conn.as_mut() else {
            inner.failed("cannot connect to Redis");
            continue;
        };
        // An arrival is written at once, but the others are read at the heartbeat.
        let read = !changed || since_read.elapsed() >= inner.settings.presence_heartbeat;
        let beat = async {
            write(&inner, c, &mut written).await?;
            if read { watch_departures(&inner, c, &mut departures).await } else { Ok(()) }
        };
        match tokio::time::timeout(inner.settings.connect_timeout(), beat).await {
            Ok(Ok(())) => {
                inner.failures.store(0, Ordering::Relaxed);
                if read {
                    since_read = std::time::Instant::now();
                }
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "writing or reading the live list failed");
                inner.failed("a Redis command failed");
                conn = None;
            }
            Err(_) => {
                inner.failed("Redis did not answer in time");
                conn = None;
            }
        }
        tokio::time::sleep(MIN_GAP.min(inner.settings.presence_heartbeat / 4)).await;
    }
}

/// Reads the other nodes' rows of every workspace watched here, and tells this node's
/// sockets who left with their node. Nothing is told when the read fails.
async fn watch_departures(
    inner: &Inner,
    c: &mut redis::aio::MultiplexedConnection,
    departures: &mut HashMap<WorkspaceId, Departures>,
) -> redis::RedisResult<()> {
    let watched = inner.source.watched();
    departures.retain(|ws, _| watched.contains(ws));
    if watched.is_empty() {
        return Ok(());
    }
    let reads = read_many(inner, c, &watched).await?;
    let now_ms = now_us() / 1000;
    // Half a TTL: every live node rewrites its rows at each heartbeat, well within it.
    let confirm_ms = (inner.settings.presence_ttl.as_millis() / 2) as i64;
    // This node's own visitors, taken after the read: one who arrived meanwhile is here.
    let here = inner.source.rows();
    for (ws, read) in reads {
        let mine: HashSet<Key> = here.get(&ws).into_iter().flatten().map(|r| (r.site_id, r.contact_id)).collect();
        for (site_id, contact_id) in departures.entry(ws).or_default().update(&read, &mine, now_ms, confirm_ms) {
            inner.bus.publish_local(Topic::Workspace(ws), Arc::new(BusMessage::VisitorLeft { contact_id, site_id }));
        }
    }
    Ok(())
}

/// One write: every workspace's rows with the TTL, and the workspaces emptied since the
/// last write removed.
async fn write(inner: &Inner, c: &mut redis::aio::MultiplexedConnection, written: &mut HashSet<WorkspaceId>) -> redis::RedisResult<()> {
    let prefix = prefix(&inner.settings);
    let node = &inner.settings.node;
    let ttl_ms = inner.settings.presence_ttl.as_millis() as i64;
    let now_ms = now_us() / 1000;
    let rows = inner.source.rows();
    let mut pipe = redis::pipe();
    for (ws, rows) in &rows {
        let wire: Vec<wire::LiveVisitor> = rows.iter().map(wire::LiveVisitor::from).collect();
        let stored = serde_json::to_string(&wire).expect("live rows serialise");
        pipe.cmd("SET").arg(format!("{prefix}:live:{node}:{}", ws.0)).arg(stored).arg("PX").arg(ttl_ms).ignore();
        let nodes = format!("{prefix}:live-nodes:{}", ws.0);
        pipe.cmd("ZADD").arg(&nodes).arg(now_ms + ttl_ms).arg(node).ignore();
        pipe.cmd("ZREMRANGEBYSCORE").arg(&nodes).arg("-inf").arg(now_ms).ignore();
        pipe.cmd("PEXPIRE").arg(&nodes).arg(ttl_ms).ignore();
    }
    let now: HashSet<WorkspaceId> = rows.keys().copied().collect();
    // Emptied since the last write: an empty list once, so the other nodes read that
    // its visitors left by this node's account; then it expires.
    for gone in written.difference(&now) {
        pipe.cmd("SET").arg(format!("{prefix}:live:{node}:{}", gone.0)).arg("[]").arg("PX").arg(ttl_ms).ignore();
        let nodes = format!("{prefix}:live-nodes:{}", gone.0);
        pipe.cmd("ZADD").arg(&nodes).arg(now_ms + ttl_ms).arg(node).ignore();
        pipe.cmd("PEXPIRE").arg(&nodes).arg(ttl_ms).ignore();
    }
    if rows.is_empty() && written.is_empty() {
        return Ok(());
    }
    pipe.query_async::<()>(c).await?;
    *written = now;
    Ok(())
}

/// The other nodes' rows of `ws`: whom to read, then their rows, in two round trips.
async fn read(inner: &Inner, c: &mut redis::aio::MultiplexedConnection, ws: WorkspaceId) -> redis::RedisResult<Vec<LiveVisitor>> {
    let mut reads = read_many(inner, c, &[ws]).await?;
    Ok(reads.remove(&ws).unwrap_or_default().into_values().flatten().collect())
}

/// The other nodes' current rows of each workspace, by node, in two round trips
/// whatever the number of workspaces: who is current in each, then all their rows.
async fn read_many(
    inner: &Inner,
    c: &mut redis::aio::MultiplexedConnection,
    workspaces: &[WorkspaceId],
) -> redis::RedisResult<HashMap<WorkspaceId, Read>> {
    let prefix = prefix(&inner.settings);
    let now_ms = now_us() / 1000;
    let mut pipe = redis::pipe();
    for ws in workspaces {
        pipe.cmd("ZRANGEBYSCORE").arg(format!("{prefix}:live-nodes:{}", ws.0)).arg(now_ms).arg("+inf");
    }
    let nodes: Vec<Vec<String>> = pipe.query_async(c).await?;
    let wanted: Vec<(WorkspaceId, String)> = workspaces
        .iter()
        .zip(nodes)
        .flat_map(|(ws, nodes)| nodes.into_iter().filter(|n| *n != inner.settings.node).map(move |n| (*ws, n)))
        .collect();
    let mut reads: HashMap<WorkspaceId, Read> = workspaces.iter().map(|ws| (*ws, Read::new())).collect();
    if wanted.is_empty() {
        return Ok(reads);
    }
    let keys: Vec<String> = wanted.iter().map(|(ws, n)| format!("{prefix}:live:{n}:{}", ws.0)).collect();
    let values: Vec<Option<String>> = redis::cmd("MGET").arg(keys).query_async(c).await?;
    for ((ws, node), value) in wanted.into_iter().zip(values) {
        // Listed but expired since: not current.
        let Some(value) = value else { continue };
        match serde_json::from_str::<Vec<wire::LiveVisitor>>(&value) {
            Ok(theirs) => {
                reads.entry(ws).or_default().insert(node, theirs.into_iter().map(|r| r.into_domain(ws)).collect());
            }
            Err(e) => tracing::warn!(error = %e, "ignored a node's live rows this node cannot read"),
        }
    }
    Ok(reads)
}

impl Inner {
    fn failed(&self, reason: &str) {
        if self.failures.fetch_add(1, Ordering::Relaxed) == 0 {
            tracing::warn!(reason, "the cluster's live list cannot reach Redis; snapshots keep the last view of the other nodes");
        }
    }

    async fn read_now(&self, ws: WorkspaceId) -> Option<Vec<LiveVisitor>> {
        let mut reader = self.reader.lock().await;
        if reader.is_none() {
            *reader = match tokio::time::timeout(self.settings.connect_timeout(), self.client.get_multiplexed_async_connection()).await {
                Ok(Ok(c)) => Some(c),
                _ => None,
            };
        }
        let mut c = reader.clone()?;
        drop(reader);
        match tokio::time::timeout(self.settings.connect_timeout(), read(self, &mut c, ws)).await {
            Ok(Ok(rows)) => Some(rows),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "reading the live list failed");
                *self.reader.lock().await = None;
                None
            }
            Err(_) => {
                *self.reader.lock().await = None;
                None
            }
        }
    }
}

#[async_trait::async_trait]
impl LiveElsewhere for RedisLive {
    fn changed(&self) {
        self.inner.changed.notify_one();
    }

    async fn others(&self, ws: WorkspaceId) -> Vec<LiveVisitor> {
        match self.inner.read_now(ws).await {
            Some(rows) => {
                self.inner.last.lock().expect("live lock").insert(ws, rows.clone());
                rows
            }
            None => {
                self.inner.failed("a snapshot could not be read");
                self.inner.last.lock().expect("live lock").get(&ws).cloned().unwrap_or_default()
            }
        }
    }
}
