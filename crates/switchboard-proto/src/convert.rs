//! Domain → wire conversions. The other direction is parsing, done at the edge; only
//! the closed enums, whose every wire value has a domain value, convert back here.

use switchboard_domain as d;

use crate::*;

impl From<&d::Workspace> for Workspace {
    fn from(w: &d::Workspace) -> Self {
        Self {
            id: w.id.0,
            name: w.name.clone(),
            time_zone: w.time_zone.as_str().into(),
            require_two_factor: w.require_two_factor,
            auto_away_minutes: w.auto_away_minutes,
            inbox_visibility: w.inbox_visibility.into(),
            default_max_chats: w.default_max_chats,
            created_at: w.created_at.0,
        }
    }
}

impl From<&d::Inbox> for Inbox {
    fn from(i: &d::Inbox) -> Self {
        Self { id: i.id.0, name: i.name.clone(), kind: i.kind.into(), created_at: i.created_at.0 }
    }
}

impl Agent {
    /// An agent with the limit that applies to them and what they hold now (`capacity`
    /// of their workspace).
    pub fn new(a: &d::Agent, capacity: &d::routing::Capacity) -> Self {
        Self {
            id: a.id.0,
            email: a.email.as_str().into(),
            name: a.name.clone(),
            role: a.role.into(),
            avatar_url: a.avatar_url.clone(),
            locale: a.locale.as_str().into(),
            max_chats: a.max_chats,
            effective_max_chats: capacity.max_chats(a),
            open_chats: capacity.open_chats(a.id),
            status: a.status.into(),
            notifications: a.notifications.into(),
            active: a.active,
            created_at: a.created_at.0,
        }
    }
}

impl From<d::NotificationPrefs> for NotificationPrefs {
    fn from(n: d::NotificationPrefs) -> Self {
        Self { sound: n.sound, desktop: n.desktop, new_conversation: n.new_conversation, new_message: n.new_message }
    }
}

impl From<NotificationPrefs> for d::NotificationPrefs {
    fn from(n: NotificationPrefs) -> Self {
        Self { sound: n.sound, desktop: n.desktop, new_conversation: n.new_conversation, new_message: n.new_message }
    }
}

impl From<&d::ManagedLabel> for Label {
    fn from(l: &d::ManagedLabel) -> Self {
        Self {
            name: l.name.as_str().into(),
            color: l.color.as_str().into(),
            description: l.description.clone(),
            created_at: l.created_at.0,
        }
    }
}

impl From<&d::Agent> for PublicAgent {
    fn from(a: &d::Agent) -> Self {
        Self { id: a.id.0, name: a.name.clone(), avatar_url: a.avatar_url.clone() }
    }
}

impl From<&d::Team> for Team {
    fn from(t: &d::Team) -> Self {
        Self {
            id: t.id.0,
            name: t.name.clone(),
            agent_ids: t.agent_ids.iter().map(|a| a.0).collect(),
            business_hours: t.business_hours.as_ref().map(Into::into),
            strategy: t.routing.strategy.into(),
            sticky: t.routing.sticky,
            reroute_after_seconds: t.routing.reroute_after_seconds,
            reroute_when_offline: t.routing.reroute_when_offline,
            max_wait_seconds: t.routing.max_wait_seconds,
            created_at: t.created_at.0,
        }
    }
}

impl From<&d::Appearance> for Appearance {
    fn from(a: &d::Appearance) -> Self {
        Self {
            color: a.color.as_str().into(),
            position: a.position.into(),
            greeting: a.greeting.clone(),
            team_name: a.team_name.clone(),
            locale: a.locale.as_str().into(),
            reply_time: a.reply_time.into(),
            title_badge: a.title_badge,
            require_identity: a.require_identity,
            proof_of_work: a.proof_of_work,
        }
    }
}

impl From<&d::PrechatField> for PrechatField {
    fn from(f: &d::PrechatField) -> Self {
        Self { key: f.key.clone(), label: f.label.clone(), kind: f.kind.into(), required: f.required, options: f.options.clone() }
    }
}

