//! The delivery engine: claims due deliveries from the store, composes each message, sends
//! it over a bounded set of SMTP sessions (or writes it to the outbox) and records the
//! outcome before the row's lease runs out.
//!
//! Guarantees, given the store's state machine:
//! - nothing is lost: a row leaves `sending` only with a recorded outcome, and a run that
//!   dies leaves its rows to be reclaimed when their lease expires;
//! - nothing is sent twice, except a message that was in flight when the process died
//!   (counted as `reclaimed` on its row) or whose reply never came (`unknown`, not resent
//!   unless `resend_unknown`).
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::Address;
use tokio::sync::{Mutex, mpsc, watch};
use tokio::time::Instant;

use super::outcome::Verdict;
use super::smtp::{Relay, Session};
use crate::store::{Claimed, Store};

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
    /// How long a claimed row is ours before another run may take it over.
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
    pub suppressed: usize,
    /// Rows given back untouched at shutdown.
    pub released: usize,
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
    /// Consecutive failed connects over all relays; the run aborts when it gets too high.
    stop: watch::Receiver<bool>,
    abort: watch::Sender<bool>,
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
    let batch = (workers * 2).clamp(8, 256);
    let mut stop_rx = stop;
    let mut abort_rx = abort_rx;
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
                .await??
        };
        if claimed.is_empty() {
            break;
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
                    for c in std::iter::once(c).chain(claimed) {
                        release(&shared, c);
                    }
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
    let mut rx = rx.lock().await;
    while let Ok(c) = rx.try_recv() {
        release(&shared, c);
    }
    let report = shared
        .report
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Ok(report)
}

fn release(shared: &Shared, c: Claimed) {
    let now = (shared.clock)();
    match shared.store.release(c.id, &shared.settings.owner, now) {
        Ok(true) => {
            shared
                .report
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .released += 1
        }
        Ok(false) => {}
        Err(e) => tracing::error!(delivery = c.id, "could not release a delivery: {e:#}"),
    }
}

async fn worker(
    id: usize,
    shared: Arc<Shared>,
    transport: Transport,
    rx: Arc<Mutex<mpsc::Receiver<Claimed>>>,
) {
    let mut session: Option<Session> = None;
    // Workers are spread over relays; on failure a worker moves to the next one.
    let mut relay_index = match &transport {
        Transport::Smtp(r) if !r.is_empty() => id % r.len(),
        _ => 0,
    };
    loop {
        let job = {
            let mut rx = rx.lock().await;
            if *shared.stop.borrow() {
                None
            } else {
                rx.recv().await
            }
        };
        let Some(job) = job else { break };
        if *shared.abort.borrow() {
            release(&shared, job);
            continue;
        }
        handle(&shared, &transport, &mut session, &mut relay_index, job).await;
    }
    if let Some(s) = session.take() {
        s.quit().await;
    }
}

async fn handle(
    shared: &Shared,
    transport: &Transport,
    session: &mut Option<Session>,
    relay_index: &mut usize,
    job: Claimed,
) {
    let owner = shared.settings.owner.as_str();
    if job.suppressed {
        record(
            shared,
            &job,
            Outcome::Failed("address is on the suppression list".into()),
        );
        shared
            .report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .suppressed += 1;
        return;
    }
    let composed = match (shared.compose)(&job) {
        Ok(c) => c,
        Err(e) => {
            // Rendering failed: a bug or missing papers, not the reader's fault. Retry later.
            tracing::error!(delivery = job.id, "could not compose the message: {e:#}");
            let outcome = retry_or_fail(shared, &job, &format!("compose failed: {e:#}"));
            record(shared, &job, outcome);
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
            send_smtp(shared, relays, session, relay_index, &job, &composed).await
        }
    };
    if let Outcome::Failed(reason) = &outcome {
        if reason.starts_with("permanent:") {
            let now = (shared.clock)();
            if let Err(e) = shared
                .store
                .suppress(job.subscriber.email.as_ref(), reason, now)
            {
                tracing::error!("could not suppress {}: {e:#}", job.subscriber.email);
            }
        }
    }
    let _ = owner;
    record(shared, &job, outcome);
}

