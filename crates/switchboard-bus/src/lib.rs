//! Realtime fan-out between the parts of a node, and the contract a bus between nodes
//! (`switchboard-cluster`'s Redis bus) fulfils.
//!
//! Invariant: the bus is a hint. Every conversation event is committed to the store
//! before it is published, and a subscriber that falls behind (a `Lagged` receive) is
//! expected to drop its live stream and re-read from the store by cursor. A bus between
//! nodes repairs what it lost from a [`FeedSource`] (the store, seen through core), so it
//! knows no SQL either.
//!
//! A [`BusMessage`] is a plain value that serialises (serde): what a bus between nodes
//! (Redis) carries as it is. What only makes sense inside one process — the frame
//! this node's sockets encoded for a message — travels beside it, in a [`Delivery`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use switchboard_domain::{
    Actor, Agent, AgentId, ContactId, ConversationId, Event, Invitation, LiveVisitor, SessionId, SiteId, WorkspaceId,
};
use switchboard_proto as wire;
use tokio::sync::broadcast;

/// Where a message is published.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Topic {
    /// Everything agents of a workspace may see.
    Workspace(WorkspaceId),
    /// One conversation, for the visitor's sockets.
    Conversation(ConversationId),
    /// Every visitor socket of a workspace: what may end a visitor's session (bans).
    Visitors(WorkspaceId),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Online,
    /// Connected, but has told the team not to count on them.
    Away,
    Offline,
}

/// What the bus carries. Every field serialises, so a message can leave the process;
/// build one with [`BusMessage::event`], [`BusMessage::typing`] or [`BusMessage::presence`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BusMessage {
    /// A committed event of the log.
    Event {
        /// The event as agents see it on the wire, `feed_seq` included. A visitor's
        /// socket renders its own view of it (`wire::Event::seen_by_visitor`).
        event: wire::Event,
        /// Whether the conversation's contact may see it (the store's rule, decided once
        /// by the publisher).
        visible_to_contact: bool,
        /// When it was published, in microseconds since the Unix epoch: wall-clock time,
        /// so the delivery latency can be measured on another node too.
        published_us: i64,
    },
    /// Ephemeral: someone started or stopped typing.
    Typing {
        #[serde(with = "ids")]
        conversation_id: ConversationId,
        #[serde(with = "actor")]
        actor: Actor,
        typing: bool,
    },
    /// Ephemeral: an agent came online, went away or offline.
    Presence {
        #[serde(with = "ids")]
        agent_id: AgentId,
        status: AgentStatus,
    },
    /// The workspace's bans changed: each visitor socket checks whether it is now
    /// banned (and closes), and each node drops its copy of the bans.
    BansChanged,
    /// The workspace's settings changed: each node drops the copies it keeps of them
    /// (the inbox visibility behind every conversation read).
    WorkspaceChanged,
    /// The workspace's sites, scoring rules or proactive rules changed: each node drops
    /// its copies of them (what visitor moments read, `core/src/rules_cache.rs`).
    RulesChanged,
    /// Never crosses between nodes (`publish_local` only): this node's link to the others
    /// was down and is back, so a `BansChanged`, `WorkspaceChanged` or `RulesChanged` may
    /// have been lost on the way. Published on each `Topic::Visitors` the node follows;
    /// whoever keeps a copy of the workspace's settings drops it, as for any change.
    Resync,
    /// A contact was erased: each node closes that contact's visitor sockets.
    ContactErased {
        #[serde(with = "ids")]
        contact_id: ContactId,
    },
    /// Ephemeral: the agents who have this conversation open now (after a change).
    Viewers {
        #[serde(with = "ids")]
        conversation_id: ConversationId,
        #[serde(with = "ids::list")]
        agent_ids: Vec<AgentId>,
    },
    /// Sessions of an agent were revoked (signed out elsewhere, a password change,
    /// deactivation): every socket opened with one of them closes at once.
    SessionsEnded {
        #[serde(with = "ids")]
        agent_id: AgentId,
        #[serde(with = "ids::list")]
        session_ids: Vec<SessionId>,
    },
    /// Ephemeral, to the conversation's visitor: its place in the waiting queue (0: it
    /// left the queue by assignment) and the estimated wait.
    Queue {
        #[serde(with = "ids")]
        conversation_id: ConversationId,
        position: u32,
        estimated_wait_seconds: Option<u32>,
    },
    /// Ephemeral, to the conversation's visitor: it waited longer than its team's maximum.
    QueueTimeout {
        #[serde(with = "ids")]
        conversation_id: ConversationId,
    },
    /// Ephemeral, to the workspace's agents: every waiting queue after a change.
    Queues { queues: Vec<wire::QueueInfo> },
    /// Ephemeral, to the workspace's agents: a live visitor arrived or changed (page,
    /// chat, identity). Boxed: most messages are small.
    LiveVisitor { visitor: Box<wire::LiveVisitor> },
    /// Ephemeral, to the workspace's agents: a live visitor's last tab closed.
    VisitorLeft {
        #[serde(with = "ids")]
        contact_id: ContactId,
        #[serde(with = "ids")]
        site_id: SiteId,
    },
    /// Ephemeral, to the workspace's visitor sockets: show this invitation on the tabs
    /// of its contact (the others ignore it).
    Invitation { invitation: Box<wire::Invitation> },
}

