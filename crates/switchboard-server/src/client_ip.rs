//! The address a request comes from, for the limits keyed by address (new visitor
//! sessions, sign-in attempts): the connection's peer, or, only when the server is
//! told it sits behind a proxy (`server.trust_forwarded_for`), the last address of
//! `X-Forwarded-For`, which is the one that proxy added. Earlier entries are whatever
//! the client wrote and are never trusted.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::state::AppState;

/// `None` when the server runs without connection info (a router driven in a unit test).
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(Self(client_ip(peer, &parts.headers, app.config.trust_forwarded_for)))
    }
}

pub fn client_ip(peer: Option<IpAddr>, headers: &axum::http::HeaderMap, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).next_back();
        if let Some(ip) = forwarded.and_then(|v| v.rsplit(',').next()).and_then(|ip| ip.trim().parse::<IpAddr>().ok()) {
            return Some(ip);
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    use super::*;

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 198.51.100.7".parse().unwrap());
        assert_eq!(client_ip(Some(peer), &headers, false), Some(peer), "a client can write any header");
        assert_eq!(client_ip(Some(peer), &headers, true), Some("198.51.100.7".parse().unwrap()), "the proxy's own entry is the last");
        headers.insert("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(client_ip(Some(peer), &headers, true), Some(peer));
        assert_eq!(client_ip(Some(peer), &HeaderMap::new(), true), Some(peer));
    }
}
