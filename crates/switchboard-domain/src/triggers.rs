//! Proactive rules ("triggers", issue 15): when a site's rule fires for a live visitor.
//! Pure: the visitor's `VisitorFacts`, the site's state (agents online, business hours
//! open) and the rule's last firing for this contact come in, with the time; a verdict
//! comes out (fire now, not yet but maybe at a known instant, or not now). Core reads
//! the facts, the state and the firings, and acts on the verdict.

use crate::{
    AgentId, AttributeValue, Attributes, ContactId, ConversationId, ConversionId, InvitationId, Label, Priority, SiteId, Timestamp,
    TriggerId, ValidationError, VisitId, VisitorFacts, WorkspaceId, non_empty,
};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How a rule compares a URL (or referrer) with its value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UrlMatch {
    /// The value appears anywhere in the URL.
    Contains,
    /// The URL is exactly the value.
    Equals,
    /// The whole URL matches the value, where `*` stands for any run of characters
    /// (none included): `*/pricing*`.
    Pattern,
}

/// A URL comparison. Comparisons are literal (case-sensitive), as URLs' paths are.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UrlRule {
    pub matching: UrlMatch,
    pub value: String,
}

impl UrlRule {
    /// Checked: a value of 1 to 2000 characters.
    pub fn new(field: &'static str, matching: UrlMatch, value: &str) -> Result<Self, ValidationError> {
        let value = non_empty(field, value, 2000)?;
        Ok(Self { matching, value })
    }

    pub fn matches(&self, url: &str) -> bool {
        match self.matching {
            UrlMatch::Contains => url.contains(&self.value),
            UrlMatch::Equals => url == self.value,
            UrlMatch::Pattern => glob(&self.value, url),
        }
    }
}

/// Whether all of `text` matches `pattern`, where `*` matches any run of characters.
/// Greedy with backtracking to the last star: linear in practice, never exponential.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A UTM parameter a rule looks at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UtmField {
    Source,
    Medium,
    Campaign,
    Term,
    Content,
}

/// One condition of a rule; a rule fires when all of its conditions hold.
#[derive(Clone, PartialEq, Debug)]
pub enum Condition {
    TimeOnPage {
        seconds: u32,
    },
    TimeOnSite {
        seconds: u32,
    },
    Url(UrlRule),
    Pages {
        at_least: u32,
    },
    /// A visit without a referrer never matches.
    Referrer(UrlRule),
    /// Case-insensitive equality; a visit without that parameter never matches.
    Utm {
        field: UtmField,
        value: String,
    },
    Returning(bool),
    /// Primary subtags, lower case (`ar`, `tr`): `ar-EG` is `ar`.
    Language(Vec<String>),
    /// ISO 3166-1 alpha-2, upper case; an unknown country never matches.
    Country(Vec<String>),
    Identified(bool),
    Attribute {
        key: String,
        value: AttributeValue,
    },
    /// The page tracked this event during this visit.
    Event {
        name: String,
    },
    ExitIntent,
    LeadScore {
        at_least: i32,
    },
    AgentsOnline(bool),
    BusinessHours(bool),
}

/// What a rule does when it fires.
#[derive(Clone, PartialEq, Debug)]
pub enum Action {
    /// A message as this agent (`None`: the team), after "typing…" for a while.
    Message {
        body: String,
        agent_id: Option<AgentId>,
        typing_seconds: u8,
    },
    OpenWidget,
    SetAttributes(Attributes),
    AddLabels(Vec<Label>),
    SetPriority(Priority),
}

/// How often a rule may fire for one visitor.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Frequency {
    OncePerVisitor,
    OncePerVisit,
    /// At most once in this many days (1 to 365).
    EveryDays(u16),
}

/// A rule as its admins write it: checked by `TriggerDraft::check`.
#[derive(Clone, PartialEq, Debug)]
pub struct TriggerDraft {
    pub name: String,
    pub enabled: bool,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
    pub frequency: Frequency,
}

