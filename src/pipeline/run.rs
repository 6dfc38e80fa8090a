//! One run at a given instant: fetch (when asked, or when due), plan the editions of the
//! readers that are due, deliver what is due. The scheduler's tick, `send`, `run` and
//! `serve --once` all go through [`run_due`]; they differ only in their [`RunOptions`].
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

use super::{FetchSummary, NewsletterOptions, PlanSummary, RunContext};
use crate::delivery::{EngineReport, Progress};
use crate::domain::RunRecord;
use crate::domain::{Frequency, Period, Subscriber, SubscriberStatus};
use crate::schedule::{DueSend, Missed, Reader, reader_period};
use crate::sources::FetchProgress;
use crate::store::{Store, StoreError};

/// How long a fetch may hold its lease before another process may fetch.
pub const FETCH_LEASE: Duration = Duration::minutes(30);
/// How long planning an edition may hold its lease.
pub const EDITION_LEASE: Duration = Duration::minutes(10);
/// `meta` keys: the last scheduler tick, and the last fetch slot that ran.
pub const LAST_TICK: &str = "schedule.last_tick";
pub const LAST_FETCH: &str = "schedule.last_fetch";

/// Which readers a run plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Those whose send time came (within the grace window) and who have nothing in that
    /// period's edition yet; editions missed beyond the grace window are recorded. The run
    /// is recorded as the scheduler's last tick.
    Scheduled,
    /// Every active reader, in the edition of the period they are in at that instant,
    /// whatever their send time (`send`, `run`).
    Everyone,
}

/// Whether a run fetches first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchWhen {
    /// When `[schedule] fetch` says so, under the `fetch` lease.
    IfDue,
    /// Now (`run`).
    Now,
    Never,
}

/// What happens during a run, as it happens (for progress bars and early lines on a
/// terminal; the scheduler ignores them).
pub enum RunEvent<'a> {
    Fetch(FetchProgress<'a>),
    Fetched(&'a FetchSummary),
    Planned(&'a EditionRun),
    /// Delivery starts with this many deliveries pending, retrying or leased.
    Delivering {
        outstanding: usize,
    },
    /// `wait_for_leases`: waiting until `until` for deliveries leased to another run.
    Waiting {
        until: DateTime<Utc>,
        deliveries: i64,
    },
}

pub struct RunOptions<'a> {
    pub due: Due,
    pub fetch: FetchWhen,
    /// Compute what would be planned; create no edition, write and send nothing.
    pub dry_run: bool,
    /// When deliveries are leased to another run, wait until the lease runs out and send
    /// them too.
    pub wait_for_leases: bool,
    pub progress: Arc<Progress>,
    /// Turning true (or its sender dropped) stops fetching, planning and claiming; messages
    /// in flight are finished.
    pub stop: watch::Receiver<bool>,
    pub on_event: &'a (dyn Fn(RunEvent<'_>) + Sync),
    /// The time as delivery reads it (claims, retries, leases, `wait_for_leases`): the
    /// system's, or a test's clock set ahead (`send --now`).
    pub clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
}

fn ignore(_: RunEvent<'_>) {}

impl<'a> RunOptions<'a> {
    /// Options of a run that nobody watches, until `stop`.
    pub fn new(due: Due, fetch: FetchWhen, stop: watch::Receiver<bool>) -> RunOptions<'a> {
        RunOptions {
            due,
            fetch,
            dry_run: false,
            wait_for_leases: false,
            progress: Arc::new(Progress::default()),
            stop,
            on_event: &ignore,
            clock: Arc::new(Utc::now),
        }
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow() || self.stop.has_changed().is_err()
    }
}

/// What a run did with an edition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditionRun {
    pub frequency: Frequency,
    pub period_key: String,
    /// Readers due and not yet planned when the run looked.
    pub due: usize,
    /// `None`: another process holds the edition's lease; nothing was planned here.
    pub plan: Option<PlanSummary>,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    pub fetch: Option<FetchSummary>,
    /// A fetch was due but another process was fetching.
    pub fetch_locked: bool,
    pub editions: Vec<EditionRun>,
    pub missed: Vec<Missed>,
    /// Deliveries pending, retrying or leased when delivery began (0: nothing to send).
    pub outstanding: usize,
    pub delivery: Option<EngineReport>,
    /// After delivery: (lease owner, deliveries, lease end) of rows another run holds.
    pub leased_elsewhere: Vec<(String, i64, DateTime<Utc>)>,
    /// Stopped (shutdown) before the run's work was done.
    pub stopped: bool,
    /// The reputation guard has paused sending: nothing was claimed (or no more after this
    /// was seen mid-run); why, since when, with the numbers.
    pub paused: Option<String>,
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

