//! PostgreSQL operations of `edition_admin` (the SQLite ones are in `../edition_admin.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn edition_summaries(
        &self,
        limit: usize,
    ) -> anyhow::Result<Vec<EditionSummary>> {
        Err(not_yet("edition_summaries"))
    }

    pub(in crate::store) fn find_edition(
        &self,
        id_or_key: &str,
    ) -> anyhow::Result<Option<(i64, String)>> {
        Err(not_yet("find_edition"))
    }

    pub(in crate::store) fn cancel_edition(
        &self,
        edition_id: i64,
    ) -> anyhow::Result<CancelledEdition> {
        Err(not_yet("cancel_edition"))
    }
}
