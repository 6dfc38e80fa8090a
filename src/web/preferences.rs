//! `GET|POST /preferences/{token}`: topics, frequency, delivery time (own zone and hour),
//! pause and resume, the reader's library (its upload is `library.rs`), and the reader's
//! private feed address with a "new feed address" button (revokes the old one). The token
//! is the reader's `manage` token; every form carries a CSRF field. A post answers with a
//! redirect back to the page (so reloading does not post again), or the form with its
//! problems (422).
//!
//! A legacy token (from a mail sent before tokens per purpose, and in the feed readers of
//! that time) opens neither the address nor the settings: [`fresh_link`] offers to mail a
//! fresh preferences link to the address on file instead.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::errors::WebError;
use super::fields::{DeliveryFields, FormData, TopicFields, delivery_fields, topic_fields};
use super::limits::ClientIp;
use super::reader_link::{ReaderLink, reader_link};
use super::{Shared, csrf, feedback, fresh_link, layout, library};
use crate::domain::{SeedSummary, SubscriberUpdate};
use crate::domain::{Subscriber, SubscriberStatus, Term, TokenPurpose};

/// The CSRF form name of every form on the page.
const FORM: &str = "preferences";

#[derive(Debug, Deserialize)]
pub(crate) struct Done {
    done: Option<String>,
}

const SAVED: &str = "Saved. Your next digest uses these preferences.";

pub(crate) async fn show(
    State(state): State<Shared>,
    Path(token): Path<String>,
    Query(done): Query<Done>,
) -> Result<Markup, WebError> {
    let reader = reader_link(&state, token, &[TokenPurpose::Manage]).await?;
    if reader.is_legacy() {
        return Ok(fresh_link::offer(&state, &reader.token));
    }
    let sub = &reader.sub;
    let flash = match done.done.as_deref() {
        Some("saved") => Some(SAVED),
        Some("paused") => Some("Paused. No digests until you resume."),
        Some("resumed") => Some("Resumed. Digests are on again."),
        Some("feedback-removed") => Some("Removed. Your next digest no longer counts that paper."),
        Some("library-cleared") => Some("Forgotten. Your digest no longer uses your library."),
        Some("feed-renewed") => Some(
            "Your feed has a new address; the old one no longer works. Put the new one in your feed reader.",
        ),
        _ => None,
    };
    let fields = TopicFields::from_topics(&sub.topics, sub.frequency);
    let delivery = DeliveryFields::from_choice(sub.timezone, sub.send_hour);
    let verdicts = feedback::verdicts(&state, sub).await?;
    let seeds = seed_summary(&state, sub).await?;
    let lists = subscriptions(&state, sub).await?;
    Ok(page(
        &state,
        &reader,
        &fields,
        &delivery,
        (&verdicts, &seeds, &lists),
        &Notes {
            flash,
            ..Notes::default()
        },
    ))
}

/// What the page says above the form: a flash, errors in what was sent, hints on it.
#[derive(Default)]
struct Notes<'a> {
    flash: Option<&'a str>,
    errors: &'a [String],
    hints: &'a [String],
}

