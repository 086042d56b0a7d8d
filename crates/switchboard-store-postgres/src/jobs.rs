//! Background work's state on PostgreSQL: durable jobs (`switchboard_store::Jobs`) and
//! the log consumers' cursors, mirroring the SQLite store. Several processes may claim
//! jobs from one database at once; `FOR UPDATE SKIP LOCKED` hands each due job to one.

use sqlx::PgPool;
use switchboard_domain::*;
use switchboard_store::*;

use crate::rows::{self, db};

pub(crate) async fn enqueue_job(pool: &PgPool, job: &NewJob) -> Result<JobId> {
    let id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO jobs (id, kind, payload, due_at, dedupe_key, state, attempts, max_attempts) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6) \
         ON CONFLICT (dedupe_key) WHERE state = 'pending' DO UPDATE SET kind = excluded.kind, payload = excluded.payload, \
         due_at = excluded.due_at, max_attempts = excluded.max_attempts, attempts = 0, last_error = NULL RETURNING id",
    )
    .bind(JobId::new().0)
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(job.due_at.0)
    .bind(&job.dedupe_key)
    .bind(job.max_attempts.max(1) as i32)
    .fetch_one(pool)
    .await
    .map_err(db)?;
    Ok(JobId(id))
}

pub(crate) async fn claim_jobs(pool: &PgPool, now: Timestamp, lease_ms: i64, limit: u32) -> Result<Vec<Job>> {
    // Postgres-only: SKIP LOCKED, so runners on other nodes claiming at the same moment
    // pass over the rows this one is taking instead of waiting for them.
    let rows = sqlx::query(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, leased_until = $2 WHERE id IN ( \
           SELECT id FROM jobs WHERE (state = 'pending' AND due_at <= $1) OR (state = 'running' AND leased_until <= $1) \
           ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
         RETURNING *",
    )
    .bind(now.0)
    .bind(now.plus_millis(lease_ms).0)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let mut jobs = rows.iter().map(rows::job).collect::<Result<Vec<_>>>()?;
    // RETURNING comes in no particular order.
    jobs.sort_by_key(|j| (j.due_at, j.id));
    Ok(jobs)
}

async fn delete_claimed(pool: &PgPool, job: &Job) -> Result<bool> {
    let r = sqlx::query("DELETE FROM jobs WHERE id = $1 AND state = 'running' AND attempts = $2")
        .bind(job.id.0)
        .bind(job.attempts as i32)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn complete_job(pool: &PgPool, job: &Job) -> Result<bool> {
    delete_claimed(pool, job).await
}

pub(crate) async fn fail_job(pool: &PgPool, job: &Job, error: &str, now: Timestamp) -> Result<bool> {
    let moved = match job.after_failure(now) {
        AfterFailure::Dead => sqlx::query(
            "UPDATE jobs SET state = 'dead', leased_until = NULL, last_error = $3 WHERE id = $1 AND state = 'running' AND attempts = $2",
        )
        .bind(job.id.0)
        .bind(job.attempts as i32)
        .bind(error)
        .execute(pool)
        .await,
        AfterFailure::RetryAt(at) => {
            sqlx::query(
                "UPDATE jobs SET state = 'pending', due_at = $3, leased_until = NULL, last_error = $4 \
             WHERE id = $1 AND state = 'running' AND attempts = $2 \
             AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.dedupe_key = jobs.dedupe_key AND p.state = 'pending')",
            )
            .bind(job.id.0)
            .bind(job.attempts as i32)
            .bind(at.0)
            .bind(error)
            .execute(pool)
            .await
        }
    };
    match moved {
        Ok(r) if r.rows_affected() == 1 => Ok(true),
        // A newer job holds the key (seen by the check, or enqueued since it ran): it
        // replaces this one.
        Ok(_) => delete_claimed(pool, job).await,
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => delete_claimed(pool, job).await,
        Err(e) => Err(db(e)),
    }
}

pub(crate) async fn job(pool: &PgPool, id: JobId) -> Result<Option<Job>> {
    let row = sqlx::query("SELECT * FROM jobs WHERE id = $1").bind(id.0).fetch_optional(pool).await.map_err(db)?;
    row.as_ref().map(rows::job).transpose()
}

pub(crate) async fn next_job_at(pool: &PgPool) -> Result<Option<Timestamp>> {
    let at: Option<i64> = sqlx::query_scalar(
        "SELECT min(t) FROM (SELECT min(due_at) AS t FROM jobs WHERE state = 'pending' \
         UNION ALL SELECT min(leased_until) FROM jobs WHERE state = 'running') AS due",
    )
    .fetch_one(pool)
    .await
    .map_err(db)?;
    Ok(at.map(Timestamp))
}

pub(crate) async fn job_queue(pool: &PgPool, now: Timestamp) -> Result<JobQueue> {
    let (due, leased, dead): (i64, i64, i64) =
        sqlx::query_as(switchboard_store::JOB_QUEUE_SQL).bind(now.0).fetch_one(pool).await.map_err(db)?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(JobQueue { due: count(due), leased: count(leased), dead: count(dead) })
}

pub(crate) async fn consumer_cursor(pool: &PgPool, name: &str, ws: WorkspaceId) -> Result<i64> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT feed_seq FROM consumer_cursors WHERE name = $1 AND workspace_id = $2")
        .bind(name)
        .bind(ws.0)
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    Ok(seq.unwrap_or(0))
}

pub(crate) async fn save_consumer_cursor(pool: &PgPool, name: &str, ws: WorkspaceId, feed_seq: i64) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO consumer_cursors (name, workspace_id, feed_seq) SELECT $1, id, $3 FROM workspaces WHERE id = $2 \
         ON CONFLICT (name, workspace_id) DO UPDATE SET feed_seq = excluded.feed_seq",
    )
    .bind(name)
    .bind(ws.0)
    .bind(feed_seq)
    .execute(pool)
    .await
    .map_err(db)?;
    if r.rows_affected() == 0 { Err(StoreError::NotFound(Entity::Workspace)) } else { Ok(()) }
}
