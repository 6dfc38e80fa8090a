//! Bounces and complaints: which delivery a report is about, the record of every report
//! ingested (so a second ingestion changes nothing), the suppression and unsubscription
//! policy applied in the same transaction, and the counts `deliveries` and `status` show.
use super::error::DbResult;
use chrono::{DateTime, Utc};

use super::db::{Conn, Row};
use super::subscribers::{email_key, set_status};
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{
    BounceApplied, BounceEvent, BounceKind, BounceRecord, BounceTarget, EditionBounces, SoftPolicy,
    SubscriberStatus, UnverifiedReport, UnverifiedReports,
};

const TARGET_SELECT: &str = "SELECT s.email, d.id, d.edition_id, e.period_key, d.message_id
     FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
     JOIN editions e ON e.id = d.edition_id";

/// The advisory-lock class (first key of `pg_advisory_xact_lock(int, int)`) that
/// serialises counting one address's soft bounces on PostgreSQL.
const LOCK_SOFT: i32 = 0x5050_5342; // "PPSB"

fn row_to_target(r: &Row<'_>) -> DbResult<(BounceTarget, String)> {
    Ok((
        BounceTarget {
            email: r.get(0)?,
            delivery_id: Some(r.get(1)?),
            edition_id: Some(r.get(2)?),
            period_key: Some(r.get(3)?),
        },
        r.get(4)?,
    ))
}

/// A Message-ID as stored (`<bare>`), with or without angle brackets given; `None` when empty.
fn stored_message_id(message_id: &str) -> Option<String> {
    let bare = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    (!bare.is_empty()).then(|| format!("<{bare}>"))
}

/// Why `ev` suppresses its address, if it does; `soft_count` is the number of soft bounces
/// of the address within the policy's window up to `ev.at` (this one included; unused for
/// hard bounces and complaints).
fn suppression_reason(ev: &BounceEvent, soft: SoftPolicy, soft_count: i64) -> Option<String> {
    match ev.kind {
        BounceKind::Hard => Some(format!("hard bounce: {}", ev.reason)),
        BounceKind::Complaint => Some(format!("complaint: {}", ev.reason)),
        BounceKind::Soft => (soft_count >= i64::from(soft.limit)).then(|| {
            format!(
                "{soft_count} soft bounces within {} days; last: {}",
                soft.window.num_days(),
                ev.reason
            )
        }),
    }
}

/// Records that the message `hash` was ingested, with its outcome (`matched`, `unverified`,
/// …), inside the transaction that applies it; `false` when it was ingested before (then
/// nothing else may change). A concurrent ingestion of the same message waits on the
/// unique key.
fn first_ingestion(
    c: &mut Conn<'_>,
    hash: &str,
    outcome: &str,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    Ok(c.execute(
        "INSERT INTO bounce_messages (hash, outcome, ingested_at) VALUES ($1, $2, $3)
         ON CONFLICT (hash) DO NOTHING",
        &[&hash, &outcome, &ts(now)],
    )? > 0)
}

impl Store {
    /// The delivery a VERP token names, if `token_matches` (the token's check, from
    /// `delivery::verp`) accepts the row's Message-ID.
    pub fn bounce_target_by_token(
        &self,
        id: i64,
        token_matches: impl Fn(&str) -> bool,
    ) -> Result<Option<BounceTarget>, StoreError> {
        self.write("bounce_target_by_token", |c| {
            let found = c.query_opt(
                &format!("{TARGET_SELECT} WHERE d.id = $1"),
                &[&id],
                row_to_target,
            )?;
            Ok(found.filter(|(_, mid)| token_matches(mid)).map(|(t, _)| t))
        })
    }

    /// The delivery whose message had this Message-ID (with or without angle brackets).
    pub fn bounce_target_by_message_id(
        &self,
        message_id: &str,
    ) -> Result<Option<BounceTarget>, StoreError> {
        let Some(stored) = stored_message_id(message_id) else {
            return Ok(None);
        };
        self.write("bounce_target_by_message_id", |c| {
            Ok(c.query_opt(
                &format!("{TARGET_SELECT} WHERE d.message_id = $1 ORDER BY d.id LIMIT 1"),
                &[&stored],
                row_to_target,
            )?
            .map(|(t, _)| t))
        })
    }