pub(crate) async fn update(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let reader = reader_link(&state, token, &[TokenPurpose::Manage]).await?;
    if reader.is_legacy() {
        return fresh_link::post(&state, &reader, ip, &form).await;
    }
    let (sub, public_token) = (&reader.sub, reader.token.clone());
    csrf::check(&state.secret, &public_token, FORM, form.get(csrf::FIELD))?;
    let mut hints = Vec::new();
    let (update, done) = match (form.get("action").unwrap_or("save"), sub.status) {
        (_, SubscriberStatus::Unsubscribed) => {
            return Err(WebError::Conflict(
                "This address is unsubscribed. To get the digest again, subscribe on the home page."
                    .into(),
            ));
        }
        ("pause" | "resume", SubscriberStatus::Pending) => {
            return Err(WebError::Conflict(
                "Confirm your address first: the link is in the mail we sent you.".into(),
            ));
        }
        ("new-feed", _) => {
            let (id, now) = (sub.id, state.now());
            state
                .db(move |s| s.revoke_tokens(id, &[TokenPurpose::Feed], now))
                .await?;
            tracing::info!(subscriber = id, "feed address renewed");
            let to = state.path(&format!("preferences/{public_token}?done=feed-renewed"));
            return Ok(Redirect::to(&to).into_response());
        }
        ("pause", _) => (status(SubscriberStatus::Paused), "paused"),
        ("resume", _) => (status(SubscriberStatus::Active), "resumed"),
        ("save", _) => {
            let fields = TopicFields::from_form(&form);
            let delivery = DeliveryFields::from_form(&form);
            match (fields.parse(), delivery.parse()) {
                (Ok((topics, frequency)), Ok((timezone, send_hour))) => {
                    hints = fields.hints();
                    (
                        SubscriberUpdate {
                            topics: Some(topics),
                            frequency: Some(frequency),
                            timezone: Some(timezone),
                            send_hour: Some(send_hour),
                            ..Default::default()
                        },
                        "saved",
                    )
                }
                (topics, when) => {
                    let mut errors = topics.err().unwrap_or_default();
                    errors.extend(when.err().unwrap_or_default());
                    let verdicts = feedback::verdicts(&state, sub).await?;
                    let seeds = seed_summary(&state, sub).await?;
                    let lists = subscriptions(&state, sub).await?;
                    let cards = (&verdicts, &seeds, &lists[..]);
                    let notes = Notes {
                        errors: &errors,
                        ..Notes::default()
                    };
                    let page = page(&state, &reader, &fields, &delivery, cards, &notes);
                    return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
                }
            }
        }
        (other, _) => {
            return Err(WebError::Invalid(format!(
                "Unknown action “{other}”: use the buttons on the preferences page."
            )));
        }
    };
    let (id, now) = (sub.id, state.now());
    state
        .db(move |s| s.update_subscriber(id, &update, now))
        .await?;
    tracing::info!(subscriber = id, done, "preferences changed");
    if !hints.is_empty() {
        // Saved, with a note the reader should see now (a bare name that may be meant as
        // an author): the page itself rather than a redirect that would lose it.
        let reader = reader_link(&state, public_token, &[TokenPurpose::Manage]).await?;
        let sub = &reader.sub;
        let fields = TopicFields::from_topics(&sub.topics, sub.frequency);
        let delivery = DeliveryFields::from_choice(sub.timezone, sub.send_hour);
        let verdicts = feedback::verdicts(&state, sub).await?;
        let seeds = seed_summary(&state, sub).await?;
        let lists = subscriptions(&state, sub).await?;
        let notes = Notes {
            flash: Some(SAVED),
            errors: &[],
            hints: &hints,
        };
        let page = page(
            &state,
            &reader,
            &fields,
            &delivery,
            (&verdicts, &seeds, &lists),
            &notes,
        );
        return Ok(page.into_response());
    }
    let to = state.path(&format!("preferences/{public_token}?done={done}"));
    Ok(Redirect::to(&to).into_response())
}

/// What seeded the reader's profile, for the library card (the first three titles).
async fn seed_summary(state: &Shared, sub: &Subscriber) -> Result<SeedSummary, WebError> {
    let id = sub.id;
    state.db(move |s| s.seed_summary(id, 3)).await
}

/// The reader's subscriptions to the instance's other newsletters (none when it runs one).
async fn subscriptions(state: &Shared, sub: &Subscriber) -> Result<Vec<Subscriber>, WebError> {
    if state.newsletters.len() < 2 {
        return Ok(Vec::new());
    }
    let (email, id) = (sub.email.to_string(), sub.id);
    let all = state.db(move |s| s.subscriptions_of(&email)).await?;
    Ok(all.into_iter().filter(|s| s.id != id).collect())
}

