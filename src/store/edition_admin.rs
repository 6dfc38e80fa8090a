//! Editions as the operator manages them: a list with counts per delivery state, and
//! cancelling what an edition has not delivered yet so it can be planned again.
use super::error::{DbError, DbResult};
use std::collections::HashMap;

use super::{Store, StoreError, from_ts};
use crate::domain::{CancelledEdition, DeliveryState, EditionSummary};

/// Rows of an edition that never reached a reader: what cancelling withdraws.
const UNDELIVERED: &str =
    "(state IN ('pending', 'retry', 'skipped') OR (state = 'sent' AND relay = 'file'))";

impl Store {
    /// Editions, newest first, with their delivery counts (two queries in all).
    pub fn edition_summaries(&self, limit: usize) -> Result<Vec<EditionSummary>, StoreError> {
        self.read("edition_summaries", |c| {
            let editions: Vec<(i64, String, i64)> = c.query(
                "SELECT id, period_key, created_at FROM editions WHERE newsletter = $1
                 ORDER BY created_at DESC, id DESC LIMIT $2",
                &[
                    &self.newsletter(),
                    &i64::try_from(limit).unwrap_or(i64::MAX),
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let ids: Vec<i64> = editions.iter().map(|e| e.0).collect();
            let mut counts: HashMap<i64, Vec<(String, i64, Option<i64>)>> = HashMap::new();
            c.query_in(
                "SELECT edition_id, state, COUNT(*),
                        CAST(SUM(CASE WHEN state = 'sent' AND relay = 'file' THEN 1 ELSE 0 END)
                             AS BIGINT)
                 FROM deliveries WHERE edition_id IN ({in})
                 GROUP BY edition_id, state ORDER BY edition_id, state",
                &[],
                &ids,
                |r| {
                    counts
                        .entry(r.get(0)?)
                        .or_default()
                        .push((r.get(1)?, r.get(2)?, r.get(3)?));
                    Ok(())
                },
            )?;
            editions
                .into_iter()
                .map(|(id, period_key, created_at)| {
                    let rows = counts.remove(&id).unwrap_or_default();
                    edition_summary(id, period_key, created_at, rows)
                })
                .collect()
        })
    }

    /// The edition named by its id or period key (`2026-W48`, `2026-11-26`).
    pub fn find_edition(&self, id_or_key: &str) -> Result<Option<(i64, String)>, StoreError> {
        let id = id_or_key.trim().parse::<i64>().ok();
        self.read("find_edition", |c| {
            c.query_opt(
                "SELECT id, period_key FROM editions
                 WHERE (period_key = $1 OR id = $2) AND newsletter = $3
                 ORDER BY id LIMIT 1",
                &[&id_or_key.trim(), &id, &self.newsletter()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }

    /// Withdraws, in one transaction, every delivery of the edition that did not reach its
    /// reader (pending, retry, skipped, or only written as an `.eml` file), and forgets that
    /// their papers were sent to those readers, so planning the period again plans them
    /// afresh. Delivered, unknown, failed and in-flight rows stay as they are.
    ///
    /// Race-free against senders on other hosts: the edition row is locked first (on
    /// PostgreSQL `FOR UPDATE`, which also holds off planning into it, whose foreign key
    /// check needs a share lock on that row), the deliveries are deleted by one `DELETE …
    /// RETURNING` that re-checks each row's state after waiting for a claimer's lock (a row
    /// claimed meanwhile is `sending` and stays), and only the readers of the rows really
    /// deleted get their papers unmarked.
    pub fn cancel_edition(&self, edition_id: i64) -> Result<CancelledEdition, StoreError> {
        self.transaction("cancel_edition", |c| {
            let lock = c.for_update();
            let period_key: String = c
                .query_opt(
                    &format!("SELECT period_key FROM editions WHERE id = $1{lock}"),
                    &[&edition_id],
                    |r| r.get(0),
                )?
                .ok_or_else(|| DbError::msg(format!("Edition {edition_id} does not exist")))?;
            let withdrawn: Vec<i64> = c.query(
                &format!(
                    "DELETE FROM deliveries WHERE edition_id = $1 AND {UNDELIVERED}
                     RETURNING subscriber_id"
                ),
                &[&edition_id],
                |r| r.get(0),
            )?;
            let papers_unmarked = c.execute_in(
                "DELETE FROM sent_papers WHERE edition_id = $1 AND subscriber_id IN ({in})",
                &[&edition_id],
                &withdrawn,
            )?;
            let kept: i64 = c.value(
                "SELECT COUNT(*) FROM deliveries WHERE edition_id = $1",
                &[&edition_id],
            )?;
            let edition_removed = kept == 0;
            if edition_removed {
                c.execute("DELETE FROM editions WHERE id = $1", &[&edition_id])?;
            }
            Ok(CancelledEdition {
                period_key,
                withdrawn: withdrawn.len(),
                papers_unmarked: papers_unmarked as usize,
                kept: kept as usize,
                edition_removed,
            })
        })
    }
}

/// An edition's summary from its row and its `(state, count, written to files)` rows.
fn edition_summary(
    id: i64,
    period_key: String,
    created_at: i64,
    counts: Vec<(String, i64, Option<i64>)>,
) -> DbResult<EditionSummary> {
    let mut summary = EditionSummary {
        id,
        period_key,
        planned_at: from_ts(created_at),
        counts: Vec::with_capacity(counts.len()),
        written_to_files: 0,
    };
    for (state, n, files) in counts {
        let state = state.parse::<DeliveryState>().map_err(DbError::msg)?;
        summary.counts.push((state, n));
        summary.written_to_files += files.unwrap_or(0);
    }
    summary.counts.sort();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::{Finish, NewDelivery, NewSubscriber};
    use crate::domain::{PaperId, PickRef, SubscriberEmail, Topics};
    use crate::store::Store;

    fn pick(id: &str) -> PickRef {
        PickRef {
            id: PaperId::parse_arxiv(id).unwrap().0,
            reasons: vec![],
            more_like: false,
            pinned: false,
            note: None,
        }
    }

    #[test]
    fn cancelling_withdraws_only_what_was_not_delivered_and_unmarks_its_papers() {
        let store = Store::for_tests().unwrap();
        let now = Utc::now();
        let add = |e: &str| {
            store
                .add_subscriber(
                    &NewSubscriber::active(SubscriberEmail::parse(e).unwrap(), Topics::default()),
                    now,
                )
                .unwrap()
                .id
        };
        let (ada, bob) = (add("ada@example.org"), add("bob@example.org"));
        let (e, _) = store.edition_for_period("2026-W48", &[], now).unwrap();
        let plan = |s: i64, p: &str| NewDelivery {
            subscriber_id: s,
            picks: vec![pick(p)],
            message_id: format!("<{s}@x>"),
            editor_note: None,
        };
        store
            .plan_deliveries(
                e.id,
                &[plan(ada, "2411.00001"), plan(bob, "2411.00002")],
                now,
            )
            .unwrap();
        // Ada's digest goes out over SMTP; Bob's stays pending.
        let claimed = store
            .claim_deliveries("t", now, chrono::Duration::seconds(60), 1)
            .unwrap();
        assert_eq!(claimed.len(), 1);
        store
            .finish_deliveries(
                "t",
                &[(claimed[0].id, Finish::Sent { relay: "mx".into() })],
                now,
            )
            .unwrap();

        let out = store.cancel_edition(e.id).unwrap();

        assert_eq!((out.withdrawn, out.papers_unmarked, out.kept), (1, 1, 1));
        assert!(!out.edition_removed);
        let left = store.planned_subscribers(e.id).unwrap();
        assert_eq!(left.len(), 1, "only the delivered row stays");
        let ids = [pick("2411.00001").id, pick("2411.00002").id];
        let sent = store.sent_papers_among(&[ada, bob], &ids).unwrap();
        assert_eq!(
            sent.get(&ada).map(|s| s.len()),
            Some(1),
            "Ada's paper stays sent"
        );
        assert!(
            sent.get(&bob).is_none_or(|s| s.is_empty()),
            "Bob's is free again"
        );
        let summary = &store.edition_summaries(10).unwrap()[0];
        assert_eq!(summary.counts, vec![(DeliveryState::Sent, 1)]);
    }
}