/// The period a reader without a zone of their own is in at `now` (see
/// [`crate::schedule::reader_period`]).
pub fn period_for(
    newsletter: &NewsletterOptions,
    frequency: Frequency,
    now: DateTime<Utc>,
) -> Period {
    reader_period(frequency, None, newsletter.timezone, now)
}

/// The period `reader` is in at `now`, in their zone.
pub fn reader_period_for(
    newsletter: &NewsletterOptions,
    reader: &Subscriber,
    now: DateTime<Utc>,
) -> Period {
    reader_period(reader.frequency, reader.timezone, newsletter.timezone, now)
}

/// The run at `at`: fetch (per `opts.fetch`), plan every due reader's edition (per
/// `opts.due`), then deliver everything due, with the process's ready-made [`RunContext`].
#[tracing::instrument(name = "Running", skip_all, fields(at = %at, due = ?opts.due))]
pub async fn run_due(
    rt: &RunContext,
    store: &Store,
    at: DateTime<Utc>,
    opts: &RunOptions<'_>,
) -> anyhow::Result<RunOutcome> {
    let started = Instant::now();
    let mut out = RunOutcome::default();
    match opts.fetch {
        FetchWhen::IfDue if !opts.dry_run => fetch_if_due(rt, store, at, opts, &mut out).await?,
        FetchWhen::Now if !opts.dry_run => {
            let summary = super::fetch(&rt.fetch, store, at, &|p| {
                (opts.on_event)(RunEvent::Fetch(p))
            })
            .await?;
            (opts.on_event)(RunEvent::Fetched(&summary));
            out.fetch = Some(summary);
        }
        _ => {}
    }
    // While another process fetches, its papers are not in yet: plan at the next tick
    // rather than plan digests without them.
    if !opts.stopping() && !out.fetch_locked {
        plan_due(rt, store, at, opts, &mut out).await?;
    }
    if !opts.stopping() && !opts.dry_run {
        deliver_due(rt, store, opts, &mut out).await?;
    }
    out.stopped = opts.stopping();
    if opts.due == Due::Scheduled && !opts.dry_run {
        let record = (!out.delivered_nothing()).then(|| send_record(&out));
        let finished = at + Duration::from_std(started.elapsed()).unwrap_or_default();
        store
            .blocking(move |s| {
                s.set_meta(&per_newsletter(s, LAST_TICK), &at.to_rfc3339())?;
                match record {
                    Some(r) => s.record_run(&r, at, finished),
                    None => Ok(()),
                }
            })
            .await?;
    }
    Ok(out)
}

/// A time kept in `meta`, read on the blocking pool (as every store call of this file:
/// the scheduler's tick runs on an async worker).
async fn meta_time(store: &Store, key: &'static str) -> anyhow::Result<Option<DateTime<Utc>>> {
    Ok(store
        .blocking(move |s| s.meta(&per_newsletter(s, key)))
        .await?
        .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
        .map(|t| t.with_timezone(&Utc)))
}

/// The name of a lease or `meta` time of the scheduler for the store's newsletter: `name`
/// itself for the default newsletter (as before several newsletters), `name:{slug}` for
/// another, so each newsletter fetches, plans and ticks on its own schedule.
pub fn per_newsletter(store: &Store, name: &str) -> String {
    match store.newsletter() {
        crate::domain::DEFAULT_NEWSLETTER => name.to_string(),
        slug => format!("{name}:{slug}"),
    }
}

/// [`readers`] on the blocking pool.
pub(crate) async fn readers_blocking(store: &Store) -> anyhow::Result<Vec<Reader>> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || readers(&store))
        .await
        .context("Reading the readers panicked")?
}

