//! Papers from a local file: any format the remote sources read (HF Daily Papers JSON, arXiv
//! API Atom, arXiv announcement Atom or RSS), or paperpost's own JSON for hand-made lists.
//!
//! # paperpost's JSON list format
//! Either `{"papers": [ … ]}` or a bare array `[ … ]` of objects with these keys:
//!
//! | key | required | meaning |
//! |---|---|---|
//! | `title` | yes | the paper's title |
//! | `id` | one of `id`/`url` | an arXiv id in any common spelling (`2410.18975`, `arXiv:2410.18975v2`, an abs/pdf URL) |
//! | `url` | one of `id`/`url` | the paper's page; an arXiv URL gives the id, any other URL identifies the paper |
//! | `abstract` | no | the abstract |
//! | `authors` | no | list of names |
//! | `categories` | no | arXiv category codes, primary first |
//! | `published` | no | `2026-11-20` or RFC 3339 (`2026-11-20T09:30:00Z`) |
//! | `pdf` | no | link to the PDF |
//! | `code` | no | link to the code |
//! | `upvotes` | no | a whole number |
//! | `summary` | no | a one-line summary shown in the digest |
//!
//! ```json
//! {"papers": [{"id": "2410.18975", "title": "Unbounded: A Generative Infinite Game",
//!              "categories": ["cs.CV"], "published": "2024-10-24"}]}
//! ```
//! Unknown keys are refused (a misspelt key should not be silently ignored). A paper with
//! neither an arXiv id nor a URL is an error that names its index (`papers[3]`, from 0).
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::Collector;
use super::config::{FileConfig, FileFormat};
use super::error::{ParseError, SourceErrorKind};
use super::xml::{self, ARXIV, ATOM, NONE};
use super::{arxiv_api, arxiv_feed, hf};
use crate::domain::{Paper, PaperId, collapse_whitespace};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListDoc {
    papers: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: Option<String>,
    url: Option<String>,
    title: String,
    #[serde(rename = "abstract")]
    abstract_text: Option<String>,
    #[serde(default)]
    authors: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    published: Option<String>,
    pdf: Option<String>,
    code: Option<String>,
    upvotes: Option<u32>,
    summary: Option<String>,
}

/// Which format a document is in, from its content.
pub fn detect(doc: &str) -> Result<FileFormat, ParseError> {
    let head = doc.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with('<') {
        let root = xml::parse(doc)?;
        if root.is(NONE, "rss") {
            return Ok(FileFormat::ArxivRss);
        }
        return Ok(FileFormat::ArxivAtom);
    }
    if head.starts_with('[') || head.starts_with('{') {
        super::json::check_depth(doc)?;
        let value: serde_json::Value =
            serde_json::from_str(doc).map_err(|e| ParseError::json(&e))?;
        let has =
            |v: &serde_json::Value, key: &str| v.as_object().is_some_and(|o| o.contains_key(key));
        let hf_like = match &value {
            serde_json::Value::Array(items) => items.first().is_some_and(|i| has(i, "paper")),
            other => has(other, "paper"),
        };
        return Ok(if hf_like {
            FileFormat::HfJson
        } else {
            FileFormat::PaperpostJson
        });
    }
    let start: String = head.chars().take(20).collect();
    Err(ParseError::Content(format!(
        "neither XML nor JSON (starts with {start:?})"
    )))
}

/// Parses a document in `format` (detecting it for [`FileFormat::Auto`]).
pub fn parse(doc: &str, format: FileFormat) -> Result<Vec<Paper>, ParseError> {
    let format = match format {
        FileFormat::Auto => detect(doc)?,
        f => f,
    };
    match format {
        FileFormat::HfJson => Ok(hf::parse(doc)?.papers),
        FileFormat::ArxivRss => arxiv_feed::parse_as(doc, Some(arxiv_feed::FeedFormat::Rss)),
        FileFormat::ArxivAtom => {
            // The announcement feed and the API both speak Atom; announcement entries have
            // `oai:` ids and an announce type.
            let root = xml::parse(doc)?;
            let announcement = root.children(ATOM, "entry").any(|e| {
                e.child(ARXIV, "announce_type").is_some()
                    || e.child_text(ATOM, "id")
                        .is_some_and(|id| id.trim().starts_with("oai:"))
            });
            if announcement {
                return arxiv_feed::parse_as(doc, Some(arxiv_feed::FeedFormat::Atom));
            }
            let page = arxiv_api::parse(doc)?;
            match page.error {
                Some(e) => Err(ParseError::Content(format!(
                    "the document is an arXiv API error: {e}"
                ))),
                None => Ok(page.papers),
            }
        }
        FileFormat::PaperpostJson | FileFormat::Auto => parse_list(doc),
    }
}

