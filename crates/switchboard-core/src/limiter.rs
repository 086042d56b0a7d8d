//! Limits that act before the database: token buckets per visitor, address, site,
//! token, session and account, checked by the use cases before they read or write
//! anything, so a flood costs a hash lookup instead of a transaction.
//!
//! [`Limiter`] is the seam: [`LocalLimiter`] keeps the buckets in this process (GCRA
//! from the `governor` crate, keyed in a `DashMap`), which is right for one node. A
//! cluster-wide limiter (Redis, when the Redis bus of issue 16 lands) implements the
//! same trait and is handed to [`crate::Core::with_limiter`].
//!
//! A use case that counts against several buckets (an upload: the visitor's, then the
//! site's) takes from them in order and stops at the first that is empty: an attempt
//! refused by a later bucket has still used a token of the earlier ones.
//!
//! Invariant: memory stays bounded. A bucket that has filled up again is the same as
//! no bucket, so every [`EVICT_EVERY`] checks of a kind the full ones are dropped
//! (`retain_recent`); only keys active within their refill time are kept.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock as GovernorClock, Reference};
use governor::nanos::Nanos;
use governor::{Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchboard_domain::{ContactId, SiteId};

use crate::Clock;

/// What is being counted. Each kind has its own rate ([`Rates`]) and its own buckets.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, strum::VariantArray, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum LimitKind {
    /// A visitor `hello` without a token (a new contact), per client address.
    NewSessionPerIp,
    /// A visitor's `send`, per contact.
    MessagePerVisitor,
    /// Every visitor `send` from one client address together (a botnet spreads its
    /// visitors over a few addresses; an office shares one).
    MessagePerIp,
    /// Every visitor `send` to one site together: the last guard when a flood comes
    /// from more addresses than the per-address bucket can tell apart.
    MessagePerSite,
    /// A visitor `send` that starts a conversation, per client address.
    NewConversationPerIp,
    /// A visitor `send` that starts a conversation, per site.
    NewConversationPerSite,
    /// A visitor's `typing` frame, per contact.
    TypingPerVisitor,
    /// A visitor's `page` frame (a page view), per contact.
    PageViewPerVisitor,
    /// A visitor's `track` frame (a custom event), per contact.
    TrackPerVisitor,
    /// A visitor's upload, per contact.
    UploadPerVisitor,
    /// Every visitor upload of a site together.
    UploadPerSite,
    /// REST calls (and agent socket connections) made with one API token.
    RestPerToken,
    /// REST calls (and agent socket connections) made with one session cookie.
    RestPerSession,
    /// Sign-in attempts for one e-mail, whether or not it is an account.
    SignInPerAccount,
    /// Sign-in attempts for one e-mail past [`LimitKind::SignInPerAccount`]'s burst: a
    /// second, slower bucket, so delays grow (a minute, then a quarter of an hour).
    SignInLockoutPerAccount,
    /// Sign-in attempts from one client address.
    SignInPerIp,
}

impl LimitKind {
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Who a bucket belongs to. Secrets and e-mails are kept as a prefix of their SHA-256
/// (never the text): small, and nothing worth stealing in a memory dump.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LimitKey {
    Ip(IpAddr),
    Contact(ContactId),
    Site(SiteId),
    /// A session or API token secret, or an e-mail address folded to lower case.
    Hashed([u8; 16]),
}

impl LimitKey {
    pub fn hashed(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        let mut key = [0; 16];
        key.copy_from_slice(&digest[..16]);
        LimitKey::Hashed(key)
    }

    /// An e-mail as typed, folded so that `Ana@X` and `ana@x ` share a bucket.
    pub fn account(email: &str) -> Self {
        Self::hashed(&email.trim().to_lowercase())
    }
}

/// Over the limit: try again after this long.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RetryAfter {
    pub ms: u64,
}

/// One token bucket: at most `burst` in a row, then one more every `every_ms`
/// milliseconds. `burst = 0` turns the limit off.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub burst: u32,
    pub every_ms: u64,
}

impl Rate {
    pub const OFF: Rate = Rate { burst: 0, every_ms: 1000 };

    pub const fn new(burst: u32, every_ms: u64) -> Self {
        Self { burst, every_ms }
    }

    fn quota(self) -> Option<Quota> {
        let burst = NonZeroU32::new(self.burst)?;
        Some(Quota::with_period(Duration::from_millis(self.every_ms.max(1)))?.allow_burst(burst))
    }
}

