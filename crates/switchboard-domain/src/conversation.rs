//! How events change a conversation: timing marks for reports, reopening on a
//! visitor's message, receipts that only move forward. Pure, so every backend agrees.

use crate::*;

impl Conversation {
    /// A new, open conversation with no events yet, in the site's website inbox.
    pub fn new(workspace_id: WorkspaceId, site_id: SiteId, contact_id: ContactId, at: Timestamp) -> Self {
        Self {
            id: ConversationId::new(),
            workspace_id,
            site_id,
            inbox_id: InboxId::from(site_id),
            inbox_kind: InboxKind::Website,
            contact_id,
            status: Status::Open,
            assignee_id: None,
            team_id: None,
            priority: Priority::None,
            labels: vec![],
            last_seq: 0,
            created_at: at,
            first_reply_at: None,
            assigned_at: None,
            resolved_at: None,
            waiting_since: None,
            last_message_at: None,
            last_message_seq: 0,
            updated_at: at,
            visitor: Receipts::default(),
            agent: Receipts::default(),
            unread: None,
        }
    }

    /// The event the log appends by itself right after `data`, judged before `data` is
    /// applied: a visitor writing into a resolved, pending or snoozed conversation
    /// reopens it, and that is recorded as a `status_changed` of its own.
    pub fn consequence(&self, actor: Actor, data: &EventData) -> Option<EventData> {
        match (actor, data) {
            (Actor::Contact(_), EventData::Message(m)) if m.kind == MessageKind::Text && self.status != Status::Open => {
                Some(EventData::StatusChanged { status: Status::Open })
            }
            _ => None,
        }
    }

