//! PostgreSQL operations of `runs` (the SQLite ones are in `../runs.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn record_run(
        &self,
        run: &RunRecord,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        Err(not_yet("record_run"))
    }

    pub(in crate::store) fn recent_runs(&self, limit: usize) -> anyhow::Result<Vec<RunRecord>> {
        Err(not_yet("recent_runs"))
    }

    pub(in crate::store) fn try_lock(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        Err(not_yet("try_lock"))
    }

    pub(in crate::store) fn unlock(&self, name: &str, owner: &str) -> anyhow::Result<()> {
        Err(not_yet("unlock"))
    }
}
