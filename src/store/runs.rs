//! Run records (for `paperpost status`) and named leases (one process per job).
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Sqlite, from_ts, ts};
use crate::domain::RunRecord;

impl Sqlite {
    pub fn record_run(
        &self,
        run: &RunRecord,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        self.conn().execute(
            "INSERT INTO runs (kind, started_at, finished_at, summary) VALUES (?1, ?2, ?3, ?4)",
            params![
                run.kind,
                ts(started),
                ts(finished),
                serde_json::to_string(run)?
            ],
        )?;
        Ok(())
    }

    /// The latest runs, newest first.
    pub fn recent_runs(&self, limit: usize) -> anyhow::Result<Vec<RunRecord>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT summary, started_at, finished_at FROM runs ORDER BY started_at DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (json, started, finished) = row?;
            out.push(stored_run(&json, started, finished)?);
        }
        Ok(out)
    }

    /// Takes (or renews) the named lease for `owner` until `until`, unless another owner
    /// holds it and it has not expired at `now`. Returns whether `owner` holds it now.
    pub fn try_lock(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let n = self.conn().execute(
            "INSERT INTO locks (name, owner, until) VALUES (?1, ?2, ?4)
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
             WHERE locks.owner = ?2 OR locks.until <= ?3",
            params![name, owner, ts(now), ts(until)],
        )?;
        Ok(n > 0)
    }

    pub fn unlock(&self, name: &str, owner: &str) -> anyhow::Result<()> {
        self.conn().execute(
            "DELETE FROM locks WHERE name = ?1 AND owner = ?2",
            params![name, owner],
        )?;
        Ok(())
    }
}

/// A stored run: its JSON summary with the times of its row.
pub(super) fn stored_run(
    json: &str,
    started: i64,
    finished: Option<i64>,
) -> anyhow::Result<RunRecord> {
    let mut run: RunRecord = serde_json::from_str(json)?;
    run.started_at = Some(from_ts(started));
    run.finished_at = finished.map(from_ts);
    Ok(run)
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
}