/// The card that lists every newsletter of the instance for this reader: the ones they
/// get (with a link to that subscription's own preferences, where its topics, frequency
/// and unsubscribe live) and the ones they could sign up to.
fn newsletters_card(state: &Shared, sub: &Subscriber, others: &[Subscriber]) -> Markup {
    if state.newsletters.len() < 2 {
        return html! {};
    }
    html! {
        section.card #newsletters {
            h2 { "Your newsletters" }
            ul.links {
                @for n in state.newsletters.iter() {
                    @let theirs = others.iter().find(|o| o.newsletter == n.slug);
                    li data-newsletter=(n.slug) {
                        @if n.slug == sub.newsletter {
                            strong { (n.name) } " · this page · " (status_label(sub.status))
                        } @else if let Some(o) = theirs {
                            @let link = n.base_url.join(&format!(
                                "preferences/{}",
                                crate::security::reader_token(&state.secret, TokenPurpose::Manage, o)
                            ));
                            @match link {
                                Ok(url) => a href=(url) { (n.name) },
                                Err(_) => (n.name),
                            }
                            " · " (o.frequency.as_str()) " · " (status_label(o.status))
                        } @else {
                            (n.name) " · "
                            a href={ (n.base_url) "#subscribe" } { "subscribe" }
                        }
                    }
                }
            }
            p.muted { "Each newsletter has its own topics, schedule and unsubscribe link." }
        }
    }
}

fn status(s: SubscriberStatus) -> SubscriberUpdate {
    SubscriberUpdate {
        status: Some(s),
        ..Default::default()
    }
}

fn page(
    state: &Shared,
    reader: &ReaderLink,
    fields: &TopicFields,
    delivery: &DeliveryFields,
    (verdicts, seeds, lists): (&feedback::Verdicts, &SeedSummary, &[Subscriber]),
    notes: &Notes<'_>,
) -> Markup {
    let (sub, token) = (&reader.sub, &reader.token);
    let feed = format!("feed/{}.xml", reader.token_for(state, TokenPurpose::Feed));
    let here = state.path(&format!("preferences/{token}"));
    // The reader's own preview: their topics, likes, library and the editor's picks.
    let preview = state.path(&format!("preferences/{token}/preview"));
    let body = html! {
        section.hero {
            h1 { "Your preferences" }
            p.lead #subscriber-status {
                (sub.email) " · " (sub.frequency.as_str()) " · "
                @if let Some(when) = delivery_time(sub) { (when) " · " }
                span.pill.{"status-" (sub.status.as_str())} { (status_label(sub.status)) }
            }
        }
        @if let Some(f) = notes.flash { (layout::flash(f)) }
        (layout::hints(notes.hints))
        @match sub.status {
            SubscriberStatus::Pending => div.alert #status-note {
                "Your address is not confirmed yet: follow the link in the mail we sent you to start getting digests."
            },
            SubscriberStatus::Unsubscribed => div.alert #status-note {
                "You are unsubscribed and get no digests. "
                a href={ (state.path("")) "#subscribe" } { "Subscribe again" } " to come back."
            },
            _ => {},
        }
        div.grid.main-side {
            section.card {
                h2 { "What you follow" }
                (following(sub))
                @if sub.status != SubscriberStatus::Unsubscribed {
                    (layout::error_summary(notes.errors))
                    form #preferences-form method="post" action=(here) {
                        (csrf::field(&state.secret, token, FORM))
                        input type="hidden" name="action" value="save";
                        (topic_fields(fields))
                        (delivery_fields(delivery))
                        div.submit {
                            button #preferences-save .button type="submit" { "Save preferences" }
                        }
                    }
                }
            }
            aside.side {
                @if matches!(sub.status, SubscriberStatus::Active | SubscriberStatus::Paused) {
                    section.card {
                        @let paused = sub.status == SubscriberStatus::Paused;
                        h2 { @if paused { "Paused" } @else { "Taking a break?" } }
                        p.muted {
                            @if paused { "You get no digests. Your topics are kept." }
                            @else { "Pause the digest and keep your topics; resume whenever you like." }
                        }
                        form #pause-form method="post" action=(here) {
                            (csrf::field(&state.secret, token, FORM))
                            @if paused {
                                input type="hidden" name="action" value="resume";
                                button #resume-submit .button type="submit" { "Resume digests" }
                            } @else {
                                input type="hidden" name="action" value="pause";
                                button #pause-submit .button.secondary type="submit" { "Pause digests" }
                            }
                        }
                    }
                }
                (newsletters_card(state, sub, lists))
                (feedback::verdicts_card(state, token, verdicts))
                (library::card(state, sub, token, seeds))
                @if sub.status != SubscriberStatus::Unsubscribed {
                    section.card #feed {
                        h2 { "Your feed" }
                        p.muted {
                            "Your papers in a feed reader. Keep the address private: it opens "
                            "your feed and the web copies of your digests, nothing else."
                        }
                        p {
                            a #feed-link href=(state.path(&feed)) type="application/atom+xml" { (state.url(&feed)) }
                        }
                        form #new-feed-form method="post" action=(here) {
                            (csrf::field(&state.secret, token, FORM))
                            input type="hidden" name="action" value="new-feed";
                            button #new-feed-submit .button.secondary.small type="submit" { "New feed address" }
                        }
                        p.muted { "Got out, or shared by mistake? A new address retires the old one." }
                    }
                }
                section.card {
                    h2 { "More" }
                    ul.links {
                        li { a #preview-link href=(preview) { "Preview my next digest" } }
                        li { a href=(state.path("archive")) { "Past issues" } }
                        @if sub.status != SubscriberStatus::Unsubscribed {
                            li { a #unsubscribe-link href=(state.path(&format!("unsubscribe/{token}"))) { "Unsubscribe" } }
                        }
                    }
                }
            }
        }
    };
    layout::page(state, "Your preferences", body)
}

