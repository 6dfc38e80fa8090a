//! The delivery engine: claims due deliveries from the store, composes each message, sends
//! it over a bounded set of SMTP sessions (or writes it to the outbox) and records the
//! outcome before the row's lease runs out.
//!
//! ```text
//!  claimer ──(bounded queue)──▶ N workers ──▶ recorder (group commit) ──▶ store
//!     │                           │  one SMTP session each, reused up to
//!     │                           │  max_messages_per_connection, reopened on error
//!  heartbeat: renews this run's leases every lease/3
//! ```
//!
//! Guarantees, given the store's state machine:
//! - nothing is lost: a row leaves `sending` only with a recorded outcome, and a run that
//!   dies leaves its rows to be taken over when their lease expires (a live run renews its
//!   leases, so they only expire when it is gone);
//! - nothing is sent twice, except a message that was in flight when the process died —
//!   at most one per connection per kill, since a worker waits until its outcome is committed
//!   before it takes the next row (those rows are counted in `reclaimed`) — or whose reply
//!   never came (`unknown`, not resent unless `resend_unknown`);
//! - stopping (SIGTERM, Ctrl-C) stops claiming, finishes the messages in flight and gives
//!   every other claimed row back untouched (its attempt is not counted).
//!
//! Classification ([`Verdict`]) and the soft-bounce policy:
//! - 4xx replies, timeouts and refused or dropped connections before the body went out are
//!   retried with exponential backoff (`retry_base × 2^(attempt−1)`, ±25 % jitter, capped at
//!   `retry_max`) until `max_attempts` or `max_age`; then the delivery fails, and the address
//!   is **not** suppressed (a soft bounce says nothing lasting about the address);
//! - a 5xx reply to RCPT TO or to the message fails the delivery at once and puts the address
//!   on the suppression list (one transaction), which every later claim checks: a suppressed
//!   reader's delivery fails as `suppressed` without any SMTP traffic;
//! - a 5xx at MAIL FROM, AUTH or STARTTLS is the relay's problem, not the reader's: retried,
//!   and the worker fails over to the next relay;
//! - a 421 (at connect or any later step) pauses the whole relay for `slow_down`: no
//!   connection of this run opens a session or sends a message on it until then;
//! - a lost connection or a timeout after the body went out is `unknown`: the relay may have
//!   taken it. Not resent unless `resend_unknown` (then retried like a 4xx).
//! - when no relay accepts a connection (three rounds over all of them), the run stops with
//!   the rows given back: the relay being down is no reader's failed attempt.
//!
//! One message never stops the others:
//! - a message that cannot be built (a header value from the reader's row that cannot be
//!   written, see [`ComposeError::Message`]) fails that delivery for good, with the reason,
//!   and the address is not suppressed;
//! - a worker that dies (a panic: a bug) is noticed by its supervisor, which records the row
//!   it had in hand (a retry, or `unknown` if its message may have gone out) so its lease is
//!   not renewed forever; the other workers go on. When every worker has died the run stops
//!   (the claimer would otherwise wait forever on a full queue): the queued rows are given
//!   back, the run is recorded as stopped with the reason, and `send` exits non-zero.
mod record;
mod supervise;
#[cfg(test)]
mod tests;
mod worker;

use record::{heartbeat, recorder, release_all};
use supervise::{Slot, supervise};
use worker::worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::Address;
use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio::time::Instant;

use super::MessageError;
use super::smtp::Relay;
use crate::domain::{Claimed, Finish};
use crate::store::{Store, StoreError};

/// Tuning of the engine, from `[delivery]` in config.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Concurrent SMTP sessions per relay.
    pub connections: usize,
    /// Messages per session before it is closed and reopened.
    pub max_messages_per_connection: usize,
    /// Overall messages per second; 0 = unlimited.
    pub rate_limit: f64,
    /// Attempts before a delivery fails for good.
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt, with ±25 % jitter.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// A delivery older than this is not retried again.
    pub max_age: chrono::Duration,
    /// How long a claimed row is ours before another run may take it over; renewed every
    /// third of it while this run lives.
    pub lease: chrono::Duration,
    /// Pause of a relay after it answered 421.
    pub slow_down: Duration,
    /// Resend `unknown` deliveries automatically (they may duplicate).
    pub resend_unknown: bool,
    /// Identifies this process's leases.
    pub owner: String,
    /// Stop claiming while the reputation guard has paused sending (`[delivery.guard]
    /// enabled`): checked before each batch is claimed and every [`GUARD_POLL`] during it.
    pub hold_when_paused: bool,
    /// A new sending domain's daily cap (`[delivery.guard] warmup`): each claim takes at
    /// most what is left of today's cap.
    pub warmup: Option<WarmupPlan>,
}