    /// Applies `data` as the next event (`self.last_seq + 1`).
    ///
    /// Returns `Ok(false)` when the event would change nothing (same status, a receipt
    /// that does not move a mark…): such events are not recorded, so retries and
    /// chatty clients do not grow the log.
    pub fn apply(&mut self, actor: Actor, data: &EventData, at: Timestamp) -> Result<bool, ValidationError> {
        match data {
            EventData::ConversationStarted => {
                if self.last_seq != 0 {
                    return Err(ValidationError::new("conversation", "has already started"));
                }
            }
            EventData::Message(m) => {
                if m.kind == MessageKind::Text {
                    self.last_message_at = Some(at);
                    self.last_message_seq = self.last_seq + 1;
                    if actor.is_team_side() {
                        self.first_reply_at.get_or_insert(at);
                        self.waiting_since = None;
                    } else if let Actor::Contact(_) = actor {
                        self.waiting_since.get_or_insert(at);
                    }
                }
            }
            EventData::StatusChanged { status } => {
                if self.status == *status {
                    return Ok(false);
                }
                self.status = *status;
                if *status == Status::Resolved {
                    self.resolved_at = Some(at);
                    self.waiting_since = None;
                }
            }
            EventData::Assigned { agent_id, team_id } => {
                if self.assignee_id == *agent_id && self.team_id == *team_id {
                    return Ok(false);
                }
                if self.assignee_id != *agent_id {
                    self.assigned_at = agent_id.map(|_| at);
                }
                self.assignee_id = *agent_id;
                self.team_id = *team_id;
            }
            EventData::LabelsChanged { labels } => {
                if self.labels == *labels {
                    return Ok(false);
                }
                self.labels = labels.clone();
            }
            EventData::PriorityChanged { priority } => {
                if self.priority == *priority {
                    return Ok(false);
                }
                self.priority = *priority;
            }
            EventData::Receipt { side, kind, up_to_seq } => {
                if *up_to_seq > self.last_seq || *up_to_seq < 0 {
                    return Err(ValidationError::new("up_to_seq", "is beyond the newest event of the conversation"));
                }
                // Receipts cover messages only: a mark moved over other receipts would be a
                // receipt of a receipt, and two clients acknowledging everything they see
                // would feed each other forever.
                let up_to = (*up_to_seq).min(self.last_message_seq);
                let marks = match side {
                    Side::Visitor => &mut self.visitor,
                    Side::Agent => &mut self.agent,
                };
                let before = *marks;
                marks.delivered_seq = marks.delivered_seq.max(up_to);
                if *kind == ReceiptKind::Read {
                    marks.read_seq = marks.read_seq.max(up_to);
                }
                if *marks == before {
                    return Ok(false);
                }
            }
        }
        self.last_seq += 1;
        self.updated_at = at;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv() -> Conversation {
        Conversation::new(WorkspaceId::new(), SiteId::new(), ContactId::new(), Timestamp(0))
    }

    fn text(author: Actor) -> EventData {
        EventData::Message(Message {
            id: MessageId::new(),
            workspace_id: WorkspaceId::new(),
            conversation_id: ConversationId::new(),
            seq: 0,
            client_id: None,
            author,
            kind: MessageKind::Text,
            body: "hi".into(),
            format: MessageFormat::Text,
            attachments: vec![],
            created_at: Timestamp(0),
        })
    }

    #[test]
    fn the_first_agent_reply_is_remembered_and_stops_the_wait() {
        let mut c = conv();
        let visitor = Actor::Contact(c.contact_id);
        let agent = Actor::Agent(AgentId::new());
        c.apply(Actor::System, &EventData::ConversationStarted, Timestamp(1)).unwrap();
        c.apply(visitor, &text(visitor), Timestamp(10)).unwrap();
        c.apply(visitor, &text(visitor), Timestamp(20)).unwrap();
        assert_eq!(c.waiting_since, Some(Timestamp(10)), "waiting counts from the first unanswered message");
        c.apply(agent, &text(agent), Timestamp(30)).unwrap();
        c.apply(agent, &text(agent), Timestamp(40)).unwrap();
        assert_eq!(c.first_reply_at, Some(Timestamp(30)));
        assert_eq!(c.waiting_since, None);
        assert_eq!(c.last_seq, 5);
    }

    #[test]
    fn a_visitor_message_reopens_a_resolved_conversation_with_an_event_of_its_own() {
        let mut c = conv();
        let visitor = Actor::Contact(c.contact_id);
        let agent = Actor::Agent(AgentId::new());
        c.apply(Actor::System, &EventData::StatusChanged { status: Status::Resolved }, Timestamp(5)).unwrap();
        assert_eq!(c.resolved_at, Some(Timestamp(5)));
        assert_eq!(c.consequence(visitor, &text(visitor)), Some(EventData::StatusChanged { status: Status::Open }));
        assert_eq!(c.consequence(agent, &text(agent)), None, "the team may write in a resolved conversation");
        c.apply(Actor::System, &EventData::StatusChanged { status: Status::Open }, Timestamp(9)).unwrap();
        assert_eq!(c.consequence(visitor, &text(visitor)), None);
    }

    #[test]
    fn events_that_change_nothing_are_not_recorded() {
        let mut c = conv();
        let same = EventData::StatusChanged { status: Status::Open };
        assert!(!c.apply(Actor::System, &same, Timestamp(1)).unwrap());
        assert_eq!(c.last_seq, 0);
    }

    #[test]
    fn receipts_only_move_forward_and_cannot_pass_the_log() {
        let mut c = conv();
        let agent = Actor::Agent(AgentId::new());
        c.apply(agent, &text(agent), Timestamp(1)).unwrap();
        let read = |n| EventData::Receipt { side: Side::Visitor, kind: ReceiptKind::Read, up_to_seq: n };
        assert!(c.apply(Actor::Contact(c.contact_id), &read(1), Timestamp(2)).unwrap());
        assert_eq!(c.visitor, Receipts { delivered_seq: 1, read_seq: 1 });
        assert!(!c.apply(Actor::Contact(c.contact_id), &read(1), Timestamp(3)).unwrap());
        assert!(c.apply(Actor::Contact(c.contact_id), &read(99), Timestamp(3)).is_err());
    }

    #[test]
    fn receipts_cannot_acknowledge_receipts() {
        let mut c = conv();
        let (agent, visitor) = (Actor::Agent(AgentId::new()), Actor::Contact(c.contact_id));
        c.apply(agent, &text(agent), Timestamp(1)).unwrap();
        let read = |side, n| EventData::Receipt { side, kind: ReceiptKind::Read, up_to_seq: n };
        assert!(c.apply(visitor, &read(Side::Visitor, 1), Timestamp(2)).unwrap(), "seq 2: the visitor read the message");
        assert!(c.apply(agent, &read(Side::Agent, 2), Timestamp(3)).unwrap(), "the agent's mark reaches the message");
        assert_eq!(c.agent.read_seq, 1, "but not the visitor's receipt");
        assert!(!c.apply(visitor, &read(Side::Visitor, 3), Timestamp(4)).unwrap(), "nothing new to read: no event, no loop");
        assert_eq!(c.last_seq, 3);
    }

    #[test]
    fn unassigning_clears_the_assignment_time() {
        let mut c = conv();
        let a = AgentId::new();
        c.apply(Actor::System, &EventData::Assigned { agent_id: Some(a), team_id: None }, Timestamp(7)).unwrap();
        assert_eq!(c.assigned_at, Some(Timestamp(7)));
        c.apply(Actor::System, &EventData::Assigned { agent_id: None, team_id: None }, Timestamp(8)).unwrap();
        assert_eq!((c.assignee_id, c.assigned_at), (None, None));
    }
}
