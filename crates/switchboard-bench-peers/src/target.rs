//! The chat scenario's target, pluggable per protocol: Switchboard itself and real
//! peers (Prosody over XMPP-WebSocket, a socket.io server) implement the same traits,
//! so they are measured by the same code at the same time.

use async_trait::async_trait;

/// What a target guarantees, reported beside its figures so comparisons stay honest.
#[derive(Clone, Debug)]
pub struct Semantics {
    /// The acknowledgement means the message is on disk (fsync'd or at least written).
    pub durable_ack: bool,
    /// Messages reach the other side in the order they were sent.
    pub ordered: bool,
    /// A reconnecting client can fetch what it missed.
    pub resumable: bool,
    /// One sentence on what the acknowledgement actually is.
    pub ack_means: &'static str,
}

/// One thing the chat scenario observes on a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observation {
    /// The server acknowledged the visitor's message `id` to the visitor.
    Acked { id: u64 },
    /// The agent received the visitor's message `id`.
    Delivered { id: u64 },
}

/// A chat server under test.
#[async_trait]
pub trait ChatTarget: Send + Sync {
    fn name(&self) -> &'static str;
    fn semantics(&self) -> Semantics;
    /// Opens the `index`-th visitor–agent pair, in a conversation of their own, ready
    /// to exchange messages.
    async fn pair(&self, index: usize) -> anyhow::Result<Box<dyn ChatPair>>;
}

/// A visitor and an agent in one conversation.
#[async_trait]
pub trait ChatPair: Send {
    /// Sends visitor message `id` (the id travels in the message so it can be matched).
    /// Must not wait for the acknowledgement.
    async fn send(&mut self, id: u64) -> anyhow::Result<()>;
    /// The next acknowledgement or delivery on either socket. Must be cancel-safe: the
    /// harness polls it in a `select!` with its send schedule.
    async fn next(&mut self) -> anyhow::Result<Observation>;
}
