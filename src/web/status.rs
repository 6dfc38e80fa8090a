//! `GET /status`: the operator's view (next runs, last runs, delivery queue). Not for the
//! public: served only with `?token=` equal to `$PAPERPOST_STATUS_TOKEN` (16+ characters),
//! or, when `[web] status_loopback = true`, to a client connecting from 127.0.0.1 or ::1
//! whose request carries no proxy header. Never inferred from headers (a proxy on the
//! same host makes every client look local) nor from the rest of 127.0.0.0/8. Anyone else
//! gets the ordinary 404.
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use maud::Markup;

use super::Shared;
use super::errors::WebError;

pub(crate) async fn page(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Markup, WebError> {
    let Some(render) = state.status.clone() else {
        return Err(WebError::NotFound);
    };
    let token = std::env::var("PAPERPOST_STATUS_TOKEN")
        .ok()
        .filter(|t| t.len() >= 16);
    let by_token = token.is_some_and(|t| {
        query
            .get("token")
            .is_some_and(|given| crate::store::constant_time_eq(given.as_bytes(), t.as_bytes()))
    });
    let allowed = by_token || (state.settings.status_loopback && is_local(peer, &headers));
    if !allowed {
        return Err(WebError::NotFound);
    }
    let now = (state.clock)();
    tokio::task::spawn_blocking(move || render(now))
        .await
        .map_err(|e| WebError::Unexpected(e.into()))?
        .map_err(WebError::Unexpected)
}

/// Headers a proxy adds: with any of them the request came through one, whatever the peer.
const PROXY_HEADERS: [&str; 6] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "via",
];

/// A peer on exactly 127.0.0.1 or ::1 (an IPv4-mapped ::ffff:127.0.0.1 too) that sent no
/// proxy header.
fn is_local(peer: SocketAddr, headers: &HeaderMap) -> bool {
    let ip = peer.ip().to_canonical();
    let local = ip == IpAddr::from([127, 0, 0, 1]) || ip == IpAddr::from(Ipv6Addr::LOCALHOST);
    local && !PROXY_HEADERS.iter().any(|h| headers.contains_key(*h))
}
