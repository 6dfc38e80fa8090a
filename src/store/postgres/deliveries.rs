//! PostgreSQL operations of `deliveries` (the SQLite ones are in `../deliveries.rs`): the
//! work queue several `paperpost send` processes on different hosts share.
//!
//! Race-freedom without SQLite's one-writer `BEGIN IMMEDIATE`:
//! - claiming locks the rows it takes with `FOR UPDATE SKIP LOCKED`, so two claimers never
//!   get the same row and never wait for each other;
//! - recording an outcome is one `UPDATE … WHERE state = 'sending' AND lease_owner = $me`:
//!   a row taken over meanwhile no longer matches (PostgreSQL re-checks the condition on the
//!   row's newest version after waiting for its lock);
//! - planning relies on the unique (edition, subscriber) key: `ON CONFLICT DO NOTHING`.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::Postgres;
use super::pool::Sql;
use crate::domain::{Claimed, Finish, NewDelivery, PaperId};
use crate::store::deliveries::{FinishRow, lease_lost, parse_picks, planned_state, ts_ceil};
use crate::store::subscribers::{COLUMNS_S, email_key};
use crate::store::{from_ts, ts};

/// Rows per planning statement: big enough that 100,000 readers take 100 round trips,
/// small enough that one statement's arrays stay a few MB.
const PLAN_CHUNK: usize = 1_000;

/// Outcomes per recording statement.
const FINISH_CHUNK: usize = 1_000;

/// Claims one class of due rows (`{}` is its condition), at most `$4`, skipping rows
/// another transaction has locked (another claimer, or an outcome being recorded).
const CLAIM: &str = "UPDATE deliveries d
     SET reclaimed = d.reclaimed + (d.state = 'sending')::int,
         reclaimed_from = CASE WHEN d.state = 'sending' THEN d.lease_owner END,
         state = 'sending', lease_owner = $1::text, lease_until = $2::bigint,
         attempts = d.attempts + 1, updated_at = $3::bigint
     WHERE d.id IN (SELECT id FROM deliveries WHERE {} LIMIT $4 FOR UPDATE SKIP LOCKED)
     RETURNING d.id";

/// The three classes of due rows, in the order SQLite takes them: pending, retries whose
/// time has come, then rows whose holder's lease expired (its run died).
const DUE: [&str; 3] = [
    "state = 'pending'",
    "state = 'retry' AND next_attempt_at <= $3::bigint",
    "state = 'sending' AND lease_until <= $3::bigint AND lease_owner <> $1::text",
];

