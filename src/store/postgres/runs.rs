//! PostgreSQL operations of `runs` (the SQLite ones are in `../runs.rs`): run records and
//! named leases, which keep one scheduler run at a time across every host.
use chrono::{DateTime, Utc};

use super::Postgres;
use super::pool::Sql;
use crate::domain::RunRecord;
use crate::store::runs::stored_run;
use crate::store::ts;

impl Postgres {
    pub(in crate::store) fn record_run(
        &self,
        run: &RunRecord,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        self.conn()?.execute(
            "INSERT INTO runs (kind, started_at, finished_at, summary) VALUES ($1, $2, $3, $4)",
            &[
                &run.kind,
                &ts(started),
                &ts(finished),
                &serde_json::to_string(run)?,
            ],
        )?;
        Ok(())
    }

    pub(in crate::store) fn recent_runs(&self, limit: usize) -> anyhow::Result<Vec<RunRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.conn()?.query(
            "SELECT summary, started_at, finished_at FROM runs
             ORDER BY started_at DESC, id DESC LIMIT $1",
            &[&limit],
        )?;
        rows.iter()
            .map(|r| stored_run(r.get(0), r.get(1), r.get(2)))
            .collect()
    }

    /// One conditional statement, so exactly one of any number of racing processes takes a
    /// free or expired lease: the losers' `INSERT` meets the winner's row (PostgreSQL makes
    /// them wait for its commit, then re-checks the `WHERE` on the winner's version, which
    /// names another owner and a future `until`), so they update nothing.
    pub(in crate::store) fn try_lock(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let n = self.conn()?.execute(
            "INSERT INTO locks (name, owner, until) VALUES ($1, $2, $4)
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
             WHERE locks.owner = $2 OR locks.until <= $3",
            &[&name, &owner, &ts(now), &ts(until)],
        )?;
        Ok(n > 0)
    }

    pub(in crate::store) fn unlock(&self, name: &str, owner: &str) -> anyhow::Result<()> {
        self.conn()?.execute(
            "DELETE FROM locks WHERE name = $1 AND owner = $2",
            &[&name, &owner],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use crate::store::{PostgresOptions, Store, test_server};

    #[test]
    fn of_eight_processes_racing_for_a_free_lease_exactly_one_gets_it() {
        let url = test_server::shared()
            .unwrap()
            .fresh_database("locks")
            .unwrap();
        let stores: Vec<Store> = (0..8)
            .map(|_| Store::open_postgres(&PostgresOptions::for_tests(url.clone())).unwrap())
            .collect();
        let now = Utc::now();
        // An expired lease of a dead owner: free for the taking, by exactly one of them.
        assert!(
            stores[0]
                .try_lock("schedule", "dead", now - Duration::seconds(60), now)
                .unwrap()
        );
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(stores.len()));
        let handles: Vec<_> = stores
            .into_iter()
            .enumerate()
            .map(|(i, store)| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let me = format!("p{i}");
                    let until = now + Duration::seconds(60);
                    barrier.wait();
                    // "send" has never been taken (the INSERT path), "schedule" has expired
                    // (the conditional UPDATE path).
                    let fresh = store.try_lock("send", &me, now, until).unwrap();
                    let expired = store.try_lock("schedule", &me, now, until).unwrap();
                    (me, fresh, expired, store)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for (lock, won) in [("send", 1), ("schedule", 2)] {
            let winners: Vec<&str> = results
                .iter()
                .filter(|r| if won == 1 { r.1 } else { r.2 })
                .map(|r| r.0.as_str())
                .collect();
            assert_eq!(winners.len(), 1, "{lock}: winners {winners:?}");
            // The winner holds it: only the winner gets it again before it expires.
            for (me, _, _, store) in &results {
                let got = store
                    .try_lock(lock, me, now, now + Duration::seconds(60))
                    .unwrap();
                assert_eq!(got, me == winners[0], "{lock}: {me}");
            }
        }
    }
}
