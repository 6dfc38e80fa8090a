//! PostgreSQL operations of `deliveries` (the SQLite ones are in `../deliveries.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn plan_deliveries(
        &self,
        edition_id: i64,
        deliveries: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        Err(not_yet("plan_deliveries"))
    }

    pub(in crate::store) fn planned_subscribers(
        &self,
        edition_id: i64,
    ) -> anyhow::Result<HashSet<i64>> {
        Err(not_yet("planned_subscribers"))
    }

    pub(in crate::store) fn last_digest_times(
        &self,
    ) -> anyhow::Result<HashMap<i64, DateTime<Utc>>> {
        Err(not_yet("last_digest_times"))
    }

    pub(in crate::store) fn sent_papers_among(
        &self,
        subscriber_ids: &[i64],
        candidates: &[PaperId],
    ) -> anyhow::Result<HashMap<i64, HashSet<PaperId>>> {
        Err(not_yet("sent_papers_among"))
    }

    pub(in crate::store) fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> anyhow::Result<Vec<Claimed>> {
        Err(not_yet("claim_deliveries"))
    }

    pub(in crate::store) fn finish_deliveries(
        &self,
        owner: &str,
        outcomes: &[(i64, Finish)],
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<bool>> {
        Err(not_yet("finish_deliveries"))
    }

    pub(in crate::store) fn renew_leases(
        &self,
        owner: &str,
        until: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        Err(not_yet("renew_leases"))
    }

    pub(in crate::store) fn leases_elsewhere(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(String, i64, DateTime<Utc>)>> {
        Err(not_yet("leases_elsewhere"))
    }

    pub(in crate::store) fn leased_elsewhere(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(i64, Option<DateTime<Utc>>)> {
        Err(not_yet("leased_elsewhere"))
    }
}
