//! The persisted things of a workspace: agents, teams, sites and inboxes, contacts, conversations, messages.

use std::collections::BTreeMap;

use crate::masking::Masking;
use crate::*;

#[derive(Clone, PartialEq, Debug)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    /// The zone reports and business hours count days and hours in.
    pub time_zone: TimeZone,
    /// Every agent must sign in with a second factor (TOTP); one without it is asked
    /// to enrol before using the dashboard.
    pub require_two_factor: bool,
    /// Minutes without activity on the dashboard before an agent shows as away
    /// (`None`: never).
    pub auto_away_minutes: Option<u32>,
    /// Who sees which of the workspace's conversations.
    pub inbox_visibility: InboxVisibility,
    /// How many open conversations routing gives an agent who has no limit of their own.
    pub default_max_chats: u32,
    pub created_at: Timestamp,
}

impl Workspace {
    /// Auto-away after this long without activity, unless the workspace says otherwise.
    pub const DEFAULT_AUTO_AWAY_MINUTES: u32 = 15;
    /// The longest idle time auto-away accepts: a day.
    pub const MAX_AUTO_AWAY_MINUTES: u32 = 24 * 60;

    /// A new workspace with the defaults of every setting.
    pub fn new(id: WorkspaceId, name: String, created_at: Timestamp) -> Self {
        Self {
            id,
            name,
            time_zone: TimeZone::utc(),
            require_two_factor: false,
            auto_away_minutes: Some(Self::DEFAULT_AUTO_AWAY_MINUTES),
            inbox_visibility: InboxVisibility::All,
            default_max_chats: Self::DEFAULT_MAX_CHATS,
            created_at,
        }
    }
}

/// Who sees which conversations of a workspace.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum InboxVisibility {
    /// Everyone sees every conversation.
    #[default]
    All,
    /// Agents (role `agent`) see the conversations of their teams, those assigned to
    /// them and those of no team; owners and admins see all.
    Teams,
}

impl InboxVisibility {
    pub const ALL: [InboxVisibility; 2] = [InboxVisibility::All, InboxVisibility::Teams];

    pub fn name(self) -> &'static str {
        match self {
            InboxVisibility::All => "all",
            InboxVisibility::Teams => "teams",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|v| v.name() == raw).ok_or_else(|| ValidationError::new("inbox_visibility", "must be all or teams"))
    }
}

impl Workspace {
    /// The default of [`Workspace::default_max_chats`].
    pub const DEFAULT_MAX_CHATS: u32 = 5;
}

#[derive(Clone, PartialEq, Debug)]
pub struct Agent {
    pub id: AgentId,
    pub workspace_id: WorkspaceId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub avatar_url: Option<String>,
    pub locale: Locale,
    /// How many open conversations routing may give this agent at once; `None` follows
    /// the workspace's `default_max_chats`.
    pub max_chats: Option<u32>,
    /// What the agent chose to show the team while connected (offline is when no
    /// dashboard is open, which presence knows, not the store).
    pub status: AgentStatus,
    pub notifications: NotificationPrefs,
    /// A deactivated agent cannot sign in and holds no conversations.
    pub active: bool,
    pub created_at: Timestamp,
}

/// The status an agent sets for the team: `Away` still receives everything, but
/// teammates (and later routing) know not to count on them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum AgentStatus {
    #[default]
    Online,
    Away,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Online => "online",
            AgentStatus::Away => "away",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "online" => Ok(AgentStatus::Online),
            "away" => Ok(AgentStatus::Away),
            _ => Err(ValidationError::new("status", "must be online or away")),
        }
    }
}

/// Which notifications the dashboard gives the agent; kept on the server so they
/// follow the agent from one browser to the next.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NotificationPrefs {
    pub sound: bool,
    pub desktop: bool,
    pub new_conversation: bool,
    pub new_message: bool,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        Self { sound: true, desktop: true, new_conversation: true, new_message: true }
    }
}

#[derive(Clone, PartialEq, Debug)]
pub struct Team {
    pub id: TeamId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub agent_ids: Vec<AgentId>,
    /// When the team answers; `None`: always. Overrides its site's.
    pub business_hours: Option<BusinessHours>,
    pub routing: TeamRouting,
    pub created_at: Timestamp,
}

/// How a team's conversations reach its members.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Strategy {
    /// Nobody is chosen: conversations wait in the queue until an agent claims one.
    Manual,
    /// Members take turns: the one assigned least recently goes first.
    RoundRobin,
    /// Fewest open chats first, ties to whoever was assigned least recently.
    #[default]
    Balanced,
}

