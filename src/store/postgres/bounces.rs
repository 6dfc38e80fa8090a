//! PostgreSQL operations of `bounces` (the SQLite ones are in `../bounces.rs`).
use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::Postgres;
use super::pool::Sql;
use super::subscribers::set_status;
use crate::domain::{
    BounceApplied, BounceEvent, BounceKind, BounceRecord, BounceTarget, EditionBounces, SoftPolicy,
    SubscriberStatus, UnverifiedReport, UnverifiedReports,
};
use crate::store::bounces::{stored_message_id, suppression_reason};
use crate::store::subscribers::email_key;
use crate::store::{from_ts, ts};

const TARGET_SELECT: &str = "SELECT s.email, d.id, d.edition_id, e.period_key, d.message_id
     FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
     JOIN editions e ON e.id = d.edition_id";

/// The advisory-lock class (first key of `pg_advisory_xact_lock(int, int)`) that
/// serialises counting one address's soft bounces.
const LOCK_SOFT: i32 = 0x5050_5342; // "PPSB"

fn row_to_target(r: &Row) -> (BounceTarget, String) {
    (
        BounceTarget {
            email: r.get(0),
            delivery_id: Some(r.get(1)),
            edition_id: Some(r.get(2)),
            period_key: Some(r.get(3)),
        },
        r.get(4),
    )
}

