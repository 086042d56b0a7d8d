//! Cluster-wide presence: each node counts its own agents' sockets and what they view
//! (core's `LocalPresence`), writes that whole snapshot to Redis at every heartbeat under
//! a TTL, and reads the other nodes' snapshots back. Answers are this node's share plus
//! the others' as last read, so the `Presence` trait stays synchronous and a socket
//! never waits on Redis.
//!
//! Redis keys, under `sb:{cluster}:`:
//! - `presence:{node}`: STRING, the node's snapshot (JSON), expiring after the TTL;
//! - `nodes`: ZSET, node → when its snapshot expires (Unix ms), so readers know whom to read.
//!
//! A node killed with `kill -9` stops refreshing: its key expires and its agents are
//! gone from every other node's view within the TTL; each node then tells its own
//! sockets that those agents went offline (`Bus::publish_local`). While Redis cannot be
//! read, the last view is kept (an unreadable view never turns anybody offline).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use switchboard_bus::{AgentStatus, Bus, BusMessage, Topic, now_us};
use switchboard_core::{LocalPresence, Presence, PresenceSizes, PresenceSnapshot, SocketId};
use switchboard_domain::{AgentId, ConversationId, WorkspaceId};
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::settings::RedisSettings;

/// A snapshot as it is stored in Redis.
#[derive(Serialize, Deserialize, Default)]
struct Stored {
    /// workspace → agent → open sockets.
    online: HashMap<Uuid, HashMap<Uuid, usize>>,
    /// workspace → (agent, conversation) per viewing socket.
    viewing: HashMap<Uuid, Vec<(Uuid, Uuid)>>,
}

impl From<&PresenceSnapshot> for Stored {
    fn from(s: &PresenceSnapshot) -> Self {
        Self {
            online: s.online.iter().map(|(ws, agents)| (ws.0, agents.iter().map(|(a, n)| (a.0, *n)).collect())).collect(),
            viewing: s.viewing.iter().map(|(ws, v)| (ws.0, v.iter().map(|(a, c)| (a.0, c.0)).collect())).collect(),
        }
    }
}

/// The other nodes' presence, merged.
#[derive(Default, Clone, PartialEq)]
struct Remote {
    online: HashMap<WorkspaceId, BTreeSet<AgentId>>,
    viewing: HashMap<WorkspaceId, Vec<(AgentId, ConversationId)>>,
    nodes: usize,
}

impl Remote {
    fn merge(&mut self, stored: Stored) {
        for (ws, agents) in stored.online {
            self.online.entry(WorkspaceId(ws)).or_default().extend(agents.into_iter().filter(|(_, n)| *n > 0).map(|(a, _)| AgentId(a)));
        }
        for (ws, v) in stored.viewing {
            self.viewing.entry(WorkspaceId(ws)).or_default().extend(v.into_iter().map(|(a, c)| (AgentId(a), ConversationId(c))));
        }
        self.nodes += 1;
    }

    fn has(&self, ws: WorkspaceId, agent: AgentId) -> bool {
        self.online.get(&ws).is_some_and(|a| a.contains(&agent))
    }

    fn viewers(&self, ws: WorkspaceId, conversation: ConversationId) -> impl Iterator<Item = AgentId> + '_ {
        self.viewing.get(&ws).into_iter().flatten().filter(move |(_, c)| *c == conversation).map(|(a, _)| *a)
    }
}

struct Inner {
    settings: RedisSettings,
    client: redis::Client,
    local: LocalPresence,
    remote: Mutex<Remote>,
    bus: Arc<dyn Bus>,
    changed: Notify,
    /// Heartbeats that failed in a row (for the log: say it once).
    failures: AtomicUsize,
}

pub struct RedisPresence {
    inner: Arc<Inner>,
    stop: watch::Sender<()>,
}

impl RedisPresence {
    /// Presence shared through the Redis of `settings`; `bus` carries the changes this
    /// node works out for itself (a dead node's agents going offline) to its sockets.
    /// Starts its heartbeat: call inside a tokio runtime.
    pub fn start(settings: RedisSettings, bus: Arc<dyn Bus>) -> anyhow::Result<Self> {
        let client = redis::Client::open(settings.url.as_str())
            .map_err(|e| anyhow::anyhow!("bus.redis_url is not a usable redis:// or rediss:// URL: {e}"))?;
        let inner = Arc::new(Inner {
            settings,
            client,
            local: LocalPresence::default(),
            remote: Mutex::default(),
            bus,
            changed: Notify::new(),
            failures: AtomicUsize::new(0),
        });
        let (stop, stopped) = watch::channel(());
        tokio::spawn(heartbeat(inner.clone(), stopped));
        Ok(Self { inner, stop })
    }