impl Strategy {
    pub const ALL: [Strategy; 3] = [Strategy::Manual, Strategy::RoundRobin, Strategy::Balanced];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Manual => "manual",
            Strategy::RoundRobin => "round_robin",
            Strategy::Balanced => "balanced",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == raw)
            .ok_or_else(|| ValidationError::new("strategy", "must be manual, round_robin or balanced"))
    }
}

/// A team's routing settings (issue 14).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TeamRouting {
    pub strategy: Strategy,
    /// A returning contact goes to the agent who last helped them, when available.
    pub sticky: bool,
    /// No first reply within this many seconds of an assignment → routed again; `None` keeps it.
    pub reroute_after_seconds: Option<u32>,
    /// The assignee going offline re-routes their open chats.
    pub reroute_when_offline: bool,
    /// After this many seconds in the queue the visitor is offered the offline form.
    pub max_wait_seconds: Option<u32>,
}

impl Default for TeamRouting {
    fn default() -> Self {
        Self { strategy: Strategy::Balanced, sticky: true, reroute_after_seconds: None, reroute_when_offline: true, max_wait_seconds: None }
    }
}

impl TeamRouting {
    /// The range of both timers, in seconds.
    pub const TIMER_SECONDS: std::ops::RangeInclusive<u32> = 30..=86_400;

    /// Checks the timers' ranges.
    pub fn check(self) -> Result<Self, ValidationError> {
        for (field, value) in [("reroute_after_seconds", self.reroute_after_seconds), ("max_wait_seconds", self.max_wait_seconds)] {
            if value.is_some_and(|v| !Self::TIMER_SECONDS.contains(&v)) {
                return Err(ValidationError::new(field, "must be between 30 and 86400 seconds, or null"));
            }
        }
        Ok(self)
    }
}

/// Which corner of the page the widget launcher sits in. Logical, so RTL pages mirror it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum LauncherPosition {
    #[default]
    End,
    Start,
}

/// How soon the team typically answers, as the widget tells a visitor ("typically
/// replies in a few minutes", in the offline form too).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ReplyTime {
    Minutes,
    #[default]
    Hours,
    Day,
}

impl ReplyTime {
    pub const ALL: [ReplyTime; 3] = [ReplyTime::Minutes, ReplyTime::Hours, ReplyTime::Day];

    pub fn name(self) -> &'static str {
        match self {
            ReplyTime::Minutes => "minutes",
            ReplyTime::Hours => "hours",
            ReplyTime::Day => "day",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|r| r.name() == raw).ok_or_else(|| ValidationError::new("reply_time", "must be minutes, hours or day"))
    }
}

#[derive(Clone, PartialEq, Debug)]
pub struct Appearance {
    pub color: Color,
    pub position: LauncherPosition,
    pub greeting: String,
    pub team_name: String,
    pub locale: Locale,
    /// What the widget promises about answers.
    pub reply_time: ReplyTime,
    /// The site lets the widget show the unread count in the page's title.
    pub title_badge: bool,
    /// Visitors may only be identified with a valid `user_hash`: an `identify` without
    /// one is refused instead of setting the contact's name, e-mail and phone.
    pub require_identity: bool,
    /// For a site under attack: a visitor's browser proves some work (hashcash over
    /// SHA-256, about half a second) before it may start a conversation.
    pub proof_of_work: bool,
}

