//! Workspace administration: agents, teams, sites, canned responses and API tokens.

use axum::extract::State;
use axum::http::StatusCode;
use switchboard_domain::*;
use switchboard_proto as p;
use uuid::Uuid;

use super::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, Json, Path};
use crate::state::AppState;

/// List agents
#[utoipa::path(get, path = "/agents", tag = "agents", responses((status = 200, body = Vec<p::Agent>)))]
pub async fn list_agents(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<p::Agent>>> {
    let (agents, capacity) = app.core.agents_with_capacity(&auth.principal).await?;
    Ok(Json(agents.iter().map(|a| p::Agent::new(a, &capacity)).collect()))
}

/// Add an agent
#[utoipa::path(post, path = "/agents", tag = "agents", request_body = p::CreateAgent,
    responses((status = 201, body = p::Agent), (status = 403, body = p::ErrorBody), (status = 409, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn create_agent(
    State(app): State<AppState>,
    auth: Auth,
    Json(r): Json<p::CreateAgent>,
) -> ApiResult<(StatusCode, Json<p::Agent>)> {
    let agent = app.core.create_agent(&auth.principal, parse::new_agent(r)?).await?;
    let capacity = app.core.capacity(&auth.principal).await?;
    Ok((StatusCode::CREATED, Json(p::Agent::new(&agent, &capacity))))
}

/// Get an agent
#[utoipa::path(get, path = "/agents/{id}", tag = "agents", params(("id" = Uuid, Path)),
    responses((status = 200, body = p::Agent), (status = 404, body = p::ErrorBody)))]
pub async fn get_agent(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<p::Agent>> {
    let agent = app.core.agent(&auth.principal, AgentId(id)).await?;
    Ok(Json(p::Agent::new(&agent, &app.core.capacity(&auth.principal).await?)))
}

/// Update an agent
///
/// Agents may edit their own profile; admins other agents and admins; only owners an
/// owner. Demoting or deactivating the last owner answers 409 `last_owner`.
/// `active: false` deactivates: the agent is signed out and their open conversations go
/// back to their team's unassigned queue (a system `assigned` event each).
#[utoipa::path(patch, path = "/agents/{id}", tag = "agents", params(("id" = Uuid, Path)), request_body = p::UpdateAgent,
    responses((status = 200, body = p::Agent), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody),
        (status = 409, description = "`email_taken`, or `last_owner`: the agent is the last owner", body = p::ErrorBody)))]
pub async fn update_agent(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::UpdateAgent>,
) -> ApiResult<Json<p::Agent>> {
    let agent = app.core.update_agent(&auth.principal, AgentId(id), parse::agent_patch(r)?).await?;
    Ok(Json(p::Agent::new(&agent, &app.core.capacity(&auth.principal).await?)))
}

/// Reset an agent's password
///
/// Admins set a new password for agents and admins, only owners for an owner; the
/// agent is signed out everywhere.
#[utoipa::path(post, path = "/agents/{id}/password", operation_id = "reset_agent_password", tag = "agents", params(("id" = Uuid, Path)),
    request_body = p::ResetPassword,
    responses((status = 204), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody),
        (status = 422, description = "`validation_failed` on `new_password` (8 to 256 characters)", body = p::ErrorBody)))]
