//! Use cases: everything a visitor, an agent, an admin or an integration can do,
//! expressed over the store, bus and blob traits.
//!
//! Invariant: knows no HTTP, no SQL and no concrete backend. Every change to a
//! conversation is committed to the store first and published on the bus after.

mod admin;
mod attachments;
mod audit;
pub mod auth;
mod bans;
mod consumers;
mod conversations;
mod error;
mod geoip;
mod hours;
mod inboxes;
mod invitation_mail;
mod invitations;
mod jobs;
mod labels;
pub mod limiter;
mod live;
mod live_elsewhere;
mod mail;
mod me;
pub mod pow;
mod presence;
mod privacy;
mod proactive;
mod roster;
mod routing;
mod rules_cache;
mod sealed;
mod sessions;
mod sockets;
mod two_factor;
mod visibility;
mod visitors;
mod widget;

use std::sync::Arc;

use switchboard_bus::{Bus, BusCounters, BusHealth, BusMessage, FeedSource, Receiver, Topic};
use switchboard_domain::*;
use switchboard_store::{BlobStore, Change, CommitHook, Committed, Store};

pub use admin::*;
pub use attachments::Upload;
pub use audit::{AuditPage, AuditQuery, MAX_CSV_ROWS, csv_line};
pub use auth::{LoginSession, Principal, SignInFrom};
pub use bans::{BlockVisitor, NewBan};
pub use consumers::FeedHandler;
pub use conversations::*;
pub use error::{AuthFailure, Error, Result};
pub use geoip::{GeoIp, GeoIpError};
pub use hours::SiteOutlook;
pub use inboxes::WorkspacePatch;
pub use invitations::{AcceptInvitation, CreatedInvitation, InvitationPreview, InvitationView, NewInvitation, invitation_link};
pub use jobs::{JobKind, JobOutcome, RanJob};
pub use labels::LabelInput;
pub use limiter::{LimitKey, LimitKind, Limiter, LocalLimiter, Rate, Rates, RetryAfter};
pub use live_elsewhere::{LiveElsewhere, LiveSource, LiveWatch};
pub use mail::{MailError, Mailer, OutgoingMail};
pub use me::{MePatch, UI_LOCALES};
pub use presence::{LocalPresence, Presence, PresenceChange, PresenceSizes, PresenceSnapshot, SocketId};
pub use privacy::{ContactExport, Erased, RetentionPreview};
pub use proactive::ConversionPage;
pub use roster::ROSTER_TTL_MS;
pub use routing::{POSITIONS_PUSHED, Routed, TransferTarget};
pub use sessions::SessionView;
pub use sockets::{Kick, Notice, VisitorSocket};
pub use two_factor::{CHALLENGE_TTL_MS, SignIn, TwoFactorSetup, TwoFactorStatus};
pub use visibility::FeedScope;
pub use visitors::*;
pub use widget::*;

/// Hands committed events to the bus, in commit order: install it as the store's
/// [`CommitHook`]. Events visible to the contact also go to the conversation's topic.
pub struct Publisher {
    pub bus: Arc<dyn Bus>,
}

impl CommitHook for Publisher {
    fn committed(&self, events: &[Event]) {
        for event in events {
            let message = Arc::new(BusMessage::event(event));
            if event.visible_to_contact() {
                self.bus.publish(Topic::Conversation(event.conversation_id), message.clone());
            }
            self.bus.publish(Topic::Workspace(event.workspace_id), message);
        }
    }
}

/// The workspace feed as the store has it, for a bus between nodes to repair from: the
/// bus knows no store, and the store no bus.
pub struct StoreFeed(pub Arc<dyn Store>);

impl FeedSource for StoreFeed {
    fn feed_after(
        &self,
        ws: WorkspaceId,
        after_feed_seq: i64,
        limit: u32,
    ) -> std::pin::Pin<Box<dyn Future<Output = std::result::Result<Vec<Event>, String>> + Send + '_>> {
        Box::pin(async move { self.0.feed(ws, after_feed_seq, limit).await.map_err(|e| e.to_string()) })
    }

    fn feed_head(&self, ws: WorkspaceId) -> std::pin::Pin<Box<dyn Future<Output = std::result::Result<i64, String>> + Send + '_>> {
        Box::pin(async move { self.0.feed_head(ws).await.map_err(|e| e.to_string()) })
    }
}

/// Told how long each commit took, for metrics.
pub trait CommitObserver: Send + Sync + 'static {
    fn committed(&self, elapsed: std::time::Duration, done: &Committed);
}

