//! PostgreSQL operations of `delivery_reports` (the SQLite ones are in
//! `../delivery_reports.rs`): what the delivery rows say, and re-queueing.
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::Postgres;
use super::pool::Sql;
use crate::domain::{DeliveryCounts, DeliveryFailure, DeliveryRow, DeliveryState};
use crate::store::delivery_reports::{ROW_COLUMNS, fold_delivery_counts, stored_state};
use crate::store::{from_ts, ts};

/// A count stored as BIGINT, as the domain's `u32` (saturating: a count never wraps).
fn count(r: &Row, i: usize) -> u32 {
    u32::try_from(r.get::<_, i64>(i).max(0)).unwrap_or(u32::MAX)
}

fn row_to_delivery(r: &Row) -> DeliveryRow {
    DeliveryRow {
        email: r.get(0),
        state: stored_state(r.get(1)),
        attempts: count(r, 2),
        last_error: r.get(3),
        relay: r.get(4),
        reclaimed: count(r, 5),
    }
}

impl Postgres {
    pub(in crate::store) fn outstanding_deliveries(&self) -> anyhow::Result<i64> {
        Ok(self
            .conn()?
            .query_one(
                "SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'sending', 'retry')",
                &[],
            )?
            .get(0))
    }

    pub(in crate::store) fn next_retry_at(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        let t: Option<i64> = self
            .conn()?
            .query_one(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'retry'",
                &[],
            )?
            .get(0);
        Ok(t.map(from_ts))
    }

    pub(in crate::store) fn delivery_counts(&self) -> anyhow::Result<Vec<DeliveryCounts>> {
        // States in byte order (COLLATE "C"), as SQLite sorts them.
        let rows = self.conn()?.query(
            r#"SELECT e.period_key, d.state, COUNT(*), SUM((d.reclaimed > 0)::int)::bigint
               FROM deliveries d JOIN editions e ON e.id = d.edition_id
               GROUP BY e.id, e.period_key, e.created_at, d.state
               ORDER BY e.created_at DESC, e.id DESC, d.state COLLATE "C""#,
            &[],
        )?;
        fold_delivery_counts(
            rows.iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))),
        )
    }

    pub(in crate::store) fn delivery_failures(
        &self,
        limit: usize,
    ) -> anyhow::Result<Vec<DeliveryFailure>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.conn()?.query(
            "SELECT d.id, e.period_key, s.email, d.state, d.attempts, d.last_error, d.updated_at
             FROM deliveries d JOIN editions e ON e.id = d.edition_id
             JOIN subscribers s ON s.id = d.subscriber_id
             WHERE d.state IN ('failed', 'unknown', 'retry')
             ORDER BY d.updated_at DESC, d.id LIMIT $1",
            &[&limit],
        )?;
        Ok(rows
            .iter()
            .map(|r| DeliveryFailure {
                id: r.get(0),
                period_key: r.get(1),
                email: r.get(2),
                state: stored_state(r.get(3)),
                attempts: count(r, 4),
                last_error: r.get(5),
                updated_at: from_ts(r.get(6)),
            })
            .collect())
    }

    pub(in crate::store) fn requeue_deliveries(
        &self,
        states: &[DeliveryState],
        period_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        let states: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        let n = self.conn()?.execute(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = NULL, updated_at = $3
             WHERE state = ANY($1)
               AND ($2::text IS NULL
                    OR edition_id = (SELECT id FROM editions WHERE period_key = $2::text))",
            &[&states, &period_key, &ts(now)],
        )?;
        Ok(usize::try_from(n)?)
    }

    pub(in crate::store) fn delivery_state(
        &self,
        period_key: &str,
        email: &str,
    ) -> anyhow::Result<Option<DeliveryRow>> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM deliveries d
             JOIN editions e ON e.id = d.edition_id JOIN subscribers s ON s.id = d.subscriber_id
             WHERE e.period_key = $1 AND s.email_key = lower($2)"
        );
        Ok(self
            .conn()?
            .query_opt(&sql, &[&period_key, &email])?
            .as_ref()
            .map(row_to_delivery))
    }

    pub(in crate::store) fn delivery_rows(
        &self,
        period_key: &str,
    ) -> anyhow::Result<Vec<DeliveryRow>> {
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM deliveries d
             JOIN editions e ON e.id = d.edition_id JOIN subscribers s ON s.id = d.subscriber_id
             WHERE e.period_key = $1 ORDER BY s.id"
        );
        Ok(self
            .conn()?
            .query(&sql, &[&period_key])?
            .iter()
            .map(row_to_delivery)
            .collect())
    }
}
