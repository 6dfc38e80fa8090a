//! Papers: merged on upsert, never deleted.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::db::{Conn, Param, ROWS_PER_STATEMENT, placeholders};
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{Paper, PaperId, StoredPaper, UpsertCounts, ValidatorRow};

/// A paper row to write after [`merge_batch`]: inserted when `new`, else updated.
struct PaperWrite {
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
fn merge_batch(
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

/// The key of the advisory lock that serialises storing papers on PostgreSQL ("papers" in
/// ASCII).
const PAPERS_LOCK: i64 = 0x7061_7065_7273;

impl Store {
    /// Stores papers in one transaction: a new id is inserted, a known one is merged with
    /// [`Paper::merge`] (one rule per field, see `domain::merge`: the stored paper is the
    /// same whatever order its sources arrive in). The batch's stored papers are read and
    /// its new ones inserted many rows a statement. On PostgreSQL two processes fetching at
    /// once (on different hosts) must not interleave their read-merge-write, so each batch
    /// takes an advisory lock first (row locks cannot cover ids not stored yet); SQLite's one
    /// writer already serialises them.
    #[tracing::instrument(name = "Storing papers", skip_all, fields(count = papers.len()))]
    pub fn upsert_papers(
        &self,
        papers: Vec<Paper>,
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts, StoreError> {
        self.transaction("upsert_papers", |c| {
            if c.is_postgres() {
                c.execute("SELECT pg_advisory_xact_lock($1)", &[&PAPERS_LOCK])?;
            }
            let mut ids: Vec<&str> = papers
                .iter()
                .filter_map(|p| p.id.as_ref().map(PaperId::as_str))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let mut stored = papers_data(c, &ids)?;
            let (rows, counts) = merge_batch(papers, |id| Ok(stored.remove(id)))?;
            let (new, changed): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.new);
            let now = ts(now);
            for chunk in new.chunks(ROWS_PER_STATEMENT) {
                let rows: Vec<String> = (0..chunk.len())
                    .map(|i| format!("({})", placeholders(i * 6 + 1, 6)))
                    .collect();
                let sql = format!(
                    "INSERT INTO papers (id, data, upvotes, first_seen, updated_at, replacement)
                     VALUES {}",
                    rows.join(", ")
                );
                let replacement: Vec<i64> =
                    chunk.iter().map(|r| i64::from(r.replacement)).collect();
                let mut params: Vec<&dyn Param> = Vec::with_capacity(chunk.len() * 6);
                for (row, replacement) in chunk.iter().zip(&replacement) {
                    params.extend([
                        &row.id as &dyn Param,
                        &row.data,
                        &row.upvotes,
                        &now,
                        &now,
                        replacement,
                    ]);
                }
                c.execute(&sql, &params)?;
            }
            for row in &changed {
                c.execute(
                    "UPDATE papers SET data = $1, upvotes = $2, updated_at = $3 WHERE id = $4",
                    &[&row.data, &row.upvotes, &now, &row.id],
                )?;
            }
            Ok(counts)
        })
    }

    /// Papers first stored at or after `since`, news only (replacements left out), newest
    /// first. The longest read there is (every recent paper): on SQLite it runs on a
    /// read-only connection, so it holds up no writer.
    pub fn papers_seen_since(&self, since: DateTime<Utc>) -> Result<Vec<StoredPaper>, StoreError> {
        self.read("papers_seen_since", |c| {
            c.query(
                "SELECT data, first_seen, replacement FROM papers
                 WHERE first_seen >= $1 AND replacement = 0 ORDER BY first_seen DESC, id",
                &[&ts(since)],
                |r| {
                    Ok(StoredPaper {
                        paper: serde_json::from_str(&r.get::<String>(0)?)?,
                        first_seen: from_ts(r.get(1)?),
                        replacement: r.get::<i64>(2)? != 0,
                    })
                },
            )
        })
    }

    /// The papers with these ids (unknown ids are left out).
    pub fn papers_by_id(&self, ids: &[PaperId]) -> Result<HashMap<PaperId, Paper>, StoreError> {
        self.read("papers_by_id", |c| {
            let keys: Vec<&str> = ids.iter().map(PaperId::as_str).collect();
            let mut out = HashMap::with_capacity(ids.len());
            let found = papers_data(c, &keys)?;
            for id in ids {
                if let Some(json) = found.get(id.as_str()) {
                    out.insert(id.clone(), serde_json::from_str(json)?);
                }
            }
            Ok(out)
        })
    }

    /// How many papers are stored (replacements included).
    pub fn paper_count(&self) -> Result<i64, StoreError> {
        self.read("paper_count", |c| {
            c.value("SELECT COUNT(*) FROM papers", &[])
        })
    }

    /// Conditional GET validators saved by earlier fetches.
    pub fn http_validators(&self) -> Result<Vec<ValidatorRow>, StoreError> {
        self.read("http_validators", |c| {
            c.query(
                "SELECT url, etag, last_modified FROM http_validators ORDER BY url",
                &[],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
        })
    }

    /// Saves validators in one transaction, one upsert per URL (a few feeds; a URL given
    /// twice keeps the last).
    pub fn save_http_validators(&self, validators: &[ValidatorRow]) -> Result<(), StoreError> {
        self.transaction("save_http_validators", |c| {
            for (url, etag, lm) in validators {
                c.execute(
                    "INSERT INTO http_validators (url, etag, last_modified) VALUES ($1, $2, $3)
                     ON CONFLICT (url) DO UPDATE
                     SET etag = excluded.etag, last_modified = excluded.last_modified",
                    &[url, etag, lm],
                )?;
            }
            Ok(())
        })
    }
}

/// The stored JSON of the papers with these ids, by id, a few statements whatever their
/// number.
fn papers_data(c: &mut Conn<'_>, ids: &[&str]) -> anyhow::Result<HashMap<String, String>> {
    let mut out = HashMap::with_capacity(ids.len());
    c.query_in(
        "SELECT id, data FROM papers WHERE id IN ({in})",
        &[],
        ids,
        |r| {
            out.insert(r.get::<String>(0)?, r.get::<String>(1)?);
            Ok(())
        },
    )?;
    Ok(out)
}

/// Which of `ids` are stored papers, a few statements whatever their number.
pub(super) fn stored_paper_ids(c: &mut Conn<'_>, ids: &[&str]) -> anyhow::Result<HashSet<PaperId>> {
    let mut present = HashSet::new();
    c.query_in("SELECT id FROM papers WHERE id IN ({in})", &[], ids, |r| {
        if let Ok(id) = PaperId::try_from(r.get::<String>(0)?) {
            present.insert(id);
        }
        Ok(())
    })?;
    Ok(present)
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
