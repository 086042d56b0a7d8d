//! Group commit: many concurrent writers, one database transaction per batch.
//!
//! An fsync costs milliseconds; committing each message alone caps a store at a few
//! hundred messages per second. Callers submit jobs to a single writer task, which
//! takes everything queued (up to `max_batch`), applies it in one transaction and only
//! then answers each caller. Order of submission is order of application.
//!
//! A store whose commit reaches the operating system but not yet the disk gives a
//! [`Durable`] stage: its callers are answered only after the next sync, which runs on a
//! task of its own — one sync for every batch committed while the previous one ran —
//! while the writer goes on with the next batch.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

type Job<J, R> = (J, oneshot::Sender<R>);

/// Makes committed batches durable before their callers are answered.
pub struct Durable<R> {
    /// Blocking (it runs on tokio's blocking pool): typically an fsync.
    pub sync: Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>,
    /// What each caller of a batch gets when its sync failed.
    pub failed: fn(&std::io::Error) -> R,
}

pub struct GroupCommit<J, R> {
    tx: std::sync::Mutex<Option<mpsc::Sender<Job<J, R>>>>,
    tasks: tokio::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl<J: Send + 'static, R: Send + 'static> GroupCommit<J, R> {
    /// Starts the writer task. `apply` must return exactly one result per job, in order;
    /// callers are answered as soon as it has.
    pub fn spawn<F, Fut>(max_batch: usize, apply: F) -> Self
    where
        F: FnMut(Vec<J>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send,
    {
        Self::start(max_batch, apply, None)
    }

    /// Like [`GroupCommit::spawn`], but callers are answered after `durable`'s sync.
    pub fn spawn_durable<F, Fut>(max_batch: usize, apply: F, durable: Durable<R>) -> Self
    where
        F: FnMut(Vec<J>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send,
    {
        Self::start(max_batch, apply, Some(durable))
    }

    fn start<F, Fut>(max_batch: usize, mut apply: F, durable: Option<Durable<R>>) -> Self
    where
        F: FnMut(Vec<J>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send,
    {
        // The queue is bounded so that a stalled disk pushes back on producers
        // instead of growing memory without limit.
        let (tx, mut rx) = mpsc::channel::<Job<J, R>>(max_batch * 4);
        let (settle, settler) = match durable {
            Some(durable) => {
                let (settle, batches) = mpsc::unbounded_channel();
                (Some(settle), Some(tokio::spawn(sync_and_answer(batches, durable))))
            }
            None => (None, None),
        };
        let writer = tokio::spawn(async move {
            let mut jobs = Vec::with_capacity(max_batch);
            let mut replies = Vec::with_capacity(max_batch);
            while let Some((job, reply)) = rx.recv().await {
                jobs.push(job);
                replies.push(reply);
                while jobs.len() < max_batch {
                    match rx.try_recv() {
                        Ok((job, reply)) => {
                            jobs.push(job);
                            replies.push(reply);
                        }
                        Err(_) => break,
                    }
                }
                let results = apply(std::mem::take(&mut jobs)).await;
                debug_assert_eq!(results.len(), replies.len());
                match &settle {
                    Some(settle) => {
                        let _ = settle.send((results, std::mem::take(&mut replies)));
                    }
                    None => answer(results, replies.drain(..)),
                }
            }
        });
        Self {
            tx: std::sync::Mutex::new(Some(tx)),
            tasks: tokio::sync::Mutex::new([Some(writer), settler].into_iter().flatten().collect()),
        }
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
        // The writer first: its end closes the sync stage's queue.
        for task in self.tasks.lock().await.drain(..) {
            let _ = task.await;
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
async fn sync_and_answer<R: Send + 'static>(mut batches: mpsc::UnboundedReceiver<Settled<R>>, durable: Durable<R>) {
    while let Some(first) = batches.recv().await {
        let mut pending = vec![first];
        while let Ok(more) = batches.try_recv() {
            pending.push(more);
        }
        let sync = durable.sync.clone();
        let synced = tokio::task::spawn_blocking(move || sync()).await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
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

    #[tokio::test]
    async fn concurrent_jobs_are_batched_and_answered_in_order() {
        let batches = Arc::new(AtomicUsize::new(0));
        let counted = batches.clone();
        let writer = Arc::new(GroupCommit::spawn(64, move |jobs: Vec<u32>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move { jobs.into_iter().map(|j| j * 2).collect() }
        }));
        let handles: Vec<_> = (0..200u32)
            .map(|i| {
                let w = writer.clone();
                tokio::spawn(async move { (i, w.submit(i).await) })
            })
            .collect();
        for h in handles {
            let (i, r) = h.await.unwrap();
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
    async fn a_durable_writer_answers_only_after_a_sync_that_followed_the_commit() {
        let syncs = Arc::new(AtomicUsize::new(0));
        let applied = Arc::new(AtomicUsize::new(0));
        let (counted, seen) = (syncs.clone(), applied.clone());
        let writer = GroupCommit::spawn_durable(
            8,
            move |jobs: Vec<u32>| {
                seen.fetch_add(jobs.len(), Ordering::SeqCst);
                async move { jobs }
            },
            Durable {
                sync: Arc::new(move || {
                    counted.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }),
                failed: |_| u32::MAX,
            },
        );
        assert_eq!(writer.submit(7).await, Some(7));
        assert_eq!((applied.load(Ordering::SeqCst), syncs.load(Ordering::SeqCst)), (1, 1));
        assert_eq!(writer.submit(8).await, Some(8));
        assert_eq!(syncs.load(Ordering::SeqCst), 2, "every answer waits for a sync of its own commit");
        writer.close().await;
    }

    #[tokio::test]
    async fn a_failed_sync_fails_every_caller_it_covered() {
        let writer = GroupCommit::spawn_durable(
            8,
            |jobs: Vec<u32>| async move { jobs },
            Durable { sync: Arc::new(|| Err(std::io::Error::other("disk gone"))), failed: |_| u32::MAX },
        );
        assert_eq!(writer.submit(7).await, Some(u32::MAX));
        writer.close().await;
        assert_eq!(writer.submit(8).await, None);
    }
}
