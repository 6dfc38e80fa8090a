//! PostgreSQL operations of `editions` (the SQLite ones are in `../editions.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn edition_for_period(
        &self,
        period_key: &str,
        public: &[PickRef],
        now: DateTime<Utc>,
    ) -> anyhow::Result<(Edition, bool)> {
        Err(not_yet("edition_for_period"))
    }

    pub(in crate::store) fn edition(&self, period_key: &str) -> anyhow::Result<Option<Edition>> {
        Err(not_yet("edition"))
    }

    pub(in crate::store) fn editions(&self, limit: usize) -> anyhow::Result<Vec<Edition>> {
        Err(not_yet("editions"))
    }
}
