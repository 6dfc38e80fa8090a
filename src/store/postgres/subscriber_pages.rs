//! PostgreSQL operations of `subscriber_pages` (the SQLite ones are in `../subscriber_pages.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn subscribers_page(
        &self,
        status: SubscriberStatus,
        after: i64,
        limit: usize,
    ) -> anyhow::Result<SubscriberPage> {
        Err(not_yet("subscribers_page"))
    }
}
