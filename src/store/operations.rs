//! Every operation of the store, in one place: each names itself for [`StoreError`] and
//! dispatches to the backend (see `dispatch!` in `mod.rs`). The SQL lives in the
//! per-concern files (`impl Sqlite`); the docs of each operation are here, where callers
//! look.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::{Backend, Store, StoreError, dispatch};
use crate::domain::*;

impl Store {
    // --- deliveries ---
    /// Records the planned deliveries of an edition in one transaction. A subscriber who
    /// already has a delivery in this edition is left alone (so planning twice plans once).
    /// The papers of each non-empty digest are remembered as sent to that subscriber, so no
    /// later edition picks them again. Returns how many rows were inserted.
    pub fn plan_deliveries(
        &self,
        edition_id: i64,
        deliveries: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        dispatch!(self, "plan_deliveries", |db| db
            .plan_deliveries(edition_id, deliveries, now))
    }

    /// Subscribers that already have a delivery (of any state) in this edition.
    pub fn planned_subscribers(&self, edition_id: i64) -> Result<HashSet<i64>, StoreError> {
        dispatch!(self, "planned_subscribers", |db| db
            .planned_subscribers(edition_id))
    }

    /// When each subscriber last had a digest planned (empty ones not counted).
    pub fn last_digest_times(&self) -> Result<HashMap<i64, DateTime<Utc>>, StoreError> {
        dispatch!(self, "last_digest_times", |db| db.last_digest_times())
    }

    /// Which of `candidates` each of `subscriber_ids` has already been sent.
    pub fn sent_papers_among(
        &self,
        subscriber_ids: &[i64],
        candidates: &[PaperId],
    ) -> Result<HashMap<i64, HashSet<PaperId>>, StoreError> {
        dispatch!(self, "sent_papers_among", |db| db
            .sent_papers_among(subscriber_ids, candidates))
    }

    /// Claims up to `limit` deliveries that are due: pending ones, retries whose time has
    /// come, and `sending` ones whose lease expired (their run died). Each claimed row is put
    /// in `sending` under `owner`'s lease until `now + lease`.
    pub fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claimed>, StoreError> {
        dispatch!(self, "claim_deliveries", |db| db
            .claim_deliveries(owner, now, lease, limit))
    }

    /// Records the outcomes of claimed deliveries in one transaction (one commit for many
    /// messages). Each row changes only while `owner` still holds its lease; the result says,
    /// per outcome, whether it did.
    pub fn finish_deliveries(
        &self,
        owner: &str,
        outcomes: &[(i64, Finish)],
        now: DateTime<Utc>,
    ) -> Result<Vec<bool>, StoreError> {
        dispatch!(self, "finish_deliveries", |db| db
            .finish_deliveries(owner, outcomes, now))
    }

    /// Extends the lease of every row `owner` holds until `until` (the heartbeat of a live
    /// run, so its rows are never taken over while it works on them). Returns how many.
    pub fn renew_leases(&self, owner: &str, until: DateTime<Utc>) -> Result<usize, StoreError> {
        dispatch!(self, "renew_leases", |db| db.renew_leases(owner, until))
    }

    /// Rows in `sending` under other owners' unexpired leases, per owner: (owner, how many,
    /// when its lease on them runs out), earliest expiry first.
    pub fn leases_elsewhere(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, i64, DateTime<Utc>)>, StoreError> {
        dispatch!(self, "leases_elsewhere", |db| db
            .leases_elsewhere(owner, now))
    }

    /// Rows in `sending` under another owner's unexpired lease: (how many, earliest expiry).
    pub fn leased_elsewhere(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        dispatch!(self, "leased_elsewhere", |db| db
            .leased_elsewhere(owner, now))
    }

    // --- subscribers ---
    /// Adds a subscriber; an address already known (in any letter case) is refused.
    pub fn add_subscriber(
        &self,
        new: &NewSubscriber,
        now: DateTime<Utc>,
    ) -> Result<Subscriber, StoreError> {
        dispatch!(self, "add_subscriber", |db| db.add_subscriber(new, now))
    }

