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
//!
//! Race-free for any number of `paperpost send` processes on several hosts sharing a
//! PostgreSQL store, with the same statements SQLite runs under its one writer:
//! - claiming takes each class of due rows with `UPDATE … WHERE id IN (SELECT … LIMIT n)`,
//!   on PostgreSQL with `FOR UPDATE SKIP LOCKED` (two claimers never get the same row and
//!   never wait for each other);
//! - recording outcomes is one `UPDATE … WHERE state = 'sending' AND lease_owner = $me`
//!   per batch: a row taken over meanwhile no longer matches (PostgreSQL re-checks the
//!   condition on the row's newest version after waiting for its lock);
//! - planning relies on the unique (edition, subscriber) key: `ON CONFLICT DO NOTHING`.
use super::error::DbResult;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::db::{Param, ROWS_PER_STATEMENT, placeholders};
use super::subscribers::{COLUMNS_S, email_key, subscriber_at};
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{Claimed, DeliveryState, Finish, NewDelivery, PaperId, PickRef};

/// Records a relay's permanent refusal (5xx) of delivery `id` as a hard bounce of it, as a
/// DSN saying the same would be (`bounces`, under a report named `smtp-reply:{id}`): the
/// reputation guard counts it, and `deliveries` shows it with the edition's bounces.
fn record_refusal(
    c: &mut super::db::Conn<'_>,
    id: i64,
    email: &str,
    reply: &str,
    now: i64,
) -> DbResult<()> {
    let report = format!("smtp-reply:{id}");
    let code: Option<&str> = reply
        .get(..3)
        .filter(|code| code.starts_with('5') && code.bytes().all(|b| b.is_ascii_digit()));
    if c.execute(
        "INSERT INTO bounce_messages (hash, outcome, ingested_at) VALUES ($1, 'matched', $2)
         ON CONFLICT (hash) DO NOTHING",
        &[&report, &now],
    )? == 0
    {
        return Ok(());
    }
    c.execute(
        "INSERT INTO bounces (message_hash, kind, email_key, delivery_id, edition_id, status,
                              reason, at)
         SELECT $1, 'hard', $2, id, edition_id, $3, $4, $5 FROM deliveries WHERE id = $6",
        &[&report, &email_key(email), &code, &reply, &now, &id],
    )?;
    Ok(())
}

/// Claims one class of due rows (`{due}` is its condition, `{lock}` PostgreSQL's row lock),
/// at most `$5` of newsletter `$4`, in the order SQLite's single statement took them.
const CLAIM: &str = "UPDATE deliveries
     SET reclaimed = reclaimed + CASE WHEN state = 'sending' THEN 1 ELSE 0 END,
         reclaimed_from = CASE WHEN state = 'sending' THEN lease_owner END,
         state = 'sending', lease_owner = $1, lease_until = $2,
         attempts = attempts + 1, updated_at = $3
     WHERE id IN (SELECT id FROM deliveries WHERE {due}
                  AND edition_id IN (SELECT id FROM editions WHERE newsletter = $4)
                  LIMIT $5{lock})
     RETURNING id";

/// The three classes of due rows, in order: pending, retries whose time has come, then
/// rows whose holder's lease expired (its run died).
const DUE: [&str; 3] = [
    "state = 'pending'",
    "state = 'retry' AND next_attempt_at <= $3",
    "state = 'sending' AND lease_until <= $3 AND lease_owner <> $1",
];

