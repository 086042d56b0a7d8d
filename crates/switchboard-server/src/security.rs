//! Where a request really comes from, and the security headers every response carries.
//!
//! The client's address is the peer's, unless the peer is a trusted proxy
//! (`server.trusted_proxies`): then it is the last address in `X-Forwarded-For` that is
//! not a trusted proxy itself. An untrusted peer's `X-Forwarded-*` headers are ignored,
//! since anyone can send them. The same rule decides whether the request came over TLS
//! (`X-Forwarded-Proto: https` from a trusted proxy), or `server.public_url` says so.
//!
//! Invariant: one layer, [`headers`], sets the headers on every response of the router —
//! pages, API, assets, sockets' refusals, errors and the fallback — adding only what a
//! handler did not set itself (the widget frame's per-site `frame-ancestors` stays).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::{AppState, ServerConfig};

/// The policy of a response that brought none: it may load nothing and be framed by nobody.
const DEFAULT_CSP: &str = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// The same for a script (the dashboard's service worker is governed by its own
/// response's policy, and fetches from its origin).
const SCRIPT_CSP: &str = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const REFERRER_POLICY: &str = "strict-origin-when-cross-origin";
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The peer's address as the listener saw it (absent for a router served without
/// connection info, as in unit tests).
fn peer(parts_extensions: &axum::http::Extensions) -> Option<IpAddr> {
    parts_extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip())
}

fn trusted(config: &ServerConfig, ip: IpAddr) -> bool {
    config.trusted_proxies.iter().any(|range| range.contains(ip))
}

/// The client's address: the peer, or what trusted proxies say they forwarded.
pub fn client_ip(config: &ServerConfig, extensions: &axum::http::Extensions, headers: &HeaderMap) -> Option<IpAddr> {
    let peer = peer(extensions)?;
    if !trusted(config, peer) {
        return Some(peer);
    }
    // Each proxy appends the address it received from; read from the right and stop at
    // the first one that is not ours.
    let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
    let hops: Vec<IpAddr> = forwarded.filter_map(|hop| hop.trim().parse().ok()).collect();
    Some(hops.into_iter().rev().find(|ip| !trusted(config, *ip)).unwrap_or(peer))
}

/// Whether the client reached us over TLS, as far as the server can know.
pub fn behind_tls(config: &ServerConfig, extensions: &axum::http::Extensions, headers: &HeaderMap) -> bool {
    if config.public_url.as_deref().is_some_and(|u| u.starts_with("https://")) {
        return true;
    }
    let proto = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok());
    proto.is_some_and(|p| p.trim().eq_ignore_ascii_case("https")) && peer(extensions).is_some_and(|ip| trusted(config, ip))
}

/// The client's address as an extractor (see [`client_ip`]).
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(&app.config, &parts.extensions, &parts.headers)))
    }
}

/// The layer's function: runs the request, then adds what the response lacks.
pub async fn headers(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let tls = behind_tls(&app.config, request.extensions(), request.headers());
    let mut response = next.run(request).await;
    let not_modified = response.status() == axum::http::StatusCode::NOT_MODIFIED;
    secure(response.headers_mut(), tls, not_modified);
    response
}

/// Adds the security headers a response lacks; a policy without `frame-ancestors`
/// is given `frame-ancestors 'none'`. A `304 Not Modified` gets no policy: the browser
/// copies a 304's headers onto the page it kept, so a default policy there would replace
/// the page's own (and block its scripts).
pub fn secure(headers: &mut HeaderMap, tls: bool, not_modified: bool) {
    let script = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("javascript"));
    match headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()) {
        _ if not_modified => {}
        None => {
            let csp = if script { SCRIPT_CSP } else { DEFAULT_CSP };
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
        }
        Some(csp) if !csp.contains("frame-ancestors") => {
            if let Ok(v) = HeaderValue::from_str(&format!("{csp}; frame-ancestors 'none'")) {
                headers.insert(header::CONTENT_SECURITY_POLICY, v);
            }
        }
        Some(_) => {}
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static(REFERRER_POLICY));
    if tls {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
}

#[cfg(test)]
mod tests {
    use switchboard_domain::IpRange;

    use super::*;

    fn with_peer(ip: &str) -> axum::http::Extensions {
        let mut e = axum::http::Extensions::new();
        e.insert(ConnectInfo(SocketAddr::new(ip.parse().unwrap(), 4242)));
        e
    }

    fn forwarded(value: &str, proto: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        h.insert("x-forwarded-proto", HeaderValue::from_str(proto).unwrap());
        h
    }

    #[test]
    fn only_a_trusted_proxy_may_say_who_the_client_is_and_that_it_used_tls() {
        let config = ServerConfig { trusted_proxies: vec![IpRange::parse("10.0.0.0/8").unwrap()], ..ServerConfig::default() };
        let headers = forwarded("198.51.100.9, 203.0.113.5, 10.1.1.1", "https");
        let via_proxy = with_peer("10.0.0.2");
        assert_eq!(client_ip(&config, &via_proxy, &headers), Some("203.0.113.5".parse().unwrap()), "the last hop that is not ours");
        assert!(behind_tls(&config, &via_proxy, &headers));
        let direct = with_peer("192.0.2.1");
        assert_eq!(client_ip(&config, &direct, &headers), Some("192.0.2.1".parse().unwrap()), "anyone can send the header");
        assert!(!behind_tls(&config, &direct, &headers));
        assert_eq!(client_ip(&config, &via_proxy, &HeaderMap::new()), Some("10.0.0.2".parse().unwrap()));
        let public = ServerConfig { public_url: Some("https://chat.example".into()), ..ServerConfig::default() };
        assert!(behind_tls(&public, &direct, &HeaderMap::new()), "the configured URL says so");
    }

    #[test]
    fn a_policy_without_frame_ancestors_gets_one_and_a_set_one_is_kept() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
        secure(&mut h, false, false);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], "default-src 'none'; sandbox; frame-ancestors 'none'");
        let mut frame = HeaderMap::new();
        frame.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'self'; frame-ancestors https://shop.example"));
        secure(&mut frame, true, false);
        assert_eq!(frame[header::CONTENT_SECURITY_POLICY], "default-src 'self'; frame-ancestors https://shop.example");
        assert_eq!(frame[header::STRICT_TRANSPORT_SECURITY], HSTS);
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none(), "no HSTS without TLS");
    }

    #[test]
    fn a_not_modified_answer_leaves_the_kept_pages_policy_alone() {
        let mut h = HeaderMap::new();
        secure(&mut h, false, true);
        assert!(h.get(header::CONTENT_SECURITY_POLICY).is_none(), "a 304's headers replace the cached page's");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}
