//! PostgreSQL operations of `papers` (the SQLite ones are in `../papers.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn upsert_papers(
        &self,
        papers: Vec<Paper>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<UpsertCounts> {
        Err(not_yet("upsert_papers"))
    }

    pub(in crate::store) fn papers_seen_since(
        &self,
        since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<StoredPaper>> {
        Err(not_yet("papers_seen_since"))
    }

    pub(in crate::store) fn papers_by_id(
        &self,
        ids: &[PaperId],
    ) -> anyhow::Result<HashMap<PaperId, Paper>> {
        Err(not_yet("papers_by_id"))
    }

    pub(in crate::store) fn paper_count(&self) -> anyhow::Result<i64> {
        Err(not_yet("paper_count"))
    }

    pub(in crate::store) fn http_validators(&self) -> anyhow::Result<Vec<ValidatorRow>> {
        Err(not_yet("http_validators"))
    }

    pub(in crate::store) fn save_http_validators(
        &self,
        validators: &[ValidatorRow],
    ) -> anyhow::Result<()> {
        Err(not_yet("save_http_validators"))
    }
}