impl Store {
    /// Records the planned deliveries of an edition in one transaction, many rows a
    /// statement. A subscriber who already has a delivery in this edition is left alone (so
    /// planning twice plans once; concurrent planners of one edition meet on the unique
    /// (edition, subscriber) key, the later waiting for the earlier's commit), and a reader
    /// listed twice is planned once, from the first entry. The papers of each non-empty
    /// digest are remembered as sent to that subscriber, so no later edition picks them
    /// again. Returns how many rows were inserted.
    pub fn plan_deliveries(
        &self,
        edition_id: i64,
        deliveries: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut seen = HashSet::with_capacity(deliveries.len());
        let unique: Vec<&NewDelivery> = deliveries
            .iter()
            .filter(|d| seen.insert(d.subscriber_id))
            .collect();
        self.transaction("plan_deliveries", |c| {
            let now = ts(now);
            let mut inserted = 0;
            for chunk in unique.chunks(ROWS_PER_STATEMENT) {
                let rows: Vec<String> = (0..chunk.len())
                    .map(|i| format!("({})", placeholders(i * 8 + 1, 8)))
                    .collect();
                let sql = format!(
                    "INSERT INTO deliveries (edition_id, subscriber_id, state, picks, message_id,
                         created_at, updated_at, editor_note)
                     VALUES {}
                     ON CONFLICT (edition_id, subscriber_id) DO NOTHING
                     RETURNING subscriber_id",
                    rows.join(", ")
                );
                let values: Vec<(&str, String)> = chunk
                    .iter()
                    .map(|d| Ok((planned_state(d).as_str(), serde_json::to_string(&d.picks)?)))
                    .collect::<DbResult<_>>()?;
                let mut params: Vec<&dyn Param> = Vec::with_capacity(chunk.len() * 8);
                for (d, (state, picks)) in chunk.iter().zip(&values) {
                    params.extend([
                        &edition_id as &dyn Param,
                        &d.subscriber_id,
                        state,
                        picks,
                        &d.message_id,
                        &now,
                        &now,
                        &d.editor_note,
                    ]);
                }
                let new: HashSet<i64> = c.query(&sql, &params, |r| r.get(0))?.into_iter().collect();
                inserted += new.len();
                // The papers of each newly planned digest, remembered as sent to its reader.
                let sent: Vec<(i64, &str)> = chunk
                    .iter()
                    .filter(|d| new.contains(&d.subscriber_id))
                    .flat_map(|d| d.picks.iter().map(|p| (d.subscriber_id, p.id.as_str())))
                    .collect();
                for part in sent.chunks(ROWS_PER_STATEMENT) {
                    let rows: Vec<String> = (0..part.len())
                        .map(|i| format!("({})", placeholders(i * 3 + 1, 3)))
                        .collect();
                    let sql = format!(
                        "INSERT INTO sent_papers (subscriber_id, paper_id, edition_id) VALUES {}
                         ON CONFLICT DO NOTHING",
                        rows.join(", ")
                    );
                    let mut params: Vec<&dyn Param> = Vec::with_capacity(part.len() * 3);
                    for (who, paper) in part {
                        params.extend([who as &dyn Param, paper, &edition_id]);
                    }
                    c.execute(&sql, &params)?;
                }
            }
            Ok(inserted)
        })
    }

    /// Subscribers that already have a delivery (of any state) in this edition.
    pub fn planned_subscribers(&self, edition_id: i64) -> Result<HashSet<i64>, StoreError> {
        self.write("planned_subscribers", |c| {
            Ok(c.query(
                "SELECT subscriber_id FROM deliveries WHERE edition_id = $1",
                &[&edition_id],
                |r| r.get(0),
            )?
            .into_iter()
            .collect())
        })
    }

    /// When each subscriber last had a digest planned (empty ones not counted).
    pub fn last_digest_times(&self) -> Result<HashMap<i64, DateTime<Utc>>, StoreError> {
        self.write("last_digest_times", |c| {
            Ok(c.query(
                "SELECT subscriber_id, MAX(created_at) FROM deliveries WHERE state <> 'skipped'
                 GROUP BY subscriber_id",
                &[],
                |r| Ok((r.get(0)?, from_ts(r.get(1)?))),
            )?
            .into_iter()
            .collect())
        })
    }

    /// Which of `candidates` each of `subscriber_ids` has already been sent (each reader's
    /// sent papers read by its key, many readers a statement).
    pub fn sent_papers_among(
        &self,
        subscriber_ids: &[i64],
        candidates: &[PaperId],
    ) -> Result<HashMap<i64, HashSet<PaperId>>, StoreError> {
        let wanted: HashSet<&str> = candidates.iter().map(|c| c.as_str()).collect();
        self.write("sent_papers_among", |c| {
            let mut out: HashMap<i64, HashSet<PaperId>> = HashMap::new();
            c.query_in(
                "SELECT subscriber_id, paper_id FROM sent_papers WHERE subscriber_id IN ({in})",
                &[],
                subscriber_ids,
                |r| {
                    let paper: String = r.get(1)?;
                    if wanted.contains(paper.as_str())
                        && let Ok(pid) = PaperId::try_from(paper)
                    {
                        out.entry(r.get(0)?).or_default().insert(pid);
                    }
                    Ok(())
                },
            )?;
            Ok(out)
        })
    }

    /// Claims up to `limit` deliveries that are due: pending ones, retries whose time has
    /// come, and `sending` ones whose lease expired (their run died). Each claimed row is put
    /// in `sending` under `owner`'s lease until `now + lease`. On PostgreSQL each class is
    /// taken `FOR UPDATE SKIP LOCKED`, so any number of processes claim at once, never the
    /// same row, never waiting on each other.
    pub fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claimed>, StoreError> {
        self.transaction("claim_deliveries", |c| {
            let lock = if c.is_postgres() {
                " FOR UPDATE SKIP LOCKED"
            } else {
                ""
            };
            let (until, now_ts) = (ts_ceil(now + lease), ts(now));
            let mut ids: Vec<i64> = Vec::new();
            for due in DUE {
                let left = limit.saturating_sub(ids.len());
                if left == 0 {
                    break;
                }
                let left = i64::try_from(left).unwrap_or(i64::MAX);
                let sql = CLAIM.replace("{due}", due).replace("{lock}", lock);
                let newsletter = self.newsletter();
                ids.extend(
                    c.query(&sql, &[&owner, &until, &now_ts, &newsletter, &left], |r| {
                        r.get::<i64>(0)
                    })?,
                );
            }
            ids.sort_unstable();
            let mut claimed = Vec::with_capacity(ids.len());
            let mut unreadable = Vec::new();
            let sql = format!(
                "SELECT d.id, d.edition_id, e.period_key, d.picks, d.message_id, d.attempts,
                        d.created_at, d.reclaimed,
                        EXISTS (SELECT 1 FROM suppressions x WHERE x.email_key = s.email_key),
                        d.reclaimed_from, d.editor_note, {COLUMNS_S}
                 FROM deliveries d JOIN editions e ON e.id = d.edition_id
                 JOIN subscribers s ON s.id = d.subscriber_id
                 WHERE d.id IN ({{in}}) ORDER BY d.id"
            );
            c.query_in(&sql, &[], &ids, |r| {
                let id: i64 = r.get(0)?;
                match subscriber_at(r, 11)? {
                    Ok(subscriber) => claimed.push(Claimed {
                        id,
                        edition_id: r.get(1)?,
                        period_key: r.get(2)?,
                        picks: parse_picks(&r.get::<String>(3)?),
                        message_id: r.get(4)?,
                        attempts: u32::try_from(r.get::<i64>(5)?)?,
                        created_at: from_ts(r.get(6)?),
                        reclaimed: r.get::<i64>(7)? > 0,
                        suppressed: r.get(8)?,
                        reclaimed_from: r.get(9)?,
                        editor_note: r.get(10)?,
                        subscriber,
                    }),
                    Err(u) => unreadable.push((id, u)),
                }
                Ok(())
            })?;
            // A reader whose row no longer reads cannot be mailed: their delivery fails with
            // the reason (visible in `deliveries`), and the others go on.
            for (id, u) in unreadable {
                u.warn();
                c.execute(
                    "UPDATE deliveries SET state = 'failed', last_error = $1, lease_owner = NULL,
                         lease_until = NULL, next_attempt_at = NULL, updated_at = $2
                     WHERE id = $3",
                    &[&u.to_string(), &now_ts, &id],
                )?;
            }
            Ok(claimed)
        })
    }

    /// Records the outcomes of claimed deliveries in one transaction (one commit for many
    /// messages), one set-based `UPDATE … FROM` a batch: each row changes only while `owner`
    /// still holds its lease; the result says, per outcome, whether it did. Then the
    /// suppression list, for the hard bounces that were recorded. The same row twice in one
    /// call (no caller does that) is recorded one statement per outcome, so the first wins.
    pub fn finish_deliveries(
        &self,
        owner: &str,
        outcomes: &[(i64, Finish)],
        now: DateTime<Utc>,
    ) -> Result<Vec<bool>, StoreError> {
        let mut seen = HashSet::with_capacity(outcomes.len());
        let distinct = outcomes.iter().all(|(id, _)| seen.insert(*id));
        let chunk = if distinct { ROWS_PER_STATEMENT } else { 1 };
        self.transaction("finish_deliveries", |c| {
            let now = ts(now);
            let mut applied = Vec::with_capacity(outcomes.len());
            for part in outcomes.chunks(chunk) {
                let rows: Vec<FinishRow> = part.iter().map(|(_, f)| FinishRow::of(f)).collect();
                let values: Vec<String> = (0..part.len())
                    .map(|i| {
                        let n = i * 6;
                        format!(
                            "(CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS TEXT), \
                              CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS TEXT))",
                            n + 1,
                            n + 2,
                            n + 3,
                            n + 4,
                            n + 5,
                            n + 6
                        )
                    })
                    .collect();
                // After the rows' values: the time, then the owner.
                let (at, me) = (
                    format!("${}", part.len() * 6 + 1),
                    format!("${}", part.len() * 6 + 2),
                );
                // Per kind, as three statements would: a release goes back to pending
                // (retry after an earlier attempt) without counting the attempt, a
                // suppressed skip fails without counting it, any other outcome sets its
                // state.
                let sql = format!(
                    "WITH o (delivery, kind, new_state, error, next, via) AS (VALUES {})
                     UPDATE deliveries SET
                         state = CASE WHEN o.kind = 'release'
                             THEN CASE WHEN deliveries.attempts > 1 THEN 'retry' ELSE 'pending' END
                             ELSE o.new_state END,
                         attempts = CASE WHEN o.kind = 'finish' THEN deliveries.attempts
                             ELSE deliveries.attempts - 1 END,
                         last_error = CASE WHEN o.kind = 'release' THEN deliveries.last_error
                             ELSE o.error END,
                         next_attempt_at = CASE WHEN o.kind = 'release' THEN {at} ELSE o.next END,
                         relay = COALESCE(o.via, deliveries.relay),
                         updated_at = {at},
                         sent_at = CASE WHEN o.kind = 'finish' AND o.new_state = 'sent' THEN {at}
                             ELSE deliveries.sent_at END,
                         lease_owner = NULL, lease_until = NULL
                     FROM o
                     WHERE deliveries.id = o.delivery AND deliveries.state = 'sending'
                       AND deliveries.lease_owner = {me}
                     RETURNING id",
                    values.join(", ")
                );
                let names: Vec<(&str, &str)> = rows
                    .iter()
                    .map(|r| (r.kind.as_str(), r.state.as_str()))
                    .collect();
                let mut params: Vec<&dyn Param> = Vec::with_capacity(part.len() * 6 + 2);
                for (((id, _), row), (kind, state)) in part.iter().zip(&rows).zip(&names) {
                    params.extend([
                        id as &dyn Param,
                        kind,
                        state,
                        &row.error,
                        &row.next,
                        &row.relay,
                    ]);
                }
                params.extend([&now as &dyn Param, &owner]);
                let done: HashSet<i64> =
                    c.query(&sql, &params, |r| r.get(0))?.into_iter().collect();
                for ((id, _), row) in part.iter().zip(&rows) {
                    let ok = done.contains(id);
                    applied.push(ok);
                    if !ok {
                        lease_lost(*id, row);
                    } else if let Some((email, error)) = row.suppress {
                        c.execute(
                            "INSERT INTO suppressions (email_key, reason, created_at)
                             VALUES ($1, $2, $3)
                             ON CONFLICT (email_key) DO UPDATE SET reason = excluded.reason",
                            &[&email_key(email), &error, &now],
                        )?;
                        record_refusal(c, *id, email, error, now)?;
                    }
                }
            }
            Ok(applied)
        })
    }

    /// Extends the lease of every row `owner` holds until `until` (the heartbeat of a live
    /// run, so its rows are never taken over while it works on them). Returns how many.
    pub fn renew_leases(&self, owner: &str, until: DateTime<Utc>) -> Result<usize, StoreError> {
        self.write("renew_leases", |c| {
            Ok(c.execute(
                "UPDATE deliveries SET lease_until = $1
                 WHERE state = 'sending' AND lease_owner = $2",
                &[&ts_ceil(until), &owner],
            )? as usize)
        })
    }

    /// Rows in `sending` under other owners' unexpired leases, per owner: (owner, how many,
    /// when its lease on them runs out), earliest expiry first.
    pub fn leases_elsewhere(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, i64, DateTime<Utc>)>, StoreError> {
        self.write("leases_elsewhere", |c| {
            c.query(
                "SELECT lease_owner, COUNT(*), MAX(lease_until) FROM deliveries
                 WHERE state = 'sending' AND lease_owner <> $1 AND lease_until > $2
                 GROUP BY lease_owner ORDER BY MAX(lease_until), lease_owner",
                &[&owner, &ts(now)],
                |r| Ok((r.get(0)?, r.get(1)?, from_ts(r.get(2)?))),
            )
        })
    }

    /// Rows in `sending` under another owner's unexpired lease: (how many, earliest expiry).
    pub fn leased_elsewhere(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        self.write("leased_elsewhere", |c| {
            let row = c.query_opt(
                "SELECT COUNT(*), MIN(lease_until) FROM deliveries
                 WHERE state = 'sending' AND lease_owner <> $1 AND lease_until > $2",
                &[&owner, &ts(now)],
                |r| Ok((r.get::<i64>(0)?, r.get::<Option<i64>>(1)?)),
            )?;
            let (n, t) = row.unwrap_or((0, None));
            Ok((n, t.map(from_ts)))
        })
    }
}