/// Every limit's rate. The defaults let a person chat, type and browse freely and a
/// dashboard work at full speed, and stop a script within a second or two.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rates {
    pub new_sessions_per_ip: Rate,
    pub messages_per_visitor: Rate,
    pub messages_per_ip: Rate,
    pub messages_per_site: Rate,
    pub new_conversations_per_ip: Rate,
    pub new_conversations_per_site: Rate,
    pub typing_per_visitor: Rate,
    pub page_views_per_visitor: Rate,
    pub track_per_visitor: Rate,
    pub uploads_per_visitor: Rate,
    pub uploads_per_site: Rate,
    pub rest_per_token: Rate,
    pub rest_per_session: Rate,
    pub sign_in_per_account: Rate,
    pub sign_in_lockout_per_account: Rate,
    pub sign_in_per_ip: Rate,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            // An office behind one address opens many chats, but not hundreds a minute.
            new_sessions_per_ip: Rate::new(30, 2_000),
            // A person sends a few messages in a burst, then at most one a second or so.
            messages_per_visitor: Rate::new(20, 1_000),
            // An office of fifty people chatting at once sends far less than ten a second.
            messages_per_ip: Rate::new(60, 100),
            // A site with 200 chats open at once gets a few dozen visitor messages a second
            // at its busiest; a thousand a second is a flood from many addresses.
            messages_per_site: Rate::new(2_000, 1),
            // As many new conversations from one address as new visitors.
            new_conversations_per_ip: Rate::new(30, 2_000),
            // Ten new conversations a second (36,000 an hour) after a burst of a thousand.
            new_conversations_per_site: Rate::new(1_000, 100),
            // The widget sends typing at most every few seconds while a key is pressed.
            typing_per_visitor: Rate::new(20, 500),
            page_views_per_visitor: Rate::new(30, 2_000),
            track_per_visitor: Rate::new(60, 1_000),
            uploads_per_visitor: Rate::new(10, 6_000),
            uploads_per_site: Rate::new(200, 300),
            rest_per_token: Rate::new(200, 50),
            rest_per_session: Rate::new(300, 50),
            // Five tries, then one a minute; twenty, then one every fifteen minutes.
            sign_in_per_account: Rate::new(5, 60_000),
            sign_in_lockout_per_account: Rate::new(20, 900_000),
            sign_in_per_ip: Rate::new(30, 6_000),
        }
    }
}

impl Rates {
    /// No limit at all: for benchmarks that measure the store, and tests of other things
    /// that send faster than a person would.
    pub fn unlimited() -> Self {
        Self {
            new_sessions_per_ip: Rate::OFF,
            messages_per_visitor: Rate::OFF,
            messages_per_ip: Rate::OFF,
            messages_per_site: Rate::OFF,
            new_conversations_per_ip: Rate::OFF,
            new_conversations_per_site: Rate::OFF,
            typing_per_visitor: Rate::OFF,
            page_views_per_visitor: Rate::OFF,
            track_per_visitor: Rate::OFF,
            uploads_per_visitor: Rate::OFF,
            uploads_per_site: Rate::OFF,
            rest_per_token: Rate::OFF,
            rest_per_session: Rate::OFF,
            sign_in_per_account: Rate::OFF,
            sign_in_lockout_per_account: Rate::OFF,
            sign_in_per_ip: Rate::OFF,
        }
    }

    pub fn of(&self, kind: LimitKind) -> Rate {
        match kind {
            LimitKind::NewSessionPerIp => self.new_sessions_per_ip,
            LimitKind::MessagePerVisitor => self.messages_per_visitor,
            LimitKind::MessagePerIp => self.messages_per_ip,
            LimitKind::MessagePerSite => self.messages_per_site,
            LimitKind::NewConversationPerIp => self.new_conversations_per_ip,
            LimitKind::NewConversationPerSite => self.new_conversations_per_site,
            LimitKind::TypingPerVisitor => self.typing_per_visitor,
            LimitKind::PageViewPerVisitor => self.page_views_per_visitor,
            LimitKind::TrackPerVisitor => self.track_per_visitor,
            LimitKind::UploadPerVisitor => self.uploads_per_visitor,
            LimitKind::UploadPerSite => self.uploads_per_site,
            LimitKind::RestPerToken => self.rest_per_token,
            LimitKind::RestPerSession => self.rest_per_session,
            LimitKind::SignInPerAccount => self.sign_in_per_account,
            LimitKind::SignInLockoutPerAccount => self.sign_in_lockout_per_account,
            LimitKind::SignInPerIp => self.sign_in_per_ip,
        }
    }

