//! Operator accounts, their sessions and the failed sign-ins the throttle counts.
//!
//! Only what cannot open a door is stored: an Argon2id hash of each password, a SHA-256 of
//! each session id, HMACs of IPs and typed names.
use chrono::{DateTime, Duration, Utc};

use super::attempts::lock_keys;
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{
    LoginLimits, LoginVerdict, NewSession, Operator, OperatorName, OperatorSession, SessionKind,
};

/// The advisory-lock classes (first key of `pg_advisory_xact_lock(int, int)`) that
/// serialise sign-in attempts from one IP and for one account name.
const LOCK_IP: i32 = 0x5050_4c49; // "PPLI"
const LOCK_ACCOUNT: i32 = 0x5050_4c41; // "PPLA"

impl Store {
    /// Adds an operator with an Argon2id PHC string; `false` when the name is taken.
    pub fn add_operator(
        &self,
        name: &OperatorName,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write("add_operator", |c| {
            let n = c.execute(
                "INSERT INTO operators (name, password_hash, created_at, password_set_at)
                 VALUES ($1, $2, $3, $3) ON CONFLICT (name) DO NOTHING",
                &[&name.as_ref(), &password_hash, &ts(now)],
            )?;
            Ok(n == 1)
        })
    }

    /// Replaces an operator's password hash and ends every session they have, in one
    /// transaction; `false` when there is no such operator.
    pub fn set_operator_password(
        &self,
        name: &OperatorName,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.transaction("set_operator_password", |c| {
            let Some(id) = c.query_opt(
                "UPDATE operators SET password_hash = $1, password_set_at = $2 WHERE name = $3
                 RETURNING id",
                &[&password_hash, &ts(now), &name.as_ref()],
                |r| r.get::<i64>(0),
            )?
            else {
                return Ok(false);
            };
            c.execute(
                "DELETE FROM operator_sessions WHERE operator_id = $1",
                &[&id],
            )?;
            Ok(true)
        })
    }

    /// Removes an operator and (by cascade) their sessions; `false` when there was none.
    pub fn remove_operator(&self, name: &OperatorName) -> Result<bool, StoreError> {
        self.write("remove_operator", |c| {
            Ok(c.execute("DELETE FROM operators WHERE name = $1", &[&name.as_ref()])? > 0)
        })
    }

