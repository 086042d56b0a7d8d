//! Bodies of the REST API under `/api/v1`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::enums::*;

/// A page of a list, with the cursor of the next page if there is one.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Workspace {
    pub id: Uuid,
    pub name: String,
    /// The IANA time zone reports and business hours use, such as `Europe/Istanbul`.
    #[schema(example = "Europe/Istanbul")]
    pub time_zone: String,
    /// Every agent must sign in with a second factor (owners set it).
    #[serde(default)]
    pub require_two_factor: bool,
    /// Minutes without activity on the dashboard before an agent shows as `away`;
    /// `null`: never.
    #[schema(minimum = 1, maximum = 1440)]
    pub auto_away_minutes: Option<u32>,
    pub inbox_visibility: InboxVisibility,
    /// Open chats routing gives an agent who has no `max_chats` of their own (1 to 100).
    #[schema(minimum = 1, maximum = 100)]
    pub default_max_chats: u32,
    pub created_at: i64,
}

/// Fields to change on the workspace; a missing field is left as it is.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateWorkspace {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// An IANA time zone name, such as `Asia/Tehran` or `UTC`.
    #[schema(example = "Asia/Tehran", max_length = 64)]
    pub time_zone: Option<String>,
    /// Owners only: require two-factor sign-in of every agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_two_factor: Option<bool>,
    /// 1..=1440 minutes; `null`: agents never go away by themselves; absent leaves it.
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1440)]
    pub auto_away_minutes: Option<Option<u32>>,
    pub inbox_visibility: Option<InboxVisibility>,
    #[schema(minimum = 1, maximum = 100)]
    pub default_max_chats: Option<u32>,
}

/// Where a workspace's conversations come in. A `website` inbox is a site: same id,
/// same name, its settings under `/sites/{id}`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Inbox {
    pub id: Uuid,
    pub name: String,
    pub kind: InboxKind,
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateInbox {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Only `website` can be created today; the other kinds answer 422 `inbox_kind_unsupported`.
    pub kind: InboxKind,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Agent {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub avatar_url: Option<String>,
    pub locale: String,
    /// Open chats routing may give the agent at once; `null` follows the workspace's
    /// `default_max_chats`.
    pub max_chats: Option<u32>,
    /// The limit that applies: `max_chats`, or the workspace's default.
    pub effective_max_chats: u32,
    /// Conversations assigned to the agent that are open or pending.
    pub open_chats: u32,
    /// The status the agent chose to show while connected (presence says whether they are).
    pub status: AgentStatus,
    pub notifications: NotificationPrefs,
    /// A deactivated agent cannot sign in and holds no open conversations.
    pub active: bool,
    pub created_at: i64,
}

/// Which notifications the dashboard gives an agent.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationPrefs {
    /// Play a sound.
    pub sound: bool,
    /// Show a browser notification.
    pub desktop: bool,
    /// Notify of a new conversation.
    pub new_conversation: bool,
    /// Notify of a new message in a conversation.
    pub new_message: bool,
}

/// Fields of one's own account to change; a missing field is left as it is.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateMe {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// `null` removes the avatar; absent leaves it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub avatar_url: Option<Option<String>>,
    /// The dashboard's language.
    pub locale: Option<UiLocale>,
    pub notifications: Option<NotificationPrefs>,
    /// What the team sees while you are connected.
    pub status: Option<AgentStatus>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangePassword {
    #[schema(max_length = 256)]
    pub current_password: String,
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

/// An admin's new password for an agent.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ResetPassword {
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

/// What a visitor may know about an agent.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicAgent {
    pub id: Uuid,
    pub name: String,
    pub avatar_url: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(max_length = 256)]
    pub password: String,
}

