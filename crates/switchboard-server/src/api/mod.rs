//! The REST API under `/api/v1`, with its OpenAPI document generated from the handlers.

mod admin;
mod attachments;
mod audit;
mod bans;
pub mod contacts;
mod contract;
pub mod conversations;
mod inboxes;
mod invitations;
mod parse;
mod privacy;
mod qr;
mod sessions;
mod triggers;
mod two_factor;
mod visitors;

use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard API",
        description = "Live-chat support: conversations, contacts, agents, sites. \
        Authenticate with the session cookie (plus `X-CSRF-Token` on changes) or `Authorization: Bearer <api token>`. \
        Errors are `{\"code\", \"message\", \"fields\"}` with stable snake_case codes."
    ),
    components(schemas(
        switchboard_proto::VisitorIn,
        switchboard_proto::VisitorOut,
        switchboard_proto::AgentIn,
        switchboard_proto::AgentOut,
        // Only a query parameter names it, which utoipa does not register by itself.
        switchboard_proto::ConversationSort
    ))
)]
struct ApiDoc;

/// The API routes and the OpenAPI document describing exactly them.
pub fn router(max_upload_bytes: u64) -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    // Multipart framing adds a little to the file itself; the use case enforces the exact cap.
    let upload_limit = DefaultBodyLimit::max(max_upload_bytes as usize + 64 * 1024);
    let uploads = OpenApiRouter::new().routes(routes!(attachments::upload)).routes(routes!(attachments::widget_upload)).layer(upload_limit);
    let api = OpenApiRouter::new()
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::login_two_factor))
        .routes(routes!(sessions::logout))
        .routes(routes!(sessions::me, sessions::update_me))
        .routes(routes!(sessions::change_password))
        .routes(routes!(sessions::revoke_sessions))
        .routes(routes!(sessions::my_sessions))
        .routes(routes!(sessions::end_my_session))
        .routes(routes!(sessions::agent_sessions))
        .routes(routes!(sessions::end_agent_session))
        .routes(routes!(two_factor::status))
        .routes(routes!(two_factor::setup))
        .routes(routes!(two_factor::enable))
        .routes(routes!(two_factor::disable))
        .routes(routes!(audit::list))
        .routes(routes!(audit::csv))
        .routes(routes!(conversations::list))
        .routes(routes!(conversations::counts))
        .routes(routes!(conversations::get))
        .routes(routes!(conversations::history, conversations::reply))
        .routes(routes!(conversations::note))
        .routes(routes!(conversations::assign))
        .routes(routes!(conversations::status))
        .routes(routes!(conversations::labels))
        .routes(routes!(conversations::priority))
        .routes(routes!(conversations::read))
        .routes(routes!(conversations::claim))
        .routes(routes!(conversations::transfer))
        .routes(routes!(conversations::queues))
        .routes(routes!(contacts::list))
        .routes(routes!(contacts::get, contacts::update))
        .routes(routes!(contacts::pages))
        .routes(routes!(contacts::events))
        .routes(routes!(contacts::search))
        .routes(routes!(visitors::live))
        .routes(routes!(visitors::visits))
        .routes(routes!(visitors::invite))
        .routes(routes!(privacy::erase))
        .routes(routes!(privacy::export))
        .routes(routes!(privacy::retention_preview))
        .routes(routes!(admin::list_agents, admin::create_agent))
        .routes(routes!(invitations::list, invitations::invite))
        .routes(routes!(invitations::revoke))
        .routes(routes!(invitations::resend))
        .routes(routes!(invitations::preview, invitations::accept))
        .routes(routes!(admin::get_agent, admin::update_agent, admin::delete_agent))
        .routes(routes!(admin::reset_agent_password))
        .routes(routes!(admin::list_teams, admin::create_team))
        .routes(routes!(admin::get_team, admin::update_team, admin::delete_team))
        .routes(routes!(admin::list_sites, admin::create_site))
        .routes(routes!(admin::get_site, admin::update_site, admin::delete_site))
        .routes(routes!(admin::preview_hours))
        .routes(routes!(qr::site_qr))
        .routes(routes!(admin::list_canned, admin::create_canned))
        .routes(routes!(admin::get_canned, admin::update_canned, admin::delete_canned))
        .routes(routes!(admin::list_labels, admin::create_label))
        .routes(routes!(admin::update_label, admin::delete_label))
        .routes(routes!(inboxes::list_inboxes, inboxes::create_inbox))
        .routes(routes!(inboxes::get_workspace, inboxes::update_workspace))
        .routes(routes!(admin::list_tokens, admin::create_token))
        .routes(routes!(admin::delete_token))
        .routes(routes!(bans::list_bans, bans::create_ban))
        .routes(routes!(bans::lift_ban))
        .routes(routes!(bans::block_visitor))
        .routes(routes!(triggers::list, triggers::create))
        .routes(routes!(triggers::get, triggers::update, triggers::delete))
        .routes(routes!(triggers::get_scoring, triggers::set_scoring))
        .routes(routes!(triggers::conversions))
        .routes(routes!(attachments::download))
        .routes(routes!(attachments::widget_site))
        .routes(routes!(attachments::widget_download))
        .merge(uploads);
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", api).split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    contract::complete(&mut doc);
    (router, doc)
}