/// The warm-up of the domain mail is sent from.
#[derive(Debug, Clone)]
pub struct WarmupPlan {
    pub warmup: crate::domain::Warmup,
    /// The From address's domain, lower case: a new one warms up anew.
    pub domain: String,
}

/// How often a run looks whether the reputation guard paused sending meanwhile (a report
/// ingested by another process).
pub const GUARD_POLL: Duration = Duration::from_secs(2);

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            connections: 4,
            max_messages_per_connection: 1000,
            rate_limit: 0.0,
            max_attempts: 6,
            retry_base: Duration::from_secs(60),
            retry_max: Duration::from_secs(3600),
            max_age: chrono::Duration::hours(48),
            lease: chrono::Duration::minutes(5),
            slow_down: Duration::from_secs(30),
            resend_unknown: false,
            owner: crate::store::lease_owner(),
            hold_when_paused: true,
            warmup: None,
        }
    }
}

/// Where messages go.
#[derive(Debug, Clone)]
pub enum Transport {
    /// Write `.eml` files into this folder.
    File(PathBuf),
    /// Send over SMTP, failing over from the first relay to the next.
    Smtp(Vec<Arc<Relay>>),
}

/// A message ready to go.
pub struct Composed {
    pub from: Option<Address>,
    pub to: Address,
    pub bytes: Vec<u8>,
    /// File name stem for the file transport.
    pub name: String,
}

/// Why a claimed delivery could not be composed, by what the engine does about it.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// The message can never be built as it is (a value from the reader's row that cannot
    /// go into its header): the delivery fails for good, with the reason; the address is
    /// not suppressed (nothing is wrong with it).
    #[error(transparent)]
    Message(#[from] MessageError),
    /// Anything else (papers missing from the store, the store failing, rendering): retried
    /// with backoff, like a 4xx.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// What a delivery run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EngineReport {
    pub sent: usize,
    pub retry: usize,
    pub failed: usize,
    pub unknown: usize,
    /// Failed without any SMTP traffic because the address is on the suppression list.
    pub suppressed: usize,
    /// Addresses put on the suppression list by this run (5xx at RCPT or DATA).
    pub newly_suppressed: usize,
    /// Rows given back untouched at shutdown.
    pub released: usize,
    /// Rows taken over from a run that died holding them (their message may be out twice).
    pub reclaimed: usize,
    /// Rows taken over by this run, per lease owner of the run that left them in `sending`
    /// (see [`Store::send_run_end`] for how that run ended).
    pub reclaimed_from: std::collections::BTreeMap<String, usize>,
    /// 421 replies, each of which paused its relay for `slow_down`.
    pub slowdowns: usize,
    /// Why the run stopped early, if it did (all relays unreachable, the store refusing a
    /// write, …).
    pub aborted: Option<String>,
    /// The store refused a write (disk full, locked past the busy timeout, I/O error): the
    /// run stopped sending at once. Set together with `aborted`.
    pub store_failed: bool,
    /// Messages that went out but whose outcome could not be recorded: the next run takes
    /// their rows over and may send them again (at most one per connection).
    pub unrecorded: usize,
    /// Delivery workers that died (a panic: a bug). The row each had in hand was recorded
    /// (a retry, or `unknown` if its message may have gone out); when all of them died the
    /// run stopped (`aborted`).
    pub workers_failed: usize,
    /// What the first of them died of.
    pub worker_failure: Option<String>,
    /// The reputation guard paused sending: the run claimed nothing more, and the rows it
    /// had claimed but not begun were given back (`released`). Says why, since when, with
    /// the numbers.
    pub paused: Option<String>,
    /// The warm-up's cap for today was reached: the rest stays queued for tomorrow.
    pub warmup_capped: Option<String>,
}

