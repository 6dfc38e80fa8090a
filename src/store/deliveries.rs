//! Deliveries: one durable row per (edition, subscriber), moved through a state machine.
//!
//! ```text
//! pending ──claim──▶ sending ──▶ sent
//!    ▲                  │ ├────▶ retry ──(next_attempt_at)──▶ claimable again
//!    │                  │ ├────▶ failed   (permanent: 5xx, suppressed, too many attempts)
//!    │                  │ └────▶ unknown  (connection died after the body went out)
//!    └──── release ─────┘   lease expired (crashed run) ──▶ claimable again, counted in `reclaimed`
//! skipped: the digest would have been empty; recorded so the period is not evaluated again.
//! ```
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use rusqlite::params;

use super::{Sqlite, from_ts, ts};
use crate::domain::{Claimed, DeliveryState, Finish, NewDelivery, PaperId, PickRef};

impl Sqlite {
    /// Records the planned deliveries of an edition in one transaction. A subscriber who
    /// already has a delivery in this edition is left alone (so planning twice plans once).
    /// The papers of each non-empty digest are remembered as sent to that subscriber, so no
    /// later edition picks them again. Returns how many rows were inserted.
    pub fn plan_deliveries(
        &self,
        edition_id: i64,
        deliveries: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut inserted = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO deliveries (edition_id, subscriber_id, state, picks, message_id, created_at, updated_at, editor_note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)
                 ON CONFLICT (edition_id, subscriber_id) DO NOTHING",
            )?;
            let mut remember = tx.prepare_cached(
                "INSERT INTO sent_papers (subscriber_id, paper_id, edition_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?;
            for d in deliveries {
                let n = insert.execute(params![
                    edition_id,
                    d.subscriber_id,
                    planned_state(d).as_str(),
                    serde_json::to_string(&d.picks)?,
                    d.message_id,
                    ts(now),
                    d.editor_note,
                ])?;
                if n == 0 {
                    continue;
                }
                inserted += 1;
                for p in &d.picks {
                    remember.execute(params![d.subscriber_id, p.id.as_str(), edition_id])?;
                }
            }
        }
        tx.commit()?;
        Ok(inserted)
    }

    /// Subscribers that already have a delivery (of any state) in this edition.
    pub fn planned_subscribers(&self, edition_id: i64) -> anyhow::Result<HashSet<i64>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT subscriber_id FROM deliveries WHERE edition_id = ?1")?;
        let rows = stmt.query_map([edition_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When each subscriber last had a digest planned (empty ones not counted).
    pub fn last_digest_times(&self) -> anyhow::Result<HashMap<i64, DateTime<Utc>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT subscriber_id, MAX(created_at) FROM deliveries WHERE state != 'skipped' GROUP BY subscriber_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, from_ts(r.get(1)?))))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Which of `candidates` each of `subscriber_ids` has already been sent.
    pub fn sent_papers_among(
        &self,
        subscriber_ids: &[i64],
        candidates: &[PaperId],
    ) -> anyhow::Result<HashMap<i64, HashSet<PaperId>>> {
        let wanted: HashSet<&str> = candidates.iter().map(|c| c.as_str()).collect();
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT paper_id FROM sent_papers WHERE subscriber_id = ?1")?;
        let mut out: HashMap<i64, HashSet<PaperId>> = HashMap::new();
        for &id in subscriber_ids {
            let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
            for paper in rows {
                let paper = paper?;
                if wanted.contains(paper.as_str())
                    && let Ok(pid) = PaperId::try_from(paper)
                {
                    out.entry(id).or_default().insert(pid);
                }
            }
        }
        Ok(out)
    }

    /// Claims up to `limit` deliveries that are due: pending ones, retries whose time has
    /// come, and `sending` ones whose lease expired (their run died). Each claimed row is put
    /// in `sending` under `owner`'s lease until `now + lease`.
    pub fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> anyhow::Result<Vec<Claimed>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ids: Vec<i64> = {
            let mut stmt = tx.prepare_cached(
                "UPDATE deliveries
                 SET reclaimed = reclaimed + (state = 'sending'),
                     reclaimed_from = CASE WHEN state = 'sending' THEN lease_owner END,
                     state = 'sending', lease_owner = ?1, lease_until = ?2,
                     attempts = attempts + 1, updated_at = ?3
                 WHERE id IN (
                     SELECT id FROM deliveries WHERE state = 'pending'
                     UNION ALL
                     SELECT id FROM deliveries WHERE state = 'retry' AND next_attempt_at <= ?3
                     UNION ALL
                     SELECT id FROM deliveries WHERE state = 'sending' AND lease_until <= ?3
                         AND lease_owner != ?1
                     LIMIT ?4)
                 RETURNING id",
            )?;
            let rows = stmt.query_map(
                params![owner, ts_ceil(now + lease), ts(now), limit as i64],
                |r| r.get(0),
            )?;
            rows.collect::<Result<_, _>>()?
        };
        let mut claimed = Vec::with_capacity(ids.len());
        {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT d.id, d.edition_id, e.period_key, d.picks, d.message_id, d.attempts, d.created_at,
                        d.reclaimed, s.email_key IN (SELECT email_key FROM suppressions),
                        d.reclaimed_from, d.editor_note,
                        {}
                 FROM deliveries d JOIN editions e ON e.id = d.edition_id
                 JOIN subscribers s ON s.id = d.subscriber_id
                 WHERE d.id = ?1",
                super::subscribers::COLUMNS_S
            ))?;
            let mut unreadable = Vec::new();
            for id in ids {
                let c = stmt.query_row([id], |r| {
                    let picks: String = r.get(3)?;
                    let subscriber = match super::subscribers::row_to_subscriber_at(r, 11)? {
                        Ok(s) => s,
                        Err(u) => return Ok(Err(u)),
                    };
                    Ok(Ok(Claimed {
                        id: r.get(0)?,
                        edition_id: r.get(1)?,
                        period_key: r.get(2)?,
                        picks: parse_picks(&picks),
                        message_id: r.get(4)?,
                        attempts: r.get(5)?,
                        created_at: from_ts(r.get(6)?),
                        reclaimed: r.get::<_, i64>(7)? > 0,
                        suppressed: r.get(8)?,
                        reclaimed_from: r.get(9)?,
                        editor_note: r.get(10)?,
                        subscriber,
                    }))
                })?;
                match c {
                    Ok(c) => claimed.push(c),
                    Err(u) => unreadable.push((id, u)),
                }
            }
            // A reader whose row no longer reads cannot be mailed: their delivery fails
            // with the reason (visible in `deliveries`), and the others go on.
            let mut fail = tx.prepare_cached(
                "UPDATE deliveries SET state = 'failed', last_error = ?2, lease_owner = NULL,
                     lease_until = NULL, next_attempt_at = NULL, updated_at = ?3
                 WHERE id = ?1",
            )?;
            for (id, u) in unreadable {
                u.warn();
                fail.execute(params![id, u.to_string(), ts(now)])?;
            }
        }
        tx.commit()?;
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
    }

    /// Records the outcomes of claimed deliveries in one transaction (one commit for many
    /// messages). Each row changes only while `owner` still holds its lease; the result says,
    /// per outcome, whether it did.
    pub fn finish_deliveries(
        &self,
        owner: &str,
        outcomes: &[(i64, Finish)],
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<bool>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut applied = Vec::with_capacity(outcomes.len());
        {
            let mut finish = tx.prepare_cached(
                "UPDATE deliveries SET state = ?3, last_error = ?4, next_attempt_at = ?5,
                     relay = COALESCE(?6, relay), updated_at = ?7,
                     sent_at = CASE WHEN ?3 = 'sent' THEN ?7 ELSE sent_at END,
                     lease_owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND state = 'sending' AND lease_owner = ?2",
            )?;
            let mut release = tx.prepare_cached(
                "UPDATE deliveries SET state = CASE WHEN attempts > 1 THEN 'retry' ELSE 'pending' END,
                     attempts = attempts - 1, next_attempt_at = ?3, lease_owner = NULL,
                     lease_until = NULL, updated_at = ?3
                 WHERE id = ?1 AND state = 'sending' AND lease_owner = ?2",
            )?;
            let mut suppressed = tx.prepare_cached(
                "UPDATE deliveries SET state = 'failed', attempts = attempts - 1, last_error = ?3,
                     next_attempt_at = NULL, updated_at = ?4, lease_owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND state = 'sending' AND lease_owner = ?2",
            )?;
            let mut suppress = tx.prepare_cached(
                "INSERT INTO suppressions (email_key, reason, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (email_key) DO UPDATE SET reason = excluded.reason",
            )?;
            for (id, outcome) in outcomes {
                let row = FinishRow::of(outcome);
                let n = match row.kind {
                    FinishKind::Release => release.execute(params![id, owner, ts(now)])?,
                    FinishKind::Suppressed => {
                        suppressed.execute(params![id, owner, row.error, ts(now)])?
                    }
                    FinishKind::Finish => finish.execute(params![
                        id,
                        owner,
                        row.state.as_str(),
                        row.error,
                        row.next,
                        row.relay,
                        ts(now)
                    ])?,
                };
                if n == 0 {
                    lease_lost(*id, &row);
                } else if let Some((email, error)) = row.suppress {
                    let key = super::subscribers::email_key(email);
                    suppress.execute(params![key, error, ts(now)])?;
                }
                applied.push(n > 0);
            }
        }
        tx.commit()?;
        Ok(applied)
    }

    /// Extends the lease of every row `owner` holds until `until` (the heartbeat of a live
    /// run, so its rows are never taken over while it works on them). Returns how many.
    pub fn renew_leases(&self, owner: &str, until: DateTime<Utc>) -> anyhow::Result<usize> {
        Ok(self.conn().execute(
            "UPDATE deliveries SET lease_until = ?2 WHERE state = 'sending' AND lease_owner = ?1",
            params![owner, ts_ceil(until)],
        )?)
    }

    /// Rows in `sending` under other owners' unexpired leases, per owner: (owner, how many,
    /// when its lease on them runs out), earliest expiry first.
    pub fn leases_elsewhere(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(String, i64, DateTime<Utc>)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT lease_owner, COUNT(*), MAX(lease_until) FROM deliveries
             WHERE state = 'sending' AND lease_owner != ?1 AND lease_until > ?2
             GROUP BY lease_owner ORDER BY MAX(lease_until)",
        )?;
        let rows = stmt.query_map(params![owner, ts(now)], |r| {
            Ok((r.get(0)?, r.get(1)?, from_ts(r.get(2)?)))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Rows in `sending` under another owner's unexpired lease: (how many, earliest expiry).
    pub fn leased_elsewhere(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(i64, Option<DateTime<Utc>>)> {
        let (n, t): (i64, Option<i64>) = self.conn().query_row(
            "SELECT COUNT(*), MIN(lease_until) FROM deliveries
             WHERE state = 'sending' AND lease_owner != ?1 AND lease_until > ?2",
            params![owner, ts(now)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((n, t.map(from_ts)))
    }
}

/// A deadline in whole seconds, rounded up: never earlier than asked.
pub(super) fn ts_ceil(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

/// The state a planned delivery starts in: an empty digest is recorded as skipped.
pub(super) fn planned_state(d: &NewDelivery) -> DeliveryState {
    if d.picks.is_empty() {
        DeliveryState::Skipped
    } else {
        DeliveryState::Pending
    }
}

/// A delivery's stored picks (JSON); a row whose picks do not parse sends no papers
/// rather than failing the whole claim.
pub(super) fn parse_picks(json: &str) -> Vec<PickRef> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Which of the three outcome statements records a [`Finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FinishKind {
    /// Given back untouched: pending (or retry) again, the attempt not counted.
    Release,
    /// Not sent because the address is suppressed: failed, the attempt not counted.
    Suppressed,
    /// Sent, retry, failed or unknown, with the columns below.
    Finish,
}

impl FinishKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            FinishKind::Release => "release",
            FinishKind::Suppressed => "suppressed",
            FinishKind::Finish => "finish",
        }
    }
}

/// The column values one outcome writes, for either backend.
pub(super) struct FinishRow<'a> {
    pub kind: FinishKind,
    pub state: DeliveryState,
    pub error: Option<&'a str>,
    /// When a retry is due (whole seconds, rounded up).
    pub next: Option<i64>,
    pub relay: Option<&'a str>,
    /// (address, reason) to put on the suppression list once the outcome is recorded.
    pub suppress: Option<(&'a str, &'a str)>,
}

impl<'a> FinishRow<'a> {
    pub(super) fn of(outcome: &'a Finish) -> FinishRow<'a> {
        let row = |kind, state, error: Option<&'a String>| FinishRow {
            kind,
            state,
            error: error.map(String::as_str),
            next: None,
            relay: None,
            suppress: None,
        };
        match outcome {
            Finish::Release => row(FinishKind::Release, DeliveryState::Pending, None),
            Finish::Suppressed { error } => {
                row(FinishKind::Suppressed, DeliveryState::Failed, Some(error))
            }
            Finish::Sent { relay } => FinishRow {
                relay: Some(relay),
                ..row(FinishKind::Finish, DeliveryState::Sent, None)
            },
            Finish::Retry {
                next_attempt,
                error,
            } => FinishRow {
                next: Some(ts_ceil(*next_attempt)),
                ..row(FinishKind::Finish, DeliveryState::Retry, Some(error))
            },
            Finish::Failed { error, suppress } => FinishRow {
                suppress: suppress.as_deref().map(|email| (email, error.as_str())),
                ..row(FinishKind::Finish, DeliveryState::Failed, Some(error))
            },
            Finish::Unknown { error } => {
                row(FinishKind::Finish, DeliveryState::Unknown, Some(error))
            }
        }
    }
}

/// Logs an outcome that came after its row's lease was taken over (the row is left alone;
/// a release or a suppressed skip losing its lease is not worth a warning).
pub(super) fn lease_lost(delivery: i64, row: &FinishRow<'_>) {
    if row.kind == FinishKind::Finish {
        let state = row.state;
        tracing::warn!(delivery, %state, "lease lost before the outcome was recorded");
    }
}

/// Test set-up for either backend: `n` readers r0@… r{n-1}@… (ids 1..=n, written by hand
/// so these tests need no subscriber operations) each planned one paper in edition
/// 2026-W48. Returns the edition's id and the planning time.
#[cfg(test)]
pub(crate) fn plan_readers(store: &super::Store, n: usize) -> (i64, DateTime<Utc>) {
    let now = Utc::now();
    let (edition, _) = store.edition_for_period("2026-W48", &[], now).unwrap();
    let rows: Vec<String> = (1..=n)
        .map(|id| {
            format!(
                "({id}, 'r{i}@example.org', 'r{i}@example.org', 'active', '', 'weekly', 't{id}', {t}, {t})",
                i = id - 1,
                t = now.timestamp()
            )
        })
        .collect();
    for chunk in rows.chunks(500) {
        store.raw_execute(&format!(
            "INSERT INTO subscribers (id, email, email_key, status, topics, frequency, token_salt, created_at, updated_at) VALUES {}",
            chunk.join(", ")
        ));
    }
    let id = PaperId::parse_arxiv("2411.00001").unwrap().0;
    let planned: Vec<NewDelivery> = (1..=n as i64)
        .map(|subscriber_id| NewDelivery {
            subscriber_id,
            picks: vec![PickRef {
                id: id.clone(),
                reasons: vec![],
                more_like: false,
                pinned: false,
                note: None,
            }],
            message_id: format!("<{subscriber_id}@example.org>"),
            editor_note: None,
        })
        .collect();
    assert_eq!(store.plan_deliveries(edition.id, &planned, now).unwrap(), n);
    assert_eq!(
        store.plan_deliveries(edition.id, &planned, now).unwrap(),
        0,
        "planning twice plans once"
    );
    (edition.id, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn finish(store: &Store, id: i64, owner: &str, outcome: Finish, now: DateTime<Utc>) -> bool {
        store
            .finish_deliveries(owner, &[(id, outcome)], now)
            .unwrap()[0]
    }

    fn sent() -> Finish {
        Finish::Sent {
            relay: "relay".into(),
        }
    }
    fn setup(n: usize) -> (Store, i64, DateTime<Utc>) {
        let store = Store::for_tests().unwrap();
        let (edition, now) = plan_readers(&store, n);
        (store, edition, now)
    }

    #[test]
    fn a_claimed_row_is_not_claimed_again_until_its_lease_expires() {
        let (store, _, now) = setup(3);
        let lease = Duration::seconds(60);
        let a = store.claim_deliveries("a", now, lease, 2).unwrap();
        assert_eq!(a.len(), 2);
        let b = store.claim_deliveries("b", now, lease, 10).unwrap();
        assert_eq!(b.len(), 1, "only the unclaimed row");
        assert!(
            store
                .claim_deliveries("c", now, lease, 10)
                .unwrap()
                .is_empty()
        );
        // "b" renews nothing and "a" dies; after the lease every row is taken over and
        // marked as reclaimed.
        let later = now + Duration::seconds(61);
        let c = store.claim_deliveries("c", later, lease, 10).unwrap();
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|x| x.reclaimed && x.attempts == 2));
        // The dead owner can no longer record an outcome.
        assert!(!finish(&store, a[0].id, "a", sent(), later));
        assert!(finish(&store, c[0].id, "c", sent(), later));
    }

    #[test]
    fn a_reader_whose_row_no_longer_reads_fails_alone_and_the_others_are_claimed() {
        let (store, _, now) = setup(3);
        store.raw_execute(
            "UPDATE subscribers SET topics = 'cat:CS CL' WHERE email = 'r1@example.org'",
        );
        let claimed = store
            .claim_deliveries("w", now, Duration::seconds(60), 10)
            .unwrap();
        let emails: Vec<_> = claimed
            .iter()
            .map(|c| c.subscriber.email.to_string())
            .collect();
        assert_eq!(emails, ["r0@example.org", "r2@example.org"]);
        let bad = store
            .delivery_state("2026-W48", "r1@example.org")
            .unwrap()
            .unwrap();
        assert_eq!(bad.state, DeliveryState::Failed);
        assert!(
            bad.last_error
                .as_deref()
                .is_some_and(|e| e.contains("topics")),
            "{bad:?}"
        );
    }

    #[test]
    fn outcomes_move_rows_through_the_state_machine() {
        let (store, _, now) = setup(4);
        let rows = store
            .claim_deliveries("w", now, Duration::seconds(60), 10)
            .unwrap();
        assert!(finish(&store, rows[0].id, "w", sent(), now));
        let retry = Finish::Retry {
            next_attempt: now + Duration::seconds(30),
            error: "451 later".into(),
        };
        assert!(finish(&store, rows[1].id, "w", retry, now));
        let failed = Finish::Failed {
            error: "550 no such user".into(),
            suppress: None,
        };
        assert!(finish(&store, rows[2].id, "w", failed, now));
        assert!(finish(&store, rows[3].id, "w", Finish::Release, now));
        let state = |i: usize| {
            store
                .delivery_state("2026-W48", &format!("r{i}@example.org"))
                .unwrap()
                .unwrap()
        };
        assert_eq!(state(0).state, DeliveryState::Sent);
        assert_eq!(
            (state(1).state, state(1).attempts),
            (DeliveryState::Retry, 1)
        );
        assert_eq!(state(2).state, DeliveryState::Failed);
        assert_eq!(
            (state(3).state, state(3).attempts),
            (DeliveryState::Pending, 0),
            "released untouched"
        );
        // Only the released row is due now; the retry is due in 30 s.
        let due = store
            .claim_deliveries("w", now, Duration::seconds(60), 10)
            .unwrap();
        assert_eq!(due.len(), 1);
        let unknown = Finish::Unknown {
            error: "connection lost after the body".into(),
        };
        assert!(finish(&store, due[0].id, "w", unknown, now));
        let due = store
            .claim_deliveries("w", now + Duration::seconds(31), Duration::seconds(60), 10)
            .unwrap();
        assert_eq!(
            due.iter().map(|d| d.id).collect::<Vec<_>>(),
            vec![rows[1].id]
        );
        assert_eq!(
            store
                .requeue_deliveries(&[DeliveryState::Failed, DeliveryState::Unknown], None, now)
                .unwrap(),
            2
        );
        assert_eq!(store.outstanding_deliveries().unwrap(), 3);
    }
}