/// The signed-in agent, their workspace, and the CSRF token to send back in
/// `X-CSRF-Token` with every state-changing request.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub agent: Agent,
    pub workspace: Workspace,
    pub csrf_token: Option<String>,
    /// This session may only set up two-factor sign-in (the workspace requires it)
    /// before anything else: every other call answers `two_factor_setup_required`.
    #[serde(default)]
    pub two_factor_setup_required: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateAgent {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub role: Role,
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// A language tag such as `en`, `ar` or `fa-IR`.
    #[schema(min_length = 1, max_length = 35, pattern = "^\\s*[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*\\s*$")]
    pub locale: Option<String>,
    /// Concurrent chats routing may give the agent (absent or `null`: the workspace's
    /// `default_max_chats`).
    #[schema(minimum = 1, maximum = 100)]
    pub max_chats: Option<u32>,
    pub avatar_url: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateAgent {
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub role: Option<Role>,
    #[schema(min_length = 1, max_length = 35, pattern = "^\\s*[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*\\s*$")]
    pub locale: Option<String>,
    /// `null` goes back to the workspace's `default_max_chats`; absent leaves it.
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub max_chats: Option<Option<u32>>,
    /// `null` removes the avatar; absent leaves it.
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
    #[schema(min_length = 8, max_length = 256)]
    pub password: Option<String>,
    /// `false` deactivates the agent: signed out, unable to sign in, and their open
    /// conversations go back to their team's unassigned queue. `true` reactivates.
    pub active: Option<bool>,
}

/// When a site or team answers: weekly ranges in a time zone, and holidays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BusinessHours {
    /// An IANA time zone name, such as `Europe/Istanbul`.
    #[schema(example = "Europe/Istanbul", max_length = 64)]
    pub time_zone: String,
    /// Openings of the week. A `close` not after `open` runs past midnight into the
    /// next day; `close` may be `24:00`.
    #[schema(max_items = 56)]
    pub weekly: Vec<WeeklyHours>,
    /// Whole days closed, in the schedule's time zone.
    #[serde(default)]
    #[schema(max_items = 400)]
    pub holidays: Vec<Holiday>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WeeklyHours {
    /// ISO day of the week: 1 = Monday … 7 = Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub day: u8,
    /// `HH:MM`, local time.
    #[schema(example = "09:00", pattern = "^([01][0-9]|2[0-4]):[0-5][0-9]$")]
    pub open: String,
    #[schema(example = "17:00", pattern = "^([01][0-9]|2[0-4]):[0-5][0-9]$")]
    pub close: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Holiday {
    /// `YYYY-MM-DD`.
    #[schema(example = "2027-01-01")]
    pub date: String,
    #[schema(max_length = 100)]
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
    pub agent_ids: Vec<Uuid>,
    /// When the team answers (overrides its site's); `null`: always.
    pub business_hours: Option<BusinessHours>,
    pub strategy: RoutingStrategy,
    /// A returning contact goes to the agent who last helped them, when available.
    pub sticky: bool,
    /// No first reply this long after an assignment: the conversation is routed again
    /// (`null`: it stays).
    #[schema(minimum = 30, maximum = 86400)]
    pub reroute_after_seconds: Option<u32>,
    /// The assignee going offline routes their open conversations again.
    pub reroute_when_offline: bool,
    /// After this long in the queue the visitor is offered the offline form (`null`: never).
    #[schema(minimum = 30, maximum = 86400)]
    pub max_wait_seconds: Option<u32>,
    pub created_at: i64,
}

/// A team to create, or fields to change; a missing field is left as it is (or takes
/// its default when creating).
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct TeamRequest {
    /// Required when creating.
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub agent_ids: Option<Vec<Uuid>>,
    /// `null`: always open; absent leaves it.
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BusinessHours>)]
    pub business_hours: Option<Option<BusinessHours>>,
    /// Default `balanced`.
    pub strategy: Option<RoutingStrategy>,
    /// Default true.
    pub sticky: Option<bool>,
    /// `null` turns re-routing off; default off.
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u32>, minimum = 30, maximum = 86400)]
    pub reroute_after_seconds: Option<Option<u32>>,
    /// Default true.
    pub reroute_when_offline: Option<bool>,
    /// `null`: no maximum wait; default none.
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u32>, minimum = 30, maximum = 86400)]
    pub max_wait_seconds: Option<Option<u32>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Appearance {
    /// Hex colour like `#1f6feb` (or `#17e`).
    #[schema(pattern = "^\\s*#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\\s*$")]
    pub color: String,
    pub position: LauncherPosition,
    #[schema(min_length = 1, max_length = 500)]
    pub greeting: String,
    #[schema(min_length = 1, max_length = 100)]
    pub team_name: String,
    /// The widget's language: a tag such as `en`, `ar` or `fa-IR`.
    #[schema(min_length = 1, max_length = 35, pattern = "^\\s*[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*\\s*$")]
    pub locale: String,
    /// "Typically replies in …", shown by the widget and its offline form. Default `hours`.
    #[serde(default)]
    pub reply_time: ReplyTime,
    /// The site allows the widget to show the unread count in the page's title. Default false.
    #[serde(default)]
    pub title_badge: bool,
    /// `identify` without a valid `user_hash` is refused (`identity_required`). Default false.
    #[serde(default)]
    pub require_identity: bool,
    /// For a site under attack: a visitor's first `send` needs a proof of work
    /// (`pow_required`). Default false.
    #[serde(default)]
    pub proof_of_work: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PrechatField {
    /// `name`, `email`, `phone`, or a custom attribute key.
    #[schema(min_length = 1, max_length = 64)]
    pub key: String,
    #[schema(min_length = 1, max_length = 200)]
    pub label: String,
    pub kind: PrechatFieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Site {
    pub id: Uuid,
    pub name: String,
    /// Goes into the widget snippet.
    pub public_key: String,
    pub allowed_origins: Vec<String>,
    pub appearance: Appearance,
    pub prechat_form: Vec<PrechatField>,
    /// Key for HMAC identity verification; keep it on your server.
    /// Sent to owners and admins only: absent when an agent lists or reads sites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_secret: Option<String>,
    /// Conversations (neither open nor snoozed), attachments, page views and tracked
    /// events older than this many days are deleted daily; `null` keeps them forever.
    #[schema(minimum = 1, maximum = 3650)]
    pub retention_days: Option<u16>,
    pub banned_behaviour: BannedBehaviour,
    pub masking: Masking,
    /// When the site answers; `null`: always. Outside them the widget offers the
    /// offline form.
    pub business_hours: Option<BusinessHours>,
    /// The team the site's conversations go to (`null`: the workspace-wide queue of everyone).
    pub default_team_id: Option<Uuid>,
    /// Whether the live list and the visitors' histories record this site's pages.
    pub tracking: TrackingMode,
    /// Tracked events (`Switchboard.track`) that count as conversions.
    pub conversion_events: Vec<String>,
    pub created_at: i64,
}

/// What a site masks before anything is stored, besides card numbers (always masked,
/// Luhn-checked, with or without spaces and dashes): e-mail addresses and phone numbers.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct Masking {
    #[serde(default)]
    pub emails: bool,
    #[serde(default)]
    pub phones: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct SiteRequest {
    /// Required when creating.
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub appearance: Option<Appearance>,
    pub prechat_form: Option<Vec<PrechatField>>,
    #[serde(default)]
    pub rotate_identity_secret: bool,
    /// Days from 1 to 3650; `null` keeps everything forever; absent leaves it.
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 3650)]
    pub retention_days: Option<Option<i64>>,
    pub banned_behaviour: Option<BannedBehaviour>,
    pub masking: Option<Masking>,
    /// `null`: always open; absent leaves it.
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BusinessHours>)]
    pub business_hours: Option<Option<BusinessHours>>,
    /// A team of the workspace; `null`: the workspace-wide queue; absent leaves it.
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Uuid>)]
    pub default_team_id: Option<Option<Uuid>>,
    pub tracking: Option<TrackingMode>,
    /// At most 20 event names of 1 to 100 characters.
    pub conversion_events: Option<Vec<String>>,
}

