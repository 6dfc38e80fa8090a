//! The arXiv export API (`/api/query`): Atom with `arxiv:` and `opensearch:` extensions, in
//! both its 2016 style (namespace declared on every element) and its 2026 style.
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Collector;
use super::config::{ARXIV_API_MAX_PAGE, ARXIV_API_MAX_TOTAL, ArxivApiConfig};
use super::error::{ParseError, SourceErrorKind};
use super::http::{FetchError, Fetched, Fetcher};
use super::xml::{self, ARXIV, ATOM, Element, OPENSEARCH};
use crate::domain::{Paper, PaperId, collapse_whitespace};

/// One API answer.
#[derive(Debug, Default)]
pub struct ApiPage {
    pub papers: Vec<Paper>,
    /// `opensearch:totalResults`, when given.
    pub total_results: Option<u64>,
    /// The summary of an entry titled `Error`: the API's way of refusing a query.
    pub error: Option<String>,
}

/// Parses one API answer. An `Error` entry is reported in [`ApiPage::error`], not as `Err`.
pub fn parse(doc: &str) -> Result<ApiPage, ParseError> {
    let root = xml::parse(doc)?;
    if !root.is(ATOM, "feed") {
        return Err(ParseError::Content(format!(
            "expected an Atom <feed>, found <{}>",
            root.name
        )));
    }
    let mut page = ApiPage {
        total_results: root
            .child_text(OPENSEARCH, "totalResults")
            .and_then(|t| t.trim().parse().ok()),
        ..ApiPage::default()
    };
    for entry in root.children(ATOM, "entry") {
        let raw_id = entry.child_text(ATOM, "id").unwrap_or_default().trim();
        let title = entry.child_text(ATOM, "title").map(collapse_whitespace);
        if title.as_deref() == Some("Error") || raw_id.contains("/api/errors") {
            let summary = entry
                .child_text(ATOM, "summary")
                .unwrap_or("no reason given");
            page.error = Some(collapse_whitespace(summary));
            continue;
        }
        let Some((id, version)) = PaperId::parse_arxiv(raw_id) else {
            return Err(ParseError::Content(format!(
                "entry id `{raw_id}` is not an arXiv identifier"
            )));
        };
        page.papers.push(entry_to_paper(entry, id, version, title));
    }
    Ok(page)
}

fn entry_to_paper(e: &Element, id: PaperId, version: Option<u32>, title: Option<String>) -> Paper {
    let text = |ns, name| e.child_text(ns, name).map(collapse_whitespace);
    let primary = e
        .child(ARXIV, "primary_category")
        .and_then(|c| c.attr("term"))
        .map(str::to_string);
    let mut categories: Vec<String> = primary.iter().cloned().collect();
    for term in e.children(ATOM, "category").filter_map(|c| c.attr("term")) {
        if !categories.iter().any(|c| c == term) {
            categories.push(term.to_string());
        }
    }
    let mut paper = Paper {
        id: Some(id),
        version,
        title: title.unwrap_or_default(),
        abstract_text: text(ATOM, "summary").unwrap_or_default(),
        authors: e
            .children(ATOM, "author")
            .filter_map(|a| a.child_text(ATOM, "name"))
            .map(collapse_whitespace)
            .collect(),
        primary_category: primary.or_else(|| categories.first().cloned()),
        categories,
        published: date(e.child_text(ATOM, "published")),
        updated: date(e.child_text(ATOM, "updated")),
        comment: text(ARXIV, "comment"),
        journal_ref: text(ARXIV, "journal_ref"),
        doi: text(ARXIV, "doi"),
        ..Paper::default()
    };
    for link in e.children(ATOM, "link") {
        let (Some(href), rel, title) = (link.attr("href"), link.attr("rel"), link.attr("title"))
        else {
            continue;
        };
        if title == Some("pdf") || link.attr("type") == Some("application/pdf") {
            paper.pdf_url.get_or_insert_with(|| href.to_string());
        } else if title == Some("doi") {
            if paper.doi.is_none() {
                paper.doi = href.split_once("doi.org/").map(|(_, d)| d.to_string());
            }
        } else if rel.is_none_or(|r| r == "alternate") {
            paper.abs_url.get_or_insert_with(|| href.to_string());
        }
    }
    paper
}

fn date(s: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s?.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Pages through the query with `start`/`max_results`, pausing `delay_secs` between calls.
pub(crate) async fn run(
    cfg: &ArxivApiConfig,
    fetcher: &Fetcher,
    out: &mut Collector,
) -> Result<(), SourceErrorKind> {
    let total_wanted = cfg.max_results.min(ARXIV_API_MAX_TOTAL);
    let page_size = cfg.page_size.clamp(1, ARXIV_API_MAX_PAGE);
    let rejected = |message: String| SourceErrorKind::ArxivRejected {
        query: cfg.query.clone(),
        message,
    };
    let mut start = 0;
    while start < total_wanted {
        if start > 0 && cfg.delay_secs > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(cfg.delay_secs)).await;
        }
        let n = page_size.min(total_wanted - start);
        let url = url::Url::parse_with_params(
            &cfg.url,
            [
                ("search_query", cfg.query.as_str()),
                ("start", &start.to_string()),
                ("max_results", &n.to_string()),
                ("sortBy", &cfg.sort_by),
                ("sortOrder", &cfg.sort_order),
            ],
        )
        .map_err(|e| SourceErrorKind::Other(format!("url `{}`: {e}", cfg.url)))?
        .to_string();
        let body = match fetcher.get(&url).await {
            Ok(Fetched::Body(body)) => body,
            Ok(Fetched::NotModified) => {
                out.page_not_modified();
                start += n;
                continue;
            }
            Err(FetchError::Status {
                status: 400, body, ..
            }) => {
                return Err(match parse(&body).ok().and_then(|p| p.error) {
                    Some(message) => rejected(message),
                    None => rejected(format!("HTTP 400 from {url}")),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let page = parse(&body).map_err(|e| {
            fetcher.forget(&url);
            SourceErrorKind::parse(&url, e)
        })?;
        if let Some(message) = page.error {
            return Err(rejected(message));
        }
        out.page_fetched();
        let got = page.papers.len();
        out.add(page.papers);
        start += n;
        if got == 0 || page.total_results.is_some_and(|t| u64::from(start) >= t) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "arxiv_api_tests.rs"]
mod tests;
