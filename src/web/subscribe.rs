//! `POST /subscribe`: double opt-in without address enumeration.
//!
//! A valid form always gets the same "check your inbox" page, byte for byte, whether the
//! address is new, pending, active or over a limit; only the mail differs:
//! - new, pending or unsubscribed address → pending, with the posted topics and delivery
//!   time, and a
//!   confirmation mail with a fresh single-use link;
//! - active or paused address → nothing changes; a mail with their preferences link;
//! - an address on the suppression list (it bounced, or its reader complained) → a
//!   confirmation mail all the same: the reader may have fixed their mailbox, and clicking
//!   its link proves the address takes mail again, which lifts the suppression (an active
//!   but suppressed reader keeps their settings until then; nothing changes without the
//!   click);
//! - over the per-address or per-IP limit → no mail.
//!
//! The mail goes out in the background, so the answer does not wait on (or reveal) it.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use maud::{Markup, html};

use super::errors::WebError;
use super::fields::{Delivery, DeliveryFields, FormData, TopicFields};
use super::limits::{ClientIp, address_key, attempt_limits, ip_key};
use super::{Shared, home, layout};
use crate::domain::{AttemptVerdict, NewSubscriber, SubscriberUpdate};
use crate::domain::{
    Frequency, Subscriber, SubscriberEmail, SubscriberStatus, TokenPurpose, Topics,
};
use crate::render::{Notice, render_notice};
use crate::security::reader_token;
use crate::store::{Store, StoreError};