/// `GET /sites/{id}/retention/preview`: what the site's next retention run removes.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RetentionPreview {
    /// The setting the preview was computed for (the saved one, or `?retention_days=`);
    /// `null`: the site keeps everything and the counts are zero.
    pub retention_days: Option<u16>,
    /// What was last active before this time goes; `null` without retention.
    pub cutoff: Option<i64>,
    pub conversations: u64,
    /// Messages and notes of those conversations.
    pub messages: u64,
    pub attachments: u64,
    pub page_views: u64,
    pub contact_events: u64,
    /// Visitors last seen before the cutoff who are left with no conversation.
    pub contacts: u64,
    /// The last activity of the oldest conversation the run keeps; `null` when none.
    pub oldest_kept_at: Option<i64>,
}

/// `POST /contacts/{id}/erase`: what was removed.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ErasureReport {
    /// Conversations that keep a `contact_erased` tombstone.
    pub conversations: u64,
    pub messages: u64,
    pub attachments: u64,
    pub page_views: u64,
    pub contact_events: u64,
}

/// One conversation of a contact's export, with its whole log as agents see it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedConversation {
    pub conversation: Conversation,
    /// Oldest first. Attachments carry their download links.
    pub events: Vec<Event>,
}

/// `GET /contacts/{id}/export`: everything held about a contact.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactExport {
    pub exported_at: i64,
    pub contact: Contact,
    pub conversations: Vec<ExportedConversation>,
    /// Newest first.
    pub page_views: Vec<PageView>,
    /// What the business's pages tracked, newest first.
    pub events: Vec<ContactEvent>,
    /// Every attachment of the conversations, with its download link.
    pub attachments: Vec<Attachment>,
    /// Every time a proactive rule fired for the contact, newest first.
    pub firings: Vec<crate::RuleFiring>,
    /// The contact's conversions on every site, newest first.
    pub conversions: Vec<crate::Conversion>,
}

