//! Live visitors, proactive messages and lead scoring (issue 15): who is on a site now
//! and where they have been, the invitations agents and rules send them, the rules
//! themselves with their counts, the workspace's scoring rules and the conversions a
//! site declares. The frames that carry some of these are in `frames.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::enums::*;
use crate::{Device, PageView, PublicAgent};

/// The UTM parameters of the page a visit landed on (`utm_source`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub term: Option<String>,
    pub content: Option<String>,
}

/// A live visitor's conversation, as the live list shows it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LiveChat {
    pub state: ChatState,
    /// The open conversation (`null` with `state: none`).
    pub conversation_id: Option<Uuid>,
    /// Who is chatting with them (`state: chatting`).
    pub agent_id: Option<Uuid>,
}

/// A visitor on a site now: one row per person (contact), whatever the number of their
/// tabs; the page is the one they opened last.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LiveVisitor {
    pub contact_id: Uuid,
    pub site_id: Uuid,
    pub visit_id: Uuid,
    pub url: String,
    pub title: Option<String>,
    /// When they opened the current page.
    pub page_since: i64,
    /// When this visit began (a visit ends after 30 minutes without a page or a frame).
    pub visit_started_at: i64,
    pub pages_this_visit: u32,
    /// Where this visit came from (the landing page's referrer).
    pub referrer: Option<String>,
    pub utm: Utm,
    /// 1 for a new visitor; more for a returning one.
    pub visit_number: u32,
    pub device: Device,
    /// ISO 3166-1 alpha-2, when the server has a GeoIP database (`geoip.database`).
    pub country: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub lead_score: i32,
    pub chat: LiveChat,
    /// Open tabs (sockets) of this visitor on the site.
    pub tabs: u32,
}

/// `GET /visitors/live`: the visitors on the workspace's sites now (or `?site_id=`'s),
/// longest on the site first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LiveVisitors {
    pub visitors: Vec<LiveVisitor>,
}

/// One visit of a contact to a site, with its pages.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Visit {
    pub id: Uuid,
    pub site_id: Uuid,
    pub contact_id: Uuid,
    /// 1 for the contact's first visit.
    pub number: u32,
    pub started_at: i64,
    pub last_seen_at: i64,
    pub referrer: Option<String>,
    pub utm: Utm,
    pub device: Device,
    pub country: Option<String>,
    /// Oldest first.
    pub pages: Vec<PageView>,
}

/// `GET /contacts/{id}/visits`: newest visit first; `next` is the `before` cursor of
/// the following page (`null`: no more).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct VisitPage {
    pub visits: Vec<Visit>,
    pub next: Option<String>,
}

/// `POST /contacts/{id}/invite`: an agent invites a visitor on the site now to chat.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct InviteRequest {
    #[schema(min_length = 1, max_length = 2000)]
    pub body: String,
}

/// A proactive message the widget shows (from an agent's invite or a rule). A reply
/// (`send` with `invitation_id`) starts a conversation that opens with this message,
/// assigned to the inviting agent (or routed as usual when it came from the team).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Invitation {
    pub id: Uuid,
    pub site_id: Uuid,
    pub contact_id: Uuid,
    /// `null`: the rule only opens the widget.
    pub body: Option<String>,
    /// The agent it is from; `null`: from the team (the site's team name).
    pub agent: Option<PublicAgent>,
    /// The rule that sent it; `null`: an agent by hand.
    pub trigger_id: Option<Uuid>,
    /// Open the panel (else the widget shows a preview bubble beside the launcher).
    pub open: bool,
    /// Show "typing…" this long before the message.
    pub typing_ms: u32,
    pub created_at: i64,
}

/// One condition of a proactive rule; a rule fires when all of its conditions hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TriggerCondition {
    /// At least this long on the current page.
    TimeOnPage {
        seconds: u32,
    },
    /// At least this long since the visit began.
    TimeOnSite {
        seconds: u32,
    },
    /// The current page's URL.
    Url {
        #[serde(rename = "match")]
        matching: UrlMatch,
        value: String,
    },
    /// At least this many pages this visit.
    Pages {
        at_least: u32,
    },
    /// The visit's referrer.
    Referrer {
        #[serde(rename = "match")]
        matching: UrlMatch,
        value: String,
    },
    /// A UTM parameter of the visit equals `value` (case-insensitive).
    Utm {
        field: UtmField,
        value: String,
    },
    /// `true`: a returning visitor; `false`: a new one.
    Returning {
        returning: bool,
    },
    /// The browser's language is one of these (primary subtags: `ar`, `tr`, …).
    Language {
        languages: Vec<String>,
    },
    /// The visitor's country is one of these (ISO 3166-1 alpha-2; needs GeoIP).
    Country {
        countries: Vec<String>,
    },
    /// `true`: identified (`identify` or an e-mail given); `false`: anonymous.
    Identified {
        identified: bool,
    },
    /// A custom attribute of the contact equals `value`.
    Attribute {
        key: String,
        value: serde_json::Value,
    },
    /// The page tracked this event (`Switchboard.track`) during this visit.
    Event {
        name: String,
    },
    /// The pointer left towards the browser's tabs or address bar (desktop).
    ExitIntent,
    LeadScore {
        at_least: i32,
    },
    /// `true`: at least one agent is available; `false`: nobody is.
    AgentsOnline {
        online: bool,
    },
    /// `true`: within the site's business hours; `false`: outside them.
    BusinessHours {
        open: bool,
    },
}

