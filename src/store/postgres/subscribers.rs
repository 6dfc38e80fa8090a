//! PostgreSQL operations of `subscribers` (the SQLite ones are in `../subscribers.rs`).
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::Postgres;
use super::pool::Sql;
use crate::domain::{
    DisplayName, LiftedBy, NewSubscriber, Subscriber, SubscriberStatus, SubscriberUpdate,
    TokenPurpose, UnreadableSubscriber,
};
use crate::store::db::Conn;
use crate::store::subscribers::set_status;
use crate::store::subscribers::{
    COLUMNS, StoredSubscriber, SubscriberRow, check_storable_topics, email_key, readable,
    revoke_sql,
};
use crate::store::{StoreError, random_token, ts};

/// Sets a reader's status inside a transaction; into or out of `unsubscribed` the
/// reader's tokens are revoked (see SQLite's `set_status`: every status change goes through it).
/// Takes an address off the suppression list inside a transaction, keeping why and how
/// (see SQLite's `lift_suppression`). Returns whether it was on the list.
pub(in crate::store) fn lift_suppression(
    tx: &mut impl Sql,
    key: &str,
    by: LiftedBy,
    now: DateTime<Utc>,
) -> Result<bool, tokio_postgres::Error> {
    tx.execute(
        "INSERT INTO suppression_lifts (email_key, reason, suppressed_at, lifted_at, lifted_by)
         SELECT email_key, reason, created_at, $2, $3 FROM suppressions WHERE email_key = $1",
        &[&key, &ts(now), &by.as_str()],
    )?;
    Ok(tx.execute("DELETE FROM suppressions WHERE email_key = $1", &[&key])? > 0)
}

/// Reads the subscriber columns (`COLUMNS`, or `COLUMNS_S` of a join) starting at column
/// `at`; parsing is the one shared with SQLite ([`StoredSubscriber::parse`]). PostgreSQL
/// text is always valid UTF-8, so only the values themselves can make a row unreadable.
pub(in crate::store) fn row_to_subscriber_at(
    r: &Row,
    at: usize,
) -> Result<SubscriberRow, tokio_postgres::Error> {
    let text = |i: usize| -> Result<_, tokio_postgres::Error> {
        Ok(r.try_get::<_, Option<String>>(at + i)?.map(Ok))
    };
    Ok(StoredSubscriber {
        id: r.try_get(at)?,
        email: text(1)?,
        name: text(2)?,
        status: text(3)?,
        topics: text(4)?,
        frequency: text(5)?,
        timezone: text(6)?,
        send_hour: r.try_get(at + 7)?,
        created_at: r.try_get(at + 8)?,
        token_salt: text(9)?,
        legacy_token_hash: text(10)?,
        generations: [
            r.try_get(at + 11)?,
            r.try_get(at + 12)?,
            r.try_get(at + 13)?,
        ],
        revoked_at: [
            r.try_get(at + 14)?,
            r.try_get(at + 15)?,
            r.try_get(at + 16)?,
        ],
    }
    .parse())
}

/// `SELECT` the subscriber columns `WHERE cond` (a constant: the text is the statement's
/// cache key).
fn select_where(cond: &str) -> String {
    format!("SELECT {COLUMNS} FROM subscribers WHERE {cond}")
}

impl Postgres {
    /// Race-free across processes: `ON CONFLICT (email_key) DO NOTHING` lets exactly one of
    /// two concurrent adds of the same address insert; the other gets no row back and
    /// reports the same Conflict as SQLite.
    pub(in crate::store) fn add_subscriber(
        &self,
        new: &NewSubscriber,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Subscriber> {
        check_storable_topics(&new.topics).map_err(|reason| StoreError::Invalid {
            op: "add_subscriber",
            reason,
        })?;
        let key = email_key(new.email.as_ref());
        let row = self.conn()?.query_opt(
            &format!(
                "INSERT INTO subscribers (email, email_key, name, status, topics, frequency,
                                          timezone, send_hour, token_salt, created_at, updated_at,
                                          confirmed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)
                 ON CONFLICT (email_key) DO NOTHING
                 RETURNING {COLUMNS}"
            ),
            &[
                &new.email.as_ref(),
                &key,
                &new.name.as_ref().map(DisplayName::as_str),
                &new.status.as_str(),
                &new.topics.to_string(),
                &new.frequency.as_str(),
                &new.timezone.map(|t| t.name().to_string()),
                &new.send_hour.map(i64::from),
                &random_token(),
                &ts(now),
                &(new.status == SubscriberStatus::Active).then(|| ts(now)),
            ],
        )?;
        let Some(row) = row else {
            return Err(StoreError::Conflict {
                op: "add_subscriber",
                what: format!("the subscriber {}", new.email),
            }
            .into());
        };
        row_to_subscriber_at(&row, 0)?.map_err(|u| {
            StoreError::Corrupt {
                op: "add_subscriber",
                table: "subscribers".into(),
                key: format!("id {}", u.id),
                reason: u.reason,
            }
            .into()
        })
    }

    pub(in crate::store) fn subscriber_by_email(
        &self,
        email: &str,
    ) -> anyhow::Result<Option<Subscriber>> {
        let row = self
            .conn()?
            .query_opt(&select_where("email_key = $1"), &[&email_key(email)])?;
        Ok(readable(
            row.map(|r| row_to_subscriber_at(&r, 0)).transpose()?,
        ))
    }

    pub(in crate::store) fn subscriber_by_id(&self, id: i64) -> anyhow::Result<Option<Subscriber>> {
        let row = self.conn()?.query_opt(&select_where("id = $1"), &[&id])?;
        Ok(readable(
            row.map(|r| row_to_subscriber_at(&r, 0)).transpose()?,
        ))
    }

