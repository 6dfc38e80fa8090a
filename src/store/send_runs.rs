//! How each send run ended: `running` from its start, then `finished` or `stopped` (with
//! the error). A run that takes over rows from an expired lease reads its holder's end to
//! tell a crash (still `running`: killed, or it could not even record its end) from a run
//! that stopped on an error.
use chrono::{DateTime, Utc};

use super::{Store, StoreError, from_ts, ts};
use crate::domain::SendRunEnd;

impl Store {
    /// Records that the send run `owner` starts now.
    pub fn begin_send_run(&self, owner: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write("begin_send_run", |c| {
            c.execute(
                "INSERT INTO send_runs (owner, started_at, end_state) VALUES ($1, $2, 'running')
                 ON CONFLICT (owner) DO UPDATE SET started_at = excluded.started_at,
                     ended_at = NULL, end_state = 'running', error = NULL",
                &[&owner, &ts(now)],
            )?;
            Ok(())
        })
    }

    /// Records how the send run `owner` ended: `error` None = finished.
    pub fn end_send_run(
        &self,
        owner: &str,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("end_send_run", |c| {
            c.execute(
                "UPDATE send_runs SET ended_at = $1, end_state = $2, error = $3 WHERE owner = $4",
                &[&ts(now), &end_state(error), &error, &owner],
            )?;
            Ok(())
        })
    }

    /// How the send run `owner` ended; None for a run never recorded (an older paperpost).
    /// Read on the writer: a run taking over a lease decides by it.
    pub fn send_run_end(&self, owner: &str) -> Result<Option<SendRunEnd>, StoreError> {
        self.write("send_run_end", |c| {
            c.query_opt(
                "SELECT started_at, end_state, error FROM send_runs WHERE owner = $1",
                &[&owner],
                |r| Ok(stored_end(r.get(0)?, &r.get::<String>(1)?, r.get(2)?)),
            )
        })
    }
}

/// The `end_state` of a run that ended with `error` (None: finished).
fn end_state(error: Option<&str>) -> &'static str {
    if error.is_some() {
        "stopped"
    } else {
        "finished"
    }
}

/// A `send_runs` row's (started_at, end_state, error) as the run's end.
fn stored_end(started: i64, state: &str, error: Option<String>) -> SendRunEnd {
    match state {
        "finished" => SendRunEnd::Finished,
        "stopped" => SendRunEnd::Stopped {
            error: error.unwrap_or_default(),
        },
        _ => SendRunEnd::Running {
            started_at: from_ts(started),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_run_is_running_until_it_records_how_it_ended() {
        let store = Store::for_tests().unwrap();
        let now = Utc::now();
        assert_eq!(store.send_run_end("a").unwrap(), None);
        store.begin_send_run("a", now).unwrap();
        store.begin_send_run("b", now).unwrap();
        assert!(matches!(
            store.send_run_end("a").unwrap(),
            Some(SendRunEnd::Running { .. })
        ));
        store.end_send_run("a", None, now).unwrap();
        store.end_send_run("b", Some("disk full"), now).unwrap();
        assert_eq!(store.send_run_end("a").unwrap(), Some(SendRunEnd::Finished));
        let b = store.send_run_end("b").unwrap().unwrap();
        assert!(
            b.describe().contains("stopped on an error: disk full"),
            "{b:?}"
        );
    }
}
