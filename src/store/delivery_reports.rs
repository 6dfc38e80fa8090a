//! What the delivery rows say: counts per edition, failures, the queue, re-queueing.
use super::error::{DbError, DbResult};
use chrono::{DateTime, Utc};

use super::db::{Param, Row, placeholders};
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{DeliveryCounts, DeliveryFailure, DeliveryRow, DeliveryState};

impl Store {
    /// This newsletter's deliveries still to do: pending, sending and retry. Read on the
    /// writer: the delivery engine decides by it.
    pub fn outstanding_deliveries(&self) -> Result<i64, StoreError> {
        self.write("outstanding_deliveries", |c| {
            c.value(
                "SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'sending', 'retry')
                   AND edition_id IN (SELECT id FROM editions WHERE newsletter = $1)",
                &[&self.newsletter()],
            )
        })
    }

    /// The earliest time a retry is due, if any.
    pub fn next_retry_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.write("next_retry_at", |c| {
            let t: Option<i64> = c.value(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'retry'
                   AND edition_id IN (SELECT id FROM editions WHERE newsletter = $1)",
                &[&self.newsletter()],
            )?;
            Ok(t.map(from_ts))
        })
    }

    /// Counts per state for each edition, newest edition first.
    pub fn delivery_counts(&self) -> Result<Vec<DeliveryCounts>, StoreError> {
        self.read("delivery_counts", |c| {
            let rows = c.query(
                "SELECT e.period_key, d.state, COUNT(*),
                        CAST(SUM(CASE WHEN d.reclaimed > 0 THEN 1 ELSE 0 END) AS BIGINT)
                 FROM deliveries d JOIN editions e ON e.id = d.edition_id
                 WHERE e.newsletter = $1
                 GROUP BY e.id, e.period_key, e.created_at, d.state
                 ORDER BY e.created_at DESC, e.id DESC, d.state",
                &[&self.newsletter()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
            fold_delivery_counts(rows)
        })
    }

    /// Deliveries in `failed`, `unknown` or `retry`, with their last SMTP reply.
    pub fn delivery_failures(&self, limit: usize) -> Result<Vec<DeliveryFailure>, StoreError> {
        self.write("delivery_failures", |c| {
            c.query(
                "SELECT d.id, e.period_key, s.email, d.state, d.attempts, d.last_error,
                        d.updated_at
                 FROM deliveries d JOIN editions e ON e.id = d.edition_id
                 JOIN subscribers s ON s.id = d.subscriber_id
                 WHERE d.state IN ('failed', 'unknown', 'retry') AND e.newsletter = $1
                 ORDER BY d.updated_at DESC, d.id LIMIT $2",
                &[
                    &self.newsletter(),
                    &i64::try_from(limit).unwrap_or(i64::MAX),
                ],
                |r| {
                    Ok(DeliveryFailure {
                        id: r.get(0)?,
                        period_key: r.get(1)?,
                        email: r.get(2)?,
                        state: stored_state(&r.get::<String>(3)?),
                        attempts: count(r, 4)?,
                        last_error: r.get(5)?,
                        updated_at: from_ts(r.get(6)?),
                    })
                },
            )
        })
    }

    /// Puts failed and/or unknown deliveries (optionally of one edition) back to pending.
    pub fn requeue_deliveries(
        &self,
        states: &[DeliveryState],
        period_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        if states.is_empty() {
            return Ok(0);
        }
        self.write("requeue_deliveries", |c| {
            let states: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
            let sql = format!(
                "UPDATE deliveries SET state = 'pending', next_attempt_at = NULL, updated_at = $1
                 WHERE edition_id IN (SELECT id FROM editions
                                      WHERE (CAST($2 AS TEXT) IS NULL OR period_key = $2)
                                        AND newsletter = $3)
                   AND state IN ({})",
                placeholders(4, states.len())
            );
            let now = ts(now);
            let newsletter = self.newsletter();
            let mut params: Vec<&dyn Param> = vec![&now, &period_key, &newsletter];
            params.extend(states.iter().map(|s| s as &dyn Param));
            Ok(c.execute(&sql, &params)? as usize)
        })
    }

    /// One subscriber's delivery in an edition (tests and status).
    pub fn delivery_state(
        &self,
        period_key: &str,
        email: &str,
    ) -> Result<Option<DeliveryRow>, StoreError> {
        self.write("delivery_state", |c| {
            c.query_opt(
                &format!(
                    "SELECT {ROW_COLUMNS} FROM deliveries d
                     JOIN editions e ON e.id = d.edition_id
                     JOIN subscribers s ON s.id = d.subscriber_id
                     WHERE e.period_key = $1 AND s.email_key = lower($2) AND e.newsletter = $3"
                ),
                &[&period_key, &email, &self.newsletter()],
                row_to_delivery,
            )
        })
    }

    /// Every delivery of an edition, in subscriber order.
    pub fn delivery_rows(&self, period_key: &str) -> Result<Vec<DeliveryRow>, StoreError> {
        self.read("delivery_rows", |c| {
            c.query(
                &format!(
                    "SELECT {ROW_COLUMNS} FROM deliveries d
                     JOIN editions e ON e.id = d.edition_id
                     JOIN subscribers s ON s.id = d.subscriber_id
                     WHERE e.period_key = $1 AND e.newsletter = $2 ORDER BY s.id"
                ),
                &[&period_key, &self.newsletter()],
                row_to_delivery,
            )
        })
    }
}

const ROW_COLUMNS: &str = "s.email, d.state, d.attempts, d.last_error, d.relay, d.reclaimed";

/// A count stored as an integer, as the domain's `u32` (saturating: a count never wraps).
fn count(r: &Row<'_>, i: usize) -> DbResult<u32> {
    Ok(u32::try_from(r.get::<i64>(i)?.max(0)).unwrap_or(u32::MAX))
}

fn row_to_delivery(r: &Row<'_>) -> DbResult<DeliveryRow> {
    Ok(DeliveryRow {
        email: r.get(0)?,
        state: stored_state(&r.get::<String>(1)?),
        attempts: count(r, 2)?,
        last_error: r.get(3)?,
        relay: r.get(4)?,
        reclaimed: count(r, 5)?,
    })
}

/// A stored state; one this version does not know reads as failed (it needs a look).
fn stored_state(state: &str) -> DeliveryState {
    state.parse().unwrap_or(DeliveryState::Failed)
}

/// Rows of (period key, state, count, how many were reclaimed), grouped by edition in the
/// order given, folded into one [`DeliveryCounts`] per edition.
fn fold_delivery_counts(
    rows: impl IntoIterator<Item = (String, String, i64, i64)>,
) -> DbResult<Vec<DeliveryCounts>> {
    let mut out: Vec<DeliveryCounts> = Vec::new();
    for (key, state, n, reclaimed) in rows {
        let state: DeliveryState = state.parse().map_err(DbError::msg)?;
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