    /// Every operator by name, with their sessions still open at `now` (neither past their
    /// absolute end nor idle for `idle`).
    pub fn operators(
        &self,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Vec<Operator>, StoreError> {
        self.read("operators", |c| {
            // `$1` now, `$2` the last moment a session seen then is still live.
            c.query(
                "SELECT o.name, o.created_at, o.password_set_at, o.last_sign_in_at,
                    (SELECT COUNT(*) FROM operator_sessions s
                     WHERE s.operator_id = o.id AND s.expires_at > $1 AND s.last_seen > $2)
                 FROM operators o ORDER BY o.name",
                &[&ts(now), &ts(now - idle)],
                |r| {
                    Ok(Operator {
                        name: r.get(0)?,
                        created_at: from_ts(r.get(1)?),
                        password_set_at: from_ts(r.get(2)?),
                        last_sign_in_at: r.get::<Option<i64>>(3)?.map(from_ts),
                        open_sessions: r.get(4)?,
                    })
                },
            )
        })
    }

    /// The stored PHC string of an operator's password.
    pub fn operator_password_hash(
        &self,
        name: &OperatorName,
    ) -> Result<Option<String>, StoreError> {
        self.read("operator_password_hash", |c| {
            c.query_opt(
                "SELECT password_hash FROM operators WHERE name = $1",
                &[&name.as_ref()],
                |r| r.get(0),
            )
        })
    }

    /// Opens a session in one transaction: sessions past their limits are purged, the one
    /// the browser held before (`replaces`) is deleted (the id is rotated at sign-in), and
    /// the operator's last sign-in is set.
    pub fn create_operator_session(
        &self,
        new: &NewSession<'_>,
        idle: Duration,
    ) -> Result<(), StoreError> {
        self.transaction("create_operator_session", |c| {
            c.execute(
                "DELETE FROM operator_sessions WHERE expires_at <= $1 OR last_seen <= $2",
                &[&ts(new.now), &ts(new.now - idle)],
            )?;
            if let Some(old) = new.replaces {
                c.execute(DELETE_SESSION, &[&old])?;
            }
            let name = new.operator.map(|n| n.as_ref());
            c.execute(
                "INSERT INTO operator_sessions
                     (id_hash, operator_id, kind, csrf, created_at, last_seen, expires_at)
                 VALUES ($1, (SELECT id FROM operators WHERE name = $2), $3, $4, $5, $5, $6)",
                &[
                    &new.id_hash,
                    &name,
                    &new.kind.as_str(),
                    &new.csrf,
                    &ts(new.now),
                    &ts(new.expires_at),
                ],
            )?;
            if let Some(name) = name {
                c.execute(
                    "UPDATE operators SET last_sign_in_at = $1 WHERE name = $2",
                    &[&ts(new.now), &name],
                )?;
            }
            Ok(())
        })
    }

    /// The live session whose id hashes to `id_hash` (not past its absolute end, not idle
    /// for `idle`), marked seen at `now`; `None` otherwise.
    pub fn operator_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<OperatorSession>, StoreError> {
        self.write("operator_session", |c| {
            // Marks a live session seen: `$1` now, `$2` its id hash, `$3` now − idle limit.
            let touched = c.execute(
                "UPDATE operator_sessions SET last_seen = $1
                 WHERE id_hash = $2 AND expires_at > $1 AND last_seen > $3",
                &[&ts(now), &id_hash, &ts(now - idle)],
            )?;
            if touched == 0 {
                return Ok(None);
            }
            let row = c.query_opt(
                "SELECT o.name, s.kind, s.csrf, s.created_at, s.expires_at
                 FROM operator_sessions s LEFT JOIN operators o ON o.id = s.operator_id
                 WHERE s.id_hash = $1",
                &[&id_hash],
                |r| {
                    Ok(to_session(
                        r.get(0)?,
                        &r.get::<String>(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                    ))
                },
            )?;
            Ok(row.flatten())
        })
    }

    /// Ends a session (sign-out); `false` when there was none.
    pub fn delete_operator_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        self.write("delete_operator_session", |c| {
            Ok(c.execute(DELETE_SESSION, &[&id_hash])? > 0)
        })
    }

    /// Counts the failed sign-ins within the window from this IP and for this account
    /// (both keyed HMACs) and, under both limits, records this attempt as a failure until
    /// [`Store::login_succeeded`]; in one transaction, so racing guesses all count. Several
    /// web instances sign in at once: the IP key, then the account key, is locked first
    /// ([`lock_keys`], as the sign-up limits do), so a concurrent attempt sharing either
    /// key waits for this one's row, then counts it.
    pub fn record_login_attempt(
        &self,
        ip_key: &str,
        account_key: &str,
        now: DateTime<Utc>,
        limits: &LoginLimits,
    ) -> Result<LoginVerdict, StoreError> {
        self.transaction("record_login_attempt", |c| {
            lock_keys(c, &[(LOCK_IP, ip_key), (LOCK_ACCOUNT, account_key)])?;
            let since = ts(now - limits.window);
            c.execute("DELETE FROM login_attempts WHERE at <= $1", &[&since])?;
            let from_ip: i64 = c.value(
                "SELECT COUNT(*) FROM login_attempts WHERE ip_key = $1 AND at > $2",
                &[&ip_key, &since],
            )?;
            let for_account: i64 = c.value(
                "SELECT COUNT(*) FROM login_attempts WHERE account_key = $1 AND at > $2",
                &[&account_key, &since],
            )?;
            if let Some(refused) = over_limit(from_ip, for_account, limits) {
                return Ok(refused);
            }
            let id: i64 = c.value(
                "INSERT INTO login_attempts (at, ip_key, account_key) VALUES ($1, $2, $3)
                 RETURNING id",
                &[&ts(now), &ip_key, &account_key],
            )?;
            Ok(LoginVerdict::Allowed(id))
        })
    }

    /// The attempt `attempt_id` signed in: it and the account's earlier failures are
    /// forgotten.
    pub fn login_succeeded(&self, attempt_id: i64, account_key: &str) -> Result<(), StoreError> {
        self.write("login_succeeded", |c| {
            c.execute(
                "DELETE FROM login_attempts WHERE id = $1 OR account_key = $2",
                &[&attempt_id, &account_key],
            )?;
            Ok(())
        })
    }
}

const DELETE_SESSION: &str = "DELETE FROM operator_sessions WHERE id_hash = $1";

/// A row of the session query; `None` for a row that cannot be a live session (a password
/// session whose operator is gone, an unknown kind).
fn to_session(
    operator: Option<String>,
    kind: &str,
    csrf: String,
    created_at: i64,
    expires_at: i64,
) -> Option<OperatorSession> {
    let kind = SessionKind::parse(kind)?;
    if kind == SessionKind::Password && operator.is_none() {
        return None;
    }
    Some(OperatorSession {
        operator,
        kind,
        csrf,
        created_at: from_ts(created_at),
        expires_at: from_ts(expires_at),
    })
}

/// The refusal once the window's failures are counted, `None` when the attempt may go on.
fn over_limit(from_ip: i64, for_account: i64, limits: &LoginLimits) -> Option<LoginVerdict> {
    if from_ip >= i64::from(limits.per_ip) {
        Some(LoginVerdict::IpLimited)
    } else if for_account >= i64::from(limits.per_account) {
        Some(LoginVerdict::AccountLimited)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::attempts::tests::{race, stores_on_one_database};

    fn name(s: &str) -> OperatorName {
        OperatorName::parse(s).unwrap()
    }

    fn t0() -> DateTime<Utc> {
        from_ts(1_800_000_000)
    }

    const IDLE: Duration = Duration::minutes(30);

    fn session<'a>(
        id: &'a str,
        who: Option<&'a OperatorName>,
        now: DateTime<Utc>,
    ) -> NewSession<'a> {
        NewSession {
            id_hash: id,
            operator: who,
            kind: if who.is_some() {
                SessionKind::Password
            } else {
                SessionKind::Loopback
            },
            csrf: "csrf-of-the-session",
            now,
            expires_at: now + Duration::hours(12),
            replaces: None,
        }
    }

