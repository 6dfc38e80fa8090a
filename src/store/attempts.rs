//! Subscribe attempts, counted by the web form's rate limits. Kept in the store so the limits
//! hold across restarts and across several `serve` processes on one database. Addresses and
//! IPs arrive as keyed hashes (the web layer's HMACs): the table never holds either.
use super::error::DbResult;
use chrono::{DateTime, Utc};

use super::db::Conn;
use super::{Store, StoreError, ts};
use crate::domain::{AttemptLimits, AttemptVerdict};

/// The advisory-lock classes (first key of `pg_advisory_xact_lock(int, int)`) that
/// serialise attempts from one IP and attempts for one address.
const LOCK_IP: i32 = 0x5050_4950; // "PPIP"
const LOCK_ADDRESS: i32 = 0x5050_4144; // "PPAD"

/// The verdict on an attempt from an IP under its limit, given the mails sent to its
/// address within the window.
fn address_verdict(mailed: i64, limits: &AttemptLimits) -> AttemptVerdict {
    if mailed >= i64::from(limits.per_address) {
        AttemptVerdict::AddressLimited
    } else {
        AttemptVerdict::Allowed
    }
}

/// Serialises a count-then-insert with every other transaction naming one of the same
/// keys. On PostgreSQL, where several web instances post at once, it takes a
/// transaction-scoped advisory lock per `(class, key)` in the order given (callers always
/// name the same classes in the same order, so two transactions cannot deadlock): a
/// concurrent transaction sharing a key waits until this one has committed its row, then
/// counts it. On SQLite there is nothing to take: the transaction began IMMEDIATE, holding
/// the database's one write lock, which already makes the count-then-insert race-free.
pub(super) fn lock_keys(c: &mut Conn<'_>, locks: &[(i32, &str)]) -> DbResult<()> {
    if !c.is_postgres() {
        return Ok(());
    }
    for (class, key) in locks {
        c.execute(
            "SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))",
            &[class, key],
        )?;
    }
    Ok(())
}

impl Store {
    /// Counts and records one subscribe attempt in one transaction, so concurrent posts
    /// cannot both slip under a limit (see [`lock_keys`]: the IP key is locked first, then
    /// the address key).
    pub fn record_subscribe_attempt(
        &self,
        ip_key: &str,
        address_key: &str,
        now: DateTime<Utc>,
        limits: &AttemptLimits,
    ) -> Result<AttemptVerdict, StoreError> {
        self.transaction("record_subscribe_attempt", |c| {
            lock_keys(c, &[(LOCK_IP, ip_key), (LOCK_ADDRESS, address_key)])?;
            let keep = limits.ip_window.max(limits.address_window);
            c.execute(
                "DELETE FROM subscribe_attempts WHERE at < $1",
                &[&ts(now - keep)],
            )?;
            let from_ip: i64 = c.value(
                "SELECT COUNT(*) FROM subscribe_attempts WHERE ip_key = $1 AND at > $2",
                &[&ip_key, &ts(now - limits.ip_window)],
            )?;
            if from_ip >= i64::from(limits.per_ip) {
                return Ok(AttemptVerdict::IpLimited);
            }
            let mailed: i64 = c.value(
                "SELECT COUNT(*) FROM subscribe_attempts
                 WHERE address_key = $1 AND mailed = 1 AND at > $2",
                &[&address_key, &ts(now - limits.address_window)],
            )?;
            let verdict = address_verdict(mailed, limits);
            let mailed_now = i64::from(verdict == AttemptVerdict::Allowed);
            c.execute(
                "INSERT INTO subscribe_attempts (at, ip_key, address_key, mailed)
                 VALUES ($1, $2, $3, $4)",
                &[&ts(now), &ip_key, &address_key, &mailed_now],
            )?;
            Ok(verdict)
        })
    }
}

#[cfg(test)]
pub(in crate::store) mod tests {
    use super::*;
    use crate::store::{PostgresOptions, Store, test_backend_is_postgres, test_server};
    use chrono::Duration;

    /// `n` stores opened separately on one fresh database, as several processes would:
    /// PostgreSQL under `PAPERPOST_TEST_BACKEND=postgres`, else one SQLite file (kept
    /// alive by the returned directory).
    pub(in crate::store) fn stores_on_one_database(
        n: usize,
    ) -> (Vec<Store>, Option<tempfile::TempDir>) {
        if test_backend_is_postgres() {
            let url = test_server::shared()
                .unwrap()
                .fresh_database("race")
                .unwrap();
            let stores = (0..n)
                .map(|_| Store::open_postgres(&PostgresOptions::for_tests(url.clone())).unwrap())
                .collect();
            (stores, None)
        } else {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("race.db");
            let stores = (0..n).map(|_| Store::open(&path).unwrap()).collect();
            (stores, Some(dir))
        }
    }

    /// Runs `f(i, store)` on one thread per store, all released at once; the results in
    /// store order.
    pub(in crate::store) fn race<T: Send>(
        stores: &[Store],
        f: impl Fn(usize, &Store) -> T + Sync,
    ) -> Vec<T> {
        let start = std::sync::Barrier::new(stores.len());
        std::thread::scope(|scope| {
            let handles: Vec<_> = stores
                .iter()
                .enumerate()
                .map(|(i, store)| {
                    let (start, f) = (&start, &f);
                    scope.spawn(move || {
                        start.wait();
                        f(i, store)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

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

    #[test]
    fn concurrent_posts_from_several_instances_never_slip_under_a_limit() {
        let (stores, _dir) = stores_on_one_database(8);
        let now = Utc::now();
        // Eight posts at once, one IP, one address: four get past the IP limit, of which
        // two are mailed, whatever the interleaving.
        let verdicts = race(&stores, |_, store| {
            store
                .record_subscribe_attempt("ip", "addr", now, &LIMITS)
                .unwrap()
        });
        let count = |v: AttemptVerdict| verdicts.iter().filter(|x| **x == v).count();
        assert_eq!(count(AttemptVerdict::Allowed), 2, "{verdicts:?}");
        assert_eq!(count(AttemptVerdict::AddressLimited), 2, "{verdicts:?}");
        assert_eq!(count(AttemptVerdict::IpLimited), 4, "{verdicts:?}");
        // And eight IPs racing for one address: still two mails.
        let verdicts = race(&stores, |i, store| {
            store
                .record_subscribe_attempt(&format!("other{i}"), "addr2", now, &LIMITS)
                .unwrap()
        });
        let allowed = verdicts
            .iter()
            .filter(|v| **v == AttemptVerdict::Allowed)
            .count();
        assert_eq!(allowed, 2, "{verdicts:?}");
    }
}
