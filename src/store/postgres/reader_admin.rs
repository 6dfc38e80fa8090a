//! PostgreSQL operations of `reader_admin` (the SQLite ones are in `../reader_admin.rs`).
use super::Postgres;
use super::pool::Sql;
use crate::domain::{LastDigest, SubscriberDates, Suppression, SuppressionLift};
use crate::store::from_ts;
use crate::store::reader_admin::{last_digest_from, lift_from};
use crate::store::subscribers::email_key;

impl Postgres {
    pub(in crate::store) fn subscriber_dates(
        &self,
        id: i64,
    ) -> anyhow::Result<Option<SubscriberDates>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT created_at, updated_at, confirmed_at, unsubscribed_at
                 FROM subscribers WHERE id = $1",
                &[&id],
            )?
            .map(|r| SubscriberDates {
                created_at: from_ts(r.get(0)),
                updated_at: from_ts(r.get(1)),
                confirmed_at: r.get::<_, Option<i64>>(2).map(from_ts),
                unsubscribed_at: r.get::<_, Option<i64>>(3).map(from_ts),
            }))
    }

    /// The reader's newest delivery that was not an empty (skipped) digest.
    pub(in crate::store) fn last_digest(
        &self,
        subscriber_id: i64,
    ) -> anyhow::Result<Option<LastDigest>> {
        let Some(r) = self.conn()?.query_opt(
            "SELECT e.period_key, d.state, d.picks, d.created_at, d.sent_at, d.last_error
             FROM deliveries d JOIN editions e ON e.id = d.edition_id
             WHERE d.subscriber_id = $1 AND d.state <> 'skipped'
             ORDER BY d.created_at DESC, d.id DESC LIMIT 1",
            &[&subscriber_id],
        )?
        else {
            return Ok(None);
        };
        last_digest_from(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)).map(Some)
    }

    pub(in crate::store) fn suppression(&self, email: &str) -> anyhow::Result<Option<Suppression>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT reason, created_at FROM suppressions WHERE email_key = $1",
                &[&email_key(email)],
            )?
            .map(|r| Suppression {
                reason: r.get(0),
                since: from_ts(r.get(1)),
            }))
    }

    pub(in crate::store) fn suppression_lifts(
        &self,
        email: &str,
    ) -> anyhow::Result<Vec<SuppressionLift>> {
        self.conn()?
            .query(
                "SELECT reason, suppressed_at, lifted_at, lifted_by FROM suppression_lifts
                 WHERE email_key = $1 ORDER BY lifted_at DESC, id DESC",
                &[&email_key(email)],
            )?
            .iter()
            .map(|r| lift_from(r.get(0), r.get(1), r.get(2), r.get::<_, &str>(3)))
            .collect()
    }
}
