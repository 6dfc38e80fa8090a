//! PostgreSQL operations of `bounces` (the SQLite ones are in `../bounces.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn bounce_target_by_token(
        &self,
        id: i64,
        check: &str,
    ) -> anyhow::Result<Option<BounceTarget>> {
        Err(not_yet("bounce_target_by_token"))
    }

    pub(in crate::store) fn bounce_target_by_message_id(
        &self,
        message_id: &str,
    ) -> anyhow::Result<Option<BounceTarget>> {
        Err(not_yet("bounce_target_by_message_id"))
    }

    pub(in crate::store) fn bounce_target_by_address(
        &self,
        email: &str,
    ) -> anyhow::Result<Option<BounceTarget>> {
        Err(not_yet("bounce_target_by_address"))
    }

    pub(in crate::store) fn record_bounce_message(
        &self,
        hash: &str,
        outcome: &str,
        event: Option<&BounceEvent>,
        soft: SoftPolicy,
        now: DateTime<Utc>,
    ) -> anyhow::Result<BounceApplied> {
        Err(not_yet("record_bounce_message"))
    }

    pub(in crate::store) fn bounce_message_seen(&self, hash: &str) -> anyhow::Result<bool> {
        Err(not_yet("bounce_message_seen"))
    }

    pub(in crate::store) fn edition_bounces(&self) -> anyhow::Result<Vec<EditionBounces>> {
        Err(not_yet("edition_bounces"))
    }

    pub(in crate::store) fn recent_bounces(
        &self,
        limit: usize,
    ) -> anyhow::Result<Vec<BounceRecord>> {
        Err(not_yet("recent_bounces"))
    }
}
