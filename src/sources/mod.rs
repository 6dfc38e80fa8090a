//! Fetching papers: HF Daily Papers, arXiv announcement feeds, the arXiv API, local files.
//!
//! Every source turns its documents into [`Paper`]s tagged with the source's configured
//! name. [`fetch_all`] runs all sources concurrently; one failing source never stops the
//! others. Within one document parsing is all-or-nothing: a malformed page contributes no
//! papers and the report's error says where it broke (papers from earlier good pages of the
//! same source are kept).
use std::collections::HashMap;

use chrono::NaiveDate;

use crate::domain::{Paper, PaperId};

pub mod arxiv_api;
pub mod arxiv_feed;
pub mod config;
pub mod error;
pub mod hf;
pub mod http;
pub mod json;
pub mod local;
pub mod xml;

pub use config::{
    ArxivApiConfig, ArxivFeedConfig, FileConfig, FileFormat, HfDailyConfig, SourceConfig,
    SourceSpec,
};
pub use error::{ParseError, SourceError, SourceErrorKind};
pub use http::{FetchError, FetchOptions, Fetched, Fetcher, Validators, user_agent};

/// What one source gave in one run.
#[derive(Debug, Clone)]
pub struct SourceReport {
    pub name: String,
    /// Distinct papers (duplicates inside the source merged), in the order first seen.
    pub papers: Vec<Paper>,
    /// Documents fetched and parsed (pages, feeds, files).
    pub documents: usize,
    /// Documents the server said had not changed (HTTP 304).
    pub not_modified: usize,
    pub error: Option<SourceError>,
}

/// Papers of one source as they arrive, merged by id.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    name: String,
    papers: Vec<Paper>,
    index: HashMap<PaperId, usize>,
    pub documents: usize,
    pub not_modified: usize,
}

impl Collector {
    fn new(name: &str) -> Collector {
        Collector {
            name: name.to_string(),
            ..Collector::default()
        }
    }

    /// Adds a document's papers: tagged with the source name, duplicates merged.
    pub fn add(&mut self, papers: Vec<Paper>) {
        for mut p in papers {
            let Some(id) = p.id.clone() else { continue };
            p.sources.insert(self.name.clone());
            match self.index.get(&id) {
                Some(&i) => self.papers[i].merge(p),
                None => {
                    self.index.insert(id, self.papers.len());
                    self.papers.push(p);
                }
            }
        }
    }

    fn into_report(self, error: Option<SourceErrorKind>) -> SourceReport {
        SourceReport {
            error: error.map(|kind| SourceError {
                name: self.name.clone(),
                kind,
            }),
            name: self.name,
            papers: self.papers,
            documents: self.documents,
            not_modified: self.not_modified,
        }
    }
}

/// Runs one source to the end, or to its first error.
pub async fn fetch_one(source: &SourceConfig, fetcher: &Fetcher, today: NaiveDate) -> SourceReport {
    let mut out = Collector::new(&source.name);
    let fetcher = &match source.max_body_bytes {
        Some(limit) => fetcher.with_max_body(limit),
        None => fetcher.clone(),
    };
    let result = match &source.kind {
        SourceSpec::HfDaily(c) => hf::run(c, fetcher, today, &mut out).await,
        SourceSpec::ArxivFeed(c) => arxiv_feed::run(c, fetcher, &mut out).await,
        SourceSpec::ArxivApi(c) => arxiv_api::run(c, fetcher, &mut out).await,
        SourceSpec::File(c) => local::run(c, fetcher.max_body_bytes(), &mut out).await,
    };
    if let Err(e) = &result {
        tracing::warn!(source = source.name, error = %e, "source failed");
    }
    tracing::info!(
        source = source.name,
        papers = out.papers.len(),
        documents = out.documents,
        not_modified = out.not_modified,
        "source done"
    );
    out.into_report(result.err())
}

/// Runs every source concurrently; reports come back in configuration order, and
/// `on_progress` sees each one as soon as its source is done.
pub async fn fetch_all(
    sources: &[SourceConfig],
    fetcher: &Fetcher,
    today: NaiveDate,
    on_progress: &(dyn Fn(&SourceReport) + Sync),
) -> Vec<SourceReport> {
    let mut set = tokio::task::JoinSet::new();
    let mut slot_of = HashMap::new();
    for (i, source) in sources.iter().cloned().enumerate() {
        let fetcher = fetcher.clone();
        let handle = set.spawn(async move { fetch_one(&source, &fetcher, today).await });
        slot_of.insert(handle.id(), i);
    }
    let mut reports: Vec<Option<SourceReport>> = vec![None; sources.len()];
    while let Some(joined) = set.join_next_with_id().await {
        let (id, report) = match joined {
            Ok((id, report)) => (id, report),
            Err(e) => {
                let i = slot_of[&e.id()];
                let name = &sources[i].name;
                let kind = SourceErrorKind::Other(format!("the fetch task failed: {e}"));
                (e.id(), Collector::new(name).into_report(Some(kind)))
            }
        };
        on_progress(&report);
        reports[slot_of[&id]] = Some(report);
    }
    reports
        .into_iter()
        .map(|r| r.expect("every task reports"))
        .collect()
}
