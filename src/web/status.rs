//! `GET /status`: the operator's view (next runs, last runs, delivery queue), and under it
//! the editor's forms: the note of an edition and its pinned papers (`POST
//! /status/editorial`, checked as `paperpost editions note|pin|unpin` checks them). Only for
//! a signed-in operator ([`Operator`]: others are sent to `/login`), or a loopback client
//! under `[web] status_loopback`; every POST needs the session, its CSRF field and this
//! site's Origin ([`OperatorForm`]). While the reputation guard has paused sending, a button
//! resumes it (`POST /status/resume`, as `paperpost deliveries resume`).
use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{Html, Redirect, Response};
use maud::{Markup, html};

use super::Shared;
use super::errors::WebError;
use super::operator::{Operator, OperatorForm};
use crate::domain::{Editorial, SendingPause};
use crate::domain::{
    Frequency, NOTE_MAX_CHARS, PIN_NOTE_MAX_CHARS, Period, parse_edition, parse_note, parse_pin_id,
};

pub(crate) async fn page(
    State(state): State<Shared>,
    operator: Operator,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let Some(render) = state.status.clone() else {
        return Err(WebError::NotFound);
    };
    let now = (state.clock)();
    let edition = query
        .get("edition")
        .and_then(|e| parse_edition(e).ok())
        .unwrap_or_else(|| Period::at(Frequency::Weekly, now, state.timezone).key());
    let shown = edition.clone();
    let editorial = state.db(move |s| s.editorial(&shown)).await?;
    let paused = state.db(|s| s.sending_pause()).await?;
    let page = tokio::task::spawn_blocking(move || render(now))
        .await
        .map_err(|e| WebError::Unexpected(e.into()))?
        .map_err(WebError::Unexpected)?;
    let forms = html! {
        (signed_in(&state, &operator))
        (newsletters(&state))
        @if let Some(p) = &paused {
            (resume_form(&state, &operator, p))
        }
        (editor_forms(&state, &operator, &edition, &editorial))
    };
    Ok(operator.respond(Html(with_section(page.into_string(), forms))))
}

/// The status page (rendered by the scheduler's side, which knows nothing of the web) with
/// the editor's section added at the end of its `<main>` (or of the page), and without its
/// once-a-minute refresh, which would throw away a note being typed.
fn with_section(page: String, section: Markup) -> String {
    let mut page = page.replace(r#"<meta http-equiv="refresh" content="60">"#, "");
    let at = page.rfind("</main>").unwrap_or(page.len());
    page.insert_str(at, &section.into_string());
    page
}

/// With several newsletters, each one's status page (this one marked).
fn newsletters(state: &Shared) -> Markup {
    if state.newsletters.len() < 2 {
        return html! {};
    }
    html! {
        section.card #newsletters {
            h2 { "Newsletters" }
            ul {
                @for (i, n) in state.newsletters.iter().enumerate() {
                    li {
                        @if n.slug == state.store.newsletter() {
                            strong { (n.name) } " (this page)"
                        } @else if i == 0 {
                            a href="/status" { (n.name) }
                        } @else {
                            a href={ "/n/" (n.slug) "/status" } { (n.name) }
                        }
                    }
                }
            }
        }
    }
}

/// Who is signed in, and the sign-out button.
fn signed_in(state: &Shared, operator: &Operator) -> Markup {
    html! {
        section.card #operator {
            form method="post" action=(state.path("logout")) {
                (operator.csrf_field())
                "Signed in: " strong #operator-name { (operator.who()) } " "
                button #sign-out type="submit" { "Sign out" }
            }
        }
    }
}

/// The button that lifts the reputation guard's pause.
fn resume_form(state: &Shared, operator: &Operator, p: &SendingPause) -> Markup {
    html! {
        section.card #resume {
            h2 { "Resume sending" }
            p { (p.describe()) }
            p.mu {
                "Resume once the cause is dealt with: the next send delivers what is queued. From "
                "then on the guard counts only messages sent after the resume, so these reports "
                "do not pause sending again."
            }
            form method="post" action=(state.path("status/resume")) {
                (operator.csrf_field())
                button #resume-sending type="submit" { "Resume sending" }
            }
        }
    }
}

