//! One scheduler tick — fetch if due, plan the editions of the readers whose send time came,
//! deliver — and the loop of `paperpost serve` around it.
//!
//! Safe to run in several processes at once: the fetch and each edition are planned under a
//! named lease in the store (`fetch`, `edition:{period}`), editions and deliveries are unique
//! per period and reader, and the delivery engine claims each row for one sender.
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

use super::clock::Clock;
use super::due::{Missed, Reader, Schedule};
use crate::config::Settings;
use crate::delivery::{EngineReport, Progress, Transport};
use crate::domain::RunRecord;
use crate::domain::{Frequency, SubscriberStatus};
use crate::pipeline::{self, FetchSummary, PlanSummary};
use crate::store::Store;

/// How long a fetch may hold its lease before another process may fetch.
pub const FETCH_LEASE: Duration = Duration::minutes(30);
/// How long planning an edition may hold its lease.
pub const EDITION_LEASE: Duration = Duration::minutes(10);
/// `meta` keys: the last tick, and the last fetch slot that ran.
pub const LAST_TICK: &str = "schedule.last_tick";
pub const LAST_FETCH: &str = "schedule.last_fetch";

/// What one tick did with an edition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditionRun {
    pub frequency: Frequency,
    pub period_key: String,
    /// Readers due and not yet planned when the tick looked.
    pub due: usize,
    /// `None`: another process holds the edition's lease; nothing was planned here.
    pub plan: Option<PlanSummary>,
}

/// What one tick did.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    pub fetch: Option<FetchSummary>,
    /// A fetch was due but another process was fetching.
    pub fetch_locked: bool,
    pub editions: Vec<EditionRun>,
    pub missed: Vec<Missed>,
    pub delivery: Option<EngineReport>,
    /// Stopped (shutdown) before the tick's work was done.
    pub stopped: bool,
}

impl RunOutcome {
    /// Non-empty digests planned.
    pub fn planned(&self) -> usize {
        self.plans().map(|p| p.planned).sum()
    }
    /// Readers whose digest was empty (skipped: no mail).
    pub fn empty(&self) -> usize {
        self.plans().map(|p| p.empty).sum()
    }
    pub fn sent(&self) -> usize {
        self.delivery.as_ref().map_or(0, |d| d.sent)
    }
    fn plans(&self) -> impl Iterator<Item = &PlanSummary> {
        self.editions.iter().filter_map(|e| e.plan.as_ref())
    }
    /// Editions planned here with at least one new reader, oldest period first.
    pub fn edition_keys(&self) -> Vec<&str> {
        self.editions
            .iter()
            .filter(|e| e.plan.is_some())
            .map(|e| e.period_key.as_str())
            .collect()
    }
    /// Nothing planned, nothing delivered: a tick with nothing to do.
    fn delivered_nothing(&self) -> bool {
        self.editions.is_empty()
            && self.delivery.as_ref().is_none_or(|d| {
                d.sent + d.retry + d.failed + d.unknown + d.suppressed == 0 && d.aborted.is_none()
            })
    }
}

/// Does the scheduler's work for one store and transport.
pub struct Runner {
    settings: Arc<Settings>,
    schedule: Schedule,
    store: Store,
    transport: Transport,
    owner: String,
    stop: watch::Receiver<bool>,
    /// Keeps the stop channel open when nobody else holds its sender.
    _never: Option<watch::Sender<bool>>,
}

impl Runner {
    pub fn new(
        settings: Arc<Settings>,
        store: Store,
        transport: Transport,
    ) -> anyhow::Result<Runner> {
        let schedule = Schedule::from_settings(&settings).map_err(anyhow::Error::msg)?;
        let (tx, rx) = watch::channel(false);
        Ok(Runner {
            settings,
            schedule,
            store,
            transport,
            owner: format!("pid{}-{}", std::process::id(), crate::store::lease_nonce()),
            stop: rx,
            _never: Some(tx),
        })
    }

    /// Stops fetching, planning and claiming when `stop` turns true (or its sender is
    /// dropped); messages in flight are finished.
    pub fn with_stop(mut self, stop: watch::Receiver<bool>) -> Runner {
        self.stop = stop;
        self._never = None;
        self
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Who holds this runner's leases.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow() || self.stop.has_changed().is_err()
    }

