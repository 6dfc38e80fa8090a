use chrono::Utc;

use crate::config::Settings;
use crate::pipeline;
use crate::store::Store;

pub(super) async fn fetch(settings: &Settings, store: &Store) -> anyhow::Result<i32> {
    let pb = super::progress_bar(Some(settings.sources.len() as u64), "fetching");
    let on_source = |r: &crate::sources::SourceReport| {
        pb.inc(1);
        pb.set_message(r.name.clone());
    };
    let summary = pipeline::fetch(settings, store, Utc::now(), &on_source).await?;
    pb.finish_and_clear();
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
                crate::domain::count(s.papers, "paper", "papers")
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
