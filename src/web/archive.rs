//! `GET /archive`, `/archive/{edition}` and the Atom feed `/archive.xml`: the public
//! (non-personalised) digest of each period, rendered by the email's own code.
//!
//! The feed is written with quick-xml's writer rather than maud: maud writes HTML (void
//! elements such as `<link …>` are never closed), so its output would not be well-formed XML;
//! quick-xml closes and escapes everything.
use std::io;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::errors::WebError;
use super::{Shared, layout};
use crate::domain::Edition;
use crate::domain::{Digest, EditorsPick, EditorsSection, Period, Pick};
use crate::render::{digest_subject, readable_text, render_preview_page};
use crate::store::Store;

/// Editions listed on the archive page and in the feed.
const LISTED: usize = 200;
const IN_FEED: usize = 20;

/// The public digest of an edition, `None` when it has no papers (or its key is not a period).
pub(crate) fn edition_digest(store: &Store, edition: &Edition) -> anyhow::Result<Option<Digest>> {
    let Some(period) = Period::parse_key(&edition.period_key) else {
        return Ok(None);
    };
    // The editor's note and picks as they stand now (a reader's digest keeps them as they
    // were when it was planned); pinned papers lead and are not listed twice.
    let editorial = store.editorial(&edition.period_key)?;
    let ids: Vec<_> = edition
        .public
        .iter()
        .map(|p| p.id.clone())
        .chain(editorial.pins.iter().map(|p| p.paper_id.clone()))
        .collect();
    let mut papers = store.papers_by_id(&ids)?;
    let editors = EditorsSection {
        note: editorial.note,
        picks: editorial
            .pins
            .into_iter()
            .filter_map(|pin| {
                Some(EditorsPick {
                    paper: papers.remove(&pin.paper_id)?,
                    note: pin.note,
                })
            })
            .collect(),
    };
    let picks = edition
        .public
        .iter()
        .filter_map(|p| {
            Some(Pick {
                paper: papers.remove(&p.id)?,
                reasons: p.reasons.clone(),
            })
        })
        .collect();
    Ok(Digest::with_editors(
        period,
        editors,
        picks,
        Vec::new(),
        true,
        edition.created_at,
    ))
}

/// The newest edition with papers, and its digest.
pub(crate) fn latest_public(store: &Store) -> anyhow::Result<Option<(Edition, Digest)>> {
    for edition in store.editions(10)? {
        if let Some(d) = edition_digest(store, &edition)? {
            return Ok(Some((edition, d)));
        }
    }
    Ok(None)
}

fn public_editions(store: &Store, limit: usize) -> anyhow::Result<Vec<Edition>> {
    Ok(store
        .editions(limit)?
        .into_iter()
        .filter(|e| !e.public.is_empty() && Period::parse_key(&e.period_key).is_some())
        .collect())
}

fn cache_publicly(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

pub(crate) async fn list(State(state): State<Shared>) -> Result<Response, WebError> {
    let editions = state.db(|s| public_editions(s, LISTED)).await?;
    let body = html! {
        section.hero {
            h1 { "Past issues" }
            p.lead {
                "Each period's public edition: the new papers researchers upvoted most. Subscribers "
                "get their own selection by topic. Follow along with the "
                a href=(state.path("archive.xml")) { "Atom feed" } "."
            }
        }
        @if editions.is_empty() {
            section.card { p { "No issues yet. The first one is on its way." } }
        } @else {
            ol.issues #issues {
                @for e in &editions {
                    @let period = Period::parse_key(&e.period_key);
                    li.card {
                        a href=(state.path(&format!("archive/{}", e.period_key))) {
                            span.issue-title { (label(period, &e.period_key)) }
                            span.muted { (crate::domain::count(e.public.len(), "paper", "papers")) }
                        }
                    }
                }
            }
        }
    };
    Ok(cache_publicly(
        layout::page(&state, "Past issues", body).into_response(),
    ))
}