pub(crate) async fn subscribe(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    form: FormData,
) -> Result<Response, WebError> {
    let raw_email = form.get("email").unwrap_or_default();
    let fields = TopicFields::from_form(&form);
    let delivery_fields = DeliveryFields::from_form(&form);
    let parsed = (
        SubscriberEmail::parse(raw_email),
        fields.parse(),
        delivery_fields.parse(),
    );
    let (email, topics, frequency, delivery) = match parsed {
        (Ok(email), Ok((topics, frequency)), Ok(delivery)) => (email, topics, frequency, delivery),
        (email, parsed, delivery) => {
            let mut errors: Vec<String> = email
                .err()
                .map(|e| format!("Email: {e}."))
                .into_iter()
                .collect();
            errors.extend(parsed.err().unwrap_or_default());
            errors.extend(delivery.err().unwrap_or_default());
            let form = home::SignUp {
                email: raw_email,
                fields: &fields,
                delivery: &delivery_fields,
                errors: &errors,
            };
            let page = home::page(&state, &form).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    // Counting the attempt, storing the sign-up and queueing its mail run as one task of
    // their own: a client that hangs up mid-request drops this handler, and with it any
    // await in progress — after the store work (which runs to its end on the blocking pool)
    // but before the mail, that left a pending row whose confirmation was never sent, yet
    // counted against the address's daily limit (tests/bench/web-load.sh compares rows and
    // mails). The task counts as a mail in flight, so a graceful shutdown waits for it.
    let busy = state.mailer.in_flight();
    let work = tokio::spawn({
        let state = state.clone();
        async move {
            let _busy = busy;
            record_and_sign_up(state, ip, email, topics, frequency, delivery).await
        }
    });
    work.await.map_err(|e| WebError::Unexpected(e.into()))??;
    Ok(check_your_inbox(&state).into_response())
}

async fn record_and_sign_up(
    state: Shared,
    ip: Option<std::net::IpAddr>,
    email: SubscriberEmail,
    topics: Topics,
    frequency: Frequency,
    delivery: Delivery,
) -> Result<(), WebError> {
    let (ip, address) = (
        ip_key(&state.secret, ip),
        address_key(&state.secret, &email),
    );
    let (now, limits) = (state.now(), attempt_limits(&state.settings));
    let verdict = state
        .db(move |s| s.record_subscribe_attempt(&ip, &address, now, &limits))
        .await?;
    if verdict == AttemptVerdict::Allowed {
        sign_up(&state, email, topics, frequency, delivery).await
    } else {
        tracing::info!(
            ?verdict,
            "subscribe attempt over a rate limit: no mail sent"
        );
        Ok(())
    }
}

/// What to mail after a permitted attempt.
enum Next {
    Confirm(Subscriber, String),
    AlreadySubscribed(Subscriber),
}

async fn sign_up(
    state: &Shared,
    email: SubscriberEmail,
    topics: Topics,
    frequency: Frequency,
    delivery: Delivery,
) -> Result<(), WebError> {
    let now = state.now();
    let ttl = Duration::hours(state.settings.confirm_ttl_hours.into());
    let next = state
        .db(move |s| prepare(s, email, topics, frequency, delivery, now, ttl))
        .await?;
    match next {
        Next::Confirm(sub, token) => {
            tracing::info!(subscriber = sub.id, "confirmation mail queued");
            let url = state.url(&format!("confirm/{token}"));
            let notice = confirmation_mail(state, &url);
            state
                .mailer
                .send(&sub.email, notice, "confirm", sub.id, now);
        }
        Next::AlreadySubscribed(sub) => {
            tracing::info!(
                subscriber = sub.id,
                "already subscribed: preferences link queued"
            );
            let manage = reader_token(&state.secret, TokenPurpose::Manage, &sub);
            let url = state.url(&format!("preferences/{manage}"));
            let notice = already_subscribed_mail(state, &url);
            state.mailer.send(&sub.email, notice, "known", sub.id, now);
        }
    }
    Ok(())
}

fn prepare(
    store: &Store,
    email: SubscriberEmail,
    topics: Topics,
    frequency: Frequency,
    (timezone, send_hour): Delivery,
    now: chrono::DateTime<chrono::Utc>,
    ttl: Duration,
) -> anyhow::Result<Next> {
    let suppressed = store.is_suppressed(email.as_ref())?;
    let existing = match store.subscriber_by_email(email.as_ref())? {
        Some(s) => s,
        None => {
            let new = NewSubscriber {
                status: SubscriberStatus::Pending,
                frequency,
                timezone,
                send_hour,
                ..NewSubscriber::active(email.clone(), topics.clone())
            };
            match store.add_subscriber(&new, now) {
                Ok(s) => s,
                // Another request added it meanwhile: go on with theirs.
                Err(StoreError::Conflict { .. }) => store
                    .subscriber_by_email(email.as_ref())?
                    .ok_or_else(|| anyhow::anyhow!("subscriber vanished while signing up"))?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    if matches!(
        existing.status,
        SubscriberStatus::Active | SubscriberStatus::Paused
    ) {
        if suppressed {
            // Confirming lifts the suppression; the reader's settings stay as they are.
            let token = store.create_confirmation(existing.id, now, ttl)?;
            return Ok(Next::Confirm(existing, token));
        }
        return Ok(Next::AlreadySubscribed(existing));
    }
    // Pending (again): the latest form's topics and delivery time are what the
    // confirmation confirms.
    let update = SubscriberUpdate {
        status: Some(SubscriberStatus::Pending),
        topics: Some(topics),
        frequency: Some(frequency),
        timezone: Some(timezone),
        send_hour: Some(send_hour),
        ..Default::default()
    };
    let sub = store
        .update_subscriber(existing.id, &update, now)?
        .unwrap_or(existing);
    let token = store.create_confirmation(sub.id, now, ttl)?;
    Ok(Next::Confirm(sub, token))
}

/// A notice mail in the newsletter's look (its `[render] accent`).
fn notice(state: &Shared, n: &Notice<'_>) -> crate::render::RenderedNotice {
    let mut mail = render_notice(n);
    mail.html = crate::render::with_accent(mail.html, state.accent.as_ref());
    mail
}

fn confirmation_mail(state: &Shared, url: &str) -> crate::render::RenderedNotice {
    let name = &state.newsletter_name;
    let subject = format!("Confirm your subscription to {name}");
    let intro = format!(
        "Someone (hopefully you) asked to receive the {name} digest of new research papers at this address."
    );
    let expiry = format!(
        "The link works for {} hours. If you did not ask for this, ignore this mail: without a click nothing is sent.",
        state.settings.confirm_ttl_hours
    );
    notice(
        state,
        &Notice {
            newsletter_name: name,
            base_url: &state.base_url,
            subject: &subject,
            heading: "One click to confirm",
            paragraphs: &[
                &intro,
                "Confirm your address and the first digest is on its way.",
            ],
            button: Some(("Confirm my subscription", url)),
            small_print: &[&expiry],
        },
    )
}

fn already_subscribed_mail(state: &Shared, url: &str) -> crate::render::RenderedNotice {
    let name = &state.newsletter_name;
    preferences_link_mail(
        state,
        url,
        &format!("You're already subscribed to {name}"),
        "You're already subscribed",
        &format!(
            "Someone (hopefully you) tried to subscribe this address to {name}, but it already gets the digest."
        ),
    )
}

/// A mail whose button opens the reader's preferences (`url`), saying `intro` first.
pub(crate) fn preferences_link_mail(
    state: &Shared,
    url: &str,
    subject: &str,
    heading: &str,
    intro: &str,
) -> crate::render::RenderedNotice {
    notice(
        state,
        &Notice {
            newsletter_name: &state.newsletter_name,
            base_url: &state.base_url,
            subject,
            heading,
            paragraphs: &[
                intro,
                "To change your topics or how often you get the digest, open your preferences.",
            ],
            button: Some(("Manage my preferences", url)),
            small_print: &["If this wasn't you, ignore this mail: nothing has changed."],
        },
    )
}

/// The one answer to every valid sign-up: it depends on nothing but the configuration.
fn check_your_inbox(state: &Shared) -> Markup {
    layout::message(
        state,
        "Check your inbox",
        html! {
            p {
                "If the address can receive mail, a message from " (state.newsletter_name)
                " is on its way. Follow its link to confirm your subscription; it works for "
                (state.settings.confirm_ttl_hours) " hours."
            }
            p.muted {
                "Nothing after a few minutes? Look in the spam folder. Already subscribed? "
                "The mail has a link to your preferences instead."
            }
            p.actions { a.button.secondary href=(state.path("archive")) { "Read past issues" } }
        },
    )
}
