//! Contacts, their page views, and workspace search.

use axum::extract::State;
use serde::Deserialize;
use switchboard_domain::{ContactEventId, ContactId, Timestamp, ValidationError};
use switchboard_proto as p;
use switchboard_store::ContactEventCursor;
use utoipa::IntoParams;
use uuid::Uuid;

use super::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, Json, Path, Query};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct SearchParams {
    /// Words to find; Arabic/Persian letter variants, diacritics and Turkish i's fold together.
    #[serde(default)]
    q: String,
    /// How many to return; values above the server's page cap (200) are cut to it.
    #[param(minimum = 0)]
    limit: Option<i64>,
    /// Comma-separated contact ids (at most 100): exactly those contacts, those that exist
    /// in this workspace, in no particular order, instead of a search (`q` must be empty).
    ids: Option<String>,
}

/// List contacts
///
/// Contacts matching every word of `q` (or the most recently seen, without `q`); or, with
/// `ids`, those contacts (one request for a page of inbox rows).
#[utoipa::path(get, path = "/contacts", operation_id = "list_contacts", tag = "contacts", params(SearchParams), responses((status = 200, body = Vec<p::Contact>)))]
pub async fn list(State(app): State<AppState>, auth: Auth, Query(q): Query<SearchParams>) -> ApiResult<Json<Vec<p::Contact>>> {
    let found = match q.ids {
        Some(ids) if q.q.is_empty() => app.core.contacts(&auth.principal, &parse::contact_ids(&ids)?).await?,
        Some(_) => return Err(ValidationError::new("ids", "give ids or q, not both").into()),
        None => app.core.search_contacts(&auth.principal, &q.q, parse::limit(q.limit)?).await?,
    };
    Ok(Json(found.iter().map(Into::into).collect()))
}

/// Get a contact
#[utoipa::path(get, path = "/contacts/{id}", operation_id = "get_contact", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, body = p::Contact), (status = 404, body = p::ErrorBody)))]
pub async fn get(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<p::Contact>> {
    Ok(Json((&app.core.contact(&auth.principal, ContactId(id)).await?).into()))
}

/// Update a contact
#[utoipa::path(patch, path = "/contacts/{id}", operation_id = "update_contact", tag = "contacts", params(("id" = Uuid, Path)), request_body = p::UpdateContact,
    responses((status = 200, body = p::Contact), (status = 404, body = p::ErrorBody), (status = 409, body = p::ErrorBody)))]
pub async fn update(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Json(r): Json<p::UpdateContact>,
) -> ApiResult<Json<p::Contact>> {
    Ok(Json((&app.core.update_contact(&auth.principal, ContactId(id), parse::contact_patch(r)?).await?).into()))
}

/// A contact's page views
///
/// Pages the contact visited, newest first.
#[utoipa::path(get, path = "/contacts/{id}/pages", operation_id = "contact_pages", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<p::PageView>), (status = 404, body = p::ErrorBody)))]
pub async fn pages(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<Vec<p::PageView>>> {
    Ok(Json(app.core.page_views(&auth.principal, ContactId(id), None).await?.iter().map(Into::into).collect()))
}

#[derive(Deserialize, IntoParams)]
pub struct EventsParams {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// How many to return (default 50); values above the server's page cap (200) are cut to it.
    #[param(minimum = 0)]
    limit: Option<i64>,
}

fn event_cursor(raw: &str) -> Result<ContactEventCursor, ValidationError> {
    let bad = || ValidationError::new("cursor", "is not a cursor from this API");
    let (at, id) = raw.split_once('_').ok_or_else(bad)?;
    Ok(ContactEventCursor { at: Timestamp(at.parse().map_err(|_| bad())?), id: ContactEventId(id.parse().map_err(|_| bad())?) })
}

/// A contact's tracked events
///
/// What the business's page reported with `Switchboard.track(name, data)`, newest first;
/// pass `next_cursor` back as `cursor` for the next page.
#[utoipa::path(get, path = "/contacts/{id}/events", operation_id = "contact_events", tag = "contacts", params(("id" = Uuid, Path), EventsParams),
    responses((status = 200, body = p::Page<p::ContactEvent>), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn events(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Query(q): Query<EventsParams>,
) -> ApiResult<Json<p::Page<p::ContactEvent>>> {
    let after = parse::opt(q.cursor.as_deref(), event_cursor)?;
    // The size actually used, within the cap: a full page comes with a cursor, a short one is the last.
    let limit = parse::limit(q.limit)?.unwrap_or(50).clamp(1, app.core.limits.max_page);
    let items = app.core.contact_events(&auth.principal, ContactId(id), after, Some(limit)).await?;
    let full = items.len() as u32 >= limit;
    let next_cursor = full.then(|| items.last().map(|e| format!("{}_{}", e.at.0, e.id))).flatten();
    Ok(Json(p::Page { items: items.iter().map(Into::into).collect(), next_cursor }))
}

/// Search messages and contacts
///
/// Messages, notes and contacts matching every word of `q`. Each message hit says where
/// it is (`conversation_id`, `seq`) and carries a `snippet` with the matching words
/// between U+0001 and U+0002 (render the parts as plain text).
#[utoipa::path(get, path = "/search", tag = "search", params(SearchParams),
    responses((status = 200, body = p::SearchResults), (status = 422, body = p::ErrorBody)))]
pub async fn search(State(app): State<AppState>, auth: Auth, Query(q): Query<SearchParams>) -> ApiResult<Json<p::SearchResults>> {
    let found = app.core.search(&auth.principal, &q.q, parse::limit(q.limit)?).await?;
    Ok(Json(p::SearchResults {
        messages: found.messages.iter().map(|h| p::Message::new(&h.message, p::Viewer::Agent)).collect(),
        hits: found
            .messages
            .iter()
            .map(|h| p::MessageHit {
                conversation_id: h.message.conversation_id.0,
                seq: h.message.seq,
                snippet: h.snippet.clone(),
                message: p::Message::new(&h.message, p::Viewer::Agent),
            })
            .collect(),
        contacts: found.contacts.iter().map(Into::into).collect(),
    }))
}