/// The reader's own delivery time, e.g. "at 07:00 Europe/Berlin", if they chose one.
fn delivery_time(sub: &Subscriber) -> Option<String> {
    match (sub.send_hour, sub.timezone) {
        (None, None) => None,
        (Some(h), Some(tz)) => Some(format!("at {h:02}:00 {}", tz.name())),
        (Some(h), None) => Some(format!("at {h:02}:00 newsletter time")),
        (None, Some(tz)) => Some(format!("usual time in {}", tz.name())),
    }
}

fn status_label(s: SubscriberStatus) -> &'static str {
    match s {
        SubscriberStatus::Pending => "waiting for confirmation",
        SubscriberStatus::Active => "active",
        SubscriberStatus::Paused => "paused",
        SubscriberStatus::Unsubscribed => "unsubscribed",
    }
}

/// The subscriber's topics as chips, or a note that they get the trending papers.
fn following(sub: &Subscriber) -> Markup {
    let t = &sub.topics;
    html! {
        @if t.is_trending() {
            p.muted #following { "No topics: you get the trending papers of each period." }
        } @else {
            ul.chips #following {
                @for term in &t.terms {
                    li.chip.{(kind(term))} { (chip(term)) }
                }
                @for x in &t.exclude { li.chip.exclude { "without “" (x) "”" } }
                @for x in &t.exclude_strict {
                    li.chip.exclude { "without any mention of “" (x) "”" }
                }
            }
        }
        @if let Some(n) = t.min_upvotes {
            p.muted { "Only papers with at least " (n) " upvotes." }
        }
    }
}

fn kind(t: &Term) -> &'static str {
    match t {
        Term::Phrase(_) | Term::Title(_) | Term::Abstract(_) | Term::All(_) => "phrase",
        Term::Category(_) => "category",
        Term::Author(_) => "author",
        Term::About(_) => "about",
    }
}

fn chip(t: &Term) -> String {
    match t {
        Term::Category(c) => match super::taxonomy::name_of(c) {
            Some(name) => format!("{c} · {name}"),
            None => format!("{c} · all categories"),
        },
        Term::Author(a) => format!("author: {a}"),
        Term::Phrase(p) => p.clone(),
        Term::Title(p) => format!("title: {p}"),
        Term::Abstract(p) => format!("abstract: {p}"),
        Term::About(a) => format!("about: {a}"),
        Term::All(parts) => parts.iter().map(chip).collect::<Vec<_>>().join(" AND "),
    }
}