/// What the widget needs to draw itself, without secrets.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicSite {
    pub id: Uuid,
    pub name: String,
    pub appearance: Appearance,
    pub prechat_form: Vec<PrechatField>,
    /// Text direction of the site's locale.
    pub dir: TextDirection,
    /// Within business hours now: the site's default team's when it has its own, else
    /// the site's (always, without hours).
    pub open_now: bool,
    /// When closed: when the site opens next (unix ms); `null` when open or with no
    /// opening ahead.
    pub opens_at: Option<i64>,
    /// Whether the widget reports pages (`consent`: once the page says so).
    pub tracking: TrackingMode,
    /// The teams the pre-chat form's `team` field offers (only those), in its order.
    pub teams: Vec<PublicTeam>,
}

/// `POST /business-hours/preview`: unsaved business hours on the server's clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HoursPreview {
    pub open_now: bool,
    /// When closed: the next opening (unix ms); `null` when open or with no opening ahead.
    pub opens_at: Option<i64>,
}

/// A team a visitor may choose in the pre-chat form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicTeam {
    pub id: Uuid,
    pub name: String,
}

/// `GET /widget/{site_key}`: every field of `PublicSite`, and who is there to answer,
/// so the launcher shows avatars and online/offline state before any socket opens.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct WidgetSite {
    pub id: Uuid,
    pub name: String,
    pub appearance: Appearance,
    pub prechat_form: Vec<PrechatField>,
    /// Text direction of the site's locale.
    pub dir: TextDirection,
    /// Within business hours now: the site's default team's when it has its own, else
    /// the site's (always, without hours).
    pub open_now: bool,
    /// When closed: when the site opens next (unix ms).
    pub opens_at: Option<i64>,
    /// Whether the widget reports pages (`consent`: once the page says so).
    pub tracking: TrackingMode,
    /// The teams the pre-chat form's `team` field offers (only those), in its order.
    pub teams: Vec<PublicTeam>,
    /// How many of the workspace's agents are available now (shown `online`).
    pub agents_online: u32,
    /// At most 3: online agents first, then the most recently active.
    #[schema(max_items = 3)]
    pub agents: Vec<PublicAgent>,
}

/// A visitor's satisfaction rating of a resolved conversation.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Rating {
    /// 1 (bad) to 5 (good).
    #[schema(minimum = 1, maximum = 5)]
    pub score: u8,
    pub comment: Option<String>,
    pub rated_at: i64,
}