    #[test]
    fn operators_are_added_once_listed_repassworded_and_removed() {
        let store = Store::for_tests().unwrap();
        let ada = name("ada");
        assert!(store.add_operator(&ada, "$argon2id$one", t0()).unwrap());
        assert!(
            !store.add_operator(&ada, "$argon2id$two", t0()).unwrap(),
            "a name is taken once"
        );
        assert!(
            store
                .add_operator(&name("bob.b"), "$argon2id$b", t0())
                .unwrap()
        );
        assert_eq!(
            store.operator_password_hash(&ada).unwrap().as_deref(),
            Some("$argon2id$one")
        );
        assert_eq!(store.operator_password_hash(&name("eve")).unwrap(), None);

        store
            .create_operator_session(&session("s1", Some(&ada), t0()), IDLE)
            .unwrap();
        let list = store.operators(t0(), IDLE).unwrap();
        let names: Vec<_> = list.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["ada", "bob.b"]);
        assert_eq!(list[0].open_sessions, 1);
        assert_eq!(list[0].last_sign_in_at, Some(t0()));
        assert_eq!(list[1].last_sign_in_at, None);

        // A new password ends the operator's sessions.
        let later = t0() + Duration::minutes(1);
        assert!(
            store
                .set_operator_password(&ada, "$argon2id$new", later)
                .unwrap()
        );
        assert!(
            !store
                .set_operator_password(&name("eve"), "$x", later)
                .unwrap()
        );
        assert_eq!(store.operator_session("s1", later, IDLE).unwrap(), None);
        let ada_row = &store.operators(later, IDLE).unwrap()[0];
        assert_eq!((ada_row.password_set_at, ada_row.open_sessions), (later, 0));

