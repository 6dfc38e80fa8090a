//! `GET /preview?topics=…`: the digest some topics would get right now (papers of the last
//! `window_days`), rendered by the email's own code. Takes the sign-up form's fields
//! (`topics`, `authors`, `categories`, `frequency`), so any topic form can preview.
//!
//! Open to anyone and a scan of every recent paper, so guarded ([`super::preview_guard`]):
//! a per-IP rate limit (429 past it), pages cached a minute per normalised query, at most
//! a few scans at once, each on a read-only store connection, off the writer's lock.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::html;

use super::errors::WebError;
use super::fields::{FormData, TopicFields, topic_fields};
use super::limits::ClientIp;
use super::{Shared, layout};
use crate::domain::Topics;
use crate::render::render_preview_page;

pub(crate) async fn preview(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    if query.as_deref().is_none_or(str::is_empty) {
        return Ok(form_page(&state, &TopicFields::default(), &[]).into_response());
    }
    let now = state.now();
    if !state.preview_guard.allow(ip, now) {
        return Err(WebError::TooManyRequests);
    }
    let fields = TopicFields::from_form(&FormData::from_query(query.as_deref()));
    let (topics, frequency) = match fields.parse() {
        Ok(parsed) => parsed,
        Err(errors) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(&state, &fields, &errors),
            )
                .into_response());
        }
    };
    let hints = fields.hints();
    let key = format!("{frequency}\n{topics}\n{}", hints.join("\n"));
    if let Some(page) = state.preview_guard.cached(&key, now) {
        return Ok(Html(page.to_string()).into_response());
    }
    let _scan = state
        .preview_guard
        .scans
        .acquire()
        .await
        .map_err(|e| WebError::Unexpected(e.into()))?;
    // Identical previews queued behind one scan find its page here.
    if let Some(page) = state.preview_guard.cached(&key, now) {
        return Ok(Html(page.to_string()).into_response());
    }
    let period = crate::schedule::reader_period(frequency, None, state.timezone, now);
    let (t, plan) = (topics.clone(), state.plan.clone());
    let digest = state
        .db(move |s| crate::pipeline::digest_for_topics(s, &t, period, &plan, now))
        .await?;
    let why = why_line(&topics, &hints);
    let archive = state.url("archive");
    let ctx = state.page_context(&archive, &why);
    let title = format!("Preview · {}", state.newsletter_name);
    let page: Arc<str> = render_preview_page(digest.as_ref(), &ctx, &title)
        .into_string()
        .into();
    state.preview_guard.keep(key, page.clone(), now);
    Ok(Html(page.to_string()).into_response())
}

/// `GET /preferences/{token}/preview`: the digest this reader would get now — their
/// topics, the papers they liked or disliked, their library and the edition's editor's
/// picks — planned by the planner's own code ([`crate::pipeline::reader_digest`]), so what
/// it shows is what the next mail holds if nothing new arrives. The `manage` token opens
/// it; the per-IP limit and the scan slots of `/preview` guard it; never cached (it is
/// one reader's).
pub(crate) async fn reader(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let link =
        super::reader_link::reader_link(&state, token, &[crate::domain::TokenPurpose::Manage])
            .await?;
    if link.is_legacy() {
        return Ok(super::fresh_link::offer(&state, &link.token).into_response());
    }
    let now = state.now();
    if !state.preview_guard.allow(ip, now) {
        return Err(WebError::TooManyRequests);
    }
    let _scan = state
        .preview_guard
        .scans
        .acquire()
        .await
        .map_err(|e| WebError::Unexpected(e.into()))?;
    let sub = link.sub.clone();
    let period = crate::schedule::reader_period(sub.frequency, sub.timezone, state.timezone, now);
    let plan = state.plan.clone();
    let digest = state
        .db(move |s| crate::pipeline::reader_digest(s, &sub, period, &plan, now))
        .await?;
    let why = "A preview of your next digest as it would be planned now: your topics, the \
               papers you liked, your library and the editor's picks.";
    let archive = state.url("archive");
    let ctx = state.page_context(&archive, why);
    let title = format!("Your next digest · {}", state.newsletter_name);
    Ok(Html(render_preview_page(digest.as_ref(), &ctx, &title).into_string()).into_response())
}

/// What the preview is for, with any hint on the topics as typed (a bare person's name).
fn why_line(topics: &Topics, hints: &[String]) -> String {
    let mut why = if topics.is_trending() {
        "A preview of the trending digest (no topics given).".to_string()
    } else {
        format!("A preview for the topics: {topics}.")
    };
    for h in hints {
        why.push(' ');
        why.push_str(h);
    }
    why
}

/// The preview form, with what was wrong.
fn form_page(state: &Shared, fields: &TopicFields, errors: &[String]) -> maud::Markup {
    layout::page(
        state,
        "Preview",
        html! {
            section.hero {
                h1 { "Preview a digest" }
                p.lead { "See the papers some topics would get right now, before you subscribe." }
            }
            section.card.narrow {
                (layout::error_summary(errors))
                form #preview-full-form method="get" action=(state.path("preview")) {
                    (topic_fields(fields))
                    div.submit { button #preview-full-submit .button type="submit" { "Preview" } }
                }
            }
        },
    )
}