/// Records that the message `hash` was ingested (see SQLite's `first_ingestion`); `false`
/// when it was before. A concurrent ingestion of the same message waits on the unique key.
fn first_ingestion(
    tx: &mut impl Sql,
    hash: &str,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<bool, tokio_postgres::Error> {
    Ok(tx.execute(
        "INSERT INTO bounce_messages (hash, outcome, ingested_at) VALUES ($1, $2, $3)
         ON CONFLICT (hash) DO NOTHING",
        &[&hash, &outcome, &ts(now)],
    )? > 0)
}

impl Postgres {
    pub(in crate::store) fn bounce_target_by_token(
        &self,
        id: i64,
        check: &str,
    ) -> anyhow::Result<Option<BounceTarget>> {
        let row = self
            .conn()?
            .query_opt(&format!("{TARGET_SELECT} WHERE d.id = $1"), &[&id])?;
        Ok(row
            .map(|r| row_to_target(&r))
            .filter(|(_, mid)| crate::delivery::verp::token_matches(check, mid))
            .map(|(t, _)| t))
    }

    pub(in crate::store) fn bounce_target_by_message_id(
        &self,
        message_id: &str,
    ) -> anyhow::Result<Option<BounceTarget>> {
        let Some(stored) = stored_message_id(message_id) else {
            return Ok(None);
        };
        Ok(self
            .conn()?
            .query_opt(
                &format!("{TARGET_SELECT} WHERE d.message_id = $1 ORDER BY d.id LIMIT 1"),
                &[&stored],
            )?
            .map(|r| row_to_target(&r).0))
    }

    pub(in crate::store) fn bounce_target_by_address(
        &self,
        email: &str,
    ) -> anyhow::Result<Option<BounceTarget>> {
        let key = email_key(email);
        let mut conn = self.conn()?;
        let latest = conn.query_opt(
            &format!(
                "{TARGET_SELECT} WHERE s.email_key = $1 AND d.state IN ('sent', 'unknown')
                 ORDER BY COALESCE(d.sent_at, d.updated_at) DESC, d.id DESC LIMIT 1"
            ),
            &[&key],
        )?;
        if let Some(r) = latest {
            return Ok(Some(row_to_target(&r).0));
        }
        Ok(conn
            .query_opt(
                "SELECT email FROM subscribers WHERE email_key = $1",
                &[&key],
            )?
            .map(|r| BounceTarget {
                email: r.get(0),
                delivery_id: None,
                edition_id: None,
                period_key: None,
            }))
    }

    /// Records a report and applies its event in one transaction. Race-free across
    /// processes: the report's row is inserted first with `ON CONFLICT DO NOTHING`, so a
    /// second ingestion of the same message (even concurrent: it waits on the unique key)
    /// inserts nothing and changes nothing; a soft bounce takes a transaction-scoped
    /// advisory lock on its address before counting, so two soft bounces of one address
    /// ingested at once count each other; the suppression is an `ON CONFLICT DO NOTHING`
    /// insert and the unsubscription a conditional update.
    pub(in crate::store) fn record_bounce_message(
        &self,
        hash: &str,
        outcome: &str,
        event: Option<&BounceEvent>,
        soft: SoftPolicy,
        now: DateTime<Utc>,
    ) -> anyhow::Result<BounceApplied> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        if !first_ingestion(&mut tx, hash, outcome, now)? {
            return Ok(BounceApplied::duplicate());
        }
        let mut applied = BounceApplied::default();
        if let Some(ev) = event {
            let key = email_key(&ev.target.email);
            if ev.kind == BounceKind::Soft {
                tx.execute(
                    "SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))",
                    &[&LOCK_SOFT, &key],
                )?;
            }
            tx.execute(
                "INSERT INTO bounces (message_hash, kind, email_key, delivery_id, edition_id, status, reason, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &hash,
                    &ev.kind.as_str(),
                    &key,
                    &ev.target.delivery_id,
                    &ev.target.edition_id,
                    &ev.status,
                    &ev.reason,
                    &ts(ev.at),
                ],
            )?;
            let soft_count: i64 = match ev.kind {
                BounceKind::Complaint => {
                    // Through the one status change there is (the token changes).
                    let reader = tx.query_opt(
                        "SELECT id FROM subscribers WHERE email_key = $1 AND status <> 'unsubscribed'",
                        &[&key],
                    )?;
                    if let Some(r) = reader {
                        applied.unsubscribed =
                            set_status(&mut tx, r.get(0), SubscriberStatus::Unsubscribed, now)? > 0;
                    }
                    0
                }
                BounceKind::Hard => 0,
                BounceKind::Soft => tx
                    .query_one(
                        "SELECT COUNT(*) FROM bounces WHERE email_key = $1 AND kind = 'soft'
                         AND at > $2 AND at <= $3",
                        &[&key, &ts(ev.at - soft.window), &ts(ev.at)],
                    )?
                    .get(0),
            };
            if let Some(reason) = suppression_reason(ev, soft, soft_count) {
                applied.suppressed = tx.execute(
                    "INSERT INTO suppressions (email_key, reason, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (email_key) DO NOTHING",
                    &[&key, &reason, &ts(now)],
                )? > 0;
            }
        }
        tx.commit()?;
        Ok(applied)
    }

    pub(in crate::store) fn record_unverified_bounce(
        &self,
        hash: &str,
        report: &UnverifiedReport,
        now: DateTime<Utc>,
    ) -> anyhow::Result<BounceApplied> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        if !first_ingestion(&mut tx, hash, "unverified", now)? {
            return Ok(BounceApplied::duplicate());
        }
        tx.execute(
            "INSERT INTO unverified_reports (message_hash, kind, email_key, reason, why, at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &hash,
                &report.kind,
                &email_key(&report.email),
                &report.reason,
                &report.why,
                &ts(report.at),
            ],
        )?;
        tx.commit()?;
        Ok(BounceApplied::default())
    }

    pub(in crate::store) fn unverified_bounces(
        &self,
        limit: usize,
    ) -> anyhow::Result<UnverifiedReports> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut conn = self.conn()?;
        let total = conn
            .query_one("SELECT COUNT(*) FROM unverified_reports", &[])?
            .get(0);
        let latest = conn
            .query(
                "SELECT kind, email_key, reason, why, at FROM unverified_reports
                 ORDER BY at DESC, id DESC LIMIT $1",
                &[&limit],
            )?
            .iter()
            .map(|r| UnverifiedReport {
                kind: r.get(0),
                email: r.get(1),
                reason: r.get(2),
                why: r.get(3),
                at: from_ts(r.get(4)),
            })
            .collect();
        Ok(UnverifiedReports { total, latest })
    }

    pub(in crate::store) fn bounce_message_seen(&self, hash: &str) -> anyhow::Result<bool> {
        Ok(self
            .conn()?
            .query_opt("SELECT 1 FROM bounce_messages WHERE hash = $1", &[&hash])?
            .is_some())
    }

    pub(in crate::store) fn edition_bounces(&self) -> anyhow::Result<Vec<EditionBounces>> {
        let rows = self.conn()?.query(
            "SELECT e.period_key,
                    (SELECT COUNT(*) FROM deliveries d WHERE d.edition_id = e.id AND d.state = 'sent'),
                    SUM((b.kind = 'hard')::int)::bigint, SUM((b.kind = 'soft')::int)::bigint,
                    SUM((b.kind = 'complaint')::int)::bigint
             FROM bounces b JOIN editions e ON e.id = b.edition_id
             GROUP BY e.id, e.period_key, e.created_at ORDER BY e.created_at DESC, e.id DESC",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| EditionBounces {
                period_key: r.get(0),
                sent: r.get(1),
                hard: r.get(2),
                soft: r.get(3),
                complaints: r.get(4),
            })
            .collect())
    }

    pub(in crate::store) fn recent_bounces(
        &self,
        limit: usize,
    ) -> anyhow::Result<Vec<BounceRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.conn()?.query(
            "SELECT b.email_key, b.kind, e.period_key, b.reason, b.at
             FROM bounces b LEFT JOIN editions e ON e.id = b.edition_id
             ORDER BY b.at DESC, b.id DESC LIMIT $1",
            &[&limit],
        )?;
        Ok(rows
            .iter()
            .map(|r| BounceRecord {
                email: r.get(0),
                kind: r.get(1),
                period_key: r.get(2),
                reason: r.get(3),
                at: from_ts(r.get(4)),
            })
            .collect())
    }
}
