//! `GET /d/{reader token}/{edition}`: a reader's own copy of a digest they were sent — the
//! mail's HTML, rendered again by the code that rendered the mail from what was planned
//! (the picks and the editor's note are stored with the delivery). Behind the reader's
//! capability token, so unguessable; the token changes when the reader unsubscribes, and an
//! unsubscribed reader's copies are gone too. Anything else is the ordinary 404. Never
//! indexed (`X-Robots-Tag: noindex`), never cached by proxies.
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::Shared;
use super::errors::WebError;
use crate::domain::{Subscriber, SubscriberStatus};
use crate::pipeline::render_sent;
use crate::store::Store;

pub(crate) async fn show(
    State(state): State<Shared>,
    Path((token, edition)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let renderer = state.renderer();
    let html = state
        .db(move |s| {
            let Some(reader) = reader_of(s, &token)? else {
                return Ok(None);
            };
            let Some(sent) = s.sent_digest(reader.id, &edition)? else {
                return Ok(None);
            };
            Ok(Some(render_sent(s, &renderer, &reader, &sent)?.html))
        })
        .await?
        .ok_or(WebError::NotFound)?;
    let mut response = Html(html).into_response();
    private(&mut response);
    Ok(response)
}

/// The reader a token belongs to, unless they unsubscribed.
pub(crate) fn reader_of(store: &Store, token: &str) -> anyhow::Result<Option<Subscriber>> {
    Ok(store
        .subscriber_by_token(token)?
        .filter(|s| s.status != SubscriberStatus::Unsubscribed))
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
