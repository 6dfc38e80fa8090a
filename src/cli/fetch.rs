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
    // One line per source: its name, the pages so far and the papers so far. Sources page
    // at very different rates (one feed versus 48 API pages), so counting sources said
    // little while the slow one ran.
    let style =
        ProgressStyle::with_template("{spinner} {prefix:20} {msg}").expect("valid template");
    let bars: HashMap<&str, ProgressBar> = settings
        .sources
        .iter()
        .map(|s| {
            let pb = ProgressBar::new_spinner()
                .with_style(style.clone())
                .with_prefix(s.name.clone())
                .with_message("waiting for the first page");
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            (s.name.as_str(), crate::telemetry::bars().add(pb))
        })
        .collect();
    let finished = Mutex::new(Vec::new());
    let on_progress = |p: FetchProgress<'_>| match p {
        FetchProgress::Page(page) => {
            let done = finished.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(pb) = bars.get(page.source.as_str())
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
            finished
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(r.name.clone());
            if let Some(pb) = bars.get(r.name.as_str()) {
                let pages = count(r.documents + r.not_modified, "page", "pages");
                let papers = count(r.papers.len(), "paper", "papers");
                pb.finish_with_message(match &r.error {
                    None => format!("done: {pages}, {papers}"),
                    Some(_) => format!("FAILED after {pages} ({papers} kept)"),
                });
            }
        }
    };
    let summary = pipeline::fetch(settings, store, Utc::now(), &on_progress).await;
    for pb in bars.values() {
        pb.finish_and_clear();
        crate::telemetry::bars().remove(pb);
    }
    let summary = summary?;
    print_fetch_summary(&summary);
    Ok(if summary.failed().next().is_some() {
        1
    } else {
        0
    })
}

pub(super) fn print_fetch_summary(summary: &pipeline::FetchSummary) {
    for s in &summary.sources {
        match &s.error {
            None => println!(
                "{:<20} {:>5} {}, {:>5} new{}",
                s.name,
                s.papers,
                if s.papers == 1 { "paper " } else { "papers" },
                s.new,
                not_modified(s.not_modified)
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

fn not_modified(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} unchanged)")
    }
}