impl BusMessage {
    /// A committed event, published now.
    pub fn event(event: &Event) -> Self {
        Self::Event {
            event: wire::Event::new(event, wire::Viewer::Agent),
            visible_to_contact: event.visible_to_contact(),
            published_us: now_us(),
        }
    }

    pub fn typing(conversation_id: ConversationId, actor: Actor, typing: bool) -> Self {
        Self::Typing { conversation_id, actor, typing }
    }

    pub fn presence(agent_id: AgentId, status: AgentStatus) -> Self {
        Self::Presence { agent_id, status }
    }

    pub fn live_visitor(visitor: &LiveVisitor) -> Self {
        Self::LiveVisitor { visitor: Box::new(visitor.into()) }
    }

    /// An invitation for its contact's tabs, from `agent` (`None`: the team).
    pub fn invitation(invitation: &Invitation, agent: Option<&Agent>) -> Self {
        Self::Invitation { invitation: Box::new(wire::Invitation::new(invitation, agent)) }
    }
}

/// Microseconds since the Unix epoch, the clock of [`BusMessage::Event`]'s `published_us`.
pub fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// A message as this node hands it to the subscribers of one topic, with the frame they
/// send for it: encoded by the first socket that sends it and reused by the others, so
/// fan-out to a thousand agent sockets serialises once. Every subscriber of a topic is
/// one audience (a workspace's agents, or the visitor of a conversation, on one site),
/// so one frame per topic is enough. The frame is the node's own: only the message
/// would cross to another node.
#[derive(Debug)]
pub struct Delivery {
    pub message: Arc<BusMessage>,
    /// The wire frame of `message`, once a socket has encoded it.
    pub frame: OnceLock<Arc<str>>,
}

impl Delivery {
    pub fn new(message: Arc<BusMessage>) -> Self {
        Self { message, frame: OnceLock::new() }
    }
}

pub type Receiver = broadcast::Receiver<Arc<Delivery>>;

pub trait Bus: Send + Sync + 'static {
    /// Never blocks: a bus between nodes queues the message for the other nodes (and may
    /// drop it, counted, when that queue is full; the others repair from the store).
    fn publish(&self, topic: Topic, message: Arc<BusMessage>);
    fn subscribe(&self, topic: Topic) -> Receiver;
    /// Publishes to this node's subscribers only: what every node works out for itself
    /// (a dead node's agents going offline), so no node tells the others.
    fn publish_local(&self, topic: Topic, message: Arc<BusMessage>) {
        self.publish(topic, message);
    }
    /// How the link to the other nodes is, for `/readyz` and `/metrics`.
    fn health(&self) -> BusHealth {
        BusHealth::Local
    }
    /// Counts since the start, for `/metrics`.
    fn counters(&self) -> BusCounters {
        BusCounters::default()
    }
}

