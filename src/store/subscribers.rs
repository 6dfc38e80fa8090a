//! Subscribers: add, list, find, update, remove; capability tokens; suppressions.
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{Store, constant_time_eq, from_ts, random_token, ts};
use crate::domain::{Frequency, Subscriber, SubscriberEmail, SubscriberStatus, Topics};

/// What is needed to add a subscriber.
#[derive(Debug, Clone)]
pub struct NewSubscriber {
    pub email: SubscriberEmail,
    pub name: Option<String>,
    pub status: SubscriberStatus,
    pub topics: Topics,
    pub frequency: Frequency,
    pub timezone: Option<chrono_tz::Tz>,
    pub send_hour: Option<u8>,
}

impl NewSubscriber {
    pub fn active(email: SubscriberEmail, topics: Topics) -> NewSubscriber {
        NewSubscriber {
            email,
            name: None,
            status: SubscriberStatus::Active,
            topics,
            frequency: Frequency::Weekly,
            timezone: None,
            send_hour: None,
        }
    }
}

/// A change to a subscriber's preferences; `None` fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SubscriberUpdate {
    pub name: Option<Option<String>>,
    pub status: Option<SubscriberStatus>,
    pub topics: Option<Topics>,
    pub frequency: Option<Frequency>,
    pub timezone: Option<Option<chrono_tz::Tz>>,
    pub send_hour: Option<Option<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum AddSubscriberError {
    #[error("{0} is already subscribed")]
    Duplicate(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<rusqlite::Error> for AddSubscriberError {
    fn from(e: rusqlite::Error) -> Self {
        AddSubscriberError::Unexpected(e.into())
    }
}

const COLUMNS: &str =
    "id, email, name, status, topics, frequency, timezone, send_hour, created_at, token";
/// The same columns of a `subscribers s` joined in another query.
pub(super) const COLUMNS_S: &str = "s.id, s.email, s.name, s.status, s.topics, s.frequency, s.timezone, s.send_hour, s.created_at, s.token";

pub(super) fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

fn row_to_subscriber(r: &Row<'_>) -> rusqlite::Result<Subscriber> {
    row_to_subscriber_at(r, 0)
}

/// Reads the [`COLUMNS`] starting at column `at`.
pub(super) fn row_to_subscriber_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Subscriber> {
    let email: String = r.get(at + 1)?;
    let status: String = r.get(at + 3)?;
    let topics: String = r.get(at + 4)?;
    let frequency: String = r.get(at + 5)?;
    let tz: Option<String> = r.get(at + 6)?;
    let bad = |what: &str, e: String| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("stored subscriber {what}: {e}").into(),
        )
    };
    Ok(Subscriber {
        id: r.get(at)?,
        email: SubscriberEmail::parse(&email).map_err(|e| bad("email", e))?,
        name: r.get(at + 2)?,
        status: status.parse().map_err(|e| bad("status", e))?,
        topics: Topics::parse(&topics).map_err(|e| bad("topics", e.to_string()))?,
        frequency: frequency.parse().map_err(|e| bad("frequency", e))?,
        timezone: tz.and_then(|t| t.parse().ok()),
        send_hour: r.get::<_, Option<u8>>(at + 7)?,
        created_at: from_ts(r.get(at + 8)?),
        token_secret: r.get(at + 9)?,
    })
}

