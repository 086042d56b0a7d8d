//! The bus between nodes: Redis pub/sub carries every committed event and every
//! ephemeral message (typing, presence, viewers) to the other nodes, and each node hands
//! them to its own sockets through a [`LocalBus`].
//!
//! Invariant: the bus is a hint, the database is the truth. Redis keeps nothing: an
//! event lost on the way (Redis down, hung, a subscription silently gone) is read from
//! the store by `feed_seq`, and an event that comes twice is dropped by it
//! ([`Sequencer`]). So the node repairs
//! - a hole in a workspace's `feed_seq` that stays open past the reorder window;
//! - everything it follows, right after (re)subscribing (subscribe, then read);
//! - everything it follows, every poll interval while the link is degraded;
//! - everything it follows, every position check (a lost *last* event leaves no hole).
//!
//! What is not an event (a change of bans, settings or rules) cannot be read again: after
//! each (re)subscription and when a degraded link is live again, the node tells its own
//! listeners `BusMessage::Resync`, and they drop their copies as for a change.
//!
//! The link is checked end to end: every probe interval the node publishes a probe on
//! its own channel and expects it back through its subscription. Two probes missed (a
//! hung Redis keeps TCP up and answers nothing; a subscription can die without a word)
//! make the link degraded and rebuild both connections. We do not use the `redis`
//! crate's `ConnectionManager`, whose automatic resubscription was seen giving up after
//! a 10 s outage: this file owns every reconnect.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt as _;
use switchboard_bus::{Bus, BusCounters, BusHealth, BusMessage, FeedSource, LocalBus, Receiver, Topic, now_us};
use switchboard_domain::{ConversationId, WorkspaceId};
use tokio::sync::{Notify, mpsc, watch};

use crate::sequencer::Sequencer;
use crate::settings::RedisSettings;
use crate::wire::{self, Decoded, Outgoing};

/// Most events read from the store in one repair read.
const REPAIR_PAGE: u32 = 500;
/// Most messages published in one pipeline (one round trip).
const PUBLISH_BATCH: usize = 256;

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    received: AtomicU64,
    dropped: AtomicU64,
    repaired: AtomicU64,
    duplicates: AtomicU64,
    lag_us: AtomicI64,
}

struct Inner {
    settings: RedisSettings,
    client: redis::Client,
    local: LocalBus,
    events_channel: String,
    probe_channel: String,
    sequencer: Mutex<Sequencer>,
    /// Workspaces a socket of this node subscribed to that the sequencer does not follow
    /// yet: the repairer reads their head and starts following them.
    to_follow: Mutex<HashSet<WorkspaceId>>,
    outbox: mpsc::Sender<String>,
    /// 0 while live; else since when (Unix ms) the link is degraded.
    degraded_since: AtomicI64,
    subscribed: AtomicBool,
    probes_seen: AtomicU64,
    counters: Counters,
    /// Tells the subscriber to drop its connection and subscribe again.
    resubscribe: Notify,
    /// Tells the repairer to read every followed workspace now.
    repair_all: Notify,
    /// Kinds of messages from other nodes this one could not read, each logged once.
    skipped: wire::Skipped,
}

/// The Redis bus. Build it with [`RedisBus::new`] (the store's commit hook needs it),
/// then [`RedisBus::start`] it once the store it repairs from is open.
pub struct RedisBus {
    inner: Arc<Inner>,
    outbox: Mutex<Option<mpsc::Receiver<String>>>,
    /// Dropped with the bus: its tasks end.
    stop: watch::Sender<()>,
}

impl RedisBus {
    /// Checks the URL; connects only in [`RedisBus::start`]. The link counts as degraded
    /// until the first probe comes back.
    pub fn new(settings: RedisSettings) -> anyhow::Result<Self> {
        let client = redis::Client::open(settings.url.as_str())
            .map_err(|e| anyhow::anyhow!("bus.redis_url is not a usable redis:// or rediss:// URL: {e}"))?;
        let (tx, rx) = mpsc::channel(settings.outbox);
        let prefix = format!("sb:{}", settings.cluster);
        let inner = Inner {
            events_channel: format!("{prefix}:events"),
            probe_channel: format!("{prefix}:probe:{}", settings.node),
            settings,
            client,
            local: LocalBus::default(),
            sequencer: Mutex::default(),
            to_follow: Mutex::default(),
            outbox: tx,
            degraded_since: AtomicI64::new(now_ms()),
            subscribed: AtomicBool::new(false),
            probes_seen: AtomicU64::new(0),
            counters: Counters::default(),
            resubscribe: Notify::new(),
            repair_all: Notify::new(),
            skipped: wire::Skipped::default(),
        };
        Ok(Self { inner: Arc::new(inner), outbox: Mutex::new(Some(rx)), stop: watch::channel(()).0 })
    }

