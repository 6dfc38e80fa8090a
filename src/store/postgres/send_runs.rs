//! PostgreSQL operations of `send_runs` (the SQLite ones are in `../send_runs.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn begin_send_run(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        Err(not_yet("begin_send_run"))
    }

    pub(in crate::store) fn end_send_run(
        &self,
        owner: &str,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        Err(not_yet("end_send_run"))
    }

    pub(in crate::store) fn send_run_end(&self, owner: &str) -> anyhow::Result<Option<SendRunEnd>> {
        Err(not_yet("send_run_end"))
    }
}
