//! Durable jobs and timers: the [`Jobs`] trait, its rows, and the retry policy both
//! backends share.
//!
//! A job is a row: a kind, a JSON payload, a due time. A runner claims the due ones
//! with a lease (so a job runs once even when two runners poll), then completes or fails
//! each. A job that fails is retried with exponential backoff until it has been tried
//! [`NewJob::max_attempts`] times, then kept as dead with its last error. A runner that
//! dies mid-job loses its lease, and the job is claimed again once the lease runs out.

use async_trait::async_trait;
use switchboard_domain::Timestamp;
use uuid::Uuid;

use crate::Result;

/// A job's id (UUIDv7: ids sort roughly by creation).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct JobId(pub Uuid);

impl JobId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for JobId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A job to run at `due_at`.
#[derive(Clone, PartialEq, Debug)]
pub struct NewJob {
    /// What to do; the runner knows the kinds (core's `JobKind`).
    pub kind: String,
    /// The job's arguments, as JSON text.
    pub payload: String,
    pub due_at: Timestamp,
    /// At most one pending job holds a key: enqueueing a key again replaces the pending
    /// job's kind, payload and due time (a timer that moves) instead of adding one.
    pub dedupe_key: Option<String>,
    /// Tries before the job is kept as dead; at least 1.
    pub max_attempts: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JobState {
    /// Waiting for `due_at`, or for its retry.
    Pending,
    /// Claimed by a runner until `leased_until`.
    Running,
    /// Failed `max_attempts` times; `last_error` says why. Never run again.
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(JobState::Pending),
            "running" => Some(JobState::Running),
            "dead" => Some(JobState::Dead),
            _ => None,
        }
    }
}

/// A stored job. Completed jobs are deleted.
#[derive(Clone, PartialEq, Debug)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: String,
    pub due_at: Timestamp,
    pub dedupe_key: Option<String>,
    pub state: JobState,
    /// Times claimed so far. A claim is identified by the job and this number: only the
    /// runner holding the latest claim may complete or fail the job.
    pub attempts: u32,
    pub max_attempts: u32,
    pub leased_until: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// First retry after this long; each further one waits twice as long as the one before.
pub const RETRY_BASE_MS: i64 = 10_000;
/// No retry waits longer than this.
pub const RETRY_MAX_MS: i64 = 3_600_000;

/// What happens to a claimed job that failed at `now`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AfterFailure {
    RetryAt(Timestamp),
    Dead,
}

impl Job {
    /// The retry policy: exponential backoff from [`RETRY_BASE_MS`], capped at
    /// [`RETRY_MAX_MS`], until the job has been tried `max_attempts` times.
    pub fn after_failure(&self, now: Timestamp) -> AfterFailure {
        if self.attempts >= self.max_attempts {
            return AfterFailure::Dead;
        }
        let doublings = self.attempts.saturating_sub(1).min(20);
        AfterFailure::RetryAt(now.plus_millis((RETRY_BASE_MS << doublings).min(RETRY_MAX_MS)))
    }
}

#[async_trait]
pub trait Jobs: Send + Sync {
    /// Stores a job, or with a `dedupe_key` that a pending job already holds, moves that
    /// job to this one's kind, payload, due time and attempts. Returns the job's id.
    async fn enqueue_job(&self, job: &NewJob) -> Result<JobId>;
    /// Claims up to `limit` jobs that are due at `now` (pending, or running with a lease
    /// that has run out), earliest first, for `lease_ms`: each becomes `Running` with one
    /// more attempt. Two runners claiming at once never get the same job.
    async fn claim_jobs(&self, now: Timestamp, lease_ms: i64, limit: u32) -> Result<Vec<Job>>;
    /// Deletes a job its runner finished. `false` when `job`'s claim was no longer the
    /// latest (its lease ran out and another runner claimed it): nothing changes.
    async fn complete_job(&self, job: &Job) -> Result<bool>;
    /// Records a failed run: the job is pending again at the time [`Job::after_failure`]
    /// gives, or dead. If a newer job with the same `dedupe_key` was enqueued meanwhile,
    /// that one replaces this one, which is deleted. `false` as for `complete_job`.
    async fn fail_job(&self, job: &Job, error: &str, now: Timestamp) -> Result<bool>;
    async fn job(&self, id: JobId) -> Result<Option<Job>>;
    /// When the next job falls due (a pending job's `due_at` or a running job's lease
    /// running out), if any: how long a runner may sleep.
    async fn next_job_at(&self) -> Result<Option<Timestamp>>;
    /// How many jobs a runner could claim at `now`, how many are held by a lease still
    /// running, and how many died: `/metrics`' queue depth.
    async fn job_queue(&self, now: Timestamp) -> Result<JobQueue>;
}

/// The job table at one moment, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobQueue {
    /// Pending and due, or running with a lease that has run out (its runner is gone).
    pub due: u64,
    /// Running under a lease that has not run out.
    pub leased: u64,
    /// Failed every attempt; never run again.
    pub dead: u64,
}

/// The statement both backends run for [`Jobs::job_queue`] (`$1`: now), portable SQL.
pub const JOB_QUEUE_SQL: &str = "SELECT \
    COALESCE(SUM(CASE WHEN (state = 'pending' AND due_at <= $1) OR (state = 'running' AND leased_until <= $1) THEN 1 ELSE 0 END), 0), \
    COALESCE(SUM(CASE WHEN state = 'running' AND leased_until > $1 THEN 1 ELSE 0 END), 0), \
    COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) \
    FROM jobs";

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed(attempts: u32, max_attempts: u32) -> Job {
        Job {
            id: JobId::new(),
            kind: "k".into(),
            payload: "{}".into(),
            due_at: Timestamp(0),
            dedupe_key: None,
            state: JobState::Running,
            attempts,
            max_attempts,
            leased_until: None,
            last_error: None,
        }
    }

    #[test]
    fn retries_back_off_exponentially_then_the_job_dies() {
        let now = Timestamp(1_000_000);
        assert_eq!(claimed(1, 4).after_failure(now), AfterFailure::RetryAt(now.plus_millis(10_000)));
        assert_eq!(claimed(2, 4).after_failure(now), AfterFailure::RetryAt(now.plus_millis(20_000)));
        assert_eq!(claimed(3, 4).after_failure(now), AfterFailure::RetryAt(now.plus_millis(40_000)));
        assert_eq!(claimed(4, 4).after_failure(now), AfterFailure::Dead);
    }

    #[test]
    fn no_retry_waits_longer_than_an_hour() {
        let now = Timestamp(0);
        assert_eq!(claimed(30, 100).after_failure(now), AfterFailure::RetryAt(Timestamp(RETRY_MAX_MS)));
    }
}
