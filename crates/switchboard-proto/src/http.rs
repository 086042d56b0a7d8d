//! Bodies of the REST API under `/api/v1`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Every error: a stable code to switch on, a human sentence, and the fields at fault.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub fields: Vec<FieldError>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

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
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Agent {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// `owner`, `admin` or `agent`.
    pub role: String,
    pub avatar_url: Option<String>,
    pub locale: String,
    pub max_chats: u32,
    pub created_at: i64,
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
    pub email: String,
    pub password: String,
}

/// The signed-in agent, their workspace, and the CSRF token to send back in
/// `X-CSRF-Token` with every state-changing request.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub agent: Agent,
    pub workspace: Workspace,
    pub csrf_token: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateAgent {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
    pub locale: Option<String>,
    pub max_chats: Option<u32>,
    pub avatar_url: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateAgent {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub locale: Option<String>,
    pub max_chats: Option<u32>,
    /// `null` removes the avatar; absent leaves it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
    pub password: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
    pub agent_ids: Vec<Uuid>,
    pub created_at: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct TeamRequest {
    pub name: Option<String>,
    pub agent_ids: Option<Vec<Uuid>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Appearance {
    /// Hex colour like `#1f6feb`.
    pub color: String,
    /// `end` (bottom right in LTR, bottom left in RTL) or `start`.
    pub position: String,
    pub greeting: String,
    pub team_name: String,
    pub locale: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PrechatField {
    /// `name`, `email`, `phone`, or a custom attribute key.
    pub key: String,
    pub label: String,
    /// `text`, `email`, `phone` or `select`.
    pub kind: String,
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
    pub created_at: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct SiteRequest {
    pub name: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub appearance: Option<Appearance>,
    pub prechat_form: Option<Vec<PrechatField>>,
    #[serde(default)]
    pub rotate_identity_secret: bool,
}

/// What the widget needs to draw itself, without secrets.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicSite {
    pub id: Uuid,
    pub name: String,
    pub appearance: Appearance,
    pub prechat_form: Vec<PrechatField>,
    /// Text direction of the site's locale: `ltr` or `rtl`.
    pub dir: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CannedResponse {
    pub id: Uuid,
    pub shortcut: String,
    pub body: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct CannedRequest {
    pub shortcut: Option<String>,
    pub body: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateApiToken {
    pub name: String,
    /// Defaults to `agent`.
    pub role: Option<String>,
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
    #[schema(value_type = Object)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    pub device: Device,
    pub first_seen: i64,
    pub last_seen: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateContact {
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    /// Merged into the contact's attributes; `null` removes a key.
    #[serde(default)]
    #[schema(value_type = Object)]
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
    pub site_id: Uuid,
    pub contact_id: Uuid,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: String,
    pub snoozed_until: Option<i64>,
    pub assignee_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    /// `none`, `low`, `medium`, `high` or `urgent`.
    pub priority: String,
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
    /// `contact`, `agent`, `integration` or `system`.
    pub kind: String,
    pub id: Option<Uuid>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub seq: i64,
    pub client_id: Option<String>,
    pub author: Actor,
    /// `text` (everyone sees it) or `note` (agents only).
    pub kind: String,
    pub body: String,
    /// `text` or `markdown`; never HTML.
    pub format: String,
    pub attachments: Vec<Attachment>,
    pub created_at: i64,
}

/// One entry of a conversation's log. `kind` says which of the optional fields is set.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub conversation_id: Uuid,
    /// Position in the conversation (resume cursor for visitors).
    pub seq: i64,
    /// Position in the workspace feed (resume cursor for agents); absent for visitors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed_seq: Option<i64>,
    pub at: i64,
    pub actor: Actor,
    /// `conversation_started`, `message`, `note`, `status_changed`, `assigned`,
    /// `labels_changed`, `priority_changed` or `receipt`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// For receipts: `visitor` or `agent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
    /// For receipts: `delivered` or `read`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub up_to_seq: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct Reply {
    /// Your id for this message; sending it again returns the same message.
    pub client_id: Option<String>,
    #[serde(default)]
    pub body: String,
    /// `text` (default) or `markdown`.
    pub format: Option<String>,
    #[serde(default)]
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

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusRequest {
    pub status: String,
    /// Required with `snoozed`: Unix milliseconds.
    pub snoozed_until: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LabelsRequest {
    pub labels: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PriorityRequest {
    pub priority: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ReadRequest {
    pub up_to_seq: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageHit {
    pub message: Message,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    pub messages: Vec<Message>,
    pub contacts: Vec<Contact>,
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
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
