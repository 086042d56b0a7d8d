//! Lead scoring (issue 15): which points a visitor's moment earns under the workspace's
//! scoring rules, how a score decays, and which conversation and rule a conversion is
//! credited to. Pure; core reads the facts and the store keeps what was earned.
//!
//! Decay: `score(t) = Σ points × 0.5^((t − earned)/half_life)`. The store keeps it in
//! the equivalent incremental form, one value and the instant it was true at:
//! `score(t) = value × 0.5^((t − at)/half_life)`, and earning `p` at `t` sets
//! `value := score(t) + p, at := t` (`LeadScore::earn`). Without a half-life nothing decays.

use crate::triggers::UrlRule;
use crate::{AttributeValue, ConversationId, Moment, Timestamp, TriggerId, ValidationError, VisitorFacts, non_empty};

const DAY_MS: f64 = 24.0 * 60.0 * 60.0 * 1000.0;
/// How far back a conversion looks for the conversation and the rule before it.
pub const ATTRIBUTION_WINDOW_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// One way a contact earns points.
#[derive(Clone, PartialEq, Debug)]
pub enum ScoringRule {
    /// A visit that opens a matching page: once per visit.
    Page { url: UrlRule, points: i32 },
    /// A visit that lasts this long: once per visit.
    TimeOnSite { minutes: u32, points: i32 },
    /// The contact's visit count reaching this: once.
    Visits { at_least: u32, points: i32 },
    /// Each time the page tracks this event.
    Event { name: String, points: i32 },
    /// The contact's attribute being set (to `value` when given): once.
    Attribute { key: String, value: Option<AttributeValue>, points: i32 },
}

impl ScoringRule {
    pub fn points(&self) -> i32 {
        match self {
            ScoringRule::Page { points, .. }
            | ScoringRule::TimeOnSite { points, .. }
            | ScoringRule::Visits { points, .. }
            | ScoringRule::Event { points, .. }
            | ScoringRule::Attribute { points, .. } => *points,
        }
    }

    /// A name for the rule made of what it says, so an award survives reordering the
    /// rules and a changed rule (a new value) earns afresh.
    pub fn key(&self) -> String {
        match self {
            ScoringRule::Page { url, .. } => format!("page:{:?}:{}", url.matching, url.value),
            ScoringRule::TimeOnSite { minutes, .. } => format!("time_on_site:{minutes}"),
            ScoringRule::Visits { at_least, .. } => format!("visits:{at_least}"),
            ScoringRule::Event { name, .. } => format!("event:{name}"),
            ScoringRule::Attribute { key, value, .. } => format!("attribute:{key}:{value:?}"),
        }
    }
}

/// The workspace's scoring settings.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct Scoring {
    pub rules: Vec<ScoringRule>,
    pub half_life_days: Option<u16>,
    /// A conversation started by a contact with at least this score gets `high` priority.
    pub priority_at: Option<i32>,
}

impl Scoring {
    /// At most 100 rules, points within ±1000, a half-life of 1 to 365 days, names and
    /// keys of 1 to 100 characters.
    pub fn check(mut self) -> Result<Self, ValidationError> {
        if self.rules.len() > 100 {
            return Err(ValidationError::new("rules", "must be at most 100"));
        }
        for rule in &mut self.rules {
            if !(-1000..=1000).contains(&rule.points()) {
                return Err(ValidationError::new("rules.points", "must be between -1000 and 1000"));
            }
            match rule {
                ScoringRule::Event { name, .. } => *name = non_empty("rules.name", name, 100)?,
                ScoringRule::Attribute { key, .. } => *key = non_empty("rules.key", key, 100)?,
                _ => {}
            }
        }
        if let Some(days) = self.half_life_days
            && !(1..=365).contains(&days)
        {
            return Err(ValidationError::new("half_life_days", "must be 1 to 365"));
        }
        Ok(self)
    }
}

/// How often points may be earned from one rule.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Once {
    /// Each time.
    Never,
    /// Once per visit (the string names the visit).
    PerVisit(String),
    /// Once per contact.
    Ever,
}

/// Points a moment earns from one rule, if the store has not given them already for
/// the same `(rule_key, once)`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Earning {
    pub rule_key: String,
    pub once: Once,
    pub points: i32,
}

