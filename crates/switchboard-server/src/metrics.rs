//! Prometheus metrics: open and refused sockets by kind, messages stored, commit and
//! delivery latency; the bus between nodes (published, received, dropped, repaired from
//! the store, late duplicates, lag, degraded), presence sizes and the job queue (due,
//! leased, dead; lease takeovers), read from core when `/metrics` is asked.

use std::sync::atomic::AtomicI64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use switchboard_core::{CommitObserver, Core};
use switchboard_domain::EventData;
use switchboard_store::{Committed, JobQueue};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SocketLabels {
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    /// `due` (a runner could claim it now), `leased` (a runner holds it) or `dead`.
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusedLabels {
    pub kind: &'static str,
    /// `socket_limit` (the upgrade was answered 503) or `handshake_busy` (no turn for
    /// the `hello` in time).
    pub reason: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub sockets: Family<SocketLabels, Gauge<i64, AtomicI64>>,
    pub sockets_refused: Family<RefusedLabels, Counter>,
    pub messages_stored: Counter,
    pub commit_seconds: Histogram,
    pub delivery_seconds: Histogram,
    bus: BusMetrics,
}

/// Read from core's bus and presence at each scrape.
struct BusMetrics {
    published: Counter,
    received: Counter,
    dropped: Counter,
    repaired: Counter,
    duplicates: Counter,
    lag_seconds: Gauge<f64, AtomicU64>,
    degraded: Gauge,
    agents_online: Gauge,
    viewing_sockets: Gauge,
    presence_nodes: Gauge,
    lease_takeovers: Counter,
    job_queue: Family<QueueLabels, Gauge>,
}

impl BusMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = Self {
            published: Counter::default(),
            received: Counter::default(),
            dropped: Counter::default(),
            repaired: Counter::default(),
            duplicates: Counter::default(),
            lag_seconds: Gauge::default(),
            degraded: Gauge::default(),
            agents_online: Gauge::default(),
            viewing_sockets: Gauge::default(),
            presence_nodes: Gauge::default(),
            lease_takeovers: Counter::default(),
            job_queue: Family::default(),
        };
        registry.register("bus_published", "Messages this node published to the other nodes", m.published.clone());
        registry.register("bus_received", "Messages this node received from the other nodes", m.received.clone());
        registry.register(
            "bus_dropped",
            "Messages that never left this node (queue full or publish failed); the others repair them",
            m.dropped.clone(),
        );
        registry.register("bus_repaired", "Events read from the database because the bus had not delivered them", m.repaired.clone());
        registry.register("bus_duplicates", "Events that arrived late over the bus and were dropped by feed_seq", m.duplicates.clone());
        registry.register("bus_lag_seconds", "Latest lag from publication on another node to receipt on this one", m.lag_seconds.clone());
        registry.register(
            "bus_degraded",
            "1 while live delivery between nodes is broken and the node catches up from the database",
            m.degraded.clone(),
        );
        registry.register("presence_agents_online", "Agents online, cluster-wide", m.agents_online.clone());
        registry.register("presence_viewing_sockets", "Agent sockets viewing a conversation, cluster-wide", m.viewing_sockets.clone());
        registry.register("presence_nodes", "Nodes whose presence this node counts (itself included)", m.presence_nodes.clone());
        registry.register(
            "job_lease_takeovers",
            "Jobs claimed again after the lease of a runner that never answered ran out",
            m.lease_takeovers.clone(),
        );
        registry.register(
            "job_queue",
            "Jobs in the cluster's job table: due (claimable now, including leases that ran out), leased (held by a runner), dead",
            m.job_queue.clone(),
        );
        for state in ["due", "leased", "dead"] {
            let _ = m.job_queue.get_or_create(&QueueLabels { state });
        }
        m
    }
}

