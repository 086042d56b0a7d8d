//! Privacy: a site's retention preview, and a contact's export and erasure (owners and
//! admins; core checks).

use axum::extract::State;
use serde::Deserialize;
use switchboard_domain::{ContactId, RetentionDays, SiteId};
use switchboard_proto as p;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiResult, Json, Path, Query};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct PreviewParams {
    /// Preview this setting instead of the saved one (days, 1 to 3650).
    #[param(minimum = 1, maximum = 3650)]
    retention_days: Option<i64>,
}

/// Preview a site's retention
///
/// What the site's next retention run removes if it ran now, for its saved setting or
/// for `retention_days`. Owners and admins.
#[utoipa::path(get, path = "/sites/{id}/retention/preview", operation_id = "retention_preview", tag = "sites",
    params(("id" = Uuid, Path), PreviewParams),
    responses((status = 200, body = p::RetentionPreview), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody), (status = 422, body = p::ErrorBody)))]
pub async fn retention_preview(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
    Query(q): Query<PreviewParams>,
) -> ApiResult<Json<p::RetentionPreview>> {
    let days = q.retention_days.map(RetentionDays::new).transpose()?;
    let preview = app.core.retention_preview(&auth.principal, SiteId(id), days).await?;
    let c = &preview.counts;
    Ok(Json(p::RetentionPreview {
        retention_days: preview.retention_days.map(|d| d.days()),
        cutoff: preview.cutoff.map(|t| t.0),
        conversations: c.conversations,
        messages: c.messages,
        attachments: c.attachments,
        page_views: c.page_views,
        contact_events: c.contact_events,
        contacts: c.contacts,
        oldest_kept_at: c.oldest_kept.map(|t| t.0),
    }))
}

/// Erase a contact
///
/// Removes everything the contact wrote or that describes them: their messages and
/// attachments (files included), page views, tracked events, transcript requests and
/// every attribute. Their conversations stay, with the team's messages and a
/// `contact_erased` event; the contact then answers `contact_not_found` everywhere and
/// their visitor token opens no session. Owners and admins.
#[utoipa::path(post, path = "/contacts/{id}/erase", operation_id = "erase_contact", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, body = p::ErasureReport), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody)))]
pub async fn erase(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<p::ErasureReport>> {
    let erased = app.core.erase_contact(&auth.principal, ContactId(id)).await?;
    let r = &erased.removed;
    Ok(Json(p::ErasureReport {
        conversations: erased.conversations,
        messages: r.messages,
        attachments: r.attachments,
        page_views: r.page_views,
        contact_events: r.contact_events,
    }))
}

/// Export a contact's data
///
/// Everything held about the contact as one JSON document: the contact, their
/// conversations with every event, page views, tracked events, the attachments with
/// their download links, the times proactive rules fired for them and their conversions;
/// the contact's lead score as it stands now. Owners and admins.
#[utoipa::path(get, path = "/contacts/{id}/export", operation_id = "export_contact", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, body = p::ContactExport), (status = 403, body = p::ErrorBody), (status = 404, body = p::ErrorBody)))]
pub async fn export(State(app): State<AppState>, auth: Auth, Path(id): Path<Uuid>) -> ApiResult<Json<p::ContactExport>> {
    let e = app.core.export_contact(&auth.principal, ContactId(id)).await?;
    let attachments = (e.conversations.iter().flat_map(|(_, events)| events))
        .filter_map(|ev| ev.data.message())
        .flat_map(|m| &m.attachments)
        .map(|a| p::Attachment::new(a, p::Viewer::Agent))
        .collect();
    Ok(Json(p::ContactExport {
        exported_at: e.exported_at.0,
        contact: (&e.contact).into(),
        conversations: (e.conversations.iter())
            .map(|(c, events)| p::ExportedConversation {
                conversation: c.into(),
                events: events.iter().map(|ev| p::Event::new(ev, p::Viewer::Agent)).collect(),
            })
            .collect(),
        page_views: e.page_views.iter().map(Into::into).collect(),
        events: e.events.iter().map(Into::into).collect(),
        attachments,
        firings: e.firings.iter().map(Into::into).collect(),
        conversions: e.conversions.iter().map(Into::into).collect(),
    }))
}
