//! Papers: merged on upsert, never deleted.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Sqlite, from_ts, ts};
use crate::domain::{Paper, PaperId, StoredPaper, UpsertCounts, ValidatorRow};

/// A paper row to write after [`merge_batch`]: inserted when `new`, else updated.
pub(super) struct PaperWrite {
    pub id: String,
    /// JSON of the merged paper.
    pub data: String,
    pub upvotes: Option<i64>,
    /// First seen as an arXiv replacement (only read for a new row).
    pub replacement: bool,
    pub new: bool,
}

/// What storing `papers` changes, the same for both backends: each paper in turn is merged
/// into what is stored under its id (`stored` reads the JSON of a stored paper), or into
/// an earlier paper of the batch with the same id. Returns the rows to write (new ones in
/// merged form, so merging them again with themselves is a no-op; known ones only when the
/// merge changed them) and the counts. Papers without an id are skipped.
pub(super) fn merge_batch(
    papers: Vec<Paper>,
    mut stored: impl FnMut(&str) -> anyhow::Result<Option<String>>,
) -> anyhow::Result<(Vec<PaperWrite>, UpsertCounts)> {
    struct Entry {
        paper: Paper,
        new: bool,
        replacement: bool,
        changed: bool,
    }
    let mut counts = UpsertCounts::default();
    let mut batch: HashMap<String, Entry> = HashMap::new();
    let mut order = Vec::new();
    for paper in papers {
        let Some(id) = paper.id.as_ref().map(|id| id.as_str().to_owned()) else {
            continue;
        };
        let entry = match batch.entry(id.clone()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                order.push(id.clone());
                match stored(&id)? {
                    None => {
                        counts.new += 1;
                        slot.insert(Entry {
                            replacement: paper.is_replacement(),
                            paper: crate::domain::normalize(paper),
                            new: true,
                            changed: true,
                        });
                        continue;
                    }
                    Some(json) => slot.insert(Entry {
                        paper: serde_json::from_str(&json)?,
                        new: false,
                        replacement: false,
                        changed: false,
                    }),
                }
            }
        };
        let before = entry.paper.clone();
        entry.paper.merge(paper);
        if entry.paper != before {
            counts.updated += 1;
            entry.changed = true;
        }
    }
    let mut rows = Vec::new();
    for id in order {
        let Some(e) = batch.remove(&id) else { continue };
        if e.changed {
            rows.push(PaperWrite {
                data: serde_json::to_string(&e.paper)?,
                upvotes: e.paper.upvotes.map(i64::from),
                id,
                replacement: e.replacement,
                new: e.new,
            });
        }
    }
    Ok((rows, counts))
}

impl Sqlite {
    /// Stores papers in one transaction: a new id is inserted, a known one is merged with
    /// [`Paper::merge`] (one rule per field, see `domain::merge`: the stored paper is the
    /// same whatever order its sources arrive in).
    #[tracing::instrument(name = "Storing papers", skip_all, fields(count = papers.len()))]
    pub fn upsert_papers(
        &self,
        papers: Vec<Paper>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<UpsertCounts> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let counts;
        {
            let mut get = tx.prepare_cached("SELECT data FROM papers WHERE id = ?1")?;
            let (rows, c) = merge_batch(papers, |id| {
                Ok(get.query_row([id], |r| r.get(0)).optional()?)
            })?;
            counts = c;
            let mut insert = tx.prepare_cached(
                "INSERT INTO papers (id, data, upvotes, first_seen, updated_at, replacement)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE papers SET data = ?2, upvotes = ?3, updated_at = ?4 WHERE id = ?1",
            )?;
            for row in rows {
                if row.new {
                    insert.execute(params![
                        row.id,
                        row.data,
                        row.upvotes,
                        ts(now),
                        row.replacement
                    ])?;
                } else {
                    update.execute(params![row.id, row.data, row.upvotes, ts(now)])?;
                }
            }
        }
        tx.commit()?;
        Ok(counts)
    }

