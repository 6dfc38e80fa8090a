//! Operator accounts, their sessions and the failed sign-ins the throttle counts.
//!
//! Each statement is written once, below, with numbered placeholders (`$1`) that SQLite and
//! PostgreSQL both read (in SQLite a `$N` is bound by first appearance, so every statement
//! here names its parameters in order); the PostgreSQL side (`postgres/operators.rs`) only
//! adds its advisory locks. Only what cannot open a door is stored: an Argon2id hash of each
//! password, a SHA-256 of each session id, HMACs of IPs and typed names.
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Sqlite, from_ts, ts};
use crate::domain::{
    LoginLimits, LoginVerdict, NewSession, Operator, OperatorName, OperatorSession, SessionKind,
};

pub(super) const INSERT_OPERATOR: &str = "INSERT INTO operators (name, password_hash, created_at, password_set_at) \
     VALUES ($1, $2, $3, $3) ON CONFLICT (name) DO NOTHING";
pub(super) const SET_PASSWORD: &str =
    "UPDATE operators SET password_hash = $1, password_set_at = $2 WHERE name = $3 RETURNING id";
pub(super) const END_SESSIONS_OF: &str = "DELETE FROM operator_sessions WHERE operator_id = $1";
pub(super) const REMOVE_OPERATOR: &str = "DELETE FROM operators WHERE name = $1";
/// `$1` now, `$2` the last moment a session seen then is still live (now − idle limit).
pub(super) const LIST_OPERATORS: &str =
    "SELECT o.name, o.created_at, o.password_set_at, o.last_sign_in_at,
        (SELECT COUNT(*) FROM operator_sessions s
         WHERE s.operator_id = o.id AND s.expires_at > $1 AND s.last_seen > $2)
     FROM operators o";
pub(super) const PASSWORD_HASH: &str = "SELECT password_hash FROM operators WHERE name = $1";
/// Sessions past either limit: `$1` now, `$2` now − idle limit.
pub(super) const PURGE_SESSIONS: &str =
    "DELETE FROM operator_sessions WHERE expires_at <= $1 OR last_seen <= $2";
pub(super) const DELETE_SESSION: &str = "DELETE FROM operator_sessions WHERE id_hash = $1";
pub(super) const INSERT_SESSION: &str = "INSERT INTO operator_sessions
         (id_hash, operator_id, kind, csrf, created_at, last_seen, expires_at)
     VALUES ($1, (SELECT id FROM operators WHERE name = $2), $3, $4, $5, $5, $6)";
pub(super) const SIGNED_IN: &str = "UPDATE operators SET last_sign_in_at = $1 WHERE name = $2";
/// Marks a live session seen: `$1` now, `$2` its id hash, `$3` now − idle limit.
pub(super) const TOUCH_SESSION: &str = "UPDATE operator_sessions SET last_seen = $1
     WHERE id_hash = $2 AND expires_at > $1 AND last_seen > $3";
pub(super) const READ_SESSION: &str = "SELECT o.name, s.kind, s.csrf, s.created_at, s.expires_at
     FROM operator_sessions s LEFT JOIN operators o ON o.id = s.operator_id
     WHERE s.id_hash = $1";
pub(super) const FORGET_OLD_ATTEMPTS: &str = "DELETE FROM login_attempts WHERE at <= $1";
pub(super) const FAILURES_FROM_IP: &str =
    "SELECT COUNT(*) FROM login_attempts WHERE ip_key = $1 AND at > $2";
pub(super) const FAILURES_FOR_ACCOUNT: &str =
    "SELECT COUNT(*) FROM login_attempts WHERE account_key = $1 AND at > $2";
pub(super) const INSERT_ATTEMPT: &str =
    "INSERT INTO login_attempts (at, ip_key, account_key) VALUES ($1, $2, $3) RETURNING id";
/// A sign-in that succeeded: its own row and the account's earlier failures go.
pub(super) const ATTEMPT_SUCCEEDED: &str =
    "DELETE FROM login_attempts WHERE id = $1 OR account_key = $2";

/// One row of [`LIST_OPERATORS`].
pub(super) fn to_operator(
    name: String,
    created_at: i64,
    password_set_at: i64,
    last_sign_in_at: Option<i64>,
    open_sessions: i64,
) -> Operator {
    Operator {
        name,
        created_at: from_ts(created_at),
        password_set_at: from_ts(password_set_at),
        last_sign_in_at: last_sign_in_at.map(from_ts),
        open_sessions,
    }
}

/// Operators by name (sorted here: PostgreSQL's collation would sort `.` and `-` by locale).
pub(super) fn by_name(mut operators: Vec<Operator>) -> Vec<Operator> {
    operators.sort_by(|a, b| a.name.cmp(&b.name));
    operators
}

