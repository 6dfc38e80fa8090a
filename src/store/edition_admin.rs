//! Editions as the operator manages them: a list with counts per delivery state, and
//! cancelling what an edition has not delivered yet so it can be planned again.
use rusqlite::{OptionalExtension, params};

use super::{Sqlite, from_ts};
use crate::domain::{CancelledEdition, DeliveryState, EditionSummary};

/// Rows of an edition that never reached a reader: what cancelling withdraws.
pub(super) const UNDELIVERED: &str =
    "(state IN ('pending', 'retry', 'skipped') OR (state = 'sent' AND relay = 'file'))";

/// An edition's summary from its row and its `(state, count, written to files)` rows, for
/// both backends.
pub(super) fn edition_summary(
    id: i64,
    period_key: String,
    created_at: i64,
    counts: Vec<(String, i64, Option<i64>)>,
) -> anyhow::Result<EditionSummary> {
    let mut summary = EditionSummary {
        id,
        period_key,
        planned_at: from_ts(created_at),
        counts: Vec::with_capacity(counts.len()),
        written_to_files: 0,
    };
    for (state, n, files) in counts {
        let state = state.parse::<DeliveryState>().map_err(anyhow::Error::msg)?;
        summary.counts.push((state, n));
        summary.written_to_files += files.unwrap_or(0);
    }
    summary.counts.sort();
    Ok(summary)
}

impl Sqlite {
    /// Editions, newest first, with their delivery counts.
    pub fn edition_summaries(&self, limit: usize) -> anyhow::Result<Vec<EditionSummary>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, period_key, created_at FROM editions
             ORDER BY created_at DESC, id DESC LIMIT ?1",
        )?;
        let editions: Vec<(i64, String, i64)> = stmt
            .query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut counts = conn.prepare_cached(
            "SELECT state, COUNT(*), SUM(state = 'sent' AND relay = 'file')
             FROM deliveries WHERE edition_id = ?1 GROUP BY state",
        )?;
        let mut out = Vec::with_capacity(editions.len());
        for (id, period_key, created_at) in editions {
            let rows = counts
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            out.push(edition_summary(id, period_key, created_at, rows)?);
        }
        Ok(out)
    }

    /// The edition named by its id or period key (`2026-W48`, `2026-11-26`).
    pub fn find_edition(&self, id_or_key: &str) -> anyhow::Result<Option<(i64, String)>> {
        let id = id_or_key.trim().parse::<i64>().ok();
        Ok(self
            .reader()
            .query_row(
                "SELECT id, period_key FROM editions WHERE period_key = ?1 OR id = ?2",
                params![id_or_key.trim(), id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Withdraws, in one transaction, every delivery of the edition that did not reach its
    /// reader (pending, retry, skipped, or only written as an `.eml` file), and forgets that
    /// their papers were sent to those readers, so planning the period again plans them
    /// afresh. Delivered, unknown, failed and in-flight rows stay as they are.
    pub fn cancel_edition(&self, edition_id: i64) -> anyhow::Result<CancelledEdition> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let period_key: String = tx.query_row(
            "SELECT period_key FROM editions WHERE id = ?1",
            [edition_id],
            |r| r.get(0),
        )?;
        let papers_unmarked = tx.execute(
            &format!(
                "DELETE FROM sent_papers WHERE edition_id = ?1 AND subscriber_id IN
                   (SELECT subscriber_id FROM deliveries WHERE edition_id = ?1 AND {UNDELIVERED})"
            ),
            [edition_id],
        )?;
        let withdrawn = tx.execute(
            &format!("DELETE FROM deliveries WHERE edition_id = ?1 AND {UNDELIVERED}"),
            [edition_id],
        )?;
        let kept: i64 = tx.query_row(
            "SELECT COUNT(*) FROM deliveries WHERE edition_id = ?1",
            [edition_id],
            |r| r.get(0),
        )?;
        let edition_removed = kept == 0;
        if edition_removed {
            tx.execute("DELETE FROM editions WHERE id = ?1", [edition_id])?;
        }
        tx.commit()?;
        Ok(CancelledEdition {
            period_key,
            withdrawn,
            papers_unmarked,
            kept: kept as usize,
            edition_removed,
        })
    }
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
