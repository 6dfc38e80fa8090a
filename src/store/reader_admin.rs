//! What `paperpost subscribers show` tells about one reader: their record's dates, their
//! last digest and whether their address is suppressed (and why).
use super::error::DbError;
use super::subscribers::email_key;
use super::{Store, StoreError, from_ts};
use crate::domain::{LastDigest, LiftedBy, SubscriberDates, Suppression, SuppressionLift};

impl Store {
    /// When the reader's record was created, last changed, confirmed and unsubscribed.
    pub fn subscriber_dates(&self, id: i64) -> Result<Option<SubscriberDates>, StoreError> {
        self.write("subscriber_dates", |c| {
            c.query_opt(
                "SELECT created_at, updated_at, confirmed_at, unsubscribed_at
                 FROM subscribers WHERE id = $1",
                &[&id],
                |r| {
                    Ok(SubscriberDates {
                        created_at: from_ts(r.get(0)?),
                        updated_at: from_ts(r.get(1)?),
                        confirmed_at: r.get::<Option<i64>>(2)?.map(from_ts),
                        unsubscribed_at: r.get::<Option<i64>>(3)?.map(from_ts),
                    })
                },
            )
        })
    }

    /// The reader's newest delivery that was not an empty (skipped) digest. Its papers are
    /// counted in the picks JSON (unreadable picks count as none).
    pub fn last_digest(&self, subscriber_id: i64) -> Result<Option<LastDigest>, StoreError> {
        self.read("last_digest", |c| {
            c.query_opt(
                "SELECT e.period_key, d.state, d.picks, d.created_at, d.sent_at, d.last_error
                 FROM deliveries d JOIN editions e ON e.id = d.edition_id
                 WHERE d.subscriber_id = $1 AND d.state <> 'skipped'
                 ORDER BY d.created_at DESC, d.id DESC LIMIT 1",
                &[&subscriber_id],
                |r| {
                    let papers =
                        serde_json::from_str::<Vec<serde_json::Value>>(&r.get::<String>(2)?)
                            .map(|v| v.len())
                            .unwrap_or(0);
                    Ok(LastDigest {
                        period_key: r.get(0)?,
                        state: r.get::<String>(1)?.parse().map_err(DbError::msg)?,
                        papers,
                        planned_at: from_ts(r.get(3)?),
                        sent_at: r.get::<Option<i64>>(4)?.map(from_ts),
                        last_error: r.get(5)?,
                    })
                },
            )
        })
    }

    /// The address's suppression, if it is on the list.
    pub fn suppression(&self, email: &str) -> Result<Option<Suppression>, StoreError> {
        self.read("suppression", |c| {
            c.query_opt(
                "SELECT reason, created_at FROM suppressions WHERE email_key = $1",
                &[&email_key(email)],
                |r| {
                    Ok(Suppression {
                        reason: r.get(0)?,
                        since: from_ts(r.get(1)?),
                    })
                },
            )
        })
    }

    /// The suppressions of this address that were lifted, newest first.
    pub fn suppression_lifts(&self, email: &str) -> Result<Vec<SuppressionLift>, StoreError> {
        self.read("suppression_lifts", |c| {
            c.query(
                "SELECT reason, suppressed_at, lifted_at, lifted_by FROM suppression_lifts
                 WHERE email_key = $1 ORDER BY lifted_at DESC, id DESC",
                &[&email_key(email)],
                |r| {
                    let lifted_by: String = r.get(3)?;
                    Ok(SuppressionLift {
                        reason: r.get(0)?,
                        suppressed_at: from_ts(r.get(1)?),
                        lifted_at: from_ts(r.get(2)?),
                        lifted_by: LiftedBy::parse(&lifted_by).ok_or_else(|| {
                            DbError::msg(format!(
                                "unknown lifted_by {lifted_by:?} in suppression_lifts"
                            ))
                        })?,
                    })
                },
            )
        })
    }
}
