//! PostgreSQL operations of `edition_admin` (the SQLite ones are in `../edition_admin.rs`).
use std::collections::HashMap;

use super::Postgres;
use super::pool::Sql;
use crate::domain::{CancelledEdition, EditionSummary};
use crate::store::edition_admin::{UNDELIVERED, edition_summary};

impl Postgres {
    /// Editions, newest first, with their delivery counts (two queries in all).
    pub(in crate::store) fn edition_summaries(
        &self,
        limit: usize,
    ) -> anyhow::Result<Vec<EditionSummary>> {
        let mut conn = self.conn()?;
        let editions: Vec<(i64, String, i64)> = conn
            .query(
                "SELECT id, period_key, created_at FROM editions
                 ORDER BY created_at DESC, id DESC LIMIT $1",
                &[&i64::try_from(limit).unwrap_or(i64::MAX)],
            )?
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let ids: Vec<i64> = editions.iter().map(|e| e.0).collect();
        let mut counts: HashMap<i64, Vec<(String, i64, Option<i64>)>> = HashMap::new();
        for r in conn.query(
            "SELECT edition_id, state, COUNT(*),
                    SUM((state = 'sent' AND relay = 'file')::int)::bigint
             FROM deliveries WHERE edition_id = ANY($1)
             GROUP BY edition_id, state ORDER BY edition_id, state",
            &[&ids],
        )? {
            counts
                .entry(r.get(0))
                .or_default()
                .push((r.get(1), r.get(2), r.get(3)));
        }
        editions
            .into_iter()
            .map(|(id, period_key, created_at)| {
                let rows = counts.remove(&id).unwrap_or_default();
                edition_summary(id, period_key, created_at, rows)
            })
            .collect()
    }

    /// The edition named by its id or period key (`2026-W48`, `2026-11-26`).
    pub(in crate::store) fn find_edition(
        &self,
        id_or_key: &str,
    ) -> anyhow::Result<Option<(i64, String)>> {
        let id = id_or_key.trim().parse::<i64>().ok();
        Ok(self
            .conn()?
            .query_opt(
                "SELECT id, period_key FROM editions WHERE period_key = $1 OR id = $2
                 ORDER BY id LIMIT 1",
                &[&id_or_key.trim(), &id],
            )?
            .map(|r| (r.get(0), r.get(1))))
    }

    /// Withdraws every delivery of the edition that did not reach its reader and forgets
    /// that their papers were sent to those readers, in one transaction, as the SQLite twin.
    ///
    /// Race-free against senders on other hosts: the edition row is locked first (`FOR
    /// UPDATE`, which also holds off planning into it, whose foreign key check needs a
    /// share lock on that row), the deliveries are deleted by one `DELETE … RETURNING`
    /// that re-checks each row's state after waiting for a claimer's lock (a row claimed
    /// meanwhile is `sending` and stays), and only the readers of the rows really deleted
    /// get their papers unmarked.
    pub(in crate::store) fn cancel_edition(
        &self,
        edition_id: i64,
    ) -> anyhow::Result<CancelledEdition> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let period_key: String = tx
            .query_opt(
                "SELECT period_key FROM editions WHERE id = $1 FOR UPDATE",
                &[&edition_id],
            )?
            .ok_or_else(|| anyhow::anyhow!("Edition {edition_id} does not exist"))?
            .get(0);
        let withdrawn: Vec<i64> = tx
            .query(
                &format!(
                    "DELETE FROM deliveries WHERE edition_id = $1 AND {UNDELIVERED}
                     RETURNING subscriber_id"
                ),
                &[&edition_id],
            )?
            .into_iter()
            .map(|r| r.get(0))
            .collect();
        let papers_unmarked = tx.execute(
            "DELETE FROM sent_papers WHERE edition_id = $1 AND subscriber_id = ANY($2)",
            &[&edition_id, &withdrawn],
        )?;
        let kept: i64 = tx
            .query_one(
                "SELECT COUNT(*) FROM deliveries WHERE edition_id = $1",
                &[&edition_id],
            )?
            .get(0);
        let edition_removed = kept == 0;
        if edition_removed {
            tx.execute("DELETE FROM editions WHERE id = $1", &[&edition_id])?;
        }
        tx.commit()?;
        Ok(CancelledEdition {
            period_key,
            withdrawn: withdrawn.len(),
            papers_unmarked: papers_unmarked as usize,
            kept: kept as usize,
            edition_removed,
        })
    }
}
