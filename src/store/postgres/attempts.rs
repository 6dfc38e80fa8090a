//! PostgreSQL operations of `attempts` (the SQLite ones are in `../attempts.rs`).
use chrono::{DateTime, Utc};

use super::Postgres;
use super::pool::Sql;
use crate::domain::{AttemptLimits, AttemptVerdict};
use crate::store::attempts::address_verdict;
use crate::store::ts;

/// The advisory-lock classes (first key of `pg_advisory_xact_lock(int, int)`) that
/// serialise attempts from one IP and attempts for one address.
const LOCK_IP: i32 = 0x5050_4950; // "PPIP"
const LOCK_ADDRESS: i32 = 0x5050_4144; // "PPAD"

/// Takes a transaction-scoped advisory lock per `(class, key)`, in the order given (callers
/// always name the same classes in the same order, so two transactions cannot deadlock).
pub(super) fn lock_keys(tx: &mut impl Sql, locks: &[(i32, &str)]) -> anyhow::Result<()> {
    for (class, key) in locks {
        tx.execute(
            "SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))",
            &[class, key],
        )?;
    }
    Ok(())
}

impl Postgres {
    /// Counts and records one attempt in one transaction. SQLite's single writer makes the
    /// count-then-insert race-free; here several web instances post at once, so the
    /// transaction first takes a transaction-scoped advisory lock on its IP key, then on its
    /// address key (always in that order, so two attempts cannot deadlock): a concurrent
    /// attempt sharing either key waits until this one has committed its row, then counts it.
    pub(in crate::store) fn record_subscribe_attempt(
        &self,
        ip_key: &str,
        address_key: &str,
        now: DateTime<Utc>,
        limits: &AttemptLimits,
    ) -> anyhow::Result<AttemptVerdict> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock_keys(&mut tx, &[(LOCK_IP, ip_key), (LOCK_ADDRESS, address_key)])?;
        let keep = limits.ip_window.max(limits.address_window);
        tx.execute(
            "DELETE FROM subscribe_attempts WHERE at < $1",
            &[&ts(now - keep)],
        )?;
        let from_ip: i64 = tx
            .query_one(
                "SELECT COUNT(*) FROM subscribe_attempts WHERE ip_key = $1 AND at > $2",
                &[&ip_key, &ts(now - limits.ip_window)],
            )?
            .get(0);
        if from_ip >= i64::from(limits.per_ip) {
            return Ok(AttemptVerdict::IpLimited);
        }
        let mailed: i64 = tx
            .query_one(
                "SELECT COUNT(*) FROM subscribe_attempts
                 WHERE address_key = $1 AND mailed = 1 AND at > $2",
                &[&address_key, &ts(now - limits.address_window)],
            )?
            .get(0);
        let verdict = address_verdict(mailed, limits);
        let mailed_now = i64::from(verdict == AttemptVerdict::Allowed);
        tx.execute(
            "INSERT INTO subscribe_attempts (at, ip_key, address_key, mailed) VALUES ($1, $2, $3, $4)",
            &[&ts(now), &ip_key, &address_key, &mailed_now],
        )?;
        tx.commit()?;
        Ok(verdict)
    }
}