    /// A rate that cannot be a token bucket (a refill time of zero) names its key.
    pub fn check(&self) -> Result<(), String> {
        for kind in <LimitKind as strum::VariantArray>::VARIANTS {
            let rate = self.of(*kind);
            if rate.burst > 0 && rate.every_ms == 0 {
                return Err(format!("limits.rates.{}: every_ms must be at least 1", field_name(*kind)));
            }
        }
        Ok(())
    }
}

/// The config key of a kind (`messages_per_visitor`), for error messages.
fn field_name(kind: LimitKind) -> &'static str {
    match kind {
        LimitKind::NewSessionPerIp => "new_sessions_per_ip",
        LimitKind::MessagePerVisitor => "messages_per_visitor",
        LimitKind::MessagePerIp => "messages_per_ip",
        LimitKind::MessagePerSite => "messages_per_site",
        LimitKind::NewConversationPerIp => "new_conversations_per_ip",
        LimitKind::NewConversationPerSite => "new_conversations_per_site",
        LimitKind::TypingPerVisitor => "typing_per_visitor",
        LimitKind::PageViewPerVisitor => "page_views_per_visitor",
        LimitKind::TrackPerVisitor => "track_per_visitor",
        LimitKind::UploadPerVisitor => "uploads_per_visitor",
        LimitKind::UploadPerSite => "uploads_per_site",
        LimitKind::RestPerToken => "rest_per_token",
        LimitKind::RestPerSession => "rest_per_session",
        LimitKind::SignInPerAccount => "sign_in_per_account",
        LimitKind::SignInLockoutPerAccount => "sign_in_lockout_per_account",
        LimitKind::SignInPerIp => "sign_in_per_ip",
    }
}

/// Takes one from a bucket, or says how long until it holds one again.
#[async_trait::async_trait]
pub trait Limiter: Send + Sync + 'static {
    async fn check(&self, kind: LimitKind, key: LimitKey) -> Result<(), RetryAfter>;

    /// Takes one from each bucket in order and stops at the first that is empty (the
    /// earlier ones keep their token spent): one call, so a use case counted against
    /// several buckets (a visitor's message) awaits once.
    async fn check_each(&self, checks: &[(LimitKind, LimitKey)]) -> Result<(), (LimitKind, RetryAfter)> {
        for &(kind, key) in checks {
            self.check(kind, key).await.map_err(|r| (kind, r))?;
        }
        Ok(())
    }
}

/// Core's clock as `governor` sees it: nanoseconds since the epoch, so a test's
/// `ManualClock` moves the buckets too.
#[derive(Clone)]
struct CoreClock(Arc<dyn Clock>);

impl GovernorClock for CoreClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::new(u64::try_from(self.0.now().0).unwrap_or(0).saturating_mul(1_000_000))
    }
}

/// Checks a kind makes before its full buckets are dropped.
pub const EVICT_EVERY: u64 = 1024;

type Buckets =
    RateLimiter<LimitKey, governor::state::keyed::DashMapStateStore<LimitKey>, CoreClock, governor::middleware::NoOpMiddleware<Nanos>>;

struct Kind {
    buckets: Buckets,
    checks: AtomicU64,
}

/// The buckets of this process.
pub struct LocalLimiter {
    clock: CoreClock,
    /// Indexed by `LimitKind as usize`; `None` where the limit is off.
    kinds: Vec<Option<Kind>>,
}

impl LocalLimiter {
    pub fn new(rates: &Rates, clock: Arc<dyn Clock>) -> Self {
        let clock = CoreClock(clock);
        let kinds = <LimitKind as strum::VariantArray>::VARIANTS
            .iter()
            .map(|kind| {
                let quota = rates.of(*kind).quota()?;
                Some(Kind { buckets: RateLimiter::dashmap_with_clock(quota, clock.clone()), checks: AtomicU64::new(0) })
            })
            .collect();
        Self { clock, kinds }
    }

    /// Buckets held for a kind (full ones may linger until the next eviction).
    pub fn held(&self, kind: LimitKind) -> usize {
        self.kinds[kind as usize].as_ref().map_or(0, |k| k.buckets.len())
    }