/// Moves a counter up to `total` (counts read from elsewhere only grow).
fn catch_up(counter: &Counter, total: u64) {
    counter.inc_by(total.saturating_sub(counter.get()));
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("switchboard");
        let sockets = Family::<SocketLabels, Gauge<i64, AtomicI64>>::default();
        registry.register("open_sockets", "Open WebSocket connections by kind", sockets.clone());
        // Both kinds are reported from the start, at zero, so dashboards never see gaps.
        for kind in ["visitor", "agent"] {
            let _ = sockets.get_or_create(&SocketLabels { kind });
        }
        let sockets_refused = Family::<RefusedLabels, Counter>::default();
        registry.register("sockets_refused", "WebSocket connections turned away by admission control", sockets_refused.clone());
        let messages_stored = Counter::default();
        registry.register("messages_stored", "Messages and notes durably stored", messages_stored.clone());
        // 50 µs to ~1.6 s.
        let commit_seconds = Histogram::new(exponential_buckets(0.00005, 2.0, 16));
        registry.register("store_commit_seconds", "Time from submitting a change to its durable commit", commit_seconds.clone());
        let delivery_seconds = Histogram::new(exponential_buckets(0.00001, 2.0, 18));
        registry.register("delivery_seconds", "Time from publication of an event to its write to a socket", delivery_seconds.clone());
        let bus = BusMetrics::register(&mut registry);
        Self { registry, sockets, sockets_refused, messages_stored, commit_seconds, delivery_seconds, bus }
    }
}

impl Metrics {
    /// An event published at `published_us` (wall-clock microseconds, as the bus stamps
    /// it) was just queued to a socket.
    pub fn observe_delivery(&self, published_us: i64) {
        let micros = (switchboard_bus::now_us() - published_us).max(0);
        self.delivery_seconds.observe(micros as f64 / 1e6);
    }

    /// Reads the bus's and presence's numbers from core, and the job queue's as read from
    /// the store (`None`: it could not be read; the last figures stay).
    pub fn refresh(&self, core: &Core, jobs: Option<JobQueue>) {
        let (b, c) = (&self.bus, core.bus_counters());
        catch_up(&b.published, c.published);
        catch_up(&b.received, c.received);
        catch_up(&b.dropped, c.dropped);
        catch_up(&b.repaired, c.repaired);
        catch_up(&b.duplicates, c.duplicates);
        b.lag_seconds.set(c.lag_us.max(0) as f64 / 1e6);
        b.degraded.set(i64::from(matches!(core.bus_health(), switchboard_bus::BusHealth::Degraded { .. })));
        let p = core.presence_sizes();
        b.agents_online.set(p.agents_online as i64);
        b.viewing_sockets.set(p.viewing_sockets as i64);
        b.presence_nodes.set(p.nodes as i64);
        catch_up(&b.lease_takeovers, core.lease_takeovers());
        if let Some(q) = jobs {
            for (state, n) in [("due", q.due), ("leased", q.leased), ("dead", q.dead)] {
                b.job_queue.get_or_create(&QueueLabels { state }).set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }

    /// Counts an open socket until the returned guard is dropped.
    pub fn socket(&self, kind: &'static str) -> SocketGuard {
        let gauge = self.sockets.get_or_create(&SocketLabels { kind }).clone();
        gauge.inc();
        SocketGuard(gauge)
    }

    /// Counts a socket turned away by admission control.
    pub fn refused(&self, kind: &'static str, reason: &'static str) {
        self.sockets_refused.get_or_create(&RefusedLabels { kind, reason }).inc();
    }
}

pub struct SocketGuard(Gauge<i64, AtomicI64>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl CommitObserver for Metrics {
    fn committed(&self, elapsed: Duration, done: &Committed) {
        self.commit_seconds.observe(elapsed.as_secs_f64());
        if !done.replayed {
            let messages = done.events.iter().filter(|e| matches!(e.data, EventData::Message(_))).count();
            self.messages_stored.inc_by(messages as u64);
        }
    }
}