/// Something the business's page tracked about a visitor (`Switchboard.track`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactEvent {
    pub id: Uuid,
    pub name: String,
    /// Strings, numbers or booleans, at most 20 keys.
    pub data: BTreeMap<String, serde_json::Value>,
    pub at: i64,
}

/// A prepared reply. Its body may hold variables the dashboard fills in before
/// sending: `{{contact.name}}`, `{{agent.name}}`, `{{site.name}}` (see docs/protocol.md).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CannedResponse {
    pub id: Uuid,
    pub shortcut: String,
    pub body: String,
    pub scope: CannedScope,
    /// The agent a `personal` response belongs to; `null` for `workspace`.
    pub owner_id: Option<Uuid>,
    pub created_at: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct CannedRequest {
    /// What an agent types after `/` to insert it. Required when creating.
    /// Letters, digits, `-` and `_`; compared in lower case.
    #[schema(min_length = 1, max_length = 32)]
    pub shortcut: Option<String>,
    /// Required when creating.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: Option<String>,
    /// When creating: `workspace` (the default; owners and admins) or `personal`
    /// (any agent, for themselves). Cannot be changed afterwards.
    pub scope: Option<CannedScope>,
}

/// A label the workspace manages. Conversations carry label names; a name on a
/// conversation need not be managed.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Label {
    pub name: String,
    /// Hex colour like `#1f6feb`.
    pub color: String,
    pub description: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct LabelRequest {
    /// Required when creating. Letters, digits, `-` and `_`; stored in lower case.
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    /// Hex colour like `#1f6feb` (default `#6e7781`).
    #[schema(pattern = "^\\s*#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\\s*$")]
    pub color: Option<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// Who a workspace refuses to chat with.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Ban {
    pub id: Uuid,
    pub kind: BanKind,
    /// The range in CIDR form (`203.0.113.0/24`, `2001:db8::1/128`), the contact's id,
    /// or the e-mail in lower case.
    pub value: String,
    pub reason: String,
    /// Unix milliseconds; absent for a ban without end.
    pub expires_at: Option<i64>,
    /// Whether it refuses anyone now (it has not expired).
    pub active: bool,
    pub created_by: Actor,
    pub created_at: i64,
}

/// `POST /bans` (owners and admins).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BanRequest {
    pub kind: BanKind,
    /// An IPv4 or IPv6 address or CIDR range, a contact id, or an e-mail.
    #[schema(min_length = 1, max_length = 254)]
    pub value: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
    /// Unix milliseconds in the future; absent bans for good.
    pub expires_at: Option<i64>,
}