/// One row of [`READ_SESSION`]; `None` for a row that cannot be a live session (a password
/// session whose operator is gone, an unknown kind).
pub(super) fn to_session(
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
pub(super) fn over_limit(
    from_ip: i64,
    for_account: i64,
    limits: &LoginLimits,
) -> Option<LoginVerdict> {
    if from_ip >= i64::from(limits.per_ip) {
        Some(LoginVerdict::IpLimited)
    } else if for_account >= i64::from(limits.per_account) {
        Some(LoginVerdict::AccountLimited)
    } else {
        None
    }
}

impl Sqlite {
    pub fn add_operator(
        &self,
        name: &OperatorName,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let n = self.conn().execute(
            INSERT_OPERATOR,
            params![name.as_ref(), password_hash, ts(now)],
        )?;
        Ok(n == 1)
    }

    pub fn set_operator_password(
        &self,
        name: &OperatorName,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let id: Option<i64> = tx
            .query_row(
                SET_PASSWORD,
                params![password_hash, ts(now), name.as_ref()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else { return Ok(false) };
        tx.execute(END_SESSIONS_OF, [id])?;
        tx.commit()?;
        Ok(true)
    }

    pub fn remove_operator(&self, name: &OperatorName) -> anyhow::Result<bool> {
        Ok(self.conn().execute(REMOVE_OPERATOR, [name.as_ref()])? > 0)
    }

    pub fn operators(&self, now: DateTime<Utc>, idle: Duration) -> anyhow::Result<Vec<Operator>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(LIST_OPERATORS)?;
        let rows = stmt
            .query_map(params![ts(now), ts(now - idle)], |r| {
                Ok(to_operator(
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(by_name(rows))
    }

    pub fn operator_password_hash(&self, name: &OperatorName) -> anyhow::Result<Option<String>> {
        Ok(self
            .reader()
            .query_row(PASSWORD_HASH, [name.as_ref()], |r| r.get(0))
            .optional()?)
    }

    pub fn create_operator_session(
        &self,
        new: &NewSession<'_>,
        idle: Duration,
    ) -> anyhow::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(PURGE_SESSIONS, params![ts(new.now), ts(new.now - idle)])?;
        if let Some(old) = new.replaces {
            tx.execute(DELETE_SESSION, [old])?;
        }
        let name = new.operator.map(|n| n.as_ref());
        tx.execute(
            INSERT_SESSION,
            params![
                new.id_hash,
                name,
                new.kind.as_str(),
                new.csrf,
                ts(new.now),
                ts(new.expires_at)
            ],
        )?;
        if let Some(name) = name {
            tx.execute(SIGNED_IN, params![ts(new.now), name])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn operator_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> anyhow::Result<Option<OperatorSession>> {
        let conn = self.conn();
        let touched = conn.execute(TOUCH_SESSION, params![ts(now), id_hash, ts(now - idle)])?;
        if touched == 0 {
            return Ok(None);
        }
        let row = conn
            .query_row(READ_SESSION, [id_hash], |r| {
                Ok(to_session(
                    r.get(0)?,
                    &r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })
            .optional()?;
        Ok(row.flatten())
    }

    pub fn delete_operator_session(&self, id_hash: &str) -> anyhow::Result<bool> {
        Ok(self.conn().execute(DELETE_SESSION, [id_hash])? > 0)
    }

    /// Counts the window's failures and records this attempt as one, in one transaction
    /// (SQLite's single writer makes the count-then-insert race-free).
    pub fn record_login_attempt(
        &self,
        ip_key: &str,
        account_key: &str,
        now: DateTime<Utc>,
        limits: &LoginLimits,
    ) -> anyhow::Result<LoginVerdict> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let since = ts(now - limits.window);
        tx.execute(FORGET_OLD_ATTEMPTS, [since])?;
        let from_ip: i64 = tx.query_row(FAILURES_FROM_IP, params![ip_key, since], |r| r.get(0))?;
        let for_account: i64 =
            tx.query_row(FAILURES_FOR_ACCOUNT, params![account_key, since], |r| {
                r.get(0)
            })?;
        if let Some(refused) = over_limit(from_ip, for_account, limits) {
            return Ok(refused);
        }
        let id: i64 = tx.query_row(INSERT_ATTEMPT, params![ts(now), ip_key, account_key], |r| {
            r.get(0)
        })?;
        tx.commit()?;
        Ok(LoginVerdict::Allowed(id))
    }

    pub fn login_succeeded(&self, attempt_id: i64, account_key: &str) -> anyhow::Result<()> {
        self.conn()
            .execute(ATTEMPT_SUCCEEDED, params![attempt_id, account_key])?;
        Ok(())
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