/// A site as core let its reader see it: the secret only for owners and admins.
impl From<&d::SiteView> for Site {
    fn from(s: &d::SiteView) -> Self {
        Self {
            id: s.id.0,
            name: s.name.clone(),
            public_key: s.public_key.clone(),
            allowed_origins: s.allowed_origins.iter().map(|o| o.as_str().into()).collect(),
            appearance: (&s.appearance).into(),
            prechat_form: s.prechat_form.iter().map(Into::into).collect(),
            identity_secret: s.identity_secret.clone(),
            retention_days: s.retention_days.map(|d| d.days()),
            banned_behaviour: s.banned_behaviour.into(),
            masking: s.masking.into(),
            business_hours: s.business_hours.as_ref().map(Into::into),
            default_team_id: s.default_team_id.map(|t| t.0),
            tracking: s.tracking.into(),
            conversion_events: s.conversion_events.clone(),
            created_at: s.created_at.0,
        }
    }
}

impl From<d::masking::Masking> for Masking {
    fn from(m: d::masking::Masking) -> Self {
        Self { emails: m.emails, phones: m.phones }
    }
}

impl From<Masking> for d::masking::Masking {
    fn from(m: Masking) -> Self {
        Self { emails: m.emails, phones: m.phones }
    }
}

impl Ban {
    /// A ban as seen at `now` (whether it is still in force).
    pub fn new(b: &d::Ban, now: d::Timestamp) -> Self {
        let kind = match b.target {
            d::BanTarget::Ip(_) => BanKind::Ip,
            d::BanTarget::Contact(_) => BanKind::Contact,
            d::BanTarget::Email(_) => BanKind::Email,
        };
        Self {
            id: b.id.0,
            kind,
            value: b.target.value(),
            reason: b.reason.clone(),
            expires_at: b.expires_at.map(|t| t.0),
            active: b.active_at(now),
            created_by: b.created_by.into(),
            created_at: b.created_at.0,
        }
    }
}

/// A whole site, secret included: only core's admin-only use cases hand one out.
impl From<&d::Site> for Site {
    fn from(s: &d::Site) -> Self {
        (&d::SiteView::with_secret(s.clone())).into()
    }
}

impl From<&d::BusinessHours> for BusinessHours {
    fn from(h: &d::BusinessHours) -> Self {
        Self {
            time_zone: h.time_zone().as_str().into(),
            weekly: h
                .weekly()
                .iter()
                .map(|r| WeeklyHours { day: r.day, open: d::format_minute(r.open), close: d::format_minute(r.close) })
                .collect(),
            holidays: h.holidays().iter().map(|x| Holiday { date: x.date.to_string(), name: x.name.clone() }).collect(),
        }
    }
}

impl PublicSite {
    /// The site as the widget draws it at `now`: open or not by `hours` (the calendar
    /// core says it follows), with the teams its pre-chat form offers.
    pub fn at(s: &d::Site, hours: Option<&d::BusinessHours>, teams: &[d::Team], now: d::Timestamp) -> Self {
        let (open_now, opens_at) = match hours {
            None => (true, None),
            Some(h) => (h.is_open(now), h.opens_at(now).map(|t| t.0)),
        };
        Self {
            id: s.id.0,
            name: s.name.clone(),
            appearance: (&s.appearance).into(),
            prechat_form: s.prechat_form.iter().map(Into::into).collect(),
            dir: if s.appearance.locale.is_rtl() { TextDirection::Rtl } else { TextDirection::Ltr },
            open_now,
            opens_at,
            tracking: s.tracking.into(),
            teams: teams.iter().map(|t| PublicTeam { id: t.id.0, name: t.name.clone() }).collect(),
        }
    }
}

impl WidgetSite {
    /// The site as the launcher draws it at `now` (see [`PublicSite::at`]), with the
    /// agents core picked to show.
    pub fn new(
        s: &d::Site,
        hours: Option<&d::BusinessHours>,
        teams: &[d::Team],
        now: d::Timestamp,
        agents_online: u32,
        agents: &[d::Agent],
    ) -> Self {
        let PublicSite { id, name, appearance, prechat_form, dir, open_now, opens_at, tracking, teams } =
            PublicSite::at(s, hours, teams, now);
        Self {
            id,
            name,
            appearance,
            prechat_form,
            dir,
            open_now,
            opens_at,
            tracking,
            teams,
            agents_online,
            agents: agents.iter().map(Into::into).collect(),
        }
    }
}

impl From<&d::routing::QueueSummary> for QueueInfo {
    fn from(q: &d::routing::QueueSummary) -> Self {
        Self { team_id: q.team_id.map(|t| t.0), length: q.length, oldest_queued_at: q.oldest_queued_at.map(|t| t.0) }
    }
}