/// `POST /conversations/{id}/block` (any role): bans the conversation's visitor.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct BlockVisitorRequest {
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
    /// Unix milliseconds in the future; absent bans for good.
    pub expires_at: Option<i64>,
    /// Also ban the address the visitor last connected from (when the server saw one).
    #[serde(default)]
    pub ip: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub prefix: String,
    pub created_at: i64,
    /// Recorded at most once a minute.
    pub last_used_at: Option<i64>,
    /// After this the token is refused with `token_expired`; absent: never.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateApiToken {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Defaults to `agent`.
    pub role: Option<Role>,
    /// When the token stops working (Unix ms, in the future); absent: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// The token's secret is shown only in this response.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiToken {
    pub token: ApiToken,
    pub secret: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Device {
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
    pub language: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub id: Uuid,
    pub site_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Custom attributes: strings, numbers or booleans.
    pub attributes: BTreeMap<String, serde_json::Value>,
    pub device: Device,
    /// Where the visitor last connected from (ISO 3166-1 alpha-2, from GeoIP); `null`
    /// without a GeoIP database or for an address it does not know.
    pub country: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    /// The lead score now (decayed to this moment; see `Scoring`).
    pub lead_score: i32,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateContact {
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    /// Merged into the contact's attributes; `null` removes a key.
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PageView {
    pub url: String,
    pub title: Option<String>,
    pub referrer: Option<String>,
    pub at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Receipts {
    /// Every event with `seq <=` this has reached that side.
    pub delivered_seq: i64,
    /// Every event with `seq <=` this has been read by that side.
    pub read_seq: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    pub id: Uuid,
    /// The site of a `website` conversation (the same id as `inbox_id`).
    pub site_id: Uuid,
    /// The inbox the conversation came in through.
    pub inbox_id: Uuid,
    pub inbox_kind: InboxKind,
    pub contact_id: Uuid,
    pub status: ConversationStatus,
    /// Set when `status` is `snoozed`: when the conversation reopens by itself.
    pub snoozed_until: Option<i64>,
    pub assignee_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub priority: Priority,
    pub labels: Vec<String>,
    pub last_seq: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_reply_at: Option<i64>,
    pub assigned_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub waiting_since: Option<i64>,
    pub last_message_at: Option<i64>,
    /// `seq` of the newest message both sides see: unread when above a side's `read_seq`.
    pub last_message_seq: i64,
    pub visitor: Receipts,
    pub agent: Receipts,
    /// The visitor's rating, once they rated the resolved conversation; `null` before.
    pub rating: Option<Rating>,
    /// Messages from the contact after the team's read mark (`agent.read_seq`). Counted
    /// when conversations are read (`GET /conversations`, `GET /conversations/{id}`);
    /// `null` in the result of a change, which does not count.
    pub unread: Option<u32>,
    /// In the waiting queue since; `null` when assigned or not waiting.
    pub queued_at: Option<i64>,
    /// 1-based place in its team's queue; `null` when not queued (and in the result of a
    /// change and the socket's events, which do not count it).
    pub queue_position: Option<u32>,
}

/// How many conversations each inbox view holds, for the caller.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationCounts {
    /// Open conversations assigned to the caller (0 for an API token).
    pub mine: u64,
    /// Open conversations assigned to nobody.
    pub unassigned: u64,
    /// Open conversations.
    pub all: u64,
    /// Every conversation, by status.
    pub by_status: StatusCounts,
    /// Open conversations by team id (teams with none are left out).
    pub by_team: BTreeMap<Uuid, u64>,
    /// Open conversations by label (labels on none are left out).
    pub by_label: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusCounts {
    pub open: u64,
    pub pending: u64,
    pub snoozed: u64,
    pub resolved: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    pub id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Where to download it (needs the same credentials as the conversation).
    pub url: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    pub kind: ActorKind,
    /// Absent only for `system`.
    pub id: Option<Uuid>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub seq: i64,
    pub client_id: Option<String>,
    pub author: Actor,
    pub kind: MessageKind,
    pub body: String,
    pub format: MessageFormat,
    pub attachments: Vec<Attachment>,
    pub created_at: i64,
}

/// One entry of a conversation's log: where it sits (`seq`, `feed_seq`), when and by
/// whom, and what happened (`kind` and the fields that kind carries).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub conversation_id: Uuid,
    /// Position in the conversation (resume cursor for visitors).
    pub seq: i64,
    /// Position in the workspace feed (resume cursor for agents); absent for visitors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_seq: Option<i64>,
    pub at: i64,
    pub actor: Actor,
    #[serde(flatten)]
    pub body: EventBody,
}

/// What an event records, tagged by `kind`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    ConversationStarted,
    /// A message the visitor and the team see.
    Message {
        message: Message,
    },
    /// A private note: agents only.
    Note {
        message: Message,
    },
    StatusChanged {
        status: ConversationStatus,
        /// Set when `status` is `snoozed`.
        snoozed_until: Option<i64>,
    },
    /// `assignee_id` `null`: unassigned.
    Assigned {
        assignee_id: Option<Uuid>,
        team_id: Option<Uuid>,
        reason: AssignReason,
        /// A transfer note, agents only (absent in the visitor's copy).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(max_length = 1000)]
        note: Option<String>,
    },
    /// Agents only: the conversation entered its team's waiting queue (`team_id` `null`:
    /// the workspace-wide queue).
    Queued {
        team_id: Option<Uuid>,
        priority: Priority,
    },
    /// Agents only: the conversation left the waiting queue.
    Dequeued {
        team_id: Option<Uuid>,
        reason: DequeueReason,
    },
    /// Agents only.
    LabelsChanged {
        labels: Vec<String>,
    },
    /// Agents only.
    PriorityChanged {
        priority: Priority,
    },
    /// Every event with `seq <= up_to_seq` reached (`delivered`) or was read by (`read`) that side.
    Receipt {
        side: Side,
        receipt: ReceiptKind,
        up_to_seq: i64,
    },
    /// The visitor rated the resolved conversation (a later rating replaces it).
    ConversationRated {
        #[schema(minimum = 1, maximum = 5)]
        score: u8,
        comment: Option<String>,
    },
    /// The tombstone of an erasure: the contact's messages, attachments, page views and
    /// attributes were removed on request; the team's messages stay. Agents only.
    ContactErased,
    /// The automatic reply outside business hours (actor `system`): the team is closed
    /// and opens again at `reopens_at` (unix ms; `null`: no opening ahead). Each side
    /// words it in its own language and time zone. At most one per closed period.
    OutsideHours {
        reopens_at: Option<i64>,
    },
}

impl EventBody {
    /// The message of a `message` or `note` event.
    pub fn message(&self) -> Option<&Message> {
        match self {
            EventBody::Message { message } | EventBody::Note { message } => Some(message),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct Reply {
    /// Your id for this message; sending it again returns the same message.
    #[schema(min_length = 1, max_length = 100)]
    pub client_id: Option<String>,
    /// May be empty only when the message has attachments.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub body: String,
    /// Defaults to `text`.
    pub format: Option<MessageFormat>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub attachment_ids: Vec<Uuid>,
}

/// The result of a change: the conversation after it and the events it appended
/// (none when the change changed nothing).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeResult {
    pub conversation: Conversation,
    pub events: Vec<Event>,
    /// True when this repeats an earlier request with the same `client_id`.
    pub replayed: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AssignRequest {
    /// `null` unassigns.
    pub agent_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
}

/// `POST /conversations/{id}/transfer`: exactly one of `agent_id` and `team_id`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct TransferRequest {
    /// An agent who is online with a free place (else 409 `agent_unavailable`).
    pub agent_id: Option<Uuid>,
    /// A team: routed within it by its strategy, else queued there.
    pub team_id: Option<Uuid>,
    /// Shown to agents with the `assigned` event.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// One waiting queue.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct QueueInfo {
    /// `null`: the workspace-wide queue (conversations of no team).
    pub team_id: Option<Uuid>,
    pub length: u64,
    /// When the longest-waiting conversation entered it; `null` when empty.
    pub oldest_queued_at: Option<i64>,
}

/// `GET /queues`: every team's queue and the workspace-wide one.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Queues {
    pub queues: Vec<QueueInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusRequest {
    pub status: ConversationStatus,
    /// Required with `snoozed`: Unix milliseconds.
    pub snoozed_until: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LabelsRequest {
    /// Letters, digits, `-` and `_`; compared in lower case.
    #[schema(max_items = 50)]
    pub labels: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PriorityRequest {
    pub priority: Priority,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ReadRequest {
    pub up_to_seq: i64,
}

/// A message found by search: where to open the conversation (`conversation_id`,
/// `seq`), and `snippet`, the part of the body around the hit with each matching word
/// between U+0001 and U+0002. Split on those two characters and render every part as
/// plain text (never as HTML); the parts after a U+0001 are the hits.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageHit {
    pub conversation_id: Uuid,
    pub seq: i64,
    #[schema(example = "…where is my \u{1}order\u{2}? It was due…")]
    pub snippet: String,
    pub message: Message,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// The messages found, newest first (the same as `hits[].message`).
    pub messages: Vec<Message>,
    /// The same messages as hits, with where they are and a highlighted snippet.
    pub hits: Vec<MessageHit>,
    pub contacts: Vec<Contact>,
}

/// `Some(None)` for an explicit `null`, `None` for an absent field. Fields using it also
/// say `skip_serializing_if = "Option::is_none"`: an absent field must stay absent on the
/// way out, or a typed client leaving it alone would send `null` and clear it.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}
