//! PostgreSQL operations of `delivery_reports` (the SQLite ones are in `../delivery_reports.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn outstanding_deliveries(&self) -> anyhow::Result<i64> {
        Err(not_yet("outstanding_deliveries"))
    }

    pub(in crate::store) fn next_retry_at(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        Err(not_yet("next_retry_at"))
    }

    pub(in crate::store) fn delivery_counts(&self) -> anyhow::Result<Vec<DeliveryCounts>> {
        Err(not_yet("delivery_counts"))
    }

    pub(in crate::store) fn delivery_failures(
        &self,
        limit: usize,
    ) -> anyhow::Result<Vec<DeliveryFailure>> {
        Err(not_yet("delivery_failures"))
    }

    pub(in crate::store) fn requeue_deliveries(
        &self,
        states: &[DeliveryState],
        period_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        Err(not_yet("requeue_deliveries"))
    }

    pub(in crate::store) fn delivery_state(
        &self,
        period_key: &str,
        email: &str,
    ) -> anyhow::Result<Option<DeliveryRow>> {
        Err(not_yet("delivery_state"))
    }

    pub(in crate::store) fn delivery_rows(
        &self,
        period_key: &str,
    ) -> anyhow::Result<Vec<DeliveryRow>> {
        Err(not_yet("delivery_rows"))
    }
}
