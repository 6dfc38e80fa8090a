//! `GET /status`: the operator's view (next runs, last runs, delivery queue), and under it
//! the editor's forms: the note of an edition and its pinned papers (`POST
//! /status/editorial`, checked as `paperpost editions note|pin|unpin` checks them). Not for
//! the public: served only with `?token=` equal to `$PAPERPOST_STATUS_TOKEN` (16+
//! characters), or, when `[web] status_loopback = true`, to a client connecting from
//! 127.0.0.1 or ::1 whose request carries no proxy header. Never inferred from headers (a
//! proxy on the same host makes every client look local) nor from the rest of 127.0.0.0/8.
//! Anyone else gets the ordinary 404. The forms carry a CSRF field keyed by the way in.
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::errors::WebError;
use super::fields::FormData;
use super::{Shared, csrf};
use crate::domain::Editorial;
use crate::domain::{
    Frequency, NOTE_MAX_CHARS, PIN_NOTE_MAX_CHARS, Period, parse_edition, parse_note, parse_pin_id,
};

const FORM: &str = "editorial";

/// How the request got in: `Some(token)` by `?token=`, `Some("")` from plain loopback.
fn access(
    state: &Shared,
    peer: SocketAddr,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Option<String> {
    state.status.as_ref()?;
    let token = std::env::var("PAPERPOST_STATUS_TOKEN")
        .ok()
        .filter(|t| t.len() >= 16);
    let given = query.get("token");
    if let (Some(t), Some(given)) = (token, given)
        && crate::store::constant_time_eq(given.as_bytes(), t.as_bytes())
    {
        return Some(t);
    }
    (state.settings.status_loopback && is_local(peer, headers)).then(String::new)
}

pub(crate) async fn page(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let Some(key) = access(&state, peer, &headers, &query) else {
        return Err(WebError::NotFound);
    };
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
    let page = tokio::task::spawn_blocking(move || render(now))
        .await
        .map_err(|e| WebError::Unexpected(e.into()))?
        .map_err(WebError::Unexpected)?;
    let forms = editor_forms(&state, &key, &edition, &editorial);
    Ok(Html(with_section(page.into_string(), forms)).into_response())
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

fn editor_forms(state: &Shared, key: &str, edition: &str, e: &Editorial) -> Markup {
    let action = action_path(state, key, "status/editorial");
    let csrf = csrf::field(&state.secret, key, FORM);
    html! {
        section.card #editorial {
            h2 { "Editor's note and picks — " (edition) }
            p.mu {
                "Shown at the top of every digest of the edition and in its archive page. Each "
                "digest keeps them as they were when it was planned: a change reaches the readers "
                "planned after it."
            }
            form method="get" action=(action_path(state, key, "status")) {
                @if !key.is_empty() { input type="hidden" name="token" value=(key); }
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

/// `path` on this site, with the access token when that is how the operator got in.
fn action_path(state: &Shared, key: &str, path: &str) -> String {
    if key.is_empty() {
        state.path(path)
    } else {
        format!("{}?token={}", state.path(path), urlencoding::encode(key))
    }
}

/// `POST /status/editorial`: `action=note|pin|unpin`, then back to the status page.
pub(crate) async fn editorial(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    form: FormData,
) -> Result<Response, WebError> {
    let Some(key) = access(&state, peer, &headers, &query) else {
        return Err(WebError::NotFound);
    };
    csrf::check(&state.secret, &key, FORM, form.get(csrf::FIELD))?;
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
        "editorial changed on the status page"
    );
    let mut to = action_path(&state, &key, "status");
    to.push_str(if key.is_empty() { "?" } else { "&" });
    to.push_str(&format!(
        "edition={}#editorial",
        urlencoding::encode(&edition)
    ));
    Ok(Redirect::to(&to).into_response())
}

/// Headers a proxy adds: with any of them the request came through one, whatever the peer.
const PROXY_HEADERS: [&str; 6] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "via",
];

/// A peer on exactly 127.0.0.1 or ::1 (an IPv4-mapped ::ffff:127.0.0.1 too) that sent no
/// proxy header.
fn is_local(peer: SocketAddr, headers: &HeaderMap) -> bool {
    let ip = peer.ip().to_canonical();
    let local = ip == IpAddr::from([127, 0, 0, 1]) || ip == IpAddr::from(Ipv6Addr::LOCALHOST);
    local && !PROXY_HEADERS.iter().any(|h| headers.contains_key(*h))
}