    /// Removes this node's presence from Redis at once (a graceful shutdown), instead of
    /// letting it expire.
    pub async fn leave(&self) {
        let _ = self.stop.send(());
        let prefix = prefix(&self.inner.settings);
        if let Ok(Ok(mut c)) =
            tokio::time::timeout(self.inner.settings.connect_timeout(), self.inner.client.get_multiplexed_async_connection()).await
        {
            let node = &self.inner.settings.node;
            let mut pipe = redis::pipe();
            pipe.cmd("DEL").arg(format!("{prefix}:presence:{node}")).ignore();
            pipe.cmd("ZREM").arg(format!("{prefix}:nodes")).arg(node).ignore();
            let _ = tokio::time::timeout(self.inner.settings.connect_timeout(), pipe.query_async::<()>(&mut c)).await;
        }
    }
}

impl Drop for RedisPresence {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

fn prefix(settings: &RedisSettings) -> String {
    format!("sb:{}", settings.cluster)
}

impl Presence for RedisPresence {
    fn connect(&self, ws: WorkspaceId, agent: AgentId) -> bool {
        let first_here = self.inner.local.connect(ws, agent);
        self.inner.changed.notify_one();
        first_here && !self.inner.remote.lock().expect("presence lock").has(ws, agent)
    }

    fn disconnect(&self, ws: WorkspaceId, agent: AgentId) -> bool {
        let last_here = self.inner.local.disconnect(ws, agent);
        self.inner.changed.notify_one();
        last_here && !self.inner.remote.lock().expect("presence lock").has(ws, agent)
    }

    fn online(&self, ws: WorkspaceId) -> Vec<AgentId> {
        let mut agents: BTreeSet<AgentId> = self.inner.local.online(ws).into_iter().collect();
        agents.extend(self.inner.remote.lock().expect("presence lock").online.get(&ws).into_iter().flatten().copied());
        agents.into_iter().collect()
    }

    fn view(
        &self,
        ws: WorkspaceId,
        socket: SocketId,
        agent: AgentId,
        conversation: Option<ConversationId>,
    ) -> Vec<(ConversationId, Vec<AgentId>)> {
        let changed = self.inner.local.view(ws, socket, agent, conversation);
        self.inner.changed.notify_one();
        let remote = self.inner.remote.lock().expect("presence lock");
        changed
            .into_iter()
            .map(|(c, here)| {
                let all: BTreeSet<AgentId> = here.into_iter().chain(remote.viewers(ws, c)).collect();
                (c, all.into_iter().collect())
            })
            .collect()
    }

    fn viewers(&self, ws: WorkspaceId, conversation: ConversationId) -> Vec<AgentId> {
        let mut all: BTreeSet<AgentId> = self.inner.local.viewers(ws, conversation).into_iter().collect();
        all.extend(self.inner.remote.lock().expect("presence lock").viewers(ws, conversation));
        all.into_iter().collect()
    }

    fn sizes(&self) -> PresenceSizes {
        let here = self.inner.local.snapshot();
        let remote = self.inner.remote.lock().expect("presence lock");
        let mut agents: HashMap<WorkspaceId, BTreeSet<AgentId>> =
            here.online.iter().map(|(ws, a)| (*ws, a.keys().copied().collect())).collect();
        for (ws, a) in &remote.online {
            agents.entry(*ws).or_default().extend(a.iter().copied());
        }
        PresenceSizes {
            agents_online: agents.values().map(BTreeSet::len).sum(),
            viewing_sockets: here.viewing.values().map(Vec::len).sum::<usize>() + remote.viewing.values().map(Vec::len).sum::<usize>(),
            nodes: 1 + remote.nodes,
        }
    }
}

/// Every heartbeat (or soon after a local change): writes this node's snapshot, reads
/// the others', and tells this node's sockets about agents who are gone.
async fn heartbeat(inner: Arc<Inner>, mut stop: watch::Receiver<()>) {
    let mut conn: Option<redis::aio::MultiplexedConnection> = None;
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
        // A local change is written at once, but the others are read at the heartbeat.
        let read = !changed || since_read.elapsed() >= inner.settings.presence_heartbeat;
        match tokio::time::timeout(inner.settings.connect_timeout(), beat(&inner, c, read)).await {
            Ok(Ok(Some(remote))) => {
                since_read = std::time::Instant::now();
                inner.failures.store(0, Ordering::Relaxed);
                inner.reconcile(remote);
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "presence heartbeat failed");
                inner.failed("a Redis command failed");
                conn = None;
            }
            Err(_) => {
                inner.failed("Redis did not answer in time");
                conn = None;
            }
        }
    }
}

