//! `GET|POST /feedback/{token}/{paper}?v=like|dislike`: the 👍/👎 links of every digest card.
//!
//! Mail scanners and link previewers fetch every link of a mail, so `GET` (and `HEAD`)
//! only shows a page with one button and records nothing. The button `POST`s the verdict
//! with a CSRF field bound to the reader's token, as the preferences forms do. The
//! preferences page lists the reader's verdicts with a remove button each (`v=remove`).
//! The links carry the reader's `manage` token; a legacy token from an older mail records
//! verdicts too.
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::errors::WebError;
use super::fields::FormData;
use super::reader_link::reader_link;
use super::{Shared, csrf, layout};
use crate::domain::FeedbackRow;
use crate::domain::{Feedback, Paper, PaperId, Subscriber, TokenPurpose, collapse_whitespace};

/// The CSRF form name of the feedback forms.
pub(crate) const FORM: &str = "feedback";

#[derive(Debug, Deserialize)]
pub(crate) struct Verdict {
    v: Option<String>,
}

/// A verdict with its paper, for the preferences page.
pub(crate) struct Verdicts {
    pub rows: Vec<(FeedbackRow, Option<Paper>)>,
}

pub(crate) async fn show(
    State(state): State<Shared>,
    Path((token, paper)): Path<(String, String)>,
    Query(verdict): Query<Verdict>,
) -> Result<Markup, WebError> {
    let reader = reader_link(&state, token, &[TokenPurpose::Manage]).await?;
    let feedback = parse_verdict(verdict.v.as_deref().unwrap_or("like"))?;
    let (id, paper) = known_paper(&state, paper).await?;
    let current = current_verdict(&state, &reader.sub, &id).await?;
    let here = action(&state, &reader.token, &id);
    let title = collapse_whitespace(&paper.title);
    let (heading, button, explain) = match feedback {
        Feedback::Like => (
            "More papers like this one?",
            "👍 Yes, more like this",
            "Your next digests get a “More like what you liked” section with new papers that resemble the ones you liked.",
        ),
        Feedback::Dislike => (
            "Fewer papers like this one?",
            "👎 Yes, less like this",
            "This paper and papers very like it move down in your next digests.",
        ),
    };
    Ok(layout::message(
        &state,
        heading,
        html! {
            p #feedback-paper { strong { (title) } " (" (id) ")" }
            p.muted { (explain) }
            @if current == Some(feedback) {
                p.muted #feedback-current { "You already said so; sending again changes nothing." }
            }
            form #feedback-form method="post" action=(here) {
                (csrf::field(&state.secret, &reader.token, FORM))
                input type="hidden" name="v" value=(feedback.as_str());
                button #feedback-submit .button type="submit" { (button) }
            }
            p.muted {
                a href=(state.path(&format!("preferences/{}", reader.token))) { "Your preferences and liked papers" }
            }
        },
    ))
}

