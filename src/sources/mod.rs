//! Fetching papers: HF Daily Papers, arXiv announcement feeds, the arXiv API, any paper feed
//! (RSS, Atom, JSON Feed), the bioRxiv/medRxiv API, local files.
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
pub mod biorxiv;
pub mod config;
pub mod error;
pub mod feed;
pub mod hf;
pub mod http;
pub mod json;
pub mod local;
pub mod redirect;
pub mod xml;

pub use config::{
    ArxivApiConfig, ArxivFeedConfig, BiorxivConfig, BiorxivServer, FeedConfig, FeedFields,
    FetchSettings, FileConfig, FileFormat, HfDailyConfig, SourceConfig, SourceSpec,
};
pub use error::{ParseError, SourceError, SourceErrorKind};
pub use http::{FetchError, FetchOptions, Fetched, Fetcher, Validators, user_agent};
pub use redirect::{RedirectHost, RedirectPolicy};

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
    /// Items the source's documents held that could not become papers (no title, nothing
    /// to key them by, a bad DOI), each logged with its reason; the first reason.
    pub skipped: usize,
    pub first_skipped: Option<String>,
    pub error: Option<SourceError>,
}

/// A source's progress after each page (document) it fetched: for progress bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageProgress {
    pub source: String,
    /// Pages fetched so far, "not modified" answers included.
    pub pages: usize,
    /// Distinct papers so far.
    pub papers: usize,
}

/// What [`fetch_all_reporting`] tells its caller while sources run.
#[derive(Debug, Clone, Copy)]
pub enum FetchProgress<'a> {
    /// A source fetched one more page.
    Page(&'a PageProgress),
    /// A source is done (or failed).
    Done(&'a SourceReport),
}

/// Papers of one source as they arrive, merged by id.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    name: String,
    papers: Vec<Paper>,
    index: HashMap<PaperId, usize>,
    pub documents: usize,
    pub not_modified: usize,
    skipped: usize,
    first_skipped: Option<String>,
    /// Where page progress goes, if anyone listens.
    pages: Option<tokio::sync::mpsc::UnboundedSender<PageProgress>>,
}

impl Collector {
    fn new(name: &str) -> Collector {
        Collector {
            name: name.to_string(),
            ..Collector::default()
        }
    }

    /// One more page fetched and parsed.
    pub fn page_fetched(&mut self) {
        self.documents += 1;
        self.report_page();
    }

    /// One more page the server said had not changed (HTTP 304).
    pub fn page_not_modified(&mut self) {
        self.not_modified += 1;
        self.report_page();
    }

    /// An item of a document that cannot become a paper (`what`: the kind of item, for the
    /// log): logged with its reason and counted in the source's report, the rest go on.
    pub fn skip(&mut self, url: &str, what: &str, why: &str) {
        tracing::warn!(source = %self.name, url, "skipped a {what}: {why}");
        self.skipped += 1;
        self.first_skipped.get_or_insert_with(|| why.to_string());
    }

    fn report_page(&self) {
        if let Some(tx) = &self.pages {
            // A listener that went away is no reason to stop fetching.
            let _ = tx.send(PageProgress {
                source: self.name.clone(),
                pages: self.documents + self.not_modified,
                papers: self.papers.len(),
            });
        }
    }

    /// Adds a document's papers: tagged with the source name, duplicates merged. Two
    /// papers are the same when they share any key ([`Paper::match_keys`]: the id, the
    /// DOI, a preprint's published DOI).
    pub fn add(&mut self, papers: Vec<Paper>) {
        for mut p in papers {
            if p.id.is_none() {
                continue;
            }
            p.sources.insert(self.name.clone());
            let keys = p.match_keys();
            let slot = match keys.iter().find_map(|k| self.index.get(k)) {
                Some(&i) => {
                    self.papers[i].merge(p);
                    i
                }
                None => {
                    self.papers.push(p);
                    self.papers.len() - 1
                }
            };
            for key in keys.into_iter().chain(self.papers[slot].match_keys()) {
                self.index.entry(key).or_insert(slot);
            }
        }
        self.report_page();
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
            skipped: self.skipped,
            first_skipped: self.first_skipped,
        }
    }
}