impl From<&d::Rating> for Rating {
    fn from(r: &d::Rating) -> Self {
        Self { score: r.score, comment: r.comment.clone(), rated_at: r.rated_at.0 }
    }
}

impl From<&d::ContactEvent> for ContactEvent {
    fn from(e: &d::ContactEvent) -> Self {
        Self { id: e.id.0, name: e.name.clone(), data: e.data.iter().map(|(k, v)| (k.clone(), attribute_json(v))).collect(), at: e.at.0 }
    }
}

impl From<&d::CannedResponse> for CannedResponse {
    fn from(c: &d::CannedResponse) -> Self {
        Self {
            id: c.id.0,
            shortcut: c.shortcut.clone(),
            body: c.body.clone(),
            scope: if c.owner_id.is_some() { CannedScope::Personal } else { CannedScope::Workspace },
            owner_id: c.owner_id.map(|a| a.0),
            created_at: c.created_at.0,
        }
    }
}

impl From<&d::ApiToken> for ApiToken {
    fn from(t: &d::ApiToken) -> Self {
        Self {
            id: t.id.0,
            name: t.name.clone(),
            role: t.role.into(),
            prefix: t.prefix.clone(),
            created_at: t.created_at.0,
            last_used_at: t.last_used_at.map(|t| t.0),
            expires_at: t.expires_at.map(|t| t.0),
        }
    }
}

pub fn attribute_json(v: &d::AttributeValue) -> serde_json::Value {
    match v {
        d::AttributeValue::Text(s) => serde_json::Value::String(s.clone()),
        d::AttributeValue::Number(n) => serde_json::json!(n),
        d::AttributeValue::Bool(b) => serde_json::Value::Bool(*b),
    }
}

impl From<&d::Contact> for Contact {
    fn from(c: &d::Contact) -> Self {
        Self {
            id: c.id.0,
            site_id: c.site_id.map(|s| s.0),
            external_id: c.external_id.clone(),
            name: c.name.clone(),
            email: c.email.as_ref().map(|e| e.as_str().into()),
            phone: c.phone.clone(),
            attributes: c.attributes.iter().map(|(k, v)| (k.clone(), attribute_json(v))).collect(),
            device: Device {
                browser: c.device.browser.clone(),
                os: c.device.os.clone(),
                device: c.device.device.clone(),
                language: c.device.language.clone(),
            },
            country: c.country.clone(),
            first_seen: c.first_seen.0,
            last_seen: c.last_seen.0,
            // Core restates the score at the time of the read (`Core::fresh_score`).
            lead_score: d::scoring::shown(c.lead_score.value),
        }
    }
}

impl From<&d::PageView> for PageView {
    fn from(v: &d::PageView) -> Self {
        Self { url: v.url.clone(), title: v.title.clone(), referrer: v.referrer.clone(), at: v.at.0 }
    }
}

impl From<d::Receipts> for Receipts {
    fn from(r: d::Receipts) -> Self {
        Self { delivered_seq: r.delivered_seq, read_seq: r.read_seq }
    }
}

impl From<&d::Conversation> for Conversation {
    fn from(c: &d::Conversation) -> Self {
        Self {
            id: c.id.0,
            site_id: c.site_id.0,
            inbox_id: c.inbox_id.0,
            inbox_kind: c.inbox_kind.into(),
            contact_id: c.contact_id.0,
            status: c.status.into(),
            snoozed_until: c.status.snoozed_until().map(|t| t.0),
            assignee_id: c.assignee_id.map(|a| a.0),
            team_id: c.team_id.map(|t| t.0),
            priority: c.priority.into(),
            labels: c.labels.iter().map(|l| l.as_str().into()).collect(),
            last_seq: c.last_seq,
            created_at: c.created_at.0,
            updated_at: c.updated_at.0,
            first_reply_at: c.first_reply_at.map(|t| t.0),
            assigned_at: c.assigned_at.map(|t| t.0),
            resolved_at: c.resolved_at.map(|t| t.0),
            waiting_since: c.waiting_since.map(|t| t.0),
            last_message_at: c.last_message_at.map(|t| t.0),
            last_message_seq: c.last_message_seq,
            visitor: c.visitor.into(),
            agent: c.agent.into(),
            rating: c.rating.as_ref().map(Into::into),
            unread: c.unread,
            queued_at: c.queued_at.map(|t| t.0),
            queue_position: None,
        }
    }
}