/// How a bus reaches the other nodes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BusHealth {
    /// One node: there is nobody to reach.
    Local,
    /// Live delivery between nodes works (the last delivery probe came back).
    Live,
    /// Live delivery between nodes is broken since this time (Unix ms): the node catches
    /// up from the store on a short interval instead, so delivery is late, not lost.
    Degraded { since_ms: i64 },
}

/// What a bus between nodes has done since the node started.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct BusCounters {
    /// Messages handed to the other nodes.
    pub published: u64,
    /// Messages received from the other nodes (this node's own echoes not counted).
    pub received: u64,
    /// Messages that never left this node (queue full, or the publish failed).
    pub dropped: u64,
    /// Events read from the store because the bus had not delivered them.
    pub repaired: u64,
    /// Events received late and dropped as duplicates by `feed_seq`.
    pub duplicates: u64,
    /// The latest cross-node lag seen: publish on one node to receipt on this one, µs.
    pub lag_us: i64,
}

/// Where a bus between nodes reads the events it missed: the workspace feed, in
/// `feed_seq` order, as the store has it. Core implements it over the store.
pub trait FeedSource: Send + Sync + 'static {
    /// Up to `limit` events of the workspace after `after_feed_seq`, in order.
    fn feed_after(
        &self,
        ws: WorkspaceId,
        after_feed_seq: i64,
        limit: u32,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Vec<Event>, String>> + Send + '_>>;
    /// The workspace's last `feed_seq` (0 for none yet).
    fn feed_head(&self, ws: WorkspaceId) -> std::pin::Pin<Box<dyn Future<Output = Result<i64, String>> + Send + '_>>;
}

/// The single-node bus: one broadcast channel per topic that has subscribers.
/// A publication to a topic nobody listens to costs one map lookup.
pub struct LocalBus {
    topics: Mutex<HashMap<Topic, broadcast::Sender<Arc<Delivery>>>>,
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

    /// The topics someone on this node listens to.
    pub fn topics(&self) -> Vec<Topic> {
        self.topics.lock().expect("bus lock").iter().filter(|(_, tx)| tx.receiver_count() > 0).map(|(t, _)| *t).collect()
    }
}

impl Bus for LocalBus {
    fn publish(&self, topic: Topic, message: Arc<BusMessage>) {
        let mut topics = self.topics.lock().expect("bus lock");
        if let Some(tx) = topics.get(&topic)
            && tx.send(Arc::new(Delivery::new(message))).is_err()
        {
            // Nobody listens any more: forget the topic so the map does not grow.
            topics.remove(&topic);
        }
    }