    fn meta_time(&self, key: &str) -> anyhow::Result<Option<DateTime<Utc>>> {
        Ok(self
            .store
            .meta(key)?
            .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    fn set_meta_time(&self, key: &str, t: DateTime<Utc>) -> anyhow::Result<()> {
        Ok(self.store.set_meta(key, &t.to_rfc3339())?)
    }

    fn readers(&self) -> anyhow::Result<Vec<Reader>> {
        Ok(self
            .store
            .subscribers(Some(SubscriberStatus::Active))?
            .iter()
            .map(Reader::from)
            .collect())
    }

    /// One tick at `now`: fetch if due, plan every due reader not yet planned in their
    /// period's edition, deliver what is due, and record the run.
    #[tracing::instrument(name = "Scheduled run", skip_all, fields(now = %now))]
    pub async fn run_due(&self, now: DateTime<Utc>) -> anyhow::Result<RunOutcome> {
        let started = Instant::now();
        let mut out = RunOutcome::default();
        self.fetch_if_due(now, &mut out).await?;
        // While another process fetches, its papers are not in yet: plan at the next tick
        // rather than plan digests without them.
        if !self.stopping() && !out.fetch_locked {
            self.plan_due(now, &mut out).await?;
        }
        if !self.stopping() && self.store.outstanding_deliveries()? > 0 {
            let report = pipeline::send(
                &self.settings,
                &self.store,
                self.transport.clone(),
                self.settings.dkim_config()?,
                Arc::new(Progress::default()),
                self.stop.clone(),
            )
            .await?;
            if report.sent + report.failed + report.retry + report.unknown > 0 {
                tracing::info!(
                    sent = report.sent,
                    retry = report.retry,
                    failed = report.failed,
                    unknown = report.unknown,
                    "delivered"
                );
            }
            if let Some(why) = &report.aborted {
                tracing::error!("delivery stopped early: {why}");
            }
            out.delivery = Some(report);
        }
        out.stopped = self.stopping();
        self.set_meta_time(LAST_TICK, now)?;
        if !out.delivered_nothing() {
            let finished = now + Duration::from_std(started.elapsed()).unwrap_or_default();
            self.store.record_run(&send_record(&out), now, finished)?;
        }
        Ok(out)
    }

    async fn fetch_if_due(&self, now: DateTime<Utc>, out: &mut RunOutcome) -> anyhow::Result<()> {
        let Some(slot) = self.schedule.fetch_due(self.meta_time(LAST_FETCH)?, now) else {
            return Ok(());
        };
        if !self
            .store
            .try_lock("fetch", &self.owner, now, now + FETCH_LEASE)?
        {
            tracing::info!("another process is fetching");
            out.fetch_locked = true;
            return Ok(());
        }
        // Another process may have fetched this slot between our look and the lock.
        let result = if self
            .schedule
            .fetch_due(self.meta_time(LAST_FETCH)?, now)
            .is_some()
        {
            let mut stop = self.stop.clone();
            tokio::select! {
                r = pipeline::fetch(&self.settings, &self.store, now, &|_| {}) => Some(r),
                _ = stopped(&mut stop) => None,
            }
        } else {
            None
        };
        let unlocked = self.store.unlock("fetch", &self.owner);
        if let Some(summary) = result.transpose().context("Scheduled fetch failed")? {
            self.set_meta_time(LAST_FETCH, slot)?;
            let papers: usize = summary.sources.iter().map(|s| s.papers).sum();
            let new: usize = summary.sources.iter().map(|s| s.new).sum();
            let failed: Vec<&str> = summary.failed().map(|s| s.name.as_str()).collect();
            tracing::info!(papers, new, ?failed, "fetched");
            out.fetch = Some(summary);
        }
        Ok(unlocked?)
    }

    async fn plan_due(&self, now: DateTime<Utc>, out: &mut RunOutcome) -> anyhow::Result<()> {
        let readers = self.readers()?;
        let last_tick = self.meta_time(LAST_TICK)?;
        let due = self.schedule.sends_due(&readers, last_tick, now);
        for m in &due.missed {
            let note = format!(
                "missed the {} edition {} (due {}, {} readers): the scheduler was not running and it is past the {} h grace window, or a later edition replaced it",
                m.frequency,
                m.period_key,
                m.slot
                    .with_timezone(&self.schedule.timezone)
                    .format("%Y-%m-%d %H:%M %Z"),
                m.readers,
                self.schedule.grace.num_hours()
            );
            tracing::warn!("{note}");
            let record = RunRecord {
                kind: "missed".into(),
                period_key: Some(m.period_key.clone()),
                note: Some(note),
                ..RunRecord::default()
            };
            self.store.record_run(&record, now, now)?;
        }
        out.missed = due.missed;
        for d in due.due {
            if self.stopping() {
                break;
            }
            let key = d.period.key();
            let planned = match self.store.edition(&key)? {
                Some(e) => self.store.planned_subscribers(e.id)?,
                None => HashSet::new(),
            };
            let todo: HashSet<i64> = d
                .readers
                .iter()
                .copied()
                .filter(|r| !planned.contains(r))
                .collect();
            if todo.is_empty() {
                continue;
            }
            let lock = format!("edition:{key}");
            let mut run = EditionRun {
                frequency: d.frequency,
                period_key: key.clone(),
                due: todo.len(),
                plan: None,
            };
            if !self
                .store
                .try_lock(&lock, &self.owner, now, now + EDITION_LEASE)?
            {
                tracing::info!(edition = %key, "another process is planning this edition");
                out.editions.push(run);
                continue;
            }
            let (settings, store, period, frequency) = (
                self.settings.clone(),
                self.store.clone(),
                d.period,
                d.frequency,
            );
            let plan = tokio::task::spawn_blocking(move || {
                pipeline::plan_edition(
                    &settings,
                    &store,
                    period,
                    frequency,
                    Some(&todo),
                    false,
                    now,
                )
            })
            .await;
            let unlocked = self.store.unlock(&lock, &self.owner);
            let plan = plan.context("Planning an edition panicked")??;
            unlocked?;
            tracing::info!(
                edition = %key,
                planned = plan.planned,
                empty = plan.empty,
                "planned the {} edition",
                d.frequency
            );
            run.plan = Some(plan);
            out.editions.push(run);
        }
        Ok(())
    }

    /// When the loop should run next: the next fetch or send time, the next retry, or one
    /// tick from `now`, whichever is sooner.
    pub fn next_wake(&self, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
        let mut wake = self.schedule.next_wake(&self.readers()?, now);
        if let Some(retry) = self.store.next_retry_at()?.filter(|t| *t > now) {
            wake = wake.min(retry);
        }
        Ok(wake)
    }

    fn record_error(&self, now: DateTime<Utc>, e: &anyhow::Error) -> anyhow::Result<()> {
        let record = RunRecord {
            kind: "error".into(),
            note: Some(format!("{e:#}")),
            ..RunRecord::default()
        };
        Ok(self.store.record_run(&record, now, now)?)
    }
}

/// The run record of a tick that planned or delivered something.
fn send_record(out: &RunOutcome) -> RunRecord {
    let d = out.delivery.clone().unwrap_or_default();
    let mut notes = Vec::new();
    if out.empty() > 0 {
        notes.push(format!(
            "{} empty digests skipped (no new papers for them)",
            out.empty()
        ));
    }
    for e in out.editions.iter().filter(|e| e.plan.is_none()) {
        notes.push(format!("{} planned by another process", e.period_key));
    }
    if d.suppressed > 0 {
        notes.push(format!("{} suppressed addresses", d.suppressed));
    }
    if let Some(why) = &d.aborted {
        notes.push(format!("delivery stopped early: {why}"));
    }
    if out.stopped {
        notes.push(format!("stopped by shutdown; {} left queued", d.released));
    }
    let keys = out.edition_keys();
    RunRecord {
        kind: "send".into(),
        period_key: (!keys.is_empty()).then(|| keys.join(", ")),
        planned: out.planned(),
        sent: d.sent,
        failed: d.failed,
        retry: d.retry,
        unknown: d.unknown,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
        ..RunRecord::default()
    }
}

/// Resolves when `stop` turns true or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// One tick at `now` with a fresh runner (its own lease owner): what `paperpost serve` does
/// at each wake-up. Tests call it with made-up times.
pub async fn run_due(
    settings: &Settings,
    store: &Store,
    transport: Transport,
    now: DateTime<Utc>,
) -> anyhow::Result<RunOutcome> {
    Runner::new(Arc::new(settings.clone()), store.clone(), transport)?
        .run_due(now)
        .await
}

/// The scheduler: runs a tick, sleeps until the next due time (at most `tick_secs`), and
/// again, until `shutdown` turns true (or its sender is dropped). A tick that fails is logged
/// and recorded, and the loop goes on. On shutdown, messages in flight are finished and the
/// rest stays queued for the next start.
pub async fn run_until_stopped(
    settings: Arc<Settings>,
    store: Store,
    transport: Transport,
    clock: Arc<dyn Clock>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let runner = Runner::new(settings, store, transport)?.with_stop(shutdown.clone());
    let mut shutdown = shutdown;
    tracing::info!(owner = runner.owner(), "scheduler started");
    loop {
        if runner.stopping() {
            break;
        }
        let now = clock.now();
        if let Err(e) = runner.run_due(now).await {
            tracing::error!("scheduled run failed: {e:#}");
            if let Err(e2) = runner.record_error(now, &e) {
                tracing::error!("could not record the failed run: {e2:#}");
            }
        }
        if runner.stopping() {
            break;
        }
        let now = clock.now();
        let wake = runner.next_wake(now).unwrap_or_else(|e| {
            tracing::error!("could not compute the next run time: {e:#}");
            now + runner.schedule.tick
        });
        tokio::select! {
            _ = clock.sleep_until(wake) => {}
            _ = stopped(&mut shutdown) => break,
        }
    }
    tracing::info!("scheduler stopped");
    Ok(())
}
