//! `POST /preferences/{token}/library`: a reader uploads their library file (BibTeX, RIS,
//! CSL-JSON or CSV, `multipart/form-data`) to seed their profile, or forgets it. The same
//! token check and CSRF field as the other preferences forms; the body limit is
//! `[web] max_upload_bytes` (413 past it). The answer page says what was read and lists the
//! bad entries by line; nothing is stored when the file has a bad entry, is unreadable, or
//! would take the reader past the cap.
use axum::extract::multipart::MultipartError;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::errors::WebError;
use super::reader_link::reader_link;
use super::{Shared, csrf, layout};
use crate::domain::{SeedMode, SeedSummary, Subscriber, SubscriberStatus, TokenPurpose, count};
use crate::library::Format;
use crate::pipeline::{SeedError, SeedOutcome, SeedReport, SeedRequest, seed_profile};

/// The CSRF form name of the library form.
pub(crate) const FORM: &str = "library";

/// What the form sent.
#[derive(Default)]
struct Upload {
    csrf: Option<String>,
    action: Option<String>,
    replace: bool,
    file_name: Option<String>,
    file: Option<Vec<u8>>,
}

pub(crate) async fn upload(
    State(state): State<Shared>,
    Path(token): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, WebError> {
    let reader = reader_link(&state, token, &[TokenPurpose::Manage]).await?;
    if reader.is_legacy() {
        // An old link opens no settings (see `preferences`): its page offers a fresh link.
        return Err(WebError::Conflict(
            "This link is out of date. Open your preferences page to get a fresh one by mail."
                .into(),
        ));
    }
    let (sub, public_token) = (&reader.sub, reader.token.clone());
    let mut multipart = multipart.map_err(|_| WebError::UnsupportedMediaType)?;
    let form = read_form(&mut multipart).await?;
    csrf::check(&state.secret, &public_token, FORM, form.csrf.as_deref())?;
    if sub.status == SubscriberStatus::Unsubscribed {
        return Err(WebError::Conflict(
            "This address is unsubscribed. To get the digest again, subscribe on the home page."
                .into(),
        ));
    }
    let id = sub.id;
    if form.action.as_deref() == Some("clear") {
        let n = state.db(move |s| s.clear_seeds(id)).await?;
        tracing::info!(subscriber = id, seeds = n, "library forgotten");
        let to = state.path(&format!("preferences/{public_token}?done=library-cleared"));
        return Ok(Redirect::to(&to).into_response());
    }
    let Some(data) = form.file.filter(|d| !d.is_empty()) else {
        return Err(WebError::Invalid(
            "Choose a library file to upload (BibTeX, RIS, CSL-JSON or CSV).".into(),
        ));
    };
    let file_name = form.file_name.unwrap_or_default();
    let mode = if form.replace {
        SeedMode::Replace
    } else {
        SeedMode::Merge
    };
    let now = state.now();
    let report = state
        .db(move |s| {
            let request = SeedRequest {
                file_name: &file_name,
                data: &data,
                format: None,
                mode,
                dry_run: false,
                skip_bad: false,
            };
            match seed_profile(s, id, &request, now) {
                Ok(r) => Ok(Ok(r)),
                Err(SeedError::Read { file, source }) => Ok(Err(format!("{file}: {source}"))),
                Err(SeedError::Store(e)) => Err(e),
            }
        })
        .await?;
    let status = match &report {
        Ok(r) if r.outcome.succeeded() => StatusCode::OK,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, answer(&state, &public_token, report)).into_response())
}

/// Reads every field of the form; the file's bytes are bounded by the route's body limit.
async fn read_form(multipart: &mut Multipart) -> Result<Upload, WebError> {
    let mut form = Upload::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            "file" => {
                form.file_name = field.file_name().map(str::to_string);
                form.file = Some(field.bytes().await.map_err(multipart_error)?.to_vec());
            }
            name @ ("csrf" | "action" | "replace") => {
                let name = name.to_string();
                let value = field.text().await.map_err(multipart_error)?;
                match name.as_str() {
                    "csrf" => form.csrf = Some(value),
                    "action" => form.action = Some(value),
                    _ => form.replace = value == "on" || value == "1",
                }
            }
            _ => {
                // Unknown fields are read and dropped (still under the body limit).
                let mut field = field;
                while field.chunk().await.map_err(multipart_error)?.is_some() {}
            }
        }
    }
    Ok(form)
}

fn multipart_error(e: MultipartError) -> WebError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        WebError::TooLarge
    } else {
        WebError::BadRequest(format!("The upload could not be read: {}", e.body_text()))
    }
}