/// One heartbeat's round trips: write ours, and with `read`, read the live nodes'.
async fn beat(inner: &Inner, c: &mut redis::aio::MultiplexedConnection, read: bool) -> redis::RedisResult<Option<Remote>> {
    let prefix = prefix(&inner.settings);
    let node = &inner.settings.node;
    let ttl_ms = inner.settings.presence_ttl.as_millis() as i64;
    let now_ms = now_us() / 1000;
    let stored = serde_json::to_string(&Stored::from(&inner.local.snapshot())).expect("presence serialises");
    let mut pipe = redis::pipe();
    pipe.cmd("SET").arg(format!("{prefix}:presence:{node}")).arg(stored).arg("PX").arg(ttl_ms).ignore();
    pipe.cmd("ZADD").arg(format!("{prefix}:nodes")).arg(now_ms + ttl_ms).arg(node).ignore();
    pipe.cmd("ZREMRANGEBYSCORE").arg(format!("{prefix}:nodes")).arg("-inf").arg(now_ms).ignore();
    pipe.cmd("ZRANGE").arg(format!("{prefix}:nodes")).arg(0).arg(-1);
    let (nodes,): (Vec<String>,) = pipe.query_async(c).await?;
    if !read {
        return Ok(None);
    }
    let others: Vec<String> = nodes.into_iter().filter(|n| n != node).collect();
    let mut remote = Remote::default();
    if others.is_empty() {
        return Ok(Some(remote));
    }
    let keys: Vec<String> = others.iter().map(|n| format!("{prefix}:presence:{n}")).collect();
    let values: Vec<Option<String>> = redis::cmd("MGET").arg(keys).query_async(c).await?;
    for value in values.into_iter().flatten() {
        match serde_json::from_str::<Stored>(&value) {
            Ok(stored) => remote.merge(stored),
            Err(e) => tracing::warn!(error = %e, "ignored a node's presence this node cannot read"),
        }
    }
    Ok(Some(remote))
}

impl Inner {
    fn failed(&self, reason: &str) {
        if self.failures.fetch_add(1, Ordering::Relaxed) == 0 {
            tracing::warn!(reason, "cluster presence cannot reach Redis; keeping the last view of the other nodes");
        }
    }

    /// Takes the new view of the other nodes, and tells this node's sockets which agents
    /// went offline and which conversations' viewers changed because of it.
    fn reconcile(&self, new: Remote) {
        let old = std::mem::replace(&mut *self.remote.lock().expect("presence lock"), new.clone());
        if old == new {
            return;
        }
        for (ws, agents) in &old.online {
            let here: BTreeSet<AgentId> = self.local.online(*ws).into_iter().collect();
            for agent in agents {
                if !new.has(*ws, *agent) && !here.contains(agent) {
                    self.bus.publish_local(Topic::Workspace(*ws), Arc::new(BusMessage::presence(*agent, AgentStatus::Offline)));
                }
            }
        }
        for (ws, viewing) in &old.viewing {
            let conversations: BTreeSet<ConversationId> = viewing.iter().map(|(_, c)| *c).collect();
            for c in conversations {
                let before: BTreeSet<AgentId> = old.viewers(*ws, c).collect();
                let after: BTreeSet<AgentId> = new.viewers(*ws, c).collect();
                if before != after {
                    let mut agent_ids: BTreeSet<AgentId> = self.local.viewers(*ws, c).into_iter().collect();
                    agent_ids.extend(after);
                    let message = BusMessage::Viewers { conversation_id: c, agent_ids: agent_ids.into_iter().collect() };
                    self.bus.publish_local(Topic::Workspace(*ws), Arc::new(message));
                }
            }
        }
    }
}
