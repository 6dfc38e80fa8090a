//! `/confirm/{token}`: the double opt-in. `GET` (and so `HEAD`) only shows a page with a
//! button and changes nothing: mail scanners and link previews fetch links, and must not
//! subscribe anyone. The button `POST`s back with a CSRF field bound to the token
//! ([`super::csrf`]), so only a page this server rendered for that link confirms.
//! Repeating it is harmless.
use axum::extract::{Path, State};
use maud::{Markup, html};

use super::errors::WebError;
use super::fields::FormData;
use super::{Shared, csrf, layout};
use crate::domain::Confirmation;
use crate::domain::{Subscriber, SubscriberStatus, TokenPurpose};
use crate::security::reader_token;

/// The CSRF form name of the confirmation page.
const FORM: &str = "confirm";

pub(crate) async fn show(
    State(state): State<Shared>,
    Path(token): Path<String>,
) -> Result<Markup, WebError> {
    let now = state.now();
    let t = token.clone();
    let outcome = state.db(move |s| s.confirmation_state(&t, now)).await?;
    match outcome {
        Confirmation::Open(_) => Ok(button_page(&state, &token)),
        other => answer(&state, other),
    }
}

pub(crate) async fn confirm(
    State(state): State<Shared>,
    Path(token): Path<String>,
    form: FormData,
) -> Result<Markup, WebError> {
    csrf::check(&state.secret, &token, FORM, form.get(csrf::FIELD))?;
    let now = state.now();
    let outcome = state.db(move |s| s.confirm_subscriber(&token, now)).await?;
    answer(&state, outcome)
}

/// The page for a link that would confirm: one button.
fn button_page(state: &Shared, token: &str) -> Markup {
    let here = state.path(&format!("confirm/{token}"));
    layout::message(
        state,
        "Confirm your subscription",
        html! {
            p { "One more click: confirm that you want the " (state.newsletter_name) " digest at this address." }
            form #confirm-form method="post" action=(here) {
                (csrf::field(&state.secret, token, FORM))
                button #confirm-submit .button type="submit" { "Confirm my subscription" }
            }
            p.muted { "Did not ask for this? Close this page: without the click nothing is sent." }
        },
    )
}

fn answer(state: &Shared, outcome: Confirmation) -> Result<Markup, WebError> {
    match outcome {
        Confirmation::Confirmed(sub) => {
            tracing::info!(subscriber = sub.id, "subscription confirmed");
            Ok(page(state, "You're subscribed", &sub, true))
        }
        Confirmation::AlreadyUsed(sub) if sub.status == SubscriberStatus::Pending => {
            Ok(layout::message(
                state,
                "This link was already used",
                html! {
                    p { "A newer confirmation mail is on its way or in your inbox: use the link in that one." }
                },
            ))
        }
        Confirmation::AlreadyUsed(sub) => Ok(page(state, "Already confirmed", &sub, false)),
        // Only `confirmation_state` says `Open`; a POST never gets it.
        Confirmation::Open(_) | Confirmation::Invalid => Err(WebError::InvalidLink),
        Confirmation::Expired => Err(WebError::Expired),
    }
}

fn page(state: &Shared, title: &str, sub: &Subscriber, first_time: bool) -> Markup {
    let manage = reader_token(&state.secret, TokenPurpose::Manage, sub);
    let prefs = state.path(&format!("preferences/{manage}"));
    let when = match sub.frequency {
        crate::domain::Frequency::Weekly => "every Monday",
        crate::domain::Frequency::Daily => "every day",
    };
    layout::message(
        state,
        title,
        html! {
            @if first_time {
                p { "Thanks for confirming. Your digest will arrive " (when) "." }
            } @else {
                p { "This address is already confirmed; nothing has changed." }
            }
            p.muted {
                "Your preferences page lets you change topics, pause the digest or unsubscribe. "
                "Its link is in every digest too."
            }
            p.actions {
                a.button #preferences-link href=(prefs) { "Manage preferences" }
                " "
                a.button.secondary href=(state.path("archive")) { "Read past issues" }
            }
        },
    )
}
