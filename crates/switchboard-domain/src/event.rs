//! The event log: every change to a conversation is an event with a per-conversation
//! `seq` and a per-workspace `feed_seq`. Clients resume from these cursors.

use crate::*;

/// Who may see an event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Visibility {
    /// The contact and the team.
    Everyone,
    /// Agents only (private notes).
    Agents,
}

/// Which side of a conversation a receipt speaks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    Visitor,
    Agent,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReceiptKind {
    Delivered,
    Read,
}

#[derive(Clone, PartialEq, Debug)]
pub enum EventData {
    ConversationStarted,
    Message(Message),
    StatusChanged {
        status: Status,
    },
    Assigned {
        agent_id: Option<AgentId>,
        team_id: Option<TeamId>,
        reason: AssignReason,
        /// A transfer note (at most [`AssignReason::MAX_NOTE_CHARS`]), for agents only.
        note: Option<String>,
    },
    /// The conversation entered its team's waiting queue.
    Queued {
        team_id: Option<TeamId>,
        priority: Priority,
    },
    /// The conversation left the waiting queue.
    Dequeued {
        team_id: Option<TeamId>,
        reason: DequeueReason,
    },
    LabelsChanged {
        labels: Vec<Label>,
    },
    PriorityChanged {
        priority: Priority,
    },
    Receipt {
        side: Side,
        kind: ReceiptKind,
        up_to_seq: i64,
    },
    /// The visitor rated the resolved conversation (checked by [`Rating::check`]).
    Rated {
        score: u8,
        comment: Option<String>,
    },
    /// The tombstone of an erasure: the contact's personal data was removed on request
    /// (their messages, attachments, page views, attributes). Agents only.
    ContactErased,
    /// The automatic reply outside business hours: the team is closed and opens again at
    /// `reopens_at` (`None`: no opening ahead). Each side words it in its own language
    /// and time zone. At most one per closed period per conversation (core's rule).
    OutsideHours {
        reopens_at: Option<Timestamp>,
    },
}

impl EventData {
    /// Stable snake_case name, used on the wire and in storage.
    pub fn kind(&self) -> &'static str {
        match self {
            EventData::ConversationStarted => "conversation_started",
            EventData::Message(m) if m.kind == MessageKind::Note => "note",
            EventData::Message(_) => "message",
            EventData::StatusChanged { .. } => "status_changed",
            EventData::Assigned { .. } => "assigned",
            EventData::Queued { .. } => "queued",
            EventData::Dequeued { .. } => "dequeued",
            EventData::LabelsChanged { .. } => "labels_changed",
            EventData::PriorityChanged { .. } => "priority_changed",
            EventData::Receipt { .. } => "receipt",
            EventData::Rated { .. } => "conversation_rated",
            EventData::ContactErased => "contact_erased",
            EventData::OutsideHours { .. } => "outside_hours",
        }
    }

    /// The message of a `message` or `note` event.
    pub fn message(&self) -> Option<&Message> {
        match self {
            EventData::Message(m) => Some(m),
            _ => None,
        }
    }

    pub fn visibility(&self) -> Visibility {
        match self {
            EventData::Message(m) if m.kind == MessageKind::Note => Visibility::Agents,
            // Labels and priority are the team's internal triage.
            EventData::LabelsChanged { .. } | EventData::PriorityChanged { .. } => Visibility::Agents,
            // The visitor it is about is gone: their token no longer opens a session.
            EventData::ContactErased => Visibility::Agents,
            // The visitor hears about the queue through `queue` frames, not the log.
            EventData::Queued { .. } | EventData::Dequeued { .. } => Visibility::Agents,
            _ => Visibility::Everyone,
        }
    }
}

/// Why a conversation got (or lost) its assignee.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum AssignReason {
    /// Routing chose the agent.
    Routed,
    /// The agent took it from the queue.
    Claimed,
    /// Someone assigned it by hand (the assign endpoint).
    #[default]
    Manual,
    /// Transferred to an agent or a team.
    Transferred,
    /// Routed again: no first reply in time, or the assignee went offline.
    Rerouted,
    /// The assignee was released (deactivated, deleted) and the conversation went back.
    Released,
}

impl AssignReason {
    pub const ALL: [AssignReason; 6] = [
        AssignReason::Routed,
        AssignReason::Claimed,
        AssignReason::Manual,
        AssignReason::Transferred,
        AssignReason::Rerouted,
        AssignReason::Released,
    ];
    pub const MAX_NOTE_CHARS: usize = 1000;

    pub fn name(self) -> &'static str {
        match self {
            AssignReason::Routed => "routed",
            AssignReason::Claimed => "claimed",
            AssignReason::Manual => "manual",
            AssignReason::Transferred => "transferred",
            AssignReason::Rerouted => "rerouted",
            AssignReason::Released => "released",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == raw)
    }
}

/// Why a conversation left the waiting queue.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DequeueReason {
    Assigned,
    Resolved,
    /// It waited longer than the team's `max_wait_seconds`; it stays in the inbox, unassigned.
    MaxWait,
}

impl DequeueReason {
    pub const ALL: [DequeueReason; 3] = [DequeueReason::Assigned, DequeueReason::Resolved, DequeueReason::MaxWait];

    pub fn name(self) -> &'static str {
        match self {
            DequeueReason::Assigned => "assigned",
            DequeueReason::Resolved => "resolved",
            DequeueReason::MaxWait => "max_wait",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == raw)
    }
}

/// One committed entry of the log.
#[derive(Clone, PartialEq, Debug)]
pub struct Event {
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    /// Position in the conversation: 1, 2, 3… without gaps.
    pub seq: i64,
    /// Position in the workspace feed: 1, 2, 3… without gaps.
    pub feed_seq: i64,
    pub actor: Actor,
    pub at: Timestamp,
    pub data: EventData,
}

impl Event {
    pub fn visibility(&self) -> Visibility {
        self.data.visibility()
    }

    pub fn visible_to_contact(&self) -> bool {
        self.visibility() == Visibility::Everyone
    }
}
