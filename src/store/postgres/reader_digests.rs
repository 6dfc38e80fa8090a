//! PostgreSQL operations of `reader_digests` (the SQLite ones are in `../reader_digests.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn sent_digest(
        &self,
        subscriber_id: i64,
        period_key: &str,
    ) -> anyhow::Result<Option<SentDigest>> {
        Err(not_yet("sent_digest"))
    }

    pub(in crate::store) fn sent_digests(
        &self,
        subscriber_id: i64,
        limit: usize,
    ) -> anyhow::Result<Vec<SentDigest>> {
        Err(not_yet("sent_digests"))
    }
}
