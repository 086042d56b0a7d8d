//! What every operation shares, added to the OpenAPI document once instead of on each
//! handler: how callers authenticate (security schemes and each operation's
//! requirement), and the error statuses the extractors and the store can answer with
//! (a path id that does not parse, a body that is not JSON, a session that expired, a
//! database that is down). Each handler's `#[utoipa::path]` declares only what is its own.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// Operations anyone may call: signing in, the site's public appearance, and an
/// invitation's page (the link is the key).
const PUBLIC: [&str; 4] = ["login", "widget_site", "get_invitation", "accept_invitation"];
/// Operations a visitor calls with their visitor token.
const VISITOR: [&str; 2] = ["widget_upload", "widget_download"];

pub fn complete(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "sb_session",
            "The dashboard's session cookie, set by `POST /api/v1/sessions`. Requests that change something also send the \
             session's CSRF token (from the login answer or `GET /api/v1/me`) in `X-CSRF-Token`.",
        ))),
    );
    components.add_security_scheme(
        "csrf",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-CSRF-Token",
            "The session's CSRF token, required with the session cookie on every request that is not a GET.",
        ))),
    );
    components.add_security_scheme("api_token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    components.add_security_scheme(
        "visitor_token",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "`Visitor <token>`, the token the visitor socket's `welcome` gave; downloads may pass it as `?token=` instead.",
        ))),
    );
    for item in doc.paths.paths.values_mut() {
        for (operation, safe) in operations(item) {
            complete_operation(operation, safe);
        }
    }
}

/// The operations of a path, each with whether its method changes nothing.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (&mut Operation, bool)> {
    [
        (&mut item.get, true),
        (&mut item.head, true),
        (&mut item.post, false),
        (&mut item.put, false),
        (&mut item.patch, false),
        (&mut item.delete, false),
    ]
    .into_iter()
    .filter_map(|(op, safe)| op.as_mut().map(|op| (op, safe)))
}

fn complete_operation(op: &mut Operation, safe: bool) {
    let id = op.operation_id.clone().unwrap_or_default();
    let agent = !PUBLIC.contains(&id.as_str()) && !VISITOR.contains(&id.as_str());
    if agent {
        let session = if safe { SecurityRequirement::new("session", Vec::<String>::new()) } else { session_with_csrf() };
        op.security = Some(vec![session, SecurityRequirement::new("api_token", Vec::<String>::new())]);
    } else if VISITOR.contains(&id.as_str()) {
        op.security = Some(vec![SecurityRequirement::new("visitor_token", Vec::<String>::new())]);
    }

    let params = op.parameters.as_deref().unwrap_or_default();
    let in_path = params.iter().any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path));
    let in_query = params.iter().any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query));
    let multipart = op.request_body.as_ref().is_some_and(|b| b.content.contains_key("multipart/form-data"));
    let json_body = op.request_body.is_some() && !multipart;

    let mut bad_request = vec![];
    if in_path {
        bad_request.push("`invalid_id`: a path id does not parse");
    }
    if in_query {
        bad_request.push("`invalid_query`: a query parameter does not parse");
    }
    if json_body {
        bad_request.push("`invalid_json`: the body is not JSON of the right shape");
    }
    if multipart {
        bad_request.push("`invalid_multipart`: not a multipart form with a `file` part");
    }
    if !bad_request.is_empty() {
        add(op, "400", &bad_request.join("; "));
    }
    if agent {
        add(op, "401", "`unauthenticated`: no session, or it expired; `invalid_token`: the API token is not valid");
        if !safe {
            add(op, "403", "`csrf_mismatch`: the session's `X-CSRF-Token` is missing or wrong");
        }
    } else if VISITOR.contains(&id.as_str()) {
        add(op, "401", "`invalid_token` or `token_expired`: the visitor token");
    }
    if in_path {
        add(op, "404", "The thing the path names does not exist in this workspace (`<entity>_not_found`)");
    }
    if json_body || multipart {
        add(op, "413", "`payload_too_large`: the body is above the limit");
        add(op, "415", "`unsupported_media_type`: the body's content type is not accepted");
    }
    if json_body || multipart || in_query {
        add(op, "422", "`validation_failed`: a value is wrong; `fields` names it");
    }
    if agent {
        add(op, "429", "`rate_limited`: too many calls with this API token or session; retry after `Retry-After` seconds");
    } else if id == "login" {
        add(op, "429", "`rate_limited`: too many sign-in attempts for this e-mail or from this address; retry after `Retry-After` seconds");
    } else if id == "widget_upload" {
        add(op, "429", "`rate_limited`: too many uploads from this visitor or to this site; retry after `Retry-After` seconds");
    }
    add(op, "503", "`unavailable`: the database cannot be reached, retry later");
}

fn session_with_csrf() -> SecurityRequirement {
    SecurityRequirement::new("session", Vec::<String>::new()).add("csrf", Vec::<String>::new())
}

/// Documents an error status, unless the handler already described it in its own words.
fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses.responses.entry(status.to_owned()).or_insert_with(|| RefOr::T(error_response(description)));
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
        .build()
}