/// What a proactive rule does when it fires.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TriggerAction {
    /// Shows a message, as this agent (`null`: as the team), after "typing…" for
    /// `typing_seconds`.
    Message {
        #[schema(min_length = 1, max_length = 2000)]
        body: String,
        agent_id: Option<Uuid>,
        #[schema(maximum = 10)]
        typing_seconds: u8,
    },
    OpenWidget,
    /// Merged into the contact's attributes.
    SetAttributes {
        attributes: BTreeMap<String, serde_json::Value>,
    },
    /// Added to the conversation the visitor starts after the rule fired (or has open).
    AddLabels {
        labels: Vec<String>,
    },
    /// Given to the conversation the visitor starts after the rule fired (or has open).
    SetPriority {
        priority: Priority,
    },
}

/// How a rule did: how often it fired, the widget showed it opened, the visitor
/// answered, and the visitor then converted (a conversion event within 30 days).
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct TriggerStats {
    pub fired: u64,
    pub opened: u64,
    pub answered: u64,
    pub converted: u64,
    /// Sum of the conversions' values.
    pub conversion_value: f64,
}

/// A site's proactive rule ("trigger").
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Trigger {
    pub id: Uuid,
    pub site_id: Uuid,
    pub name: String,
    pub enabled: bool,
    pub conditions: Vec<TriggerCondition>,
    pub actions: Vec<TriggerAction>,
    pub frequency: TriggerFrequency,
    /// With `frequency: every_days`.
    pub every_days: Option<u16>,
    pub stats: TriggerStats,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `POST /sites/{id}/triggers` (every field required but `every_days`) and
/// `PUT /triggers/{id}` (replaces the rule; its counts stay).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TriggerRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub enabled: bool,
    #[schema(max_items = 20)]
    pub conditions: Vec<TriggerCondition>,
    #[schema(min_items = 1, max_items = 10)]
    pub actions: Vec<TriggerAction>,
    pub frequency: TriggerFrequency,
    #[schema(minimum = 1, maximum = 365)]
    pub every_days: Option<u16>,
}

/// One way a contact earns lead-score points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScoringRule {
    /// Each visit that opens a page matching: once per visit.
    Page {
        #[serde(rename = "match")]
        matching: UrlMatch,
        value: String,
        points: i32,
    },
    /// Once per visit that lasts at least this long.
    TimeOnSite { minutes: u32, points: i32 },
    /// Once, when the contact's visit count reaches this.
    Visits { at_least: u32, points: i32 },
    /// Each time the page tracks this event.
    Event { name: String, points: i32 },
    /// Once, when the contact's attribute (custom, or `name`, `email`, `phone`, or a
    /// pre-chat answer) is set — to `value` when one is given.
    Attribute { key: String, value: Option<serde_json::Value>, points: i32 },
}

/// `GET`/`PUT /scoring`: the workspace's lead-scoring rules. Scores decay: points
/// lose half their weight every `half_life_days` (`null`: never).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Scoring {
    #[schema(max_items = 100)]
    pub rules: Vec<ScoringRule>,
    #[schema(minimum = 1, maximum = 365)]
    pub half_life_days: Option<u16>,
    /// A conversation started by a contact whose score is at least this gets `high`
    /// priority (routed and queued first); `null`: scores do not change priority.
    pub priority_at: Option<i32>,
}

/// A conversion: a site's conversion event tracked by a visitor (`track('purchase',
/// {value: 49.9})`), with what preceded it within 30 days.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Conversion {
    pub id: Uuid,
    pub site_id: Uuid,
    pub contact_id: Uuid,
    pub event: String,
    /// The event's `value`, when it was a number.
    pub value: Option<f64>,
    pub at: i64,
    /// The visitor's latest conversation on the site before it, within 30 days.
    pub conversation_id: Option<Uuid>,
    /// The latest rule whose invitation the visitor was shown before it, within 30 days.
    pub trigger_id: Option<Uuid>,
}

/// One time a proactive rule fired for a contact (in the contact's export), with what
/// came of the invitation it showed.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RuleFiring {
    pub trigger_id: Uuid,
    pub site_id: Uuid,
    pub visit_id: Uuid,
    pub at: i64,
    /// The invitation the rule showed, if its action was a message.
    pub invitation_id: Option<Uuid>,
    pub opened_at: Option<i64>,
    pub answered_at: Option<i64>,
}

/// `GET /sites/{id}/conversions`: newest first, `next` is the `before` cursor.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversionPage {
    pub conversions: Vec<Conversion>,
    pub next: Option<String>,
}