fn parse_list(doc: &str) -> Result<Vec<Paper>, ParseError> {
    super::json::check_depth(doc)?;
    let entries: Vec<Entry> = if doc
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('[')
    {
        serde_json::from_str(doc).map_err(|e| ParseError::json(&e))?
    } else {
        serde_json::from_str::<ListDoc>(doc)
            .map_err(|e| ParseError::json(&e))?
            .papers
    };
    entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| to_paper(e).map_err(|m| ParseError::Content(format!("papers[{i}]: {m}"))))
        .collect()
}

fn to_paper(e: Entry) -> Result<Paper, String> {
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (id, url) = (nonempty(e.id), nonempty(e.url));
    let (id, version) = match (&id, &url) {
        (Some(raw), _) => PaperId::parse_arxiv(raw).ok_or_else(|| {
            format!("id `{raw}` is not an arXiv identifier (use `url` for other papers)")
        })?,
        (None, Some(u)) => PaperId::parse_arxiv(u).unwrap_or_else(|| (PaperId::external(u), None)),
        (None, None) => return Err("has neither an arXiv `id` nor a `url`".into()),
    };
    let title = collapse_whitespace(&e.title);
    if title.is_empty() {
        return Err("has an empty title".into());
    }
    let published = match nonempty(e.published) {
        None => None,
        Some(s) => Some(date(&s).ok_or_else(|| {
            format!("published `{s}` is neither a date (2026-11-20) nor RFC 3339")
        })?),
    };
    let categories: Vec<String> = e
        .categories
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    Ok(Paper {
        abs_url: url.filter(|_| !id.is_arxiv()),
        id: Some(id),
        version,
        title,
        abstract_text: collapse_whitespace(e.abstract_text.as_deref().unwrap_or_default()),
        authors: e
            .authors
            .iter()
            .map(|a| collapse_whitespace(a))
            .filter(|a| !a.is_empty())
            .collect(),
        primary_category: categories.first().cloned(),
        categories,
        published,
        pdf_url: nonempty(e.pdf),
        code_url: nonempty(e.code),
        upvotes: e.upvotes,
        ai_summary: nonempty(e.summary).map(|s| collapse_whitespace(&s)),
        ..Paper::default()
    })
}

fn date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}

/// Reads the configured file, at most `max_bytes` of it: a larger file (or an endless one,
/// such as a device) fails this source without being read whole.
pub(crate) async fn run(
    cfg: &FileConfig,
    max_bytes: u64,
    out: &mut Collector,
) -> Result<(), SourceErrorKind> {
    use tokio::io::AsyncReadExt;
    let path = cfg.path.display().to_string();
    let file_error = |message: String| SourceErrorKind::File {
        path: path.clone(),
        message,
    };
    let file = tokio::fs::File::open(&cfg.path)
        .await
        .map_err(|e| file_error(e.to_string()))?;
    let too_large = || {
        file_error(format!(
            "the file is larger than the limit of {max_bytes} bytes (max_body_bytes)"
        ))
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    if len > max_bytes {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| file_error(e.to_string()))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large());
    }
    let doc = String::from_utf8(bytes)
        .map_err(|e| file_error(format!("stream did not contain valid UTF-8 ({e})")))?;
    let papers = parse(&doc, cfg.format).map_err(|e| SourceErrorKind::parse(&path, e))?;
    out.page_fetched();
    out.add(papers);
    Ok(())
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
