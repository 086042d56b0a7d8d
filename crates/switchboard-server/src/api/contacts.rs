//! Contacts, their page views, and workspace search.

use axum::extract::State;
use serde::Deserialize;
use switchboard_domain::ContactId;
use switchboard_proto as p;
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
}

/// List contacts
///
/// Contacts matching every word of `q` (or the most recently seen, without `q`).
#[utoipa::path(get, path = "/contacts", operation_id = "list_contacts", tag = "contacts", params(SearchParams), responses((status = 200, body = Vec<p::Contact>)))]
pub async fn list(State(app): State<AppState>, auth: Auth, Query(q): Query<SearchParams>) -> ApiResult<Json<Vec<p::Contact>>> {
    let found = app.core.search_contacts(&auth.principal, &q.q, parse::limit(q.limit)?).await?;
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
