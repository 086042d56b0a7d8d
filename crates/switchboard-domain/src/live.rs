//! Live visitors (issue 15): what a visitor's tracked visit looks like at a moment.
//! `VisitorFacts` is the seam between live tracking (which builds it from a visitor's
//! pages and frames) and proactive rules and lead scoring (which only read it), so each
//! side is pure and testable alone.

use crate::{AgentId, Attributes, ContactId, InvitationId, SiteId, Timestamp, TriggerId, VisitId, WorkspaceId};

/// Whether a site records its visitors' pages.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum TrackingMode {
    /// Pages are recorded and shown live.
    #[default]
    On,
    /// Only once the page says the visitor agreed; nothing before.
    Consent,
    /// Never.
    Off,
}

/// The UTM parameters of the page a visit landed on.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub term: Option<String>,
    pub content: Option<String>,
}

/// A visitor on a site at one moment, as rules and scores see it.
#[derive(Clone, PartialEq, Debug)]
pub struct VisitorFacts {
    pub workspace_id: WorkspaceId,
    pub site_id: SiteId,
    pub contact_id: ContactId,
    pub visit_id: VisitId,
    /// The current page's URL.
    pub url: String,
    pub page_since: Timestamp,
    pub visit_started_at: Timestamp,
    pub pages_this_visit: u32,
    /// The visit's referrer (its landing page's).
    pub referrer: Option<String>,
    pub utm: Utm,
    /// 1 for a new visitor.
    pub visit_number: u32,
    /// The browser's language (a BCP 47 tag as sent).
    pub language: Option<String>,
    /// ISO 3166-1 alpha-2, with a GeoIP database.
    pub country: Option<String>,
    /// Identified (`identify`) or gave an e-mail.
    pub identified: bool,
    pub attributes: Attributes,
    /// Names of the events the page tracked during this visit, oldest first.
    pub events_this_visit: Vec<String>,
    /// The pointer left towards the browser's tabs during this visit.
    pub exit_intent: bool,
    pub lead_score: i32,
    /// The visitor has a conversation that is neither resolved nor closed.
    pub chatting: bool,
}

/// What just happened to a live visitor.
#[derive(Clone, PartialEq, Debug)]
pub enum Moment {
    /// Their first tab of a visit (or after a restart) connected and said where it is.
    Arrived,
    /// They opened another page.
    Page,
    /// The page tracked an event (`Switchboard.track`).
    Event { name: String, data: Attributes },
    /// The pointer left towards the browser's tabs.
    ExitIntent,
    /// Their profile changed (identify, pre-chat form, attributes).
    Profile,
    /// Their last tab closed.
    Left,
}

/// A proactive message to show a live visitor: an agent's invite, or a rule's message
/// (or only "open the widget": no body).
#[derive(Clone, PartialEq, Debug)]
pub struct NewInvitation {
    pub site_id: SiteId,
    pub contact_id: ContactId,
    pub body: Option<String>,
    /// From this agent; `None`: from the team.
    pub agent_id: Option<AgentId>,
    /// The rule that sends it; `None`: an agent by hand.
    pub trigger_id: Option<TriggerId>,
    /// Open the panel rather than a preview bubble.
    pub open: bool,
    pub typing_ms: u32,
}

/// A proactive message as shown, kept so a reply can start its conversation and its
/// rule can count what came of it.
#[derive(Clone, PartialEq, Debug)]
pub struct Invitation {
    pub id: InvitationId,
    pub workspace_id: WorkspaceId,
    pub site_id: SiteId,
    pub contact_id: ContactId,
    pub body: Option<String>,
    pub agent_id: Option<AgentId>,
    pub trigger_id: Option<TriggerId>,
    pub open: bool,
    pub typing_ms: u32,
    pub created_at: Timestamp,
}
