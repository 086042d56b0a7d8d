//! Prometheus metrics: open and refused sockets by kind, messages stored, commit and
//! delivery latency.

use std::sync::atomic::AtomicI64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use switchboard_core::CommitObserver;
use switchboard_domain::EventData;
use switchboard_store::Committed;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SocketLabels {
    pub kind: &'static str,
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
        Self { registry, sockets, sockets_refused, messages_stored, commit_seconds, delivery_seconds }
    }
}

impl Metrics {
    /// An event published at `published_us` (wall-clock microseconds, as the bus stamps
    /// it) was just queued to a socket.
    pub fn observe_delivery(&self, published_us: i64) {
        let micros = (switchboard_bus::now_us() - published_us).max(0);
        self.delivery_seconds.observe(micros as f64 / 1e6);
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