/// `try_lock` on the blocking pool.
async fn try_lock(
    store: &Store,
    name: String,
    owner: String,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> anyhow::Result<bool> {
    Ok(store
        .blocking(move |s| s.try_lock(&name, &owner, now, until))
        .await?)
}

/// `unlock` on the blocking pool.
async fn unlock(store: &Store, name: String, owner: String) -> Result<(), StoreError> {
    store.blocking(move |s| s.unlock(&name, &owner)).await
}

/// The active readers, as the schedule sees them.
pub fn readers(store: &Store) -> anyhow::Result<Vec<Reader>> {
    Ok(store
        .subscribers(Some(SubscriberStatus::Active))?
        .iter()
        .map(Reader::from)
        .collect())
}

async fn fetch_if_due(
    rt: &RunContext,
    store: &Store,
    now: DateTime<Utc>,
    opts: &RunOptions<'_>,
    out: &mut RunOutcome,
) -> anyhow::Result<()> {
    let Some(slot) = rt
        .schedule
        .fetch_due(meta_time(store, LAST_FETCH).await?, now)
    else {
        return Ok(());
    };
    if !try_lock(
        store,
        per_newsletter(store, "fetch"),
        rt.owner.clone(),
        now,
        now + FETCH_LEASE,
    )
    .await?
    {
        tracing::info!("another process is fetching");
        out.fetch_locked = true;
        return Ok(());
    }
    // Another process may have fetched this slot between our look and the lock.
    let result = if rt
        .schedule
        .fetch_due(meta_time(store, LAST_FETCH).await?, now)
        .is_some()
    {
        let mut stop = opts.stop.clone();
        let on_progress = |p: FetchProgress<'_>| (opts.on_event)(RunEvent::Fetch(p));
        tokio::select! {
            r = super::fetch(&rt.fetch, store, now, &on_progress) => Some(r),
            _ = stopped(&mut stop) => None,
        }
    } else {
        None
    };
    let unlocked = unlock(store, per_newsletter(store, "fetch"), rt.owner.clone()).await;
    if let Some(summary) = result.transpose().context("Scheduled fetch failed")? {
        store
            .blocking(move |s| s.set_meta(&per_newsletter(s, LAST_FETCH), &slot.to_rfc3339()))
            .await?;
        let papers: usize = summary.sources.iter().map(|s| s.papers).sum();
        let new: usize = summary.sources.iter().map(|s| s.new).sum();
        let failed: Vec<&str> = summary.failed().map(|s| s.name.as_str()).collect();
        tracing::info!(papers, new, ?failed, "fetched");
        (opts.on_event)(RunEvent::Fetched(&summary));
        out.fetch = Some(summary);
    }
    Ok(unlocked?)
}

/// Plans each due edition under its lease, one after the other.
async fn plan_due(
    rt: &RunContext,
    store: &Store,
    now: DateTime<Utc>,
    opts: &RunOptions<'_>,
    out: &mut RunOutcome,
) -> anyhow::Result<()> {
    let readers = readers_blocking(store).await?;
    let due: Vec<DueSend> = match opts.due {
        Due::Everyone => rt.schedule.periods_at(&readers, now),
        Due::Scheduled => {
            let due = rt
                .schedule
                .sends_due(&readers, meta_time(store, LAST_TICK).await?, now);
            if !opts.dry_run {
                let records = missed_records(rt, &due.missed);
                store
                    .blocking(move |s| records.iter().try_for_each(|r| s.record_run(r, now, now)))
                    .await?;
            }
            out.missed = due.missed;
            due.due
        }
    };
    drop(readers);
    for d in due {
        if opts.stopping() {
            break;
        }
        let key = d.period.key();
        let planned = {
            let key = key.clone();
            store
                .blocking(move |s| match s.edition(&key)? {
                    Some(e) => s.planned_subscribers(e.id),
                    None => Ok(HashSet::new()),
                })
                .await?
        };
        let not_planned = d.readers.iter().filter(|r| !planned.contains(r)).count();
        let todo: HashSet<i64> = match opts.due {
            // The scheduler leaves alone an edition whose due readers are all planned.
            Due::Scheduled if not_planned == 0 => continue,
            Due::Scheduled => d
                .readers
                .iter()
                .copied()
                .filter(|r| !planned.contains(r))
                .collect(),
            // `send` plans them all, and reports those planned before.
            Due::Everyone => d.readers.iter().copied().collect(),
        };
        drop(planned);
        let mut run = EditionRun {
            frequency: d.frequency,
            period_key: key.clone(),
            due: not_planned,
            plan: None,
        };
        // The scheduler plans under the edition's lease, so several `serve` processes do
        // the work once. `send` plans without it, as an operator asked for it now: a
        // process killed while planning must not hold the next `send` back for the lease's
        // ten minutes, and editions and deliveries are unique per period and reader anyway.
        let lock = per_newsletter(store, &format!("edition:{key}"));
        let locking = opts.due == Due::Scheduled && !opts.dry_run;
        if locking
            && !try_lock(
                store,
                lock.clone(),
                rt.owner.clone(),
                now,
                now + EDITION_LEASE,
            )
            .await?
        {
            tracing::info!(edition = %key, "another process is planning this edition");
            (opts.on_event)(RunEvent::Planned(&run));
            out.editions.push(run);
            continue;
        }
        let (newsletter, planner, period, frequency, dry_run) = (
            rt.newsletter.clone(),
            store.clone(),
            d.period,
            d.frequency,
            opts.dry_run,
        );
        let plan = tokio::task::spawn_blocking(move || {
            super::plan_edition(
                &newsletter.plan,
                &planner,
                period,
                frequency,
                Some(&todo),
                dry_run,
                now,
            )
        })
        .await;
        let unlocked = if locking {
            unlock(store, lock, rt.owner.clone()).await
        } else {
            Ok(())
        };
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
        (opts.on_event)(RunEvent::Planned(&run));
        out.editions.push(run);
    }
    Ok(())
}

/// The run records of editions the scheduler missed, each logged as it is made.
fn missed_records(rt: &RunContext, missed: &[Missed]) -> Vec<RunRecord> {
    let mut records = Vec::new();
    for m in missed {
        let note = format!(
            "missed the {} edition {} (due {}, {} readers): the scheduler was not running and it is past the {} h grace window, or a later edition replaced it",
            m.frequency,
            m.period_key,
            m.slot
                .with_timezone(&rt.schedule.timezone)
                .format("%Y-%m-%d %H:%M %Z"),
            m.readers,
            rt.schedule.grace.num_hours()
        );
        tracing::warn!("{note}");
        records.push(RunRecord {
            kind: "missed".into(),
            period_key: Some(m.period_key.clone()),
            note: Some(note),
            ..RunRecord::default()
        });
    }
    records
}

/// Delivers what is due (pending, retries whose time came, rows of a crashed run whose
/// lease expired); with `wait_for_leases`, again after each lease held elsewhere runs out.
async fn deliver_due(
    rt: &RunContext,
    store: &Store,
    opts: &RunOptions<'_>,
    out: &mut RunOutcome,
) -> anyhow::Result<()> {
    out.outstanding = store.blocking(|s| s.outstanding_deliveries()).await?.max(0) as usize;
    if out.outstanding == 0 {
        return Ok(());
    }
    let send = rt.send.as_ref().ok_or_else(|| {
        anyhow::anyhow!("deliveries are due but this process was started without a transport")
    })?;
    // The guard first: rates over a threshold (reports ingested before, or thresholds made
    // stricter) pause sending here; a pause in force holds every delivery back.
    if let Some(limits) = send.guard {
        let now = (opts.clock)();
        let state = store
            .blocking(move |s| s.check_guard(&limits, now, "send"))
            .await?;
        if let Some(p) = state.pause() {
            let tripped = matches!(state, crate::domain::GuardState::Tripped(_));
            let said = format!(
                "{}; {} deliveries stay queued until `{}`",
                p.describe(),
                out.outstanding,
                crate::domain::resume_command(store.newsletter())
            );
            let (kind, reports, delivered) = (p.kind.as_str(), p.reports, p.delivered);
            if tripped {
                tracing::error!(kind, reports, delivered, "{said}");
            } else {
                tracing::warn!(kind, reports, delivered, "{said}");
            }
            out.paused = Some(p.describe());
            return Ok(());
        }
    }
    (opts.on_event)(RunEvent::Delivering {
        outstanding: out.outstanding,
    });
    // One lease owner for every pass, so `--wait` can tell our leases from the others'.
    let engine = send.engine_for_run();
    let owner = engine.owner.clone();
    let mut total = EngineReport::default();
    loop {
        let report = super::send_with(
            &rt.newsletter,
            send,
            store,
            engine.clone(),
            Box::new({
                let clock = opts.clock.clone();
                move || clock()
            }),
            opts.progress.clone(),
            opts.stop.clone(),
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
        total.absorb(report);
        out.leased_elsewhere = {
            let (owner, now) = (owner.clone(), (opts.clock)());
            store
                .blocking(move |s| s.leases_elsewhere(&owner, now))
                .await?
        };
        if total.aborted.is_some()
            || total.paused.is_some()
            || total.warmup_capped.is_some()
            || out.leased_elsewhere.is_empty()
            || !opts.wait_for_leases
            || opts.stopping()
        {
            break;
        }
        // Sleep until the first of those leases runs out, then take over.
        let until = out
            .leased_elsewhere
            .iter()
            .map(|l| l.2)
            .min()
            .unwrap_or_else(|| (opts.clock)());
        (opts.on_event)(RunEvent::Waiting {
            until,
            deliveries: out.leased_elsewhere.iter().map(|l| l.1).sum(),
        });
        let pause = (until - (opts.clock)()).to_std().unwrap_or_default()
            + std::time::Duration::from_secs(1);
        let mut stop = opts.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stopped(&mut stop) => break,
        }
    }
    out.paused = total.paused.clone();
    out.delivery = Some(total);
    Ok(())
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
    if let Some(why) = &out.paused {
        notes.push(why.clone());
    }
    if let Some(why) = &d.warmup_capped {
        notes.push(why.clone());
    }
    if let Some(why) = &d.aborted {
        notes.push(format!("delivery stopped early: {why}"));
    } else if let Some(problem) = d.problem() {
        notes.push(problem);
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
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
