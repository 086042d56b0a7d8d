//! Proactive rules ("triggers") per site, the workspace's lead-scoring rules and a
//! site's conversions (issue 15). Owners and admins change them; any role reads them.
//! This file parses the wire bodies into domain drafts; the rules are core's and the
//! domain's.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use switchboard_domain::scoring::{Scoring, ScoringRule};
use switchboard_domain::triggers::{Action, Condition, Frequency, TriggerDraft, UrlRule};
use switchboard_domain::*;
use switchboard_proto as p;
use switchboard_store::ConversionCursor;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::api::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, Json, Path, Query};
use crate::state::AppState;

fn attribute_value(field: &'static str, v: &serde_json::Value) -> Result<AttributeValue, ValidationError> {
    match v {
        serde_json::Value::String(s) => Ok(AttributeValue::Text(s.clone())),
        serde_json::Value::Bool(b) => Ok(AttributeValue::Bool(*b)),
        serde_json::Value::Number(n) => Ok(AttributeValue::Number(n.as_f64().unwrap_or_default())),
        _ => Err(ValidationError::new(field, "must be a string, a number or a boolean")),
    }
}

fn condition(c: &p::TriggerCondition) -> Result<Condition, ValidationError> {
    use p::TriggerCondition as C;
    Ok(match c {
        C::TimeOnPage { seconds } => Condition::TimeOnPage { seconds: *seconds },
        C::TimeOnSite { seconds } => Condition::TimeOnSite { seconds: *seconds },
        C::Url { matching, value } => Condition::Url(UrlRule::new("conditions.value", (*matching).into(), value)?),
        C::Pages { at_least } => Condition::Pages { at_least: *at_least },
        C::Referrer { matching, value } => Condition::Referrer(UrlRule::new("conditions.value", (*matching).into(), value)?),
        C::Utm { field, value } => Condition::Utm { field: (*field).into(), value: value.clone() },
        C::Returning { returning } => Condition::Returning(*returning),
        C::Language { languages } => Condition::Language(languages.clone()),
        C::Country { countries } => Condition::Country(countries.clone()),
        C::Identified { identified } => Condition::Identified(*identified),
        C::Attribute { key, value } => Condition::Attribute { key: key.clone(), value: attribute_value("conditions.value", value)? },
        C::Event { name } => Condition::Event { name: name.clone() },
        C::ExitIntent => Condition::ExitIntent,
        C::LeadScore { at_least } => Condition::LeadScore { at_least: *at_least },
        C::AgentsOnline { online } => Condition::AgentsOnline(*online),
        C::BusinessHours { open } => Condition::BusinessHours(*open),
    })
}

fn action(a: &p::TriggerAction) -> Result<Action, ValidationError> {
    Ok(match a {
        p::TriggerAction::Message { body, agent_id, typing_seconds } => {
            Action::Message { body: body.clone(), agent_id: agent_id.map(AgentId), typing_seconds: *typing_seconds }
        }
        p::TriggerAction::OpenWidget => Action::OpenWidget,
        p::TriggerAction::SetAttributes { attributes } => {
            if attributes.is_empty() {
                return Err(ValidationError::new("actions.attributes", "must not be empty"));
            }
            Action::SetAttributes(
                attributes.iter().map(|(k, v)| Ok((k.clone(), attribute_value("actions.attributes", v)?))).collect::<Result<_, _>>()?,
            )
        }
        p::TriggerAction::AddLabels { labels } => Action::AddLabels(parse_labels(labels)?),
        p::TriggerAction::SetPriority { priority } => Action::SetPriority((*priority).into()),
    })
}

fn draft(r: &p::TriggerRequest) -> Result<TriggerDraft, ValidationError> {
    let frequency = match (r.frequency, r.every_days) {
        (p::TriggerFrequency::OncePerVisitor, _) => Frequency::OncePerVisitor,
        (p::TriggerFrequency::OncePerVisit, _) => Frequency::OncePerVisit,
        (p::TriggerFrequency::EveryDays, Some(days)) => Frequency::EveryDays(days),
        (p::TriggerFrequency::EveryDays, None) => return Err(ValidationError::new("every_days", "is required with every_days")),
    };
    Ok(TriggerDraft {
        name: r.name.clone(),
        enabled: r.enabled,
        conditions: r.conditions.iter().map(condition).collect::<Result<_, _>>()?,
        actions: r.actions.iter().map(action).collect::<Result<_, _>>()?,
        frequency,
    })
}

fn scoring(r: &p::Scoring) -> Result<Scoring, ValidationError> {
    let rules = r
        .rules
        .iter()
        .map(|rule| {
            Ok(match rule {
                p::ScoringRule::Page { matching, value, points } => {
                    ScoringRule::Page { url: UrlRule::new("rules.value", (*matching).into(), value)?, points: *points }
                }
                p::ScoringRule::TimeOnSite { minutes, points } => ScoringRule::TimeOnSite { minutes: *minutes, points: *points },
                p::ScoringRule::Visits { at_least, points } => ScoringRule::Visits { at_least: *at_least, points: *points },
                p::ScoringRule::Event { name, points } => ScoringRule::Event { name: name.clone(), points: *points },
                p::ScoringRule::Attribute { key, value, points } => ScoringRule::Attribute {
                    key: key.clone(),
                    value: match value {
                        None | Some(serde_json::Value::Null) => None,
                        Some(v) => Some(attribute_value("rules.value", v)?),
                    },
                    points: *points,
                },
            })
        })
        .collect::<Result<_, ValidationError>>()?;
    Ok(Scoring { rules, half_life_days: r.half_life_days, priority_at: r.priority_at })
}