impl VisitorConversation {
    /// `unread`: the team's messages after the visitor's read mark (core counts them).
    pub fn new(c: &d::Conversation, agents: &[d::Agent], unread: i64) -> Self {
        Self {
            id: c.id.0,
            status: c.status.into(),
            last_seq: c.last_seq,
            created_at: c.created_at.0,
            assignee: c.assignee_id.and_then(|id| agents.iter().find(|a| a.id == id)).map(Into::into),
            agent_read_seq: c.agent.read_seq,
            visitor_read_seq: c.visitor.read_seq,
            unread,
        }
    }
}

impl From<d::Actor> for Actor {
    fn from(a: d::Actor) -> Self {
        let id = match a {
            d::Actor::Contact(id) => Some(id.0),
            d::Actor::Agent(id) => Some(id.0),
            d::Actor::Integration(id) => Some(id.0),
            d::Actor::System => None,
        };
        let kind = match a {
            d::Actor::Contact(_) => ActorKind::Contact,
            d::Actor::Agent(_) => ActorKind::Agent,
            d::Actor::Integration(_) => ActorKind::Integration,
            d::Actor::System => ActorKind::System,
        };
        Self { kind, id }
    }
}

/// Who a payload is rendered for: URLs and cursors differ between the two sides.
#[derive(Clone, Copy, Debug)]
pub enum Viewer<'a> {
    Agent,
    /// A visitor of the site with this public key.
    Visitor {
        site_key: &'a str,
    },
}

impl Attachment {
    pub fn new(a: &d::Attachment, viewer: Viewer) -> Self {
        Self {
            id: a.id.0,
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            width: a.width,
            height: a.height,
            url: attachment_url(a.id.0, viewer),
        }
    }
}

/// Where `viewer` downloads an attachment.
fn attachment_url(id: uuid::Uuid, viewer: Viewer) -> String {
    match viewer {
        Viewer::Agent => format!("/api/v1/attachments/{id}"),
        // Visitors add `?token=<visitor token>` (or the Authorization header).
        Viewer::Visitor { site_key } => format!("/api/v1/widget/{site_key}/attachments/{id}"),
    }
}

impl Message {
    pub fn new(m: &d::Message, viewer: Viewer) -> Self {
        Self {
            id: m.id.0,
            conversation_id: m.conversation_id.0,
            seq: m.seq,
            client_id: m.client_id.clone(),
            author: m.author.into(),
            kind: m.kind.into(),
            body: m.body.clone(),
            format: m.format.into(),
            attachments: m.attachments.iter().map(|a| Attachment::new(a, viewer)).collect(),
            created_at: m.created_at.0,
        }
    }
}

impl Event {
    /// The wire form of an event. Visitors get no `feed_seq`: their cursor is the
    /// conversation's `seq`.
    pub fn new(e: &d::Event, viewer: Viewer) -> Self {
        let body = match &e.data {
            d::EventData::ConversationStarted => EventBody::ConversationStarted,
            d::EventData::Message(m) => {
                let message = Message::new(m, viewer);
                match m.kind {
                    d::MessageKind::Text => EventBody::Message { message },
                    d::MessageKind::Note => EventBody::Note { message },
                }
            }
            d::EventData::StatusChanged { status } => {
                EventBody::StatusChanged { status: (*status).into(), snoozed_until: status.snoozed_until().map(|t| t.0) }
            }
            d::EventData::Assigned { agent_id, team_id, reason, note } => EventBody::Assigned {
                assignee_id: agent_id.map(|a| a.0),
                team_id: team_id.map(|t| t.0),
                reason: (*reason).into(),
                note: note.clone().filter(|_| matches!(viewer, Viewer::Agent)),
            },
            d::EventData::Queued { team_id, priority } => EventBody::Queued { team_id: team_id.map(|t| t.0), priority: (*priority).into() },
            d::EventData::Dequeued { team_id, reason } => EventBody::Dequeued { team_id: team_id.map(|t| t.0), reason: (*reason).into() },
            d::EventData::LabelsChanged { labels } => {
                EventBody::LabelsChanged { labels: labels.iter().map(|l| l.as_str().into()).collect() }
            }
            d::EventData::PriorityChanged { priority } => EventBody::PriorityChanged { priority: (*priority).into() },
            d::EventData::Receipt { side, kind, up_to_seq } => {
                EventBody::Receipt { side: (*side).into(), receipt: (*kind).into(), up_to_seq: *up_to_seq }
            }
            d::EventData::Rated { score, comment } => EventBody::ConversationRated { score: *score, comment: comment.clone() },
            d::EventData::ContactErased => EventBody::ContactErased,
            d::EventData::OutsideHours { reopens_at } => EventBody::OutsideHours { reopens_at: reopens_at.map(|t| t.0) },
        };
        Event {
            conversation_id: e.conversation_id.0,
            seq: e.seq,
            feed_seq: matches!(viewer, Viewer::Agent).then_some(e.feed_seq),
            at: e.at.0,
            actor: e.actor.into(),
            body,
        }
    }

