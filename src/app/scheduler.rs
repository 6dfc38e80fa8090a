//! The loop of `paperpost serve`: at each wake-up, one run of [`pipeline::run_due`] in
//! scheduled mode (fetch if due, plan the editions of the readers whose send time came,
//! deliver), then sleep until the next due time [`crate::schedule`] computes.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::Runtime;
use crate::config::Settings;
use crate::delivery::Transport;
use crate::domain::RunRecord;
use crate::pipeline::{self, Due, FetchWhen, RunOptions, RunOutcome};
use crate::schedule::Clock;
use crate::store::Store;

/// One tick at `now` with a runtime of its own (its own lease owner), as `paperpost serve`
/// runs it at each wake-up. Tests call it with made-up times.
pub async fn run_due(
    settings: &Settings,
    store: &Store,
    transport: Transport,
    now: DateTime<Utc>,
) -> anyhow::Result<RunOutcome> {
    let rt = Runtime::with_transport(Arc::new(settings.clone()), Some(transport))?;
    let (_keep, stop) = watch::channel(false);
    pipeline::run_due(
        &rt.run,
        store,
        now,
        &RunOptions::new(Due::Scheduled, FetchWhen::IfDue, stop),
    )
    .await
}

/// [`next_wake`] with its store reads on the blocking pool.
async fn next_wake_blocking(
    rt: &Runtime,
    store: &Store,
    now: DateTime<Utc>,
) -> anyhow::Result<DateTime<Utc>> {
    let readers = pipeline::readers_blocking(store).await?;
    let retry = store.blocking(|s| s.next_retry_at()).await?;
    let mut wake = rt.run.schedule.next_wake(&readers, now);
    if let Some(retry) = retry.filter(|t| *t > now) {
        wake = wake.min(retry);
    }
    Ok(wake)
}

/// When the loop should run next: the next fetch or send time, the next retry, or one
/// tick from `now`, whichever is sooner.
pub fn next_wake(rt: &Runtime, store: &Store, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    let mut wake = rt.run.schedule.next_wake(&pipeline::readers(store)?, now);
    if let Some(retry) = store.next_retry_at()?.filter(|t| *t > now) {
        wake = wake.min(retry);
    }
    Ok(wake)
}

fn record_error(store: &Store, now: DateTime<Utc>, note: &str) -> anyhow::Result<()> {
    let record = RunRecord {
        kind: "error".into(),
        note: Some(note.to_string()),
        ..RunRecord::default()
    };
    Ok(store.record_run(&record, now, now)?)
}

/// The scheduler: runs a tick, sleeps until the next due time (at most `tick_secs`), and
/// again, until `shutdown` turns true (or its sender is dropped). A tick that fails is logged
/// and recorded, and the loop goes on. On shutdown, messages in flight are finished and the
/// rest stays queued for the next start.
pub async fn run_until_stopped(
    rt: Runtime,
    store: Store,
    clock: Arc<dyn Clock>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let opts = RunOptions::new(Due::Scheduled, FetchWhen::IfDue, shutdown.clone());
    let stopping = |s: &watch::Receiver<bool>| *s.borrow() || s.has_changed().is_err();
    let mut shutdown = shutdown;
    tracing::info!(owner = %rt.run.owner, "scheduler started");
    loop {
        if stopping(&shutdown) {
            break;
        }
        let now = clock.now();
        if let Err(e) = pipeline::run_due(&rt.run, &store, now, &opts).await {
            tracing::error!("scheduled run failed: {e:#}");
            let (s, note) = (store.clone(), format!("{e:#}"));
            let recorded = tokio::task::spawn_blocking(move || record_error(&s, now, &note)).await;
            if let Ok(Err(e2)) = recorded {
                tracing::error!("could not record the failed run: {e2:#}");
            }
        }
        if stopping(&shutdown) {
            break;
        }
        let now = clock.now();
        let wake = next_wake_blocking(&rt, &store, now)
            .await
            .unwrap_or_else(|e| {
                tracing::error!("could not compute the next run time: {e:#}");
                now + rt.run.schedule.tick
            });
        tokio::select! {
            _ = clock.sleep_until(wake) => {}
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
    tracing::info!("scheduler stopped");
    Ok(())
}
