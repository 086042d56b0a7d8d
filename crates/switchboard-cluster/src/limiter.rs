//! Cluster-wide limits: core's `Limiter` over Redis, so N nodes allow what one would.
//! Each bucket is one Redis key holding its GCRA "theoretical arrival time" (Unix ms,
//! on core's clock), expiring when the bucket is full again; one Lua script takes from
//! every bucket of a request in order and stops at the first that is empty, atomically,
//! in one round trip (the same rule as `LocalLimiter::check_each`).
//!
//! Redis keys, under `sb:{cluster}:`: `limit:{kind}:{key}` (STRING, ms).
//!
//! The script is sent once (`SCRIPT LOAD`) and then called by its SHA-1 (`EVALSHA`),
//! so a check carries its keys and arguments, not the script's 600 bytes. A Redis that
//! forgot it (restarted, `SCRIPT FLUSH`, another server behind the same address) answers
//! `NOSCRIPT`; the script is then loaded again and the call repeated, within the same
//! [`ANSWER_WITHIN`].
//!
//! When Redis cannot answer (not connected, an error, or no answer within
//! [`ANSWER_WITHIN`]) the request is counted by this node's own buckets instead
//! (`LocalLimiter`, the same rates), so a Redis outage never refuses or stalls a visitor:
//! limits are then per node, as without a cluster. That is logged once when it starts
//! and once when Redis answers again; Redis is tried again after [`RETRY_AFTER`].
//!
//! Invariant: a check never waits longer than [`ANSWER_WITHIN`] for Redis, and keys
//! are ids, addresses or hashes (never an e-mail or a secret).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use switchboard_core::{Clock, LimitKey, LimitKind, Limiter, LocalLimiter, Rates, RetryAfter};

use crate::settings::RedisSettings;

/// How long a check waits for Redis before counting on this node instead.
pub const ANSWER_WITHIN: Duration = Duration::from_millis(250);
/// How long after a failure Redis is left alone (checks count on this node meanwhile),
/// on core's clock.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// GCRA over several buckets. KEYS: the buckets, in order. ARGV[1]: now (ms); then for
/// each bucket its emission interval and its tolerance (ms). Returns `{0, 0}` when every
/// bucket gave a token, or `{i, wait_ms}` for the first (1-based) that had none; the
/// buckets before it keep their token spent.
const SCRIPT: &str = r"
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
  local t = tonumber(ARGV[2 * i])
  local tau = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  if tat - tau > now then
    return {i, tat - tau - now}
  end
  local next_tat = tat + t
  redis.call('SET', KEYS[i], string.format('%.0f', next_tat), 'PX', string.format('%.0f', math.max(1, next_tat - now)))
end
return {0, 0}
";

pub struct RedisLimiter {
    prefix: String,
    client: redis::Client,
    rates: Rates,
    clock: Arc<dyn Clock>,
    /// This node's buckets, for when Redis cannot answer.
    local: LocalLimiter,
    conn: Mutex<Option<MultiplexedConnection>>,
    /// The script's SHA-1, as Redis named it when it was loaded.
    sha: Mutex<Option<String>>,
    /// Until when (core's clock, ms) Redis is left alone after a failure.
    resting_until: Mutex<Option<i64>>,
    /// Whether checks are counted on this node now (for logging each change once).
    degraded: AtomicBool,
}

impl RedisLimiter {
    /// Buckets in the Redis of `settings`, at `rates`, on core's `clock`.
    pub fn new(settings: &RedisSettings, rates: &Rates, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let client = redis::Client::open(settings.url.as_str())
            .map_err(|e| anyhow::anyhow!("bus.redis_url is not a usable redis:// or rediss:// URL: {e}"))?;
        Ok(Self {
            prefix: format!("sb:{}:limit:", settings.cluster),
            client,
            rates: rates.clone(),
            local: LocalLimiter::new(rates, clock.clone()),
            clock,
            conn: Mutex::new(None),
            sha: Mutex::new(None),
            resting_until: Mutex::new(None),
            degraded: AtomicBool::new(false),
        })
    }