    /// The same event as a visitor of the site `site_key` sees it, from the agents' view
    /// (which a bus message carries): no `feed_seq`, and the visitor's attachment URLs.
    pub fn seen_by_visitor(&self, site_key: &str) -> Event {
        let viewer = Viewer::Visitor { site_key };
        let mut event = Event { feed_seq: None, ..self.clone() };
        // A transfer note is for agents only.
        if let EventBody::Assigned { note, .. } = &mut event.body {
            *note = None;
        }
        if let EventBody::Message { message } | EventBody::Note { message } = &mut event.body {
            for a in &mut message.attachments {
                a.url = attachment_url(a.id, viewer);
            }
        }
        event
    }
}

/// Closed enums that mean the same on both sides convert both ways, with the table
/// written once.
macro_rules! same_enum {
    ($wire:ident <=> $domain:ident { $($variant:ident),+ $(,)? }) => {
        impl From<d::$domain> for $wire {
            fn from(v: d::$domain) -> Self {
                match v { $(d::$domain::$variant => $wire::$variant),+ }
            }
        }

        impl From<$wire> for d::$domain {
            fn from(v: $wire) -> Self {
                match v { $($wire::$variant => d::$domain::$variant),+ }
            }
        }
    };
}

same_enum!(Role <=> Role { Owner, Admin, Agent });
same_enum!(AgentStatus <=> AgentStatus { Online, Away });
same_enum!(Priority <=> Priority { None, Low, Medium, High, Urgent });
same_enum!(InboxKind <=> InboxKind { Website, Email, Telegram, Api });
same_enum!(InboxVisibility <=> InboxVisibility { All, Teams });
same_enum!(MessageFormat <=> MessageFormat { Text, Markdown });
same_enum!(MessageKind <=> MessageKind { Text, Note });
same_enum!(Side <=> Side { Visitor, Agent });
same_enum!(ReceiptKind <=> ReceiptKind { Delivered, Read });
same_enum!(LauncherPosition <=> LauncherPosition { End, Start });
same_enum!(ReplyTime <=> ReplyTime { Minutes, Hours, Day });
same_enum!(BannedBehaviour <=> BannedBehaviour { Hide, Message });
same_enum!(PrechatFieldKind <=> PrechatFieldKind { Text, Email, Phone, Select, Team });
same_enum!(AuditTargetKind <=> AuditTargetKind { Agent, Team, Site, Workspace, ApiToken, Session, Conversation, Contact, Ban, Invitation });
same_enum!(AuditAction <=> AuditAction {
    AgentInvited,
    AgentChanged,
    AgentRoleChanged,
    AgentDeactivated,
    AgentReactivated,
    AgentDeleted,
    PasswordReset,
    TeamCreated,
    TeamChanged,
    TeamDeleted,
    SiteCreated,
    SiteChanged,
    SiteDeleted,
    WorkspaceChanged,
    TokenCreated,
    TokenRevoked,
    BanCreated,
    BanRemoved,
    TwoFactorEnabled,
    TwoFactorDisabled,
    TwoFactorRequired,
    TwoFactorNotRequired,
    SessionRevoked,
    ConversationRead,
    ContactRead,
    InvitationResent,
    InvitationRevoked,
    InvitationAccepted,
});