impl Store {
    /// Adds a subscriber; an address already known (in any letter case) is refused.
    #[tracing::instrument(name = "Adding a subscriber", skip_all)]
    pub fn add_subscriber(
        &self,
        new: &NewSubscriber,
        now: DateTime<Utc>,
    ) -> Result<Subscriber, AddSubscriberError> {
        let conn = self.conn();
        let key = email_key(new.email.as_ref());
        let result = conn.execute(
            "INSERT INTO subscribers (email, email_key, name, status, topics, frequency, timezone,
                                      send_hour, token, created_at, updated_at, confirmed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)",
            params![
                new.email.as_ref(),
                key,
                new.name,
                new.status.as_str(),
                new.topics.to_string(),
                new.frequency.as_str(),
                new.timezone.map(|t| t.name().to_string()),
                new.send_hour,
                random_token(),
                ts(now),
                (new.status == SubscriberStatus::Active).then(|| ts(now)),
            ],
        );
        match result {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(AddSubscriberError::Duplicate(new.email.to_string()));
            }
            other => other?,
        };
        let id = conn.last_insert_rowid();
        Ok(conn.query_row(
            &format!("SELECT {COLUMNS} FROM subscribers WHERE id = ?1"),
            [id],
            row_to_subscriber,
        )?)
    }

    pub fn subscriber_by_email(&self, email: &str) -> anyhow::Result<Option<Subscriber>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM subscribers WHERE email_key = ?1"),
                [email_key(email)],
                row_to_subscriber,
            )
            .optional()?)
    }

    pub fn subscriber_by_id(&self, id: i64) -> anyhow::Result<Option<Subscriber>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM subscribers WHERE id = ?1"),
                [id],
                row_to_subscriber,
            )
            .optional()?)
    }

    /// Finds the subscriber a public token (`{id}.{secret}`) belongs to, comparing the secret
    /// in constant time. Any malformed or wrong token is simply `None`.
    pub fn subscriber_by_token(&self, token: &str) -> anyhow::Result<Option<Subscriber>> {
        let Some((id, secret)) = token.split_once('.') else {
            return Ok(None);
        };
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        Ok(self
            .subscriber_by_id(id)?
            .filter(|s| constant_time_eq(s.token_secret.as_bytes(), secret.as_bytes())))
    }

    /// All subscribers, optionally only those with `status`, in id order.
    pub fn subscribers(&self, status: Option<SubscriberStatus>) -> anyhow::Result<Vec<Subscriber>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM subscribers WHERE ?1 IS NULL OR status = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([status.map(|s| s.as_str())], row_to_subscriber)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Applies a preferences change; returns the updated subscriber.
    pub fn update_subscriber(
        &self,
        id: i64,
        update: &SubscriberUpdate,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Subscriber>> {
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            if let Some(name) = &update.name {
                tx.execute(
                    "UPDATE subscribers SET name = ?2 WHERE id = ?1",
                    params![id, name],
                )?;
            }
            if let Some(status) = update.status {
                tx.execute(
                    "UPDATE subscribers SET status = ?2,
                        confirmed_at = CASE WHEN ?2 = 'active' THEN COALESCE(confirmed_at, ?3) ELSE confirmed_at END,
                        unsubscribed_at = CASE WHEN ?2 = 'unsubscribed' THEN ?3 ELSE NULL END
                     WHERE id = ?1",
                    params![id, status.as_str(), ts(now)],
                )?;
            }
            if let Some(topics) = &update.topics {
                tx.execute(
                    "UPDATE subscribers SET topics = ?2 WHERE id = ?1",
                    params![id, topics.to_string()],
                )?;
            }
            if let Some(f) = update.frequency {
                tx.execute(
                    "UPDATE subscribers SET frequency = ?2 WHERE id = ?1",
                    params![id, f.as_str()],
                )?;
            }
            if let Some(tz) = &update.timezone {
                tx.execute(
                    "UPDATE subscribers SET timezone = ?2 WHERE id = ?1",
                    params![id, tz.map(|t| t.name().to_string())],
                )?;
            }
            if let Some(h) = &update.send_hour {
                tx.execute(
                    "UPDATE subscribers SET send_hour = ?2 WHERE id = ?1",
                    params![id, h],
                )?;
            }
            tx.execute(
                "UPDATE subscribers SET updated_at = ?2 WHERE id = ?1",
                params![id, ts(now)],
            )?;
            tx.commit()?;
        }
        self.subscriber_by_id(id)
    }

    /// Deletes a subscriber and everything recorded about them (erasure on request). Runs
    /// never call this; unsubscribing only changes the status.
    pub fn delete_subscriber(&self, email: &str) -> anyhow::Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM subscribers WHERE email_key = ?1",
            [email_key(email)],
        )?;
        Ok(n > 0)
    }

    pub fn subscriber_count(&self, status: Option<SubscriberStatus>) -> anyhow::Result<i64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM subscribers WHERE ?1 IS NULL OR status = ?1",
            [status.map(|s| s.as_str())],
            |r| r.get(0),
        )?)
    }

    /// Puts an address on the suppression list (hard bounce); later sends skip it.
    pub fn suppress(&self, email: &str, reason: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
        self.conn().execute(
            "INSERT INTO suppressions (email_key, reason, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (email_key) DO UPDATE SET reason = excluded.reason",
            params![email_key(email), reason, ts(now)],
        )?;
        Ok(())
    }

    pub fn is_suppressed(&self, email: &str) -> anyhow::Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM suppressions WHERE email_key = ?1",
                [email_key(email)],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Why an address is on the suppression list (the SMTP reply that put it there), if it is.
    pub fn suppression_reason(&self, email: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT reason FROM suppressions WHERE email_key = ?1",
                [email_key(email)],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The suppression list: (address, reason).
    pub fn suppressions(&self) -> anyhow::Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT email_key, reason FROM suppressions ORDER BY email_key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn unsuppress(&self, email: &str) -> anyhow::Result<bool> {
        Ok(self.conn().execute(
            "DELETE FROM suppressions WHERE email_key = ?1",
            [email_key(email)],
        )? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(email: &str) -> NewSubscriber {
        NewSubscriber::active(
            SubscriberEmail::parse(email).unwrap(),
            Topics::parse("llm").unwrap(),
        )
    }

    #[test]
    fn a_duplicate_address_is_refused_whatever_its_case() {
        let store = Store::open_in_memory().unwrap();
        store
            .add_subscriber(&new("ada@example.org"), Utc::now())
            .unwrap();
        let err = store
            .add_subscriber(&new("ADA@example.org"), Utc::now())
            .unwrap_err();
        assert!(matches!(err, AddSubscriberError::Duplicate(_)), "{err}");
        assert_eq!(store.subscriber_count(None).unwrap(), 1);
    }

    #[test]
    fn tokens_find_their_subscriber_and_nothing_else() {
        let store = Store::open_in_memory().unwrap();
        let s = store
            .add_subscriber(&new("ada@example.org"), Utc::now())
            .unwrap();
        assert_eq!(s.token_secret.len(), 32);
        let found = store
            .subscriber_by_token(&s.public_token())
            .unwrap()
            .unwrap();
        assert_eq!(found.id, s.id);
        for bad in [
            "",
            "x",
            "1.",
            &format!("{}.{}", s.id, "0".repeat(32)),
            &format!("{}.{}", s.id + 1, s.token_secret),
        ] {
            assert!(store.subscriber_by_token(bad).unwrap().is_none(), "{bad}");
        }
    }

    #[test]
    fn updates_change_only_what_they_name() {
        let store = Store::open_in_memory().unwrap();
        let s = store
            .add_subscriber(&new("ada@example.org"), Utc::now())
            .unwrap();
        let u = SubscriberUpdate {
            status: Some(SubscriberStatus::Paused),
            ..Default::default()
        };
        let s2 = store
            .update_subscriber(s.id, &u, Utc::now())
            .unwrap()
            .unwrap();
        assert_eq!(s2.status, SubscriberStatus::Paused);
        assert_eq!(s2.topics, s.topics);
    }
}