        // Removing ends them too (the rows cascade).
        store
            .create_operator_session(&session("s2", Some(&ada), later), IDLE)
            .unwrap();
        assert!(store.remove_operator(&ada).unwrap());
        assert!(!store.remove_operator(&ada).unwrap());
        assert_eq!(store.operator_session("s2", later, IDLE).unwrap(), None);
        assert_eq!(store.operators(later, IDLE).unwrap().len(), 1);
    }

    #[test]
    fn a_session_lives_until_its_idle_or_absolute_limit_and_is_rotated_and_deleted() {
        let store = Store::for_tests().unwrap();
        let ada = name("ada");
        store.add_operator(&ada, "$h", t0()).unwrap();
        store
            .create_operator_session(&session("s1", Some(&ada), t0()), IDLE)
            .unwrap();
        let found = store.operator_session("s1", t0(), IDLE).unwrap().unwrap();
        assert_eq!(found.operator.as_deref(), Some("ada"));
        assert_eq!(
            (found.kind, found.csrf.as_str()),
            (SessionKind::Password, "csrf-of-the-session")
        );

        // Used every 29 minutes it stays alive up to its absolute end, and no further.
        let mut now = t0();
        for _ in 0..25 {
            now += Duration::minutes(29);
            let alive = store.operator_session("s1", now, IDLE).unwrap();
            assert_eq!(alive.is_some(), now < t0() + Duration::hours(12), "{now}");
        }
        // Idle for more than the limit: gone.
        store
            .create_operator_session(&session("s2", Some(&ada), t0()), IDLE)
            .unwrap();
        let idle_end = t0() + IDLE;
        assert!(
            store
                .operator_session("s2", idle_end - Duration::seconds(1), IDLE)
                .unwrap()
                .is_some()
        );
        assert_eq!(
            store
                .operator_session("s2", idle_end - Duration::seconds(1) + IDLE, IDLE)
                .unwrap(),
            None
        );

        // Rotation: the session a browser held is deleted when it signs in again.
        store
            .create_operator_session(&session("s3", Some(&ada), t0()), IDLE)
            .unwrap();
        let rotated = NewSession {
            replaces: Some("s3"),
            ..session("s4", Some(&ada), t0())
        };
        store.create_operator_session(&rotated, IDLE).unwrap();
        assert_eq!(store.operator_session("s3", t0(), IDLE).unwrap(), None);
        assert!(store.operator_session("s4", t0(), IDLE).unwrap().is_some());
        assert!(store.delete_operator_session("s4").unwrap());
        assert_eq!(store.operator_session("s4", t0(), IDLE).unwrap(), None);

        // A loopback session has no operator.
        store
            .create_operator_session(&session("lo", None, t0()), IDLE)
            .unwrap();
        let lo = store.operator_session("lo", t0(), IDLE).unwrap().unwrap();
        assert_eq!((lo.operator, lo.kind), (None, SessionKind::Loopback));
    }

    const LIMITS: LoginLimits = LoginLimits {
        per_ip: 5,
        per_account: 3,
        window: Duration::minutes(15),
    };

    #[test]
    fn failed_sign_ins_are_throttled_per_account_and_per_ip_and_forgotten_after_the_window() {
        let store = Store::for_tests().unwrap();
        let attempt = |ip: &str, account: &str, at| {
            store
                .record_login_attempt(ip, account, at, &LIMITS)
                .unwrap()
        };
        for _ in 0..3 {
            assert!(matches!(
                attempt("ip1", "ada", t0()),
                LoginVerdict::Allowed(_)
            ));
        }
        assert_eq!(attempt("ip1", "ada", t0()), LoginVerdict::AccountLimited);
        assert_eq!(
            attempt("ip2", "ada", t0()),
            LoginVerdict::AccountLimited,
            "the account is throttled whatever the IP"
        );
        for account in ["b", "c"] {
            assert!(matches!(
                attempt("ip1", account, t0()),
                LoginVerdict::Allowed(_)
            ));
        }
        assert_eq!(attempt("ip1", "d", t0()), LoginVerdict::IpLimited);
        let after = t0() + LIMITS.window + Duration::seconds(1);
        assert!(matches!(
            attempt("ip1", "ada", after),
            LoginVerdict::Allowed(_)
        ));

        // A success clears the account's failures (and its own row).
        for _ in 0..2 {
            attempt("ip3", "eve", after);
        }
        let LoginVerdict::Allowed(id) = attempt("ip4", "eve", after) else {
            panic!("allowed")
        };
        store.login_succeeded(id, "eve").unwrap();
        for _ in 0..3 {
            assert!(matches!(
                attempt("ip5", "eve", after),
                LoginVerdict::Allowed(_)
            ));
        }
    }

    #[test]
    fn concurrent_guesses_from_several_instances_never_slip_under_the_limit() {
        let (stores, _dir) = stores_on_one_database(8);
        let now = t0();
        let verdicts = race(&stores, |_, store| {
            store
                .record_login_attempt("ip", "ada", now, &LIMITS)
                .unwrap()
        });
        let allowed = verdicts
            .iter()
            .filter(|v| matches!(v, LoginVerdict::Allowed(_)))
            .count();
        assert_eq!(allowed, 3, "{verdicts:?}");
        let verdicts = race(&stores, |i, store| {
            store
                .record_login_attempt("ip9", &format!("acct{i}"), now, &LIMITS)
                .unwrap()
        });
        let allowed = verdicts
            .iter()
            .filter(|v| matches!(v, LoginVerdict::Allowed(_)))
            .count();
        assert_eq!(allowed, 5, "{verdicts:?}");
    }
}