impl CommitObserver for () {
    fn committed(&self, _: std::time::Duration, _: &Committed) {}
}

/// The source of "now", injectable so time rules can be tested.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

/// A clock that moves only when told, for tests of time rules and timers.
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn new(now: Timestamp) -> Self {
        Self(std::sync::atomic::AtomicI64::new(now.0))
    }

    pub fn set(&self, now: Timestamp) {
        self.0.store(now.0, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

#[derive(Clone, Debug)]
pub struct Limits {
    pub session_ttl_ms: i64,
    pub visitor_token_ttl_ms: i64,
    pub max_upload_bytes: u64,
    pub max_message_chars: usize,
    /// Largest page any list endpoint returns.
    pub max_page: u32,
    /// How long all of an agent's sockets must stay closed before they show offline
    /// (config `presence.grace_seconds`), so a reload or a short drop changes nothing.
    pub presence_grace_ms: i64,
    /// The token buckets checked before anything is read or written ([`limiter`]).
    pub rates: Rates,
    /// Leading zero bits a proof of work needs ([`pow`]); 16 takes a browser about half a second.
    pub pow_difficulty: u8,
    /// How long a live visitor whose last tab closed stays on the live list, so a
    /// reload or a click to the next page is not a departure (config `live.leave_grace_ms`).
    pub live_leave_grace_ms: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            session_ttl_ms: 14 * 24 * 3600 * 1000,
            visitor_token_ttl_ms: 365 * 24 * 3600 * 1000,
            max_upload_bytes: 10 * 1024 * 1024,
            max_message_chars: 10_000,
            max_page: 200,
            presence_grace_ms: 60_000,
            rates: Rates::default(),
            pow_difficulty: 16,
            live_leave_grace_ms: 3_000,
        }
    }
}

/// Everything the use cases need. Cheap to clone: it is a bundle of `Arc`s.
#[derive(Clone)]
pub struct Core {
    pub store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    pub blobs: Arc<dyn BlobStore>,
    presence: Arc<dyn Presence>,
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
    pub observer: Arc<dyn CommitObserver>,
    keys: Arc<auth::Keys>,
    roster: Arc<roster::Roster>,
    limiter: Arc<dyn Limiter>,
    spent_pow: Arc<pow::Spent>,
    job_signal: Arc<jobs::JobSignal>,
    /// Jobs this node claimed after another runner's lease ran out.
    lease_takeovers: Arc<std::sync::atomic::AtomicU64>,
    recent_reads: Arc<audit::RecentReads>,
    guard: Arc<bans::Guard>,
    /// Each workspace's inbox visibility, read once per node (see `visibility.rs`).
    visibilities: Arc<visibility::Visibilities>,
    sockets: Arc<sockets::VisitorSockets>,
    shown: Arc<presence::Shown>,
    presence_changes: tokio::sync::broadcast::Sender<PresenceChange>,
    waits: Arc<routing::Waits>,
    queue_beat: Arc<routing::QueueBeat>,
    routing_turns: Arc<tokio::sync::Semaphore>,
    /// The queue drains running on this node (one per queue).
    drains: Arc<routing::Drains>,
    /// This node's live visitors and the page views waiting to be written.
    live: Arc<live::Registry>,
    rechecks: Arc<proactive::Rechecks>,
    /// Sites, scoring and proactive rules as visitor moments read them (per site and
    /// workspace, dropped on a change).
    rules_cache: Arc<rules_cache::RulesCache>,
    /// The country of a visitor's address (`geoip.database`); none configured: unknown.
    geoip: Option<Arc<GeoIp>>,
    /// The other nodes' live visitors (cluster mode).
    elsewhere: Option<Arc<dyn LiveElsewhere>>,
    /// Sends mail (`[mail]`); none configured: invitations are links to hand on.
    mailer: Option<Arc<dyn Mailer>>,
}