/// A deadline in whole seconds, rounded up: never earlier than asked.
fn ts_ceil(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

/// The state a planned delivery starts in: an empty digest is recorded as skipped.
fn planned_state(d: &NewDelivery) -> DeliveryState {
    if d.picks.is_empty() {
        DeliveryState::Skipped
    } else {
        DeliveryState::Pending
    }
}

/// A delivery's stored picks (JSON); a row whose picks do not parse sends no papers
/// rather than failing the whole claim.
fn parse_picks(json: &str) -> Vec<PickRef> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Which of the three outcome statements records a [`Finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FinishKind {
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
struct FinishRow<'a> {
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
fn lease_lost(delivery: i64, row: &FinishRow<'_>) {
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

    /// Several senders on one database (several processes on PostgreSQL, several
    /// connections to one SQLite file).
    mod senders {
        use std::collections::HashSet;
        use std::sync::{Arc, Barrier};

        use chrono::Duration;

        use crate::domain::Finish;
        use crate::store::attempts::tests::stores_on_one_database;
        use crate::store::deliveries::plan_readers;

        #[test]
        fn four_senders_claiming_at_once_get_every_row_exactly_once() {
            let (stores, _dir) = stores_on_one_database(4);
            // PostgreSQL claimers never wait for each other; SQLite's take turns, so there
            // one may drain the queue before the others start.
            let parallel = stores[0].is_postgres();
            let (_, now) = plan_readers(&stores[0], 2_000);
            let barrier = Arc::new(Barrier::new(stores.len()));
            let handles: Vec<_> = stores
                .into_iter()
                .enumerate()
                .map(|(i, store)| {
                    let barrier = barrier.clone();
                    std::thread::spawn(move || {
                        let owner = format!("sender{i}");
                        let mut mine = Vec::new();
                        barrier.wait();
                        loop {
                            let batch = store
                                .claim_deliveries(&owner, now, Duration::seconds(300), 50)
                                .unwrap();
                            if batch.is_empty() {
                                break;
                            }
                            // Record half of them, so claims interleave with outcomes.
                            let outcomes: Vec<_> = batch
                                .iter()
                                .step_by(2)
                                .map(|c| {
                                    let relay = "relay".to_string();
                                    (c.id, Finish::Sent { relay })
                                })
                                .collect();
                            let applied = store.finish_deliveries(&owner, &outcomes, now).unwrap();
                            assert!(applied.iter().all(|a| *a), "{owner}: {applied:?}");
                            mine.extend(batch.iter().map(|c| c.id));
                        }
                        (owner, mine)
                    })
                })
                .collect();
            let mut all = Vec::new();
            for h in handles {
                let (owner, mine) = h.join().unwrap();
                assert!(
                    !parallel || !mine.is_empty(),
                    "{owner} claimed nothing: no parallelism?"
                );
                all.extend(mine);
            }
            let distinct: HashSet<i64> = all.iter().copied().collect();
            assert_eq!(all.len(), 2_000, "every row claimed exactly once");
            assert_eq!(distinct.len(), 2_000);
        }

        #[test]
        fn an_expired_lease_is_taken_over_by_one_sender_and_counted_as_reclaimed() {
            let (stores, _dir) = stores_on_one_database(3);
            let (_, now) = plan_readers(&stores[0], 100);
            let dead = stores[0]
                .claim_deliveries("dead", now, Duration::seconds(60), 100)
                .unwrap();
            assert_eq!(dead.len(), 100);
            let later = now + Duration::seconds(61);
            let barrier = Arc::new(Barrier::new(2));
            let handles: Vec<_> = stores
                .into_iter()
                .skip(1)
                .enumerate()
                .map(|(i, store)| {
                    let barrier = barrier.clone();
                    std::thread::spawn(move || {
                        barrier.wait();
                        let mut got = Vec::new();
                        loop {
                            let batch = store
                                .claim_deliveries(&format!("s{i}"), later, Duration::seconds(60), 7)
                                .unwrap();
                            if batch.is_empty() {
                                break got;
                            }
                            got.extend(batch);
                        }
                    })
                })
                .collect();
            let taken: Vec<_> = handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect();
            assert_eq!(taken.len(), 100);
            assert_eq!(
                taken.iter().map(|c| c.id).collect::<HashSet<_>>().len(),
                100
            );
            assert!(taken.iter().all(|c| c.reclaimed
                && c.attempts == 2
                && c.reclaimed_from.as_deref() == Some("dead")));
        }
    }
}
