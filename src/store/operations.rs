//! Every operation of the store, in one place: each names itself for [`StoreError`] and
//! dispatches to the backend (see `dispatch!` in `mod.rs`). The SQL lives in the
//! per-concern files (`impl Sqlite`); the docs of each operation are here, where callers
//! look.

use chrono::{DateTime, Utc};

use super::{Backend, Store, StoreError, dispatch};
use crate::domain::*;

impl Store {
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
