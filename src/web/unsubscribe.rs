//! Unsubscribe, per RFC 8058. `GET` only shows a page with a button — mail scanners fetch
//! links, so a GET must change nothing. `POST` with the body `List-Unsubscribe=One-Click`
//! (what mail clients send, and what the page's button sends) unsubscribes at once and
//! answers 200 without a redirect. No CSRF field: mail clients cannot have one, and the
//! worst a forged post can do is what the link's owner can do with one click anyway.
//!
//! The link carries the reader's `manage` token (a legacy token from an older mail works
//! too; its pages do not show the address). Unsubscribing revokes every token of the
//! reader, so this link and every other of theirs stop working.
use axum::extract::{Path, Request, State};
use axum::http::header;
use maud::{Markup, html};

use super::errors::WebError;
use super::fields::read_body;
use super::reader_link::{ReaderLink, reader_link};
use super::{Shared, layout};
use crate::domain::SubscriberUpdate;
use crate::domain::{SubscriberStatus, TokenPurpose};

pub(crate) async fn show(
    State(state): State<Shared>,
    Path(token): Path<String>,
) -> Result<Markup, WebError> {
    let reader = reader_link(&state, token, &[TokenPurpose::Manage]).await?;
    if reader.sub.status == SubscriberStatus::Unsubscribed {
        return Ok(unsubscribed_page(&state, &reader));
    }
    let here = state.path(&format!("unsubscribe/{}", reader.token));
    let prefs = state.path(&format!("preferences/{}", reader.token));
    Ok(layout::message(
        &state,
        "Unsubscribe?",
        html! {
            p { (who(&reader)) " will get no more digests from " (state.newsletter_name) "." }
            form #unsubscribe-form method="post" action=(here) {
                input type="hidden" name="List-Unsubscribe" value="One-Click";
                button #unsubscribe-submit .button.danger type="submit" { "Unsubscribe" }
            }
            p.muted {
                "Only too many mails? "
                a href=(prefs) { "Pause the digest or change your topics" } " instead."
            }
        },
    ))
}

pub(crate) async fn one_click(
    State(state): State<Shared>,
    Path(token): Path<String>,
    request: Request,
) -> Result<Markup, WebError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let body = read_body(request, &state).await?;
    let reader = reader_link(&state, token, &[TokenPurpose::Manage]).await?;
    if !is_one_click(&content_type, &body) {
        return Err(WebError::BadRequest(
            "An unsubscribe request must carry List-Unsubscribe=One-Click. Use the button on the \
             unsubscribe page."
                .into(),
        ));
    }
    if reader.sub.status != SubscriberStatus::Unsubscribed {
        let (id, now) = (reader.sub.id, state.now());
        let update = SubscriberUpdate {
            status: Some(SubscriberStatus::Unsubscribed),
            ..Default::default()
        };
        state
            .db(move |s| s.update_subscriber(id, &update, now))
            .await?;
        tracing::info!(subscriber = id, "unsubscribed");
    }
    Ok(unsubscribed_page(&state, &reader))
}

/// RFC 8058 says the body is `List-Unsubscribe=One-Click`, sent as
/// `multipart/form-data` (SHOULD) or urlencoded (MAY); both are accepted.
fn is_one_click(content_type: &str, body: &[u8]) -> bool {
    if content_type.starts_with("multipart/form-data") {
        let text = String::from_utf8_lossy(body);
        return text.contains("name=\"List-Unsubscribe\"") && text.contains("One-Click");
    }
    url::form_urlencoded::parse(body).any(|(k, v)| k == "List-Unsubscribe" && v == "One-Click")
}

/// The address the link belongs to, or "This address" for a legacy link (which may sit in
/// a feed reader or a forwarded mail: it must not tell whose it is).
fn who(reader: &ReaderLink) -> String {
    if reader.is_legacy() {
        "This address".into()
    } else {
        reader.sub.email.to_string()
    }
}

fn unsubscribed_page(state: &Shared, reader: &ReaderLink) -> Markup {
    layout::message(
        state,
        "You're unsubscribed",
        html! {
            p #unsubscribed { (who(reader)) " will get no more digests from " (state.newsletter_name) "." }
            p.muted { "Changed your mind? You can subscribe again at any time." }
            p.actions {
                a.button.secondary href={ (state.path("")) "#subscribe" } { "Subscribe again" }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_click_bodies_are_recognised_in_both_encodings() {
        assert!(is_one_click(
            "application/x-www-form-urlencoded",
            b"List-Unsubscribe=One-Click"
        ));
        let multipart = b"--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n";
        assert!(is_one_click("multipart/form-data; boundary=b", multipart));
        for bad in [&b""[..], b"List-Unsubscribe=No", b"x=One-Click"] {
            assert!(!is_one_click("application/x-www-form-urlencoded", bad));
        }
    }
}
