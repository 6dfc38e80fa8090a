//! PostgreSQL operations of `editorial` (the SQLite ones are in `../editorial.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn set_edition_note(
        &self,
        period_key: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        Err(not_yet("set_edition_note"))
    }

    pub(in crate::store) fn pin_paper(
        &self,
        period_key: &str,
        paper_id: &PaperId,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        Err(not_yet("pin_paper"))
    }

    pub(in crate::store) fn unpin_paper(
        &self,
        period_key: &str,
        paper_id: &PaperId,
    ) -> anyhow::Result<bool> {
        Err(not_yet("unpin_paper"))
    }

    pub(in crate::store) fn editorial(&self, period_key: &str) -> anyhow::Result<Editorial> {
        Err(not_yet("editorial"))
    }
}
