//! Likes and dislikes: one row per reader and paper, the latest verdict wins, removable;
//! and the text of every stored paper, which the recommender indexes.
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Store, StoreError, from_ts, ts};
use crate::domain::{Feedback, FeedbackRow, Paper, PaperId, ReaderFeedback};

impl Store {
    /// Records `feedback` of reader `subscriber_id` on `paper`, replacing an earlier one.
    /// One statement (an upsert), so concurrent verdicts on one paper leave the last one.
    #[tracing::instrument(name = "Recording feedback", skip(self, paper, now))]
    pub fn set_feedback(
        &self,
        subscriber_id: i64,
        paper: &PaperId,
        feedback: Feedback,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("set_feedback", |c| {
            c.execute(
                "INSERT INTO feedback (subscriber_id, paper_id, value, at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (subscriber_id, paper_id)
                 DO UPDATE SET value = excluded.value, at = excluded.at",
                &[&subscriber_id, &paper.as_str(), &feedback.value(), &ts(now)],
            )?;
            Ok(())
        })
    }

    /// Forgets the reader's verdict on `paper`; `false` when there was none.
    pub fn remove_feedback(&self, subscriber_id: i64, paper: &PaperId) -> Result<bool, StoreError> {
        self.write("remove_feedback", |c| {
            Ok(c.execute(
                "DELETE FROM feedback WHERE subscriber_id = $1 AND paper_id = $2",
                &[&subscriber_id, &paper.as_str()],
            )? > 0)
        })
    }

    /// One reader's verdicts, newest first.
    pub fn feedback_of(&self, subscriber_id: i64) -> Result<Vec<FeedbackRow>, StoreError> {
        self.read("feedback_of", |c| {
            let rows = c.query(
                "SELECT paper_id, value, at FROM feedback WHERE subscriber_id = $1
                 ORDER BY at DESC, paper_id",
                &[&subscriber_id],
                |r| Ok(to_row(r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            Ok(rows.into_iter().flatten().collect())
        })
    }

    /// Every reader's likes and dislikes (oldest first), for planning. Readers without
    /// feedback are absent.
    pub fn feedback_by_subscriber(&self) -> Result<HashMap<i64, ReaderFeedback>, StoreError> {
        self.read("feedback_by_subscriber", |c| {
            let mut out: HashMap<i64, ReaderFeedback> = HashMap::new();
            c.query(
                "SELECT subscriber_id, paper_id, value FROM feedback
                 ORDER BY subscriber_id, at, paper_id",
                &[],
                |r| {
                    if let Some(row) = to_row(r.get(1)?, r.get(2)?, 0) {
                        out.entry(r.get(0)?)
                            .or_default()
                            .add(row.paper_id, row.feedback);
                    }
                    Ok(())
                },
            )?;
            Ok(out)
        })
    }

    /// The number of verdicts stored (all readers).
    pub fn feedback_count(&self) -> Result<i64, StoreError> {
        self.read("feedback_count", |c| {
            c.value("SELECT COUNT(*) FROM feedback", &[])
        })
    }

    /// Every stored paper (replacements included): the text the recommender learns from.
    #[tracing::instrument(name = "Reading every paper", skip_all)]
    pub fn all_papers(&self) -> Result<Vec<Paper>, StoreError> {
        self.read("all_papers", |c| {
            c.query("SELECT data FROM papers ORDER BY id", &[], |r| {
                Ok(serde_json::from_str(&r.get::<String>(0)?)?)
            })
        })
    }

    /// Whether a paper with this id is stored.
    pub fn has_paper(&self, id: &PaperId) -> Result<bool, StoreError> {
        self.read("has_paper", |c| {
            c.exists("SELECT 1 FROM papers WHERE id = $1", &[&id.as_str()])
        })
    }
}

/// A row, or `None` for one this version cannot read (an id or value written by hand).
fn to_row(id: String, value: i64, at: i64) -> Option<FeedbackRow> {
    let paper_id = PaperId::try_from(id).ok()?;
    Some(FeedbackRow {
        paper_id,
        feedback: Feedback::from_value(value)?,
        at: from_ts(at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use chrono::Duration;

    use crate::test_support::{add_reader as reader, arxiv_id as id};

    #[test]
    fn the_latest_verdict_wins_and_can_be_removed() {
        let store = Store::for_tests().unwrap();
        let ada = reader(&store, "ada@example.org");
        let t = Utc::now();
        store
            .set_feedback(ada, &id("2410.18975"), Feedback::Like, t)
            .unwrap();
        store
            .set_feedback(
                ada,
                &id("2410.18975"),
                Feedback::Dislike,
                t + Duration::seconds(5),
            )
            .unwrap();
        let rows = store.feedback_of(ada).unwrap();
        assert_eq!(rows.len(), 1, "one row per reader and paper");
        assert_eq!(rows[0].feedback, Feedback::Dislike);
        assert!(store.remove_feedback(ada, &id("2410.18975")).unwrap());
        assert!(!store.remove_feedback(ada, &id("2410.18975")).unwrap());
        assert!(store.feedback_of(ada).unwrap().is_empty());
    }

    #[test]
    fn feedback_is_kept_per_reader_and_goes_with_a_purged_reader() {
        let store = Store::for_tests().unwrap();
        let (ada, bob) = (
            reader(&store, "ada@example.org"),
            reader(&store, "bob@example.org"),
        );
        let t = Utc::now();
        store
            .set_feedback(ada, &id("2410.00001"), Feedback::Like, t)
            .unwrap();
        store
            .set_feedback(ada, &id("2410.00002"), Feedback::Dislike, t)
            .unwrap();
        store
            .set_feedback(bob, &id("2410.00001"), Feedback::Dislike, t)
            .unwrap();
        let all = store.feedback_by_subscriber().unwrap();
        assert_eq!(all[&ada].likes, [id("2410.00001")]);
        assert_eq!(all[&ada].dislikes, [id("2410.00002")]);
        assert_eq!(all[&bob].dislikes, [id("2410.00001")]);
        assert!(store.delete_subscriber("ada@example.org").unwrap());
        assert_eq!(store.feedback_count().unwrap(), 1);
    }

    #[test]
    fn every_paper_is_read_for_the_index() {
        let store = Store::for_tests().unwrap();
        let p = |i: &str| Paper {
            id: Some(id(i)),
            title: format!("Paper {i}"),
            ..Paper::default()
        };
        store
            .upsert_papers(vec![p("2410.00002"), p("2410.00001")], Utc::now())
            .unwrap();
        let all = store.all_papers().unwrap();
        assert_eq!(
            all.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(),
            ["Paper 2410.00001", "Paper 2410.00002"]
        );
        assert!(store.has_paper(&id("2410.00001")).unwrap());
        assert!(!store.has_paper(&id("2410.00003")).unwrap());
    }
}
