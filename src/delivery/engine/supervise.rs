//! The workers' supervisor: sees each worker end, and when one dies (a panic, which is a
//! bug: every failure of a message or a relay is an outcome, not a panic) records the row
//! it had in hand, so that row leaves `sending` now instead of keeping a lease the
//! heartbeat renews for as long as the run lives. When every worker has died, it stops the
//! run: the claimer, waiting for room in a queue nobody reads any more, is woken by the
//! abort, gives back what it holds, and the run ends with the reason.
use std::collections::HashMap;
use std::sync::Arc;

use tokio::task::{Id, JoinError, JoinSet};

use super::Shared;
use super::record::{Outcome, record, retry_or_fail};
use crate::domain::Claimed;

/// The row a worker has in hand, shared with its supervisor.
#[derive(Debug, Default)]
pub(super) struct InHand {
    pub job: Option<Claimed>,
    /// Its message is being handed to the transport: it may be out.
    pub sending: bool,
}

/// One worker's [`InHand`]: set by the worker as it takes a row and cleared once the row's
/// outcome is recorded; read by the supervisor only after the worker has ended.
#[derive(Debug, Default, Clone)]
pub(super) struct Slot(Arc<std::sync::Mutex<InHand>>);

impl Slot {
    /// Runs `f` on the slot (a poisoned lock is still read: the data is plain).
    pub fn with<T>(&self, f: impl FnOnce(&mut InHand) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Waits for every worker of `pool` (`slots` by task id) to end; see the module doc.
pub(super) async fn supervise(
    shared: Arc<Shared>,
    mut pool: JoinSet<()>,
    slots: HashMap<Id, Slot>,
) {
    let total = slots.len();
    let mut failed = 0;
    while let Some(joined) = pool.join_next_with_id().await {
        let error = match joined {
            Ok(_) => continue,
            Err(e) => e,
        };
        failed += 1;
        let id = error.id();
        let why = failure(error);
        tracing::error!("a delivery worker failed ({failed} of {total}): {why}");
        {
            let mut report = shared.report();
            report.workers_failed += 1;
            report.worker_failure.get_or_insert_with(|| why.clone());
        }
        let in_hand = slots.get(&id).map(|s| s.with(std::mem::take));
        if let Some(InHand {
            job: Some(job),
            sending,
        }) = in_hand
        {
            let outcome = if sending {
                Outcome::Unknown(format!(
                    "the delivery worker failed while handing the message to the transport \
                     ({why}): it may have gone out"
                ))
            } else {
                retry_or_fail(
                    &shared,
                    &job,
                    &format!("the delivery worker failed while composing or sending it ({why})"),
                )
            };
            record(&shared, &job, outcome).await;
        }
        if failed == total {
            let msg = format!(
                "every delivery worker failed ({total} of {total}), the first {}; the rows \
                 not yet sent were given back",
                shared
                    .report()
                    .worker_failure
                    .clone()
                    .unwrap_or_else(|| why.clone())
            );
            tracing::error!("{msg}");
            shared.report().aborted.get_or_insert(msg);
            let _ = shared.abort.send(true);
        }
    }
}

/// What a worker task died of: `panicked: <message>`.
fn failure(error: JoinError) -> String {
    if !error.is_panic() {
        return "was cancelled".into();
    }
    let payload = error.into_panic();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    format!("panicked: {message}")
}
