//! The preferences page opened with a legacy token (`{id}.{secret}`, the one token links
//! carried before tokens per purpose). Such a link may sit in an old digest, a forwarded
//! one or a feed reader, so it shows neither the reader's address nor their settings: only a
//! button that mails a fresh preferences link (with the reader's `manage` token) to the
//! address on file. Those mails count against the sign-up mail limits (per address and per
//! client IP, `[web] max_confirmations_per_address_per_day` and
//! `max_subscribes_per_ip_per_hour`), and the answer is the same whether a mail went out.
use std::net::IpAddr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::errors::WebError;
use super::fields::FormData;
use super::limits::{address_key, attempt_limits, ip_key};
use super::reader_link::ReaderLink;
use super::{Shared, csrf, layout};
use crate::domain::{AttemptVerdict, SubscriberStatus, TokenPurpose};
use crate::render::RenderedNotice;

/// The CSRF form name of the "mail me a fresh link" button.
const FORM: &str = "fresh-link";

/// The page a legacy link opens: what happened to it, and the button.
pub(crate) fn offer(state: &Shared, token: &str) -> Markup {
    let here = state.path(&format!("preferences/{token}"));
    layout::message(
        state,
        "Get a fresh preferences link",
        html! {
            p #fresh-link-offer {
                "This link comes from an older mail. Preferences links now work only from "
                "a mail: we can send a fresh one to the address this link was sent to."
            }
            form #fresh-link-form method="post" action=(here) {
                (csrf::field(&state.secret, token, FORM))
                input type="hidden" name="action" value="mail-link";
                button #fresh-link-submit .button type="submit" { "Mail me a fresh link" }
            }
            p.muted {
                "The older mail's other links still work: its papers, your feed, 👍/👎 and "
                "unsubscribe."
            }
        },
    )
}

/// A post to the preferences page with a legacy link: the button's post mails a fresh link
/// (within the limits); any other post (the old page's forms) changes nothing and gets the
/// offer again, 403.
pub(crate) async fn post(
    state: &Shared,
    reader: &ReaderLink,
    ip: Option<IpAddr>,
    form: &FormData,
) -> Result<Response, WebError> {
    if form.get("action") != Some("mail-link") {
        let page = offer(state, &reader.token);
        return Ok((StatusCode::FORBIDDEN, page).into_response());
    }
    csrf::check(&state.secret, &reader.token, FORM, form.get(csrf::FIELD))?;
    let sub = reader.sub.clone();
    let keys = (
        ip_key(&state.secret, ip),
        address_key(&state.secret, &sub.email),
    );
    let (now, limits) = (state.now(), attempt_limits(&state.settings));
    let verdict = state
        .db(move |s| s.record_subscribe_attempt(&keys.0, &keys.1, now, &limits))
        .await?;
    match verdict {
        AttemptVerdict::Allowed if sub.status != SubscriberStatus::Unsubscribed => {
            let manage = reader.token_for(state, TokenPurpose::Manage);
            let url = state.url(&format!("preferences/{manage}"));
            let mail = fresh_link_mail(state, &url);
            state
                .mailer
                .send(&sub.email, mail, "preferences", sub.id, now);
            tracing::info!(subscriber = sub.id, "fresh preferences link mailed");
        }
        AttemptVerdict::Allowed => {
            tracing::info!(
                subscriber = sub.id,
                "unsubscribed: no preferences link mailed"
            );
        }
        verdict => tracing::info!(
            subscriber = sub.id,
            ?verdict,
            "fresh preferences link over a rate limit: no mail sent"
        ),
    }
    Ok(sent(state).into_response())
}

/// The one answer to the button, whatever happened.
fn sent(state: &Shared) -> Markup {
    layout::message(
        state,
        "Check your inbox",
        html! {
            p #fresh-link-sent {
                "A mail with a fresh preferences link is on its way to the address this link "
                "was sent to (unless several were sent today already). Nothing after a few "
                "minutes? Look in the spam folder."
            }
            p.actions { a.button.secondary href=(state.path("archive")) { "Read past issues" } }
        },
    )
}

fn fresh_link_mail(state: &Shared, url: &str) -> RenderedNotice {
    let name = &state.newsletter_name;
    super::subscribe::preferences_link_mail(
        state,
        url,
        &format!("Your {name} preferences link"),
        "Your preferences link",
        &format!(
            "Someone (hopefully you) asked for a fresh link to this address's {name} preferences."
        ),
    )
}