    /// Whether checks are counted by this node alone now (Redis did not answer).
    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }

    fn key(&self, kind: LimitKind, key: LimitKey) -> String {
        let mut k = format!("{}{}:", self.prefix, kind.name());
        let _ = match key {
            LimitKey::Ip(ip) => write!(k, "ip:{ip}"),
            LimitKey::Contact(id) => write!(k, "contact:{id}"),
            LimitKey::Site(id) => write!(k, "site:{id}"),
            LimitKey::Hashed(h) => {
                k.push_str("h:");
                h.iter().try_for_each(|b| write!(k, "{b:02x}"))
            }
        };
        k
    }

    /// A connection, unless Redis is resting after a failure or cannot be reached now.
    async fn connection(&self) -> Option<MultiplexedConnection> {
        if self.resting_until.lock().expect("limiter lock").is_some_and(|until| self.clock.now().0 < until) {
            return None;
        }
        if let Some(c) = self.conn.lock().expect("limiter lock").clone() {
            return Some(c);
        }
        match tokio::time::timeout(ANSWER_WITHIN, self.client.get_multiplexed_async_connection()).await {
            Ok(Ok(c)) => {
                *self.conn.lock().expect("limiter lock") = Some(c.clone());
                Some(c)
            }
            Ok(Err(e)) => self.failed(&e.to_string()),
            Err(_) => self.failed("no connection within the time allowed"),
        }
    }

    /// Leaves Redis alone for a while and says so once.
    fn failed<T>(&self, why: &str) -> Option<T> {
        *self.conn.lock().expect("limiter lock") = None;
        *self.resting_until.lock().expect("limiter lock") = Some(self.clock.now().0 + RETRY_AFTER.as_millis() as i64);
        if !self.degraded.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = why, "cluster-wide limits unavailable (Redis does not answer); limiting on this node alone");
        }
        None
    }

    /// The buckets in Redis: `Ok(None)` when every one gave a token, `Ok(Some(i, wait))`
    /// for the first that had none; `Err` when Redis did not answer.
    async fn in_redis(&self, checks: &[(LimitKind, LimitKey)]) -> Result<Option<(usize, u64)>, ()> {
        let Some(mut c) = self.connection().await else { return Err(()) };
        let answer = tokio::time::timeout(ANSWER_WITHIN, self.take(&mut c, checks)).await;
        let (i, wait) = match answer {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return self.failed(&e.to_string()).ok_or(()),
            Err(_) => return self.failed("no answer within the time allowed").ok_or(()),
        };
        if self.degraded.swap(false, Ordering::Relaxed) {
            tracing::info!("cluster-wide limits are back (Redis answers)");
        }
        Ok((i > 0).then(|| (i as usize - 1, wait.max(1) as u64)))
    }
}

impl RedisLimiter {
    /// Runs the script over `checks` by its SHA-1, loading it first when this limiter
    /// has not yet, or again when Redis answers that it does not know it.
    async fn take(&self, c: &mut MultiplexedConnection, checks: &[(LimitKind, LimitKey)]) -> redis::RedisResult<(i64, i64)> {
        let known = self.sha.lock().expect("limiter lock").clone();
        let sha = match known {
            Some(sha) => sha,
            None => self.load(c).await?,
        };
        match self.evalsha(&sha, checks).query_async(c).await {
            Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
                tracing::debug!("Redis did not know the limits script; loading it again");
                let sha = self.load(c).await?;
                self.evalsha(&sha, checks).query_async(c).await
            }
            answer => answer,
        }
    }

    /// Sends the script to Redis; its SHA-1, remembered for the next calls.
    async fn load(&self, c: &mut MultiplexedConnection) -> redis::RedisResult<String> {
        let sha: String = redis::cmd("SCRIPT").arg("LOAD").arg(SCRIPT).query_async(c).await?;
        *self.sha.lock().expect("limiter lock") = Some(sha.clone());
        Ok(sha)
    }

    /// `EVALSHA`: the buckets' keys, then now and each bucket's interval and tolerance.
    fn evalsha(&self, sha: &str, checks: &[(LimitKind, LimitKey)]) -> redis::Cmd {
        let mut eval = redis::cmd("EVALSHA");
        eval.arg(sha).arg(checks.len());
        for &(kind, key) in checks {
            eval.arg(self.key(kind, key));
        }
        eval.arg(self.clock.now().0);
        for &(kind, _) in checks {
            let rate = self.rates.of(kind);
            let every = rate.every_ms.max(1);
            eval.arg(every).arg(every * u64::from(rate.burst.saturating_sub(1)));
        }
        eval
    }
}

#[async_trait::async_trait]
impl Limiter for RedisLimiter {
    async fn check(&self, kind: LimitKind, key: LimitKey) -> Result<(), RetryAfter> {
        self.check_each(&[(kind, key)]).await.map_err(|(_, r)| r)
    }

    async fn check_each(&self, checks: &[(LimitKind, LimitKey)]) -> Result<(), (LimitKind, RetryAfter)> {
        // A limit that is off takes nothing, here as on one node.
        let on: Vec<(LimitKind, LimitKey)> = checks.iter().copied().filter(|(kind, _)| self.rates.of(*kind).burst > 0).collect();
        if on.is_empty() {
            return Ok(());
        }
        match self.in_redis(&on).await {
            Ok(None) => Ok(()),
            Ok(Some((i, wait))) => Err((on[i].0, RetryAfter { ms: wait })),
            Err(()) => self.local.check_each(&on).await,
        }
    }
}
