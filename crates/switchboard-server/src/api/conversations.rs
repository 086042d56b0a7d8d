//! The inbox: listing, history, replies, notes, assignment, status, labels, priority, read marks.

use axum::extract::State;
use serde::Deserialize;
use switchboard_core::HistoryQuery;
use switchboard_domain::*;
use switchboard_proto as p;
use switchboard_store::{AssigneeFilter, Committed, ConversationCursor, ConversationFilter, ConversationSort};
use utoipa::IntoParams;
use uuid::Uuid;

use super::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, Json, Path, Query};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    status: Option<p::ConversationStatus>,
    /// `me`, `none`, or an agent id.
    assignee: Option<String>,
    team_id: Option<Uuid>,
    site_id: Option<Uuid>,
    /// Conversations of one inbox (for a website inbox, the same as `site_id`).
    inbox_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    label: Option<String>,
    /// `last_activity` (the default): newest activity first; `waiting`: longest-waiting
    /// first (conversations whose contact waits for an answer, oldest `waiting_since`
    /// first, then the others, oldest first).
    sort: Option<p::ConversationSort>,
    /// `next_cursor` of the previous page (of the same `sort`).
    cursor: Option<String>,
    /// Page size (default 50); values above the server's page cap (200) are cut to it.
    #[param(minimum = 0)]
    limit: Option<i64>,
}

/// A list's cursor: `{key}_{id}` for the default order, `w{key}_{id}` for `waiting`, so a
/// cursor of one order is refused in the other.
fn cursor(raw: &str, sort: ConversationSort) -> Result<ConversationCursor, ValidationError> {
    let bad = || ValidationError::new("cursor", "is not a cursor from this API for this sort");
    let raw = match sort {
        ConversationSort::LastActivity => raw,
        ConversationSort::Waiting => raw.strip_prefix('w').ok_or_else(bad)?,
    };
    let (key, id) = raw.split_once('_').ok_or_else(bad)?;
    Ok(ConversationCursor { key: key.parse().map_err(|_| bad())?, id: id.parse().map_err(|_| bad())? })
}

fn encode_cursor(c: &ConversationCursor, sort: ConversationSort) -> String {
    let prefix = if sort == ConversationSort::Waiting { "w" } else { "" };
    format!("{prefix}{}_{}", c.key, c.id)
}

/// The page size actually used: what was asked, within the server's cap. A full
/// page then always comes with a cursor, even when the cap cut it short.
fn page_size(app: &AppState, asked: Option<i64>) -> Result<u32, ValidationError> {
    Ok(parse::limit(asked)?.unwrap_or(50).clamp(1, app.core.limits.max_page))
}

/// A conversation on the wire with its place in its queue, when it waits in one.
fn with_position(c: &Conversation, positions: &std::collections::HashMap<ConversationId, u32>) -> p::Conversation {
    p::Conversation { queue_position: positions.get(&c.id).copied(), ..c.into() }
}

pub fn changed(done: &Committed) -> p::ChangeResult {
    p::ChangeResult {
        conversation: (&done.conversation).into(),
        events: done.events.iter().map(|e| p::Event::new(e, p::Viewer::Agent)).collect(),
        replayed: done.replayed,
    }
}

/// List conversations
///
/// Conversations, most recent activity first (or longest-waiting first with
/// `sort=waiting`), with cursor paging.
#[utoipa::path(get, path = "/conversations", operation_id = "list_conversations", tag = "conversations", params(ListQuery),
    responses((status = 200, body = p::Page<p::Conversation>), (status = 400, body = p::ErrorBody)))]
pub async fn list(State(app): State<AppState>, auth: Auth, Query(q): Query<ListQuery>) -> ApiResult<Json<p::Page<p::Conversation>>> {
    let who = auth.principal;
    let assignee = match q.assignee.as_deref() {
        None => None,
        Some("none") => Some(AssigneeFilter::Unassigned),
        Some("me") => {
            Some(AssigneeFilter::Agent(who.agent_id().ok_or_else(|| ValidationError::new("assignee", "an API token is not an agent"))?))
        }
        Some(id) => {
            Some(AssigneeFilter::Agent(id.parse().map_err(|_| ValidationError::new("assignee", "must be me, none or an agent id"))?))
        }
    };
    let sort = match q.sort.unwrap_or(p::ConversationSort::LastActivity) {
        p::ConversationSort::LastActivity => ConversationSort::LastActivity,
        p::ConversationSort::Waiting => ConversationSort::Waiting,
    };
    let filter = ConversationFilter {
        sort,
        status: q.status.map(p::ConversationStatus::as_str),
        assignee,
        team_id: q.team_id.map(TeamId),
        site_id: q.site_id.map(SiteId),
        inbox_id: q.inbox_id.map(InboxId),
        contact_id: q.contact_id.map(ContactId),
        label: parse::opt(q.label.as_deref(), Label::parse)?,
        after: parse::opt(q.cursor.as_deref(), |raw| cursor(raw, sort))?,
        limit: page_size(&app, q.limit)?,
        // Core narrows it to what the caller may see.
        scope: ConversationScope::All,
    };
    let limit = filter.limit;
    let (items, positions) = app.core.conversations_with_positions(&who, filter).await?;
    let next_cursor =
        (items.len() as u32 >= limit).then(|| items.last().map(|c| encode_cursor(&ConversationCursor::after(c, sort), sort))).flatten();
    Ok(Json(p::Page { items: items.iter().map(|c| with_position(c, &positions)).collect(), next_cursor }))
}

