//! Contract cases for background work's state: durable jobs and log consumers' cursors.

use std::collections::HashSet;
use std::sync::Arc;

use switchboard_domain::*;

use crate::*;

fn job(kind: &str, due_at: i64, key: Option<&str>) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: format!(r#"{{"kind":"{kind}"}}"#),
        due_at: Timestamp(due_at),
        dedupe_key: key.map(Into::into),
        max_attempts: 3,
    }
}

const LEASE: i64 = 60_000;

pub async fn a_job_runs_when_due_and_is_gone_once_completed(store: Arc<dyn Store>) {
    let id = store.enqueue_job(&job("wake", 1_000, None)).await.unwrap();
    assert_eq!(store.next_job_at().await.unwrap(), Some(Timestamp(1_000)));
    assert!(store.claim_jobs(Timestamp(999), LEASE, 10).await.unwrap().is_empty(), "not due yet");

    let claimed = store.claim_jobs(Timestamp(1_000), LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let running = &claimed[0];
    assert_eq!((running.id, running.kind.as_str(), running.payload.as_str()), (id, "wake", r#"{"kind":"wake"}"#));
    assert_eq!((running.state, running.attempts, running.leased_until), (JobState::Running, 1, Some(Timestamp(1_000 + LEASE))));
    assert!(store.claim_jobs(Timestamp(1_000), LEASE, 10).await.unwrap().is_empty(), "claimed once");
    assert_eq!(store.next_job_at().await.unwrap(), Some(Timestamp(1_000 + LEASE)), "the lease runs out then");

    assert!(store.complete_job(running).await.unwrap());
    assert_eq!(store.job(id).await.unwrap(), None);
    assert!(!store.complete_job(running).await.unwrap(), "already done");
    assert_eq!(store.next_job_at().await.unwrap(), None);
}

pub async fn the_job_queue_counts_due_leased_and_dead_jobs(store: Arc<dyn Store>) {
    assert_eq!(store.job_queue(Timestamp(0)).await.unwrap(), JobQueue::default(), "an empty table");
    store.enqueue_job(&job("soon", 1_000, None)).await.unwrap();
    store.enqueue_job(&job("later", 100_000, None)).await.unwrap();
    let dying = store.enqueue_job(&NewJob { max_attempts: 1, ..job("dies", 500, None) }).await.unwrap();
    assert_eq!(store.job_queue(Timestamp(999)).await.unwrap(), JobQueue { due: 1, leased: 0, dead: 0 }, "only the one due at 500");
    assert_eq!(store.job_queue(Timestamp(1_000)).await.unwrap(), JobQueue { due: 2, leased: 0, dead: 0 });

    let claimed = store.claim_jobs(Timestamp(1_000), LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(store.job_queue(Timestamp(1_000)).await.unwrap(), JobQueue { due: 0, leased: 2, dead: 0 });
    let dies = claimed.iter().find(|j| j.id == dying).unwrap();
    assert!(store.fail_job(dies, "gave up", Timestamp(1_000)).await.unwrap());
    assert_eq!(store.job_queue(Timestamp(1_000)).await.unwrap(), JobQueue { due: 0, leased: 1, dead: 1 });
    assert_eq!(
        store.job_queue(Timestamp(1_000 + LEASE)).await.unwrap(),
        JobQueue { due: 1, leased: 0, dead: 1 },
        "a lease that ran out is due again: its runner is gone"
    );
    assert_eq!(store.job_queue(Timestamp(100_000)).await.unwrap(), JobQueue { due: 2, leased: 0, dead: 1 });
}

pub async fn due_jobs_are_claimed_earliest_first_up_to_the_limit(store: Arc<dyn Store>) {
    for due in [3_000, 1_000, 2_000] {
        store.enqueue_job(&job(&format!("at-{due}"), due, None)).await.unwrap();
    }
    let first: Vec<String> = store.claim_jobs(Timestamp(5_000), LEASE, 2).await.unwrap().into_iter().map(|j| j.kind).collect();
    assert_eq!(first, ["at-1000", "at-2000"]);
    let rest: Vec<String> = store.claim_jobs(Timestamp(5_000), LEASE, 2).await.unwrap().into_iter().map(|j| j.kind).collect();
    assert_eq!(rest, ["at-3000"]);
}

pub async fn a_dedupe_key_keeps_one_pending_job(store: Arc<dyn Store>) {
    let first = store.enqueue_job(&job("wake", 5_000, Some("wake:c1"))).await.unwrap();
    let moved = store.enqueue_job(&NewJob { payload: r#"{"until":2000}"#.into(), ..job("wake", 2_000, Some("wake:c1")) }).await.unwrap();
    assert_eq!(moved, first, "the pending job moved instead of a second one");
    let stored = store.job(first).await.unwrap().unwrap();
    assert_eq!((stored.due_at, stored.payload.as_str(), stored.state), (Timestamp(2_000), r#"{"until":2000}"#, JobState::Pending));
    let other = store.enqueue_job(&job("wake", 2_000, Some("wake:c2"))).await.unwrap();
    assert_ne!(other, first, "another key is another job");
    let unkeyed = [store.enqueue_job(&job("x", 2_000, None)).await.unwrap(), store.enqueue_job(&job("x", 2_000, None)).await.unwrap()];
    assert_ne!(unkeyed[0], unkeyed[1], "jobs without a key are never merged");
    let claimed = store.claim_jobs(Timestamp(2_000), LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 4);

    // While the keyed job runs, the key is free for the next timer; if the running one
    // then fails, the newer job replaces it rather than both being retried.
    let next = store.enqueue_job(&job("wake", 9_000, Some("wake:c1"))).await.unwrap();
    assert_ne!(next, first);
    let running = claimed.iter().find(|j| j.id == first).unwrap();
    assert!(store.fail_job(running, "conversation busy", Timestamp(2_500)).await.unwrap());
    assert_eq!(store.job(first).await.unwrap(), None, "replaced by the newer job");
    assert_eq!(store.job(next).await.unwrap().unwrap().due_at, Timestamp(9_000));
}

pub async fn two_runners_never_claim_the_same_job(store: Arc<dyn Store>) {
    let mut enqueued = HashSet::new();
    for i in 0..30 {
        enqueued.insert(store.enqueue_job(&job("race", i, None)).await.unwrap());
    }
    let runner = |store: Arc<dyn Store>| async move {
        let mut mine = vec![];
        loop {
            let claimed = store.claim_jobs(Timestamp(1_000), LEASE, 4).await.unwrap();
            if claimed.is_empty() {
                return mine;
            }
            mine.extend(claimed.into_iter().map(|j| j.id));
        }
    };
    let (a, b) = tokio::join!(tokio::spawn(runner(store.clone())), tokio::spawn(runner(store.clone())));
    let (a, b) = (a.unwrap(), b.unwrap());
    let claimed: HashSet<JobId> = a.iter().chain(&b).copied().collect();
    assert_eq!(a.len() + b.len(), 30, "no job claimed twice");
    assert_eq!(claimed, enqueued, "every job claimed");
}

pub async fn a_lost_lease_is_claimed_again_and_the_stale_runner_cannot_finish(store: Arc<dyn Store>) {
    store.enqueue_job(&job("slow", 0, None)).await.unwrap();
    let stale = store.claim_jobs(Timestamp(0), 1_000, 1).await.unwrap().remove(0);
    assert!(store.claim_jobs(Timestamp(999), 1_000, 1).await.unwrap().is_empty(), "still leased");
    let fresh = store.claim_jobs(Timestamp(1_000), 1_000, 1).await.unwrap().remove(0);
    assert_eq!((fresh.id, fresh.attempts), (stale.id, 2));
    assert!(!store.complete_job(&stale).await.unwrap(), "the first runner lost its claim");
    assert!(!store.fail_job(&stale, "late", Timestamp(1_500)).await.unwrap());
    assert!(store.complete_job(&fresh).await.unwrap());
    assert_eq!(store.job(fresh.id).await.unwrap(), None);
}

pub async fn failed_jobs_retry_with_backoff_then_stay_dead(store: Arc<dyn Store>) {
    let id = store.enqueue_job(&job("flaky", 0, Some("flaky"))).await.unwrap();
    let mut now = Timestamp(0);
    for (attempt, wait) in [(1, RETRY_BASE_MS), (2, 2 * RETRY_BASE_MS)] {
        let claimed = store.claim_jobs(now, LEASE, 1).await.unwrap().remove(0);
        assert_eq!(claimed.attempts, attempt);
        assert!(store.fail_job(&claimed, &format!("failure {attempt}"), now).await.unwrap());
        let waiting = store.job(id).await.unwrap().unwrap();
        assert_eq!((waiting.state, waiting.due_at), (JobState::Pending, now.plus_millis(wait)));
        assert_eq!(waiting.last_error.as_deref(), Some(format!("failure {attempt}").as_str()));
        assert!(store.claim_jobs(now.plus_millis(wait - 1), LEASE, 1).await.unwrap().is_empty(), "backing off");
        now = now.plus_millis(wait);
    }
    let last = store.claim_jobs(now, LEASE, 1).await.unwrap().remove(0);
    assert_eq!(last.attempts, 3);
    assert!(store.fail_job(&last, "gave up", now).await.unwrap());
    let dead = store.job(id).await.unwrap().unwrap();
    assert_eq!((dead.state, dead.attempts, dead.last_error.as_deref()), (JobState::Dead, 3, Some("gave up")));
    assert!(store.claim_jobs(Timestamp(i64::MAX / 2), LEASE, 10).await.unwrap().is_empty(), "never run again");
    assert_eq!(store.next_job_at().await.unwrap(), None);
    let again = store.enqueue_job(&job("flaky", 0, Some("flaky"))).await.unwrap();
    assert_ne!(again, id, "a dead job does not hold its key");
}

pub async fn consumer_cursors_start_at_zero_and_are_kept_per_workspace(store: Arc<dyn Store>) {
    let f = super::fixture(&*store, "cursors").await;
    let g = super::fixture(&*store, "othercursors").await;
    assert_eq!(store.consumer_cursor("webhooks", f.ws.id).await.unwrap(), 0);
    store.save_consumer_cursor("webhooks", f.ws.id, 5).await.unwrap();
    store.save_consumer_cursor("webhooks", f.ws.id, 7).await.unwrap();
    assert_eq!(store.consumer_cursor("webhooks", f.ws.id).await.unwrap(), 7);
    assert_eq!(store.consumer_cursor("reports", f.ws.id).await.unwrap(), 0, "per consumer");
    assert_eq!(store.consumer_cursor("webhooks", g.ws.id).await.unwrap(), 0, "per workspace");
    let unknown = store.save_consumer_cursor("webhooks", WorkspaceId::new(), 1).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(Entity::Workspace))), "{unknown:?}");
}
