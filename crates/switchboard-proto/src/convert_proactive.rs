//! Conversions from the domain's proactive rules, scoring and conversions (issue 15) to
//! their wire bodies. Kept apart from `convert.rs` so the two halves of issue 15 touch
//! different files. Parsing the other way (which can fail) is the server's.

use switchboard_domain::scoring as ds;
use switchboard_domain::triggers as dt;

use crate::convert::attribute_json;
use crate::*;

impl From<dt::UrlMatch> for UrlMatch {
    fn from(m: dt::UrlMatch) -> Self {
        match m {
            dt::UrlMatch::Contains => UrlMatch::Contains,
            dt::UrlMatch::Equals => UrlMatch::Equals,
            dt::UrlMatch::Pattern => UrlMatch::Pattern,
        }
    }
}

impl From<UrlMatch> for dt::UrlMatch {
    fn from(m: UrlMatch) -> Self {
        match m {
            UrlMatch::Contains => dt::UrlMatch::Contains,
            UrlMatch::Equals => dt::UrlMatch::Equals,
            UrlMatch::Pattern => dt::UrlMatch::Pattern,
        }
    }
}

impl From<dt::UtmField> for UtmField {
    fn from(f: dt::UtmField) -> Self {
        match f {
            dt::UtmField::Source => UtmField::Source,
            dt::UtmField::Medium => UtmField::Medium,
            dt::UtmField::Campaign => UtmField::Campaign,
            dt::UtmField::Term => UtmField::Term,
            dt::UtmField::Content => UtmField::Content,
        }
    }
}

impl From<UtmField> for dt::UtmField {
    fn from(f: UtmField) -> Self {
        match f {
            UtmField::Source => dt::UtmField::Source,
            UtmField::Medium => dt::UtmField::Medium,
            UtmField::Campaign => dt::UtmField::Campaign,
            UtmField::Term => dt::UtmField::Term,
            UtmField::Content => dt::UtmField::Content,
        }
    }
}

impl From<&dt::Condition> for TriggerCondition {
    fn from(c: &dt::Condition) -> Self {
        use dt::Condition as C;
        match c {
            C::TimeOnPage { seconds } => TriggerCondition::TimeOnPage { seconds: *seconds },
            C::TimeOnSite { seconds } => TriggerCondition::TimeOnSite { seconds: *seconds },
            C::Url(u) => TriggerCondition::Url { matching: u.matching.into(), value: u.value.clone() },
            C::Pages { at_least } => TriggerCondition::Pages { at_least: *at_least },
            C::Referrer(u) => TriggerCondition::Referrer { matching: u.matching.into(), value: u.value.clone() },
            C::Utm { field, value } => TriggerCondition::Utm { field: (*field).into(), value: value.clone() },
            C::Returning(r) => TriggerCondition::Returning { returning: *r },
            C::Language(l) => TriggerCondition::Language { languages: l.clone() },
            C::Country(c) => TriggerCondition::Country { countries: c.clone() },
            C::Identified(i) => TriggerCondition::Identified { identified: *i },
            C::Attribute { key, value } => TriggerCondition::Attribute { key: key.clone(), value: attribute_json(value) },
            C::Event { name } => TriggerCondition::Event { name: name.clone() },
            C::ExitIntent => TriggerCondition::ExitIntent,
            C::LeadScore { at_least } => TriggerCondition::LeadScore { at_least: *at_least },
            C::AgentsOnline(o) => TriggerCondition::AgentsOnline { online: *o },
            C::BusinessHours(o) => TriggerCondition::BusinessHours { open: *o },
        }
    }
}

impl From<&dt::Action> for TriggerAction {
    fn from(a: &dt::Action) -> Self {
        match a {
            dt::Action::Message { body, agent_id, typing_seconds } => {
                TriggerAction::Message { body: body.clone(), agent_id: agent_id.map(|a| a.0), typing_seconds: *typing_seconds }
            }
            dt::Action::OpenWidget => TriggerAction::OpenWidget,
            dt::Action::SetAttributes(attrs) => {
                TriggerAction::SetAttributes { attributes: attrs.iter().map(|(k, v)| (k.clone(), attribute_json(v))).collect() }
            }
            dt::Action::AddLabels(labels) => TriggerAction::AddLabels { labels: labels.iter().map(|l| l.as_str().to_owned()).collect() },
            dt::Action::SetPriority(p) => TriggerAction::SetPriority { priority: (*p).into() },
        }
    }
}

impl From<&dt::Trigger> for Trigger {
    fn from(t: &dt::Trigger) -> Self {
        let (frequency, every_days) = match t.frequency {
            dt::Frequency::OncePerVisitor => (TriggerFrequency::OncePerVisitor, None),
            dt::Frequency::OncePerVisit => (TriggerFrequency::OncePerVisit, None),
            dt::Frequency::EveryDays(d) => (TriggerFrequency::EveryDays, Some(d)),
        };
        Self {
            id: t.id.0,
            site_id: t.site_id.0,
            name: t.name.clone(),
            enabled: t.enabled,
            conditions: t.conditions.iter().map(Into::into).collect(),
            actions: t.actions.iter().map(Into::into).collect(),
            frequency,
            every_days,
            stats: TriggerStats {
                fired: t.stats.fired,
                opened: t.stats.opened,
                answered: t.stats.answered,
                converted: t.stats.converted,
                conversion_value: t.stats.conversion_value,
            },
            created_at: t.created_at.0,
            updated_at: t.updated_at.0,
        }
    }
}

impl From<&ds::ScoringRule> for ScoringRule {
    fn from(r: &ds::ScoringRule) -> Self {
        match r {
            ds::ScoringRule::Page { url, points } => {
                ScoringRule::Page { matching: url.matching.into(), value: url.value.clone(), points: *points }
            }
            ds::ScoringRule::TimeOnSite { minutes, points } => ScoringRule::TimeOnSite { minutes: *minutes, points: *points },
            ds::ScoringRule::Visits { at_least, points } => ScoringRule::Visits { at_least: *at_least, points: *points },
            ds::ScoringRule::Event { name, points } => ScoringRule::Event { name: name.clone(), points: *points },
            ds::ScoringRule::Attribute { key, value, points } => {
                ScoringRule::Attribute { key: key.clone(), value: value.as_ref().map(attribute_json), points: *points }
            }
        }
    }
}

impl From<&ds::Scoring> for Scoring {
    fn from(s: &ds::Scoring) -> Self {
        Self { rules: s.rules.iter().map(Into::into).collect(), half_life_days: s.half_life_days, priority_at: s.priority_at }
    }
}

impl From<&dt::ContactFiring> for RuleFiring {
    fn from(f: &dt::ContactFiring) -> Self {
        Self {
            trigger_id: f.trigger_id.0,
            site_id: f.site_id.0,
            visit_id: f.visit_id.0,
            at: f.at.0,
            invitation_id: f.invitation_id.map(|i| i.0),
            opened_at: f.opened_at.map(|t| t.0),
            answered_at: f.answered_at.map(|t| t.0),
        }
    }
}

impl From<&dt::Conversion> for Conversion {
    fn from(c: &dt::Conversion) -> Self {
        Self {
            id: c.id.0,
            site_id: c.site_id.0,
            contact_id: c.contact_id.0,
            event: c.event.clone(),
            value: c.value,
            at: c.at.0,
            conversation_id: c.conversation_id.map(|i| i.0),
            trigger_id: c.trigger_id.map(|i| i.0),
        }
    }
}
