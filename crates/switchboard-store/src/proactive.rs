//! Proactive rules, lead scores and conversions in the store (issue 15): a site's rules
//! with their counts, each rule's firings per contact (what caps read), the workspace's
//! scoring rules, the points a contact earned (each "once" kept once), what rules left
//! for a visitor's next conversation, and conversions. The JSON both backends write for
//! conditions, actions and scoring rules is defined here, once.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_domain::scoring::{Earning, LeadScore, Scoring, ScoringRule};
use switchboard_domain::triggers::*;
use switchboard_domain::*;
use uuid::Uuid;

use crate::Result;
use crate::codec::corrupt;

/// A rule that fired for a visitor: what its cap reads next time, and (when it showed
/// an invitation) what the widget's and the visitor's answers are counted against.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FiringRecord {
    pub trigger_id: TriggerId,
    pub contact_id: ContactId,
    pub visit_id: VisitId,
    pub at: Timestamp,
    pub invitation_id: Option<InvitationId>,
}

/// What came of a rule's invitation, counted once per invitation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InvitationOutcome {
    Opened,
    Answered,
}

/// Position in a site's conversions, newest first: the last one of a page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ConversionCursor {
    pub at: Timestamp,
    pub id: ConversionId,
}

#[async_trait]
pub trait Proactive: Send + Sync {
    /// Stores a new rule; its counts start at zero whatever `stats` says.
    async fn create_trigger(&self, trigger: &Trigger) -> Result<()>;
    /// The site's rules with their counts, oldest first.
    async fn triggers(&self, ws: WorkspaceId, site: SiteId) -> Result<Vec<Trigger>>;
    /// `NotFound(Trigger)` when the workspace has no such rule.
    async fn trigger(&self, ws: WorkspaceId, id: TriggerId) -> Result<Trigger>;
    /// Replaces what the rule says; its counts and firings stay.
    async fn update_trigger(&self, ws: WorkspaceId, id: TriggerId, draft: &TriggerDraft, at: Timestamp) -> Result<Trigger>;
    /// Deletes the rule with its firings; conversions credited to it keep their id.
    async fn delete_trigger(&self, ws: WorkspaceId, id: TriggerId) -> Result<()>;
    /// Each rule's latest firing for this contact.
    async fn last_firings(&self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<(TriggerId, Firing)>>;
    /// Every firing for this contact, newest first (the contact's export).
    async fn contact_firings(&self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<ContactFiring>>;
    /// Records a firing and counts it (`fired`), in one transaction.
    async fn record_firing(&self, ws: WorkspaceId, firing: &FiringRecord) -> Result<()>;
    /// Counts the outcome for the rule that showed this invitation, the first time only;
    /// `false` when it was counted already or no rule showed it.
    async fn count_invitation(&self, ws: WorkspaceId, invitation: InvitationId, outcome: InvitationOutcome, at: Timestamp) -> Result<bool>;
    /// The latest rule that showed the contact an invitation on the site at or before `at`.
    async fn latest_shown_rule(
        &self,
        ws: WorkspaceId,
        site: SiteId,
        contact: ContactId,
        at: Timestamp,
    ) -> Result<Option<(TriggerId, Timestamp)>>;
    /// The contact's latest conversation on the site started at or before `at`.
    async fn latest_conversation(
        &self,
        ws: WorkspaceId,
        site: SiteId,
        contact: ContactId,
        at: Timestamp,
    ) -> Result<Option<(ConversationId, Timestamp)>>;
    /// Stores a conversion and counts it for its rule (`converted`, `conversion_value`).
    async fn record_conversion(&self, conversion: &Conversion) -> Result<()>;
    /// A site's conversions, newest first, after `before`.
    async fn conversions(&self, ws: WorkspaceId, site: SiteId, before: Option<ConversionCursor>, limit: u32) -> Result<Vec<Conversion>>;
    /// The contact's conversions on every site, newest first (the contact's export).
    async fn contact_conversions(&self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<Conversion>>;
    /// The workspace's scoring settings (none stored: no rules, no decay).
    async fn scoring(&self, ws: WorkspaceId) -> Result<Scoring>;
    async fn set_scoring(&self, ws: WorkspaceId, scoring: &Scoring) -> Result<()>;
    /// Adds the points of each earning not already given (an earning with a `once` is
    /// given once per `(rule_key, once)`), in one transaction, and returns the score.
    /// `NotFound(Contact)` for another workspace's contact.
    async fn earn_points(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        earnings: &[Earning],
        half_life_days: Option<u16>,
        at: Timestamp,
    ) -> Result<LeadScore>;
    /// Keeps actions for the contact's next conversation, merged with earlier ones.
    async fn add_pending(&self, ws: WorkspaceId, contact: ContactId, actions: &PendingActions) -> Result<()>;
    /// Takes (and forgets) what rules left for the contact's next conversation.
    async fn take_pending(&self, ws: WorkspaceId, contact: ContactId) -> Result<PendingActions>;
}

/// A rule's frequency as its two columns.
pub fn frequency_parts(f: Frequency) -> (&'static str, Option<i64>) {
    match f {
        Frequency::OncePerVisitor => ("once_per_visitor", None),
        Frequency::OncePerVisit => ("once_per_visit", None),
        Frequency::EveryDays(d) => ("every_days", Some(i64::from(d))),
    }
}

pub fn frequency_from_parts(kind: &str, days: Option<i64>) -> Result<Frequency> {
    Ok(match (kind, days) {
        ("once_per_visitor", _) => Frequency::OncePerVisitor,
        ("once_per_visit", _) => Frequency::OncePerVisit,
        ("every_days", Some(d)) => Frequency::EveryDays(u16::try_from(d).map_err(|_| corrupt("every_days"))?),
        _ => return Err(corrupt("frequency")),
    })
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ConditionJson {
    TimeOnPage { seconds: u32 },
    TimeOnSite { seconds: u32 },
    Url { matching: String, value: String },
    Pages { at_least: u32 },
    Referrer { matching: String, value: String },
    Utm { field: String, value: String },
    Returning { returning: bool },
    Language { languages: Vec<String> },
    Country { countries: Vec<String> },
    Identified { identified: bool },
    Attribute { key: String, value: Value },
    Event { name: String },
    ExitIntent,
    LeadScore { at_least: i32 },
    AgentsOnline { online: bool },
    BusinessHours { open: bool },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ActionJson {
    Message { body: String, agent_id: Option<Uuid>, typing_seconds: u8 },
    OpenWidget,
    SetAttributes { attributes: Value },
    AddLabels { labels: Vec<String> },
    SetPriority { priority: String },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ScoringRuleJson {
    Page { matching: String, value: String, points: i32 },
    TimeOnSite { minutes: u32, points: i32 },
    Visits { at_least: u32, points: i32 },
    Event { name: String, points: i32 },
    Attribute { key: String, value: Option<Value>, points: i32 },
}

fn url_match_name(m: UrlMatch) -> String {
    match m {
        UrlMatch::Contains => "contains",
        UrlMatch::Equals => "equals",
        UrlMatch::Pattern => "pattern",
    }
    .into()
}

fn url_rule(matching: &str, value: String) -> Result<UrlRule> {
    let matching = match matching {
        "contains" => UrlMatch::Contains,
        "equals" => UrlMatch::Equals,
        "pattern" => UrlMatch::Pattern,
        _ => return Err(corrupt("url match")),
    };
    Ok(UrlRule { matching, value })
}

const UTM: [(UtmField, &str); 5] = [
    (UtmField::Source, "source"),
    (UtmField::Medium, "medium"),
    (UtmField::Campaign, "campaign"),
    (UtmField::Term, "term"),
    (UtmField::Content, "content"),
];

fn attribute_value(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::Text(s) => Value::String(s.clone()),
        AttributeValue::Number(n) => serde_json::json!(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
    }
}

fn attribute_from(v: Value) -> Result<AttributeValue> {
    Ok(match v {
        Value::String(s) => AttributeValue::Text(s),
        Value::Bool(b) => AttributeValue::Bool(b),
        Value::Number(n) => AttributeValue::Number(n.as_f64().unwrap_or_default()),
        _ => return Err(corrupt("attribute")),
    })
}

pub fn encode_conditions(list: &[Condition]) -> String {
    let json: Vec<ConditionJson> = list
        .iter()
        .map(|c| match c {
            Condition::TimeOnPage { seconds } => ConditionJson::TimeOnPage { seconds: *seconds },
            Condition::TimeOnSite { seconds } => ConditionJson::TimeOnSite { seconds: *seconds },
            Condition::Url(u) => ConditionJson::Url { matching: url_match_name(u.matching), value: u.value.clone() },
            Condition::Pages { at_least } => ConditionJson::Pages { at_least: *at_least },
            Condition::Referrer(u) => ConditionJson::Referrer { matching: url_match_name(u.matching), value: u.value.clone() },
            Condition::Utm { field, value } => ConditionJson::Utm {
                field: UTM.iter().find(|(f, _)| f == field).map(|(_, n)| (*n).to_owned()).unwrap_or_default(),
                value: value.clone(),
            },
            Condition::Returning(r) => ConditionJson::Returning { returning: *r },
            Condition::Language(l) => ConditionJson::Language { languages: l.clone() },
            Condition::Country(c) => ConditionJson::Country { countries: c.clone() },
            Condition::Identified(i) => ConditionJson::Identified { identified: *i },
            Condition::Attribute { key, value } => ConditionJson::Attribute { key: key.clone(), value: attribute_value(value) },
            Condition::Event { name } => ConditionJson::Event { name: name.clone() },
            Condition::ExitIntent => ConditionJson::ExitIntent,
            Condition::LeadScore { at_least } => ConditionJson::LeadScore { at_least: *at_least },
            Condition::AgentsOnline(o) => ConditionJson::AgentsOnline { online: *o },
            Condition::BusinessHours(o) => ConditionJson::BusinessHours { open: *o },
        })
        .collect();
    serde_json::to_string(&json).unwrap_or_default()
}

pub fn decode_conditions(raw: &str) -> Result<Vec<Condition>> {
    let json: Vec<ConditionJson> = serde_json::from_str(raw).map_err(|_| corrupt("conditions"))?;
    json.into_iter()
        .map(|c| {
            Ok(match c {
                ConditionJson::TimeOnPage { seconds } => Condition::TimeOnPage { seconds },
                ConditionJson::TimeOnSite { seconds } => Condition::TimeOnSite { seconds },
                ConditionJson::Url { matching, value } => Condition::Url(url_rule(&matching, value)?),
                ConditionJson::Pages { at_least } => Condition::Pages { at_least },
                ConditionJson::Referrer { matching, value } => Condition::Referrer(url_rule(&matching, value)?),
                ConditionJson::Utm { field, value } => Condition::Utm {
                    field: UTM.iter().find(|(_, n)| *n == field).map(|(f, _)| *f).ok_or_else(|| corrupt("utm field"))?,
                    value,
                },
                ConditionJson::Returning { returning } => Condition::Returning(returning),
                ConditionJson::Language { languages } => Condition::Language(languages),
                ConditionJson::Country { countries } => Condition::Country(countries),
                ConditionJson::Identified { identified } => Condition::Identified(identified),
                ConditionJson::Attribute { key, value } => Condition::Attribute { key, value: attribute_from(value)? },
                ConditionJson::Event { name } => Condition::Event { name },
                ConditionJson::ExitIntent => Condition::ExitIntent,
                ConditionJson::LeadScore { at_least } => Condition::LeadScore { at_least },
                ConditionJson::AgentsOnline { online } => Condition::AgentsOnline(online),
                ConditionJson::BusinessHours { open } => Condition::BusinessHours(open),
            })
        })
        .collect()
}

pub fn encode_actions(list: &[Action]) -> String {
    let json: Vec<ActionJson> = list
        .iter()
        .map(|a| match a {
            Action::Message { body, agent_id, typing_seconds } => {
                ActionJson::Message { body: body.clone(), agent_id: agent_id.map(|a| a.0), typing_seconds: *typing_seconds }
            }
            Action::OpenWidget => ActionJson::OpenWidget,
            Action::SetAttributes(attrs) => ActionJson::SetAttributes {
                attributes: Value::Object(attrs.iter().map(|(k, v)| (k.clone(), attribute_value(v))).collect()),
            },
            Action::AddLabels(labels) => ActionJson::AddLabels { labels: labels.iter().map(|l| l.as_str().to_owned()).collect() },
            Action::SetPriority(p) => ActionJson::SetPriority { priority: p.as_str().into() },
        })
        .collect();
    serde_json::to_string(&json).unwrap_or_default()
}

pub fn decode_actions(raw: &str) -> Result<Vec<Action>> {
    let json: Vec<ActionJson> = serde_json::from_str(raw).map_err(|_| corrupt("actions"))?;
    json.into_iter()
        .map(|a| {
            Ok(match a {
                ActionJson::Message { body, agent_id, typing_seconds } => {
                    Action::Message { body, agent_id: agent_id.map(AgentId), typing_seconds }
                }
                ActionJson::OpenWidget => Action::OpenWidget,
                ActionJson::SetAttributes { attributes: Value::Object(map) } => {
                    Action::SetAttributes(map.into_iter().map(|(k, v)| Ok((k, attribute_from(v)?))).collect::<Result<_>>()?)
                }
                ActionJson::SetAttributes { .. } => return Err(corrupt("attributes")),
                ActionJson::AddLabels { labels } => Action::AddLabels(parse_labels(&labels)?),
                ActionJson::SetPriority { priority } => Action::SetPriority(Priority::parse(&priority)?),
            })
        })
        .collect()
}

pub fn encode_scoring_rules(list: &[ScoringRule]) -> String {
    let json: Vec<ScoringRuleJson> = list
        .iter()
        .map(|r| match r {
            ScoringRule::Page { url, points } => {
                ScoringRuleJson::Page { matching: url_match_name(url.matching), value: url.value.clone(), points: *points }
            }
            ScoringRule::TimeOnSite { minutes, points } => ScoringRuleJson::TimeOnSite { minutes: *minutes, points: *points },
            ScoringRule::Visits { at_least, points } => ScoringRuleJson::Visits { at_least: *at_least, points: *points },
            ScoringRule::Event { name, points } => ScoringRuleJson::Event { name: name.clone(), points: *points },
            ScoringRule::Attribute { key, value, points } => {
                ScoringRuleJson::Attribute { key: key.clone(), value: value.as_ref().map(attribute_value), points: *points }
            }
        })
        .collect();
    serde_json::to_string(&json).unwrap_or_default()
}

pub fn decode_scoring_rules(raw: &str) -> Result<Vec<ScoringRule>> {
    let json: Vec<ScoringRuleJson> = serde_json::from_str(raw).map_err(|_| corrupt("scoring rules"))?;
    json.into_iter()
        .map(|r| {
            Ok(match r {
                ScoringRuleJson::Page { matching, value, points } => ScoringRule::Page { url: url_rule(&matching, value)?, points },
                ScoringRuleJson::TimeOnSite { minutes, points } => ScoringRule::TimeOnSite { minutes, points },
                ScoringRuleJson::Visits { at_least, points } => ScoringRule::Visits { at_least, points },
                ScoringRuleJson::Event { name, points } => ScoringRule::Event { name, points },
                ScoringRuleJson::Attribute { key, value, points } => {
                    ScoringRule::Attribute { key, value: value.map(attribute_from).transpose()?, points }
                }
            })
        })
        .collect()
}

/// The key an earning is kept under (`None`: given each time, never kept).
pub fn once_key(once: &switchboard_domain::scoring::Once) -> Option<String> {
    use switchboard_domain::scoring::Once;
    match once {
        Once::Never => None,
        Once::PerVisit(visit) => Some(format!("visit:{visit}")),
        Once::Ever => Some("ever".into()),
    }
}
