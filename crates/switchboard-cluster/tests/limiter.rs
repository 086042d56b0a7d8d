//! The cluster-wide limiter against a real Redis: two nodes' limiters share each bucket
//! (at the limit, over it, after the window, on a manual clock), a request counted
//! against several buckets stops at the first empty one on both, while Redis is down
//! each node counts alone instead of refusing or stalling, and the script crosses the
//! network once, not with every check.

use std::sync::Arc;
use std::time::Duration;

use switchboard_cluster::{RedisLimiter, RedisSettings};
use switchboard_core::{Clock, LimitKey, LimitKind, Limiter, ManualClock, Rate, Rates, RetryAfter};
use switchboard_domain::{ContactId, SiteId, Timestamp};
use switchboard_services::EphemeralRedis;

fn rates() -> Rates {
    Rates { messages_per_visitor: Rate::new(3, 1000), messages_per_site: Rate::new(4, 500), ..Rates::unlimited() }
}

fn node(redis: &EphemeralRedis, cluster: &str, name: &str, clock: &Arc<ManualClock>) -> RedisLimiter {
    let settings = RedisSettings::new(redis.url(), cluster, name);
    let clock: Arc<dyn Clock> = clock.clone();
    RedisLimiter::new(&settings, &rates(), clock).unwrap()
}

fn cluster_name() -> String {
    format!("t{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn two_nodes_share_a_visitors_bucket_and_it_refills_with_time() {
    let redis = EphemeralRedis::shared().await.unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let cluster = cluster_name();
    let (a, b) = (node(redis, &cluster, "a", &clock), node(redis, &cluster, "b", &clock));
    let ana = LimitKey::Contact(ContactId::new());

    a.check(LimitKind::MessagePerVisitor, ana).await.expect("first, on A");
    b.check(LimitKind::MessagePerVisitor, ana).await.expect("second, on B");
    a.check(LimitKind::MessagePerVisitor, ana).await.expect("the last of the burst, on A");
    assert_eq!(b.check(LimitKind::MessagePerVisitor, ana).await, Err(RetryAfter { ms: 1000 }), "B knows A's sends");
    clock.advance(400);
    assert_eq!(a.check(LimitKind::MessagePerVisitor, ana).await, Err(RetryAfter { ms: 600 }), "the wait shrinks");
    clock.advance(600);
    b.check(LimitKind::MessagePerVisitor, ana).await.expect("one token is back");
    assert!(a.check(LimitKind::MessagePerVisitor, ana).await.is_err(), "and only one");
    b.check(LimitKind::MessagePerVisitor, LimitKey::Contact(ContactId::new())).await.expect("another visitor has their own");
    b.check(LimitKind::TypingPerVisitor, ana).await.expect("a limit that is off takes nothing");
    assert!(!a.is_degraded() && !b.is_degraded());
}

#[tokio::test]
async fn a_request_stops_at_the_first_empty_bucket_on_every_node() {
    let redis = EphemeralRedis::shared().await.unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let cluster = cluster_name();
    let (a, b) = (node(redis, &cluster, "a", &clock), node(redis, &cluster, "b", &clock));
    let site = LimitKey::Site(SiteId::new());
    let send = |who: LimitKey| [(LimitKind::MessagePerVisitor, who), (LimitKind::MessagePerSite, site)];
    let (ana, bo) = (LimitKey::Contact(ContactId::new()), LimitKey::Contact(ContactId::new()));

    for _ in 0..3 {
        a.check_each(&send(ana)).await.expect("within both buckets");
    }
    // Ana's own bucket is empty, so the site's token is not spent.
    assert_eq!(b.check_each(&send(ana)).await, Err((LimitKind::MessagePerVisitor, RetryAfter { ms: 1000 })));
    b.check_each(&send(bo)).await.expect("the site's fourth");
    assert_eq!(a.check_each(&send(bo)).await, Err((LimitKind::MessagePerSite, RetryAfter { ms: 500 })), "the site's bucket is shared");
}

#[tokio::test]
async fn while_redis_is_down_a_node_counts_alone_and_then_shares_again() {
    let mut redis = EphemeralRedis::start().await.unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let a = node(&redis, &cluster_name(), "a", &clock);
    let ana = LimitKey::Contact(ContactId::new());
    a.check(LimitKind::MessagePerVisitor, ana).await.expect("counted in Redis");

    let (answers, took, degraded) = redis
        .restart_after(async || {
            let started = std::time::Instant::now();
            let mut answers = vec![];
            for _ in 0..4 {
                answers.push(a.check(LimitKind::MessagePerVisitor, ana).await);
            }
            (answers, started.elapsed(), a.is_degraded())
        })
        .await
        .unwrap();
    assert!(degraded, "the node knows it counts alone");
    // This node's own bucket was fresh: a burst of three, then a refusal.
    assert_eq!(answers[..3], [Ok(()), Ok(()), Ok(())]);
    assert_eq!(answers[3], Err(RetryAfter { ms: 1000 }));
    assert!(took < Duration::from_secs(2), "an outage never stalls a check for long: {took:?}");

    // Redis is back (empty); once the rest period is over the node counts there again.
    clock.advance(1_000);
    a.check(LimitKind::MessagePerVisitor, LimitKey::Contact(ContactId::new())).await.expect("a fresh visitor");
    assert!(!a.is_degraded(), "the limiter uses Redis again");
}

/// Checks call the script by its SHA-1 (`EVALSHA`), never sending its text with each
/// call (`EVAL`); a Redis that forgot it (`SCRIPT FLUSH`) is sent it again and the
/// check still counts in Redis, shared, rather than on this node alone.
#[tokio::test]
async fn the_script_is_sent_once_and_again_only_when_redis_forgot_it() {
    let redis = EphemeralRedis::start().await.unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000)));
    let cluster = cluster_name();
    let (a, b) = (node(&redis, &cluster, "a", &clock), node(&redis, &cluster, "b", &clock));
    let mut admin = redis::Client::open(redis.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let calls = async |admin: &mut redis::aio::MultiplexedConnection, command: &str| -> u64 {
        let stats: String = redis::cmd("INFO").arg("commandstats").query_async(admin).await.unwrap();
        let line = stats.lines().find(|l| l.starts_with(&format!("cmdstat_{command}:")));
        line.and_then(|l| l.split(['=', ',']).nth(1)?.parse().ok()).unwrap_or(0)
    };
    let ana = LimitKey::Contact(ContactId::new());

    a.check(LimitKind::MessagePerVisitor, ana).await.expect("first");
    b.check(LimitKind::MessagePerVisitor, ana).await.expect("second");
    assert_eq!((calls(&mut admin, "eval").await, calls(&mut admin, "evalsha").await), (0, 2), "called by its SHA-1");

    redis::cmd("SCRIPT").arg("FLUSH").query_async::<()>(&mut admin).await.unwrap();
    a.check(LimitKind::MessagePerVisitor, ana).await.expect("the last of the burst, after the script was loaded again");
    assert_eq!(b.check(LimitKind::MessagePerVisitor, ana).await, Err(RetryAfter { ms: 1000 }), "still one bucket for both nodes");
    assert!(!a.is_degraded() && !b.is_degraded(), "a forgotten script is no outage");
    assert_eq!(calls(&mut admin, "eval").await, 0, "the script's text never travels with a check");
}