impl EngineReport {
    /// Adds the counts of a later run over the same queue (`send --wait` runs several).
    pub fn absorb(&mut self, o: EngineReport) {
        self.sent += o.sent;
        self.retry += o.retry;
        self.failed += o.failed;
        self.unknown += o.unknown;
        self.suppressed += o.suppressed;
        self.newly_suppressed += o.newly_suppressed;
        self.released += o.released;
        self.reclaimed += o.reclaimed;
        for (k, v) in o.reclaimed_from {
            *self.reclaimed_from.entry(k).or_default() += v;
        }
        self.slowdowns += o.slowdowns;
        self.aborted = self.aborted.take().or(o.aborted);
        self.store_failed |= o.store_failed;
        self.unrecorded += o.unrecorded;
        self.workers_failed += o.workers_failed;
        self.worker_failure = self.worker_failure.take().or(o.worker_failure);
        self.paused = self.paused.take().or(o.paused);
        self.warmup_capped = self.warmup_capped.take().or(o.warmup_capped);
    }

    /// What went wrong with the run itself, if anything: why it stopped early, else the
    /// workers that died. Recorded as the run's end (`send_runs`); `send` exits non-zero.
    pub fn problem(&self) -> Option<String> {
        if let Some(why) = &self.aborted {
            return Some(why.clone());
        }
        (self.workers_failed > 0).then(|| {
            format!(
                "{} delivery worker(s) failed, the first {}; the rows they had in hand were \
                 recorded for a retry and the other workers went on",
                self.workers_failed,
                self.worker_failure
                    .as_deref()
                    .unwrap_or("for an unknown reason")
            )
        })
    }
}

/// Counters shared by the workers, readable while the run goes on (progress bars).
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicUsize,
    pub sent: AtomicUsize,
}

type Composer = dyn Fn(&Claimed) -> Result<Composed, ComposeError> + Send + Sync;
type Clock = dyn Fn() -> DateTime<Utc> + Send + Sync;

/// One outcome on its way to the recorder; `done` answers once its commit is over: `true`
/// when it is recorded.
struct Record {
    id: i64,
    finish: Finish,
    done: oneshot::Sender<bool>,
}

/// The store refused a write, so this run must not send anything more: a message sent now
/// could not be recorded, and its row, left in `sending`, would be sent again by the next
/// run. Shared by the claimer, the recorder and the heartbeat; the first failure is kept.
#[derive(Clone)]
struct Halt {
    abort: watch::Sender<bool>,
    failure: Arc<std::sync::Mutex<Option<String>>>,
}

impl Halt {
    /// Any failed store call halts, whatever its kind: a busy, full or failing database
    /// ([`StoreError::is_write_refused`]) is the usual cause, but an outcome that could not
    /// be recorded for another reason must not be followed by more messages either.
    fn store_failed(&self, what: &str, e: &StoreError) {
        let kind = if e.is_write_refused() {
            "the database refused the write"
        } else {
            "the store failed"
        };
        tracing::error!(
            op = e.op(),
            "{what} ({kind}): {e}; stopping: nothing more is sent in this run"
        );
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(|| format!("{what}: {e}"));
        let _ = self.abort.send(true);
    }

    fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

struct Shared {
    store: Store,
    settings: EngineSettings,
    compose: Box<Composer>,
    clock: Arc<Clock>,
    progress: Arc<Progress>,
    report: std::sync::Mutex<EngineReport>,
    rate: Mutex<Instant>,
    /// Per relay: paused until (after a 421 or failed connects).
    relay_pause: std::sync::Mutex<Vec<Option<Instant>>>,
    /// Per relay: `connections` slots, one per open session (see `open_session`).
    relay_slots: Vec<Arc<tokio::sync::Semaphore>>,
    stop: watch::Receiver<bool>,
    /// Turns true when the run must stop sending (no relay reachable, the store failing).
    abort: watch::Sender<bool>,
    recorder: mpsc::UnboundedSender<Record>,
}

impl Shared {
    fn report(&self) -> std::sync::MutexGuard<'_, EngineReport> {
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Sends every due delivery, then returns. `stop` turning true stops claiming: what is in
/// hand is finished, what is queued is released. `compose` renders a claimed row.
pub async fn deliver(
    store: Store,
    transport: Transport,
    settings: EngineSettings,
    compose: Box<Composer>,
    clock: Box<Clock>,
    progress: Arc<Progress>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<EngineReport> {
    let workers = match &transport {
        Transport::File(_) => 1,
        Transport::Smtp(relays) => (settings.connections.max(1) * relays.len().max(1)).min(256),
    };
    let relay_count = match &transport {
        Transport::Smtp(r) => r.len(),
        Transport::File(_) => 0,
    };
    // Record that this run is sending, so a run taking over rows we leave behind can tell a
    // crash from a run that stopped on an error. A store that refuses this write sends nothing.
    {
        let owner = settings.owner.clone();
        let now = clock();
        store
            .blocking(move |s| s.begin_send_run(&owner, now))
            .await
            .map_err(|e| {
                anyhow::Error::new(e).context("the store refused a write; nothing was sent")
            })?;
    }
    let (abort_tx, abort_rx) = watch::channel(false);
    let halt = Halt {
        abort: abort_tx.clone(),
        failure: Default::default(),
    };
    let (record_tx, record_rx) = mpsc::unbounded_channel();
    // One clock for claims, outcomes and lease renewals (a test's injected time included).
    let clock: Arc<Clock> = Arc::from(clock);
    let recorder = tokio::spawn(recorder(
        store.clone(),
        settings.owner.clone(),
        clock.clone(),
        record_rx,
        halt.clone(),
    ));
    let heartbeat = tokio::spawn(heartbeat(
        store.clone(),
        settings.owner.clone(),
        clock.clone(),
        settings.lease,
        halt.clone(),
    ));
    let slots_per_relay = settings.connections.max(1);
    let shared = Arc::new(Shared {
        store: store.clone(),
        settings,
        compose,
        clock,
        progress,
        report: Default::default(),
        rate: Mutex::new(Instant::now()),
        relay_pause: std::sync::Mutex::new(vec![None; relay_count]),
        relay_slots: (0..relay_count)
            .map(|_| Arc::new(tokio::sync::Semaphore::new(slots_per_relay)))
            .collect(),
        stop: stop.clone(),
        abort: abort_tx,
        recorder: record_tx,
    });
    let (tx, rx) = mpsc::channel::<Claimed>(workers * 2);
    let rx = Arc::new(Mutex::new(rx));
    // The workers run under a supervisor, which sees each one end (a panic included) and
    // records the row a dead one had in hand (see `supervise`).
    let mut pool = tokio::task::JoinSet::new();
    let mut slots = std::collections::HashMap::new();
    for w in 0..workers {
        let slot = Slot::default();
        let task = pool.spawn(worker(
            w,
            shared.clone(),
            transport.clone(),
            rx.clone(),
            slot.clone(),
        ));
        slots.insert(task.id(), slot);
    }
    let supervisor = tokio::spawn(supervise(shared.clone(), pool, slots));
    let guard = shared
        .settings
        .hold_when_paused
        .then(|| tokio::spawn(watch_pause(shared.clone(), halt.clone())));
    // The claimer: keeps the queue fed until nothing is due or we are told to stop.
    let batch = (workers * 4).clamp(16, 256);
    let mut stop_rx = stop;
    let mut abort_rx = abort_rx;
    // The warm-up day whose cap stopped the claims, if one did, and its domain.
    let mut capped = None;
    'claim: loop {
        if *stop_rx.borrow() || *abort_rx.borrow() {
            break;
        }
        if shared.settings.hold_when_paused && paused(&shared, &halt).await {
            break;
        }
        let now = (shared.clock)();
        let batch = match &shared.settings.warmup {
            None => batch,
            Some(plan) => match warmup_day(&shared, plan, now).await {
                Ok(day) if day.left() == 0 => {
                    capped = Some((day, plan.domain.clone()));
                    break;
                }
                Ok(day) => batch.min(usize::try_from(day.left()).unwrap_or(usize::MAX)),
                Err(e) => {
                    halt.store_failed("reading the warm-up's count of today failed", &e);
                    break;
                }
            },
        };
        let claimed = {
            let owner = shared.settings.owner.clone();
            let lease = shared.settings.lease;
            store
                .blocking(move |s| s.claim_deliveries(&owner, now, lease, batch))
                .await
        };
        let claimed = match claimed {
            Ok(c) => c,
            Err(e) => {
                // The store cannot take writes: stop claiming and sending; the workers
                // finish the message in hand and give back what is queued.
                halt.store_failed("claiming deliveries failed", &e);
                break;
            }
        };
        if claimed.is_empty() {
            break;
        }
        {
            let mut report = shared.report();
            report.reclaimed += claimed.iter().filter(|c| c.reclaimed).count();
            for from in claimed.iter().filter_map(|c| c.reclaimed_from.as_ref()) {
                *report.reclaimed_from.entry(from.clone()).or_default() += 1;
            }
        }
        let mut claimed = claimed.into_iter();
        while let Some(c) = claimed.next() {
            let permit = tokio::select! {
                biased;
                _ = stop_rx.changed() => None,
                _ = abort_rx.changed() => None,
                p = tx.reserve() => p.ok(),
            };
            match permit {
                Some(p) => p.send(c),
                None => {
                    // Stopping: give back this row and the rest of the batch untouched.
                    release_all(&shared, std::iter::once(c).chain(claimed).collect()).await;
                    break 'claim;
                }
            }
        }
    }
    drop(tx);
    if let Err(e) = supervisor.await {
        // Only a bug in the supervisor itself; the workers are gone with it (aborted when
        // their set was dropped), and what they held expires with this run's lease.
        tracing::error!("the delivery workers' supervisor failed: {e}");
        shared
            .report()
            .aborted
            .get_or_insert_with(|| format!("the delivery workers' supervisor failed: {e}"));
    }
    // Anything still queued (stop or abort) goes back untouched.
    let mut left = Vec::new();
    {
        let mut rx = rx.lock().await;
        while let Ok(c) = rx.try_recv() {
            left.push(c);
        }
    }
    release_all(&shared, left).await;
    if let Some((day, domain)) = capped {
        // Said only when something does wait for tomorrow.
        if let Ok(n) = store.blocking(|s| s.outstanding_deliveries()).await
            && n > 0
        {
            let why = day.describe(&domain, n);
            tracing::info!(day = day.day + 1, cap = day.cap, "{why}");
            shared.report().warmup_capped = Some(why);
        }
    }
    heartbeat.abort();
    if let Some(g) = guard {
        g.abort();
    }
    let mut report = shared.report().clone();
    let owner = shared.settings.owner.clone();
    let now = (shared.clock)();
    drop(shared);
    if let Err(e) = recorder.await {
        tracing::error!("the outcome recorder failed: {e}");
        report
            .aborted
            .get_or_insert_with(|| format!("the outcome recorder failed: {e}"));
    }
    if let Some(failure) = halt.failure() {
        report.store_failed = true;
        report.aborted = Some(format!(
            "the store refused a write ({failure}); no further message was sent. \
             {} messages went out whose outcome could not be recorded: the next run takes \
             their rows over once their lease expires and may send them again",
            report.unrecorded
        ));
    }
    // Best effort: when the store refuses writes this fails too, and the run then reads as
    // one that never recorded its end.
    let error = report.problem();
    if let Err(e) = store
        .blocking(move |s| s.end_send_run(&owner, error.as_deref(), now))
        .await
    {
        tracing::warn!("could not record how this send run ended: {e:#}");
    }
    Ok(report)
}

/// Whether the reputation guard has paused sending; if so the run stops claiming and
/// sending (what is queued is given back untouched) and its report says why. A store that
/// cannot say halts the run as any store failure does.
async fn paused(shared: &Arc<Shared>, halt: &Halt) -> bool {
    match shared.store.blocking(|s| s.sending_pause()).await {
        Ok(None) => false,
        Ok(Some(p)) => {
            let why = p.describe();
            tracing::warn!(
                kind = p.kind.as_str(),
                reports = p.reports,
                delivered = p.delivered,
                "{why}; stopping: nothing more is claimed, queued deliveries stay queued"
            );
            shared.report().paused.get_or_insert(why);
            let _ = shared.abort.send(true);
            true
        }
        Err(e) => {
            halt.store_failed("checking whether sending is paused failed", &e);
            true
        }
    }
}

/// Where today's warm-up stands: how many messages its cap still allows.
async fn warmup_day(
    shared: &Arc<Shared>,
    plan: &WarmupPlan,
    now: DateTime<Utc>,
) -> Result<crate::domain::WarmupDay, StoreError> {
    let plan = plan.clone();
    shared
        .store
        .blocking(move |s| s.warmup_day(&plan.warmup, &plan.domain, now))
        .await
}

/// Looks every [`GUARD_POLL`] whether sending was paused meanwhile (another process ingested
/// the reports that tripped it), until the run halts or stops claiming (the run aborts this
/// task when it ends).
async fn watch_pause(shared: Arc<Shared>, halt: Halt) {
    let mut abort = shared.abort.subscribe();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(GUARD_POLL) => {}
            _ = abort.changed() => return,
        }
        if *abort.borrow() || *shared.stop.borrow() || paused(&shared, &halt).await {
            return;
        }
    }
}

pub use worker::send_one;