/// The page after an upload: what was read, the bad entries by line, what was stored.
fn answer(state: &Shared, token: &str, report: Result<SeedReport, String>) -> Markup {
    let back = state.path(&format!("preferences/{token}"));
    let body = html! {
        section.card.message #library-result {
            @match &report {
                Err(why) => {
                    h1 { "That file could not be read" }
                    p #library-error { (why) }
                    p { "Nothing was imported." }
                }
                Ok(r) => {
                    h1 { (headline(r)) }
                    p #library-read {
                        "Read " (count(r.entries, "entry", "entries")) " from " (r.file_name)
                        " (" (format_name(r.format)) ")"
                        @if r.papers != r.entries { ", " (count(r.papers, "distinct paper", "distinct papers")) }
                        @if r.skipped > 0 { "; " (count(r.skipped, "set", "sets")) " skipped" }
                        "."
                    }
                    p #library-matched {
                        (r.matched) " of them are papers we have (they count as liked); "
                        (r.kept) " are kept from your file's titles and abstracts."
                    }
                    @if !r.bad.is_empty() {
                        h2 { (count(r.bad.len(), "bad entry", "bad entries")) }
                        ul #library-bad {
                            @for b in &r.bad { li { "Line " (b.line) ": " (b.reason) } }
                        }
                    }
                    p #library-outcome { (outcome(r)) }
                }
            }
            p.actions { a.button href=(back) { "Back to your preferences" } }
        }
    };
    layout::page(state, "Your library", body)
}

fn headline(r: &SeedReport) -> &'static str {
    match r.outcome {
        SeedOutcome::Imported(_) => "Your library seeds your digest",
        SeedOutcome::DryRun => "Your library was read",
        _ => "Nothing was imported",
    }
}

fn outcome(r: &SeedReport) -> String {
    match r.outcome {
        SeedOutcome::Imported(t) => format!(
            "{} added, {} updated, {} unchanged{}; your profile now holds {}.",
            t.added,
            t.updated,
            t.unchanged,
            if t.removed > 0 {
                format!(" ({} earlier ones replaced)", t.removed)
            } else {
                String::new()
            },
            count(t.total, "paper", "papers")
        ),
        SeedOutcome::DryRun => "Nothing was stored.".into(),
        SeedOutcome::RefusedBadEntries => {
            "Nothing was imported: fix the entries above in your reference manager, export \
             again and upload the new file."
                .into()
        }
        SeedOutcome::NothingToImport => "Nothing was imported: the file lists no paper.".into(),
        SeedOutcome::OverCap { would_hold, max } => format!(
            "Nothing was imported: your profile would hold {would_hold} papers, and it keeps at \
             most {max}. Upload a smaller collection, or tick “replace” to start over."
        ),
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Bibtex => "BibTeX",
        Format::Ris => "RIS",
        Format::CslJson => "CSL-JSON",
        Format::Csv => "CSV",
    }
}

/// The preferences page's library card: what seeded the profile, and the upload form.
pub(crate) fn card(state: &Shared, sub: &Subscriber, token: &str, seeds: &SeedSummary) -> Markup {
    let action = state.path(&format!("preferences/{token}/library"));
    html! {
        section.card #library {
            h2 { "Your library" }
            @if seeds.files.is_empty() {
                p.muted { "Upload your reference manager's export (Zotero, JabRef, Mendeley, \
                    EndNote, Google Scholar: BibTeX, RIS, CSL-JSON or CSV) and your digest \
                    looks for papers like yours." }
            } @else {
                p #library-summary {
                    (count(seeds.total, "paper", "papers")) " from your library, "
                    (seeds.matched) " of them papers we have."
                }
                ul.links #library-files {
                    @for f in &seeds.files {
                        li { (f.file_name) " · " (count(f.seeds, "paper", "papers")) " · "
                            (f.imported_at.format("%Y-%m-%d")) }
                    }
                }
                @if !seeds.first_titles.is_empty() {
                    ul.muted #library-titles {
                        @for t in &seeds.first_titles { li { (crate::domain::shorten(t, 90)) } }
                    }
                }
            }
            @if sub.status != SubscriberStatus::Unsubscribed {
                form #library-form method="post" action=(action) enctype="multipart/form-data" {
                    (csrf::field(&state.secret, token, FORM))
                    input type="hidden" name="action" value="upload";
                    label for="library-file" { "Library file" }
                    input #library-file type="file" name="file" accept=".bib,.ris,.json,.csv,.txt" required;
                    label.check {
                        input #library-replace type="checkbox" name="replace" value="on";
                        " Replace what I uploaded before"
                    }
                    div.submit { button #library-upload .button type="submit" { "Upload library" } }
                }
                @if !seeds.files.is_empty() {
                    form #library-clear-form method="post" action=(action) enctype="multipart/form-data" {
                        (csrf::field(&state.secret, token, FORM))
                        input type="hidden" name="action" value="clear";
                        button #library-clear .button.secondary type="submit" { "Forget my library" }
                    }
                }
            }
        }
    }
}
