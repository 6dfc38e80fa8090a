//! A reader's profile seeds (their library): matching seeds to stored papers, importing a
//! file's seeds in one transaction (merge or replace, capped, idempotent), what seeded a
//! profile, and the profile's documents — liked and disliked stored papers plus seeds with
//! their text — which the profile model reads as one list. Each operation is written once
//! for both databases; the rules it applies are the free functions after them.
use super::error::DbResult;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::papers::stored_paper_ids;
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{
    Doi, Feedback, NewSeed, Paper, PaperId, ProfileDocument, ProfileSource, SeedFile, SeedImport,
    SeedMode, SeedSource, SeedSummary, SeedTally, normalise_title,
};

impl Store {
    /// Which stored paper each seed names: the one with its arXiv id, else one with its
    /// DOI, else one with its normalised title (at least 16 letters and digits long). The
    /// DOI and title matches read every stored paper's id, DOI and title once.
    #[tracing::instrument(name = "Matching seeds to stored papers", skip_all, fields(seeds = seeds.len()))]
    pub fn match_seeds(&self, seeds: &[NewSeed]) -> Result<Vec<Option<PaperId>>, StoreError> {
        self.read("match_seeds", |c| {
            let ids: Vec<&str> = seeds
                .iter()
                .filter_map(|s| s.arxiv.as_ref().map(PaperId::as_str))
                .collect();
            let present = stored_paper_ids(c, &ids)?;
            match_seeds_with(seeds, &present, || {
                // The one statement whose text differs: each database reads JSON its own way.
                let doi_and_title = if c.is_postgres() {
                    "CAST(data AS jsonb) ->> 'doi', CAST(data AS jsonb) ->> 'title'"
                } else {
                    "json_extract(data, '$.doi'), json_extract(data, '$.title')"
                };
                c.query(
                    &format!("SELECT id, {doi_and_title} FROM papers"),
                    &[],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
            })
        })
    }

    /// Stores the seeds of one library file for a reader, in one transaction. `Merge` adds
    /// them to what earlier files seeded (a paper already seeded takes this file's text);
    /// `Replace` drops every earlier seed and file first. A paper listed twice is seeded
    /// once (its first entry). Importing the same file again (same bytes) changes nothing.
    /// Refused whole ([`SeedImport::OverCap`]) when the reader would hold more than `max`.
    /// Two imports for one reader (two tabs, two hosts) run one after the other, so the cap
    /// holds: SQLite's transaction holds the database's one write lock from its start, and
    /// on PostgreSQL the reader's row is locked first.
    #[tracing::instrument(name = "Importing seeds", skip(self, source, seeds, now), fields(seeds = seeds.len()))]
    pub fn import_seeds(
        &self,
        subscriber_id: i64,
        source: &SeedSource,
        seeds: &[NewSeed],
        mode: SeedMode,
        max: usize,
        now: DateTime<Utc>,
    ) -> Result<SeedImport, StoreError> {
        self.transaction("import_seeds", |c| {
            let lock = format!("SELECT id FROM subscribers WHERE id = $1{}", c.for_update());
            c.query_opt(&lock, &[&subscriber_id], |_| Ok(()))?;
            let mut removed = 0;
            if mode == SeedMode::Replace {
                removed = c.execute(
                    "DELETE FROM seeds WHERE subscriber_id = $1",
                    &[&subscriber_id],
                )? as usize;
                c.execute(
                    "DELETE FROM seed_imports WHERE subscriber_id = $1",
                    &[&subscriber_id],
                )?;
            }
            let existing: HashMap<String, StoredSeed> = c
                .query(
                    &format!("SELECT {SEED_COLUMNS} FROM seeds WHERE subscriber_id = $1"),
                    &[&subscriber_id],
                    |r| {
                        Ok(StoredSeed {
                            key: r.get(0)?,
                            import_id: r.get(1)?,
                            line: r.get(2)?,
                            arxiv: r.get(3)?,
                            doi: r.get(4)?,
                            title: r.get(5)?,
                            abstract_text: r.get(6)?,
                            authors: r.get(7)?,
                            year: r.get(8)?,
                            paper: r.get(9)?,
                        })
                    },
                )?
                .into_iter()
                .map(|s| (s.key.clone(), s))
                .collect();
            let seeds = distinct(seeds);
            let would_hold = would_hold(&existing, &seeds);
            if would_hold > max {
                return Ok(SeedImport::OverCap { would_hold, max });
            }
            c.execute(
                "INSERT INTO seed_imports
                     (subscriber_id, file_name, format, content_hash, imported_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subscriber_id, content_hash) DO NOTHING",
                &[
                    &subscriber_id,
                    &source.file_name,
                    &source.format,
                    &source.content_hash,
                    &ts(now),
                ],
            )?;
            let import_id: i64 = c.value(
                "SELECT id FROM seed_imports WHERE subscriber_id = $1 AND content_hash = $2",
                &[&subscriber_id, &source.content_hash],
            )?;
            let (rows, mut tally) = plan_import(&existing, &seeds, import_id, removed);
            let upsert = format!(
                "INSERT INTO seeds (subscriber_id, {SEED_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) {UPSERT_SEED}"
            );
            for row in rows {
                c.execute(
                    &upsert,
                    &[
                        &subscriber_id,
                        &row.key,
                        &row.import_id,
                        &row.line,
                        &row.arxiv,
                        &row.doi,
                        &row.title,
                        &row.abstract_text,
                        &row.authors,
                        &row.year,
                        &row.paper,
                    ],
                )?;
            }
            // A file whose every seed a later file now holds has nothing left to list.
            c.execute(
                "DELETE FROM seed_imports WHERE subscriber_id = $1
                 AND id NOT IN (SELECT import_id FROM seeds WHERE subscriber_id = $1)",
                &[&subscriber_id],
            )?;
            tally.total = c.value::<i64>(
                "SELECT COUNT(*) FROM seeds WHERE subscriber_id = $1",
                &[&subscriber_id],
            )? as usize;
            Ok(SeedImport::Imported(tally))
        })
    }

    /// Forgets every seed of a reader; returns how many there were.
    pub fn clear_seeds(&self, subscriber_id: i64) -> Result<usize, StoreError> {
        self.transaction("clear_seeds", |c| {
            let n = c.execute(
                "DELETE FROM seeds WHERE subscriber_id = $1",
                &[&subscriber_id],
            )?;
            c.execute(
                "DELETE FROM seed_imports WHERE subscriber_id = $1",
                &[&subscriber_id],
            )?;
            Ok(n as usize)
        })
    }

    /// The readers who have seeded their profile with a library (planning reads their
    /// profile documents; the others have none).
    pub fn seeded_subscribers(&self) -> Result<HashSet<i64>, StoreError> {
        self.read("seeded_subscribers", |c| {
            let ids = c.query("SELECT DISTINCT subscriber_id FROM seeds", &[], |r| {
                r.get(0)
            })?;
            Ok(ids.into_iter().collect())
        })
    }

    /// What seeded a reader's profile: per file (name, format, when, seeds, matched), the
    /// totals, and the first `titles` titles in file order.
    pub fn seed_summary(
        &self,
        subscriber_id: i64,
        titles: usize,
    ) -> Result<SeedSummary, StoreError> {
        self.read("seed_summary", |c| {
            let files = c.query(
                &format!(
                    "SELECT i.file_name, i.format, i.imported_at, COUNT(*),
                            CAST(SUM({MATCHED}) AS BIGINT)
                     FROM seed_imports i JOIN seeds s ON s.import_id = i.id
                     WHERE i.subscriber_id = $1
                     GROUP BY i.id, i.file_name, i.format, i.imported_at
                     ORDER BY i.imported_at, i.id"
                ),
                &[&subscriber_id],
                |r| {
                    Ok(SeedFile {
                        file_name: r.get(0)?,
                        format: r.get(1)?,
                        imported_at: from_ts(r.get(2)?),
                        seeds: r.get::<i64>(3)? as usize,
                        matched: r.get::<i64>(4)? as usize,
                    })
                },
            )?;
            let first_titles = c.query(
                "SELECT s.title FROM seeds s JOIN seed_imports i ON i.id = s.import_id
                 WHERE s.subscriber_id = $1 ORDER BY i.imported_at, i.id, s.line LIMIT $2",
                &[&subscriber_id, &i64::try_from(titles).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )?;
            Ok(summary(files, first_titles))
        })
    }

    /// A reader's profile, as the profile model reads it: the stored papers they liked,
    /// those they disliked, then the papers of their library (a seed naming a stored paper
    /// reads that paper's text; one already liked or disliked is not repeated).
    #[tracing::instrument(name = "Reading a reader's profile documents", skip(self))]
    pub fn profile_documents(
        &self,
        subscriber_id: i64,
    ) -> Result<Vec<ProfileDocument>, StoreError> {
        self.read("profile_documents", |c| {
            let verdicts = c.query(
                "SELECT f.paper_id, f.value, p.data FROM feedback f
                 JOIN papers p ON p.id = f.paper_id
                 WHERE f.subscriber_id = $1 ORDER BY f.at, f.paper_id",
                &[&subscriber_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let seeds = c.query(
                &format!(
                    "SELECT s.title, s.abstract, s.authors, i.file_name, p.id, p.data
                     FROM seeds s JOIN seed_imports i ON i.id = s.import_id
                     LEFT JOIN papers p ON p.id = {SEED_PAPER}
                     WHERE s.subscriber_id = $1 ORDER BY i.imported_at, i.id, s.line"
                ),
                &[&subscriber_id],
                |r| {
                    Ok(SeedDocRow {
                        title: r.get(0)?,
                        abstract_text: r.get(1)?,
                        authors: r.get(2)?,
                        file_name: r.get(3)?,
                        paper_id: r.get(4)?,
                        paper_json: r.get(5)?,
                    })
                },
            )?;
            profile(verdicts, seeds)
        })
    }
}

/// The seed columns, in the order [`StoredSeed`] reads them.
const SEED_COLUMNS: &str =
    "seed_key, import_id, line, arxiv_id, doi, title, abstract, authors, year, paper_id";

/// The stored paper a seed names: the one matched at import, or one stored since under its
/// arXiv id.
const SEED_PAPER: &str = "COALESCE(s.paper_id, s.arxiv_id)";

/// 1 when a seed (`s`) names a stored paper.
const MATCHED: &str = "CASE WHEN s.paper_id IS NOT NULL
    OR EXISTS (SELECT 1 FROM papers p WHERE p.id = s.arxiv_id) THEN 1 ELSE 0 END";

/// A seed row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StoredSeed {
    key: String,
    import_id: i64,
    line: i64,
    arxiv: Option<String>,
    doi: Option<String>,
    title: String,
    abstract_text: String,
    authors: String,
    year: Option<i64>,
    paper: Option<String>,
}

impl StoredSeed {
    fn new(s: &NewSeed, import_id: i64) -> StoredSeed {
        StoredSeed {
            key: s.key.as_str().to_string(),
            import_id,
            line: s.line as i64,
            arxiv: s.arxiv.as_ref().map(|i| i.as_str().to_string()),
            doi: s.doi.as_ref().map(|d| d.as_str().to_string()),
            title: s.title.clone(),
            abstract_text: s.abstract_text.clone(),
            authors: serde_json::to_string(&s.authors).unwrap_or_else(|_| "[]".into()),
            year: s.year.map(i64::from),
            paper: s.paper.as_ref().map(|p| p.as_str().to_string()),
        }
    }
}

/// The conflict clause of a seed's upsert: the newer file's version of a paper wins.
const UPSERT_SEED: &str = "ON CONFLICT (subscriber_id, seed_key) DO UPDATE SET
    import_id = excluded.import_id, line = excluded.line,
    arxiv_id = excluded.arxiv_id, doi = excluded.doi, title = excluded.title,
    abstract = excluded.abstract, authors = excluded.authors,
    year = excluded.year, paper_id = excluded.paper_id";

/// The rows an import writes (a seed already stored exactly so is left alone) and its
/// tally so far (`total` is counted after the writes).
fn plan_import(
    existing: &HashMap<String, StoredSeed>,
    seeds: &[&NewSeed],
    import_id: i64,
    removed: usize,
) -> (Vec<StoredSeed>, SeedTally) {
    let mut tally = SeedTally {
        removed,
        ..SeedTally::default()
    };
    let mut rows = Vec::new();
    for seed in seeds {
        let row = StoredSeed::new(seed, import_id);
        match existing.get(&row.key) {
            Some(old) if *old == row => {
                tally.unchanged += 1;
                continue;
            }
            Some(_) => tally.updated += 1,
            None => tally.added += 1,
        }
        rows.push(row);
    }
    (rows, tally)
}

/// A file's seeds, one per key: the first entry of a key wins (a file listing a paper
/// twice seeds it once).
fn distinct(seeds: &[NewSeed]) -> Vec<&NewSeed> {
    let mut seen = HashSet::new();
    seeds.iter().filter(|s| seen.insert(&s.key)).collect()
}

/// How many seeds the reader would hold after adding `seeds` to `existing`.
fn would_hold(existing: &HashMap<String, StoredSeed>, seeds: &[&NewSeed]) -> usize {
    existing.len()
        + seeds
            .iter()
            .filter(|s| !existing.contains_key(s.key.as_str()))
            .count()
}

/// Shorter titles match too many papers to be trusted.
const MIN_TITLE_MATCH_CHARS: usize = 16;

/// Which stored paper each seed names: its arXiv id when stored (`present`), else a stored
/// paper with its DOI, else one with its normalised title. `scan` lists every stored
/// paper's (id, DOI, title); it runs only when some seed is left to match that way.
fn match_seeds_with(
    seeds: &[NewSeed],
    present: &HashSet<PaperId>,
    scan: impl FnOnce() -> DbResult<Vec<(String, Option<String>, Option<String>)>>,
) -> DbResult<Vec<Option<PaperId>>> {
    let mut out: Vec<Option<PaperId>> = seeds
        .iter()
        .map(|s| s.arxiv.clone().filter(|id| present.contains(id)))
        .collect();
    let left = seeds
        .iter()
        .zip(&out)
        .any(|(s, m)| m.is_none() && (s.doi.is_some() || !s.title.is_empty()));
    if !left {
        return Ok(out);
    }
    let mut by_doi: HashMap<Doi, PaperId> = HashMap::new();
    let mut by_title: HashMap<String, PaperId> = HashMap::new();
    for (id, doi, title) in scan()? {
        let Ok(id) = PaperId::try_from(id) else {
            continue;
        };
        if let Some(doi) = doi.as_deref().and_then(Doi::parse) {
            by_doi.entry(doi).or_insert_with(|| id.clone());
        }
        let t = normalise_title(title.as_deref().unwrap_or_default());
        if t.len() >= MIN_TITLE_MATCH_CHARS {
            by_title.entry(t).or_insert(id);
        }
    }
    for (seed, matched) in seeds.iter().zip(out.iter_mut()) {
        if matched.is_some() {
            continue;
        }
        *matched = seed
            .doi
            .as_ref()
            .and_then(|d| by_doi.get(d))
            .or_else(|| by_title.get(&normalise_title(&seed.title)))
            .cloned();
    }
    Ok(out)
}

fn summary(files: Vec<SeedFile>, first_titles: Vec<String>) -> SeedSummary {
    SeedSummary {
        total: files.iter().map(|f| f.seeds).sum(),
        matched: files.iter().map(|f| f.matched).sum(),
        files,
        first_titles,
    }
}

/// A seed with the stored paper it names, for [`profile`].
struct SeedDocRow {
    title: String,
    abstract_text: String,
    authors: String,
    file_name: String,
    paper_id: Option<String>,
    paper_json: Option<String>,
}

/// A reader's profile documents from their verdicts (paper id, ±1, stored paper JSON) and
/// seeds: liked papers first, then disliked, then seeds in file order. A seed naming a
/// paper already liked or disliked is not repeated; a seed naming a stored paper reads
/// that paper's text.
fn profile(
    verdicts: Vec<(String, i64, String)>,
    seeds: Vec<SeedDocRow>,
) -> DbResult<Vec<ProfileDocument>> {
    let mut seen: HashSet<PaperId> = HashSet::new();
    let mut liked = Vec::new();
    let mut disliked = Vec::new();
    for (id, value, json) in verdicts {
        let (Ok(id), Some(feedback)) = (PaperId::try_from(id), Feedback::from_value(value)) else {
            continue;
        };
        let paper: Paper = serde_json::from_str(&json)?;
        let source = match feedback {
            Feedback::Like => ProfileSource::Liked,
            Feedback::Dislike => ProfileSource::Disliked,
        };
        seen.insert(id.clone());
        let doc = document(source, Some(id), &paper);
        match feedback {
            Feedback::Like => liked.push(doc),
            Feedback::Dislike => disliked.push(doc),
        }
    }
    let mut out = liked;
    out.append(&mut disliked);
    for s in seeds {
        let source = ProfileSource::Seed {
            file_name: s.file_name,
        };
        let stored = s.paper_id.and_then(|id| PaperId::try_from(id).ok());
        match (stored, s.paper_json) {
            (Some(id), Some(json)) => {
                if !seen.insert(id.clone()) {
                    continue;
                }
                let paper: Paper = serde_json::from_str(&json)?;
                out.push(document(source, Some(id), &paper));
            }
            _ => out.push(ProfileDocument {
                source,
                paper: None,
                title: s.title,
                abstract_text: s.abstract_text,
                authors: serde_json::from_str(&s.authors).unwrap_or_default(),
            }),
        }
    }
    Ok(out)
}

fn document(source: ProfileSource, paper: Option<PaperId>, p: &Paper) -> ProfileDocument {
    ProfileDocument {
        source,
        paper,
        title: p.title.clone(),
        abstract_text: p.abstract_text.clone(),
        authors: p.authors.clone(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::SeedKey;
    use crate::store::Store;

    use crate::test_support::{add_reader as reader, arxiv_id as id};

    fn seed(arxiv: Option<&str>, doi: Option<&str>, title: &str, line: usize) -> NewSeed {
        let arxiv = arxiv.map(id);
        let doi = doi.and_then(Doi::parse);
        NewSeed {
            key: SeedKey::of(arxiv.as_ref(), doi.as_ref(), title),
            arxiv,
            doi,
            title: title.into(),
            abstract_text: format!("About {title}."),
            authors: vec!["Ada Lovelace".into()],
            year: Some(2024),
            line,
            paper: None,
        }
    }

    fn source(name: &str, hash: &str) -> SeedSource {
        SeedSource {
            file_name: name.into(),
            format: "bibtex".into(),
            content_hash: hash.into(),
        }
    }

    fn stored(store: &Store) {
        let p = |i: &str, title: &str, doi: Option<&str>| Paper {
            id: Some(id(i)),
            title: title.into(),
            abstract_text: format!("Stored abstract of {title}."),
            doi: doi.map(str::to_string),
            ..Paper::default()
        };
        store
            .upsert_papers(
                vec![
                    p("2410.00001", "Sparse Mixture of Experts at Scale", None),
                    p(
                        "2410.00002",
                        "A Paper With A Journal DOI",
                        Some("10.1000/JOURNAL.7"),
                    ),
                ],
                Utc::now(),
            )
            .unwrap();
    }

    #[test]
    fn seeds_match_stored_papers_by_arxiv_id_then_doi_then_title() {
        let store = Store::for_tests().unwrap();
        stored(&store);
        let seeds = [
            seed(Some("2410.00001v2"), None, "whatever", 1),
            seed(
                None,
                Some("https://doi.org/10.1000/journal.7"),
                "Other words",
                2,
            ),
            seed(None, None, "Sparse mixture-of-experts at {scale}", 3),
            seed(Some("2410.99999"), None, "Not stored", 4),
            seed(None, None, "Short", 5),
        ];
        let m = store.match_seeds(&seeds).unwrap();
        let m: Vec<Option<&str>> = m.iter().map(|p| p.as_ref().map(PaperId::as_str)).collect();
        assert_eq!(
            m,
            [
                Some("2410.00001"),
                Some("2410.00002"),
                Some("2410.00001"),
                None,
                None
            ]
        );
    }

    #[test]
    fn many_seeds_are_matched_by_arxiv_id_in_a_few_look_ups() {
        let store = Store::for_tests().unwrap();
        stored(&store);
        // 300 ids: two look-ups, the second one padded.
        let seeds: Vec<NewSeed> = (0..300)
            .map(|i| {
                let arxiv = match i {
                    7 => "2410.00002".to_string(),
                    299 => "2410.00001".to_string(),
                    i => format!("2411.{i:05}"),
                };
                seed(Some(&arxiv), None, "", i)
            })
            .collect();
        let m = store.match_seeds(&seeds).unwrap();
        let matched: Vec<(usize, &str)> = m
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((i, p.as_ref()?.as_str())))
            .collect();
        assert_eq!(matched, [(7, "2410.00002"), (299, "2410.00001")]);
    }

    #[test]
    fn importing_merges_replaces_is_idempotent_and_refuses_past_the_cap() {
        let store = Store::for_tests().unwrap();
        let ada = reader(&store, "ada@example.org");
        let t = Utc::now();
        let import = |file: &str, seeds: &[NewSeed], mode, max, at| {
            store
                .import_seeds(ada, &source(file, file), seeds, mode, max, at)
                .unwrap()
        };
        // (added, updated, unchanged, removed, total)
        let imported = |a, u, c, r, total| {
            SeedImport::Imported(SeedTally {
                added: a,
                updated: u,
                unchanged: c,
                removed: r,
                total,
            })
        };
        let a = [
            seed(Some("2410.00001"), None, "One", 1),
            seed(None, None, "Two", 5),
        ];
        assert_eq!(
            import("a.bib", &a, SeedMode::Merge, 10, t),
            imported(2, 0, 0, 0, 2)
        );
        let later = t + Duration::hours(1);
        assert_eq!(
            import("a.bib", &a, SeedMode::Merge, 10, later),
            imported(0, 0, 2, 0, 2)
        );
        let summary = store.seed_summary(ada, 5).unwrap();
        assert_eq!(summary.files.len(), 1, "the same file twice is one import");
        assert_eq!(
            summary.files[0].imported_at.timestamp(),
            t.timestamp(),
            "and its time is kept"
        );
        // A second file: one paper again (its version wins), one new, one twice in the file.
        let mut two = seed(None, None, "Two", 3);
        two.abstract_text = "A better abstract.".into();
        let b = [
            two,
            seed(None, Some("10.1000/x"), "Three", 9),
            seed(None, Some("10.1000/X"), "Three again", 12),
        ];
        assert_eq!(
            import("b.ris", &b, SeedMode::Merge, 10, t),
            imported(1, 1, 0, 0, 3)
        );
        let summary = store.seed_summary(ada, 2).unwrap();
        let files: Vec<_> = summary
            .files
            .iter()
            .map(|f| (f.file_name.as_str(), f.seeds))
            .collect();
        assert_eq!(files, [("a.bib", 1), ("b.ris", 2)]);
        assert_eq!(summary.first_titles, ["One", "Two"]);
        let c = [seed(None, None, "Four", 1)];
        assert_eq!(
            import("c.csv", &c, SeedMode::Merge, 3, t),
            SeedImport::OverCap {
                would_hold: 4,
                max: 3
            }
        );
        assert_eq!(
            store.seed_summary(ada, 0).unwrap().total,
            3,
            "nothing of it stored"
        );
        assert_eq!(
            import("c.csv", &c, SeedMode::Replace, 3, t),
            imported(1, 0, 0, 3, 1)
        );
        assert_eq!(store.seed_summary(ada, 5).unwrap().files.len(), 1);
        assert_eq!(store.clear_seeds(ada).unwrap(), 1);
        assert_eq!(store.seed_summary(ada, 5).unwrap(), SeedSummary::default());
    }

    #[test]
    fn the_readers_who_seeded_a_profile_are_listed_for_planning() {
        let store = Store::for_tests().unwrap();
        stored(&store);
        let ada = reader(&store, "ada@example.org");
        reader(&store, "bob@example.org");
        assert!(store.seeded_subscribers().unwrap().is_empty());
        let seeds = [seed(None, None, "A paper paperpost never stored", 1)];
        store
            .import_seeds(
                ada,
                &source("lib.bib", "h"),
                &seeds,
                SeedMode::Merge,
                10,
                Utc::now(),
            )
            .unwrap();
        assert_eq!(store.seeded_subscribers().unwrap(), HashSet::from([ada]));
        store.clear_seeds(ada).unwrap();
        assert!(store.seeded_subscribers().unwrap().is_empty());
    }

    #[test]
    fn profile_documents_are_likes_dislikes_then_seeds_each_paper_once() {
        let store = Store::for_tests().unwrap();
        stored(&store);
        let ada = reader(&store, "ada@example.org");
        let bob = reader(&store, "bob@example.org");
        let t = Utc::now();
        store
            .set_feedback(ada, &id("2410.00002"), Feedback::Dislike, t)
            .unwrap();
        let mut seeds = vec![
            seed(Some("2410.00001"), None, "File title of a stored paper", 1),
            seed(None, Some("10.1000/journal.7"), "Disliked, named by DOI", 4),
            seed(None, None, "A paper paperpost never stored", 9),
        ];
        let m = store.match_seeds(&seeds).unwrap();
        for (s, p) in seeds.iter_mut().zip(m) {
            s.paper = p;
        }
        store
            .import_seeds(ada, &source("lib.bib", "h"), &seeds, SeedMode::Merge, 10, t)
            .unwrap();
        store
            .import_seeds(
                bob,
                &source("lib.bib", "h"),
                &seeds[2..],
                SeedMode::Merge,
                10,
                t,
            )
            .unwrap();
        let docs = store.profile_documents(ada).unwrap();
        let summary: Vec<(ProfileSource, Option<&str>, &str)> = docs
            .iter()
            .map(|d| {
                (
                    d.source.clone(),
                    d.paper.as_ref().map(PaperId::as_str),
                    d.title.as_str(),
                )
            })
            .collect();
        let from_file = ProfileSource::Seed {
            file_name: "lib.bib".into(),
        };
        assert_eq!(
            summary,
            [
                (
                    ProfileSource::Disliked,
                    Some("2410.00002"),
                    "A Paper With A Journal DOI"
                ),
                (
                    from_file.clone(),
                    Some("2410.00001"),
                    "Sparse Mixture of Experts at Scale"
                ),
                (from_file, None, "A paper paperpost never stored"),
            ]
        );
        assert!(docs[1].abstract_text.starts_with("Stored abstract"));
        assert_eq!(docs[2].authors, ["Ada Lovelace"]);
        assert_eq!(store.profile_documents(bob).unwrap().len(), 1);
        assert!(store.delete_subscriber("ada@example.org").unwrap());
        assert_eq!(
            store.profile_documents(bob).unwrap().len(),
            1,
            "a purge takes only its own seeds"
        );
    }
}
