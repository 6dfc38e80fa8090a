//! `GET /status`: the operator's view (next runs, last runs, delivery queue). Not for the
//! public: served only with `?token=` equal to `$PAPERPOST_STATUS_TOKEN` (16+ characters),
//! or, when that is not set, only to a client on loopback that came through no proxy (no
//! `X-Forwarded-For`). Anyone else gets the ordinary 404.
use std::collections::HashMap;
use std::net::SocketAddr;

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
    let allowed = match token {
        Some(t) => query
            .get("token")
            .is_some_and(|given| crate::store::constant_time_eq(given.as_bytes(), t.as_bytes())),
        None => peer.ip().is_loopback() && !headers.contains_key("x-forwarded-for"),
    };
    if !allowed {
        return Err(WebError::NotFound);
    }
    let now = (state.clock)();
    tokio::task::spawn_blocking(move || render(now))
        .await
        .map_err(|e| WebError::Unexpected(e.into()))?
        .map_err(WebError::Unexpected)
}