    /// Papers first stored at or after `since`, news only (replacements left out). The
    /// longest read there is (every recent paper): it runs on a read-only connection, so it
    /// holds up no writer.
    pub fn papers_seen_since(&self, since: DateTime<Utc>) -> anyhow::Result<Vec<StoredPaper>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT data, first_seen, replacement FROM papers
             WHERE first_seen >= ?1 AND replacement = 0 ORDER BY first_seen DESC, id",
        )?;
        let rows = stmt.query_map([ts(since)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (json, first_seen, replacement) = row?;
            out.push(StoredPaper {
                paper: serde_json::from_str(&json)?,
                first_seen: from_ts(first_seen),
                replacement,
            });
        }
        Ok(out)
    }

    /// The papers with these ids (unknown ids are left out).
    pub fn papers_by_id(&self, ids: &[PaperId]) -> anyhow::Result<HashMap<PaperId, Paper>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached("SELECT data FROM papers WHERE id = ?1")?;
        let mut out = HashMap::with_capacity(ids.len());
        for id in ids {
            if out.contains_key(id) {
                continue;
            }
            if let Some(json) = stmt
                .query_row([id.as_str()], |r| r.get::<_, String>(0))
                .optional()?
            {
                out.insert(id.clone(), serde_json::from_str(&json)?);
            }
        }
        Ok(out)
    }

    pub fn paper_count(&self) -> anyhow::Result<i64> {
        Ok(self
            .reader()
            .query_row("SELECT COUNT(*) FROM papers", [], |r| r.get(0))?)
    }

    /// Conditional GET validators saved by earlier fetches.
    pub fn http_validators(&self) -> anyhow::Result<Vec<ValidatorRow>> {
        let conn = self.reader();
        let mut stmt = conn.prepare("SELECT url, etag, last_modified FROM http_validators")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn save_http_validators(&self, validators: &[ValidatorRow]) -> anyhow::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO http_validators (url, etag, last_modified) VALUES (?1, ?2, ?3)
                 ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified",
            )?;
            for (url, etag, lm) in validators {
                stmt.execute(params![url, etag, lm])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use chrono::Duration;

    fn paper(id: &str, title: &str) -> Paper {
        Paper {
            id: PaperId::parse_arxiv(id).map(|p| p.0),
            title: title.into(),
            ..Paper::default()
        }
    }

    #[test]
    fn the_same_paper_twice_is_merged_not_duplicated() {
        let store = Store::for_tests().unwrap();
        let now = Utc::now();
        let mut hf = paper("2410.18975", "T");
        hf.upvotes = Some(10);
        assert_eq!(store.upsert_papers(vec![hf], now).unwrap().new, 1);
        let mut ax = paper("2410.18975v1", "T");
        ax.categories = vec!["cs.CL".into()];
        let later = now + Duration::hours(1);
        let c = store.upsert_papers(vec![ax], later).unwrap();
        assert_eq!((c.new, c.updated), (0, 1));
        let all = store.papers_seen_since(now - Duration::days(1)).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].paper.upvotes, Some(10));
        assert_eq!(all[0].paper.categories, ["cs.CL"]);
        assert_eq!(all[0].first_seen.timestamp(), now.timestamp());
    }

    #[test]
    fn the_stored_paper_is_the_same_whatever_order_its_four_sources_arrive_in() {
        use crate::domain::merge_tests::{four_sightings, permutations};
        let now = Utc::now();
        let mut stored = Vec::new();
        for order in permutations(&four_sightings()) {
            let store = Store::for_tests().unwrap();
            for (i, p) in order.into_iter().enumerate() {
                store
                    .upsert_papers(vec![p], now + Duration::minutes(i as i64))
                    .unwrap();
            }
            let id = PaperId::parse_arxiv("2410.18975").unwrap().0;
            assert_eq!(store.paper_count().unwrap(), 1);
            stored.push(
                store
                    .papers_by_id(std::slice::from_ref(&id))
                    .unwrap()
                    .remove(&id)
                    .unwrap(),
            );
        }
        assert_eq!(stored.len(), 24);
        assert!(stored.iter().all(|p| p == &stored[0]));
        assert_eq!(stored[0].upvotes, Some(28));
        assert_eq!(stored[0].authors.len(), 8);
    }

    #[test]
    fn replacements_are_stored_but_not_news() {
        let store = Store::for_tests().unwrap();
        let mut p = paper("2401.00001", "R");
        p.announce_type = Some("replace".into());
        store.upsert_papers(vec![p], Utc::now()).unwrap();
        assert_eq!(store.paper_count().unwrap(), 1);
        assert!(
            store
                .papers_seen_since(Utc::now() - Duration::days(1))
                .unwrap()
                .is_empty()
        );
    }
}