    fn subscribe(&self, topic: Topic) -> Receiver {
        let mut topics = self.topics.lock().expect("bus lock");
        let capacity = match topic {
            Topic::Workspace(_) => self.workspace_capacity,
            Topic::Conversation(_) | Topic::Visitors(_) => self.conversation_capacity,
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

/// Domain ids as their UUID strings.
mod ids {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use switchboard_domain::{AgentId, ContactId, ConversationId, SessionId, SiteId};
    use uuid::Uuid;

    pub trait Id: Copy + From<Uuid> {
        fn uuid(self) -> Uuid;
    }

    impl Id for ConversationId {
        fn uuid(self) -> Uuid {
            self.0
        }
    }

    impl Id for AgentId {
        fn uuid(self) -> Uuid {
            self.0
        }
    }

    impl Id for SessionId {
        fn uuid(self) -> Uuid {
            self.0
        }
    }

    impl Id for ContactId {
        fn uuid(self) -> Uuid {
            self.0
        }
    }

    impl Id for SiteId {
        fn uuid(self) -> Uuid {
            self.0
        }
    }

    pub fn serialize<S: Serializer, T: Id>(id: &T, s: S) -> Result<S::Ok, S::Error> {
        id.uuid().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Id>(d: D) -> Result<T, D::Error> {
        Uuid::deserialize(d).map(T::from)
    }

    /// The same for a list of ids.
    pub mod list {
        use super::*;

        pub fn serialize<S: Serializer, T: Id>(ids: &[T], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(ids.iter().map(|id| id.uuid()))
        }

        pub fn deserialize<'de, D: Deserializer<'de>, T: Id>(d: D) -> Result<Vec<T>, D::Error> {
            Vec::<Uuid>::deserialize(d).map(|ids| ids.into_iter().map(T::from).collect())
        }
    }
}

/// A domain actor as the wire writes one: `{"kind": …, "id": …}`.
mod actor {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use switchboard_domain::Actor;
    use switchboard_proto::{self as wire, ActorKind};

    pub fn serialize<S: Serializer>(actor: &Actor, s: S) -> Result<S::Ok, S::Error> {
        wire::Actor::from(*actor).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Actor, D::Error> {
        let a = wire::Actor::deserialize(d)?;
        Ok(match (a.kind, a.id) {
            (ActorKind::Contact, Some(id)) => Actor::Contact(id.into()),
            (ActorKind::Agent, Some(id)) => Actor::Agent(id.into()),
            (ActorKind::Integration, Some(id)) => Actor::Integration(id.into()),
            (ActorKind::System, None) => Actor::System,
            (kind, _) => return Err(D::Error::custom(format!("an actor of kind `{kind}` has an id unless it is `system`"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::*;

    fn typing() -> Arc<BusMessage> {
        Arc::new(BusMessage::typing(ConversationId::new(), Actor::System, true))
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
    async fn the_subscribers_of_a_topic_share_one_frame_per_message() {
        let bus = LocalBus::default();
        let ws = Topic::Workspace(WorkspaceId::new());
        let (mut a, mut b) = (bus.subscribe(ws), bus.subscribe(ws));
        bus.publish(ws, typing());
        let (first, second) = (a.recv().await.unwrap(), b.recv().await.unwrap());
        first.frame.set("{\"type\":\"typing\"}".into()).unwrap();
        assert_eq!(second.frame.get().map(|f| &**f), Some("{\"type\":\"typing\"}"), "encoded once, seen by both");
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

    #[test]
    fn topics_lists_only_those_someone_listens_to() {
        let bus = LocalBus::default();
        let (heard, dropped) = (Topic::Visitors(WorkspaceId::new()), Topic::Conversation(ConversationId::new()));
        let _rx = bus.subscribe(heard);
        drop(bus.subscribe(dropped));
        assert_eq!(bus.topics(), [heard]);
    }

    /// A message with an attachment: the richest event the log holds.
    fn message_event() -> Event {
        let (ws, conversation, contact) = (WorkspaceId::new(), ConversationId::new(), ContactId::new());
        let attachment = Attachment {
            id: AttachmentId::new(),
            workspace_id: ws,
            uploader: Actor::Contact(contact),
            filename: "invoice.pdf".into(),
            content_type: "application/pdf".into(),
            size: 2048,
            width: None,
            height: None,
            blob_key: "blobs/1".into(),
            created_at: Timestamp(1_700_000_000_000),
        };
        let message = Message {
            id: MessageId::new(),
            workspace_id: ws,
            conversation_id: conversation,
            seq: 7,
            client_id: Some("c-1".into()),
            author: Actor::Contact(contact),
            kind: MessageKind::Text,
            body: "Where is my order?".into(),
            format: MessageFormat::Markdown,
            attachments: vec![attachment],
            created_at: Timestamp(1_700_000_000_001),
        };
        Event {
            workspace_id: ws,
            conversation_id: conversation,
            seq: 7,
            feed_seq: 42,
            actor: Actor::Contact(contact),
            at: Timestamp(1_700_000_000_001),
            data: EventData::Message(message),
        }
    }

    fn round_trip(message: &BusMessage) -> BusMessage {
        let json = serde_json::to_string(message).expect("a bus message serialises");
        let back: BusMessage = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json} does not read back: {e}"));
        assert_eq!(serde_json::to_string(&back).unwrap(), json, "reading back loses nothing");
        back
    }

    /// What a bus between nodes needs: every kind of message survives serialisation.
    #[test]
    fn every_bus_message_round_trips_through_json() {
        let event = message_event();
        match round_trip(&BusMessage::event(&event)) {
            BusMessage::Event { event: wire, visible_to_contact, published_us } => {
                assert_eq!((wire.seq, wire.feed_seq), (7, Some(42)), "both cursors travel");
                assert_eq!(wire.conversation_id, event.conversation_id.0);
                let wire::EventBody::Message { message } = wire.body else { panic!("a message event stays one") };
                assert_eq!((message.body.as_str(), message.attachments.len()), ("Where is my order?", 1));
                assert!(visible_to_contact);
                assert!(published_us > 1_700_000_000_000_000, "wall-clock microseconds");
            }
            other => panic!("expected an event, got {other:?}"),
        }

        let triage = Event { data: EventData::LabelsChanged { labels: vec![Label::parse("vip").unwrap()] }, ..event };
        assert!(matches!(round_trip(&BusMessage::event(&triage)), BusMessage::Event { visible_to_contact: false, .. }));

        let conversation = ConversationId::new();
        for actor in [Actor::Contact(ContactId::new()), Actor::Agent(AgentId::new()), Actor::Integration(ApiTokenId::new()), Actor::System]
        {
            match round_trip(&BusMessage::typing(conversation, actor, true)) {
                BusMessage::Typing { conversation_id, actor: back, typing } => {
                    assert_eq!((conversation_id, back, typing), (conversation, actor, true));
                }
                other => panic!("expected typing, got {other:?}"),
            }
        }

        let agent = AgentId::new();
        for status in [super::AgentStatus::Online, super::AgentStatus::Away, super::AgentStatus::Offline] {
            match round_trip(&BusMessage::presence(agent, status)) {
                BusMessage::Presence { agent_id, status: back } => assert_eq!((agent_id, back), (agent, status)),
                other => panic!("expected presence, got {other:?}"),
            }
        }
        let viewers = BusMessage::Viewers { conversation_id: conversation, agent_ids: vec![agent, AgentId::new()] };
        match (round_trip(&viewers), viewers) {
            (BusMessage::Viewers { conversation_id, agent_ids }, BusMessage::Viewers { agent_ids: sent, .. }) => {
                assert_eq!((conversation_id, agent_ids), (conversation, sent));
            }
            (other, _) => panic!("expected viewers, got {other:?}"),
        }
        let ended = vec![SessionId::new(), SessionId::new()];
        match round_trip(&BusMessage::SessionsEnded { agent_id: agent, session_ids: ended.clone() }) {
            BusMessage::SessionsEnded { agent_id, session_ids } => assert_eq!((agent_id, session_ids), (agent, ended)),
            other => panic!("expected sessions ended, got {other:?}"),
        }
        let place = BusMessage::Queue { conversation_id: conversation, position: 3, estimated_wait_seconds: Some(90) };
        assert!(
            matches!(round_trip(&place), BusMessage::Queue { conversation_id, position: 3, estimated_wait_seconds: Some(90) } if conversation_id == conversation)
        );
        let timeout = BusMessage::QueueTimeout { conversation_id: conversation };
        assert!(matches!(round_trip(&timeout), BusMessage::QueueTimeout { conversation_id } if conversation_id == conversation));
        let queues = BusMessage::Queues { queues: vec![wire::QueueInfo { team_id: None, length: 2, oldest_queued_at: Some(7) }] };
        assert!(matches!(round_trip(&queues), BusMessage::Queues { queues } if queues.len() == 1 && queues[0].length == 2));
        assert!(matches!(round_trip(&BusMessage::RulesChanged), BusMessage::RulesChanged));
        assert!(matches!(round_trip(&BusMessage::Resync), BusMessage::Resync));
    }

    #[test]
    fn an_actor_without_the_id_its_kind_needs_is_refused() {
        let json = r#"{"type":"typing","conversation_id":"018f0000-0000-7000-8000-000000000000","actor":{"kind":"agent","id":null},"typing":true}"#;
        let err = serde_json::from_str::<BusMessage>(json).expect_err("an agent without an id");
        assert!(err.to_string().contains("`agent`"), "{err}");
    }
}
