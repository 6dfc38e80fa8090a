//! PostgreSQL operations of `subscribers` (the SQLite ones are in `../subscribers.rs`).
#![allow(unused_imports, unused_variables)]
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Postgres, not_yet};
use crate::domain::*;

impl Postgres {
    pub(in crate::store) fn add_subscriber(
        &self,
        new: &NewSubscriber,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Subscriber> {
        Err(not_yet("add_subscriber"))
    }

    pub(in crate::store) fn subscriber_by_email(
        &self,
        email: &str,
    ) -> anyhow::Result<Option<Subscriber>> {
        Err(not_yet("subscriber_by_email"))
    }

    pub(in crate::store) fn subscriber_by_id(&self, id: i64) -> anyhow::Result<Option<Subscriber>> {
        Err(not_yet("subscriber_by_id"))
    }

    pub(in crate::store) fn subscriber_by_token(
        &self,
        token: &str,
    ) -> anyhow::Result<Option<Subscriber>> {
        Err(not_yet("subscriber_by_token"))
    }

    pub(in crate::store) fn subscribers(
        &self,
        status: Option<SubscriberStatus>,
    ) -> anyhow::Result<Vec<Subscriber>> {
        Err(not_yet("subscribers"))
    }

    pub(in crate::store) fn subscribers_checked(
        &self,
        status: Option<SubscriberStatus>,
    ) -> anyhow::Result<(Vec<Subscriber>, Vec<UnreadableSubscriber>)> {
        Err(not_yet("subscribers_checked"))
    }

    pub(in crate::store) fn update_subscriber(
        &self,
        id: i64,
        update: &SubscriberUpdate,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Subscriber>> {
        Err(not_yet("update_subscriber"))
    }

    pub(in crate::store) fn delete_subscriber(&self, email: &str) -> anyhow::Result<bool> {
        Err(not_yet("delete_subscriber"))
    }

    pub(in crate::store) fn subscriber_count(
        &self,
        status: Option<SubscriberStatus>,
    ) -> anyhow::Result<i64> {
        Err(not_yet("subscriber_count"))
    }

    pub(in crate::store) fn suppress(
        &self,
        email: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        Err(not_yet("suppress"))
    }

    pub(in crate::store) fn is_suppressed(&self, email: &str) -> anyhow::Result<bool> {
        Err(not_yet("is_suppressed"))
    }

    pub(in crate::store) fn suppression_reason(
        &self,
        email: &str,
    ) -> anyhow::Result<Option<String>> {
        Err(not_yet("suppression_reason"))
    }

    pub(in crate::store) fn suppressions(&self) -> anyhow::Result<Vec<(String, String)>> {
        Err(not_yet("suppressions"))
    }

    pub(in crate::store) fn unsuppress(&self, email: &str) -> anyhow::Result<bool> {
        Err(not_yet("unsuppress"))
    }
}
