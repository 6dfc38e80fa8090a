//! PostgreSQL operations of `confirmations` (the SQLite ones are in `../confirmations.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn create_confirmation(
        &self,
        subscriber_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        Err(not_yet("create_confirmation"))
    }

    pub(in crate::store) fn confirm_subscriber(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Confirmation> {
        Err(not_yet("confirm_subscriber"))
    }

    pub(in crate::store) fn confirmation_state(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Confirmation> {
        Err(not_yet("confirmation_state"))
    }
}
