//! Run records (for `paperpost status`) and named leases (one process per job).
use chrono::{DateTime, Utc};

use super::{Store, StoreError, from_ts, ts};
use crate::domain::RunRecord;

impl Store {
    /// Records a finished run (for `paperpost status`).
    pub fn record_run(
        &self,
        run: &RunRecord,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("record_run", |c| {
            c.execute(
                "INSERT INTO runs (kind, started_at, finished_at, summary) VALUES ($1, $2, $3, $4)",
                &[
                    &run.kind,
                    &ts(started),
                    &ts(finished),
                    &serde_json::to_string(run)?,
                ],
            )?;
            Ok(())
        })
    }

    /// The latest runs, newest first.
    pub fn recent_runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.read("recent_runs", |c| {
            c.query(
                "SELECT summary, started_at, finished_at FROM runs
                 ORDER BY started_at DESC, id DESC LIMIT $1",
                &[&i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    let mut run: RunRecord = serde_json::from_str(&r.get::<String>(0)?)?;
                    run.started_at = Some(from_ts(r.get(1)?));
                    run.finished_at = r.get::<Option<i64>>(2)?.map(from_ts);
                    Ok(run)
                },
            )
        })
    }

    /// Takes (or renews) the named lease for `owner` until `until`, unless another owner
    /// holds it and it has not expired at `now`. Returns whether `owner` holds it now.
    /// One conditional statement, so exactly one of any number of racing processes takes a
    /// free or expired lease: the losers' `INSERT` meets the winner's row (PostgreSQL makes
    /// them wait for its commit, then re-checks the `WHERE` on the winner's version, which
    /// names another owner and a future `until`; SQLite's writers take turns), so they
    /// update nothing.
    pub fn try_lock(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write("try_lock", |c| {
            Ok(c.execute(
                "INSERT INTO locks (name, owner, until) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
                 WHERE locks.owner = $2 OR locks.until <= $4",
                &[&name, &owner, &ts(until), &ts(now)],
            )? > 0)
        })
    }

    /// Gives the named lease up, if `owner` holds it.
    pub fn unlock(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        self.write("unlock", |c| {
            c.execute(
                "DELETE FROM locks WHERE name = $1 AND owner = $2",
                &[&name, &owner],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use chrono::Duration;

    #[test]
    fn a_lock_is_held_by_one_owner_until_it_expires() {
        let store = Store::for_tests().unwrap();
        let now = Utc::now();
        assert!(
            store
                .try_lock("send", "a", now, now + Duration::seconds(10))
                .unwrap()
        );
        assert!(
            !store
                .try_lock("send", "b", now, now + Duration::seconds(10))
                .unwrap()
        );
        assert!(
            store
                .try_lock("send", "a", now, now + Duration::seconds(20))
                .unwrap()
        );
        let later = now + Duration::seconds(21);
        assert!(
            store
                .try_lock("send", "b", later, later + Duration::seconds(10))
                .unwrap()
        );
        store.unlock("send", "b").unwrap();
        assert!(store.try_lock("send", "c", later, later).unwrap());
    }

    #[test]
    fn of_eight_processes_racing_for_a_free_lease_exactly_one_gets_it() {
        use crate::store::attempts::tests::{race, stores_on_one_database};
        let (stores, _dir) = stores_on_one_database(8);
        let now = Utc::now();
        // An expired lease of a dead owner: free for the taking, by exactly one of them.
        assert!(
            stores[0]
                .try_lock("schedule", "dead", now - Duration::seconds(60), now)
                .unwrap()
        );
        let until = now + Duration::seconds(60);
        let results = race(&stores, |i, store| {
            let me = format!("p{i}");
            // "send" has never been taken (the INSERT path), "schedule" has expired (the
            // conditional UPDATE path).
            let fresh = store.try_lock("send", &me, now, until).unwrap();
            let expired = store.try_lock("schedule", &me, now, until).unwrap();
            (me, fresh, expired)
        });
        for (lock, won) in [("send", 1), ("schedule", 2)] {
            let winners: Vec<&str> = results
                .iter()
                .filter(|r| if won == 1 { r.1 } else { r.2 })
                .map(|r| r.0.as_str())
                .collect();
            assert_eq!(winners.len(), 1, "{lock}: winners {winners:?}");
            // The winner holds it: only the winner gets it again before it expires.
            for ((me, _, _), store) in results.iter().zip(&stores) {
                let got = store.try_lock(lock, me, now, until).unwrap();
                assert_eq!(got, me == winners[0], "{lock}: {me}");
            }
        }
    }
}