/// Count conversations per view
///
/// For the caller: open conversations assigned to them (`mine`), to nobody
/// (`unassigned`), all open ones (`all`), by team and by label; and every conversation
/// by status.
#[utoipa::path(get, path = "/conversations/counts", operation_id = "conversation_counts", tag = "conversations",
    responses((status = 200, body = p::ConversationCounts)))]
pub async fn counts(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<p::ConversationCounts>> {
    let c = app.core.conversation_counts(&auth.principal).await?;
    Ok(Json(p::ConversationCounts {
        mine: c.mine,
        unassigned: c.unassigned,
        all: c.all,
        by_status: p::StatusCounts { open: c.open, pending: c.pending, snoozed: c.snoozed, resolved: c.resolved },
        by_team: c.by_team.iter().map(|(t, n)| (t.0, *n)).collect(),
        by_label: c.by_label.iter().map(|(l, n)| (l.as_str().to_owned(), *n)).collect(),
    }))
}

/// Get a conversation
#[utoipa::path(get, path = "/conversations/{id}", operation_id = "get_conversation", tag = "conversations", params(("id" = Uuid, Path)),
    responses((status = 200, body = p::Conversation), (status = 404, body = p::ErrorBody)))]
pub async fn get(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<p::Conversation>> {
    let (conversation, positions) = app.core.conversation_with_position(&auth.principal, ConversationId(id)).await?;
    Ok(Json(with_position(&conversation, &positions)))
}

#[derive(Deserialize, IntoParams)]
pub struct HistoryParams {
    /// Events after this seq, oldest first (catching up).
    after_seq: Option<i64>,
    /// Events before this seq, newest page first (scrolling back); `next_cursor` continues.
    before_seq: Option<i64>,
    /// Page size (default 50); values above the server's page cap (200) are cut to it.
    #[param(minimum = 0)]
    limit: Option<i64>,
}

/// A conversation's timeline
///
/// The conversation's timeline: messages, private notes and system events, in `seq` order.
#[utoipa::path(get, path = "/conversations/{id}/messages", tag = "conversations", params(("id" = Uuid, Path), HistoryParams),
    responses((status = 200, body = p::Page<p::Event>), (status = 404, body = p::ErrorBody)))]
pub async fn history(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Query(q): Query<HistoryParams>,
) -> ApiResult<Json<p::Page<p::Event>>> {
    let backwards = q.after_seq.is_none();
    let limit = page_size(&app, q.limit)?;
    let query = HistoryQuery { after_seq: q.after_seq, before_seq: q.before_seq, limit: Some(limit), newest_first: backwards };
    let mut events = app.core.history(&auth.principal, ConversationId(id), query).await?;
    let full = events.len() as u32 >= limit;
    if backwards {
        events.reverse();
    }
    let next_cursor = match (full, backwards) {
        (true, true) => events.first().map(|e| e.seq.to_string()),
        (true, false) => events.last().map(|e| e.seq.to_string()),
        _ => None,
    };
    Ok(Json(p::Page { items: events.iter().map(|e| p::Event::new(e, p::Viewer::Agent)).collect(), next_cursor }))
}

/// Reply to a conversation
///
/// A reply the visitor sees. A retry with the same `client_id` returns the same message.
#[utoipa::path(post, path = "/conversations/{id}/messages", tag = "conversations", params(("id" = Uuid, Path)), request_body = p::Reply,
    responses((status = 200, body = p::ChangeResult), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn reply(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::Reply>,
) -> ApiResult<Json<p::ChangeResult>> {
    let draft = parse::draft(r.client_id, r.body, r.format, &r.attachment_ids);
    Ok(Json(changed(&app.core.reply(&auth.principal, ConversationId(id), draft, false).await?)))
}

/// Add a private note
///
/// A private note: only agents see it.
#[utoipa::path(post, path = "/conversations/{id}/notes", tag = "conversations", params(("id" = Uuid, Path)), request_body = p::Reply,
    responses((status = 200, body = p::ChangeResult), (status = 404, body = p::ErrorBody)))]
