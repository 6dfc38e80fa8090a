//! A reader's own sent digests, as planned: what their web copy (`/d/{token}/{edition}`)
//! and their private feed (`/feed/{token}.xml`) render again.
use super::db::Row;
use super::error::DbResult;
use super::{Store, StoreError, from_ts};
use crate::domain::SentDigest;

const COLUMNS: &str = "e.period_key, d.picks, d.editor_note, d.created_at, d.updated_at";

/// A row of [`COLUMNS`]; unreadable picks are none.
fn row_to_sent(r: &Row<'_>) -> DbResult<SentDigest> {
    Ok(SentDigest {
        period_key: r.get(0)?,
        picks: serde_json::from_str(&r.get::<String>(1)?).unwrap_or_default(),
        editor_note: r.get(2)?,
        planned_at: from_ts(r.get(3)?),
        sent_at: from_ts(r.get(4)?),
    })
}

impl Store {
    /// The digest of edition `period_key` sent to subscriber `subscriber_id`, if one was
    /// (at most one: a reader has one delivery per edition).
    pub fn sent_digest(
        &self,
        subscriber_id: i64,
        period_key: &str,
    ) -> Result<Option<SentDigest>, StoreError> {
        self.write("sent_digest", |c| {
            c.query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM deliveries d JOIN editions e ON e.id = d.edition_id
                     WHERE d.subscriber_id = $1 AND e.period_key = $2 AND d.state = 'sent'"
                ),
                &[&subscriber_id, &period_key],
                row_to_sent,
            )
        })
    }

    /// The last `limit` digests sent to a subscriber, newest first.
    pub fn sent_digests(
        &self,
        subscriber_id: i64,
        limit: usize,
    ) -> Result<Vec<SentDigest>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.write("sent_digests", |c| {
            c.query(
                &format!(
                    "SELECT {COLUMNS} FROM deliveries d JOIN editions e ON e.id = d.edition_id
                     WHERE d.subscriber_id = $1 AND d.state = 'sent'
                     ORDER BY d.updated_at DESC, d.id DESC LIMIT $2"
                ),
                &[&subscriber_id, &limit],
                row_to_sent,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use crate::domain::{
        Finish, NewDelivery, NewSubscriber, PaperId, PickRef, SubscriberEmail, Topics,
    };
    use crate::store::Store;

    #[test]
    fn only_sent_digests_are_found_newest_first_with_their_note() {
        let store = Store::for_tests().unwrap();
        let t0 = chrono::Utc::now() - Duration::days(14);
        let add = |e: &str| {
            let email = SubscriberEmail::parse(e).unwrap();
            store
                .add_subscriber(&NewSubscriber::active(email, Topics::default()), t0)
                .unwrap()
                .id
        };
        let (ada, bob) = (add("ada@example.org"), add("bob@example.org"));
        let pick = PickRef::pinned(PaperId::parse_arxiv("2410.18975").unwrap().0, None);
        for (week, at) in [("2026-W46", t0), ("2026-W47", t0 + Duration::days(7))] {
            let (e, _) = store.edition_for_period(week, &[], at).unwrap();
            let plan = |s: i64| NewDelivery {
                subscriber_id: s,
                picks: vec![pick.clone()],
                message_id: format!("<{week}.{s}@x>"),
                editor_note: Some(format!("note of {week}")),
            };
            store
                .plan_deliveries(e.id, &[plan(ada), plan(bob)], at)
                .unwrap();
            // Only Ada's is sent; Bob's stays pending.
            let claimed = store
                .claim_deliveries("t", at, Duration::minutes(5), 10)
                .unwrap();
            let outcomes: Vec<_> = claimed
                .iter()
                .map(|c| {
                    let f = if c.subscriber.id == ada {
                        Finish::Sent { relay: "r".into() }
                    } else {
                        Finish::Release
                    };
                    (c.id, f)
                })
                .collect();
            store.finish_deliveries("t", &outcomes, at).unwrap();
        }
        let w46 = store.sent_digest(ada, "2026-W46").unwrap().unwrap();
        assert_eq!(w46.editor_note.as_deref(), Some("note of 2026-W46"));
        assert_eq!(w46.picks, vec![pick]);
        assert!(store.sent_digest(bob, "2026-W46").unwrap().is_none());
        assert!(store.sent_digest(ada, "2026-W45").unwrap().is_none());
        let all: Vec<_> = store
            .sent_digests(ada, 10)
            .unwrap()
            .into_iter()
            .map(|d| d.period_key)
            .collect();
        assert_eq!(all, ["2026-W47", "2026-W46"]);
        assert_eq!(store.sent_digests(ada, 1).unwrap().len(), 1);
    }
}
