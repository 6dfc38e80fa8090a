//! Recording outcomes: the group-committing recorder, lease heartbeats, retry decisions.
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use super::*;

/// Commits outcomes in groups: whatever the workers handed in while the previous commit ran
/// goes into the next transaction. Each worker waits for its own outcome's commit, so the
/// "at most one unrecorded message per connection" bound of a kill holds.
///
/// A commit that fails halts the run (see [`Halt`]): each worker learns it when its own
/// outcome's commit answers `false`, and stops before sending anything else.
pub(super) async fn recorder(
    store: Store,
    owner: String,
    clock: Arc<Clock>,
    mut rx: mpsc::UnboundedReceiver<Record>,
    halt: Halt,
) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < 512 {
            match rx.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        let outcomes: Vec<(i64, Finish)> = group.iter().map(|r| (r.id, r.finish.clone())).collect();
        let owner = owner.clone();
        let now = clock();
        let result = store
            .blocking(move |s| s.finish_deliveries(&owner, &outcomes, now))
            .await;
        let ok = match result {
            Ok(_) => true,
            Err(e) => {
                // The rows stay in `sending` under our lease, which then expires: the next
                // run takes them over (and may send them again), so nothing is lost. Halt
                // before answering, so no worker sends another message.
                halt.store_failed(
                    &format!("could not record the outcome of {} deliveries", group.len()),
                    &e,
                );
                false
            }
        };
        for r in group {
            let _ = r.done.send(ok);
        }
    }
}

/// Renews this run's leases every third of the lease, so a long run keeps its rows and a
/// dead one loses them one lease after its last beat.
///
/// A renewal that fails halts the run: our leases may run out while we send, and another
/// run could then take the rows over and send them too.
pub(super) async fn heartbeat(
    store: Store,
    owner: String,
    clock: Arc<Clock>,
    lease: chrono::Duration,
    halt: Halt,
) {
    let period = (lease / 3).to_std().unwrap_or(Duration::from_secs(1));
    loop {
        tokio::time::sleep(period).await;
        let store = store.clone();
        let owner = owner.clone();
        let until = clock() + lease;
        match tokio::task::spawn_blocking(move || store.renew_leases(&owner, until)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => halt.store_failed("could not renew this run's leases", &e),
            Err(_) => return,
        }
    }
}

pub(super) async fn release_all(shared: &Shared, rows: Vec<Claimed>) {
    if rows.is_empty() {
        return;
    }
    let owner = shared.settings.owner.clone();
    let now = (shared.clock)();
    let outcomes: Vec<(i64, Finish)> = rows.iter().map(|c| (c.id, Finish::Release)).collect();
    match shared
        .store
        .blocking(move |s| s.finish_deliveries(&owner, &outcomes, now))
        .await
    {
        Ok(applied) => shared.report().released += applied.iter().filter(|a| **a).count(),
        Err(e) => tracing::error!("could not give back {} deliveries: {e:#}", rows.len()),
    }
}

pub(super) enum Outcome {
    /// Give the row back untouched (the attempt did not reach the reader's server).
    Release,
    Sent(String),
    Retry(DateTime<Utc>, String),
    /// Permanent failure; `true`: put the address on the suppression list.
    Failed(String, bool),
    Unknown(String),
    /// Failed without SMTP traffic: the address is on the suppression list (no attempt).
    Suppressed(String),
}

/// Retry with exponential backoff and jitter, unless the attempts or the age are used up.
/// Failing here never suppresses the address (soft bounces are not the address's fault).
pub(super) fn retry_or_fail(shared: &Shared, job: &Claimed, error: &str) -> Outcome {
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

pub(super) fn humanize(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 3600.0 {
        format!("{} h", secs / 3600.0)
    } else {
        format!("{secs:.1} s")
    }
}

/// Hands the outcome to the recorder and waits until it is committed.
pub(super) async fn record(shared: &Shared, job: &Claimed, outcome: Outcome) {
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
        Outcome::Suppressed(e) => Finish::Suppressed { error: e.clone() },
    };
    let (done, committed) = oneshot::channel();
    let recorded = shared
        .recorder
        .send(Record {
            id: job.id,
            finish,
            done,
        })
        .is_ok()
        && committed.await.unwrap_or(false);
    let mut report = shared.report();
    if !recorded && matches!(outcome, Outcome::Sent(_) | Outcome::Unknown(_)) {
        // Out (or maybe out), but the store does not know: the next run may resend it.
        report.unrecorded += 1;
    }
    if !recorded && !*shared.abort.borrow() {
        // A failed commit has halted the run already; this is the recorder itself gone (a
        // bug): nothing more may be sent whose outcome could not be kept either.
        report.aborted.get_or_insert_with(|| {
            "the outcome of a delivery could not be recorded (the recorder stopped); \
             nothing more was sent"
                .into()
        });
        let _ = shared.abort.send(true);
    }
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
        Outcome::Suppressed(_) => {
            report.failed += 1;
            report.suppressed += 1;
        }
        Outcome::Unknown(e) => {
            report.unknown += 1;
            tracing::warn!(to = %job.subscriber.email, "outcome unknown (may have been delivered): {e}");
        }
    }
    drop(report);
    shared.progress.done.fetch_add(1, Ordering::Relaxed);
}