/// List a site's proactive rules
///
/// Oldest first, each with its counts (fired, opened, answered, converted). Any role.
#[utoipa::path(get, path = "/sites/{id}/triggers", operation_id = "list_triggers", tag = "triggers", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<p::Trigger>), (status = 404, body = p::ErrorBody)))]
pub async fn list(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<Vec<p::Trigger>>> {
    Ok(Json(app.core.triggers(&auth.principal, SiteId(id)).await?.iter().map(Into::into).collect()))
}

/// Create a proactive rule
///
/// Owners and admins. The rule fires for a live visitor when all its conditions hold,
/// at most as often as its frequency allows, never while they are chatting.
#[utoipa::path(post, path = "/sites/{id}/triggers", operation_id = "create_trigger", tag = "triggers", params(("id" = Uuid, Path)),
    request_body = p::TriggerRequest,
    responses((status = 201, body = p::Trigger), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody),
        (status = 422, body = p::ErrorBody)))]
pub async fn create(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::TriggerRequest>,
) -> ApiResult<(StatusCode, Json<p::Trigger>)> {
    let trigger = app.core.create_trigger(&auth.principal, SiteId(id), draft(&r)?).await?;
    Ok((StatusCode::CREATED, Json((&trigger).into())))
}

/// Read a proactive rule
#[utoipa::path(get, path = "/triggers/{id}", operation_id = "get_trigger", tag = "triggers", params(("id" = Uuid, Path)),
    responses((status = 200, body = p::Trigger), (status = 404, body = p::ErrorBody)))]
pub async fn get(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<p::Trigger>> {
    Ok(Json((&app.core.trigger(&auth.principal, TriggerId(id)).await?).into()))
}

/// Replace a proactive rule
///
/// Owners and admins. Its counts stay.
#[utoipa::path(put, path = "/triggers/{id}", operation_id = "update_trigger", tag = "triggers", params(("id" = Uuid, Path)),
    request_body = p::TriggerRequest,
    responses((status = 200, body = p::Trigger), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody),
        (status = 422, body = p::ErrorBody)))]
pub async fn update(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::TriggerRequest>,
) -> ApiResult<Json<p::Trigger>> {
    Ok(Json((&app.core.update_trigger(&auth.principal, TriggerId(id), draft(&r)?).await?).into()))
}

/// Delete a proactive rule
///
/// Owners and admins. Conversions credited to it keep its id.
#[utoipa::path(delete, path = "/triggers/{id}", operation_id = "delete_trigger", tag = "triggers", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody)))]
pub async fn delete(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    app.core.delete_trigger(&auth.principal, TriggerId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace's lead-scoring rules
///
/// Any role. With no rules stored: none, no decay, no priority.
#[utoipa::path(get, path = "/scoring", operation_id = "get_scoring", tag = "triggers", responses((status = 200, body = p::Scoring)))]
pub async fn get_scoring(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<p::Scoring>> {
    Ok(Json((&app.core.scoring(&auth.principal).await?).into()))
}

/// Replace the lead-scoring rules
///
/// Owners and admins. Points already earned stay (and keep decaying).
#[utoipa::path(put, path = "/scoring", operation_id = "set_scoring", tag = "triggers", request_body = p::Scoring,
    responses((status = 200, body = p::Scoring), (status = 403, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn set_scoring(State(app): State<AppState>, auth: Auth, Json(r): Json<p::Scoring>) -> ApiResult<Json<p::Scoring>> {
    Ok(Json((&app.core.set_scoring(&auth.principal, scoring(&r)?).await?).into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversionParams {
    /// `next` of the previous page.
    before: Option<String>,
    /// How many to return (default 50); values above the server's page cap (200) are cut to it.
    #[param(minimum = 0)]
    limit: Option<i64>,
}

fn cursor(raw: &str) -> Result<ConversionCursor, ValidationError> {
    let bad = || ValidationError::new("before", "is not a cursor from this API");
    let (at, id) = raw.split_once('_').ok_or_else(bad)?;
    Ok(ConversionCursor { at: Timestamp(at.parse().map_err(|_| bad())?), id: ConversionId(id.parse().map_err(|_| bad())?) })
}

/// A site's conversions
///
/// Newest first; pass `next` back as `before` for the next page. Any role.
#[utoipa::path(get, path = "/sites/{id}/conversions", operation_id = "list_conversions", tag = "triggers",
    params(("id" = Uuid, Path), ConversionParams),
    responses((status = 200, body = p::ConversionPage), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn conversions(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Query(q): Query<ConversionParams>,
) -> ApiResult<Json<p::ConversionPage>> {
    let before = q.before.as_deref().map(cursor).transpose()?;
    let page = app.core.conversions(&auth.principal, SiteId(id), before, parse::limit(q.limit)?).await?;
    Ok(Json(p::ConversionPage {
        conversions: page.conversions.iter().map(Into::into).collect(),
        next: page.next.map(|c| format!("{}_{}", c.at.0, c.id)),
    }))
}