    /// Starts the tasks that publish, subscribe, probe and repair from `feed`. Call once,
    /// inside a tokio runtime.
    pub fn start(&self, feed: Arc<dyn FeedSource>) {
        let Some(outbox) = self.outbox.lock().expect("bus lock").take() else { return };
        tokio::spawn(publisher(self.inner.clone(), outbox, self.stop.subscribe()));
        tokio::spawn(subscriber(self.inner.clone(), self.stop.subscribe()));
        tokio::spawn(prober(self.inner.clone(), self.stop.subscribe()));
        tokio::spawn(repairer(self.inner.clone(), feed, self.stop.subscribe()));
    }

    /// This node's name on the bus.
    pub fn node(&self) -> &str {
        &self.inner.settings.node
    }
}

impl Bus for RedisBus {
    fn publish(&self, topic: Topic, message: Arc<BusMessage>) {
        match (&*message, topic) {
            // An event crosses once, as its workspace's; each node derives the
            // conversation's copy (`Inner::deliver`).
            (BusMessage::Event { .. }, Topic::Conversation(_)) => return,
            (BusMessage::Event { event, .. }, Topic::Workspace(ws)) => {
                self.inner.deliver(ws, event.feed_seq.unwrap_or_default(), &message);
            }
            _ => self.inner.local.publish(topic, message.clone()),
        }
        let out = Outgoing { origin: &self.inner.settings.node, topic: topic.into(), message: &message };
        let payload = serde_json::to_string(&out).expect("a bus message serialises");
        if self.inner.outbox.try_send(payload).is_err() {
            self.inner.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn subscribe(&self, topic: Topic) -> Receiver {
        let rx = self.inner.local.subscribe(topic);
        if let Topic::Workspace(ws) = topic
            && self.inner.sequencer.lock().expect("bus lock").watermark(ws).is_none()
        {
            self.inner.to_follow.lock().expect("bus lock").insert(ws);
        }
        rx
    }

    fn publish_local(&self, topic: Topic, message: Arc<BusMessage>) {
        self.inner.local.publish(topic, message);
    }

    fn health(&self) -> BusHealth {
        match self.inner.degraded_since.load(Ordering::Relaxed) {
            0 => BusHealth::Live,
            since_ms => BusHealth::Degraded { since_ms },
        }
    }

    fn counters(&self) -> BusCounters {
        let c = &self.inner.counters;
        BusCounters {
            published: c.published.load(Ordering::Relaxed),
            received: c.received.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            repaired: c.repaired.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            lag_us: c.lag_us.load(Ordering::Relaxed),
        }
    }
}

impl Inner {
    /// Hands an event to this node's sockets unless they had it: its workspace's topic,
    /// and its conversation's when the contact may see it. The sequencer's lock is held
    /// while handing it over, so events leave in the order they were accepted.
    fn deliver(&self, ws: WorkspaceId, feed_seq: i64, message: &Arc<BusMessage>) -> bool {
        let mut sequencer = self.sequencer.lock().expect("bus lock");
        if !sequencer.offer(ws, feed_seq, Instant::now()) {
            return false;
        }
        if let BusMessage::Event { event, visible_to_contact: true, .. } = &**message {
            self.local.publish(Topic::Conversation(ConversationId(event.conversation_id)), message.clone());
        }
        self.local.publish(Topic::Workspace(ws), message.clone());
        true
    }

    fn received(&self, msg: &redis::Msg) {
        if msg.get_channel_name() == self.probe_channel {
            if let Some(n) = std::str::from_utf8(msg.get_payload_bytes()).ok().and_then(|p| p.parse::<u64>().ok()) {
                self.probes_seen.fetch_max(n, Ordering::Relaxed);
            }
            return;
        }
        // A node of a newer version may send what this one does not know: skipped, never
        // an error that would end the subscription (`wire.rs`).
        let incoming = match wire::decode(msg.get_payload_bytes()) {
            Decoded::Message(m) => *m,
            Decoded::Skipped(kind) => {
                self.skipped.note(&kind);
                return;
            }
        };
        if incoming.origin == self.settings.node {
            return; // Our own, delivered here when it was published.
        }
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        let topic = Topic::from(incoming.topic);
        let message = Arc::new(incoming.message);
        match (&*message, topic) {
            (BusMessage::Event { event, published_us, .. }, Topic::Workspace(ws)) => {
                self.counters.lag_us.store(now_us() - published_us, Ordering::Relaxed);
                if !self.deliver(ws, event.feed_seq.unwrap_or_default(), &message) {
                    self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
                }
            }
            (BusMessage::Event { .. }, Topic::Conversation(_)) => {}
            _ => self.local.publish(topic, message),
        }
    }

    fn degraded(&self, reason: &str) {
        if self.degraded_since.compare_exchange(0, now_ms(), Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            tracing::warn!(reason, "bus degraded: catching up from the database until Redis delivers again");
        }
    }

    fn live(&self) {
        if self.degraded_since.swap(0, Ordering::Relaxed) != 0 {
            tracing::info!("bus live again");
            // Read once more what may have been missed while degraded.
            self.repair_all.notify_one();
            self.resync();
        }
    }

    /// Messages that are not events cannot be read again from the store: after a time
    /// without the other nodes, this node's copies of workspace settings are dropped
    /// instead (`BusMessage::Resync` on every `Topic::Visitors` followed here).
    fn resync(&self) {
        for topic in self.local.topics() {
            if matches!(topic, Topic::Visitors(_)) {
                self.local.publish(topic, Arc::new(BusMessage::Resync));
            }
        }
    }

    /// A connection for commands, or `None` (counted as a failure by the caller).
    async fn command_connection(&self) -> Option<redis::aio::MultiplexedConnection> {
        let connect = self.client.get_multiplexed_async_connection();
        match tokio::time::timeout(self.settings.connect_timeout(), connect).await {
            Ok(Ok(c)) => Some(c),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "could not connect to Redis");
                None
            }
            Err(_) => None,
        }
    }

