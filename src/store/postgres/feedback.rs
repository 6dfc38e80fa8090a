//! PostgreSQL operations of `feedback` (the SQLite ones are in `../feedback.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn set_feedback(
        &self,
        subscriber_id: i64,
        paper: &PaperId,
        feedback: Feedback,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        Err(not_yet("set_feedback"))
    }

    pub(in crate::store) fn remove_feedback(
        &self,
        subscriber_id: i64,
        paper: &PaperId,
    ) -> anyhow::Result<bool> {
        Err(not_yet("remove_feedback"))
    }

    pub(in crate::store) fn feedback_of(
        &self,
        subscriber_id: i64,
    ) -> anyhow::Result<Vec<FeedbackRow>> {
        Err(not_yet("feedback_of"))
    }

    pub(in crate::store) fn feedback_by_subscriber(
        &self,
    ) -> anyhow::Result<HashMap<i64, ReaderFeedback>> {
        Err(not_yet("feedback_by_subscriber"))
    }

    pub(in crate::store) fn feedback_count(&self) -> anyhow::Result<i64> {
        Err(not_yet("feedback_count"))
    }

    pub(in crate::store) fn all_papers(&self) -> anyhow::Result<Vec<Paper>> {
        Err(not_yet("all_papers"))
    }

    pub(in crate::store) fn has_paper(&self, id: &PaperId) -> anyhow::Result<bool> {
        Err(not_yet("has_paper"))
    }
}
