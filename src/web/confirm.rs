//! `GET /confirm/{token}`: the double opt-in click. Repeating it is harmless.
use axum::extract::{Path, State};
use maud::{Markup, html};

use super::errors::WebError;
use super::{Shared, layout};
use crate::domain::{Subscriber, SubscriberStatus};
use crate::store::Confirmation;

pub(crate) async fn confirm(
    State(state): State<Shared>,
    Path(token): Path<String>,
) -> Result<Markup, WebError> {
    let now = state.now();
    let outcome = state.db(move |s| s.confirm_subscriber(&token, now)).await?;
    match outcome {
        Confirmation::Confirmed(sub) => {
            tracing::info!(subscriber = sub.id, "subscription confirmed");
            Ok(page(&state, "You're subscribed", &sub, true))
        }
        Confirmation::AlreadyUsed(sub) if sub.status == SubscriberStatus::Pending => {
            Ok(layout::message(
                &state,
                "This link was already used",
                html! {
                    p { "A newer confirmation mail is on its way or in your inbox: use the link in that one." }
                },
            ))
        }
        Confirmation::AlreadyUsed(sub) => Ok(page(&state, "Already confirmed", &sub, false)),
        Confirmation::Expired => Err(WebError::Expired),
        Confirmation::Invalid => Err(WebError::InvalidLink),
    }
}

fn page(state: &Shared, title: &str, sub: &Subscriber, first_time: bool) -> Markup {
    let prefs = state.path(&format!("preferences/{}", sub.public_token()));
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
