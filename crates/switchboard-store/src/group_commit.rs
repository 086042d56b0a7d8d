//! Group commit: many concurrent writers, one database transaction per batch.
//!
//! An fsync costs milliseconds; committing each message alone caps a store at a few
//! hundred messages per second. Callers submit jobs to a single writer task, which
//! takes everything queued (up to `max_batch`), applies it in one transaction and only
//! then answers each caller. Order of submission is order of application.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

type Job<J, R> = (J, oneshot::Sender<R>);

pub struct GroupCommit<J, R> {
    tx: std::sync::Mutex<Option<mpsc::Sender<Job<J, R>>>>,
    task: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

impl<J: Send + 'static, R: Send + 'static> GroupCommit<J, R> {
    /// Starts the writer task. `apply` must return exactly one result per job, in order.
    pub fn spawn<F, Fut>(max_batch: usize, mut apply: F) -> Self
    where
        F: FnMut(Vec<J>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send,
    {
        // The queue is bounded so that a stalled disk pushes back on producers
        // instead of growing memory without limit.
        let (tx, mut rx) = mpsc::channel::<Job<J, R>>(max_batch * 4);
        let task = tokio::spawn(async move {
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
                for (result, reply) in results.into_iter().zip(replies.drain(..)) {
                    // The caller may have gone away; its job is committed all the same.
                    let _ = reply.send(result);
                }
            }
        });
        Self { tx: std::sync::Mutex::new(Some(tx)), task: tokio::sync::Mutex::new(Some(task)) }
    }

    /// Queues `job` and waits for its result; `None` once the writer has been closed.
    pub async fn submit(&self, job: J) -> Option<R> {
        let tx = self.tx.lock().expect("writer lock").clone()?;
        let (reply, answer) = oneshot::channel();
        tx.send((job, reply)).await.ok()?;
        answer.await.ok()
    }

    /// Stops accepting jobs and waits until every queued job has been applied.
    pub async fn close(&self) {
        self.tx.lock().expect("writer lock").take();
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
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
}
