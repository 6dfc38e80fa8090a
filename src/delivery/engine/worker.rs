//! Workers: one SMTP session each (or the outbox), rate limit, relay pauses and failover.
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;

use super::record::*;
use super::supervise::{InHand, Slot};
use super::*;
use crate::delivery::outcome::Verdict;
use crate::delivery::smtp::{Relay, Session};

/// A worker's SMTP session and the relay it belongs to.
pub(super) struct Conn {
    relay: usize,
    session: Session,
    /// This session's slot among its relay's `connections`; freed when the session goes.
    _slot: tokio::sync::OwnedSemaphorePermit,
}

pub(super) async fn worker(
    id: usize,
    shared: Arc<Shared>,
    transport: Transport,
    rx: Arc<Mutex<mpsc::Receiver<Claimed>>>,
    slot: Slot,
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
        // In hand until its outcome is recorded: if this worker dies meanwhile, its
        // supervisor records the row instead (see `supervise`).
        slot.with(|h| {
            h.job = Some(job.clone());
            h.sending = false;
        });
        if *shared.abort.borrow() {
            record(&shared, &job, Outcome::Release).await;
        } else {
            handle(&shared, &transport, &mut conn, &mut relay_index, job, &slot).await;
        }
        slot.with(|h| *h = InHand::default());
    }
    if let Some(c) = conn.take() {
        c.session.quit().await;
    }
}

pub(super) async fn handle(
    shared: &Shared,
    transport: &Transport,
    conn: &mut Option<Conn>,
    relay_index: &mut usize,
    job: Claimed,
    slot: &Slot,
) {
    if job.suppressed {
        let error = "suppressed: the address is on the suppression list".to_string();
        record(shared, &job, Outcome::Suppressed(error)).await;
        return;
    }
    let composed = match (shared.compose)(&job) {
        Ok(c) => c,
        Err(ComposeError::Message(e)) => {
            // This message can never be built (a field of the reader's row that no header
            // can carry): it fails for good, saying which; the address is fine.
            let outcome = Outcome::Failed(format!("permanent, not sent: {e}"), false);
            record(shared, &job, outcome).await;
            return;
        }
        Err(ComposeError::Other(e)) => {
            // Rendering failed: a bug or missing papers, not the reader's fault. Retry later.
            tracing::error!(delivery = job.id, "could not compose the message: {e:#}");
            let outcome = retry_or_fail(shared, &job, &format!("compose failed: {e:#}"));
            record(shared, &job, outcome).await;
            return;
        }
    };
    wait_rate(shared).await;
    if *shared.abort.borrow() {
        // The run halted while this row waited for its turn: it has not gone out.
        record(shared, &job, Outcome::Release).await;
        return;
    }
    slot.with(|h| h.sending = true);
    let outcome = match transport {
        Transport::File(dir) => {
            let dir = dir.clone();
            let name = composed.name.clone();
            let bytes =
                crate::delivery::outbox::with_return_path(composed.from.as_ref(), composed.bytes);
            match tokio::task::spawn_blocking(move || {
                crate::delivery::outbox::write_eml(&dir, &name, &bytes)
            })
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

pub(super) async fn send_smtp(
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

/// Opens a session, failing over through the relays, three rounds with growing pauses
/// (a relay that answered 421 pauses for `slow_down`).
///
/// A session needs one of its relay's `connections` slots, so no relay ever sees more than
/// `connections` sessions from this run, failover included: when the first relay is down,
/// its workers do not pile onto the backup, which keeps its own share. A worker that finds
/// every reachable relay's slots taken waits for one to free (a busy relay is a working one:
/// that round does not count towards giving up).
pub(super) async fn open_session(
    shared: &Shared,
    relays: &[Arc<Relay>],
    relay_index: &mut usize,
) -> Result<Conn, String> {
    let mut last_err = String::from("no relay configured");
    let mut failed_rounds = 0u32;
    while failed_rounds < 3 {
        let mut busy = Vec::new();
        for _ in 0..relays.len() {
            let i = *relay_index % relays.len();
            wait_relay(shared, i).await;
            if *shared.abort.borrow() || *shared.stop.borrow() {
                return Err(last_err);
            }
            let Ok(slot) = shared.relay_slots[i].clone().try_acquire_owned() else {
                busy.push(i);
                *relay_index = i + 1;
                continue;
            };
            match connect(shared, relays, i, failed_rounds).await {
                Ok(session) => {
                    *relay_index = i;
                    return Ok(Conn {
                        relay: i,
                        session,
                        _slot: slot,
                    });
                }
                Err(e) => {
                    last_err = e;
                    *relay_index = i + 1;
                }
            }
        }
        if busy.is_empty() {
            failed_rounds += 1;
            continue;
        }
        // Other workers hold every slot of the relays that work: wait until one is free
        // (or the run stops), then try that relay first.
        let mut waits = tokio::task::JoinSet::new();
        for &i in &busy {
            let sem = shared.relay_slots[i].clone();
            // The permit is dropped at once: the slot is taken again (or lost to a faster
            // worker, then we wait again) by `try_acquire_owned` above.
            waits.spawn(async move { sem.acquire_owned().await.map(|_| i) });
        }
        let mut stop = shared.stop.clone();
        let mut abort = shared.abort.subscribe();
        tokio::select! {
            Some(Ok(Ok(i))) = waits.join_next() => *relay_index = i,
            _ = stop.changed() => return Err(last_err),
            _ = abort.changed() => return Err(last_err),
        }
    }
    Err(last_err)
}

/// One connection attempt to relay `i`; a failure pauses the relay (`slow_down` after a 421,
/// else a short pause growing with the round).
async fn connect(
    shared: &Shared,
    relays: &[Arc<Relay>],
    i: usize,
    round: u32,
) -> Result<Session, String> {
    match Session::connect(relays[i].clone()).await {
        Ok(session) => Ok(session),
        Err(e) => {
            tracing::warn!(relay = %relays[i].name, "connecting failed: {e}");
            let pause = if e.is_slow_down() {
                shared.report().slowdowns += 1;
                shared.settings.slow_down
            } else {
                Duration::from_millis(250 << round.min(4))
            };
            pause_relay(shared, i, pause);
            Err(format!("relay {}: {e}", relays[i].name))
        }
    }
}

pub(super) async fn wait_rate(shared: &Shared) {
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

pub(super) fn pause_relay(shared: &Shared, i: usize, d: Duration) {
    let mut p = shared.relay_pause.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(slot) = p.get_mut(i) {
        let until = Instant::now() + d;
        *slot = Some(slot.map_or(until, |u| u.max(until)));
    }
}

pub(super) async fn wait_relay(shared: &Shared, i: usize) {
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
                let bytes = crate::delivery::outbox::with_return_path(
                    composed.from.as_ref(),
                    composed.bytes,
                );
                crate::delivery::outbox::write_eml(&dir, &composed.name, &bytes)
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