pub(crate) async fn record(
    State(state): State<Shared>,
    Path((token, paper)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, WebError> {
    let reader = reader_link(&state, token, &[TokenPurpose::Manage]).await?;
    let (sub, public_token) = (reader.sub, reader.token);
    csrf::check(&state.secret, &public_token, FORM, form.get(csrf::FIELD))?;
    let v = form.get("v").unwrap_or_default();
    if v == "remove" {
        let id = parse_id(paper)?;
        let (sub_id, pid) = (sub.id, id.clone());
        state.db(move |s| s.remove_feedback(sub_id, &pid)).await?;
        tracing::info!(subscriber = sub.id, "feedback removed");
        let to = state.path(&format!("preferences/{public_token}?done=feedback-removed"));
        return Ok(Redirect::to(&to).into_response());
    }
    let feedback = parse_verdict(v)?;
    let (id, paper) = known_paper(&state, paper).await?;
    let (sub_id, pid, now) = (sub.id, id.clone(), state.now());
    state
        .db(move |s| s.set_feedback(sub_id, &pid, feedback, now))
        .await?;
    tracing::info!(subscriber = sub.id, feedback = %feedback, "feedback recorded");
    let prefs = state.path(&format!("preferences/{public_token}"));
    let (heading, text) = match feedback {
        Feedback::Like => (
            "Noted: more like this",
            "Your next digest has a “More like what you liked” section.",
        ),
        Feedback::Dislike => (
            "Noted: less like this",
            "This paper and papers very like it move down in your next digests.",
        ),
    };
    Ok(layout::message(
        &state,
        heading,
        html! {
            p #feedback-done { "“" (collapse_whitespace(&paper.title)) "”: " (text) }
            p.actions { a.button.secondary href=(prefs) { "See all your liked papers" } }
        },
    )
    .into_response())
}

/// The reader's verdicts with their papers, newest first.
pub(crate) async fn verdicts(state: &Shared, sub: &Subscriber) -> Result<Verdicts, WebError> {
    let id = sub.id;
    let rows = state
        .db(move |s| -> anyhow::Result<_> {
            let rows = s.feedback_of(id)?;
            let ids: Vec<PaperId> = rows.iter().map(|r| r.paper_id.clone()).collect();
            let mut papers = s.papers_by_id(&ids)?;
            Ok(rows
                .into_iter()
                .map(|r| {
                    let p = papers.remove(&r.paper_id);
                    (r, p)
                })
                .collect())
        })
        .await?;
    Ok(Verdicts { rows })
}

/// The preferences page's card: liked and disliked papers, each with a remove button
/// (posted with the page's `token`).
pub(crate) fn verdicts_card(state: &Shared, token: &str, verdicts: &Verdicts) -> Markup {
    let list = |kind: Feedback| -> Vec<&(FeedbackRow, Option<Paper>)> {
        verdicts
            .rows
            .iter()
            .filter(|(r, _)| r.feedback == kind)
            .collect()
    };
    let (likes, dislikes) = (list(Feedback::Like), list(Feedback::Dislike));
    html! {
        section.card #feedback {
            h2 { "Papers you rated" }
            @if verdicts.rows.is_empty() {
                p.muted #feedback-none {
                    "None yet. Use 👍 or 👎 under any paper in a digest: liked papers give your "
                    "digest a “More like what you liked” section."
                }
            }
            @for (label, rows, id) in [("👍 Liked", &likes, "liked-papers"), ("👎 Disliked", &dislikes, "disliked-papers")] {
                @if !rows.is_empty() {
                    h3 { (label) }
                    ul.links id=(id) {
                        @for (row, paper) in rows.iter() {
                            li {
                                (paper.as_ref().map(|p| collapse_whitespace(&p.title)).unwrap_or_else(|| row.paper_id.to_string()))
                                form.inline method="post" action=(action(state, token, &row.paper_id)) {
                                    (csrf::field(&state.secret, token, FORM))
                                    input type="hidden" name="v" value="remove";
                                    " "
                                    button.button.secondary.small type="submit" { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn action(state: &Shared, token: &str, id: &PaperId) -> String {
    state.path(&format!(
        "feedback/{token}/{}",
        urlencoding::encode(id.as_str())
    ))
}

pub(crate) fn parse_verdict(v: &str) -> Result<Feedback, WebError> {
    match v {
        "like" => Ok(Feedback::Like),
        "dislike" => Ok(Feedback::Dislike),
        other => Err(WebError::BadRequest(format!(
            "“{other}” is not a verdict: the link says v=like or v=dislike."
        ))),
    }
}

pub(crate) fn parse_id(raw: String) -> Result<PaperId, WebError> {
    PaperId::try_from(raw).map_err(|_| WebError::NotFound)
}

async fn known_paper(state: &Shared, raw: String) -> Result<(PaperId, Paper), WebError> {
    let id = parse_id(raw)?;
    let key = id.clone();
    let paper = state
        .db(move |s| {
            s.papers_by_id(std::slice::from_ref(&key))
                .map(|mut p| p.remove(&key))
        })
        .await?
        .ok_or(WebError::NotFound)?;
    Ok((id, paper))
}

async fn current_verdict(
    state: &Shared,
    sub: &Subscriber,
    id: &PaperId,
) -> Result<Option<Feedback>, WebError> {
    let (sub_id, id) = (sub.id, id.clone());
    state
        .db(move |s| -> anyhow::Result<_> {
            Ok(s.feedback_of(sub_id)?
                .into_iter()
                .find(|r| r.paper_id == id)
                .map(|r| r.feedback))
        })
        .await
}
