//! PostgreSQL operations of `confirmations` (the SQLite ones are in `../confirmations.rs`;
//! the token format, hashing and verdicts are shared from there).
use chrono::{DateTime, Duration, Utc};

use super::Postgres;
use super::pool::Sql;
use super::subscribers::lift_suppression;
use crate::domain::{Confirmation, LiftedBy};
use crate::store::confirmations::{check_token, hash, outcome, parse_token};
use crate::store::{random_token, ts};

impl Postgres {
    /// Issues a token. The subscriber's row is locked (`FOR UPDATE`) first, as a confirm
    /// does: every token operation of one reader runs one at a time, so the older open
    /// tokens spent here cannot be used by a confirm racing with this.
    pub(in crate::store) fn create_confirmation(
        &self,
        subscriber_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        let secret = random_token();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.query_opt(
            "SELECT 1 FROM subscribers WHERE id = $1 FOR UPDATE",
            &[&subscriber_id],
        )?;
        tx.execute(
            "UPDATE confirmations SET used_at = $2 WHERE subscriber_id = $1 AND used_at IS NULL",
            &[&subscriber_id, &ts(now)],
        )?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO confirmations (subscriber_id, secret_hash, created_at, expires_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[&subscriber_id, &hash(&secret), &ts(now), &ts(now + ttl)],
            )?
            .get(0);
        // Old tokens are worthless a week after they expired: keep the table small.
        tx.execute(
            "DELETE FROM confirmations WHERE expires_at < $1",
            &[&ts(now - Duration::days(7))],
        )?;
        tx.commit()?;
        Ok(format!("{id}.{secret}"))
    }

    pub(in crate::store) fn confirm_subscriber(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Confirmation> {
        self.use_confirmation(token, now, true)
    }

    pub(in crate::store) fn confirmation_state(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Confirmation> {
        self.use_confirmation(token, now, false)
    }

    /// Single use across processes: before reading the token, a confirm locks its
    /// subscriber's row (`SELECT … FOR UPDATE`), and under READ COMMITTED the token is read
    /// after the lock is held. Of two concurrent confirms of one token the second waits for
    /// the first to commit, then sees the token spent: one `Confirmed`, one `AlreadyUsed`.
    /// Locking the subscriber rather than the token row also orders a confirm against
    /// [`Postgres::create_confirmation`] and against a confirm of another of the reader's
    /// tokens, which spends this one too (no deadlock: one lock per operation).
    fn use_confirmation(
        &self,
        token: &str,
        now: DateTime<Utc>,
        apply: bool,
    ) -> anyhow::Result<Confirmation> {
        let Some((id, secret)) = parse_token(token) else {
            return Ok(Confirmation::Invalid);
        };
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        if apply {
            tx.query_opt(
                "SELECT 1 FROM subscribers WHERE id = (SELECT subscriber_id FROM confirmations WHERE id = $1)
                 FOR UPDATE",
                &[&id],
            )?;
        }
        let Some(row) = tx.query_opt(
            "SELECT subscriber_id, secret_hash, expires_at, used_at FROM confirmations WHERE id = $1",
            &[&id],
        )?
        else {
            return Ok(Confirmation::Invalid);
        };
        let subscriber_id: i64 = row.get(0);
        let used = match check_token(row.get(1), secret, row.get(2), row.get(3), now) {
            Ok(used) => used,
            Err(refused) => return Ok(refused.into()),
        };
        if !used && apply {
            tx.execute(
                "UPDATE confirmations SET used_at = $2 WHERE subscriber_id = $1 AND used_at IS NULL",
                &[&subscriber_id, &ts(now)],
            )?;
            tx.execute(
                "UPDATE subscribers SET status = 'active', confirmed_at = COALESCE(confirmed_at, $2),
                        unsubscribed_at = NULL, updated_at = $2
                 WHERE id = $1 AND status = 'pending'",
                &[&subscriber_id, &ts(now)],
            )?;
            // The reader clicked a link mailed to the address: it takes mail again.
            if let Some(r) = tx.query_opt(
                "SELECT email_key FROM subscribers WHERE id = $1",
                &[&subscriber_id],
            )? {
                lift_suppression(&mut tx, r.get(0), LiftedBy::Reconfirmed, now)?;
            }
        }
        tx.commit()?;
        // Read back through the subscribers operation (one row parser for the backend);
        // the reader's row is no longer locked, as in SQLite once the write commits.
        Ok(outcome(self.subscriber_by_id(subscriber_id)?, used, apply))
    }
}
