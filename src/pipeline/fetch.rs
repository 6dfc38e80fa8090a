//! Fetch every configured source and store what came back.
use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::domain::{PaperId, RunRecord, SourceRunRecord};
use crate::sources::{FetchProgress, Fetcher, Validators, fetch_all_reporting};
use crate::store::Store;

/// What a fetch reads from `config.toml`: the `[[sources]]`, the HTTP client's options from
/// `[fetch]`, the newsletter's time zone (the date a dated source asks for) and the
/// embedding model (`[selection] model`) that makes the stored papers' vectors.
#[derive(Debug, Clone)]
pub struct FetchJob {
    pub sources: Vec<crate::sources::SourceConfig>,
    pub options: crate::sources::FetchOptions,
    pub timezone: chrono_tz::Tz,
    /// The model's folder; none: the shipped model.
    pub model: Option<std::path::PathBuf>,
}

/// What a fetch did, per source.
#[derive(Debug, Clone, Default)]
pub struct FetchSummary {
    pub sources: Vec<SourceRunRecord>,
    /// Papers embedded (new, or their text changed): their vectors are stored.
    pub embedded: usize,
}

impl FetchSummary {
    pub fn failed(&self) -> impl Iterator<Item = &SourceRunRecord> {
        self.sources.iter().filter(|s| s.error.is_some())
    }
}

/// Fetches all sources (concurrently; a failing one does not stop the others), stores the
/// papers and the vectors of those new or changed (`pipeline::vectors`), persists
/// conditional-GET validators and records the run. `on_progress` hears of every page and
/// every finished source. A model that fails to load fails the fetch after the papers are
/// stored and before the validators are saved, so the next fetch asks for the same pages
/// and embeds them then.
#[tracing::instrument(name = "Fetching sources", skip_all)]
pub async fn fetch(
    job: &FetchJob,
    store: &Store,
    now: DateTime<Utc>,
    on_progress: &(dyn Fn(FetchProgress<'_>) + Sync),
) -> anyhow::Result<FetchSummary> {
    // Store calls run on the blocking pool: a fetch runs on an async worker.
    let seed = store
        .blocking(|s| s.http_validators())
        .await?
        .into_iter()
        .map(|(url, etag, last_modified)| {
            (
                url,
                Validators {
                    etag,
                    last_modified,
                },
            )
        })
        .collect();
    let fetcher = Fetcher::new(job.options.clone())
        .map_err(anyhow::Error::msg)?
        .with_validators(seed);
    let today = now.with_timezone(&job.timezone).date_naive();
    let reports = fetch_all_reporting(&job.sources, &fetcher, today, on_progress).await;
    let mut summary = FetchSummary::default();
    let mut fetched: Vec<PaperId> = Vec::new();
    for report in reports {
        let papers = report.papers.len();
        let batch = report.papers;
        fetched.extend(batch.iter().filter_map(|p| p.id.clone()));
        let counts = store.blocking(move |s| s.upsert_papers(batch, now)).await?;
        if let Some(e) = &report.error {
            tracing::warn!(source = %report.name, "source failed: {e}");
        }
        summary.sources.push(SourceRunRecord {
            name: report.name,
            papers,
            new: counts.new,
            not_modified: report.not_modified,
            skipped: report.skipped,
            first_skipped: report.first_skipped,
            error: report.error.map(|e| e.to_string()),
        });
    }
    fetched.sort_unstable();
    fetched.dedup();
    if !fetched.is_empty() {
        let model = job.model.clone();
        summary.embedded = store
            .blocking(move |s| Ok(embed_fetched(s, model.as_deref(), &fetched)))
            .await??;
        tracing::info!(
            embedded = summary.embedded,
            "stored the vectors of new or changed papers"
        );
    }
    let validators: Vec<_> = fetcher
        .validators()
        .into_iter()
        .map(|(url, v)| (url, v.etag, v.last_modified))
        .collect();
    let run = RunRecord {
        kind: "fetch".into(),
        sources: summary.sources.clone(),
        ..RunRecord::default()
    };
    store
        .blocking(move |s| {
            s.save_http_validators(&validators)?;
            s.record_run(&run, now, Utc::now())
        })
        .await?;
    Ok(summary)
}

/// Embeds the fetched papers that have no vector yet for the configured model (`None`: the
/// shipped one) and their stored text.
fn embed_fetched(
    store: &Store,
    model: Option<&std::path::Path>,
    ids: &[PaperId],
) -> anyhow::Result<usize> {
    let embedder = crate::embed::Embedder::shared(model).with_context(|| {
        format!(
            "The papers were stored, but the embedding model ([selection] model = {}) did not \
             load, so their vectors were not computed",
            model.map_or_else(|| "the shipped one".into(), |m| m.display().to_string())
        )
    })?;
    super::vectors::embed_stored_papers(store, &embedder, ids).with_context(|| {
        format!(
            "The papers were stored, but computing their vectors with {} failed",
            embedder.identity()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_that_does_not_load_at_fetch_fails_saying_the_papers_were_stored_and_where() {
        let store = Store::for_tests().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("removed-model");

        let err = embed_fetched(&store, Some(&gone), &[]).unwrap_err();

        let text = format!("{err:#}");
        assert!(text.contains("The papers were stored"), "{text}");
        assert!(text.contains(&gone.display().to_string()), "{text}");
    }
}