    /// As on SQLite ([`revoke_sql`]).
    pub(in crate::store) fn revoke_tokens(
        &self,
        id: i64,
        purposes: &[TokenPurpose],
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Subscriber>> {
        self.conn()?
            .execute(&revoke_sql(purposes, "$1", "$2::bigint"), &[&id, &ts(now)])?;
        self.subscriber_by_id(id)
    }

    pub(in crate::store) fn subscribers(
        &self,
        status: Option<SubscriberStatus>,
    ) -> anyhow::Result<Vec<Subscriber>> {
        let (good, bad) = self.subscribers_checked(status)?;
        for u in &bad {
            u.warn();
        }
        Ok(good)
    }

    pub(in crate::store) fn subscribers_checked(
        &self,
        status: Option<SubscriberStatus>,
    ) -> anyhow::Result<(Vec<Subscriber>, Vec<UnreadableSubscriber>)> {
        let rows = self.conn()?.query(
            &select_where("$1::text IS NULL OR status = $1::text ORDER BY id"),
            &[&status.map(|s| s.as_str())],
        )?;
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        for row in &rows {
            match row_to_subscriber_at(row, 0)? {
                Ok(s) => good.push(s),
                Err(u) => bad.push(u),
            }
        }
        Ok((good, bad))
    }

    /// One transaction of single-row UPDATEs, as on SQLite. Under READ COMMITTED the first
    /// UPDATE locks the row until commit, so two concurrent changes of one reader apply one
    /// after the other; the revocation compares the row's current status in its own
    /// statement (re-read once the lock is held), so it cannot act on a stale read.
    pub(in crate::store) fn update_subscriber(
        &self,
        id: i64,
        update: &SubscriberUpdate,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Subscriber>> {
        if let Some(t) = &update.topics {
            check_storable_topics(t).map_err(anyhow::Error::msg)?;
        }
        {
            let mut conn = self.conn()?;
            let mut tx = conn.transaction()?;
            if let Some(name) = &update.name {
                tx.execute(
                    "UPDATE subscribers SET name = $2 WHERE id = $1",
                    &[&id, &name.as_ref().map(DisplayName::as_str)],
                )?;
            }
            if let Some(status) = update.status {
                set_status(&mut Conn::Postgres(&mut tx), id, status, now)?;
            }
            if let Some(topics) = &update.topics {
                tx.execute(
                    "UPDATE subscribers SET topics = $2 WHERE id = $1",
                    &[&id, &topics.to_string()],
                )?;
            }
            if let Some(f) = update.frequency {
                tx.execute(
                    "UPDATE subscribers SET frequency = $2 WHERE id = $1",
                    &[&id, &f.as_str()],
                )?;
            }
            if let Some(tz) = &update.timezone {
                tx.execute(
                    "UPDATE subscribers SET timezone = $2 WHERE id = $1",
                    &[&id, &tz.map(|t| t.name().to_string())],
                )?;
            }
            if let Some(h) = &update.send_hour {
                tx.execute(
                    "UPDATE subscribers SET send_hour = $2 WHERE id = $1",
                    &[&id, &h.map(i64::from)],
                )?;
            }
            tx.execute(
                "UPDATE subscribers SET updated_at = $2 WHERE id = $1",
                &[&id, &ts(now)],
            )?;
            tx.commit()?;
        }
        self.subscriber_by_id(id)
    }

    pub(in crate::store) fn delete_subscriber(&self, email: &str) -> anyhow::Result<bool> {
        let n = self.conn()?.execute(
            "DELETE FROM subscribers WHERE email_key = $1",
            &[&email_key(email)],
        )?;
        Ok(n > 0)
    }

    pub(in crate::store) fn subscriber_count(
        &self,
        status: Option<SubscriberStatus>,
    ) -> anyhow::Result<i64> {
        Ok(self
            .conn()?
            .query_one(
                "SELECT COUNT(*) FROM subscribers WHERE $1::text IS NULL OR status = $1::text",
                &[&status.map(|s| s.as_str())],
            )?
            .get(0))
    }

    /// One upsert: concurrent suppressions of one address leave one row (the last reason).
    pub(in crate::store) fn suppress(
        &self,
        email: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        self.conn()?.execute(
            "INSERT INTO suppressions (email_key, reason, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (email_key) DO UPDATE SET reason = excluded.reason",
            &[&email_key(email), &reason, &ts(now)],
        )?;
        Ok(())
    }

    pub(in crate::store) fn is_suppressed(&self, email: &str) -> anyhow::Result<bool> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT 1 FROM suppressions WHERE email_key = $1",
                &[&email_key(email)],
            )?
            .is_some())
    }

    pub(in crate::store) fn suppression_reason(
        &self,
        email: &str,
    ) -> anyhow::Result<Option<String>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT reason FROM suppressions WHERE email_key = $1",
                &[&email_key(email)],
            )?
            .map(|r| r.get(0)))
    }

    pub(in crate::store) fn suppressions(&self) -> anyhow::Result<Vec<(String, String)>> {
        Ok(self
            .conn()?
            .query(
                // COLLATE "C": byte order, as SQLite's BINARY sorts.
                r#"SELECT email_key, reason FROM suppressions ORDER BY email_key COLLATE "C""#,
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    pub(in crate::store) fn unsuppress(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let lifted = lift_suppression(&mut tx, &email_key(email), LiftedBy::Operator, now)?;
        tx.commit()?;
        Ok(lifted)
    }
}
