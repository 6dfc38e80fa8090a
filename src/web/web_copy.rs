//! `GET /d/{reader token}/{edition}`: a reader's own copy of a digest they were sent — the
//! mail, rendered again by the code that rendered it from what was planned (the picks and
//! the editor's note are stored with the delivery), without the reader's links and address
//! (no preferences, 👍/👎, unsubscribe or feed link: a read-only link leads nowhere else).
//! Behind the reader's `copy` token (the feed's links use its `feed` token; a legacy token
//! works too), so unguessable; revoking either, or unsubscribing, retires those addresses,
//! and an unsubscribed reader's copies are gone. Anything else is the ordinary 404. Never
//! indexed (`X-Robots-Tag: noindex`), never cached by proxies.
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::Shared;
use super::errors::WebError;
use super::reader_link::{ReaderLink, reader_link};
use crate::domain::{SubscriberStatus, TokenPurpose};
use crate::pipeline::render_sent;

pub(crate) async fn show(
    State(state): State<Shared>,
    Path((token, edition)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let reader = reader_of(&state, token, &[TokenPurpose::Copy, TokenPurpose::Feed])
        .await?
        .sub;
    let renderer = state.renderer();
    let html = state
        .db(move |s| {
            let Some(sent) = s.sent_digest(reader.id, &edition)? else {
                return anyhow::Ok(None);
            };
            Ok(Some(render_sent(s, &renderer, &reader, &sent)?.html))
        })
        .await?
        .ok_or(WebError::NotFound)?;
    let mut response = Html(html).into_response();
    private(&mut response);
    Ok(response)
}

/// The reader a token for one of `purposes` belongs to, unless they unsubscribed; anything
/// else is the ordinary 404 (these addresses are not pages anyone is sent to by mistake).
pub(crate) async fn reader_of(
    state: &Shared,
    token: String,
    purposes: &[TokenPurpose],
) -> Result<ReaderLink, WebError> {
    match reader_link(state, token, purposes).await {
        Ok(r) if r.sub.status != SubscriberStatus::Unsubscribed => Ok(r),
        Ok(_) | Err(WebError::InvalidLink) => Err(WebError::NotFound),
        Err(e) => Err(e),
    }
}

/// A reader's own page: not for search engines, not for shared caches.
pub(crate) fn private(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
}