    /// Reads the workspace's events after what this node delivered, and delivers the
    /// ones its sockets did not have.
    async fn repair(&self, feed: &dyn FeedSource, ws: WorkspaceId) -> Result<(), String> {
        loop {
            let Some(after) = self.sequencer.lock().expect("bus lock").watermark(ws) else { return Ok(()) };
            let events = feed.feed_after(ws, after, REPAIR_PAGE).await?;
            for e in &events {
                if self.deliver(ws, e.feed_seq, &Arc::new(BusMessage::event(e))) {
                    self.counters.repaired.fetch_add(1, Ordering::Relaxed);
                }
            }
            if (events.len() as u32) < REPAIR_PAGE {
                return Ok(());
            }
        }
    }
}

fn now_ms() -> i64 {
    now_us() / 1000
}

/// Publishes what the outbox holds, a pipeline per batch. A failed or timed-out PUBLISH
/// is never retried: it may have been delivered (Redis was slow, not gone), and the
/// other nodes repair what was not.
async fn publisher(inner: Arc<Inner>, mut outbox: mpsc::Receiver<String>, mut stop: watch::Receiver<()>) {
    let mut conn: Option<redis::aio::MultiplexedConnection> = None;
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    loop {
        tokio::select! {
            n = outbox.recv_many(&mut batch, PUBLISH_BATCH) => if n == 0 { return },
            _ = stop.changed() => return,
        }
        let n = batch.len() as u64;
        if conn.is_none() {
            conn = inner.command_connection().await;
        }
        let Some(c) = conn.as_mut() else {
            inner.counters.dropped.fetch_add(n, Ordering::Relaxed);
            batch.clear();
            continue;
        };
        let mut pipe = redis::pipe();
        for payload in batch.drain(..) {
            pipe.cmd("PUBLISH").arg(&inner.events_channel).arg(payload).ignore();
        }
        match tokio::time::timeout(inner.settings.probe_interval, pipe.query_async::<()>(c)).await {
            Ok(Ok(())) => {
                inner.counters.published.fetch_add(n, Ordering::Relaxed);
            }
            _ => {
                inner.counters.dropped.fetch_add(n, Ordering::Relaxed);
                conn = None;
            }
        }
    }
}