impl TriggerDraft {
    /// The rules a stored rule keeps: a name of 1 to 100 characters, at most 20
    /// conditions, 1 to 10 actions, message bodies of 1 to 2000 characters and at most
    /// 10 seconds of typing, 1 to 365 days between firings.
    pub fn check(mut self) -> Result<Self, ValidationError> {
        self.name = non_empty("name", &self.name, 100)?;
        if self.conditions.len() > 20 {
            return Err(ValidationError::new("conditions", "must be at most 20"));
        }
        if self.actions.is_empty() || self.actions.len() > 10 {
            return Err(ValidationError::new("actions", "must be 1 to 10"));
        }
        for action in &mut self.actions {
            if let Action::Message { body, typing_seconds, .. } = action {
                *body = non_empty("actions.body", body, 2000)?;
                if *typing_seconds > 10 {
                    return Err(ValidationError::new("actions.typing_seconds", "must be at most 10"));
                }
            }
            if let Action::AddLabels(labels) = action
                && labels.is_empty()
            {
                return Err(ValidationError::new("actions.labels", "must not be empty"));
            }
        }
        for condition in &mut self.conditions {
            match condition {
                Condition::Language(list) => {
                    *list = list.iter().map(|l| primary_subtag(l)).collect();
                    if list.is_empty() || list.iter().any(|l| l.is_empty()) {
                        return Err(ValidationError::new("conditions.languages", "must be language tags"));
                    }
                }
                Condition::Country(list) => {
                    *list = list.iter().map(|c| c.trim().to_ascii_uppercase()).collect();
                    if list.is_empty() || list.iter().any(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
                        return Err(ValidationError::new("conditions.countries", "must be two-letter country codes"));
                    }
                }
                Condition::Utm { value, .. } => *value = non_empty("conditions.value", value, 200)?,
                Condition::Attribute { key, .. } => *key = non_empty("conditions.key", key, 100)?,
                Condition::Event { name } => *name = non_empty("conditions.name", name, 100)?,
                _ => {}
            }
        }
        if let Frequency::EveryDays(days) = self.frequency
            && !(1..=365).contains(&days)
        {
            return Err(ValidationError::new("every_days", "must be 1 to 365"));
        }
        Ok(self)
    }
}

/// How a rule did with the visitors it fired for.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct TriggerStats {
    pub fired: u64,
    pub opened: u64,
    pub answered: u64,
    pub converted: u64,
    pub conversion_value: f64,
}

/// A site's stored rule.
#[derive(Clone, PartialEq, Debug)]
pub struct Trigger {
    pub id: TriggerId,
    pub workspace_id: WorkspaceId,
    pub site_id: SiteId,
    pub name: String,
    pub enabled: bool,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
    pub frequency: Frequency,
    pub stats: TriggerStats,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A rule's latest firing for one contact: what its cap reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Firing {
    pub visit_id: VisitId,
    pub at: Timestamp,
}

/// One time a rule fired for a contact, with what came of its invitation: what the
/// contact's export shows.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ContactFiring {
    pub trigger_id: TriggerId,
    pub site_id: SiteId,
    pub visit_id: VisitId,
    pub at: Timestamp,
    pub invitation_id: Option<InvitationId>,
    pub opened_at: Option<Timestamp>,
    pub answered_at: Option<Timestamp>,
}

/// A site's conversion event tracked by a visitor, with what it is credited to.
#[derive(Clone, PartialEq, Debug)]
pub struct Conversion {
    pub id: ConversionId,
    pub workspace_id: WorkspaceId,
    pub site_id: SiteId,
    pub contact_id: ContactId,
    pub event: String,
    /// The event's `value`, when it was a number.
    pub value: Option<f64>,
    pub at: Timestamp,
    pub conversation_id: Option<ConversationId>,
    pub trigger_id: Option<TriggerId>,
}

/// What rules did for a visitor who had no open conversation, for the next one they
/// start: labels to add, a priority to give.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct PendingActions {
    pub labels: Vec<Label>,
    pub priority: Option<Priority>,
}

impl PendingActions {
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.priority.is_none()
    }

    /// Adds later actions: labels accumulate (once each), the latest priority wins.
    pub fn merge(&mut self, later: PendingActions) {
        for l in later.labels {
            if !self.labels.contains(&l) {
                self.labels.push(l);
            }
        }
        if later.priority.is_some() {
            self.priority = later.priority;
        }
    }
}

/// What the site is like now, besides the visitor.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SiteState {
    /// At least one agent is available.
    pub agents_online: bool,
    /// Within business hours (always, for a site without them).
    pub open: bool,
}

/// What a rule should do for a visitor now.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    Fire,
    /// Everything holds but time: ask again at this instant (the visitor's facts may
    /// have changed by then, so it is asked, not assumed).
    At(Timestamp),
    /// Not now; only a new moment of the visitor's can change that.
    No,
}

