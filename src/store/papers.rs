//! Papers: merged on upsert, never deleted.
use super::error::{DbError, DbResult};
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

/// A `paper_aliases` row: (alias, the id of the stored paper it names).
type AliasRow = (String, String);

/// What storing `papers` changes, the same for both backends: each paper in turn is merged
/// into the stored paper any of its keys ([`Paper::match_keys`]: its id, its DOI, its
/// published version's DOI) names — `stored` gives the stored id and JSON of the first key
/// that is a stored id or an alias of one — or into an earlier paper of the batch sharing a
/// key. A paper merged into one stored under another key takes that key as its id: a stored
/// paper's id never changes (deliveries, feedback and vectors point at it). Returns the rows
/// to write (new ones in merged form, so merging them again with themselves is a no-op;
/// known ones only when the merge changed them), the aliases (every key of every paper, with
/// the id it is stored under; ids themselves left out) and the counts. Papers without an id
/// are skipped.
fn merge_batch(
    papers: Vec<Paper>,
    mut stored: impl FnMut(&[PaperId]) -> DbResult<Option<(String, String)>>,
) -> DbResult<(Vec<PaperWrite>, Vec<AliasRow>, UpsertCounts)> {
    struct Entry {
        paper: Paper,
        new: bool,
        replacement: bool,
        changed: bool,
    }
    let mut counts = UpsertCounts::default();
    let mut batch: HashMap<String, Entry> = HashMap::new();
    // Every key seen in the batch, to the id its paper is stored under.
    let mut target_of: HashMap<String, String> = HashMap::new();
    let mut order = Vec::new();
    for mut paper in papers {
        let Some(own) = paper.id.as_ref().map(|id| id.as_str().to_owned()) else {
            continue;
        };
        let keys = paper.match_keys();
        let target = match keys.iter().find_map(|k| target_of.get(k.as_str())) {
            Some(t) => t.clone(),
            None => match stored(&keys)? {
                // Another key of a stored paper already in the batch.
                Some((id, _)) if batch.contains_key(&id) => id,
                Some((id, json)) => {
                    order.push(id.clone());
                    batch.insert(
                        id.clone(),
                        Entry {
                            paper: serde_json::from_str(&json)?,
                            new: false,
                            replacement: false,
                            changed: false,
                        },
                    );
                    id
                }
                None => own.clone(),
            },
        };
        for key in &keys {
            target_of.entry(key.to_string()).or_insert(target.clone());
        }
        if target != own {
            paper.id = Some(PaperId::try_from(target.clone()).map_err(DbError::msg)?);
        }
        let Some(entry) = batch.get_mut(&target) else {
            counts.new += 1;
            order.push(target.clone());
            batch.insert(
                target,
                Entry {
                    replacement: paper.is_replacement(),
                    paper: crate::domain::normalize(paper),
                    new: true,
                    changed: true,
                },
            );
            continue;
        };
        let before = entry.paper.clone();
        entry.paper.merge(paper);
        if entry.paper != before {
            counts.updated += 1;
            entry.changed = true;
        }
    }
    for (id, e) in &batch {
        for key in e.paper.match_keys() {
            target_of
                .entry(key.to_string())
                .or_insert_with(|| id.clone());
        }
    }
    let mut aliases: Vec<AliasRow> = target_of
        .into_iter()
        .filter(|(alias, id)| alias != id)
        .collect();
    aliases.sort_unstable();
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
    Ok((rows, aliases, counts))
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
            let mut keys: Vec<String> = papers
                .iter()
                .flat_map(Paper::match_keys)
                .map(String::from)
                .collect();
            keys.sort_unstable();
            keys.dedup();
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            // A store opened at an older schema (tests make one as an older paperpost left
            // it) has no aliases to read or keep.
            let with_aliases =
                super::meta::schema_version_of(c)? >= super::migrations::ALIASES_SINCE;
            let mut data = papers_data(c, &keys)?;
            let alias = if with_aliases {
                aliased(c, &keys)?
            } else {
                HashMap::new()
            };
            let mut missing: Vec<&str> = alias
                .values()
                .map(String::as_str)
                .filter(|id| !data.contains_key(*id))
                .collect();
            missing.sort_unstable();
            missing.dedup();
            let more = papers_data(c, &missing)?;
            data.extend(more);
            let (rows, aliases, counts) = merge_batch(papers, |keys| {
                for key in keys.iter().map(PaperId::as_str) {
                    if let Some(json) = data.get(key) {
                        return Ok(Some((key.to_string(), json.clone())));
                    }
                    if let Some(id) = alias.get(key)
                        && let Some(json) = data.get(id)
                    {
                        return Ok(Some((id.clone(), json.clone())));
                    }
                }
                Ok(None)
            })?;
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
            if with_aliases {
                insert_aliases(c, &aliases)?;
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

    /// The papers with these ids, or stored under another key these ids are aliases of (a
    /// DOI of a paper stored under its arXiv id, say); unknown ids are left out.
    pub fn papers_by_id(&self, ids: &[PaperId]) -> Result<HashMap<PaperId, Paper>, StoreError> {
        self.read("papers_by_id", |c| {
            let keys: Vec<&str> = ids.iter().map(PaperId::as_str).collect();
            let mut out = HashMap::with_capacity(ids.len());
            let mut found = papers_data(c, &keys)?;
            let unknown: Vec<&str> = keys
                .iter()
                .copied()
                .filter(|k| !found.contains_key(*k))
                .collect();
            let alias = aliased(c, &unknown)?;
            let targets: Vec<&str> = alias.values().map(String::as_str).collect();
            let by_alias = papers_data(c, &targets)?;
            for (key, id) in &alias {
                if let Some(json) = by_alias.get(id) {
                    found.insert(key.clone(), json.clone());
                }
            }
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
fn papers_data(c: &mut Conn<'_>, ids: &[&str]) -> DbResult<HashMap<String, String>> {
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

/// Writes `paper_aliases` rows; an alias already naming a paper keeps it (a stored
/// paper's keys never move).
fn insert_aliases(c: &mut Conn<'_>, aliases: &[AliasRow]) -> DbResult<()> {
    for chunk in aliases.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", placeholders(i * 2 + 1, 2)))
            .collect();
        let sql = format!(
            "INSERT INTO paper_aliases (alias, paper_id) VALUES {}
             ON CONFLICT (alias) DO NOTHING",
            rows.join(", ")
        );
        let params: Vec<&dyn Param> = chunk
            .iter()
            .flat_map(|(alias, id)| [alias as &dyn Param, id])
            .collect();
        c.execute(&sql, &params)?;
    }
    Ok(())
}

/// The `meta` key set once the papers stored before schema 16 have their aliases.
const ALIASES_BACKFILLED: &str = "paper_aliases_backfilled";

impl Store {
    /// Gives the papers stored before the store kept aliases (schema 16) theirs — an arXiv
    /// paper's journal DOI, a preprint's published DOI — so a later sighting under one of
    /// them merges: once, on the first open of a store holding papers (a new store has
    /// none to do and records nothing). Idempotent, so two processes opening at once are
    /// harmless.
    pub(super) fn backfill_aliases(&self) -> Result<(), StoreError> {
        // Read first: every open goes through here, and an empty store (or one already done)
        // must not take the write lock for nothing.
        let done = self.meta(ALIASES_BACKFILLED)?.is_some();
        if done
            || !self.read("backfill_aliases", |c| {
                c.exists("SELECT 1 FROM papers LIMIT 1", &[])
            })?
        {
            return Ok(());
        }
        // Papers are never deleted, so the store still holds some inside the transaction.
        self.transaction("backfill_aliases", |c| {
            let mut aliases: Vec<AliasRow> = Vec::new();
            c.query("SELECT id, data FROM papers ORDER BY id", &[], |r| {
                let id: String = r.get(0)?;
                // A row that no longer reads is reported where it is used, not here.
                if let Ok(p) = serde_json::from_str::<Paper>(&r.get::<String>(1)?) {
                    for key in p.match_keys() {
                        if key.as_str() != id {
                            aliases.push((key.to_string(), id.clone()));
                        }
                    }
                }
                Ok(())
            })?;
            insert_aliases(c, &aliases)?;
            c.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                &[&ALIASES_BACKFILLED, &"1"],
            )?;
            tracing::info!(
                aliases = aliases.len(),
                "recorded the other keys of stored papers"
            );
            Ok(())
        })
    }
}

/// The stored ids that these keys are aliases of, by key (keys that are no alias left out).
fn aliased(c: &mut Conn<'_>, keys: &[&str]) -> DbResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    c.query_in(
        "SELECT alias, paper_id FROM paper_aliases WHERE alias IN ({in})",
        &[],
        keys,
        |r| {
            out.insert(r.get::<String>(0)?, r.get::<String>(1)?);
            Ok(())
        },
    )?;
    Ok(out)
}

/// Which of `ids` are stored papers, a few statements whatever their number.
pub(super) fn stored_paper_ids(c: &mut Conn<'_>, ids: &[&str]) -> DbResult<HashSet<PaperId>> {
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

    fn doi_paper(doi: &str, title: &str, origin: crate::domain::SourceKind) -> Paper {
        Paper {
            id: PaperId::from_doi(doi),
            doi: Some(doi.into()),
            title: title.into(),
            origin: Some(origin),
            ..Paper::default()
        }
    }

    #[test]
    fn a_paper_keyed_otherwise_is_merged_into_the_stored_one_by_doi_or_published_doi() {
        use crate::domain::SourceKind::{ArxivApi, Biorxiv, Feed};
        let store = Store::for_tests().unwrap();
        let now = Utc::now();
        // An arXiv paper whose journal version has a DOI, then a journal feed's item.
        let mut ax = paper("2410.18975", "arXiv title");
        ax.doi = Some("10.1000/J.1".into());
        ax.origin = Some(ArxivApi);
        store.upsert_papers(vec![ax], now).unwrap();
        let mut toc = doi_paper("https://doi.org/10.1000/j.1", "Journal title", Feed);
        toc.abstract_text = "From the journal.".into();
        let c = store.upsert_papers(vec![toc], now).unwrap();
        assert_eq!((c.new, c.updated), (0, 1));
        // A preprint, then the journal paper it became (a DOI no stored id has yet), then
        // the preprint again from another source in the same batch as the journal paper.
        let mut pre = doi_paper("10.1101/2024.01.01.123456", "Preprint", Biorxiv);
        pre.published_doi = Some("10.5555/pub.9".into());
        store.upsert_papers(vec![pre.clone()], now).unwrap();
        let journal = doi_paper("10.5555/PUB.9", "Published", Feed);
        let mut again = doi_paper("doi:10.1101/2024.01.01.123456v2", "Preprint", Feed);
        again.categories = vec!["Genomics".into()];
        let c = store.upsert_papers(vec![journal, again], now).unwrap();
        assert_eq!((c.new, c.updated), (0, 2));
        assert_eq!(store.paper_count().unwrap(), 2);
        let all = store.papers_seen_since(now - Duration::days(1)).unwrap();
        let ids: HashSet<String> = all
            .iter()
            .map(|p| p.paper.id.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(
            ids,
            HashSet::from(["2410.18975".into(), "doi:10.1101/2024.01.01.123456".into()])
        );
        let by = |k: &str| {
            let id = PaperId::try_from(k.to_string()).unwrap();
            store
                .papers_by_id(std::slice::from_ref(&id))
                .unwrap()
                .remove(&id)
        };
        let arxiv = by("doi:10.1000/j.1").expect("the arXiv paper by its DOI");
        assert_eq!(arxiv.title, "arXiv title", "arXiv's title over the feed's");
        assert_eq!(arxiv.abstract_text, "From the journal.");
        let preprint = by("doi:10.5555/pub.9").expect("the preprint by its published DOI");
        assert_eq!(
            preprint.title, "Preprint",
            "bioRxiv's title over the feed's"
        );
        assert_eq!(preprint.categories, ["Genomics"]);
        assert!(by("doi:10.9999/none").is_none());
    }

    #[test]
    fn papers_stored_before_aliases_get_theirs_on_the_first_open() {
        let dir = tempfile::tempdir().unwrap();
        let settings = crate::store::StoreOptions::Sqlite(dir.path().join("old.sqlite3"));
        let old = Store::open_at_version(&settings, 15).unwrap();
        let mut ax = paper("2410.18975", "arXiv title");
        ax.doi = Some("10.1000/j.1".into());
        let now = Utc::now();
        old.upsert_papers(vec![ax], now).unwrap();
        drop(old);
        let store = Store::open_with(&settings).unwrap();
        assert_eq!(
            store.meta(ALIASES_BACKFILLED).unwrap().as_deref(),
            Some("1")
        );
        let mut toc = doi_paper(
            "10.1000/J.1",
            "Journal title",
            crate::domain::SourceKind::Feed,
        );
        toc.abstract_text = "From the journal.".into();
        let c = store.upsert_papers(vec![toc], now).unwrap();
        assert_eq!((c.new, c.updated), (0, 1), "merged into the arXiv paper");
        assert_eq!(store.paper_count().unwrap(), 1);
        // A new store has nothing to do and records nothing (`store copy` wants it empty).
        let fresh = Store::open(&dir.path().join("new.sqlite3")).unwrap();
        assert_eq!(fresh.meta(ALIASES_BACKFILLED).unwrap(), None);
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
