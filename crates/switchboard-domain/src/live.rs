//! Live visitors (issue 15): what a visitor's tracked visit looks like at a moment.
//! `VisitorFacts` is the seam between live tracking (which builds it from a visitor's
//! pages and frames) and proactive rules and lead scoring (which only read it), so each
//! side is pure and testable alone.

use crate::{
    AgentId, Attributes, ContactId, ConversationId, DeviceInfo, InvitationId, PageView, SiteId, Timestamp, TriggerId, VisitId, WorkspaceId,
};

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

impl TrackingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::On => "on",
            Self::Consent => "consent",
            Self::Off => "off",
        }
    }

    /// The mode a stored name means; `None` for any other text.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::On, Self::Consent, Self::Off].into_iter().find(|m| m.as_str() == name)
    }
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

/// How long a visit lasts without a page or a frame: the next page after this starts a
/// new visit.
pub const VISIT_IDLE_MS: i64 = 30 * 60 * 1000;

impl Utm {
    /// The `utm_*` parameters of a URL's query (the first of each; empty ones left out).
    pub fn from_url(url: &str) -> Self {
        let mut utm = Self::default();
        let query = url.split_once('?').map(|(_, q)| q.split('#').next().unwrap_or("")).unwrap_or("");
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode_component(value);
            if value.is_empty() {
                continue;
            }
            let slot = match key {
                "utm_source" => &mut utm.source,
                "utm_medium" => &mut utm.medium,
                "utm_campaign" => &mut utm.campaign,
                "utm_term" => &mut utm.term,
                "utm_content" => &mut utm.content,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.chars().take(200).collect());
            }
        }
        utm
    }
}

/// Percent-decoding of a query component (`+` is a space); bytes that do not make
/// UTF-8 are replaced.
fn decode_component(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One visit of a contact to a site, as stored: a visit starts with a page after
/// [`VISIT_IDLE_MS`] without one (or the contact's first).
#[derive(Clone, PartialEq, Debug)]
pub struct Visit {
    pub id: VisitId,
    pub workspace_id: WorkspaceId,
    pub site_id: SiteId,
    pub contact_id: ContactId,
    /// 1 for the contact's first visit to the site.
    pub number: u32,
    pub started_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub referrer: Option<String>,
    pub utm: Utm,
    pub device: DeviceInfo,
    /// ISO 3166-1 alpha-2, with a GeoIP database.
    pub country: Option<String>,
}

/// A visit with its pages, oldest first.
#[derive(Clone, PartialEq, Debug)]
pub struct VisitWithPages {
    pub visit: Visit,
    pub pages: Vec<PageView>,
}

/// A kept invitation: the one shown, and what came of it.
#[derive(Clone, PartialEq, Debug)]
pub struct StoredInvitation {
    pub invitation: Invitation,
    pub answered_at: Option<Timestamp>,
    pub conversation_id: Option<ConversationId>,
}

/// Where a live visitor stands with the team.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ChatState {
    /// No conversation open.
    #[default]
    None,
    /// A conversation open with nobody on it (unassigned or queued).
    Waiting,
    /// An agent has it.
    Chatting,
}

/// A live visitor's conversation, as the live list shows it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct LiveChat {
    pub state: ChatState,
    pub conversation_id: Option<ConversationId>,
    pub agent_id: Option<AgentId>,
}

/// A row of the live list: one contact on one site now, on the page they opened last
/// in any of their tabs.
#[derive(Clone, PartialEq, Debug)]
pub struct LiveVisitor {
    pub workspace_id: WorkspaceId,
    pub site_id: SiteId,
    pub contact_id: ContactId,
    pub visit_id: VisitId,
    pub url: String,
    pub title: Option<String>,
    pub page_since: Timestamp,
    pub visit_started_at: Timestamp,
    pub pages_this_visit: u32,
    pub referrer: Option<String>,
    pub utm: Utm,
    pub visit_number: u32,
    pub device: DeviceInfo,
    pub country: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub lead_score: i32,
    pub chat: LiveChat,
    pub tabs: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utm_parameters_are_read_from_the_landing_url_decoded() {
        let utm = Utm::from_url("https://shop.example/p?utm_source=news%20letter&utm_medium=email&x=1&utm_campaign=spring+sale#top");
        assert_eq!(utm.source.as_deref(), Some("news letter"));
        assert_eq!(utm.medium.as_deref(), Some("email"));
        assert_eq!(utm.campaign.as_deref(), Some("spring sale"));
        assert_eq!(utm.term, None);
        assert_eq!(Utm::from_url("https://shop.example/"), Utm::default());
        assert_eq!(Utm::from_url("https://x/?utm_source=&utm_term=%zz").term.as_deref(), Some("%zz"), "a broken escape is kept as written");
    }

    #[test]
    fn tracking_modes_read_back_from_their_names_only() {
        for m in [TrackingMode::On, TrackingMode::Consent, TrackingMode::Off] {
            assert_eq!(TrackingMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(TrackingMode::parse("ON"), None);
    }
}
