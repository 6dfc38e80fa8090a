//! Hugging Face Daily Papers (`/api/daily_papers`): JSON, both the 2024 and the 2026 schema.
//!
//! Optional fields may be missing or `null`; a field of the wrong type (`"upvotes": "many"`)
//! rejects the whole page with serde_json's line and column.
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Deserialize;

use super::Collector;
use super::config::HfDailyConfig;
use super::error::{ParseError, SourceErrorKind};
use super::http::{Fetched, Fetcher};
use crate::domain::{Paper, PaperId, collapse_whitespace};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    paper: HfPaper,
    published_at: Option<DateTime<Utc>>,
    title: Option<String>,
    summary: Option<String>,
    thumbnail: Option<String>,
    num_comments: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HfPaper {
    id: String,
    #[serde(default)]
    authors: Vec<Author>,
    published_at: Option<DateTime<Utc>>,
    submitted_on_daily_at: Option<DateTime<Utc>>,
    title: Option<String>,
    summary: Option<String>,
    upvotes: Option<u32>,
    project_page: Option<String>,
    github_repo: Option<String>,
    github_stars: Option<u32>,
    #[serde(rename = "ai_summary")]
    ai_summary: Option<String>,
    #[serde(rename = "ai_keywords")]
    ai_keywords: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct Author {
    /// Hidden authors (`hidden: true`) still carry their name; it is kept.
    name: Option<String>,
}

/// One page: how many items it had (0 = past the end) and the papers it gave.
#[derive(Debug)]
pub struct Page {
    pub items: usize,
    pub papers: Vec<Paper>,
}

/// Parses a page (a JSON array of items) or a single item object.
pub fn parse(doc: &str) -> Result<Page, ParseError> {
    super::json::check_depth(doc)?;
    let items: Vec<Item> = if doc.trim_start().starts_with('{') {
        vec![serde_json::from_str(doc).map_err(|e| ParseError::json(&e))?]
    } else {
        serde_json::from_str(doc).map_err(|e| ParseError::json(&e))?
    };
    let count = items.len();
    let papers = items.into_iter().filter_map(to_paper).collect();
    Ok(Page {
        items: count,
        papers,
    })
}

fn to_paper(item: Item) -> Option<Paper> {
    let p = item.paper;
    let Some((id, version)) = PaperId::parse_arxiv(&p.id) else {
        tracing::warn!(
            id = p.id,
            "HF daily papers: skipping an item whose id is not an arXiv id"
        );
        return None;
    };
    let title = p.title.or(item.title).unwrap_or_default();
    let summary = p.summary.or(item.summary).unwrap_or_default();
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Some(Paper {
        hf_url: Some(format!("https://huggingface.co/papers/{id}")),
        thumbnail: nonempty(item.thumbnail).or_else(|| {
            Some(format!(
                "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{id}.png"
            ))
        }),
        id: Some(id),
        version,
        title: collapse_whitespace(&title),
        abstract_text: collapse_whitespace(&summary),
        authors: p
            .authors
            .into_iter()
            .filter_map(|a| a.name.map(|n| collapse_whitespace(&n)))
            .filter(|n| !n.is_empty())
            .collect(),
        published: p.published_at,
        listed: p.submitted_on_daily_at.or(item.published_at),
        upvotes: p.upvotes,
        comments: item.num_comments,
        code_url: nonempty(p.github_repo),
        project_url: nonempty(p.project_page),
        github_stars: p.github_stars,
        ai_summary: nonempty(p.ai_summary).map(|s| collapse_whitespace(&s)),
        ai_keywords: p.ai_keywords.unwrap_or_default(),
        ..Paper::default()
    })
}

/// The `date=` or `week=` filters to fetch, newest first.
pub fn filters(cfg: &HfDailyConfig, today: NaiveDate) -> Vec<(&'static str, String)> {
    if cfg.week {
        let w = today.iso_week();
        return vec![("week", format!("{}-W{:02}", w.year(), w.week()))];
    }
    (0..cfg.days.unwrap_or(2))
        .filter_map(|back| today.checked_sub_days(chrono::Days::new(back.into())))
        .map(|d| ("date", d.format("%Y-%m-%d").to_string()))
        .collect()
}

fn page_url(
    cfg: &HfDailyConfig,
    filter: &(&str, String),
    page: u32,
) -> Result<String, SourceErrorKind> {
    let mut url = url::Url::parse(&cfg.url)
        .map_err(|e| SourceErrorKind::Other(format!("url `{}`: {e}", cfg.url)))?;
    url.query_pairs_mut()
        .append_pair(filter.0, &filter.1)
        .append_pair("limit", &cfg.limit.to_string())
        .append_pair("p", &page.to_string());
    Ok(url.into())
}

/// Fetches every page of every wanted day (or the week) until an empty page.
pub(crate) async fn run(
    cfg: &HfDailyConfig,
    fetcher: &Fetcher,
    today: NaiveDate,
    out: &mut Collector,
) -> Result<(), SourceErrorKind> {
    for filter in filters(cfg, today) {
        for p in 0..cfg.max_pages {
            let url = page_url(cfg, &filter, p)?;
            let body = match fetcher.get(&url).await? {
                Fetched::NotModified => {
                    out.page_not_modified();
                    continue;
                }
                Fetched::Body(body) => body,
            };
            let page = parse(&body).map_err(|e| {
                fetcher.forget(&url);
                SourceErrorKind::parse(&url, e)
            })?;
            out.page_fetched();
            if page.items == 0 {
                // Never answer "not modified" for the end marker, or paging would not stop.
                fetcher.forget(&url);
                break;
            }
            out.add(page.papers);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HF_2024: &str = include_str!("../../tests/fixtures/hf_daily_papers_2024-10-25_full.json");
    const HF_2026: &str =
        include_str!("../../tests/fixtures/hf_daily_papers_item_2026-03_full_fields.json");

    #[test]
    fn the_2024_page_gives_29_papers_in_upvote_order() {
        let page = parse(HF_2024).unwrap();
        assert_eq!((page.items, page.papers.len()), (29, 29));
        let votes: Vec<u32> = page.papers.iter().map(|p| p.upvotes.unwrap()).collect();
        assert_eq!((votes[0], votes[28]), (64, 2));
        assert!(votes.windows(2).all(|w| w[0] >= w[1]));
        let first = &page.papers[0];
        assert_eq!(first.id.as_ref().unwrap().as_str(), "2410.17243");
        assert_eq!(
            first.title,
            "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
        );
        assert!(
            page.papers
                .iter()
                .all(|p| !p.title.contains('\n') && !p.abstract_text.contains('\n'))
        );
        assert_eq!(
            first.hf_url.as_deref(),
            Some("https://huggingface.co/papers/2410.17243")
        );
        assert!(
            first
                .thumbnail
                .as_deref()
                .unwrap()
                .ends_with("2410.17243.png")
        );
        let hidden = page
            .papers
            .iter()
            .find(|p| p.id.as_ref().unwrap().as_str() == "2410.17897")
            .unwrap();
        assert!(
            hidden.authors.iter().any(|a| a == "Zhanchao Zhou"),
            "{:?}",
            hidden.authors
        );
    }

    #[test]
    fn the_2026_item_carries_code_project_and_ai_fields() {
        let page = parse(HF_2026).unwrap();
        let p = &page.papers[0];
        assert_eq!(p.id.as_ref().unwrap().as_str(), "2602.23229");
        assert_eq!(
            p.code_url.as_deref(),
            Some("https://github.com/marco-garosi/CIRCLE")
        );
        assert_eq!(
            p.project_url.as_deref(),
            Some("https://circle-lmm.github.io/")
        );
        assert_eq!(p.github_stars, Some(9));
        assert!(
            p.ai_summary
                .as_deref()
                .unwrap()
                .starts_with("Large Multimodal Models demonstrate")
        );
        assert_eq!(p.ai_keywords.len(), 9);
        assert_eq!((p.upvotes, p.comments), (Some(10), Some(1)));
        assert_eq!(p.authors.len(), 5);
        assert_eq!(
            p.listed.unwrap().to_rfc3339(),
            "2026-03-06T03:55:12.777+00:00"
        );
        assert_eq!(p.published.unwrap().date_naive().to_string(), "2026-02-26");
    }

    #[test]
    fn items_without_an_arxiv_id_are_skipped_and_an_empty_page_is_empty() {
        let page = parse(r#"[{"paper": {"id": "not-an-id", "title": "x"}}]"#).unwrap();
        assert_eq!((page.items, page.papers.len()), (1, 0));
        let empty = parse("[]").unwrap();
        assert_eq!((empty.items, empty.papers.len()), (0, 0));
    }

    #[test]
    fn days_and_weeks_become_filters() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let mut cfg: HfDailyConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(
            filters(&cfg, today),
            [
                ("date", "2026-11-26".to_string()),
                ("date", "2026-11-25".to_string())
            ]
        );
        cfg.week = true;
        assert_eq!(filters(&cfg, today), [("week", "2026-W48".to_string())]);
    }
}