    /// A subscriber with this address and their latest delivery that went out, if any.
    pub fn bounce_target_by_address(
        &self,
        email: &str,
    ) -> Result<Option<BounceTarget>, StoreError> {
        let key = email_key(email);
        self.write("bounce_target_by_address", |c| {
            let latest = c.query_opt(
                &format!(
                    "{TARGET_SELECT} WHERE s.email_key = $1 AND d.state IN ('sent', 'unknown')
                     ORDER BY COALESCE(d.sent_at, d.updated_at) DESC, d.id DESC LIMIT 1"
                ),
                &[&key],
                row_to_target,
            )?;
            if let Some((t, _)) = latest {
                return Ok(Some(t));
            }
            c.query_opt(
                "SELECT email FROM subscribers WHERE email_key = $1 ORDER BY id LIMIT 1",
                &[&key],
                |r| {
                    Ok(BounceTarget {
                        email: r.get(0)?,
                        delivery_id: None,
                        edition_id: None,
                        period_key: None,
                    })
                },
            )
        })
    }

    /// Records an ingested report (`hash` names the message) and applies its event, all in
    /// one transaction. Race-free across processes: the report's row is inserted first with
    /// `ON CONFLICT DO NOTHING`, so a second ingestion of the same message (even concurrent:
    /// it waits on the unique key) inserts nothing and changes nothing; on PostgreSQL a soft
    /// bounce takes a transaction-scoped advisory lock on its address before counting, so
    /// two soft bounces of one address ingested at once count each other (SQLite's one
    /// writer serialises them); the suppression is an `ON CONFLICT DO NOTHING` insert and
    /// the unsubscription a conditional update.
    pub fn record_bounce_message(
        &self,
        hash: &str,
        outcome: &str,
        event: Option<&BounceEvent>,
        soft: SoftPolicy,
        now: DateTime<Utc>,
    ) -> Result<BounceApplied, StoreError> {
        self.transaction("record_bounce_message", |c| {
            if !first_ingestion(c, hash, outcome, now)? {
                return Ok(BounceApplied::duplicate());
            }
            let mut applied = BounceApplied::default();
            let Some(ev) = event else {
                return Ok(applied);
            };
            let key = email_key(&ev.target.email);
            if ev.kind == BounceKind::Soft && c.is_postgres() {
                c.execute(
                    "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                    &[&LOCK_SOFT, &key],
                )?;
            }
            c.execute(
                "INSERT INTO bounces (message_hash, kind, email_key, delivery_id, edition_id,
                                      status, reason, at)
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
                    // A complaint about a digest unsubscribes its reader from that
                    // digest's newsletter only (the subscription the delivery belongs to);
                    // one that names no delivery, from every newsletter of the address.
                    // Through the one status change there is, so the reader's token
                    // changes as on any unsubscribe: old preferences links stop working.
                    let readers: Vec<i64> = c.query(
                        "SELECT s.id FROM subscribers s
                         WHERE s.email_key = $1 AND s.status <> 'unsubscribed'
                           AND (CAST($2 AS BIGINT) IS NULL
                                OR s.id = (SELECT subscriber_id FROM deliveries WHERE id = $2))",
                        &[&key, &ev.target.delivery_id],
                        |r| r.get(0),
                    )?;
                    for id in readers {
                        applied.unsubscribed |=
                            set_status(c, id, SubscriberStatus::Unsubscribed, now)? > 0;
                    }
                    0
                }
                BounceKind::Hard => 0,
                BounceKind::Soft => c.value(
                    "SELECT COUNT(*) FROM bounces WHERE email_key = $1 AND kind = 'soft'
                     AND at > $2 AND at <= $3",
                    &[&key, &ts(ev.at - soft.window), &ts(ev.at)],
                )?,
            };
            if let Some(reason) = suppression_reason(ev, soft, soft_count) {
                applied.suppressed = c.execute(
                    "INSERT INTO suppressions (email_key, reason, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (email_key) DO NOTHING",
                    &[&key, &reason, &ts(now)],
                )? > 0;
            }
            Ok(applied)
        })
    }

    /// Records a report that named a reader but proved nothing (`hash` names the message):
    /// counted and kept for `deliveries`, never acted on. A message whose hash is already
    /// recorded changes nothing.
    pub fn record_unverified_bounce(
        &self,
        hash: &str,
        report: &UnverifiedReport,
        now: DateTime<Utc>,
    ) -> Result<BounceApplied, StoreError> {
        self.transaction("record_unverified_bounce", |c| {
            if !first_ingestion(c, hash, "unverified", now)? {
                return Ok(BounceApplied::duplicate());
            }
            c.execute(
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
            Ok(BounceApplied::default())
        })
    }

    /// How many reports were not believed, and the latest `limit` of them.
    pub fn unverified_bounces(&self, limit: usize) -> Result<UnverifiedReports, StoreError> {
        self.read("unverified_bounces", |c| {
            let total = c.value("SELECT COUNT(*) FROM unverified_reports", &[])?;
            let latest = c.query(
                "SELECT kind, email_key, reason, why, at FROM unverified_reports
                 ORDER BY at DESC, id DESC LIMIT $1",
                &[&i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    Ok(UnverifiedReport {
                        kind: r.get(0)?,
                        email: r.get(1)?,
                        reason: r.get(2)?,
                        why: r.get(3)?,
                        at: from_ts(r.get(4)?),
                    })
                },
            )?;
            Ok(UnverifiedReports { total, latest })
        })
    }

    /// Whether a report with this hash was ingested before.
    pub fn bounce_message_seen(&self, hash: &str) -> Result<bool, StoreError> {
        self.write("bounce_message_seen", |c| {
            c.exists("SELECT 1 FROM bounce_messages WHERE hash = $1", &[&hash])
        })
    }

    /// Bounce and complaint counts per edition that has any, newest edition first.
    pub fn edition_bounces(&self) -> Result<Vec<EditionBounces>, StoreError> {
        self.read("edition_bounces", |c| {
            c.query(
                "SELECT e.period_key,
                        (SELECT COUNT(*) FROM deliveries d
                          WHERE d.edition_id = e.id
                            AND (d.state = 'sent'
                                 OR (d.state = 'failed' AND EXISTS (
                                     SELECT 1 FROM bounces x
                                      WHERE x.delivery_id = d.id AND x.kind = 'hard')))),
                        CAST(SUM(CASE WHEN b.kind = 'hard' THEN 1 ELSE 0 END) AS BIGINT),
                        CAST(SUM(CASE WHEN b.kind = 'soft' THEN 1 ELSE 0 END) AS BIGINT),
                        CAST(SUM(CASE WHEN b.kind = 'complaint' THEN 1 ELSE 0 END) AS BIGINT)
                 FROM bounces b JOIN editions e ON e.id = b.edition_id
                 WHERE e.newsletter = $1
                 GROUP BY e.id, e.period_key, e.created_at
                 ORDER BY e.created_at DESC, e.id DESC",
                &[&self.newsletter()],
                |r| {
                    Ok(EditionBounces {
                        period_key: r.get(0)?,
                        sent: r.get(1)?,
                        hard: r.get(2)?,
                        soft: r.get(3)?,
                        complaints: r.get(4)?,
                    })
                },
            )
        })
    }

    /// The latest bounces and complaints, newest first.
    pub fn recent_bounces(&self, limit: usize) -> Result<Vec<BounceRecord>, StoreError> {
        self.read("recent_bounces", |c| {
            c.query(
                "SELECT b.email_key, b.kind, e.period_key, b.reason, b.at
                 FROM bounces b LEFT JOIN editions e ON e.id = b.edition_id
                 ORDER BY b.at DESC, b.id DESC LIMIT $1",
                &[&i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    Ok(BounceRecord {
                        email: r.get(0)?,
                        kind: r.get(1)?,
                        period_key: r.get(2)?,
                        reason: r.get(3)?,
                        at: from_ts(r.get(4)?),
                    })
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NewSubscriber;
    use crate::domain::{SubscriberEmail, SubscriberStatus, Topics};
    use crate::store::Store;

    fn store_with(email: &str) -> Store {
        let store = Store::for_tests().unwrap();
        store
            .add_subscriber(
                &NewSubscriber::active(
                    SubscriberEmail::parse(email).unwrap(),
                    Topics::parse("llm").unwrap(),
                ),
                Utc::now(),
            )
            .unwrap();
        store
    }

    fn event(kind: BounceKind, email: &str, at: DateTime<Utc>) -> BounceEvent {
        BounceEvent {
            kind,
            target: BounceTarget {
                email: email.into(),
                delivery_id: None,
                edition_id: None,
                period_key: None,
            },
            status: Some("4.2.2".into()),
            reason: "4.2.2 mailbox full".into(),
            at,
        }
    }

    const POLICY: SoftPolicy = SoftPolicy {
        limit: 3,
        window: chrono::Duration::days(14),
    };

    #[test]
    fn soft_bounces_suppress_only_when_enough_fall_within_the_window() {
        let store = store_with("ada@example.org");
        let t0 = Utc::now() - chrono::Duration::days(40);
        let day = chrono::Duration::days(1);
        // Three soft bounces, but spread over more than 14 days: no suppression.
        for (i, at) in [t0, t0 + day * 10, t0 + day * 20].into_iter().enumerate() {
            let ev = event(BounceKind::Soft, "ada@example.org", at);
            let a = store
                .record_bounce_message(&format!("h{i}"), "matched", Some(&ev), POLICY, at)
                .unwrap();
            assert!(!a.suppressed, "bounce {i}");
        }
        assert!(!store.is_suppressed("ada@example.org").unwrap());
        // A third within 14 days of the two before it: suppressed, the reason says why.
        let at = t0 + day * 22;
        let ev = event(BounceKind::Soft, "ada@example.org", at);
        let a = store
            .record_bounce_message("h3", "matched", Some(&ev), POLICY, at)
            .unwrap();
        assert!(a.suppressed);
        let reason = &store.suppressions().unwrap()[0].1;
        assert!(
            reason.starts_with("3 soft bounces within 14 days"),
            "{reason}"
        );
    }

    #[test]
    fn a_complaint_unsubscribes_and_suppresses_once_and_a_repeat_changes_nothing() {
        let store = store_with("ada@example.org");
        let old_tokens = store
            .subscriber_by_email("ada@example.org")
            .unwrap()
            .unwrap()
            .tokens;
        let now = Utc::now();
        let mut ev = event(BounceKind::Complaint, "ADA@example.org", now);
        ev.reason = "abuse report".into();
        let a = store
            .record_bounce_message("c1", "matched", Some(&ev), POLICY, now)
            .unwrap();
        assert_eq!(
            a,
            BounceApplied {
                duplicate: false,
                suppressed: true,
                unsubscribed: true
            }
        );
        let s = store
            .subscriber_by_email("ada@example.org")
            .unwrap()
            .unwrap();
        assert_eq!(s.status, SubscriberStatus::Unsubscribed);
        for p in crate::domain::TokenPurpose::ALL {
            assert_eq!(
                s.tokens.get(p).generation,
                old_tokens.get(p).generation + 1,
                "an unsubscribe revokes every {p} token"
            );
        }
        let again = store
            .record_bounce_message("c1", "matched", Some(&ev), POLICY, now)
            .unwrap();
        assert!(again.duplicate);
        assert!(store.bounce_message_seen("c1").unwrap());
        assert_eq!(store.recent_bounces(10).unwrap().len(), 1);
    }

    #[test]
    fn an_unverified_report_is_counted_once_and_changes_nothing() {
        let store = store_with("ada@example.org");
        let now = Utc::now();
        let report = UnverifiedReport {
            kind: "hard".into(),
            email: "Ada@example.org".into(),
            reason: "5.1.1".into(),
            why: "no VERP token and no Message-ID of ours".into(),
            at: now,
        };
        let first = store.record_unverified_bounce("u1", &report, now).unwrap();
        assert!(!first.duplicate && !first.suppressed && !first.unsubscribed);
        assert!(
            store
                .record_unverified_bounce("u1", &report, now)
                .unwrap()
                .duplicate
        );
        // One hash space with the reports that acted: the same message is not read twice.
        let ev = event(BounceKind::Hard, "ada@example.org", now);
        assert!(
            store
                .record_bounce_message("u1", "matched", Some(&ev), POLICY, now)
                .unwrap()
                .duplicate
        );
        let seen = store.unverified_bounces(10).unwrap();
        assert_eq!(seen.total, 1);
        assert_eq!(seen.latest[0].email, "ada@example.org");
        assert_eq!(seen.latest[0].why, report.why);
        assert_eq!(store.unverified_bounces(0).unwrap().latest.len(), 0);
        assert!(!store.is_suppressed("ada@example.org").unwrap());
        assert!(store.recent_bounces(10).unwrap().is_empty());
        assert_eq!(
            store
                .subscriber_by_email("ada@example.org")
                .unwrap()
                .unwrap()
                .status,
            SubscriberStatus::Active
        );
    }

    #[test]
    fn reports_ingested_at_once_by_several_instances_count_each_other() {
        use crate::store::attempts::tests::race;
        let (stores, _dir) = crate::store::attempts::tests::stores_on_one_database(6);
        let now = Utc::now();
        // One report read by six instances at once: applied once.
        let ev = event(BounceKind::Hard, "ada@example.org", now);
        let applied = race(&stores, |_, store| {
            store
                .record_bounce_message("same", "matched", Some(&ev), POLICY, now)
                .unwrap()
        });
        let fresh: Vec<_> = applied.iter().filter(|a| !a.duplicate).collect();
        assert_eq!(fresh.len(), 1, "{applied:?}");
        assert!(fresh[0].suppressed);
        // Three soft bounces of one address (the limit) in three reports at once: the
        // last one counted sees the other two and suppresses, exactly once.
        let applied = race(&stores[..3], |i, store| {
            let ev = event(BounceKind::Soft, "bob@example.org", now);
            store
                .record_bounce_message(&format!("soft{i}"), "matched", Some(&ev), POLICY, now)
                .unwrap()
        });
        let suppressed = applied.iter().filter(|a| a.suppressed).count();
        assert_eq!(suppressed, 1, "{applied:?}");
        assert_eq!(stores[0].recent_bounces(10).unwrap().len(), 4);
    }
}