/// `POST /status/resume`: lifts the pause in force (recording the operator), then back to
/// the status page; nothing to lift is no error (someone else resumed first).
pub(crate) async fn resume(
    State(state): State<Shared>,
    OperatorForm(operator, _form): OperatorForm,
) -> Result<Response, WebError> {
    if state.status.is_none() {
        return Err(WebError::NotFound);
    }
    let now = state.now();
    let by = format!("web:{}", operator.who());
    let who = by.clone();
    if let Some(r) = state.db(move |s| s.resume_sending(&who, now)).await? {
        tracing::info!(
            by,
            paused_since = %r.pause.since,
            "sending resumed on the status page (was paused: {})",
            r.pause.reason
        );
    }
    Ok(operator.respond(Redirect::to(&state.path("status"))))
}

fn editor_forms(state: &Shared, operator: &Operator, edition: &str, e: &Editorial) -> Markup {
    let action = state.path("status/editorial");
    let csrf = operator.csrf_field();
    html! {
        section.card #editorial {
            h2 { "Editor's note and picks — " (edition) }
            p.mu {
                "Shown at the top of every digest of the edition and in its archive page. Each "
                "digest keeps them as they were when it was planned: a change reaches the readers "
                "planned after it."
            }
            form method="get" action=(state.path("status")) {
                label { "Edition " input name="edition" value=(edition) size="10"; }
                " " button type="submit" { "Show" }
            }
            form method="post" action=(action) {
                (csrf)
                input type="hidden" name="action" value="note";
                input type="hidden" name="edition" value=(edition);
                label for="note" { "Note (at most " (NOTE_MAX_CHARS) " characters; empty removes it)" }
                br;
                textarea #note name="note" rows="3" cols="60" maxlength=(NOTE_MAX_CHARS) {
                    (e.note.as_deref().unwrap_or(""))
                }
                br;
                button type="submit" { "Save the note" }
            }
            @if e.pins.is_empty() {
                p.mu { "No pinned papers." }
            } @else {
                table #pins {
                    thead { tr { th { "Pinned" } th { "Note" } th {} } }
                    tbody {
                        @for p in &e.pins {
                            tr {
                                td.nw { (p.paper_id) }
                                td { (p.note.as_deref().unwrap_or("")) }
                                td {
                                    form method="post" action=(action) {
                                        (csrf)
                                        input type="hidden" name="action" value="unpin";
                                        input type="hidden" name="edition" value=(edition);
                                        input type="hidden" name="paper" value=(p.paper_id);
                                        button type="submit" { "Unpin" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action=(action) {
                (csrf)
                input type="hidden" name="action" value="pin";
                input type="hidden" name="edition" value=(edition);
                label { "arXiv id " input name="paper" size="16" placeholder="2410.18975"; }
                " "
                label { "why " input name="note" size="40" maxlength=(PIN_NOTE_MAX_CHARS); }
                " " button type="submit" { "Pin" }
            }
        }
    }
}

/// `POST /status/editorial`: `action=note|pin|unpin`, then back to the status page.
pub(crate) async fn editorial(
    State(state): State<Shared>,
    OperatorForm(operator, form): OperatorForm,
) -> Result<Response, WebError> {
    if state.status.is_none() {
        return Err(WebError::NotFound);
    }
    let edition = parse_edition(form.get("edition").unwrap_or("")).map_err(WebError::Invalid)?;
    let now = state.now();
    let (e, done) = (edition.clone(), form.get("action").unwrap_or(""));
    match done {
        "note" => {
            let note = parse_note(form.get("note").unwrap_or(""), NOTE_MAX_CHARS)
                .map_err(WebError::Invalid)?;
            state
                .db(move |s| s.set_edition_note(&e, note.as_deref().unwrap_or(""), now))
                .await?;
        }
        "pin" => {
            let id = parse_pin_id(form.get("paper").unwrap_or("")).map_err(WebError::Invalid)?;
            let note = parse_note(form.get("note").unwrap_or(""), PIN_NOTE_MAX_CHARS)
                .map_err(WebError::Invalid)?;
            state
                .db(move |s| s.pin_paper(&e, &id, note.as_deref(), now))
                .await?;
        }
        "unpin" => {
            let id = parse_pin_id(form.get("paper").unwrap_or("")).map_err(WebError::Invalid)?;
            state.db(move |s| s.unpin_paper(&e, &id)).await?;
        }
        other => {
            return Err(WebError::Invalid(format!(
                "Unknown action “{other}”: use the buttons on the status page."
            )));
        }
    }
    tracing::info!(
        edition,
        action = done,
        operator = operator.who(),
        "editorial changed on the status page"
    );
    let to = format!(
        "{}?edition={}#editorial",
        state.path("status"),
        urlencoding::encode(&edition)
    );
    Ok(operator.respond(Redirect::to(&to)))
}