/// Runs one source to the end, or to its first error.
pub async fn fetch_one(source: &SourceConfig, fetcher: &Fetcher, today: NaiveDate) -> SourceReport {
    fetch_one_reporting(source, fetcher, today, None).await
}

/// [`fetch_one`], sending a [`PageProgress`] after each page to `pages`.
async fn fetch_one_reporting(
    source: &SourceConfig,
    fetcher: &Fetcher,
    today: NaiveDate,
    pages: Option<tokio::sync::mpsc::UnboundedSender<PageProgress>>,
) -> SourceReport {
    let mut out = Collector::new(&source.name);
    out.pages = pages;
    let fetcher = &fetcher.for_source(source);
    let result = match &source.kind {
        SourceSpec::HfDaily(c) => hf::run(c, fetcher, today, &mut out).await,
        SourceSpec::ArxivFeed(c) => arxiv_feed::run(c, fetcher, &mut out).await,
        SourceSpec::ArxivApi(c) => arxiv_api::run(c, fetcher, &mut out).await,
        SourceSpec::File(c) => local::run(c, fetcher.max_body_bytes(), &mut out).await,
        SourceSpec::Feed(c) => feed::run(c, fetcher, &mut out).await,
        SourceSpec::Biorxiv(c) => biorxiv::run(c, fetcher, today, &mut out).await,
    };
    if let Err(e) = &result {
        tracing::warn!(source = source.name, error = %e, "source failed");
    }
    tracing::info!(
        source = source.name,
        papers = out.papers.len(),
        documents = out.documents,
        not_modified = out.not_modified,
        skipped = out.skipped,
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
    let on = |p: FetchProgress<'_>| {
        if let FetchProgress::Done(r) = p {
            on_progress(r);
        }
    };
    fetch_all_reporting(sources, fetcher, today, &on).await
}

/// [`fetch_all`], telling `on_progress` about every page as well as every finished source
/// (the sources run in their own tasks; their pages come back over a channel).
pub async fn fetch_all_reporting(
    sources: &[SourceConfig],
    fetcher: &Fetcher,
    today: NaiveDate,
    on_progress: &(dyn Fn(FetchProgress<'_>) + Sync),
) -> Vec<SourceReport> {
    let mut set = tokio::task::JoinSet::new();
    let mut slot_of = HashMap::new();
    let (pages_tx, mut pages_rx) = tokio::sync::mpsc::unbounded_channel();
    for (i, source) in sources.iter().cloned().enumerate() {
        let fetcher = fetcher.clone();
        let tx = pages_tx.clone();
        let handle =
            set.spawn(async move { fetch_one_reporting(&source, &fetcher, today, Some(tx)).await });
        slot_of.insert(handle.id(), i);
    }
    drop(pages_tx);
    let mut reports: Vec<Option<SourceReport>> = vec![None; sources.len()];
    loop {
        let joined = tokio::select! {
            // Pages first: a source's last pages are shown before it is reported done.
            biased;
            Some(page) = pages_rx.recv() => {
                on_progress(FetchProgress::Page(&page));
                continue;
            }
            joined = set.join_next_with_id() => joined,
        };
        let Some(joined) = joined else { break };
        let (id, report) = match joined {
            Ok((id, report)) => (id, report),
            Err(e) => {
                let i = slot_of[&e.id()];
                let name = &sources[i].name;
                let kind = SourceErrorKind::Other(format!("the fetch task failed: {e}"));
                (e.id(), Collector::new(name).into_report(Some(kind)))
            }
        };
        on_progress(FetchProgress::Done(&report));
        reports[slot_of[&id]] = Some(report);
    }
    reports
        .into_iter()
        .map(|r| r.expect("every task reports"))
        .collect()
}
