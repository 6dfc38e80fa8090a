//! What `paperpost subscribers show` tells about one reader: their record's dates, their
//! last digest and whether their address is suppressed (and why).
use rusqlite::OptionalExtension;

use super::subscribers::email_key;
use super::{Sqlite, from_ts};
use crate::domain::{LastDigest, LiftedBy, SubscriberDates, Suppression, SuppressionLift};

/// A [`LastDigest`] from its stored values (both backends): the papers are counted in the
/// picks JSON (unreadable picks count as none).
pub(super) fn last_digest_from(
    period_key: String,
    state: &str,
    picks: &str,
    planned: i64,
    sent: Option<i64>,
    last_error: Option<String>,
) -> anyhow::Result<LastDigest> {
    let papers = serde_json::from_str::<Vec<serde_json::Value>>(picks)
        .map(|v| v.len())
        .unwrap_or(0);
    Ok(LastDigest {
        period_key,
        state: state.parse().map_err(anyhow::Error::msg)?,
        papers,
        planned_at: from_ts(planned),
        sent_at: sent.map(from_ts),
        last_error,
    })
}

impl Sqlite {
    pub fn subscriber_dates(&self, id: i64) -> anyhow::Result<Option<SubscriberDates>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT created_at, updated_at, confirmed_at, unsubscribed_at
                 FROM subscribers WHERE id = ?1",
                [id],
                |r| {
                    Ok(SubscriberDates {
                        created_at: from_ts(r.get(0)?),
                        updated_at: from_ts(r.get(1)?),
                        confirmed_at: r.get::<_, Option<i64>>(2)?.map(from_ts),
                        unsubscribed_at: r.get::<_, Option<i64>>(3)?.map(from_ts),
                    })
                },
            )
            .optional()?)
    }

    /// The reader's newest delivery that was not an empty (skipped) digest.
    pub fn last_digest(&self, subscriber_id: i64) -> anyhow::Result<Option<LastDigest>> {
        let row = self
            .reader()
            .query_row(
                "SELECT e.period_key, d.state, d.picks, d.created_at, d.sent_at, d.last_error
                 FROM deliveries d JOIN editions e ON e.id = d.edition_id
                 WHERE d.subscriber_id = ?1 AND d.state != 'skipped'
                 ORDER BY d.created_at DESC, d.id DESC LIMIT 1",
                [subscriber_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((period_key, state, picks, planned, sent, last_error)) = row else {
            return Ok(None);
        };
        last_digest_from(period_key, &state, &picks, planned, sent, last_error).map(Some)
    }

    /// The address's suppression, if it is on the list.
    pub fn suppression(&self, email: &str) -> anyhow::Result<Option<Suppression>> {
        Ok(self
            .reader()
            .query_row(
                "SELECT reason, created_at FROM suppressions WHERE email_key = ?1",
                [email_key(email)],
                |r| {
                    Ok(Suppression {
                        reason: r.get(0)?,
                        since: from_ts(r.get(1)?),
                    })
                },
            )
            .optional()?)
    }

    pub fn suppression_lifts(&self, email: &str) -> anyhow::Result<Vec<SuppressionLift>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT reason, suppressed_at, lifted_at, lifted_by FROM suppression_lifts
             WHERE email_key = ?1 ORDER BY lifted_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([email_key(email)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut lifts = Vec::new();
        for row in rows {
            let (reason, suppressed_at, lifted_at, by) = row?;
            lifts.push(lift_from(reason, suppressed_at, lifted_at, &by)?);
        }
        Ok(lifts)
    }
}

/// A [`SuppressionLift`] from its stored values (both backends).
pub(super) fn lift_from(
    reason: String,
    suppressed_at: i64,
    lifted_at: i64,
    lifted_by: &str,
) -> anyhow::Result<SuppressionLift> {
    Ok(SuppressionLift {
        reason,
        suppressed_at: from_ts(suppressed_at),
        lifted_at: from_ts(lifted_at),
        lifted_by: LiftedBy::parse(lifted_by).ok_or_else(|| {
            anyhow::anyhow!("unknown lifted_by {lifted_by:?} in suppression_lifts")
        })?,
    })
}
