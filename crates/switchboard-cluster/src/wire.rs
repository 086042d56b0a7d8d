//! What crosses Redis between nodes (who sent it, its topic, the message), and how a
//! node reads it during a rolling upgrade, when nodes of two versions share the bus.
//!
//! Invariant: a node reads what it knows and skips the rest. A message of a kind it
//! does not know, on a topic it does not know, or with a value it cannot read (a node
//! of a newer version sent it) is skipped and logged once per kind; fields it does not
//! know are ignored. Nothing another node sends ends the subscription or panics this
//! one. So a new version may add message kinds, topics and fields; it must not change
//! what an existing field means, nor drop one older nodes need (docs/deploy.md,
//! "Rolling upgrades"). What a node skipped is a hint lost, like any message Redis
//! loses: events are repaired from the store, the rest is ephemeral.

use std::collections::HashSet;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use switchboard_bus::{BusMessage, Topic};
use switchboard_domain::{ConversationId, WorkspaceId};
use uuid::Uuid;

/// Different kinds of unreadable messages remembered for logging once; past it, each
/// is logged at debug only.
const KINDS_REMEMBERED: usize = 64;
/// A kind named by another node is cut to this many characters in the log.
const KIND_CHARS: usize = 64;

/// A message as it crosses Redis: who sent it, where it goes, what it is.
#[derive(Serialize)]
pub(crate) struct Outgoing<'a> {
    pub origin: &'a str,
    pub topic: WireTopic,
    pub message: &'a BusMessage,
}