impl From<&d::AuditEntry> for AuditEntry {
    fn from(e: &d::AuditEntry) -> Self {
        Self {
            id: e.id.0,
            at: e.at.0,
            actor: e.actor.into(),
            action: e.action.into(),
            target_kind: e.target.map(|t| t.kind.into()),
            target_id: e.target.map(|t| t.id),
            detail: e.detail.clone(),
        }
    }
}

same_enum!(RoutingStrategy <=> Strategy { Manual, RoundRobin, Balanced });
same_enum!(AssignReason <=> AssignReason { Routed, Claimed, Manual, Transferred, Rerouted, Released });
same_enum!(DequeueReason <=> DequeueReason { Assigned, Resolved, MaxWait });
same_enum!(TrackingMode <=> TrackingMode { On, Consent, Off });
same_enum!(InvitationAction <=> InvitationAction { Shown, Opened, Dismissed });

impl From<d::Status> for ConversationStatus {
    fn from(s: d::Status) -> Self {
        match s {
            d::Status::Open => ConversationStatus::Open,
            d::Status::Pending => ConversationStatus::Pending,
            d::Status::Snoozed { .. } => ConversationStatus::Snoozed,
            d::Status::Resolved => ConversationStatus::Resolved,
        }
    }
}

impl ErrorCode {
    /// `<entity>_not_found`.
    pub fn not_found(entity: d::Entity) -> Self {
        match entity {
            d::Entity::Workspace => ErrorCode::WorkspaceNotFound,
            d::Entity::Agent => ErrorCode::AgentNotFound,
            d::Entity::Team => ErrorCode::TeamNotFound,
            d::Entity::Site => ErrorCode::SiteNotFound,
            d::Entity::Contact => ErrorCode::ContactNotFound,
            d::Entity::Conversation => ErrorCode::ConversationNotFound,
            d::Entity::Message => ErrorCode::MessageNotFound,
            d::Entity::Attachment => ErrorCode::AttachmentNotFound,
            d::Entity::CannedResponse => ErrorCode::CannedResponseNotFound,
            d::Entity::ApiToken => ErrorCode::ApiTokenNotFound,
            d::Entity::Label => ErrorCode::LabelNotFound,
            d::Entity::Session => ErrorCode::SessionNotFound,
            d::Entity::Ban => ErrorCode::BanNotFound,
            d::Entity::Invitation => ErrorCode::InvitationNotFound,
            d::Entity::Trigger => ErrorCode::TriggerNotFound,
            d::Entity::AgentInvitation => ErrorCode::AgentInvitationNotFound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A visitor's socket renders its frame from the agents' view that travels on the
    /// bus: it must be exactly what rendering the domain event for the visitor gives.
    #[test]
    fn the_visitors_view_of_an_agents_event_is_the_visitors_rendering() {
        let (ws, contact) = (d::WorkspaceId::new(), d::ContactId::new());
        let attachment = d::Attachment {
            id: d::AttachmentId::new(),
            workspace_id: ws,
            uploader: d::Actor::Contact(contact),
            filename: "photo.png".into(),
            content_type: "image/png".into(),
            size: 10,
            width: Some(4),
            height: Some(3),
            blob_key: "k".into(),
            created_at: d::Timestamp(5),
        };
        let conversation = d::ConversationId::new();
        let message = d::Message {
            id: d::MessageId::new(),
            workspace_id: ws,
            conversation_id: conversation,
            seq: 2,
            client_id: None,
            author: d::Actor::Contact(contact),
            kind: d::MessageKind::Text,
            body: "look".into(),
            format: d::MessageFormat::Text,
            attachments: vec![attachment],
            created_at: d::Timestamp(6),
        };
        let event = d::Event {
            workspace_id: ws,
            conversation_id: conversation,
            seq: 2,
            feed_seq: 9,
            actor: d::Actor::Contact(contact),
            at: d::Timestamp(6),
            data: d::EventData::Message(message),
        };
        let direct = serde_json::to_value(Event::new(&event, Viewer::Visitor { site_key: "pk_shop" })).unwrap();
        let derived = serde_json::to_value(Event::new(&event, Viewer::Agent).seen_by_visitor("pk_shop")).unwrap();
        assert_eq!(derived, direct);
        assert!(derived.get("feed_seq").is_none(), "visitors have no feed cursor");
        assert!(derived["message"]["attachments"][0]["url"].as_str().unwrap().starts_with("/api/v1/widget/pk_shop/"));
    }
}