async fn send_smtp(
    shared: &Shared,
    relays: &[Arc<Relay>],
    session: &mut Option<Session>,
    relay_index: &mut usize,
    job: &Claimed,
    composed: &Composed,
) -> Outcome {
    // Get a session, failing over through the relays.
    if session
        .as_ref()
        .is_some_and(|s| s.sent >= shared.settings.max_messages_per_connection)
    {
        if let Some(s) = session.take() {
            s.quit().await;
        }
    }
    if session.is_none() {
        match open_session(shared, relays, relay_index).await {
            Ok(s) => *session = Some(s),
            Err(err) => {
                // No relay takes connections: not this reader's fault, so the row goes back
                // untouched and the run stops instead of burning every row's attempts.
                let msg =
                    format!("every SMTP relay is unreachable ({err}); deliveries left queued");
                tracing::error!("{msg}");
                let mut report = shared.report.lock().unwrap_or_else(|e| e.into_inner());
                report.aborted.get_or_insert(msg);
                drop(report);
                let _ = shared.abort.send(true);
                return Outcome::Release;
            }
        }
    }
    let s = session.as_mut().expect("a session was just opened");
    let relay_name = s.relay().name.clone();
    match s
        .send(composed.from.as_ref(), &composed.to, &composed.bytes)
        .await
    {
        Ok(()) => Outcome::Sent(relay_name),
        Err(e) => {
            if !e.session_usable() {
                if let Some(s) = session.take() {
                    drop(s); // the connection is broken or closing; don't QUIT into it
                }
            }
            if e.is_slow_down() {
                let i = *relay_index % relays.len();
                tracing::warn!(relay = %relay_name, "relay answered 421; slowing down");
                pause_relay(shared, i, shared.settings.slow_down);
            }
            let text = format!("relay {relay_name}: {e}");
            match e.verdict() {
                Verdict::Permanent => Outcome::Failed(format!("permanent: {text}")),
                Verdict::Unknown if !shared.settings.resend_unknown => Outcome::Unknown(text),
                Verdict::RelayProblem => {
                    *relay_index += 1;
                    retry_or_fail(shared, job, &text)
                }
                _ => retry_or_fail(shared, job, &text),
            }
        }
    }
}

enum Outcome {
    /// Give the row back untouched (the attempt did not reach the reader's server).
    Release,
    Sent(String),
    Retry(DateTime<Utc>, String),
    Failed(String),
    Unknown(String),
}

/// Opens a session, failing over through the relays, three rounds with growing pauses
/// (a relay that answered 421 pauses for `slow_down`).
async fn open_session(
    shared: &Shared,
    relays: &[Arc<Relay>],
    relay_index: &mut usize,
) -> Result<Session, String> {
    let mut last_err = String::from("no relay configured");
    for round in 0..3u32 {
        for _ in 0..relays.len() {
            let i = *relay_index % relays.len();
            wait_relay(shared, i).await;
            if *shared.abort.borrow() {
                return Err(last_err);
            }
            match Session::connect(relays[i].clone()).await {
                Ok(s) => return Ok(s),
                Err(e) => {
                    tracing::warn!(relay = %relays[i].name, "connecting failed: {e}");
                    let pause = if e.is_slow_down() {
                        shared.settings.slow_down
                    } else {
                        Duration::from_millis(250 << round)
                    };
                    pause_relay(shared, i, pause);
                    last_err = format!("relay {}: {e}", relays[i].name);
                    *relay_index += 1;
                }
            }
        }
    }
    Err(last_err)
}

/// Retry with exponential backoff and jitter, unless the attempts or the age are used up.
fn retry_or_fail(shared: &Shared, job: &Claimed, error: &str) -> Outcome {
    let s = &shared.settings;
    let now = (shared.clock)();
    if job.attempts >= s.max_attempts {
        return Outcome::Failed(format!("gave up after {} attempts: {error}", job.attempts));
    }
    if now - job.created_at > s.max_age {
        return Outcome::Failed(format!(
            "gave up after {} hours: {error}",
            s.max_age.num_hours()
        ));
    }
    let exp = s.retry_base.as_secs_f64() * 2f64.powi(job.attempts.saturating_sub(1).min(20) as i32);
    let jitter = 0.75 + rand::random::<f64>() * 0.5;
    let delay = (exp * jitter).min(s.retry_max.as_secs_f64());
    let next = now + chrono::Duration::milliseconds((delay * 1000.0) as i64);
    Outcome::Retry(next, error.to_string())
}

fn record(shared: &Shared, job: &Claimed, outcome: Outcome) {
    let owner = shared.settings.owner.as_str();
    let now = (shared.clock)();
    let store = &shared.store;
    if let Outcome::Release = outcome {
        match store.release(job.id, owner, now) {
            Ok(_) => {
                shared
                    .report
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .released += 1
            }
            Err(e) => tracing::error!(delivery = job.id, "could not release a delivery: {e:#}"),
        }
        return;
    }
    let result = match &outcome {
        Outcome::Release => unreachable!("handled above"),
        Outcome::Sent(relay) => store.mark_sent(job.id, owner, relay, now),
        Outcome::Retry(next, e) => store.mark_retry(job.id, owner, *next, e, now),
        Outcome::Failed(e) => store.mark_failed(job.id, owner, e, now),
        Outcome::Unknown(e) => store.mark_unknown(job.id, owner, e, now),
    };
    if let Err(e) = result {
        tracing::error!(delivery = job.id, "could not record the outcome: {e:#}");
    }
    let mut report = shared.report.lock().unwrap_or_else(|e| e.into_inner());
    match &outcome {
        Outcome::Release => {}
        Outcome::Sent(_) => {
            report.sent += 1;
            shared.progress.sent.fetch_add(1, Ordering::Relaxed);
        }
        Outcome::Retry(_, e) => {
            report.retry += 1;
            tracing::warn!(to = %job.subscriber.email, "will retry: {e}");
        }
        Outcome::Failed(e) => {
            report.failed += 1;
            tracing::warn!(to = %job.subscriber.email, "failed: {e}");
        }
        Outcome::Unknown(e) => {
            report.unknown += 1;
            tracing::warn!(to = %job.subscriber.email, "outcome unknown (may have been delivered): {e}");
        }
    }
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
    if let Some(until) = until {
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
