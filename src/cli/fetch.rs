use std::collections::HashMap;
use std::sync::Mutex;

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Settings;
use crate::domain::count;
use crate::pipeline;
use crate::sources::FetchProgress;
use crate::store::Store;

pub(super) async fn fetch(settings: &Settings, store: &Store) -> anyhow::Result<i32> {
    let bars = FetchBars::new(settings);
    let summary = pipeline::fetch(&settings.fetch_job(), store, Utc::now(), &|p| {
        bars.update(p)
    })
    .await;
    bars.clear();
    let summary = summary?;
    print_fetch_summary(&summary);
    Ok(exit_code(&summary))
}

/// 1 when a source failed.
pub(super) fn exit_code(summary: &pipeline::FetchSummary) -> i32 {
    if summary.failed().next().is_some() {
        1
    } else {
        0
    }
}

/// One line per source: its name, the pages so far and the papers so far. Sources page
/// at very different rates (one feed versus 48 API pages), so counting sources said
/// little while the slow one ran.
pub(super) struct FetchBars {
    bars: HashMap<String, ProgressBar>,
    finished: Mutex<Vec<String>>,
}

impl FetchBars {
    pub(super) fn new(settings: &Settings) -> FetchBars {
        let style =
            ProgressStyle::with_template("{spinner} {prefix:20} {msg}").expect("valid template");
        let bars = settings
            .sources
            .iter()
            .map(|s| {
                let pb = ProgressBar::new_spinner()
                    .with_style(style.clone())
                    .with_prefix(s.name.clone())
                    .with_message("waiting for the first page");
                pb.enable_steady_tick(std::time::Duration::from_millis(120));
                (s.name.clone(), crate::telemetry::bars().add(pb))
            })
            .collect();
        FetchBars {
            bars,
            finished: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn update(&self, p: FetchProgress<'_>) {
        match p {
            FetchProgress::Page(page) => {
                let done = self.finished.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(pb) = self.bars.get(page.source.as_str())
                    && !done.contains(&page.source)
                {
                    pb.set_message(format!(
                        "{}, {}",
                        count(page.pages, "page", "pages"),
                        count(page.papers, "paper", "papers")
                    ));
                }
            }
            FetchProgress::Done(r) => {
                self.finished
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(r.name.clone());
                if let Some(pb) = self.bars.get(r.name.as_str()) {
                    let pages = count(r.documents + r.not_modified, "page", "pages");
                    let papers = count(r.papers.len(), "paper", "papers");
                    pb.finish_with_message(match &r.error {
                        None => format!("done: {pages}, {papers}"),
                        Some(_) => format!("FAILED after {pages} ({papers} kept)"),
                    });
                }
            }
        }
    }

    /// Takes the bars off the terminal.
    pub(super) fn clear(&self) {
        for pb in self.bars.values() {
            pb.finish_and_clear();
            crate::telemetry::bars().remove(pb);
        }
    }
}

pub(super) fn print_fetch_summary(summary: &pipeline::FetchSummary) {
    for s in &summary.sources {
        match &s.error {
            None => println!(
                "{:<20} {:>5} {}, {:>5} new{}{}",
                s.name,
                s.papers,
                if s.papers == 1 { "paper " } else { "papers" },
                s.new,
                not_modified(s.not_modified),
                skipped(s)
            ),
            Some(e) => println!(
                "{:<20} FAILED ({} kept): {e}",
                s.name,
                count(s.papers, "paper", "papers")
            ),
        }
    }
    let failed: Vec<_> = summary.failed().map(|s| s.name.as_str()).collect();
    if !failed.is_empty() {
        eprintln!(
            "{} of {} sources failed: {}",
            failed.len(),
            summary.sources.len(),
            failed.join(", ")
        );
    }
}

/// `; 2 items skipped (the first: item 3 (…): has no title)`, or nothing.
fn skipped(s: &crate::domain::SourceRunRecord) -> String {
    match (s.skipped, &s.first_skipped) {
        (0, _) => String::new(),
        (n, first) => format!(
            "; {} skipped{}",
            count(n, "item", "items"),
            first
                .as_ref()
                .map_or(String::new(), |f| format!(" (the first: {f})"))
        ),
    }
}

fn not_modified(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} unchanged)")
    }
}
