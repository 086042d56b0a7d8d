//! What a node needs to join a cluster: where Redis is, the cluster's name (its key
//! prefix, so two clusters may share one Redis), this node's name, and the timings of
//! the probe, the repairs and presence. Tests shrink the timings about tenfold.

use std::time::Duration;

#[derive(Clone)]
pub struct RedisSettings {
    /// `redis://[:password@]host:port[/db]`, or `rediss://` for TLS.
    pub url: String,
    pub cluster: String,
    /// Unique among the live nodes of the cluster.
    pub node: String,
    /// How often the delivery probe runs; two missed probes make the link degraded.
    pub probe_interval: Duration,
    /// How often every followed workspace is read from the store while degraded.
    pub poll_interval: Duration,
    /// How long a hole in `feed_seq` may stay open before it is read from the store.
    pub reorder_window: Duration,
    /// How often every followed workspace is checked against the store anyway.
    pub position_check: Duration,
    /// Messages waiting to be published before new ones are dropped (and repaired).
    pub outbox: usize,
    /// How often a node rewrites its presence in Redis and reads the others'.
    pub presence_heartbeat: Duration,
    /// How long a node's presence outlives its last heartbeat.
    pub presence_ttl: Duration,
}

impl RedisSettings {
    /// The production timings for `url`, as `switchboard config print-default` shows.
    pub fn new(url: impl Into<String>, cluster: impl Into<String>, node: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            cluster: cluster.into(),
            node: node.into(),
            probe_interval: Duration::from_millis(1000),
            poll_interval: Duration::from_millis(1000),
            reorder_window: Duration::from_millis(100),
            position_check: Duration::from_millis(5000),
            outbox: 10_000,
            presence_heartbeat: Duration::from_millis(5000),
            presence_ttl: Duration::from_millis(15_000),
        }
    }

    /// How long connecting or subscribing may take before it counts as failed.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.probe_interval.max(Duration::from_millis(200))
    }

    /// How long to wait before subscribing again after a failure.
    pub(crate) fn retry_interval(&self) -> Duration {
        (self.probe_interval / 2).clamp(Duration::from_millis(20), Duration::from_millis(500))
    }
}

/// Shows the URL without its password.
impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &redact(&self.url))
            .field("cluster", &self.cluster)
            .field("node", &self.node)
            .field("probe_interval", &self.probe_interval)
            .field("poll_interval", &self.poll_interval)
            .finish_non_exhaustive()
    }
}

/// `redis://user:secret@host` as `redis://user:***@host`, `redis://:secret@host` as
/// `redis://:***@host`; a URL without a password as it is.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return url.to_owned() };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_reaches_a_debug_print() {
        let s = RedisSettings::new("rediss://:hunter2@redis.internal:6380/0", "prod", "node-1");
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("rediss://:***@redis.internal:6380/0"), "{printed}");
        assert_eq!(redact("redis://default:pw@h"), "redis://default:***@h");
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
    }
}