fn label(period: Option<Period>, key: &str) -> String {
    period.map_or_else(|| key.to_string(), |p| capitalise(&p.label()))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

pub(crate) async fn edition(
    State(state): State<Shared>,
    Path(key): Path<String>,
) -> Result<Response, WebError> {
    let found = state
        .db(move |s| {
            let Some(e) = s.edition(&key)? else {
                return Ok(None);
            };
            Ok(Some((edition_digest(s, &e)?, e)))
        })
        .await?;
    let Some((digest, edition)) = found else {
        return Err(WebError::NotFound);
    };
    let Some(digest) = digest else {
        return Err(WebError::NotFound);
    };
    let archive = state.url("archive");
    let why = format!(
        "This is the public edition of {}. Subscribe at {} to get the papers on your own topics.",
        state.newsletter_name, state.base_url
    );
    let ctx = state.page_context(&archive, &why);
    let title = format!(
        "{} · {}",
        label(Period::parse_key(&edition.period_key), &edition.period_key),
        state.newsletter_name
    );
    Ok(cache_publicly(
        render_preview_page(Some(&digest), &ctx, &title).into_response(),
    ))
}

pub(crate) async fn feed(State(state): State<Shared>) -> Result<Response, WebError> {
    let items = state
        .db(|s| {
            let mut out = Vec::new();
            for e in public_editions(s, IN_FEED)? {
                if let Some(d) = edition_digest(s, &e)? {
                    out.push((e, d));
                }
            }
            Ok(out)
        })
        .await?;
    let xml = atom(&state, &items).map_err(|e| WebError::Unexpected(e.into()))?;
    let mut response = xml.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    Ok(cache_publicly(response))
}

fn atom(state: &Shared, items: &[(Edition, Digest)]) -> io::Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    let self_url = state.url("archive.xml");
    let updated = items
        .iter()
        .map(|(e, _)| e.created_at)
        .max()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    w.create_element("feed")
        .with_attribute(("xmlns", "http://www.w3.org/2005/Atom"))
        .write_inner_content(|w| {
            text(w, "title", &state.newsletter_name)?;
            text(
                w,
                "subtitle",
                "The most upvoted new research papers of each period.",
            )?;
            text(w, "id", &self_url)?;
            link(w, "self", "application/atom+xml", &self_url)?;
            link(w, "alternate", "text/html", &state.url("archive"))?;
            text(w, "updated", &updated.to_rfc3339())?;
            w.create_element("author")
                .write_inner_content(|w| text(w, "name", &state.newsletter_name))?;
            for (edition, digest) in items {
                let url = state.url(&format!("archive/{}", edition.period_key));
                w.create_element("entry").write_inner_content(|w| {
                    text(w, "title", &digest_subject(digest, &state.newsletter_name))?;
                    text(w, "id", &url)?;
                    link(w, "alternate", "text/html", &url)?;
                    text(w, "updated", &edition.created_at.to_rfc3339())?;
                    w.create_element("content")
                        .with_attribute(("type", "html"))
                        .write_text_content(BytesText::new(&entry_html(digest).into_string()))?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    String::from_utf8(w.into_inner()).map_err(io::Error::other)
}

pub(crate) fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

pub(crate) fn link(w: &mut Writer<Vec<u8>>, rel: &str, kind: &str, href: &str) -> io::Result<()> {
    w.create_element("link")
        .with_attributes([("rel", rel), ("type", kind), ("href", href)])
        .write_empty()?;
    Ok(())
}

/// The entry's content: the papers as a list of links (maud escapes feed text; the writer
/// escapes the whole again as XML text).
fn entry_html(digest: &Digest) -> Markup {
    html! {
        @if let Some(note) = &digest.editors().note {
            p { (readable_text(note)) }
        }
        ol {
            @for p in digest.editors().picks.iter().map(|p| &p.paper).chain(digest.picks().iter().map(|p| &p.paper)) {
                li {
                    @match p.abs_link().and_then(|u| safe_http(&u)) {
                        Some(href) => a href=(href) { (readable_text(&p.title)) },
                        None => (readable_text(&p.title)),
                    }
                }
            }
        }
    }
}

fn safe_http(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}
