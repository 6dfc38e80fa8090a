//! What the delivery rows say: counts per edition, failures, the queue, re-queueing.
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Sqlite, from_ts, ts};
use crate::domain::{DeliveryCounts, DeliveryFailure, DeliveryRow, DeliveryState};

impl Sqlite {
    /// Deliveries still to do: pending, sending and retry.
    pub fn outstanding_deliveries(&self) -> anyhow::Result<i64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'sending', 'retry')",
            [],
            |r| r.get(0),
        )?)
    }

    /// The earliest time a retry is due, if any.
    pub fn next_retry_at(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        let t: Option<i64> = self
            .conn()
            .query_row(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'retry'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        Ok(t.map(from_ts))
    }

    /// Counts per state for each edition, newest edition first.
    pub fn delivery_counts(&self) -> anyhow::Result<Vec<DeliveryCounts>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT e.period_key, d.state, COUNT(*), SUM(d.reclaimed > 0)
             FROM deliveries d JOIN editions e ON e.id = d.edition_id
             GROUP BY e.id, d.state ORDER BY e.created_at DESC, e.id DESC, d.state",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        fold_delivery_counts(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Deliveries in `failed`, `unknown` or `retry`, with their last SMTP reply.
    pub fn delivery_failures(&self, limit: usize) -> anyhow::Result<Vec<DeliveryFailure>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT d.id, e.period_key, s.email, d.state, d.attempts, d.last_error, d.updated_at
             FROM deliveries d JOIN editions e ON e.id = d.edition_id JOIN subscribers s ON s.id = d.subscriber_id
             WHERE d.state IN ('failed', 'unknown', 'retry') ORDER BY d.updated_at DESC, d.id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            let state: String = r.get(3)?;
            Ok(DeliveryFailure {
                id: r.get(0)?,
                period_key: r.get(1)?,
                email: r.get(2)?,
                state: stored_state(&state),
                attempts: r.get(4)?,
                last_error: r.get(5)?,
                updated_at: from_ts(r.get(6)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Puts failed and/or unknown deliveries (optionally of one edition) back to pending.
    pub fn requeue_deliveries(
        &self,
        states: &[DeliveryState],
        period_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        let conn = self.conn();
        let mut total = 0;
        for st in states {
            total += conn.execute(
                "UPDATE deliveries SET state = 'pending', next_attempt_at = NULL, updated_at = ?3
                 WHERE state = ?1 AND (?2 IS NULL OR edition_id = (SELECT id FROM editions WHERE period_key = ?2))",
                params![st.as_str(), period_key, ts(now)],
            )?;
        }
        Ok(total)
    }

    /// One subscriber's delivery in an edition (tests and status).
    pub fn delivery_state(
        &self,
        period_key: &str,
        email: &str,
    ) -> anyhow::Result<Option<DeliveryRow>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {ROW_COLUMNS} FROM deliveries d
                     JOIN editions e ON e.id = d.edition_id JOIN subscribers s ON s.id = d.subscriber_id
                     WHERE e.period_key = ?1 AND s.email_key = lower(?2)"
                ),
                params![period_key, email],
                row_to_delivery,
            )
            .optional()?)
    }

    /// Every delivery of an edition, in subscriber order.
    pub fn delivery_rows(&self, period_key: &str) -> anyhow::Result<Vec<DeliveryRow>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM deliveries d
             JOIN editions e ON e.id = d.edition_id JOIN subscribers s ON s.id = d.subscriber_id
             WHERE e.period_key = ?1 ORDER BY s.id"
        ))?;
        let rows = stmt.query_map([period_key], row_to_delivery)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

pub(super) const ROW_COLUMNS: &str =
    "s.email, d.state, d.attempts, d.last_error, d.relay, d.reclaimed";

/// A stored state; one this version does not know reads as failed (it needs a look).
pub(super) fn stored_state(state: &str) -> DeliveryState {
    state.parse().unwrap_or(DeliveryState::Failed)
}

/// Rows of (period key, state, count, how many were reclaimed), grouped by edition in the
/// order given, folded into one [`DeliveryCounts`] per edition.
pub(super) fn fold_delivery_counts(
    rows: impl IntoIterator<Item = (String, String, i64, i64)>,
) -> anyhow::Result<Vec<DeliveryCounts>> {
    let mut out: Vec<DeliveryCounts> = Vec::new();
    for (key, state, n, reclaimed) in rows {
        let state: DeliveryState = state.parse().map_err(anyhow::Error::msg)?;
        match out.last_mut() {
            Some(last) if last.period_key == key => {
                last.counts.push((state, n));
                last.reclaimed += reclaimed;
            }
            _ => out.push(DeliveryCounts {
                period_key: key,
                counts: vec![(state, n)],
                reclaimed,
            }),
        }
    }
    Ok(out)
}

fn row_to_delivery(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeliveryRow> {
    let st: String = r.get(1)?;
    Ok(DeliveryRow {
        email: r.get(0)?,
        state: stored_state(&st),
        attempts: r.get(2)?,
        last_error: r.get(3)?,
        relay: r.get(4)?,
        reclaimed: r.get(5)?,
    })
}