    fn take(&self, kind: LimitKind, key: LimitKey) -> Result<(), RetryAfter> {
        let Some(k) = &self.kinds[kind as usize] else { return Ok(()) };
        if k.checks.fetch_add(1, Ordering::Relaxed) % EVICT_EVERY == EVICT_EVERY - 1 {
            k.buckets.retain_recent();
        }
        k.buckets.check_key(&key).map_err(|not_until| {
            let wait = not_until.earliest_possible().duration_since(self.clock.now());
            // Rounded up, so a client that waits exactly this long finds a token.
            RetryAfter { ms: Duration::from(wait).as_nanos().div_ceil(1_000_000).max(1) as u64 }
        })
    }
}

#[async_trait::async_trait]
impl Limiter for LocalLimiter {
    async fn check(&self, kind: LimitKind, key: LimitKey) -> Result<(), RetryAfter> {
        self.take(kind, key)
    }

    async fn check_each(&self, checks: &[(LimitKind, LimitKey)]) -> Result<(), (LimitKind, RetryAfter)> {
        checks.iter().try_for_each(|&(kind, key)| self.take(kind, key).map_err(|r| (kind, r)))
    }
}

#[cfg(test)]
mod tests {
    use switchboard_domain::Timestamp;

    use super::*;
    use crate::ManualClock;

    fn limiter(rates: Rates) -> (LocalLimiter, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(Timestamp(1_700_000_000_000)));
        (LocalLimiter::new(&rates, clock.clone()), clock)
    }

    #[test]
    fn a_bucket_allows_its_burst_then_says_when_to_come_back() {
        let rates = Rates { messages_per_visitor: Rate::new(3, 1000), ..Rates::default() };
        let (limiter, clock) = limiter(rates);
        let ana = LimitKey::Contact(ContactId::new());
        for _ in 0..3 {
            limiter.take(LimitKind::MessagePerVisitor, ana).expect("within the burst");
        }
        assert_eq!(limiter.take(LimitKind::MessagePerVisitor, ana), Err(RetryAfter { ms: 1000 }));
        clock.advance(400);
        assert_eq!(limiter.take(LimitKind::MessagePerVisitor, ana), Err(RetryAfter { ms: 600 }), "the wait shrinks");
        clock.advance(600);
        limiter.take(LimitKind::MessagePerVisitor, ana).expect("one token is back");
        assert!(limiter.take(LimitKind::MessagePerVisitor, ana).is_err(), "and only one");
        let bo = LimitKey::Contact(ContactId::new());
        limiter.take(LimitKind::MessagePerVisitor, bo).expect("another visitor has a bucket of their own");
        limiter.take(LimitKind::TypingPerVisitor, ana).expect("and another kind too");
    }

    #[test]
    fn a_limit_with_no_burst_is_off() {
        let (limiter, _) = limiter(Rates::unlimited());
        let key = LimitKey::Ip("192.0.2.1".parse().unwrap());
        for _ in 0..10_000 {
            limiter.take(LimitKind::NewSessionPerIp, key).unwrap();
        }
        assert_eq!(limiter.held(LimitKind::NewSessionPerIp), 0);
    }

    #[test]
    fn idle_buckets_are_forgotten() {
        let (limiter, clock) = limiter(Rates::default());
        for i in 0..5_000u32 {
            let _ = limiter.take(LimitKind::NewSessionPerIp, LimitKey::Ip(IpAddr::from(i.to_be_bytes())));
        }
        assert!(limiter.held(LimitKind::NewSessionPerIp) > 3_000, "recent buckets are kept");
        // Long enough for every bucket to fill up again: they are all like new.
        clock.advance(10 * 60 * 1000);
        let busy = LimitKey::Ip("192.0.2.9".parse().unwrap());
        for _ in 0..EVICT_EVERY {
            let _ = limiter.take(LimitKind::NewSessionPerIp, busy);
        }
        assert!(limiter.held(LimitKind::NewSessionPerIp) <= 1, "{} held", limiter.held(LimitKind::NewSessionPerIp));
    }

    #[test]
    fn accounts_fold_case_and_space() {
        assert_eq!(LimitKey::account(" Ana@Acme.Example"), LimitKey::account("ana@acme.example"));
        assert_ne!(LimitKey::account("ana@acme.example"), LimitKey::account("bo@acme.example"));
    }

    #[test]
    fn a_refill_time_of_zero_is_refused_by_name() {
        let rates = Rates { typing_per_visitor: Rate::new(5, 0), ..Rates::default() };
        assert!(rates.check().unwrap_err().contains("typing_per_visitor"));
        assert!(Rates::default().check().is_ok());
    }
}
