//! Group commit: many concurrent writers, one database transaction per batch.
//!
//! An fsync costs milliseconds; committing each message alone caps a store at a few
//! hundred messages per second. Callers submit jobs to a single writer, which takes
//! everything queued (up to `max_batch`), applies it in one transaction and only then
//! answers each caller. Order of submission is order of application.
//!
//! The writer is a task ([`GroupCommit::spawn`], for a store whose driver is async) or a
//! thread of its own ([`GroupCommit::on_thread`], for a store that blocks: it owns its
//! connection, and a batch costs no hand-off to another thread). A threaded writer whose
//! commit reaches the operating system but not yet the disk gives a [`Durable`] stage:
//! its callers are answered only after the next sync, which runs on a thread of its own —
//! one sync for every batch committed while the previous one ran — while the writer
//! goes on with the next batch.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

type Job<J, R> = (J, oneshot::Sender<R>);
type Queue<J, R> = (mpsc::Sender<Job<J, R>>, mpsc::Receiver<Job<J, R>>);

/// Makes committed batches durable before their callers are answered.
pub struct Durable<R> {
    /// Blocking: typically an fsync.
    pub sync: Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>,
    /// What each caller of a batch gets when its sync failed.
    pub failed: fn(&std::io::Error) -> R,
}

pub struct GroupCommit<J, R> {
    tx: std::sync::Mutex<Option<mpsc::Sender<Job<J, R>>>>,
    /// Each stage of the writer says here when it has ended, writer first.
    ended: tokio::sync::Mutex<Vec<oneshot::Receiver<()>>>,
}

impl<J: Send + 'static, R: Send + 'static> GroupCommit<J, R> {
    /// Starts the writer as a task. `apply` must return exactly one result per job, in
    /// order; callers are answered as soon as it has.
    pub fn spawn<F, Fut>(max_batch: usize, mut apply: F) -> Self
    where
        F: FnMut(Vec<J>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send,
    {
        let (tx, mut rx) = queue(max_batch);
        let (end, ended) = oneshot::channel();
        tokio::spawn(async move {
            let mut batch = Batch::new(max_batch);
            while let Some(first) = rx.recv().await {
                batch.gather(first, &mut rx);
                let span = tracing::debug_span!("commit_batch", batch.size = batch.jobs.len());
                let results = apply(std::mem::take(&mut batch.jobs)).instrument(span).await;
                answer(results, batch.replies.drain(..));
            }
            let _ = end.send(());
        });
        Self { tx: std::sync::Mutex::new(Some(tx)), ended: tokio::sync::Mutex::new(vec![ended]) }
    }

    /// Starts the writer on a thread named `name`, for an `apply` that blocks. With
    /// `durable`, callers are answered after a sync that followed their batch's commit.
    pub fn on_thread<F>(name: &str, max_batch: usize, mut apply: F, durable: Option<Durable<R>>) -> std::io::Result<Self>
    where
        F: FnMut(Vec<J>) -> Vec<R> + Send + 'static,
    {
        let (tx, mut rx) = queue(max_batch);
        let mut ended = vec![];
        let (writer_end, writer_ended) = oneshot::channel();
        ended.push(writer_ended);
        let settle = match durable {
            Some(durable) => {
                let (settle, batches) = std::sync::mpsc::channel();
                let (end, sync_ended) = oneshot::channel();
                ended.push(sync_ended);
                std::thread::Builder::new().name(format!("{name}-sync")).spawn(move || {
                    sync_and_answer(batches, durable);
                    let _ = end.send(());
                })?;
                Some(settle)
            }
            None => None,
        };
        let name = name.to_owned();
        std::thread::Builder::new().name(name.clone()).spawn(move || {
            let mut batch = Batch::new(max_batch);
            while let Some(first) = rx.blocking_recv() {
                batch.gather(first, &mut rx);
                let results = {
                    let _span = tracing::debug_span!("commit_batch", writer = %name, batch.size = batch.jobs.len()).entered();
                    apply(std::mem::take(&mut batch.jobs))
                };
                match &settle {
                    Some(settle) => {
                        let _ = settle.send((results, std::mem::take(&mut batch.replies)));
                    }
                    None => answer(results, batch.replies.drain(..)),
                }
            }
            // Closes the sync stage's queue once it has what the writer committed.
            drop(settle);
            let _ = writer_end.send(());
        })?;
        Ok(Self { tx: std::sync::Mutex::new(Some(tx)), ended: tokio::sync::Mutex::new(ended) })
    }

    /// Queues `job` and waits for its result; `None` once the writer has been closed.
    pub async fn submit(&self, job: J) -> Option<R> {
        let tx = self.tx.lock().expect("writer lock").clone()?;
        let (reply, answer) = oneshot::channel();
        tx.send((job, reply)).await.ok()?;
        answer.await.ok()
    }

    /// Stops accepting jobs and waits until every queued job has been applied (and synced).
    pub async fn close(&self) {
        self.tx.lock().expect("writer lock").take();
        for ended in self.ended.lock().await.drain(..) {
            // An error means the stage panicked: it has ended all the same.
            let _ = ended.await;
        }
    }
}

/// The queue is bounded so that a stalled disk pushes back on producers instead of
/// growing memory without limit.
fn queue<J, R>(max_batch: usize) -> Queue<J, R> {
    mpsc::channel(max_batch.max(1) * 4)
}

/// The jobs of the batch being gathered, and who waits for each.
struct Batch<J, R> {
    max: usize,
    jobs: Vec<J>,
    replies: Vec<oneshot::Sender<R>>,
}

impl<J, R> Batch<J, R> {
    fn new(max: usize) -> Self {
        let max = max.max(1);
        Self { max, jobs: Vec::with_capacity(max), replies: Vec::with_capacity(max) }
    }