/// Holds the subscription: subscribes, asks for a repair (what was published before the
/// subscription took is read from the store), then reads until the connection ends or
/// the prober asks for a new one.
async fn subscriber(inner: Arc<Inner>, mut stop: watch::Receiver<()>) {
    loop {
        let subscribe = async {
            let mut pubsub = inner.client.get_async_pubsub().await?;
            pubsub.subscribe(&inner.events_channel).await?;
            pubsub.subscribe(&inner.probe_channel).await?;
            redis::RedisResult::Ok(pubsub)
        };
        match tokio::time::timeout(inner.settings.connect_timeout(), subscribe).await {
            Ok(Ok(pubsub)) => {
                let mut messages = pubsub.into_on_message();
                inner.subscribed.store(true, Ordering::Relaxed);
                inner.repair_all.notify_one();
                inner.resync();
                loop {
                    tokio::select! {
                        msg = messages.next() => match msg {
                            Some(msg) => inner.received(&msg),
                            None => {
                                inner.degraded("the Redis subscription ended");
                                break;
                            }
                        },
                        _ = inner.resubscribe.notified() => break,
                        _ = stop.changed() => return,
                    }
                }
                inner.subscribed.store(false, Ordering::Relaxed);
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "could not subscribe on Redis");
                inner.degraded("cannot subscribe on Redis");
            }
            Err(_) => inner.degraded("subscribing on Redis timed out"),
        }
        tokio::select! {
            _ = tokio::time::sleep(inner.settings.retry_interval()) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sends a probe through Redis every probe interval and checks the previous one came
/// back through the subscription. Two missed in a row: degraded, and the subscription
/// is rebuilt. One back while degraded: live.
async fn prober(inner: Arc<Inner>, mut stop: watch::Receiver<()>) {
    let mut conn: Option<redis::aio::MultiplexedConnection> = None;
    let mut sent = 0u64;
    let mut missed = 0u32;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(inner.settings.probe_interval) => {}
            _ = stop.changed() => return,
        }
        if sent > 0 {
            if inner.probes_seen.load(Ordering::Relaxed) >= sent {
                missed = 0;
                inner.live();
            } else {
                missed += 1;
                if missed >= 2 {
                    inner.degraded("the delivery probe did not come back");
                    if inner.subscribed.load(Ordering::Relaxed) {
                        inner.resubscribe.notify_one();
                    }
                    conn = None;
                    missed = 0;
                }
            }
        }
        sent += 1;
        if conn.is_none() {
            conn = inner.command_connection().await;
        }
        if let Some(c) = conn.as_mut() {
            let mut cmd = redis::cmd("PUBLISH");
            cmd.arg(&inner.probe_channel).arg(sent);
            let publish = cmd.query_async::<i64>(c);
            if !matches!(tokio::time::timeout(inner.settings.probe_interval, publish).await, Ok(Ok(_))) {
                conn = None;
            }
        }
    }
}

/// Reads from the store what the bus did not deliver: holes past the reorder window,
/// everything after a (re)subscription, every poll interval while degraded, and every
/// position check.
async fn repairer(inner: Arc<Inner>, feed: Arc<dyn FeedSource>, mut stop: watch::Receiver<()>) {
    let settings = inner.settings.clone();
    let tick = settings.reorder_window.min(settings.poll_interval);
    let (mut last_poll, mut last_check) = (Instant::now(), Instant::now());
    let mut failing = false;
    loop {
        let everything = tokio::select! {
            _ = tokio::time::sleep(tick) => false,
            _ = inner.repair_all.notified() => true,
            _ = stop.changed() => return,
        };
        let to_follow: Vec<WorkspaceId> = inner.to_follow.lock().expect("bus lock").drain().collect();
        for ws in to_follow {
            match feed.feed_head(ws).await {
                Ok(head) => inner.sequencer.lock().expect("bus lock").follow(ws, head),
                Err(_) => {
                    inner.to_follow.lock().expect("bus lock").insert(ws);
                }
            }
        }
        let now = Instant::now();
        let degraded = inner.degraded_since.load(Ordering::Relaxed) != 0;
        let all = everything
            || (degraded && now.duration_since(last_poll) >= settings.poll_interval)
            || now.duration_since(last_check) >= settings.position_check;
        let workspaces: Vec<WorkspaceId> = {
            let sequencer = inner.sequencer.lock().expect("bus lock");
            if all { sequencer.followed() } else { sequencer.holes_older_than(settings.reorder_window, now) }
        }
        .into_iter()
        .map(|(ws, _)| ws)
        .collect();
        if all {
            (last_poll, last_check) = (now, now);
        }
        let mut error = None;
        for ws in workspaces {
            if let Err(e) = inner.repair(&*feed, ws).await {
                error = Some(e);
            }
        }
        match error {
            Some(e) if !failing => {
                tracing::warn!(error = %e, "the bus could not read missed events from the store; retrying");
                failing = true;
            }
            None => failing = false,
            _ => {}
        }
    }
}
