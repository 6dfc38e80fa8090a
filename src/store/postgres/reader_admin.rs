//! PostgreSQL operations of `reader_admin` (the SQLite ones are in `../reader_admin.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn subscriber_dates(
        &self,
        id: i64,
    ) -> anyhow::Result<Option<SubscriberDates>> {
        Err(not_yet("subscriber_dates"))
    }

    pub(in crate::store) fn last_digest(
        &self,
        subscriber_id: i64,
    ) -> anyhow::Result<Option<LastDigest>> {
        Err(not_yet("last_digest"))
    }

    pub(in crate::store) fn suppression(&self, email: &str) -> anyhow::Result<Option<Suppression>> {
        Err(not_yet("suppression"))
    }
}
