//! Background work's state on SQLite: durable jobs (`switchboard_store::Jobs`) and the
//! log consumers' cursors. Every write takes the store's turn, so a claim is one
//! statement that no other writer can interleave with: two runners never get one job.

use switchboard_domain::*;
use switchboard_store::*;

use crate::SqliteStore;
use crate::rows::{self, db, s};

const JOB_MOVED: &str = "kind = excluded.kind, payload = excluded.payload, due_at = excluded.due_at, \
     max_attempts = excluded.max_attempts, attempts = 0, last_error = NULL";

pub(crate) async fn enqueue_job(store: &SqliteStore, job: &NewJob) -> Result<JobId> {
    let id: String = sqlx::query_scalar(&format!(
        "INSERT INTO jobs (id, kind, payload, due_at, dedupe_key, state, attempts, max_attempts) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6) \
         ON CONFLICT (dedupe_key) WHERE state = 'pending' DO UPDATE SET {JOB_MOVED} RETURNING id"
    ))
    .bind(s(JobId::new()))
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(job.due_at.0)
    .bind(&job.dedupe_key)
    .bind(i64::from(job.max_attempts.max(1)))
    .fetch_one(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    Ok(JobId(codec::uuid(&id)?))
}

pub(crate) async fn claim_jobs(store: &SqliteStore, now: Timestamp, lease_ms: i64, limit: u32) -> Result<Vec<Job>> {
    let rows = sqlx::query(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, leased_until = $2 WHERE id IN ( \
           SELECT id FROM jobs WHERE (state = 'pending' AND due_at <= $1) OR (state = 'running' AND leased_until <= $1) \
           ORDER BY due_at, id LIMIT $3) \
         RETURNING *",
    )
    .bind(now.0)
    .bind(now.plus_millis(lease_ms).0)
    .bind(i64::from(limit))
    .fetch_all(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    let mut jobs = rows.iter().map(rows::job).collect::<Result<Vec<_>>>()?;
    // RETURNING comes in no particular order.
    jobs.sort_by_key(|j| (j.due_at, j.id));
    Ok(jobs)
}

pub(crate) async fn complete_job(store: &SqliteStore, job: &Job) -> Result<bool> {
    let r = sqlx::query("DELETE FROM jobs WHERE id = $1 AND state = 'running' AND attempts = $2")
        .bind(s(job.id))
        .bind(i64::from(job.attempts))
        .execute(&mut *store.writing().await?)
        .await
        .map_err(db)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn fail_job(store: &SqliteStore, job: &Job, error: &str, now: Timestamp) -> Result<bool> {
    let mut write = store.writing().await?;
    let moved = match job.after_failure(now) {
        AfterFailure::Dead => sqlx::query(
            "UPDATE jobs SET state = 'dead', leased_until = NULL, last_error = $3 WHERE id = $1 AND state = 'running' AND attempts = $2",
        )
        .bind(s(job.id))
        .bind(i64::from(job.attempts))
        .bind(error)
        .execute(&mut *write)
        .await
        .map_err(db)?,
        AfterFailure::RetryAt(at) => sqlx::query(
            "UPDATE jobs SET state = 'pending', due_at = $3, leased_until = NULL, last_error = $4 \
             WHERE id = $1 AND state = 'running' AND attempts = $2 \
             AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.dedupe_key = jobs.dedupe_key AND p.state = 'pending')",
        )
        .bind(s(job.id))
        .bind(i64::from(job.attempts))
        .bind(at.0)
        .bind(error)
        .execute(&mut *write)
        .await
        .map_err(db)?,
    };
    if moved.rows_affected() == 1 {
        return Ok(true);
    }
    // A newer job holds the key: it replaces this one.
    let r = sqlx::query("DELETE FROM jobs WHERE id = $1 AND state = 'running' AND attempts = $2")
        .bind(s(job.id))
        .bind(i64::from(job.attempts))
        .execute(&mut *write)
        .await
        .map_err(db)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn job(store: &SqliteStore, id: JobId) -> Result<Option<Job>> {
    let row = sqlx::query("SELECT * FROM jobs WHERE id = $1").bind(s(id)).fetch_optional(&store.read).await.map_err(db)?;
    row.as_ref().map(rows::job).transpose()
}

pub(crate) async fn next_job_at(store: &SqliteStore) -> Result<Option<Timestamp>> {
    let at: Option<i64> = sqlx::query_scalar(
        "SELECT min(t) FROM (SELECT min(due_at) AS t FROM jobs WHERE state = 'pending' \
         UNION ALL SELECT min(leased_until) FROM jobs WHERE state = 'running')",
    )
    .fetch_one(&store.read)
    .await
    .map_err(db)?;
    Ok(at.map(Timestamp))
}

pub(crate) async fn job_queue(store: &SqliteStore, now: Timestamp) -> Result<JobQueue> {
    let (due, leased, dead): (i64, i64, i64) =
        sqlx::query_as(switchboard_store::JOB_QUEUE_SQL).bind(now.0).fetch_one(&store.read).await.map_err(db)?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(JobQueue { due: count(due), leased: count(leased), dead: count(dead) })
}

pub(crate) async fn consumer_cursor(store: &SqliteStore, name: &str, ws: WorkspaceId) -> Result<i64> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT feed_seq FROM consumer_cursors WHERE name = $1 AND workspace_id = $2")
        .bind(name)
        .bind(s(ws))
        .fetch_optional(&store.read)
        .await
        .map_err(db)?;
    Ok(seq.unwrap_or(0))
}

pub(crate) async fn save_consumer_cursor(store: &SqliteStore, name: &str, ws: WorkspaceId, feed_seq: i64) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO consumer_cursors (name, workspace_id, feed_seq) SELECT $1, id, $3 FROM workspaces WHERE id = $2 \
         ON CONFLICT (name, workspace_id) DO UPDATE SET feed_seq = excluded.feed_seq",
    )
    .bind(name)
    .bind(s(ws))
    .bind(feed_seq)
    .execute(&mut *store.writing().await?)
    .await
    .map_err(db)?;
    crate::directory::found(r.rows_affected(), Entity::Workspace)
}
