//! Subscribe attempts, counted by the web form's rate limits. Kept in the store so the limits
//! hold across restarts and across several `serve` processes on one database. Addresses and
//! IPs arrive as keyed hashes (the web layer's HMACs): the table never holds either.
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Sqlite, ts};
use crate::domain::{AttemptLimits, AttemptVerdict};

impl Sqlite {
    /// Counts and records one subscribe attempt in one transaction, so concurrent posts
    /// cannot both slip under a limit.
    pub fn record_subscribe_attempt(
        &self,
        ip_key: &str,
        address_key: &str,
        now: DateTime<Utc>,
        limits: &AttemptLimits,
    ) -> anyhow::Result<AttemptVerdict> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let keep = limits.ip_window.max(limits.address_window);
        tx.execute(
            "DELETE FROM subscribe_attempts WHERE at < ?1",
            [ts(now - keep)],
        )?;
        let from_ip: u32 = tx.query_row(
            "SELECT COUNT(*) FROM subscribe_attempts WHERE ip_key = ?1 AND at > ?2",
            params![ip_key, ts(now - limits.ip_window)],
            |r| r.get(0),
        )?;
        if from_ip >= limits.per_ip {
            return Ok(AttemptVerdict::IpLimited);
        }
        let mailed: u32 = tx.query_row(
            "SELECT COUNT(*) FROM subscribe_attempts WHERE address_key = ?1 AND mailed = 1 AND at > ?2",
            params![address_key, ts(now - limits.address_window)],
            |r| r.get(0),
        )?;
        let verdict = if mailed >= limits.per_address {
            AttemptVerdict::AddressLimited
        } else {
            AttemptVerdict::Allowed
        };
        tx.execute(
            "INSERT INTO subscribe_attempts (at, ip_key, address_key, mailed) VALUES (?1, ?2, ?3, ?4)",
            params![
                ts(now),
                ip_key,
                address_key,
                verdict == AttemptVerdict::Allowed
            ],
        )?;
        tx.commit()?;
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use chrono::Duration;

    const LIMITS: AttemptLimits = AttemptLimits {
        per_ip: 4,
        ip_window: Duration::hours(1),
        per_address: 2,
        address_window: Duration::days(1),
    };

    #[test]
    fn an_address_gets_a_few_mails_a_day_whatever_the_ip() {
        let store = Store::for_tests().unwrap();
        let now = Utc::now();
        let v: Vec<_> = (0..3)
            .map(|i| {
                store
                    .record_subscribe_attempt(&format!("ip{i}"), "addr", now, &LIMITS)
                    .unwrap()
            })
            .collect();
        assert_eq!(
            v,
            [
                AttemptVerdict::Allowed,
                AttemptVerdict::Allowed,
                AttemptVerdict::AddressLimited
            ]
        );
        let tomorrow = now + Duration::days(1) + Duration::seconds(1);
        assert_eq!(
            store
                .record_subscribe_attempt("ip9", "addr", tomorrow, &LIMITS)
                .unwrap(),
            AttemptVerdict::Allowed
        );
    }

    #[test]
    fn an_ip_gets_a_few_attempts_an_hour_whatever_the_address() {
        let store = Store::for_tests().unwrap();
        let now = Utc::now();
        for i in 0..4 {
            assert_eq!(
                store
                    .record_subscribe_attempt("ip", &format!("a{i}"), now, &LIMITS)
                    .unwrap(),
                AttemptVerdict::Allowed
            );
        }
        assert_eq!(
            store
                .record_subscribe_attempt("ip", "a9", now, &LIMITS)
                .unwrap(),
            AttemptVerdict::IpLimited
        );
        let later = now + Duration::hours(1) + Duration::seconds(1);
        assert_eq!(
            store
                .record_subscribe_attempt("ip", "a9", later, &LIMITS)
                .unwrap(),
            AttemptVerdict::Allowed
        );
    }
}