pub async fn note(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::Reply>,
) -> ApiResult<Json<p::ChangeResult>> {
    let draft = parse::draft(r.client_id, r.body, r.format, &r.attachment_ids);
    Ok(Json(changed(&app.core.reply(&auth.principal, ConversationId(id), draft, true).await?)))
}

/// Assign a conversation
#[utoipa::path(put, path = "/conversations/{id}/assignee", tag = "conversations", params(("id" = Uuid, Path)), request_body = p::AssignRequest,
    responses((status = 200, body = p::ChangeResult), (status = 404, body = p::ErrorBody)))]
pub async fn assign(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::AssignRequest>,
) -> ApiResult<Json<p::ChangeResult>> {
    let done = app.core.assign(&auth.principal, ConversationId(id), r.agent_id.map(AgentId), r.team_id.map(TeamId)).await?;
    Ok(Json(changed(&done)))
}

/// Change a conversation's status
#[utoipa::path(put, path = "/conversations/{id}/status", tag = "conversations", params(("id" = Uuid, Path)), request_body = p::StatusRequest,
    responses((status = 200, body = p::ChangeResult), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn status(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::StatusRequest>,
) -> ApiResult<Json<p::ChangeResult>> {
    Ok(Json(changed(&app.core.set_status(&auth.principal, ConversationId(id), parse::status(&r)?).await?)))
}

/// Set a conversation's labels
#[utoipa::path(put, path = "/conversations/{id}/labels", tag = "conversations", params(("id" = Uuid, Path)), request_body = p::LabelsRequest,
    responses((status = 200, body = p::ChangeResult), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn labels(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::LabelsRequest>,
) -> ApiResult<Json<p::ChangeResult>> {
    Ok(Json(changed(&app.core.set_labels(&auth.principal, ConversationId(id), parse_labels(&r.labels)?).await?)))
}

/// Set a conversation's priority
#[utoipa::path(put, path = "/conversations/{id}/priority", tag = "conversations", params(("id" = Uuid, Path)), request_body = p::PriorityRequest,
    responses((status = 200, body = p::ChangeResult), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn priority(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::PriorityRequest>,
) -> ApiResult<Json<p::ChangeResult>> {
    Ok(Json(changed(&app.core.set_priority(&auth.principal, ConversationId(id), r.priority.into()).await?)))
}

/// Mark a conversation read
///
/// The team has read everything up to `up_to_seq`.
#[utoipa::path(post, path = "/conversations/{id}/read", tag = "conversations", params(("id" = Uuid, Path)), request_body = p::ReadRequest,
    responses((status = 200, body = p::ChangeResult), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn read(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::ReadRequest>,
) -> ApiResult<Json<p::ChangeResult>> {
    Ok(Json(changed(&app.core.agent_read(&auth.principal, ConversationId(id), r.up_to_seq).await?)))
}

/// Claim a conversation
///
/// The caller takes an unassigned conversation (from the queue, say). The first claim
/// wins; the others answer 409 `already_assigned`. Capacity is not applied to claims:
/// an agent may knowingly take more than their `max_chats` (routing never gives them more).
#[utoipa::path(post, path = "/conversations/{id}/claim", tag = "conversations", params(("id" = Uuid, Path)),
    responses((status = 200, body = p::Conversation), (status = 404, body = p::ErrorBody),
        (status = 409, description = "`already_assigned`: someone else has it", body = p::ErrorBody)))]
pub async fn claim(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<p::Conversation>> {
    Ok(Json((&app.core.claim(&auth.principal, ConversationId(id)).await?.conversation).into()))
}

/// Transfer a conversation
///
/// To an agent (`agent_id`) who is online with a free place, else 409
/// `agent_unavailable`; or to a team (`team_id`): routed within it by its strategy, else
/// queued there. Exactly one of the two. The `note` goes with the `assigned` event,
/// for agents only.
#[utoipa::path(post, path = "/conversations/{id}/transfer", tag = "conversations", params(("id" = Uuid, Path)), request_body = p::TransferRequest,
    responses((status = 200, body = p::Conversation), (status = 404, body = p::ErrorBody),
        (status = 409, description = "`agent_unavailable`: the agent is away, offline or at capacity", body = p::ErrorBody),
        (status = 422, body = p::ErrorBody)))]
pub async fn transfer(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::TransferRequest>,
) -> ApiResult<Json<p::Conversation>> {
    let target = parse::transfer_target(&r)?;
    Ok(Json((&app.core.transfer(&auth.principal, ConversationId(id), target, r.note).await?.conversation).into()))
}

/// List the waiting queues
///
/// Every team's queue and the workspace-wide one (`team_id` `null`): how many
/// conversations wait and since when the oldest.
#[utoipa::path(get, path = "/queues", tag = "conversations", responses((status = 200, body = p::Queues)))]
pub async fn queues(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<p::Queues>> {
    Ok(Json(p::Queues { queues: app.core.queues(&auth.principal).await?.iter().map(Into::into).collect() }))
}