impl Default for Appearance {
    fn default() -> Self {
        Self {
            color: Color::parse("#1f6feb").expect("valid default colour"),
            position: LauncherPosition::End,
            greeting: "Hi! How can we help?".into(),
            team_name: "Support".into(),
            locale: Locale::default(),
            reply_time: ReplyTime::default(),
            title_badge: false,
            require_identity: false,
            proof_of_work: false,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PrechatFieldKind {
    Text,
    Email,
    Phone,
    Select,
    /// The visitor picks the team the conversation goes to; options are team ids.
    Team,
}

/// One question the widget asks before a chat starts.
#[derive(Clone, PartialEq, Debug)]
pub struct PrechatField {
    /// Where the answer goes: `name`, `email`, `phone`, or a custom attribute key.
    pub key: String,
    pub label: String,
    pub kind: PrechatFieldKind,
    pub required: bool,
    pub options: Vec<String>,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Site {
    pub id: SiteId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// Public, embeddable key that names the site in the widget snippet.
    pub public_key: String,
    /// Origins allowed to open the widget; empty means any (handy for demos).
    pub allowed_origins: Vec<Origin>,
    pub appearance: Appearance,
    pub prechat_form: Vec<PrechatField>,
    /// HMAC key with which the business signs its users' ids (identity verification).
    pub identity_secret: String,
    /// Conversations, attachments and page views older than this are deleted daily;
    /// `None` keeps them forever.
    pub retention_days: Option<RetentionDays>,
    /// What a banned visitor's widget does.
    pub banned_behaviour: BannedBehaviour,
    /// What is masked before it is stored, besides card numbers (always masked).
    pub masking: Masking,
    /// When the site answers; `None`: always. Outside them the widget offers the
    /// offline form.
    pub business_hours: Option<BusinessHours>,
    /// The team the site's conversations go to; `None`: the workspace-wide queue.
    pub default_team_id: Option<TeamId>,
    /// Whether the live list and visitors' histories record this site's pages.
    pub tracking: crate::TrackingMode,
    /// Tracked events (`Switchboard.track`) that count as conversions.
    pub conversion_events: Vec<String>,
    pub created_at: Timestamp,
}

/// A site as one reader may see it in the settings API. Core builds it and decides
/// who sees the identity secret: owners and admins do, agents do not (`None`).
#[derive(Clone, PartialEq, Debug)]
pub struct SiteView {
    pub id: SiteId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub public_key: String,
    pub allowed_origins: Vec<Origin>,
    pub appearance: Appearance,
    pub prechat_form: Vec<PrechatField>,
    pub identity_secret: Option<String>,
    pub retention_days: Option<RetentionDays>,
    pub banned_behaviour: BannedBehaviour,
    pub masking: Masking,
    pub business_hours: Option<BusinessHours>,
    pub default_team_id: Option<TeamId>,
    pub tracking: crate::TrackingMode,
    pub conversion_events: Vec<String>,
    pub created_at: Timestamp,
}

impl SiteView {
    /// The whole site, identity secret included.
    pub fn with_secret(site: Site) -> Self {
        let secret = site.identity_secret.clone();
        Self { identity_secret: Some(secret), ..Self::without_secret(site) }
    }

    /// The site with its identity secret left out.
    pub fn without_secret(site: Site) -> Self {
        Self {
            id: site.id,
            workspace_id: site.workspace_id,
            name: site.name,
            public_key: site.public_key,
            allowed_origins: site.allowed_origins,
            appearance: site.appearance,
            prechat_form: site.prechat_form,
            identity_secret: None,
            retention_days: site.retention_days,
            banned_behaviour: site.banned_behaviour,
            masking: site.masking,
            business_hours: site.business_hours,
            default_team_id: site.default_team_id,
            tracking: site.tracking,
            conversion_events: site.conversion_events,
            created_at: site.created_at,
        }
    }
}

impl Site {
    /// Whether a browser on `origin` may talk to this site's visitor endpoints.
    pub fn allows_origin(&self, origin: Option<&str>) -> bool {
        if self.allowed_origins.is_empty() {
            return true;
        }
        match origin.and_then(|o| Origin::parse(o).ok()) {
            Some(o) => self.allowed_origins.contains(&o),
            None => false,
        }
    }
}

/// What kind of channel an inbox is. Only websites take conversations today; the others
/// can be stored and read but not created yet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InboxKind {
    /// A site: the widget on a business's pages.
    Website,
    Email,
    Telegram,
    /// Conversations an integration starts through the REST API.
    Api,
}

impl InboxKind {
    pub const ALL: [InboxKind; 4] = [InboxKind::Website, InboxKind::Email, InboxKind::Telegram, InboxKind::Api];

    pub fn name(self) -> &'static str {
        match self {
            InboxKind::Website => "website",
            InboxKind::Email => "email",
            InboxKind::Telegram => "telegram",
            InboxKind::Api => "api",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == raw)
            .ok_or_else(|| ValidationError::new("inbox_kind", "must be website, email, telegram or api"))
    }
}

/// Where a workspace's conversations come in. A website inbox is a site (same id, same
/// name); its settings stay on the `Site`.
#[derive(Clone, PartialEq, Debug)]
pub struct Inbox {
    pub id: InboxId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub kind: InboxKind,
    pub created_at: Timestamp,
}

#[derive(Clone, PartialEq, Debug)]
pub enum AttributeValue {
    Text(String),
    Number(f64),
    Bool(bool),
}

pub type Attributes = BTreeMap<String, AttributeValue>;

/// What we learn about a visitor's device from their requests.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct DeviceInfo {
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub language: Option<String>,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Contact {
    pub id: ContactId,
    pub workspace_id: WorkspaceId,
    pub site_id: Option<SiteId>,
    /// The business's own user id, once identified.
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<String>,
    pub attributes: Attributes,
    pub device: DeviceInfo,
    /// Where the visitor last connected from: an ISO 3166-1 alpha-2 code from the GeoIP
    /// database (`geoip.database`), kept beside the device the same way; `None` without
    /// a database or for an address it does not know.
    pub country: Option<String>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Points earned under the workspace's scoring rules (issue 15), decaying.
    pub lead_score: crate::scoring::LeadScore,
}

/// Something the business's page reported about the visitor (`Switchboard.track`),
/// kept on the contact for agents to see.
#[derive(Clone, PartialEq, Debug)]
pub struct ContactEvent {
    pub id: ContactEventId,
    pub workspace_id: WorkspaceId,
    pub contact_id: ContactId,
    /// 1 to 100 characters.
    pub name: String,
    /// At most 20 keys, each a string, number or boolean.
    pub data: Attributes,
    pub at: Timestamp,
}

impl ContactEvent {
    pub const MAX_NAME_CHARS: usize = 100;
    pub const MAX_KEYS: usize = 20;
}

/// A visitor asked for a conversation's transcript by e-mail. The e-mail channel sends
/// it later and sets `sent_at`.
#[derive(Clone, PartialEq, Debug)]
pub struct TranscriptRequest {
    pub id: TranscriptRequestId,
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    pub email: Email,
    pub requested_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// A visitor's satisfaction rating of a resolved conversation.
#[derive(Clone, PartialEq, Debug)]
pub struct Rating {
    /// 1 (bad) to 5 (good).
    pub score: u8,
    pub comment: Option<String>,
    pub rated_at: Timestamp,
}

impl Rating {
    pub const MAX_COMMENT_CHARS: usize = 2000;

    /// Checks a score and comment as a visitor sends them.
    pub fn check(score: i64, comment: Option<&str>) -> Result<(u8, Option<String>), ValidationError> {
        if !(1..=5).contains(&score) {
            return Err(ValidationError::new("score", "must be a whole number from 1 to 5"));
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > Self::MAX_COMMENT_CHARS) {
            return Err(ValidationError::new("comment", format!("at most {} characters", Self::MAX_COMMENT_CHARS)));
        }
        Ok((score as u8, comment.map(str::to_owned)))
    }
}

#[derive(Clone, PartialEq, Debug)]
pub struct PageView {
    pub url: String,
    pub title: Option<String>,
    pub referrer: Option<String>,
    pub at: Timestamp,
}

/// The read and delivery marks of one side of a conversation: every message with
/// `seq <= mark` has been delivered to / read by that side.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Receipts {
    pub delivered_seq: i64,
    pub read_seq: i64,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Conversation {
    pub id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub site_id: SiteId,
    /// The inbox the conversation came in through; for a website, its site's id.
    pub inbox_id: InboxId,
    /// The kind of that inbox (an inbox never changes kind).
    pub inbox_kind: InboxKind,
    pub contact_id: ContactId,
    pub status: Status,
    pub assignee_id: Option<AgentId>,
    pub team_id: Option<TeamId>,
    pub priority: Priority,
    pub labels: Vec<Label>,
    /// Sequence number of the newest event in this conversation.
    pub last_seq: i64,
    pub created_at: Timestamp,
    pub first_reply_at: Option<Timestamp>,
    pub assigned_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    /// Since when the contact has been waiting for an answer; `None` when the team spoke last.
    pub waiting_since: Option<Timestamp>,
    pub last_message_at: Option<Timestamp>,
    /// Since when the conversation waits in its team's queue; `None` when it is not queued.
    pub queued_at: Option<Timestamp>,
    /// Sequence number of the newest message both sides see (not notes): receipts
    /// never reach past it.
    pub last_message_seq: i64,
    /// Time of the newest event; the inbox sorts by it.
    pub updated_at: Timestamp,
    pub visitor: Receipts,
    pub agent: Receipts,
    /// The visitor's rating, once they rated the resolved conversation (a new rating
    /// replaces it).
    pub rating: Option<Rating>,
    /// Messages from the contact after the team's read mark. Counted by the store when
    /// it reads conversations (a list, or one by id); `None` where nobody counted
    /// (a conversation as the log's writer returns it after a change).
    pub unread: Option<u32>,
}

/// Who wrote a message or caused an event.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Actor {
    Contact(ContactId),
    Agent(AgentId),
    Integration(ApiTokenId),
    System,
}

impl Actor {
    pub fn kind(self) -> &'static str {
        match self {
            Actor::Contact(_) => "contact",
            Actor::Agent(_) => "agent",
            Actor::Integration(_) => "integration",
            Actor::System => "system",
        }
    }

    pub fn is_team_side(self) -> bool {
        matches!(self, Actor::Agent(_) | Actor::Integration(_))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MessageKind {
    /// Seen by the contact and the team.
    Text,
    /// A private note: only agents see it.
    Note,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Attachment {
    pub id: AttachmentId,
    pub workspace_id: WorkspaceId,
    pub uploader: Actor,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Key of the bytes in the blob store.
    pub blob_key: String,
    pub created_at: Timestamp,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Message {
    pub id: MessageId,
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    pub seq: i64,
    /// Id chosen by the sender's client; a retry with the same id returns this message.
    pub client_id: Option<String>,
    pub author: Actor,
    pub kind: MessageKind,
    pub body: String,
    pub format: MessageFormat,
    pub attachments: Vec<Attachment>,
    pub created_at: Timestamp,
}

/// A message as its author posts it. Where it goes and when is the log's to say: the
/// store gives it its id, conversation, `seq` and time as it appends it ([`NewMessage::posted`]),
/// so a [`Message`] only ever exists with the values it is stored with.
#[derive(Clone, PartialEq, Debug)]
pub struct NewMessage {
    pub author: Actor,
    /// Id chosen by the sender's client; a retry with the same id returns the stored message.
    pub client_id: Option<String>,
    /// A message the contact sees, or a private note.
    pub kind: MessageKind,
    pub body: String,
    pub format: MessageFormat,
    pub attachments: Vec<Attachment>,
}

impl NewMessage {
    /// The message this becomes as the next event of `conversation` (`seq` is
    /// `last_seq + 1`), stored under `id` at `at`.
    pub fn posted(self, id: MessageId, conversation: &Conversation, at: Timestamp) -> Message {
        Message {
            id,
            workspace_id: conversation.workspace_id,
            conversation_id: conversation.id,
            seq: conversation.last_seq + 1,
            client_id: self.client_id,
            author: self.author,
            kind: self.kind,
            body: self.body,
            format: self.format,
            attachments: self.attachments,
            created_at: at,
        }
    }
}

#[derive(Clone, PartialEq, Debug)]
pub struct CannedResponse {
    pub id: CannedResponseId,
    pub workspace_id: WorkspaceId,
    /// What an agent types after `/` to insert it.
    pub shortcut: String,
    pub body: String,
    /// `None`: the whole workspace's; `Some(agent)`: that agent's own.
    pub owner_id: Option<AgentId>,
    pub created_at: Timestamp,
}

/// A label the workspace manages (name, colour, description). Conversations carry
/// label names; a name on a conversation need not be managed.
#[derive(Clone, PartialEq, Debug)]
pub struct ManagedLabel {
    pub workspace_id: WorkspaceId,
    pub name: Label,
    pub color: Color,
    pub description: String,
    pub created_at: Timestamp,
}

#[derive(Clone, PartialEq, Debug)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub role: Role,
    /// First characters of the secret, shown so people can tell tokens apart.
    pub prefix: String,
    pub created_at: Timestamp,
    /// Recorded at most once a minute, so a busy integration does not write per request.
    pub last_used_at: Option<Timestamp>,
    /// After this the token is refused (`token_expired`); `None` never expires.
    pub expires_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(origins: &[&str]) -> Site {
        Site {
            id: SiteId::new(),
            workspace_id: WorkspaceId::new(),
            name: "Shop".into(),
            public_key: "pk".into(),
            allowed_origins: origins.iter().map(|o| Origin::parse(o).unwrap()).collect(),
            appearance: Appearance::default(),
            prechat_form: vec![],
            identity_secret: "s".into(),
            retention_days: None,
            banned_behaviour: BannedBehaviour::Hide,
            masking: Masking::default(),
            business_hours: None,
            default_team_id: None,
            tracking: crate::TrackingMode::On,
            conversion_events: vec![],
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn inbox_kinds_read_back_from_their_names_and_nothing_else_does() {
        for kind in InboxKind::ALL {
            assert_eq!(InboxKind::parse(kind.name()), Ok(kind));
        }
        assert!(InboxKind::parse("sms").is_err());
        assert!(InboxKind::parse("Website").is_err());
    }

    #[test]
    fn an_empty_origin_list_allows_any_page() {
        assert!(site(&[]).allows_origin(Some("https://anything.example")));
        assert!(site(&[]).allows_origin(None));
    }

    #[test]
    fn listed_origins_are_the_only_ones_allowed() {
        let s = site(&["https://shop.example"]);
        assert!(s.allows_origin(Some("https://SHOP.example")));
        assert!(!s.allows_origin(Some("https://evil.example")));
        assert!(!s.allows_origin(None));
    }
}