    pub fn subscriber_by_email(&self, email: &str) -> Result<Option<Subscriber>, StoreError> {
        dispatch!(self, "subscriber_by_email", |db| db
            .subscriber_by_email(email))
    }

    pub fn subscriber_by_id(&self, id: i64) -> Result<Option<Subscriber>, StoreError> {
        dispatch!(self, "subscriber_by_id", |db| db.subscriber_by_id(id))
    }

    /// Revokes the reader's link tokens for `purposes`: each one's generation goes up by one,
    /// so every link made for an earlier one stops working, and its revocation time is
    /// `now`; the legacy token (links mailed before tokens per purpose) is forgotten with
    /// any of them. Unsubscribing (`update_subscriber` into or out of `unsubscribed`)
    /// revokes them all. The reader as they are now; `None` when there is none.
    pub fn revoke_tokens(
        &self,
        id: i64,
        purposes: &[TokenPurpose],
        now: DateTime<Utc>,
    ) -> Result<Option<Subscriber>, StoreError> {
        dispatch!(self, "revoke_tokens", |db| db
            .revoke_tokens(id, purposes, now))
    }

    /// All readable subscribers, optionally only those with `status`, in id order. A row that
    /// cannot be read is logged (warn, naming the reader and why) and skipped.
    pub fn subscribers(
        &self,
        status: Option<SubscriberStatus>,
    ) -> Result<Vec<Subscriber>, StoreError> {
        dispatch!(self, "subscribers", |db| db.subscribers(status))
    }

    /// Like [`Store::subscribers`], and also every row that cannot be read, for listings
    /// that report them (`subscribers list`, `export`). With a `status` filter, a row whose
    /// status itself cannot be read is not among them (it has no status to match).
    pub fn subscribers_checked(
        &self,
        status: Option<SubscriberStatus>,
    ) -> Result<(Vec<Subscriber>, Vec<UnreadableSubscriber>), StoreError> {
        dispatch!(self, "subscribers_checked", |db| db
            .subscribers_checked(status))
    }

    /// Applies a preferences change; returns the updated subscriber. A change of status into
    /// or out of `unsubscribed` revokes every link token of the reader (as
    /// [`Store::revoke_tokens`] does).
    pub fn update_subscriber(
        &self,
        id: i64,
        update: &SubscriberUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscriber>, StoreError> {
        dispatch!(self, "update_subscriber", |db| db
            .update_subscriber(id, update, now))
    }

    /// Deletes a subscriber and everything recorded about them (erasure on request). Runs
    /// never call this; unsubscribing only changes the status.
    pub fn delete_subscriber(&self, email: &str) -> Result<bool, StoreError> {
        dispatch!(self, "delete_subscriber", |db| db.delete_subscriber(email))
    }

    pub fn subscriber_count(&self, status: Option<SubscriberStatus>) -> Result<i64, StoreError> {
        dispatch!(self, "subscriber_count", |db| db.subscriber_count(status))
    }

    /// Puts an address on the suppression list (hard bounce); later sends skip it.
    pub fn suppress(
        &self,
        email: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, "suppress", |db| db.suppress(email, reason, now))
    }

    pub fn is_suppressed(&self, email: &str) -> Result<bool, StoreError> {
        dispatch!(self, "is_suppressed", |db| db.is_suppressed(email))
    }

    /// Why an address is on the suppression list (the SMTP reply that put it there), if it is.
    pub fn suppression_reason(&self, email: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self, "suppression_reason", |db| db
            .suppression_reason(email))
    }

    /// The suppression list: (address, reason).
    pub fn suppressions(&self) -> Result<Vec<(String, String)>, StoreError> {
        dispatch!(self, "suppressions", |db| db.suppressions())
    }

    /// Takes an address off the suppression list (the operator's `deliveries unsuppress`),
    /// recording the lift for `subscribers show`. Returns whether it was on the list.
    pub fn unsuppress(&self, email: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        dispatch!(self, "unsuppress", |db| db.unsuppress(email, now))
    }
}