#[derive(Deserialize)]
pub(crate) struct Incoming {
    pub origin: String,
    pub topic: WireTopic,
    pub message: BusMessage,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub(crate) enum WireTopic {
    Workspace(Uuid),
    Conversation(Uuid),
    Visitors(Uuid),
}

impl From<Topic> for WireTopic {
    fn from(topic: Topic) -> Self {
        match topic {
            Topic::Workspace(ws) => Self::Workspace(ws.0),
            Topic::Conversation(c) => Self::Conversation(c.0),
            Topic::Visitors(ws) => Self::Visitors(ws.0),
        }
    }
}

impl From<WireTopic> for Topic {
    fn from(topic: WireTopic) -> Self {
        match topic {
            WireTopic::Workspace(id) => Self::Workspace(WorkspaceId(id)),
            WireTopic::Conversation(id) => Self::Conversation(ConversationId(id)),
            WireTopic::Visitors(id) => Self::Visitors(WorkspaceId(id)),
        }
    }
}

/// What another node's payload is to this one.
pub(crate) enum Decoded {
    Message(Box<Incoming>),
    /// Something this node cannot read, named for the log (`message ticket_merged`,
    /// `topic region`, `not JSON`).
    Skipped(String),
}

/// Reads another node's payload. The common case parses once; only a payload this
/// node cannot read pays for finding out what it was.
pub(crate) fn decode(payload: &[u8]) -> Decoded {
    if let Ok(incoming) = serde_json::from_slice::<Incoming>(payload) {
        return Decoded::Message(Box::new(incoming));
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(payload) else { return Decoded::Skipped("not JSON".into()) };
    let kind = |part: &str, tag: &str| {
        let name = value.get(part).and_then(|p| p.get(tag)).and_then(|t| t.as_str()).unwrap_or("without a kind");
        format!("{part} {}", name.chars().take(KIND_CHARS).collect::<String>())
    };
    if value.get("topic").is_none_or(|t| WireTopic::deserialize(t).is_err()) {
        return Decoded::Skipped(kind("topic", "kind"));
    }
    Decoded::Skipped(kind("message", "type"))
}

/// The kinds of payloads this node skipped, so each is logged once at `warn` (a node of
/// a newer version may send thousands) and then only at `debug`.
#[derive(Default)]
pub(crate) struct Skipped(Mutex<HashSet<String>>);

impl Skipped {
    /// Logs a skipped payload; whether it was the first of its kind (logged at `warn`).
    pub(crate) fn note(&self, kind: &str) -> bool {
        let mut seen = self.0.lock().expect("skipped lock");
        if seen.len() < KINDS_REMEMBERED && seen.insert(kind.to_owned()) {
            tracing::warn!(
                kind,
                "skipped a bus message this node cannot read (sent by a node of a newer version?); more of this kind are skipped quietly"
            );
            return true;
        }
        tracing::debug!(kind, "skipped a bus message this node cannot read");
        false
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};
    use switchboard_bus::{BusMessage, Topic};
    use switchboard_domain::{ContactId, WorkspaceId};

    use super::{Decoded, Outgoing, Skipped, decode};

    /// What a node of this version publishes, as JSON a test can change the way a
    /// newer version would.
    fn published(topic: Topic, message: BusMessage) -> Value {
        let message = Arc::new(message);
        serde_json::to_value(Outgoing { origin: "node-a", topic: topic.into(), message: &message }).unwrap()
    }

    fn read(v: &Value) -> Decoded {
        decode(&serde_json::to_vec(v).unwrap())
    }

    fn skipped(d: Decoded) -> String {
        match d {
            Decoded::Skipped(kind) => kind,
            Decoded::Message(m) => panic!("read a {:?}", m.message),
        }
    }

    /// Mid-upgrade, a newer node announces something this version has no word for: it is
    /// skipped and named, and what this version knows still reads.
    #[test]
    fn a_message_of_a_kind_this_node_does_not_know_is_skipped_by_name() {
        let ws = WorkspaceId::new();
        let mut newer = published(Topic::Visitors(ws), BusMessage::BansChanged);
        newer["message"] = json!({"type": "ticket_merged", "ticket_id": "t-1", "into": "t-2"});
        assert_eq!(skipped(read(&newer)), "message ticket_merged");

        let known = published(Topic::Visitors(ws), BusMessage::ContactErased { contact_id: ContactId::new() });
        assert!(
            matches!(read(&known), Decoded::Message(m) if m.origin == "node-a" && matches!(m.message, BusMessage::ContactErased { .. }))
        );
    }

    /// A newer node adds a field to a message this version knows: the field is ignored and
    /// the message is delivered as before.
    #[test]
    fn a_field_this_node_does_not_know_is_ignored() {
        let contact = ContactId::new();
        let mut newer = published(Topic::Visitors(WorkspaceId::new()), BusMessage::ContactErased { contact_id: contact });
        newer["message"]["requested_by"] = json!("dpo@shop.example");
        newer["hops"] = json!(2);
        match read(&newer) {
            Decoded::Message(m) => assert!(matches!(m.message, BusMessage::ContactErased { contact_id } if contact_id == contact)),
            Decoded::Skipped(kind) => panic!("skipped as {kind}"),
        }
    }

    /// A topic this version does not know, a known message whose value it cannot read,
    /// and a payload that is not JSON at all are skipped too: nothing is an error.
    #[test]
    fn an_unknown_topic_or_an_unreadable_value_is_skipped_too() {
        let mut region = published(Topic::Visitors(WorkspaceId::new()), BusMessage::BansChanged);
        region["topic"] = json!({"kind": "region", "id": "eu-west"});
        assert_eq!(skipped(read(&region)), "topic region");

        let mut changed = published(Topic::Visitors(WorkspaceId::new()), BusMessage::ContactErased { contact_id: ContactId::new() });
        changed["message"]["contact_id"] = json!(42);
        assert_eq!(skipped(read(&changed)), "message contact_erased");

        assert_eq!(skipped(decode(b"\x00\x01 not json")), "not JSON");
    }

    /// A newer node may send thousands of one kind: the first is logged as a warning,
    /// the rest quietly; another kind is a warning of its own.
    #[test]
    fn each_kind_skipped_is_logged_once() {
        let log = Skipped::default();
        assert!(log.note("message ticket_merged"));
        assert!(!log.note("message ticket_merged"));
        assert!(log.note("topic region"));
        assert!(!log.note("message ticket_merged"));
    }
}
