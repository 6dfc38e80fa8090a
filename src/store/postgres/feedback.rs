//! PostgreSQL operations of `feedback` (the SQLite ones are in `../feedback.rs`). Text
//! orderings use `COLLATE "C"`: byte order, as SQLite sorts, whatever the database's locale.
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::Postgres;
use super::pool::Sql;
use crate::domain::{Feedback, FeedbackRow, Paper, PaperId, ReaderFeedback};
use crate::store::feedback::to_row;
use crate::store::ts;

impl Postgres {
    /// One statement (an upsert), so concurrent verdicts on one paper leave the last one.
    pub(in crate::store) fn set_feedback(
        &self,
        subscriber_id: i64,
        paper: &PaperId,
        feedback: Feedback,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        self.conn()?.execute(
            "INSERT INTO feedback (subscriber_id, paper_id, value, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (subscriber_id, paper_id) DO UPDATE SET value = excluded.value, at = excluded.at",
            &[
                &subscriber_id,
                &paper.as_str(),
                &feedback.value(),
                &ts(now),
            ],
        )?;
        Ok(())
    }

    pub(in crate::store) fn remove_feedback(
        &self,
        subscriber_id: i64,
        paper: &PaperId,
    ) -> anyhow::Result<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM feedback WHERE subscriber_id = $1 AND paper_id = $2",
            &[&subscriber_id, &paper.as_str()],
        )? > 0)
    }

    pub(in crate::store) fn feedback_of(
        &self,
        subscriber_id: i64,
    ) -> anyhow::Result<Vec<FeedbackRow>> {
        let rows = self.conn()?.query(
            "SELECT paper_id, value, at FROM feedback WHERE subscriber_id = $1
             ORDER BY at DESC, paper_id COLLATE \"C\"",
            &[&subscriber_id],
        )?;
        Ok(rows
            .iter()
            .filter_map(|r| to_row(r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    pub(in crate::store) fn feedback_by_subscriber(
        &self,
    ) -> anyhow::Result<HashMap<i64, ReaderFeedback>> {
        let rows = self.conn()?.query(
            "SELECT subscriber_id, paper_id, value FROM feedback
             ORDER BY subscriber_id, at, paper_id COLLATE \"C\"",
            &[],
        )?;
        let mut out: HashMap<i64, ReaderFeedback> = HashMap::new();
        for r in &rows {
            if let Some(row) = to_row(r.get(1), r.get(2), 0) {
                out.entry(r.get(0))
                    .or_default()
                    .add(row.paper_id, row.feedback);
            }
        }
        Ok(out)
    }

    pub(in crate::store) fn feedback_count(&self) -> anyhow::Result<i64> {
        Ok(self
            .conn()?
            .query_one("SELECT COUNT(*) FROM feedback", &[])?
            .get(0))
    }

    pub(in crate::store) fn all_papers(&self) -> anyhow::Result<Vec<Paper>> {
        let rows = self
            .conn()?
            .query("SELECT data FROM papers ORDER BY id COLLATE \"C\"", &[])?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(serde_json::from_str(r.get::<_, &str>(0))?);
        }
        Ok(out)
    }

    pub(in crate::store) fn has_paper(&self, id: &PaperId) -> anyhow::Result<bool> {
        Ok(self
            .conn()?
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM papers WHERE id = $1)",
                &[&id.as_str()],
            )?
            .get(0))
    }
}
