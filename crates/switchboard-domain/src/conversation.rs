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
            queued_at: None,
            last_message_seq: 0,
            updated_at: at,
            visitor: Receipts::default(),
            agent: Receipts::default(),
            rating: None,
            unread: None,
        }
    }

    /// The event the log appends by itself right after `data`, judged before `data` is
    /// applied: a visitor writing into a resolved, pending or snoozed conversation
    /// reopens it, and that is recorded as a `status_changed` of its own; a queued
    /// conversation that gets an agent or is resolved leaves the queue (`dequeued`).
    pub fn consequence(&self, actor: Actor, data: &EventData) -> Option<EventData> {
        match (actor, data) {
            (Actor::Contact(_), EventData::Message(m)) if m.kind == MessageKind::Text && self.status != Status::Open => {
                Some(EventData::StatusChanged { status: Status::Open })
            }
            (_, EventData::Assigned { agent_id: Some(_), team_id, .. }) if self.queued_at.is_some() => {
                Some(EventData::Dequeued { team_id: *team_id, reason: DequeueReason::Assigned })
            }
            (_, EventData::StatusChanged { status: Status::Resolved }) if self.queued_at.is_some() => {
                Some(EventData::Dequeued { team_id: self.team_id, reason: DequeueReason::Resolved })
            }
            _ => None,
        }
    }

    /// Whether the conversation takes one of its assignee's places (open or pending).
    pub fn holds_a_place(&self) -> bool {
        self.assignee_id.is_some() && matches!(self.status, Status::Open | Status::Pending)
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
            EventData::Assigned { agent_id, team_id, note, .. } => {
                if note.as_ref().is_some_and(|n| n.chars().count() > AssignReason::MAX_NOTE_CHARS) {
                    return Err(ValidationError::new("note", "at most 1000 characters"));
                }
                if self.assignee_id == *agent_id && self.team_id == *team_id {
                    return Ok(false);
                }
                if self.assignee_id != *agent_id {
                    self.assigned_at = agent_id.map(|_| at);
                }
                self.assignee_id = *agent_id;
                self.team_id = *team_id;
            }
            EventData::Queued { team_id, .. } => {
                if self.assignee_id.is_some() || self.status == Status::Resolved {
                    return Err(ValidationError::new("conversation", "only an unassigned, unresolved conversation waits in a queue"));
                }
                if self.queued_at.is_some() && self.team_id == *team_id {
                    return Ok(false);
                }
                // Moving to another team's queue keeps the time waited so far.
                self.queued_at.get_or_insert(at);
                self.team_id = *team_id;
            }
            EventData::Dequeued { .. } => {
                if self.queued_at.is_none() {
                    return Ok(false);
                }
                self.queued_at = None;
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
            EventData::Rated { score, comment } => {
                // Core answers `conversation_not_resolved` first; this keeps a rating that
                // raced a reopening out of the log.
                if self.status != Status::Resolved {
                    return Err(ValidationError::new("status", "only a resolved conversation can be rated"));
                }
                if !matches!(actor, Actor::Contact(id) if id == self.contact_id) {
                    return Err(ValidationError::new("actor", "only the conversation's visitor rates it"));
                }
                self.rating = Some(Rating { score: *score, comment: comment.clone(), rated_at: at });
            }
            EventData::OutsideHours { .. } => {
                // Only the system says it: it is no answer from the team (the visitor
                // still waits for one) and no message an agent wrote.
                if actor != Actor::System {
                    return Err(ValidationError::new("actor", "only the system replies outside business hours"));
                }
            }
            EventData::ContactErased => {
                // What the visitor wrote is gone: their rating's words, and the wait for
                // an answer to a message that no longer exists. The score stays (a number
                // about the service, not the person).
                if let Some(rating) = &mut self.rating {
                    rating.comment = None;
                }
                self.waiting_since = None;
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

    /// A text message by `author`, posted as the next event of `c`.
    fn text(c: &Conversation, author: Actor) -> EventData {
        let new = NewMessage {
            author,
            client_id: None,
            kind: MessageKind::Text,
            body: "hi".into(),
            format: MessageFormat::Text,
            attachments: vec![],
        };
        EventData::Message(new.posted(MessageId::new(), c, Timestamp(0)))
    }

    #[test]
    fn a_posted_message_takes_its_conversation_and_the_next_seq() {
        let mut c = conv();
        c.apply(Actor::System, &EventData::ConversationStarted, Timestamp(1)).unwrap();
        let EventData::Message(m) = text(&c, Actor::Contact(c.contact_id)) else { panic!("text is a message") };
        assert_eq!((m.workspace_id, m.conversation_id, m.seq), (c.workspace_id, c.id, 2));
        c.apply(m.author, &EventData::Message(m.clone()), Timestamp(2)).unwrap();
        assert_eq!(c.last_message_seq, m.seq, "the seq it was given is the one the log records");
    }

    #[test]
    fn the_first_agent_reply_is_remembered_and_stops_the_wait() {
        let mut c = conv();
        let visitor = Actor::Contact(c.contact_id);
        let agent = Actor::Agent(AgentId::new());
        c.apply(Actor::System, &EventData::ConversationStarted, Timestamp(1)).unwrap();
        c.apply(visitor, &text(&c, visitor), Timestamp(10)).unwrap();
        c.apply(visitor, &text(&c, visitor), Timestamp(20)).unwrap();
        assert_eq!(c.waiting_since, Some(Timestamp(10)), "waiting counts from the first unanswered message");
        c.apply(agent, &text(&c, agent), Timestamp(30)).unwrap();
        c.apply(agent, &text(&c, agent), Timestamp(40)).unwrap();
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
        assert_eq!(c.consequence(visitor, &text(&c, visitor)), Some(EventData::StatusChanged { status: Status::Open }));
        assert_eq!(c.consequence(agent, &text(&c, agent)), None, "the team may write in a resolved conversation");
        c.apply(Actor::System, &EventData::StatusChanged { status: Status::Open }, Timestamp(9)).unwrap();
        assert_eq!(c.consequence(visitor, &text(&c, visitor)), None);
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
        c.apply(agent, &text(&c, agent), Timestamp(1)).unwrap();
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
        c.apply(agent, &text(&c, agent), Timestamp(1)).unwrap();
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
        c.apply(
            Actor::System,
            &EventData::Assigned { agent_id: Some(a), team_id: None, reason: AssignReason::Manual, note: None },
            Timestamp(7),
        )
        .unwrap();
        assert_eq!(c.assigned_at, Some(Timestamp(7)));
        c.apply(
            Actor::System,
            &EventData::Assigned { agent_id: None, team_id: None, reason: AssignReason::Manual, note: None },
            Timestamp(8),
        )
        .unwrap();
        assert_eq!((c.assignee_id, c.assigned_at), (None, None));
    }

    #[test]
    fn a_queued_conversation_leaves_the_queue_when_assigned_or_resolved() {
        let mut c = conv();
        let team = Some(TeamId::new());
        assert!(c.apply(Actor::System, &EventData::Queued { team_id: team, priority: Priority::None }, Timestamp(3)).unwrap());
        assert_eq!((c.queued_at, c.team_id), (Some(Timestamp(3)), team));
        assert!(
            !c.apply(Actor::System, &EventData::Queued { team_id: team, priority: Priority::High }, Timestamp(4)).unwrap(),
            "queued once"
        );
        let assign = EventData::Assigned { agent_id: Some(AgentId::new()), team_id: team, reason: AssignReason::Routed, note: None };
        assert_eq!(c.consequence(Actor::System, &assign), Some(EventData::Dequeued { team_id: team, reason: DequeueReason::Assigned }));
        let resolve = EventData::StatusChanged { status: Status::Resolved };
        assert_eq!(c.consequence(Actor::System, &resolve), Some(EventData::Dequeued { team_id: team, reason: DequeueReason::Resolved }));
        c.apply(Actor::System, &assign, Timestamp(5)).unwrap();
        assert!(
            c.apply(Actor::System, &EventData::Queued { team_id: team, priority: Priority::None }, Timestamp(6)).is_err(),
            "an assigned one"
        );
        c.apply(Actor::System, &EventData::Dequeued { team_id: team, reason: DequeueReason::Assigned }, Timestamp(5)).unwrap();
        assert_eq!(c.queued_at, None);
        assert_eq!(c.consequence(Actor::System, &resolve), None, "not queued any more");
    }

    #[test]
    fn only_the_system_replies_outside_hours_and_the_visitor_still_waits() {
        let mut c = conv();
        let visitor = Actor::Contact(c.contact_id);
        let hello = text(&c, visitor);
        c.apply(visitor, &hello, Timestamp(1)).unwrap();
        let closed = EventData::OutsideHours { reopens_at: Some(Timestamp(99)) };
        assert!(c.apply(Actor::Agent(AgentId::new()), &closed, Timestamp(2)).is_err());
        assert!(c.apply(visitor, &closed, Timestamp(2)).is_err());
        assert!(c.apply(Actor::System, &closed, Timestamp(2)).unwrap());
        assert_eq!((c.waiting_since, c.first_reply_at), (Some(Timestamp(1)), None), "no answer from the team");
    }

    #[test]
    fn a_transfer_note_is_at_most_a_thousand_characters() {
        let mut c = conv();
        let note = |n: usize| EventData::Assigned {
            agent_id: None,
            team_id: Some(TeamId::new()),
            reason: AssignReason::Transferred,
            note: Some("x".repeat(n)),
        };
        assert!(c.apply(Actor::System, &note(1001), Timestamp(1)).is_err());
        assert!(c.apply(Actor::System, &note(1000), Timestamp(1)).unwrap());
    }

    #[test]
    fn only_the_visitor_rates_and_only_once_resolved_and_a_new_rating_replaces_the_old() {
        let mut c = conv();
        let visitor = Actor::Contact(c.contact_id);
        let rate = |score, comment: Option<&str>| EventData::Rated { score, comment: comment.map(Into::into) };
        assert!(c.apply(visitor, &rate(5, None), Timestamp(1)).is_err(), "an open conversation");
        c.apply(Actor::System, &EventData::StatusChanged { status: Status::Resolved }, Timestamp(2)).unwrap();
        assert!(c.apply(Actor::Agent(AgentId::new()), &rate(5, None), Timestamp(3)).is_err(), "an agent");
        assert!(c.apply(Actor::Contact(ContactId::new()), &rate(5, None), Timestamp(3)).is_err(), "another contact");
        assert!(c.apply(visitor, &rate(2, Some("slow")), Timestamp(4)).unwrap());
        assert!(c.apply(visitor, &rate(4, None), Timestamp(5)).unwrap());
        assert_eq!(c.rating, Some(Rating { score: 4, comment: None, rated_at: Timestamp(5) }));
    }

    #[test]
    fn erasing_the_contact_keeps_the_score_but_not_their_words_nor_their_wait() {
        let mut c = conv();
        let visitor = Actor::Contact(c.contact_id);
        let hello = text(&c, visitor);
        c.apply(visitor, &hello, Timestamp(1)).unwrap();
        assert!(c.waiting_since.is_some());
        c.apply(Actor::System, &EventData::StatusChanged { status: Status::Resolved }, Timestamp(2)).unwrap();
        c.apply(visitor, &EventData::Rated { score: 2, comment: Some("Ana, slow".into()) }, Timestamp(3)).unwrap();
        assert!(c.apply(Actor::System, &EventData::ContactErased, Timestamp(4)).unwrap());
        assert_eq!(c.rating, Some(Rating { score: 2, comment: None, rated_at: Timestamp(3) }));
        assert_eq!((c.waiting_since, c.last_seq), (None, 4));
    }

    #[test]
    fn a_rating_is_a_score_from_one_to_five_with_a_short_comment() {
        assert_eq!(Rating::check(1, Some("  ")), Ok((1, None)));
        assert_eq!(Rating::check(5, Some(" great ")), Ok((5, Some("great".into()))));
        assert_eq!(Rating::check(0, None).unwrap_err().field, "score");
        assert_eq!(Rating::check(6, None).unwrap_err().field, "score");
        assert_eq!(Rating::check(3, Some(&"x".repeat(2001))).unwrap_err().field, "comment");
    }
}
