//! PostgreSQL operations of `operators` (the statements and the SQLite side are in
//! `../operators.rs`; only the locking differs).
use chrono::{DateTime, Duration, Utc};

use super::Postgres;
use super::attempts::lock_keys;
use super::pool::Sql;
use crate::domain::{
    LoginLimits, LoginVerdict, NewSession, Operator, OperatorName, OperatorSession,
};
use crate::store::operators::*;
use crate::store::ts;

/// The advisory-lock classes (first key of `pg_advisory_xact_lock(int, int)`) that
/// serialise sign-in attempts from one IP and for one account name.
const LOCK_IP: i32 = 0x5050_4c49; // "PPLI"
const LOCK_ACCOUNT: i32 = 0x5050_4c41; // "PPLA"

impl Postgres {
    pub(in crate::store) fn add_operator(
        &self,
        name: &OperatorName,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let n = self
            .conn()?
            .execute(INSERT_OPERATOR, &[&name.as_ref(), &password_hash, &ts(now)])?;
        Ok(n == 1)
    }

    pub(in crate::store) fn set_operator_password(
        &self,
        name: &OperatorName,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let Some(row) = tx.query_opt(SET_PASSWORD, &[&password_hash, &ts(now), &name.as_ref()])?
        else {
            return Ok(false);
        };
        let id: i64 = row.get(0);
        tx.execute(END_SESSIONS_OF, &[&id])?;
        tx.commit()?;
        Ok(true)
    }

    pub(in crate::store) fn remove_operator(&self, name: &OperatorName) -> anyhow::Result<bool> {
        Ok(self.conn()?.execute(REMOVE_OPERATOR, &[&name.as_ref()])? > 0)
    }

    pub(in crate::store) fn operators(
        &self,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> anyhow::Result<Vec<Operator>> {
        let rows = self
            .conn()?
            .query(LIST_OPERATORS, &[&ts(now), &ts(now - idle)])?;
        Ok(by_name(
            rows.iter()
                .map(|r| to_operator(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
                .collect(),
        ))
    }

    pub(in crate::store) fn operator_password_hash(
        &self,
        name: &OperatorName,
    ) -> anyhow::Result<Option<String>> {
        Ok(self
            .conn()?
            .query_opt(PASSWORD_HASH, &[&name.as_ref()])?
            .map(|r| r.get(0)))
    }

    pub(in crate::store) fn create_operator_session(
        &self,
        new: &NewSession<'_>,
        idle: Duration,
    ) -> anyhow::Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(PURGE_SESSIONS, &[&ts(new.now), &ts(new.now - idle)])?;
        if let Some(old) = new.replaces {
            tx.execute(DELETE_SESSION, &[&old])?;
        }
        let name = new.operator.map(|n| n.as_ref());
        tx.execute(
            INSERT_SESSION,
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
            tx.execute(SIGNED_IN, &[&ts(new.now), &name])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(in crate::store) fn operator_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> anyhow::Result<Option<OperatorSession>> {
        let mut conn = self.conn()?;
        if conn.execute(TOUCH_SESSION, &[&ts(now), &id_hash, &ts(now - idle)])? == 0 {
            return Ok(None);
        }
        Ok(conn
            .query_opt(READ_SESSION, &[&id_hash])?
            .and_then(|r| to_session(r.get(0), r.get::<_, &str>(1), r.get(2), r.get(3), r.get(4))))
    }

    pub(in crate::store) fn delete_operator_session(&self, id_hash: &str) -> anyhow::Result<bool> {
        Ok(self.conn()?.execute(DELETE_SESSION, &[&id_hash])? > 0)
    }

    /// Counts and records one attempt in one transaction. Several web instances sign in at
    /// once, so the transaction first takes transaction-scoped advisory locks on its IP key,
    /// then on its account key (always in that order: no deadlock), as the sign-up limits
    /// do: a concurrent attempt sharing either key waits for this one's row, then counts it.
    pub(in crate::store) fn record_login_attempt(
        &self,
        ip_key: &str,
        account_key: &str,
        now: DateTime<Utc>,
        limits: &LoginLimits,
    ) -> anyhow::Result<LoginVerdict> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        lock_keys(&mut tx, &[(LOCK_IP, ip_key), (LOCK_ACCOUNT, account_key)])?;
        let since = ts(now - limits.window);
        tx.execute(FORGET_OLD_ATTEMPTS, &[&since])?;
        let from_ip: i64 = tx.query_one(FAILURES_FROM_IP, &[&ip_key, &since])?.get(0);
        let for_account: i64 = tx
            .query_one(FAILURES_FOR_ACCOUNT, &[&account_key, &since])?
            .get(0);
        if let Some(refused) = over_limit(from_ip, for_account, limits) {
            return Ok(refused);
        }
        let id: i64 = tx
            .query_one(INSERT_ATTEMPT, &[&ts(now), &ip_key, &account_key])?
            .get(0);
        tx.commit()?;
        Ok(LoginVerdict::Allowed(id))
    }

    pub(in crate::store) fn login_succeeded(
        &self,
        attempt_id: i64,
        account_key: &str,
    ) -> anyhow::Result<()> {
        self.conn()?
            .execute(ATTEMPT_SUCCEEDED, &[&attempt_id, &account_key])?;
        Ok(())
    }
}