    /// `first`, then whatever else is queued already, up to the batch's size.
    fn gather(&mut self, (job, reply): Job<J, R>, rx: &mut mpsc::Receiver<Job<J, R>>) {
        self.jobs.push(job);
        self.replies.push(reply);
        while self.jobs.len() < self.max {
            match rx.try_recv() {
                Ok((job, reply)) => {
                    self.jobs.push(job);
                    self.replies.push(reply);
                }
                Err(_) => break,
            }
        }
    }
}

fn answer<R>(results: Vec<R>, replies: impl Iterator<Item = oneshot::Sender<R>>) {
    for (result, reply) in results.into_iter().zip(replies) {
        // The caller may have gone away; its job is committed all the same.
        let _ = reply.send(result);
    }
}

type Settled<R> = (Vec<R>, Vec<oneshot::Sender<R>>);

/// The sync stage: one sync covers every batch committed before it started.
fn sync_and_answer<R>(batches: std::sync::mpsc::Receiver<Settled<R>>, durable: Durable<R>) {
    while let Ok(first) = batches.recv() {
        let mut pending = vec![first];
        pending.extend(batches.try_iter());
        let synced = (durable.sync)();
        if let Err(e) = &synced {
            tracing::error!(error = %e, "sync after commit failed");
        }
        for (results, replies) in pending {
            match &synced {
                Ok(()) => answer(results, replies.into_iter()),
                Err(e) => answer(results.into_iter().map(|_| (durable.failed)(e)).collect(), replies.into_iter()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Jobs `0..n`, each submitted by a task of its own, all at once; each with its answer.
    async fn submit_concurrently(writer: &Arc<GroupCommit<u32, u32>>, n: u32) -> Vec<(u32, Option<u32>)> {
        let submitters: Vec<_> = (0..n)
            .map(|i| {
                let w = writer.clone();
                tokio::spawn(async move { (i, w.submit(i).await) })
            })
            .collect();
        let mut answers = vec![];
        for s in submitters {
            answers.push(s.await.unwrap());
        }
        answers
    }

    #[tokio::test]
    async fn concurrent_jobs_are_batched_and_answered_in_order() {
        let batches = Arc::new(AtomicUsize::new(0));
        let counted = batches.clone();
        let writer = Arc::new(GroupCommit::spawn(64, move |jobs: Vec<u32>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move { jobs.into_iter().map(|j| j * 2).collect() }
        }));
        for (i, r) in submit_concurrently(&writer, 200).await {
            assert_eq!(r, Some(i * 2));
        }
        assert!(batches.load(Ordering::SeqCst) <= 200);
    }

    #[tokio::test]
    async fn close_flushes_queued_jobs_then_refuses_new_ones() {
        let writer = GroupCommit::spawn(8, |jobs: Vec<u32>| async move { jobs });
        assert_eq!(writer.submit(7).await, Some(7));
        writer.close().await;
        assert_eq!(writer.submit(8).await, None);
    }

    #[tokio::test]
    async fn a_threaded_writer_batches_concurrent_jobs_and_applies_everything_queued_before_it_closes() {
        let applied = Arc::new(std::sync::Mutex::new(vec![]));
        let seen = applied.clone();
        // The first batch waits until every submitter has queued its job (or waits for room).
        let (go, first_batch_may_commit) = std::sync::mpsc::channel::<()>();
        let writer = Arc::new(
            GroupCommit::on_thread(
                "test-writer",
                16,
                move |jobs: Vec<u32>| {
                    let mut batches = seen.lock().unwrap();
                    if batches.is_empty() {
                        first_batch_may_commit.recv().unwrap();
                    }
                    batches.push(jobs.clone());
                    jobs.into_iter().map(|j| j + 1).collect()
                },
                None,
            )
            .unwrap(),
        );
        let submitted = tokio::spawn({
            let writer = writer.clone();
            async move { submit_concurrently(&writer, 100).await }
        });
        // On this single-threaded runtime, every submitter runs before the test goes on.
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        go.send(()).unwrap();
        for (i, r) in submitted.await.unwrap() {
            assert_eq!(r, Some(i + 1));
        }
        writer.close().await;
        assert_eq!(writer.submit(1).await, None);
        let batches = applied.lock().unwrap();
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 100);
        assert!(batches.len() < 100, "jobs that queued while a batch ran share the next one");
        assert!(batches.iter().all(|b| b.len() <= 16));
    }

    #[tokio::test]
    async fn a_durable_writer_answers_only_after_a_sync_that_followed_the_commit() {
        let syncs = Arc::new(AtomicUsize::new(0));
        let applied = Arc::new(AtomicUsize::new(0));
        let (counted, seen) = (syncs.clone(), applied.clone());
        let writer = GroupCommit::on_thread(
            "test-writer",
            8,
            move |jobs: Vec<u32>| {
                seen.fetch_add(jobs.len(), Ordering::SeqCst);
                jobs
            },
            Some(Durable {
                sync: Arc::new(move || {
                    counted.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }),
                failed: |_| u32::MAX,
            }),
        )
        .unwrap();
        assert_eq!(writer.submit(7).await, Some(7));
        assert_eq!((applied.load(Ordering::SeqCst), syncs.load(Ordering::SeqCst)), (1, 1));
        assert_eq!(writer.submit(8).await, Some(8));
        assert_eq!(syncs.load(Ordering::SeqCst), 2, "every answer waits for a sync of its own commit");
        writer.close().await;
    }

    #[tokio::test]
    async fn a_failed_sync_fails_every_caller_it_covered() {
        let writer = GroupCommit::on_thread(
            "test-writer",
            8,
            |jobs: Vec<u32>| jobs,
            Some(Durable { sync: Arc::new(|| Err(std::io::Error::other("disk gone"))), failed: |_| u32::MAX }),
        )
        .unwrap();
        assert_eq!(writer.submit(7).await, Some(u32::MAX));
        writer.close().await;
        assert_eq!(writer.submit(8).await, None);
    }
}