impl Postgres {
    /// In one transaction, in chunks of [`PLAN_CHUNK`] rows (one `INSERT … SELECT FROM
    /// unnest(…)` each, plus one for the chunk's papers). Concurrent planners of the same
    /// edition meet on the unique (edition, subscriber) key: the later one waits for the
    /// earlier's commit and then inserts nothing for those readers.
    pub(in crate::store) fn plan_deliveries(
        &self,
        edition_id: i64,
        deliveries: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        // A reader listed twice is planned once, from the first entry (as SQLite does).
        let mut seen = HashSet::with_capacity(deliveries.len());
        let unique: Vec<&NewDelivery> = deliveries
            .iter()
            .filter(|d| seen.insert(d.subscriber_id))
            .collect();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let mut inserted = 0;
        for chunk in unique.chunks(PLAN_CHUNK) {
            let mut subscribers = Vec::with_capacity(chunk.len());
            let mut states = Vec::with_capacity(chunk.len());
            let mut picks = Vec::with_capacity(chunk.len());
            let mut message_ids = Vec::with_capacity(chunk.len());
            let mut notes = Vec::with_capacity(chunk.len());
            for d in chunk {
                subscribers.push(d.subscriber_id);
                states.push(planned_state(d).as_str());
                picks.push(serde_json::to_string(&d.picks)?);
                message_ids.push(d.message_id.as_str());
                notes.push(d.editor_note.as_deref());
            }
            let rows = tx.query(
                "INSERT INTO deliveries (edition_id, subscriber_id, state, picks, message_id,
                     created_at, updated_at, editor_note)
                 SELECT $1::bigint, t.subscriber_id, t.state, t.picks, t.message_id,
                     $7::bigint, $7::bigint, t.editor_note
                 FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])
                     AS t (subscriber_id, state, picks, message_id, editor_note)
                 ON CONFLICT (edition_id, subscriber_id) DO NOTHING
                 RETURNING subscriber_id",
                &[
                    &edition_id,
                    &subscribers,
                    &states,
                    &picks,
                    &message_ids,
                    &notes,
                    &ts(now),
                ],
            )?;
            inserted += rows.len();
            let new: HashSet<i64> = rows.iter().map(|r| r.get(0)).collect();
            // The papers of each newly planned digest, remembered as sent to its reader.
            let (mut who, mut papers) = (Vec::new(), Vec::new());
            for d in chunk.iter().filter(|d| new.contains(&d.subscriber_id)) {
                for p in &d.picks {
                    who.push(d.subscriber_id);
                    papers.push(p.id.as_str());
                }
            }
            if !who.is_empty() {
                tx.execute(
                    "INSERT INTO sent_papers (subscriber_id, paper_id, edition_id)
                     SELECT t.subscriber_id, t.paper_id, $3::bigint
                     FROM unnest($1::bigint[], $2::text[]) AS t (subscriber_id, paper_id)
                     ON CONFLICT DO NOTHING",
                    &[&who, &papers, &edition_id],
                )?;
            }
        }
        tx.commit()?;
        Ok(inserted)
    }

    pub(in crate::store) fn planned_subscribers(
        &self,
        edition_id: i64,
    ) -> anyhow::Result<HashSet<i64>> {
        let rows = self.conn()?.query(
            "SELECT subscriber_id FROM deliveries WHERE edition_id = $1",
            &[&edition_id],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub(in crate::store) fn last_digest_times(
        &self,
    ) -> anyhow::Result<HashMap<i64, DateTime<Utc>>> {
        let rows = self.conn()?.query(
            "SELECT subscriber_id, MAX(created_at) FROM deliveries WHERE state <> 'skipped'
             GROUP BY subscriber_id",
            &[],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), from_ts(r.get(1)))).collect())
    }

    pub(in crate::store) fn sent_papers_among(
        &self,
        subscriber_ids: &[i64],
        candidates: &[PaperId],
    ) -> anyhow::Result<HashMap<i64, HashSet<PaperId>>> {
        let candidates: Vec<&str> = candidates.iter().map(|c| c.as_str()).collect();
        let rows = self.conn()?.query(
            "SELECT subscriber_id, paper_id FROM sent_papers
             WHERE subscriber_id = ANY($1) AND paper_id = ANY($2)",
            &[&subscriber_ids, &candidates],
        )?;
        let mut out: HashMap<i64, HashSet<PaperId>> = HashMap::new();
        for r in &rows {
            if let Ok(pid) = PaperId::try_from(r.get::<_, String>(1)) {
                out.entry(r.get(0)).or_default().insert(pid);
            }
        }
        Ok(out)
    }

    /// `FOR UPDATE SKIP LOCKED` per class of due rows (see [`CLAIM`]), all in one
    /// transaction, so any number of processes claim at once, never the same row, never
    /// waiting on each other.
    pub(in crate::store) fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> anyhow::Result<Vec<Claimed>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let until = ts_ceil(now + lease);
        let mut ids: Vec<i64> = Vec::new();
        for due in DUE {
            let left = limit.saturating_sub(ids.len());
            if left == 0 {
                break;
            }
            let left = i64::try_from(left).unwrap_or(i64::MAX);
            let rows = tx.query(
                &CLAIM.replace("{}", due),
                &[&owner, &until, &ts(now), &left],
            )?;
            ids.extend(rows.iter().map(|r| r.get::<_, i64>(0)));
        }
        if ids.is_empty() {
            tx.commit()?;
            return Ok(Vec::new());
        }
        let rows = tx.query(
            &format!(
                "SELECT d.id, d.edition_id, e.period_key, d.picks, d.message_id, d.attempts,
                        d.created_at, d.reclaimed,
                        EXISTS (SELECT 1 FROM suppressions x WHERE x.email_key = s.email_key),
                        d.reclaimed_from, d.editor_note, {COLUMNS_S}
                 FROM deliveries d JOIN editions e ON e.id = d.edition_id
                 JOIN subscribers s ON s.id = d.subscriber_id
                 WHERE d.id = ANY($1) ORDER BY d.id"
            ),
            &[&ids],
        )?;
        let mut claimed = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            match super::subscribers::row_to_subscriber_at(r, 11)? {
                Ok(subscriber) => claimed.push(Claimed {
                    id,
                    edition_id: r.try_get(1)?,
                    period_key: r.try_get(2)?,
                    picks: parse_picks(r.try_get(3)?),
                    message_id: r.try_get(4)?,
                    attempts: u32::try_from(r.try_get::<_, i64>(5)?)?,
                    created_at: from_ts(r.try_get(6)?),
                    reclaimed: r.try_get::<_, i64>(7)? > 0,
                    suppressed: r.try_get(8)?,
                    reclaimed_from: r.try_get(9)?,
                    editor_note: r.try_get(10)?,
                    subscriber,
                }),
                Err(u) => unreadable.push((id, u)),
            }
        }
        // A reader whose row no longer reads cannot be mailed: their delivery fails with
        // the reason (visible in `deliveries`), and the others go on.
        for (id, u) in unreadable {
            u.warn();
            tx.execute(
                "UPDATE deliveries SET state = 'failed', last_error = $2, lease_owner = NULL,
                     lease_until = NULL, next_attempt_at = NULL, updated_at = $3
                 WHERE id = $1",
                &[&id, &u.to_string(), &ts(now)],
            )?;
        }
        tx.commit()?;
        Ok(claimed)
    }

    /// One set-based `UPDATE … FROM unnest(…)` per [`FINISH_CHUNK`] outcomes, each row
    /// changed only while `owner` still holds its lease; then the suppression list, for the
    /// hard bounces that were recorded. The same row twice in one call (no caller does
    /// that) is recorded one statement per outcome, so the first wins as in SQLite.
    pub(in crate::store) fn finish_deliveries(
        &self,
        owner: &str,
        outcomes: &[(i64, Finish)],
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<bool>> {
        let mut seen = HashSet::with_capacity(outcomes.len());
        let distinct = outcomes.iter().all(|(id, _)| seen.insert(*id));
        let chunk = if distinct { FINISH_CHUNK } else { 1 };
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let mut applied = Vec::with_capacity(outcomes.len());
        for part in outcomes.chunks(chunk) {
            let rows: Vec<FinishRow> = part.iter().map(|(_, f)| FinishRow::of(f)).collect();
            let ids: Vec<i64> = part.iter().map(|(id, _)| *id).collect();
            let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
            let states: Vec<&str> = rows.iter().map(|r| r.state.as_str()).collect();
            let errors: Vec<Option<&str>> = rows.iter().map(|r| r.error).collect();
            let nexts: Vec<Option<i64>> = rows.iter().map(|r| r.next).collect();
            let relays: Vec<Option<&str>> = rows.iter().map(|r| r.relay).collect();
            // Per kind, the same columns as SQLite's three statements: a release goes back
            // to pending (retry after an earlier attempt) without counting the attempt, a
            // suppressed skip fails without counting it, any other outcome sets its state.
            let done = tx.query(
                "UPDATE deliveries d SET
                     state = CASE WHEN o.kind = 'release'
                         THEN CASE WHEN d.attempts > 1 THEN 'retry' ELSE 'pending' END
                         ELSE o.state END,
                     attempts = CASE WHEN o.kind = 'finish' THEN d.attempts
                         ELSE d.attempts - 1 END,
                     last_error = CASE WHEN o.kind = 'release' THEN d.last_error
                         ELSE o.error END,
                     next_attempt_at = CASE WHEN o.kind = 'release' THEN $2::bigint
                         ELSE o.next END,
                     relay = COALESCE(o.relay, d.relay),
                     updated_at = $2::bigint,
                     sent_at = CASE WHEN o.kind = 'finish' AND o.state = 'sent' THEN $2::bigint
                         ELSE d.sent_at END,
                     lease_owner = NULL, lease_until = NULL
                 FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                             $8::text[]) AS o (id, kind, state, error, next, relay)
                 WHERE d.id = o.id AND d.state = 'sending' AND d.lease_owner = $1::text
                 RETURNING d.id",
                &[
                    &owner,
                    &ts(now),
                    &ids,
                    &kinds,
                    &states,
                    &errors,
                    &nexts,
                    &relays,
                ],
            )?;
            let done: HashSet<i64> = done.iter().map(|r| r.get(0)).collect();
            for (id, row) in ids.iter().zip(&rows) {
                let ok = done.contains(id);
                applied.push(ok);
                if !ok {
                    lease_lost(*id, row);
                } else if let Some((email, error)) = row.suppress {
                    tx.execute(
                        "INSERT INTO suppressions (email_key, reason, created_at)
                         VALUES ($1, $2, $3)
                         ON CONFLICT (email_key) DO UPDATE SET reason = excluded.reason",
                        &[&email_key(email), &error, &ts(now)],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(applied)
    }

    pub(in crate::store) fn renew_leases(
        &self,
        owner: &str,
        until: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        let n = self.conn()?.execute(
            "UPDATE deliveries SET lease_until = $2 WHERE state = 'sending' AND lease_owner = $1",
            &[&owner, &ts_ceil(until)],
        )?;
        Ok(usize::try_from(n)?)
    }

    pub(in crate::store) fn leases_elsewhere(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<(String, i64, DateTime<Utc>)>> {
        let rows = self.conn()?.query(
            "SELECT lease_owner, COUNT(*), MAX(lease_until) FROM deliveries
             WHERE state = 'sending' AND lease_owner <> $1 AND lease_until > $2
             GROUP BY lease_owner ORDER BY MAX(lease_until), lease_owner",
            &[&owner, &ts(now)],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), from_ts(r.get(2))))
            .collect())
    }

    pub(in crate::store) fn leased_elsewhere(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(i64, Option<DateTime<Utc>>)> {
        let r = self.conn()?.query_one(
            "SELECT COUNT(*), MIN(lease_until) FROM deliveries
             WHERE state = 'sending' AND lease_owner <> $1 AND lease_until > $2",
            &[&owner, &ts(now)],
        )?;
        Ok((r.get(0), r.get::<_, Option<i64>>(1).map(from_ts)))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::{Arc, Barrier};

    use chrono::Duration;

    use crate::domain::Finish;
    use crate::store::deliveries::plan_readers;
    use crate::store::{PostgresOptions, Store, test_server};

    fn stores(n: usize) -> Vec<Store> {
        let url = test_server::shared()
            .unwrap()
            .fresh_database("claims")
            .unwrap();
        (0..n)
            .map(|_| Store::open_postgres(&PostgresOptions::for_tests(url.clone())).unwrap())
            .collect()
    }

    #[test]
    fn four_senders_claiming_at_once_get_every_row_exactly_once() {
        let stores = stores(4);
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
            assert!(!mine.is_empty(), "{owner} claimed nothing: no parallelism?");
            all.extend(mine);
        }
        let distinct: HashSet<i64> = all.iter().copied().collect();
        assert_eq!(all.len(), 2_000, "every row claimed exactly once");
        assert_eq!(distinct.len(), 2_000);
    }

    #[test]
    fn an_expired_lease_is_taken_over_by_one_sender_and_counted_as_reclaimed() {
        let stores = stores(3);
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