/// What the visitor's moment earns (`None`: a time re-check, no new moment). Rules
/// whose "once" was already given are listed again; the store keeps each once.
pub fn earnings(scoring: &Scoring, facts: &VisitorFacts, moment: Option<&Moment>, now: Timestamp) -> Vec<Earning> {
    let visit = Once::PerVisit(facts.visit_id.to_string());
    let mut out = Vec::new();
    for rule in &scoring.rules {
        let once = match rule {
            ScoringRule::Page { url, .. } if url.matches(&facts.url) => visit.clone(),
            ScoringRule::TimeOnSite { minutes, .. } if now >= time_on_site_due(facts, *minutes) => visit.clone(),
            ScoringRule::Visits { at_least, .. } if facts.visit_number >= *at_least => Once::Ever,
            ScoringRule::Event { name, .. } if matches!(moment, Some(Moment::Event { name: n, .. }) if n == name) => Once::Never,
            ScoringRule::Attribute { key, value, .. } => match (facts.attributes.get(key), value) {
                (Some(got), Some(want)) if got == want => Once::Ever,
                (Some(_), None) => Once::Ever,
                _ => continue,
            },
            _ => continue,
        };
        out.push(Earning { rule_key: rule.key(), once, points: rule.points() });
    }
    out
}

fn time_on_site_due(facts: &VisitorFacts, minutes: u32) -> Timestamp {
    facts.visit_started_at.plus_millis(i64::from(minutes) * 60_000)
}

/// When a time-on-site rule not yet due will be (the earliest), for a re-check.
pub fn next_due(scoring: &Scoring, facts: &VisitorFacts, now: Timestamp) -> Option<Timestamp> {
    scoring
        .rules
        .iter()
        .filter_map(|r| match r {
            ScoringRule::TimeOnSite { minutes, .. } => Some(time_on_site_due(facts, *minutes)),
            _ => None,
        })
        .filter(|at| *at > now)
        .min()
}

/// A contact's lead score as stored: its value at an instant, and the half-life it
/// decays with from then (the workspace's when it last changed; `None`: no decay).
#[derive(Clone, Copy, PartialEq, Debug, Default)]
pub struct LeadScore {
    pub value: f64,
    pub at: Timestamp,
    pub half_life_days: Option<u16>,
}

impl LeadScore {
    /// The score at `t` (never earlier than it was stored).
    pub fn value_at(self, t: Timestamp) -> f64 {
        match self.half_life_days {
            None => self.value,
            Some(days) => {
                let elapsed = (t.0 - self.at.0).max(0) as f64;
                self.value * 0.5f64.powf(elapsed / (f64::from(days) * DAY_MS))
            }
        }
    }

    /// The same score restated at `t`: what readers are shown.
    pub fn decayed_to(self, t: Timestamp) -> Self {
        Self { value: self.value_at(t), at: t.max(self.at), ..self }
    }

    /// The score after earning `points` at `t`; from then on it decays with
    /// `half_life_days` (the workspace's setting now).
    pub fn earn(self, points: i32, t: Timestamp, half_life_days: Option<u16>) -> Self {
        Self { value: self.value_at(t) + f64::from(points), at: t.max(self.at), half_life_days }
    }

    /// The whole-point score at `t`.
    pub fn shown_at(self, t: Timestamp) -> i32 {
        shown(self.value_at(t))
    }
}

/// The whole-point score shown (rounded half away from zero).
pub fn shown(score: f64) -> i32 {
    score.round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

/// What a conversion at `at` is credited to: the latest conversation and the latest
/// rule shown before it, each only within 30 days.
pub fn attribute(
    at: Timestamp,
    conversation: Option<(ConversationId, Timestamp)>,
    shown_rule: Option<(TriggerId, Timestamp)>,
) -> (Option<ConversationId>, Option<TriggerId>) {
    let recent = |t: Timestamp| t <= at && at.0 - t.0 <= ATTRIBUTION_WINDOW_MS;
    (conversation.filter(|(_, t)| recent(*t)).map(|(c, _)| c), shown_rule.filter(|(_, t)| recent(*t)).map(|(r, _)| r))
}

#[cfg(test)]
mod tests;
