//! Realtime fan-out between the parts of a node (and later between nodes).
//!
//! Invariant: the bus is a hint. Every conversation event is committed to the store
//! before it is published, and a subscriber that falls behind (a `Lagged` receive) is
//! expected to drop its live stream and re-read from the store by cursor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_domain::{Actor, AgentId, ConversationId, Event, WorkspaceId};
use tokio::sync::broadcast;

/// Where a message is published.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Topic {
    /// Everything agents of a workspace may see.
    Workspace(WorkspaceId),
    /// One conversation, for the visitor's sockets.
    Conversation(ConversationId),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AgentStatus {
    Online,
    /// Connected, but has told the team not to count on them.
    Away,
    Offline,
}

// Always shared behind an `Arc`, so the size of the largest variant costs one allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum BusMessage {
    /// A committed event of the log, with when it was published (for delivery latency).
    Event { event: Event, published: std::time::Instant, frames: Frames },
    /// Ephemeral: someone started or stopped typing.
    Typing { conversation_id: ConversationId, actor: Actor, typing: bool },
    /// Ephemeral: an agent came online, went away or offline.
    Presence { agent_id: AgentId, status: AgentStatus },
    /// Ephemeral: the agents who have this conversation open now (after a change).
    Viewers { conversation_id: ConversationId, agent_ids: Vec<AgentId> },
}

pub type Receiver = broadcast::Receiver<Arc<BusMessage>>;

/// An event's wire frames, encoded by the first socket that sends one and reused by
/// every other socket of the same audience: fan-out to a thousand agents serialises
/// once, not a thousand times. Opaque to the bus.
#[derive(Clone, Debug, Default)]
pub struct Frames {
    /// The frame every agent socket sends.
    pub agents: std::sync::OnceLock<Arc<str>>,
    /// The frame the visitor sockets of the event's conversation send (one site, one viewer).
    pub visitors: std::sync::OnceLock<Arc<str>>,
}

pub trait Bus: Send + Sync + 'static {
    fn publish(&self, topic: Topic, message: Arc<BusMessage>);
    fn subscribe(&self, topic: Topic) -> Receiver;
}

/// The single-node bus: one broadcast channel per topic that has subscribers.
/// A publication to a topic nobody listens to costs one map lookup.
pub struct LocalBus {
    topics: Mutex<HashMap<Topic, broadcast::Sender<Arc<BusMessage>>>>,
    workspace_capacity: usize,
    conversation_capacity: usize,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::with_capacity(1024, 64)
    }
}

impl LocalBus {
    /// `*_capacity` is how many messages a subscriber may fall behind before it lags.
    pub fn with_capacity(workspace_capacity: usize, conversation_capacity: usize) -> Self {
        Self { topics: Mutex::default(), workspace_capacity, conversation_capacity }
    }
}

impl Bus for LocalBus {
    fn publish(&self, topic: Topic, message: Arc<BusMessage>) {
        let mut topics = self.topics.lock().expect("bus lock");
        if let Some(tx) = topics.get(&topic)
            && tx.send(message).is_err()
        {
            // Nobody listens any more: forget the topic so the map does not grow.
            topics.remove(&topic);
        }
    }

    fn subscribe(&self, topic: Topic) -> Receiver {
        let mut topics = self.topics.lock().expect("bus lock");
        let capacity = match topic {
            Topic::Workspace(_) => self.workspace_capacity,
            Topic::Conversation(_) => self.conversation_capacity,
        };
        match topics.get(&topic) {
            Some(tx) if tx.receiver_count() > 0 => tx.subscribe(),
            _ => {
                let (tx, rx) = broadcast::channel(capacity);
                topics.insert(topic, tx);
                rx
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typing() -> Arc<BusMessage> {
        Arc::new(BusMessage::Typing { conversation_id: ConversationId::new(), actor: Actor::System, typing: true })
    }

    #[tokio::test]
    async fn subscribers_of_a_topic_receive_its_messages_only() {
        let bus = LocalBus::default();
        let ws = Topic::Workspace(WorkspaceId::new());
        let mut a = bus.subscribe(ws);
        let mut b = bus.subscribe(ws);
        let mut other = bus.subscribe(Topic::Workspace(WorkspaceId::new()));
        bus.publish(ws, typing());
        assert!(a.recv().await.is_ok());
        assert!(b.recv().await.is_ok());
        assert!(other.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_slow_subscriber_lags_instead_of_blocking_the_publisher() {
        let bus = LocalBus::with_capacity(4, 4);
        let topic = Topic::Conversation(ConversationId::new());
        let mut slow = bus.subscribe(topic);
        for _ in 0..10 {
            bus.publish(topic, typing());
        }
        assert!(matches!(slow.recv().await, Err(broadcast::error::RecvError::Lagged(6))));
    }

    #[test]
    fn topics_without_subscribers_are_forgotten() {
        let bus = LocalBus::default();
        let topic = Topic::Conversation(ConversationId::new());
        drop(bus.subscribe(topic));
        bus.publish(topic, typing());
        assert!(bus.topics.lock().unwrap().is_empty());
    }
}