pub async fn reset_agent_password(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::ResetPassword>,
) -> ApiResult<StatusCode> {
    app.core.reset_agent_password(&auth.principal, AgentId(id), &r.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove an agent
///
/// Admins delete agents and admins; only owners an owner, never the last one (409 `last_owner`).
/// The agent's open conversations first go back to their team's unassigned queue
/// (a system `assigned` event each). To keep the agent's name on their history,
/// deactivate instead (`PATCH` with `active: false`).
#[utoipa::path(delete, path = "/agents/{id}", tag = "agents", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody), (status = 409, body = p::ErrorBody)))]
pub async fn delete_agent(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    app.core.delete_agent(&auth.principal, AgentId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List teams
#[utoipa::path(get, path = "/teams", tag = "teams", responses((status = 200, body = Vec<p::Team>)))]
pub async fn list_teams(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<p::Team>>> {
    Ok(Json(app.core.teams(&auth.principal).await?.iter().map(Into::into).collect()))
}

fn agent_ids(ids: Option<Vec<Uuid>>) -> Option<Vec<AgentId>> {
    ids.map(|ids| ids.into_iter().map(AgentId).collect())
}

/// Create a team
#[utoipa::path(post, path = "/teams", tag = "teams", request_body = p::TeamRequest,
    responses((status = 201, body = p::Team), (status = 404, description = "`agent_not_found`: a member is not an agent of the workspace", body = p::ErrorBody),
        (status = 409, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn create_team(State(app): State<AppState>, auth: Auth, Json(r): Json<p::TeamRequest>) -> ApiResult<(StatusCode, Json<p::Team>)> {
    let routing = parse::routing_patch(&r);
    let name = r.name.ok_or_else(|| ValidationError::new("name", "is required"))?;
    let hours = r.business_hours.flatten().as_ref().map(parse::business_hours).transpose()?;
    let team = app.core.create_team(&auth.principal, &name, agent_ids(r.agent_ids).unwrap_or_default(), hours, routing).await?;

    Ok((StatusCode::CREATED, Json((&team).into())))
}

/// Get a team
#[utoipa::path(get, path = "/teams/{id}", tag = "teams", params(("id" = Uuid, Path)),
    responses((status = 200, body = p::Team), (status = 404, body = p::ErrorBody)))]
pub async fn get_team(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<p::Team>> {
    Ok(Json((&app.core.team(&auth.principal, TeamId(id)).await?).into()))
}

/// Update a team
#[utoipa::path(patch, path = "/teams/{id}", tag = "teams", params(("id" = Uuid, Path)), request_body = p::TeamRequest,
    responses((status = 200, body = p::Team), (status = 404, description = "`team_not_found`, or `agent_not_found`: a member is not an agent of the workspace", body = p::ErrorBody),
        (status = 409, description = "`name_taken`", body = p::ErrorBody)))]
pub async fn update_team(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::TeamRequest>,
) -> ApiResult<Json<p::Team>> {
    let routing = parse::routing_patch(&r);
    let hours = r.business_hours.map(|h| h.as_ref().map(parse::business_hours).transpose()).transpose()?;
    let team = app.core.update_team(&auth.principal, TeamId(id), r.name.as_deref(), agent_ids(r.agent_ids), hours, routing).await?;

    Ok(Json((&team).into()))
}

/// Delete a team
#[utoipa::path(delete, path = "/teams/{id}", tag = "teams", params(("id" = Uuid, Path)), responses((status = 204), (status = 404, body = p::ErrorBody)))]
pub async fn delete_team(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    app.core.delete_team(&auth.principal, TeamId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List sites
///
/// Every role may list sites; `identity_secret` is sent to owners and admins only.
#[utoipa::path(get, path = "/sites", tag = "sites", responses((status = 200, body = Vec<p::Site>)))]
pub async fn list_sites(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<p::Site>>> {
    Ok(Json(app.core.sites(&auth.principal).await?.iter().map(Into::into).collect()))
}

/// Create a site
#[utoipa::path(post, path = "/sites", tag = "sites", request_body = p::SiteRequest,
    responses((status = 201, body = p::Site), (status = 403, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn create_site(State(app): State<AppState>, auth: Auth, Json(r): Json<p::SiteRequest>) -> ApiResult<(StatusCode, Json<p::Site>)> {
    let site = app.core.create_site(&auth.principal, parse::site_input(r)?).await?;
    Ok((StatusCode::CREATED, Json((&site).into())))
}

/// Get a site
///
/// Every role may read a site; `identity_secret` is sent to owners and admins only.
#[utoipa::path(get, path = "/sites/{id}", tag = "sites", params(("id" = Uuid, Path)),
    responses((status = 200, body = p::Site), (status = 404, body = p::ErrorBody)))]
pub async fn get_site(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<p::Site>> {
    Ok(Json((&app.core.site(&auth.principal, SiteId(id)).await?).into()))
}

/// Update a site
#[utoipa::path(patch, path = "/sites/{id}", tag = "sites", params(("id" = Uuid, Path)), request_body = p::SiteRequest,
    responses((status = 200, body = p::Site), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn update_site(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::SiteRequest>,
) -> ApiResult<Json<p::Site>> {
    Ok(Json((&app.core.update_site(&auth.principal, SiteId(id), parse::site_input(r)?).await?).into()))
}

/// Delete a site
#[utoipa::path(delete, path = "/sites/{id}", tag = "sites", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = p::ErrorBody), (status = 409, body = p::ErrorBody)))]
pub async fn delete_site(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    app.core.delete_site(&auth.principal, SiteId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List canned responses
///
/// The workspace's canned responses and the caller's own personal ones.
#[utoipa::path(get, path = "/canned-responses", tag = "canned responses", responses((status = 200, body = Vec<p::CannedResponse>)))]
pub async fn list_canned(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<p::CannedResponse>>> {
    Ok(Json(app.core.canned_responses(&auth.principal).await?.iter().map(Into::into).collect()))
}

/// Create a canned response
///
/// `workspace` responses (the default) by owners and admins; `personal` ones by any agent, for themselves.
#[utoipa::path(post, path = "/canned-responses", tag = "canned responses", request_body = p::CannedRequest,
    responses((status = 201, body = p::CannedResponse), (status = 403, body = p::ErrorBody), (status = 409, body = p::ErrorBody),
        (status = 422, body = p::ErrorBody)))]
pub async fn create_canned(
    State(app): State<AppState>,
    auth: Auth,
    Json(r): Json<p::CannedRequest>,
) -> ApiResult<(StatusCode, Json<p::CannedResponse>)> {
    let shortcut = r.shortcut.ok_or_else(|| ValidationError::new("shortcut", "is required"))?;
    let body = r.body.ok_or_else(|| ValidationError::new("body", "is required"))?;
    let scope = match r.scope.unwrap_or(p::CannedScope::Workspace) {
        p::CannedScope::Workspace => switchboard_core::CannedScope::Workspace,
        p::CannedScope::Personal => switchboard_core::CannedScope::Personal,
    };
    let canned = app.core.create_canned(&auth.principal, scope, &shortcut, &body).await?;
    Ok((StatusCode::CREATED, Json((&canned).into())))
}

/// Get a canned response
#[utoipa::path(get, path = "/canned-responses/{id}", tag = "canned responses", params(("id" = Uuid, Path)),
    responses((status = 200, body = p::CannedResponse), (status = 404, body = p::ErrorBody), (status = 409, description = "`shortcut_taken`", body = p::ErrorBody)))]
pub async fn get_canned(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<p::CannedResponse>> {
    Ok(Json((&app.core.canned(&auth.principal, CannedResponseId(id)).await?).into()))
}

/// Update a canned response
///
/// A personal response by its agent, a workspace one by owners and admins; `scope` is ignored.
#[utoipa::path(patch, path = "/canned-responses/{id}", tag = "canned responses", params(("id" = Uuid, Path)), request_body = p::CannedRequest,
    responses((status = 200, body = p::CannedResponse), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody),
        (status = 409, description = "`shortcut_taken`", body = p::ErrorBody)))]
pub async fn update_canned(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::CannedRequest>,
) -> ApiResult<Json<p::CannedResponse>> {
    let canned = app.core.update_canned(&auth.principal, CannedResponseId(id), r.shortcut.as_deref(), r.body.as_deref()).await?;
    Ok(Json((&canned).into()))
}

/// Delete a canned response
///
/// A personal response by its agent, a workspace one by owners and admins.
#[utoipa::path(delete, path = "/canned-responses/{id}", tag = "canned responses", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody)))]
pub async fn delete_canned(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    app.core.delete_canned(&auth.principal, CannedResponseId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List labels
///
/// The labels the workspace manages, by name. Every role may list them.
#[utoipa::path(get, path = "/labels", operation_id = "list_labels", tag = "labels", responses((status = 200, body = Vec<p::Label>)))]
pub async fn list_labels(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<p::Label>>> {
    Ok(Json(app.core.labels(&auth.principal).await?.iter().map(Into::into).collect()))
}

/// Create a label
#[utoipa::path(post, path = "/labels", operation_id = "create_label", tag = "labels", request_body = p::LabelRequest,
    responses((status = 201, body = p::Label), (status = 403, body = p::ErrorBody), (status = 409, description = "`label_taken`", body = p::ErrorBody),
        (status = 422, body = p::ErrorBody)))]
pub async fn create_label(
    State(app): State<AppState>,
    auth: Auth,
    Json(r): Json<p::LabelRequest>,
) -> ApiResult<(StatusCode, Json<p::Label>)> {
    let label = app.core.create_label(&auth.principal, parse::label_input(r)?).await?;
    Ok((StatusCode::CREATED, Json((&label).into())))
}

fn label_name(raw: &str) -> ApiResult<Label> {
    Ok(Label::parse(raw).map_err(|e| ValidationError::new("name", e.reason))?)
}

/// Update a label
///
/// Changes its colour or description, or renames it. Conversations keep the label names
/// they carry.
#[utoipa::path(patch, path = "/labels/{name}", operation_id = "update_label", tag = "labels", params(("name" = String, Path)),
    request_body = p::LabelRequest,
    responses((status = 200, body = p::Label), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody),
        (status = 409, description = "`label_taken`", body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn update_label(
    State(app): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    Json(r): Json<p::LabelRequest>,
) -> ApiResult<Json<p::Label>> {
    let label = app.core.update_label(&auth.principal, &label_name(&name)?, parse::label_input(r)?).await?;
    Ok(Json((&label).into()))
}

/// Delete a label
///
/// Conversations keep the label names they carry.
#[utoipa::path(delete, path = "/labels/{name}", operation_id = "delete_label", tag = "labels", params(("name" = String, Path)),
    responses((status = 204), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn delete_label(State(app): State<AppState>, auth: Auth, Path(name): Path<String>) -> ApiResult<StatusCode> {
    app.core.delete_label(&auth.principal, &label_name(&name)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List API tokens
#[utoipa::path(get, path = "/api-tokens", tag = "api tokens", responses((status = 200, body = Vec<p::ApiToken>), (status = 403, body = p::ErrorBody)))]
pub async fn list_tokens(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<p::ApiToken>>> {
    Ok(Json(app.core.api_tokens(&auth.principal).await?.iter().map(Into::into).collect()))
}

/// Create an API token
///
/// Creates a bearer token for integrations, optionally expiring at `expires_at` (then
/// refused with `token_expired`). The secret is in this response only.
#[utoipa::path(post, path = "/api-tokens", tag = "api tokens", request_body = p::CreateApiToken,
    responses((status = 201, body = p::CreatedApiToken), (status = 403, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn create_token(
    State(app): State<AppState>,
    auth: Auth,
    Json(r): Json<p::CreateApiToken>,
) -> ApiResult<(StatusCode, Json<p::CreatedApiToken>)> {
    let role = r.role.map(Role::from).unwrap_or(Role::Agent);
    let created = app.core.create_api_token(&auth.principal, &r.name, role, r.expires_at.map(Timestamp)).await?;
    Ok((StatusCode::CREATED, Json(p::CreatedApiToken { token: (&created.token).into(), secret: created.secret })))
}

/// Revoke an API token
#[utoipa::path(delete, path = "/api-tokens/{id}", tag = "api tokens", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = p::ErrorBody)))]
pub async fn delete_token(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    app.core.delete_api_token(&auth.principal, ApiTokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Preview business hours
///
/// Checks business hours without saving them and says whether they are open now and,
/// when closed, when they open next, on the server's clock: the admin console's live
/// line. Refusals are `422 validation_failed` naming the field, as when saving. Owners
/// and admins.
#[utoipa::path(post, path = "/business-hours/preview", operation_id = "preview_business_hours", tag = "sites", request_body = p::BusinessHours,
    responses((status = 200, body = p::HoursPreview), (status = 403, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn preview_hours(State(app): State<AppState>, auth: Auth, Json(r): Json<p::BusinessHours>) -> ApiResult<Json<p::HoursPreview>> {
    let hours = parse::business_hours(&r)?;
    let (open_now, opens_at) = app.core.hours_preview(&auth.principal, &hours)?;
    Ok(Json(p::HoursPreview { open_now, opens_at: opens_at.map(|t| t.0) }))
}
