//! arXiv daily announcement feeds (`rss.arxiv.org/atom/{cats}` and `/rss/{cats}`), Atom or
//! RSS 2.0, told apart by the document itself. Each entry's summary or description starts
//! `arXiv:ID Announce Type: T` and then `Abstract: …`; authors are one comma-separated
//! `dc:creator`. A feed with no entries (Friday, Saturday, holidays) is zero papers.
use chrono::{DateTime, Utc};

use super::Collector;
use super::config::ArxivFeedConfig;
use super::error::{ParseError, SourceErrorKind};
use super::http::{Fetched, Fetcher};
use super::xml::{self, ARXIV, ATOM, DC, Element, NONE};
use crate::domain::{Paper, PaperId, collapse_whitespace};

/// Which of the two feed formats a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Atom,
    Rss,
}

/// The feed URL for the configured categories: `{url}/cs.AI+cs.CL`.
pub fn feed_url(cfg: &ArxivFeedConfig) -> String {
    format!(
        "{}/{}",
        cfg.url.trim_end_matches('/'),
        cfg.categories.join("+")
    )
}

/// Parses an announcement feed in either format.
pub fn parse(doc: &str) -> Result<Vec<Paper>, ParseError> {
    parse_as(doc, None)
}

/// Parses, insisting on `format` when given.
pub fn parse_as(doc: &str, format: Option<FeedFormat>) -> Result<Vec<Paper>, ParseError> {
    let root = xml::parse(doc)?;
    let found = if root.is(ATOM, "feed") {
        FeedFormat::Atom
    } else if root.is(NONE, "rss") {
        FeedFormat::Rss
    } else {
        return Err(ParseError::Content(format!(
            "expected an Atom <feed> or an RSS <rss>, found <{}>",
            root.name
        )));
    };
    if format.is_some_and(|f| f != found) {
        return Err(ParseError::Content(format!(
            "expected {format:?}, found {found:?}"
        )));
    }
    match found {
        FeedFormat::Atom => root.children(ATOM, "entry").map(atom_entry).collect(),
        FeedFormat::Rss => root
            .children(NONE, "channel")
            .flat_map(|c| c.children(NONE, "item"))
            .map(rss_item)
            .collect(),
    }
}

fn atom_entry(e: &Element) -> Result<Paper, ParseError> {
    let mut p = common(
        e,
        e.child_text(ATOM, "id"),
        e.child_text(ATOM, "summary"),
        e.children(ATOM, "category").filter_map(|c| c.attr("term")),
    )?;
    p.abs_url = e
        .children(ATOM, "link")
        .find(|l| l.attr("rel").is_none_or(|r| r == "alternate"))
        .and_then(|l| l.attr("href"))
        .map(str::to_string);
    p.listed = e
        .child_text(ATOM, "published")
        .and_then(|d| DateTime::parse_from_rfc3339(d.trim()).ok())
        .map(|d| d.with_timezone(&Utc));
    Ok(finish(p))
}

fn rss_item(e: &Element) -> Result<Paper, ParseError> {
    let mut p = common(
        e,
        e.child_text(NONE, "guid").or(e.child_text(NONE, "link")),
        e.child_text(NONE, "description"),
        e.children(NONE, "category").map(|c| c.text.trim()),
    )?;
    p.abs_url = e.child_text(NONE, "link").map(|l| l.trim().to_string());
    p.listed = e
        .child_text(NONE, "pubDate")
        .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())
        .map(|d| d.with_timezone(&Utc));
    Ok(finish(p))
}

/// What both formats share: id, title, the `arXiv:… Announce Type: …` summary, authors, categories.
fn common<'a>(
    e: &Element,
    raw_id: Option<&str>,
    summary: Option<&str>,
    terms: impl Iterator<Item = &'a str>,
) -> Result<Paper, ParseError> {
    let raw_id = raw_id.unwrap_or_default().trim();
    let bare = raw_id.strip_prefix("oai:arXiv.org:").unwrap_or(raw_id);
    let (id, version) = PaperId::parse_arxiv(bare).ok_or_else(|| {
        ParseError::Content(format!("entry id `{raw_id}` is not an arXiv identifier"))
    })?;
    let (announce, abstract_text) = split_summary(summary.unwrap_or_default());
    let mut categories: Vec<String> = Vec::new();
    for c in terms.map(str::trim).filter(|c| !c.is_empty()) {
        if !categories.iter().any(|k| k == c) {
            categories.push(c.to_string());
        }
    }
    Ok(Paper {
        id: Some(id),
        version,
        title: collapse_whitespace(
            e.child_text(ATOM, "title")
                .or(e.child_text(NONE, "title"))
                .unwrap_or_default(),
        ),
        abstract_text,
        authors: e
            .child_text(DC, "creator")
            .map(|s| {
                s.split(',')
                    .map(collapse_whitespace)
                    .filter(|a| !a.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        primary_category: categories.first().cloned(),
        categories,
        announce_type: e
            .child_text(ARXIV, "announce_type")
            .map(|t| t.trim().to_string())
            .or(announce),
        ..Paper::default()
    })
}

/// A first version announced as new or cross-listed was published on the announcement day.
fn finish(mut p: Paper) -> Paper {
    if p.version == Some(1) && matches!(p.announce_type.as_deref(), Some("new" | "cross")) {
        p.published = p.listed;
    }
    p
}

/// `arXiv:2508.13426v1 Announce Type: cross \nAbstract: As large…` → (`cross`, `As large…`).
fn split_summary(raw: &str) -> (Option<String>, String) {
    let announce = raw
        .split_once("Announce Type:")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .map(str::to_string);
    let text = match raw.split_once("Abstract:") {
        Some((_, rest)) => rest,
        None if announce.is_some() => "",
        None => raw,
    };
    (announce, collapse_whitespace(text))
}

/// Fetches the feed for the configured categories.
pub(crate) async fn run(
    cfg: &ArxivFeedConfig,
    fetcher: &Fetcher,
    out: &mut Collector,
) -> Result<(), SourceErrorKind> {
    let url = feed_url(cfg);
    match fetcher.get(&url).await? {
        Fetched::NotModified => out.page_not_modified(),
        Fetched::Body(body) => {
            let papers = parse(&body).map_err(|e| {
                fetcher.forget(&url);
                SourceErrorKind::parse(&url, e)
            })?;
            out.page_fetched();
            out.add(papers);
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "arxiv_feed_tests.rs"]
mod tests;