/// What the visitor did with an invitation the widget showed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InvitationAction {
    Shown,
    Opened,
    Dismissed,
}

/// `en-US` → `en`; lower case.
pub fn primary_subtag(tag: &str) -> String {
    tag.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase()
}

/// Whether one condition holds now, time conditions aside (see `due`).
pub fn holds(condition: &Condition, facts: &VisitorFacts, site: SiteState) -> bool {
    match condition {
        Condition::TimeOnPage { .. } | Condition::TimeOnSite { .. } => true,
        Condition::Url(rule) => rule.matches(&facts.url),
        Condition::Pages { at_least } => facts.pages_this_visit >= *at_least,
        Condition::Referrer(rule) => facts.referrer.as_deref().is_some_and(|r| rule.matches(r)),
        Condition::Utm { field, value } => {
            let utm = &facts.utm;
            let got = match field {
                UtmField::Source => &utm.source,
                UtmField::Medium => &utm.medium,
                UtmField::Campaign => &utm.campaign,
                UtmField::Term => &utm.term,
                UtmField::Content => &utm.content,
            };
            got.as_deref().is_some_and(|g| g.eq_ignore_ascii_case(value))
        }
        Condition::Returning(returning) => (facts.visit_number > 1) == *returning,
        Condition::Language(list) => facts.language.as_deref().is_some_and(|l| list.iter().any(|want| *want == primary_subtag(l))),
        Condition::Country(list) => facts.country.as_deref().is_some_and(|c| list.iter().any(|want| want.eq_ignore_ascii_case(c))),
        Condition::Identified(identified) => facts.identified == *identified,
        Condition::Attribute { key, value } => facts.attributes.get(key) == Some(value),
        Condition::Event { name } => facts.events_this_visit.iter().any(|e| e == name),
        Condition::ExitIntent => facts.exit_intent,
        Condition::LeadScore { at_least } => facts.lead_score >= *at_least,
        Condition::AgentsOnline(online) => site.agents_online == *online,
        Condition::BusinessHours(open) => site.open == *open,
    }
}

/// When the rule's time conditions (time on page, time on site) all hold: the latest
/// of their instants (`None`: the rule has none, so time never holds it back).
pub fn due(conditions: &[Condition], facts: &VisitorFacts) -> Option<Timestamp> {
    conditions
        .iter()
        .filter_map(|c| match c {
            Condition::TimeOnPage { seconds } => Some(facts.page_since.plus_millis(i64::from(*seconds) * 1000)),
            Condition::TimeOnSite { seconds } => Some(facts.visit_started_at.plus_millis(i64::from(*seconds) * 1000)),
            _ => None,
        })
        .max()
}

/// Whether the cap lets the rule fire now, given its latest firing for this contact;
/// with `EveryDays`, `Err(at)` says when it will.
pub fn cap_allows(frequency: Frequency, last: Option<Firing>, facts: &VisitorFacts, now: Timestamp) -> Result<(), Option<Timestamp>> {
    let Some(last) = last else { return Ok(()) };
    match frequency {
        Frequency::OncePerVisitor => Err(None),
        Frequency::OncePerVisit if last.visit_id == facts.visit_id => Err(None),
        Frequency::OncePerVisit => Ok(()),
        Frequency::EveryDays(days) => {
            let free_at = last.at.plus_millis(i64::from(days) * DAY_MS);
            if now >= free_at { Ok(()) } else { Err(Some(free_at)) }
        }
    }
}

/// Whether a site's rule fires for this visitor now. A disabled rule, a visitor who is
/// chatting, a condition that fails or a spent cap say `No`; only time left (on the
/// page, on the site, or before an `EveryDays` cap frees) says `At`.
pub fn evaluate(trigger: &Trigger, facts: &VisitorFacts, site: SiteState, last: Option<Firing>, now: Timestamp) -> Verdict {
    if !trigger.enabled || facts.chatting || trigger.site_id != facts.site_id {
        return Verdict::No;
    }
    if !trigger.conditions.iter().all(|c| holds(c, facts, site)) {
        return Verdict::No;
    }
    let cap_free_at = match cap_allows(trigger.frequency, last, facts, now) {
        Ok(()) => None,
        Err(None) => return Verdict::No,
        Err(Some(at)) => Some(at),
    };
    match due(&trigger.conditions, facts).max(cap_free_at) {
        Some(at) if at > now => Verdict::At(at),
        _ => Verdict::Fire,
    }
}

#[cfg(test)]
mod tests;
