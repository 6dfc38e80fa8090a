//! PostgreSQL operations of `attempts` (the SQLite ones are in `../attempts.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn record_subscribe_attempt(
        &self,
        ip_key: &str,
        address_key: &str,
        now: DateTime<Utc>,
        limits: &AttemptLimits,
    ) -> anyhow::Result<AttemptVerdict> {
        Err(not_yet("record_subscribe_attempt"))
    }
}
