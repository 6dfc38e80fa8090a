//! The bioRxiv/medRxiv public API (`kind = "biorxiv"`): the `details` endpoint,
//! `{url}/details/{server}/{from}/{to}/{cursor}`, answers
//! `{"messages":[{"status":"ok","cursor":…,"count":…,"total":…}],"collection":[…]}` with up
//! to 100 preprint versions a page; the next page starts at `cursor + count`. Each record
//! is one version of a preprint (`version` "1", "2"…); the versions of one preprint merge
//! into one paper keyed by its DOI (`doi:10.1101/…`). A record whose `published` is a
//! journal DOI (not "NA") keeps it as [`Paper::published_doi`], so the journal's own feed
//! and the preprint become one paper in the store.
use serde::Deserialize;
use serde_json::Value;

use super::Collector;
use super::config::BiorxivConfig;
use super::error::{ParseError, SourceErrorKind};
use super::feed::parse_date;
use super::http::{Fetched, Fetcher};
use crate::domain::{Paper, PaperId, SourceKind, canonical_doi, collapse_whitespace, html_to_text};

/// The most records the API gives a page.
pub const PAGE_SIZE: u64 = 100;

/// One `details` answer.
#[derive(Debug, Default)]
pub struct DetailsPage {
    pub papers: Vec<Paper>,
    /// `messages[0].total`: records in the whole interval.
    pub total: u64,
    /// `messages[0].count`: records on this page.
    pub count: u64,
    /// `record N (`doi`): why`, one per record left out.
    pub skipped: Vec<String>,
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    collection: Vec<Value>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    status: String,
    /// A number or a string of one, depending on the endpoint's mood.
    #[serde(default)]
    count: Option<Value>,
    #[serde(default)]
    total: Option<Value>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(default)]
    doi: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    authors: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    category: String,
    #[serde(default, rename = "abstract")]
    abstract_text: String,
    #[serde(default)]
    published: String,
    #[serde(default)]
    server: String,
    #[serde(default, rename = "type")]
    kind: String,
}

fn number(v: &Option<Value>) -> Option<u64> {
    match v.as_ref()? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parses one `details` answer. `status` other than "ok" is an error, except the API's
/// "no posts found" for an empty interval (zero papers).
pub fn parse(doc: &str, server: &str) -> Result<DetailsPage, ParseError> {
    super::json::check_depth(doc)?;
    let d: Doc = serde_json::from_str(doc).map_err(|e| ParseError::json(&e))?;
    let Some(m) = d.messages.first() else {
        return Err(ParseError::Content(
            "no `messages`: not a bioRxiv/medRxiv details answer".into(),
        ));
    };
    if m.status != "ok" {
        if d.collection.is_empty() && m.status.to_ascii_lowercase().contains("no posts found") {
            return Ok(DetailsPage::default());
        }
        return Err(ParseError::Content(format!(
            "the API answered status \"{}\"",
            m.status
        )));
    }
    let mut page = DetailsPage {
        total: number(&m.total).unwrap_or(0),
        count: number(&m.count).unwrap_or(d.collection.len() as u64),
        ..DetailsPage::default()
    };
    for (i, v) in d.collection.iter().enumerate() {
        let record = Record::deserialize(v)
            .map_err(|e| ParseError::Content(format!("collection[{i}]: {e}")));
        match record.and_then(|r| to_paper(r, server).map_err(ParseError::Content)) {
            Ok(p) => page.papers.push(p),
            Err(e) => {
                let doi = v.get("doi").and_then(Value::as_str).unwrap_or("no doi");
                page.skipped.push(format!("record {} ({doi}): {e}", i + 1));
            }
        }
    }
    Ok(page)
}

fn to_paper(r: Record, server: &str) -> Result<Paper, String> {
    let doi = canonical_doi(&r.doi).ok_or_else(|| format!("`{}` is not a DOI", r.doi))?;
    let title = html_to_text(&r.title);
    if title.is_empty() {
        return Err("has no title".into());
    }
    let version = number(&r.version).and_then(|v| u32::try_from(v).ok());
    let server = if r.server.trim().is_empty() {
        server.to_string()
    } else {
        r.server.trim().to_ascii_lowercase()
    };
    let published_doi = match r.published.trim() {
        "" | "NA" => None,
        p => canonical_doi(p),
    };
    let category = collapse_whitespace(&r.category);
    let date = parse_date(&r.date);
    let mut paper = Paper {
        id: PaperId::from_doi(&doi),
        version,
        title,
        abstract_text: html_to_text(&r.abstract_text),
        authors: r
            .authors
            .split(';')
            .map(collapse_whitespace)
            .filter(|a| !a.is_empty())
            .collect(),
        primary_category: (!category.is_empty()).then(|| category.clone()),
        categories: [category].into_iter().filter(|c| !c.is_empty()).collect(),
        // The date of this version: the first version's is when the preprint was posted.
        published: date.filter(|_| version.is_none_or(|v| v <= 1)),
        updated: date,
        abs_url: Some(format!(
            "https://www.{server}.org/content/{doi}v{}",
            version.unwrap_or(1)
        )),
        pdf_url: Some(format!(
            "https://www.{server}.org/content/{doi}v{}.full.pdf",
            version.unwrap_or(1)
        )),
        journal_ref: published_doi
            .as_ref()
            .map(|d| format!("Published as doi:{d}")),
        doi: Some(doi),
        published_doi,
        origin: Some(SourceKind::Biorxiv),
        ..Paper::default()
    };
    if !r.kind.trim().is_empty() {
        paper.comment = Some(collapse_whitespace(&r.kind));
    }
    Ok(paper)
}

/// The URL of one page.
pub fn page_url(cfg: &BiorxivConfig, from: &str, to: &str, cursor: u64) -> String {
    let mut url = format!(
        "{}/details/{}/{from}/{to}/{cursor}",
        cfg.url.trim_end_matches('/'),
        cfg.server.as_str()
    );
    if let Some(c) = &cfg.category {
        url.push_str("?category=");
        url.push_str(&urlencoding::encode(c.trim()));
    }
    url
}

/// Pages through the interval by cursor, at most `max_pages` pages.
pub(crate) async fn run(
    cfg: &BiorxivConfig,
    fetcher: &Fetcher,
    today: chrono::NaiveDate,
    out: &mut Collector,
) -> Result<(), SourceErrorKind> {
    let (from, to) = cfg.dates(today).map_err(SourceErrorKind::Other)?;
    let (from, to) = (from.to_string(), to.to_string());
    let mut cursor = 0;
    for _ in 0..cfg.max_pages {
        let url = page_url(cfg, &from, &to, cursor);
        let body = match fetcher.get(&url).await? {
            Fetched::Body(body) => body,
            Fetched::NotModified => {
                // Unchanged, so its count is unknown: the next page is a full page on.
                out.page_not_modified();
                cursor += PAGE_SIZE;
                continue;
            }
        };
        let page = parse(&body, cfg.server.as_str()).map_err(|e| {
            fetcher.forget(&url);
            SourceErrorKind::parse(&url, e)
        })?;
        for why in &page.skipped {
            out.skip(&url, "bioRxiv record", why);
        }
        out.page_fetched();
        let (count, total) = (page.count, page.total);
        out.add(page.papers);
        // An empty page ends it (a cursor that did not move would ask for it again).
        cursor += count;
        if count == 0 || cursor >= total {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "biorxiv_tests.rs"]
mod tests;
