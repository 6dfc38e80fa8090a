//! PostgreSQL operations of `editions` (the SQLite ones are in `../editions.rs`).
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::Postgres;
use super::pool::Sql;
use crate::domain::{Edition, PickRef};
use crate::store::editions::edition_from;
use crate::store::ts;

fn row_to_edition(r: &Row) -> Edition {
    edition_from(r.get(0), r.get(1), r.get(2), r.get(3))
}

impl Postgres {
    /// The edition of `period_key`, created with `public` picks if it does not exist yet.
    /// Race-free across processes by the unique period key: `ON CONFLICT DO NOTHING` waits
    /// for a concurrent creator's commit and then inserts nothing, and the `SELECT` after it
    /// (a new snapshot under READ COMMITTED) sees the winner's row. Only the winner's
    /// `RETURNING` yields a row, so exactly one caller is told it created the edition.
    pub(in crate::store) fn edition_for_period(
        &self,
        period_key: &str,
        public: &[PickRef],
        now: DateTime<Utc>,
    ) -> anyhow::Result<(Edition, bool)> {
        let mut conn = self.conn()?;
        let public = serde_json::to_string(public)?;
        if let Some(row) = conn.query_opt(
            "INSERT INTO editions (period_key, created_at, public) VALUES ($1, $2, $3)
             ON CONFLICT (period_key) DO NOTHING
             RETURNING id, period_key, created_at, public",
            &[&period_key, &ts(now), &public],
        )? {
            return Ok((row_to_edition(&row), true));
        }
        let row = conn.query_one(
            "SELECT id, period_key, created_at, public FROM editions WHERE period_key = $1",
            &[&period_key],
        )?;
        Ok((row_to_edition(&row), false))
    }

    pub(in crate::store) fn edition(&self, period_key: &str) -> anyhow::Result<Option<Edition>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT id, period_key, created_at, public FROM editions WHERE period_key = $1",
                &[&period_key],
            )?
            .as_ref()
            .map(row_to_edition))
    }

    /// Editions, newest first.
    pub(in crate::store) fn editions(&self, limit: usize) -> anyhow::Result<Vec<Edition>> {
        Ok(self
            .conn()?
            .query(
                "SELECT id, period_key, created_at, public FROM editions
                 ORDER BY created_at DESC, id DESC LIMIT $1",
                &[&i64::try_from(limit).unwrap_or(i64::MAX)],
            )?
            .iter()
            .map(row_to_edition)
            .collect())
    }
}