impl Core {
    /// Builds the core, loading (or creating on first start) the server's signing keys.
    pub async fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, blobs: Arc<dyn BlobStore>, limits: Limits) -> Result<Self> {
        let keys = Arc::new(auth::Keys::load(&*store).await?);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Ok(Self {
            live: Arc::new(live::Registry::new(store.clone())),
            store,
            bus,
            blobs,
            presence: Arc::new(LocalPresence::default()),
            limiter: Arc::new(LocalLimiter::new(&limits.rates, clock.clone())),
            clock,
            limits,
            observer: Arc::new(()),
            keys,
            roster: Arc::default(),
            spent_pow: Arc::default(),
            job_signal: Arc::default(),
            lease_takeovers: Arc::default(),
            recent_reads: Arc::default(),
            guard: Arc::default(),
            visibilities: Arc::default(),
            sockets: Arc::default(),
            shown: Arc::default(),
            presence_changes: tokio::sync::broadcast::channel(1024).0,
            waits: Arc::default(),
            queue_beat: Arc::default(),
            routing_turns: Arc::new(tokio::sync::Semaphore::new(routing::ROUTING_TASKS)),
            drains: Arc::default(),
            rechecks: Arc::default(),
            rules_cache: Arc::default(),
            geoip: None,
            elsewhere: None,
            mailer: None,
        })
    }

    /// Uses this clock for every time rule, the limits' buckets included.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.limiter = Arc::new(LocalLimiter::new(&self.limits.rates, clock.clone()));
        self.clock = clock;
        self
    }

    /// Looks visitors' countries up in this GeoIP database.
    pub fn with_geoip(mut self, geoip: Arc<GeoIp>) -> Self {
        self.geoip = Some(geoip);
        self
    }

    /// Sends mail (invitations) through this mailer.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// The country of a visitor's address, when a GeoIP database is configured and knows it.
    pub fn country_of(&self, ip: Option<std::net::IpAddr>) -> Option<String> {
        self.geoip.as_ref()?.country(ip?)
    }

    /// Replaces this process's buckets, with a cluster-wide limiter for instance.
    pub fn with_limiter(mut self, limiter: Arc<dyn Limiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// Takes one from a bucket before any read or write; over the limit is
    /// [`Error::RateLimited`], and nothing has been done.
    /// [`Core::limit`] for several buckets, in order, with one await.
    pub(crate) async fn limit_each(&self, checks: &[(LimitKind, LimitKey)]) -> Result<()> {
        self.limiter.check_each(checks).await.map_err(|(kind, r)| {
            tracing::debug!(limit = kind.name(), retry_after_ms = r.ms, "rate limited");
            Error::RateLimited { kind, retry_after_ms: r.ms }
        })
    }

    pub(crate) async fn limit(&self, kind: LimitKind, key: LimitKey) -> Result<()> {
        self.limiter.check(kind, key).await.map_err(|r| {
            tracing::debug!(limit = kind.name(), retry_after_ms = r.ms, "rate limited");
            Error::RateLimited { kind, retry_after_ms: r.ms }
        })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Commits a change durably. The store's writer publishes its events (see [`Publisher`]).
    pub(crate) async fn commit(&self, ws: WorkspaceId, change: Change) -> Result<Committed> {
        let started = std::time::Instant::now();
        let done = self.store.commit(ws, change).await?;
        self.observer.committed(started.elapsed(), &done);
        Ok(done)
    }

    /// Whether the store answers, for `/readyz`.
    pub async fn ready(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    /// How the bus reaches the other nodes, for `/readyz`.
    pub fn bus_health(&self) -> BusHealth {
        self.bus.health()
    }

    /// The bus's counts since the start, for `/metrics`.
    pub fn bus_counters(&self) -> BusCounters {
        self.bus.counters()
    }

    /// Jobs this node took over from a runner whose lease ran out, for `/metrics`.
    pub fn lease_takeovers(&self) -> u64 {
        self.lease_takeovers.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The job table now (due, leased, dead), cluster-wide since every node shares it,
    /// for `/metrics`.
    pub async fn job_queue(&self) -> Result<switchboard_store::JobQueue> {
        Ok(self.store.job_queue(self.now()).await?)
    }

    /// How much presence holds, for `/metrics`.
    pub fn presence_sizes(&self) -> PresenceSizes {
        self.presence.sizes()
    }

    /// Follows the workspace feed: the live subscription and the feed position it
    /// starts after. Subscribed *before* the head is read, so nothing committed in
    /// between is missed (a live event at or below the head is a duplicate to drop).
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id), err(level = "debug"))]
    pub async fn follow_feed(&self, who: &Principal) -> Result<(Receiver, i64)> {
        let live = self.bus.subscribe(Topic::Workspace(who.workspace_id));
        let head = self.store.feed_head(who.workspace_id).await?;
        Ok((live, head))
    }

    fn page(&self, limit: Option<u32>, default: u32) -> u32 {
        limit.unwrap_or(default).clamp(1, self.limits.max_page)
    }
}
