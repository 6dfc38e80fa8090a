//! `GET /feed/{reader token}.xml`: a reader's private Atom feed of their own picks — one
//! entry per paper of their last digests (title, link to the paper, the why line and the
//! summary; updated = when that digest went out). Behind the reader's `feed` token (or a
//! legacy token), read-only: the feed links the web copies with that same token and carries
//! no other token of the reader's, so a feed address in a feed reader opens nothing but the
//! feed and the copies (never preferences). Revoked on its own ("new feed address" on the
//! preferences page) and on unsubscribe. `ETag` (a hash of the body) and `Last-Modified`
//! (the newest digest) let feed readers poll cheaply: a matching `If-None-Match` gets a 304.
use std::io;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use quick_xml::Writer;
use quick_xml::events::BytesDecl;
use quick_xml::events::Event;
use sha2::{Digest as _, Sha256};

use super::Shared;
use super::archive::{link, text};
use super::errors::WebError;
use super::web_copy::{private, reader_of};
use crate::domain::{EditorsPick, Pick, TokenPurpose};
use crate::render::{EntryText, entry_text, pinned_entry_text};

/// Digests the feed reaches back over, and entries at most.
const DIGESTS: usize = 10;
const ENTRIES: usize = 100;

/// One entry: the paper, the edition it came in, when that went out.
struct Entry {
    text: EntryText,
    id: String,
    period_key: String,
    updated: DateTime<Utc>,
}

pub(crate) async fn feed(
    State(state): State<Shared>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let token = file
        .strip_suffix(".xml")
        .ok_or(WebError::NotFound)?
        .to_string();
    let reader = reader_of(&state, token, &[TokenPurpose::Feed]).await?;
    let reader_id = reader.sub.id;
    let entries = state
        .db(move |s| {
            let mut entries = Vec::new();
            for sent in s.sent_digests(reader_id, DIGESTS)? {
                let ids: Vec<_> = sent.picks.iter().map(|p| p.id.clone()).collect();
                let mut papers = s.papers_by_id(&ids)?;
                for r in &sent.picks {
                    let Some(paper) = papers.remove(&r.id) else {
                        continue;
                    };
                    let text = if r.pinned {
                        pinned_entry_text(&EditorsPick {
                            paper,
                            note: r.note.clone(),
                        })
                    } else {
                        entry_text(&Pick {
                            paper,
                            reasons: r.reasons.clone(),
                        })
                    };
                    entries.push(Entry {
                        text,
                        id: r.id.as_str().to_string(),
                        period_key: sent.period_key.clone(),
                        updated: sent.sent_at,
                    });
                }
            }
            entries.truncate(ENTRIES);
            anyhow::Ok(entries)
        })
        .await?;
    let xml = atom(&state, &reader.token, &entries).map_err(|e| WebError::Unexpected(e.into()))?;
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(xml.as_bytes())[..16]));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        xml.into_response()
    };
    private(&mut response);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(newest) = entries.iter().map(|e| e.updated).max()
        && let Ok(v) =
            HeaderValue::from_str(&newest.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
    {
        h.insert(header::LAST_MODIFIED, v);
    }
    Ok(response)
}

fn atom(state: &Shared, token: &str, entries: &[Entry]) -> io::Result<String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    let self_url = state.url(&format!("feed/{token}.xml"));
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    w.create_element("feed")
        .with_attribute(("xmlns", "http://www.w3.org/2005/Atom"))
        .write_inner_content(|w| {
            text(
                w,
                "title",
                &format!("{}: your papers", state.newsletter_name),
            )?;
            text(
                w,
                "subtitle",
                "The papers of your own digests, newest first. This address is private.",
            )?;
            text(w, "id", &self_url)?;
            link(w, "self", "application/atom+xml", &self_url)?;
            // The newsletter's site: the reader's own pages need their managing token,
            // which a feed never carries.
            link(w, "alternate", "text/html", &state.url(""))?;
            text(w, "updated", &updated.to_rfc3339())?;
            w.create_element("author")
                .write_inner_content(|w| text(w, "name", &state.newsletter_name))?;
            for e in entries {
                let copy = state.url(&format!("d/{token}/{}", e.period_key));
                let url = e.text.url.clone().unwrap_or_else(|| copy.clone());
                w.create_element("entry").write_inner_content(|w| {
                    text(w, "title", &e.text.title)?;
                    // Unique per reader: a paper is never sent to a reader twice.
                    // A URL key's own `#` or spaces would break the entry's IRI.
                    let fragment =
                        e.id.replace('%', "%25")
                            .replace('#', "%23")
                            .replace(' ', "%20");
                    text(w, "id", &format!("{self_url}#{fragment}"))?;
                    link(w, "alternate", "text/html", &url)?;
                    link(w, "related", "text/html", &copy)?;
                    text(w, "updated", &e.updated.to_rfc3339())?;
                    if let Some(a) = &e.text.authors {
                        w.create_element("author")
                            .write_inner_content(|w| text(w, "name", a))?;
                    }
                    let summary: Vec<&str> = [e.text.why.as_deref(), e.text.summary.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect();
                    if !summary.is_empty() {
                        text(w, "summary", &summary.join("\n\n"))?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    String::from_utf8(w.into_inner()).map_err(io::Error::other)
}
