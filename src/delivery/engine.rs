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
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::Address;
use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio::time::Instant;

use super::outcome::Verdict;
use super::smtp::{Relay, Session};
use crate::store::{Claimed, Finish, Store};

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
}

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
            owner: format!("pid{}-{}", std::process::id(), crate::store::lease_nonce()),
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
    /// 421 replies, each of which paused its relay for `slow_down`.
    pub slowdowns: usize,
    /// Why the run stopped early, if it did (all relays unreachable, …).
    pub aborted: Option<String>,
}

/// Counters shared by the workers, readable while the run goes on (progress bars).
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicUsize,
    pub sent: AtomicUsize,
}

type Composer = dyn Fn(&Claimed) -> anyhow::Result<Composed> + Send + Sync;
type Clock = dyn Fn() -> DateTime<Utc> + Send + Sync;

/// One outcome on its way to the recorder; `done` answers once it is committed.
struct Record {
    id: i64,
    finish: Finish,
    done: oneshot::Sender<()>,
}

struct Shared {
    store: Store,
    settings: EngineSettings,
    compose: Box<Composer>,
    clock: Box<Clock>,
    progress: Arc<Progress>,
    report: std::sync::Mutex<EngineReport>,
    rate: Mutex<Instant>,
    /// Per relay: paused until (after a 421 or failed connects).
    relay_pause: std::sync::Mutex<Vec<Option<Instant>>>,
    stop: watch::Receiver<bool>,
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
    let (abort_tx, abort_rx) = watch::channel(false);
    let (record_tx, record_rx) = mpsc::unbounded_channel();
    let recorder = tokio::spawn(recorder(store.clone(), settings.owner.clone(), record_rx));
    let heartbeat = tokio::spawn(heartbeat(
        store.clone(),
        settings.owner.clone(),
        settings.lease,
    ));
    let shared = Arc::new(Shared {
        store: store.clone(),
        settings,
        compose,
        clock,
        progress,
        report: Default::default(),
        rate: Mutex::new(Instant::now()),
        relay_pause: std::sync::Mutex::new(vec![None; relay_count]),
        stop: stop.clone(),
        abort: abort_tx,
        recorder: record_tx,
    });
    let (tx, rx) = mpsc::channel::<Claimed>(workers * 2);
    let rx = Arc::new(Mutex::new(rx));
    let mut handles = Vec::new();
    for w in 0..workers {
        let shared = shared.clone();
        let rx = rx.clone();
        let transport = transport.clone();
        handles.push(tokio::spawn(async move {
            worker(w, shared, transport, rx).await
        }));
    }
    // The claimer: keeps the queue fed until nothing is due or we are told to stop.
    let batch = (workers * 4).clamp(16, 256);
    let mut stop_rx = stop;
    let mut abort_rx = abort_rx;
    let mut claim_error = None;
    'claim: loop {
        if *stop_rx.borrow() || *abort_rx.borrow() {
            break;
        }
        let now = (shared.clock)();
        let claimed = {
            let store = store.clone();
            let owner = shared.settings.owner.clone();
            let lease = shared.settings.lease;
            tokio::task::spawn_blocking(move || store.claim_deliveries(&owner, now, lease, batch))
                .await?
        };
        let claimed = match claimed {
            Ok(c) => c,
            Err(e) => {
                // Stop claiming, but let the workers finish and record what they hold.
                claim_error = Some(e);
                break;
            }
        };
        if claimed.is_empty() {
            break;
        }
        shared.report().reclaimed += claimed.iter().filter(|c| c.reclaimed).count();
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
    for h in handles {
        h.await?;
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
    heartbeat.abort();
    let report = shared.report().clone();
    drop(shared);
    recorder.await??;
    match claim_error {
        Some(e) => Err(e.context("claiming deliveries failed")),
        None => Ok(report),
    }
}

/// Commits outcomes in groups: whatever the workers handed in while the previous commit ran
/// goes into the next transaction. Each worker waits for its own outcome's commit, so the
/// "at most one unrecorded message per connection" bound of a kill holds.
async fn recorder(
    store: Store,
    owner: String,
    mut rx: mpsc::UnboundedReceiver<Record>,
) -> anyhow::Result<()> {
    let mut failures = 0;
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < 512 {
            match rx.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        let outcomes: Vec<(i64, Finish)> = group.iter().map(|r| (r.id, r.finish.clone())).collect();
        let store = store.clone();
        let owner = owner.clone();
        let result = tokio::task::spawn_blocking(move || {
            store.finish_deliveries(&owner, &outcomes, Utc::now())
        })
        .await?;
        if let Err(e) = result {
            // The rows stay in `sending` under our lease, which then expires: the next run
            // takes them over (and may send them again), so nothing is lost.
            tracing::error!("could not record {} outcomes: {e:#}", group.len());
            failures += 1;
        }
        for r in group {
            let _ = r.done.send(());
        }
    }
    if failures > 0 {
        anyhow::bail!("{failures} groups of outcomes could not be recorded; see the log");
    }
    Ok(())
}

/// Renews this run's leases every third of the lease, so a long run keeps its rows and a
/// dead one loses them one lease after its last beat.
async fn heartbeat(store: Store, owner: String, lease: chrono::Duration) {
    let period = (lease / 3).to_std().unwrap_or(Duration::from_secs(1));
    loop {
        tokio::time::sleep(period).await;
        let store = store.clone();
        let owner = owner.clone();
        let until = Utc::now() + lease;
        match tokio::task::spawn_blocking(move || store.renew_leases(&owner, until)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("could not renew leases: {e:#}"),
            Err(_) => return,
        }
    }
}

async fn release_all(shared: &Shared, rows: Vec<Claimed>) {
    if rows.is_empty() {
        return;
    }
    let store = shared.store.clone();
    let owner = shared.settings.owner.clone();
    let now = (shared.clock)();
    let outcomes: Vec<(i64, Finish)> = rows.iter().map(|c| (c.id, Finish::Release)).collect();
    match tokio::task::spawn_blocking(move || store.finish_deliveries(&owner, &outcomes, now)).await
    {
        Ok(Ok(applied)) => shared.report().released += applied.iter().filter(|a| **a).count(),
        Ok(Err(e)) => tracing::error!("could not give back {} deliveries: {e:#}", rows.len()),
        Err(e) => tracing::error!("could not give back {} deliveries: {e}", rows.len()),
    }
}

/// A worker's SMTP session and the relay it belongs to.
struct Conn {
    relay: usize,
    session: Session,
}

async fn worker(
    id: usize,
    shared: Arc<Shared>,
    transport: Transport,
    rx: Arc<Mutex<mpsc::Receiver<Claimed>>>,
) {
    let mut conn: Option<Conn> = None;
    // Workers are spread over relays; on failure a worker moves to the next one.
    let mut relay_index = match &transport {
        Transport::Smtp(r) if !r.is_empty() => id % r.len(),
        _ => 0,
    };
    loop {
        let job = {
            let mut rx = rx.lock().await;
            if *shared.stop.borrow() || *shared.abort.borrow() {
                None
            } else {
                rx.recv().await
            }
        };
        let Some(job) = job else { break };
        if *shared.abort.borrow() {
            record(&shared, &job, Outcome::Release).await;
            continue;
        }
        handle(&shared, &transport, &mut conn, &mut relay_index, job).await;
    }
    if let Some(c) = conn.take() {
        c.session.quit().await;
    }
}

async fn handle(
    shared: &Shared,
    transport: &Transport,
    conn: &mut Option<Conn>,
    relay_index: &mut usize,
    job: Claimed,
) {
    if job.suppressed {
        shared.report().suppressed += 1;
        let error = "suppressed: the address is on the suppression list".to_string();
        record(shared, &job, Outcome::Failed(error, false)).await;
        return;
    }
    let composed = match (shared.compose)(&job) {
        Ok(c) => c,
        Err(e) => {
            // Rendering failed: a bug or missing papers, not the reader's fault. Retry later.
            tracing::error!(delivery = job.id, "could not compose the message: {e:#}");
            let outcome = retry_or_fail(shared, &job, &format!("compose failed: {e:#}"));
            record(shared, &job, outcome).await;
            return;
        }
    };
    wait_rate(shared).await;
    let outcome = match transport {
        Transport::File(dir) => {
            let dir = dir.clone();
            let name = composed.name.clone();
            let bytes = composed.bytes;
            match tokio::task::spawn_blocking(move || super::outbox::write_eml(&dir, &name, &bytes))
                .await
            {
                Ok(Ok(_)) => Outcome::Sent("file".into()),
                Ok(Err(e)) => retry_or_fail(shared, &job, &format!("writing the .eml failed: {e}")),
                Err(e) => retry_or_fail(shared, &job, &format!("writing the .eml failed: {e}")),
            }
        }
        Transport::Smtp(relays) => {
            send_smtp(shared, relays, conn, relay_index, &job, &composed).await
        }
    };
    record(shared, &job, outcome).await;
}

async fn send_smtp(
    shared: &Shared,
    relays: &[Arc<Relay>],
    conn: &mut Option<Conn>,
    relay_index: &mut usize,
    job: &Claimed,
    composed: &Composed,
) -> Outcome {
    if conn
        .as_ref()
        .is_some_and(|c| c.session.sent >= shared.settings.max_messages_per_connection)
        && let Some(c) = conn.take()
    {
        c.session.quit().await;
    }
    if let Some(c) = conn.as_ref() {
        // A 421 seen by any connection pauses the whole relay, this session included.
        wait_relay(shared, c.relay).await;
    }
    if conn.is_none() {
        match open_session(shared, relays, relay_index).await {
            Ok(c) => *conn = Some(c),
            Err(err) => {
                if *shared.stop.borrow() {
                    return Outcome::Release;
                }
                // No relay takes connections: not this reader's fault, so the row goes back
                // untouched and the run stops instead of burning every row's attempts.
                let msg =
                    format!("every SMTP relay is unreachable ({err}); deliveries left queued");
                tracing::error!("{msg}");
                shared.report().aborted.get_or_insert(msg);
                let _ = shared.abort.send(true);
                return Outcome::Release;
            }
        }
    }
    let c = conn.as_mut().expect("a session was just opened");
    let relay_at = c.relay;
    let relay_name = c.session.relay().name.clone();
    match c
        .session
        .send(composed.from.as_ref(), &composed.to, &composed.bytes)
        .await
    {
        Ok(()) => Outcome::Sent(relay_name),
        Err(e) => {
            if !e.session_usable() {
                // The connection is broken or closing; don't QUIT into it.
                conn.take();
            }
            if e.is_slow_down() {
                tracing::warn!(relay = %relay_name, "relay answered 421; pausing it");
                shared.report().slowdowns += 1;
                pause_relay(shared, relay_at, shared.settings.slow_down);
            }
            let text = format!("relay {relay_name}: {e}");
            match e.verdict() {
                Verdict::Permanent => Outcome::Failed(format!("permanent: {text}"), true),
                Verdict::Unknown if !shared.settings.resend_unknown => Outcome::Unknown(text),
                Verdict::Unknown => retry_or_fail(
                    shared,
                    job,
                    &format!("outcome unknown, resent as resend_unknown = true: {text}"),
                ),
                Verdict::RelayProblem => {
                    *relay_index = relay_at + 1;
                    conn.take();
                    retry_or_fail(shared, job, &text)
                }
                Verdict::Retry => retry_or_fail(shared, job, &text),
            }
        }
    }
}

enum Outcome {
    /// Give the row back untouched (the attempt did not reach the reader's server).
    Release,
    Sent(String),
    Retry(DateTime<Utc>, String),
    /// Permanent failure; `true`: put the address on the suppression list.
    Failed(String, bool),
    Unknown(String),
}

/// Opens a session, failing over through the relays, three rounds with growing pauses
/// (a relay that answered 421 pauses for `slow_down`).
async fn open_session(
    shared: &Shared,
    relays: &[Arc<Relay>],
    relay_index: &mut usize,
) -> Result<Conn, String> {
    let mut last_err = String::from("no relay configured");
    for round in 0..3u32 {
        for _ in 0..relays.len() {
            let i = *relay_index % relays.len();
            wait_relay(shared, i).await;
            if *shared.abort.borrow() || *shared.stop.borrow() {
                return Err(last_err);
            }
            match Session::connect(relays[i].clone()).await {
                Ok(session) => return Ok(Conn { relay: i, session }),
                Err(e) => {
                    tracing::warn!(relay = %relays[i].name, "connecting failed: {e}");
                    let pause = if e.is_slow_down() {
                        shared.report().slowdowns += 1;
                        shared.settings.slow_down
                    } else {
                        Duration::from_millis(250 << round)
                    };
                    pause_relay(shared, i, pause);
                    last_err = format!("relay {}: {e}", relays[i].name);
                    *relay_index = i + 1;
                }
            }
        }
    }
    Err(last_err)
}

/// Retry with exponential backoff and jitter, unless the attempts or the age are used up.
/// Failing here never suppresses the address (soft bounces are not the address's fault).
fn retry_or_fail(shared: &Shared, job: &Claimed, error: &str) -> Outcome {
    let s = &shared.settings;
    let now = (shared.clock)();
    if job.attempts >= s.max_attempts {
        return Outcome::Failed(
            format!("gave up after {} attempts: {error}", job.attempts),
            false,
        );
    }
    if now - job.created_at > s.max_age {
        let age = s.max_age.to_std().unwrap_or_default();
        return Outcome::Failed(
            format!(
                "gave up: older than max_age_hours ({}): {error}",
                humanize(age)
            ),
            false,
        );
    }
    let exp = s.retry_base.as_secs_f64() * 2f64.powi(job.attempts.saturating_sub(1).min(20) as i32);
    let jitter = 0.75 + rand::random::<f64>() * 0.5;
    let delay = (exp * jitter).min(s.retry_max.as_secs_f64());
    let next = now + chrono::Duration::milliseconds((delay * 1000.0) as i64);
    Outcome::Retry(next, error.to_string())
}

fn humanize(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 3600.0 {
        format!("{} h", secs / 3600.0)
    } else {
        format!("{secs:.1} s")
    }
}

/// Hands the outcome to the recorder and waits until it is committed.
async fn record(shared: &Shared, job: &Claimed, outcome: Outcome) {
    let finish = match &outcome {
        Outcome::Release => Finish::Release,
        Outcome::Sent(relay) => Finish::Sent {
            relay: relay.clone(),
        },
        Outcome::Retry(next, e) => Finish::Retry {
            next_attempt: *next,
            error: e.clone(),
        },
        Outcome::Failed(e, suppress) => Finish::Failed {
            error: e.clone(),
            suppress: suppress.then(|| job.subscriber.email.to_string()),
        },
        Outcome::Unknown(e) => Finish::Unknown { error: e.clone() },
    };
    let (done, committed) = oneshot::channel();
    if shared
        .recorder
        .send(Record {
            id: job.id,
            finish,
            done,
        })
        .is_ok()
    {
        let _ = committed.await;
    }
    let mut report = shared.report();
    match &outcome {
        Outcome::Release => {
            report.released += 1;
            return;
        }
        Outcome::Sent(_) => {
            report.sent += 1;
            shared.progress.sent.fetch_add(1, Ordering::Relaxed);
        }
        Outcome::Retry(_, e) => {
            report.retry += 1;
            tracing::warn!(to = %job.subscriber.email, "will retry: {e}");
        }
        Outcome::Failed(e, suppress) => {
            report.failed += 1;
            report.newly_suppressed += usize::from(*suppress);
            tracing::warn!(to = %job.subscriber.email, "failed: {e}");
        }
        Outcome::Unknown(e) => {
            report.unknown += 1;
            tracing::warn!(to = %job.subscriber.email, "outcome unknown (may have been delivered): {e}");
        }
    }
    drop(report);
    shared.progress.done.fetch_add(1, Ordering::Relaxed);
}

async fn wait_rate(shared: &Shared) {
    if shared.settings.rate_limit <= 0.0 {
        return;
    }
    let gap = Duration::from_secs_f64(1.0 / shared.settings.rate_limit);
    let slot = {
        let mut next = shared.rate.lock().await;
        let now = Instant::now();
        let slot = (*next).max(now);
        *next = slot + gap;
        slot
    };
    tokio::time::sleep_until(slot).await;
}

fn pause_relay(shared: &Shared, i: usize, d: Duration) {
    let mut p = shared.relay_pause.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(slot) = p.get_mut(i) {
        let until = Instant::now() + d;
        *slot = Some(slot.map_or(until, |u| u.max(until)));
    }
}

async fn wait_relay(shared: &Shared, i: usize) {
    let until = shared
        .relay_pause
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(i)
        .copied()
        .flatten();
    if let Some(until) = until
        && until > Instant::now()
    {
        tokio::time::sleep_until(until).await;
    }
}

/// Sends one message outside any edition (a confirmation mail), failing over through the
/// relays; no delivery row, so the caller reports the error.
pub async fn send_one(transport: &Transport, composed: Composed) -> Result<(), String> {
    match transport {
        Transport::File(dir) => {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || {
                super::outbox::write_eml(&dir, &composed.name, &composed.bytes)
            })
            .await
            .map_err(|e| e.to_string())?
            .map(|_| ())
            .map_err(|e| format!("writing the .eml failed: {e}"))
        }
        Transport::Smtp(relays) => {
            let mut last = String::from("no relay configured");
            for relay in relays {
                match Session::connect(relay.clone()).await {
                    Ok(mut s) => {
                        let r = s
                            .send(composed.from.as_ref(), &composed.to, &composed.bytes)
                            .await;
                        s.quit().await;
                        match r {
                            Ok(()) => return Ok(()),
                            Err(e) if e.verdict() == Verdict::Permanent => {
                                return Err(e.to_string());
                            }
                            Err(e) => last = format!("relay {}: {e}", relay.name),
                        }
                    }
                    Err(e) => last = format!("relay {}: {e}", relay.name),
                }
            }
            Err(last)
        }
    }
}
