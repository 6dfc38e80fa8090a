//! Headers every response carries, and the request log.
//!
//! The CSP allows no script at all, inline styles (the pages and the email-look previews use
//! them), https/data images (paper thumbnails), and forms posting only to this site. No
//! referrer is sent: token URLs must not leak to the sites papers link to (operator pages,
//! which carry no token, send their own origin with their forms instead). Pages default to
//! `no-store` (they may show a subscriber's address); public pages set their own caching.
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    // Log the route template, never the path: paths carry tokens.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into());
    let method = request.method().clone();
    let started = Instant::now();
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    // Operator pages send their own (`same-origin`: their forms must carry an Origin).
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    tracing::debug!(
        %method,
        route,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}
