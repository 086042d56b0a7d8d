//! Log consumers: components that follow a workspace's feed from a cursor stored under
//! their name, so they resume where they stopped after a restart, exactly as the agent
//! socket does (read the feed after the cursor, handle, store the cursor). Webhooks,
//! channels, routing and reports are meant to be such consumers.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use switchboard_bus::Topic;
use switchboard_domain::*;

use crate::{Core, Result};

/// Events read from the feed per round trip.
const PAGE: u32 = 200;

/// Handles a workspace's events, in feed order, each once.
#[async_trait]
pub trait FeedHandler: Send + Sync + 'static {
    /// Stable across restarts: the cursor is stored under it.
    fn name(&self) -> &str;
    /// An error stops the round before this event; the next round starts with it again.
    async fn handle(&self, event: &Event) -> Result<()>;
}

impl Core {
    /// Hands `handler` every event of the workspace's feed after its stored cursor, in
    /// order, storing the cursor after each one it handled; returns how many it handled.
    /// The cursor moves only past handled events, so a restart (or a failure) neither
    /// skips nor repeats one.
    pub async fn consume_feed(&self, ws: WorkspaceId, handler: &dyn FeedHandler) -> Result<usize> {
        let mut cursor = self.store.consumer_cursor(handler.name(), ws).await?;
        let mut handled = 0;
        loop {
            let events = self.store.feed(ws, cursor, PAGE).await?;
            if events.is_empty() {
                return Ok(handled);
            }
            for event in &events {
                handler.handle(event).await?;
                cursor = event.feed_seq;
                self.store.save_consumer_cursor(handler.name(), ws, cursor).await?;
                handled += 1;
            }
        }
    }

    /// Follows the workspace's feed in the background until `shutdown` resolves: catches
    /// up from the stored cursor, then reads again whenever the bus says something was
    /// committed (the bus is only the hint; the feed is read from the store).
    pub fn spawn_feed_consumer(
        &self,
        ws: WorkspaceId,
        handler: Arc<dyn FeedHandler>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let core = self.clone();
        // Subscribed before catching up, so nothing committed meanwhile goes unnoticed.
        let mut hints = self.bus.subscribe(Topic::Workspace(ws));
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            loop {
                if let Err(e) = core.consume_feed(ws, &*handler).await {
                    tracing::warn!(consumer = handler.name(), workspace.id = %ws, error = %e, "feed consumer failed; retrying at the next event");
                }
                tokio::select! {
                    _ = &mut shutdown => return,
                    hint = hints.recv() => {
                        if let Err(tokio::sync::broadcast::error::RecvError::Closed) = hint {
                            return;
                        }
                    }
                }
            }
        })
    }
}
