//! PostgreSQL operations of a reader's seeds (the SQLite ones, and the rules both share,
//! are in `../seeds.rs`). An import locks the reader's row first, so two imports for one
//! reader (two tabs, two hosts) run one after the other and the cap holds.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::Postgres;
use super::pool::Sql;
use crate::domain::{
    NewSeed, PaperId, ProfileDocument, SeedFile, SeedImport, SeedMode, SeedSource, SeedSummary,
};
use crate::store::seeds::{
    MATCHED, SEED_COLUMNS, SEED_PAPER, SeedDocRow, StoredSeed, UPSERT_SEED, distinct,
    match_seeds_with, plan_import, profile, summary, would_hold,
};
use crate::store::{from_ts, ts};

impl Postgres {
    pub(in crate::store) fn match_seeds(
        &self,
        seeds: &[NewSeed],
    ) -> anyhow::Result<Vec<Option<PaperId>>> {
        let mut conn = self.conn()?;
        let ids: Vec<&str> = seeds
            .iter()
            .filter_map(|s| s.arxiv.as_ref().map(PaperId::as_str))
            .collect();
        let present: HashSet<PaperId> = conn
            .query("SELECT id FROM papers WHERE id = ANY($1)", &[&ids])?
            .iter()
            .filter_map(|r| PaperId::try_from(r.get::<_, String>(0)).ok())
            .collect();
        match_seeds_with(seeds, &present, || {
            Ok(conn
                .query(
                    "SELECT id, data::jsonb ->> 'doi', data::jsonb ->> 'title' FROM papers",
                    &[],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect())
        })
    }

    pub(in crate::store) fn import_seeds(
        &self,
        subscriber_id: i64,
        source: &SeedSource,
        seeds: &[NewSeed],
        mode: SeedMode,
        max: usize,
        now: DateTime<Utc>,
    ) -> anyhow::Result<SeedImport> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.query_opt(
            "SELECT id FROM subscribers WHERE id = $1 FOR UPDATE",
            &[&subscriber_id],
        )?;
        let mut removed = 0;
        if mode == SeedMode::Replace {
            removed = tx.execute(
                "DELETE FROM seeds WHERE subscriber_id = $1",
                &[&subscriber_id],
            )? as usize;
            tx.execute(
                "DELETE FROM seed_imports WHERE subscriber_id = $1",
                &[&subscriber_id],
            )?;
        }
        let existing: HashMap<String, StoredSeed> = tx
            .query(
                &format!("SELECT {SEED_COLUMNS} FROM seeds WHERE subscriber_id = $1"),
                &[&subscriber_id],
            )?
            .iter()
            .map(|r| {
                let s = StoredSeed {
                    key: r.get(0),
                    import_id: r.get(1),
                    line: r.get(2),
                    arxiv: r.get(3),
                    doi: r.get(4),
                    title: r.get(5),
                    abstract_text: r.get(6),
                    authors: r.get(7),
                    year: r.get(8),
                    paper: r.get(9),
                };
                (s.key.clone(), s)
            })
            .collect();
        let seeds = distinct(seeds);
        let would_hold = would_hold(&existing, &seeds);
        if would_hold > max {
            return Ok(SeedImport::OverCap { would_hold, max });
        }
        tx.execute(
            "INSERT INTO seed_imports (subscriber_id, file_name, format, content_hash, imported_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subscriber_id, content_hash) DO NOTHING",
            &[
                &subscriber_id,
                &source.file_name,
                &source.format,
                &source.content_hash,
                &ts(now),
            ],
        )?;
        let import_id: i64 = tx
            .query_one(
                "SELECT id FROM seed_imports WHERE subscriber_id = $1 AND content_hash = $2",
                &[&subscriber_id, &source.content_hash],
            )?
            .get(0);
        let (rows, mut tally) = plan_import(&existing, &seeds, import_id, removed);
        let upsert = format!(
            "INSERT INTO seeds (subscriber_id, {SEED_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) {UPSERT_SEED}"
        );
        for row in rows {
            tx.execute(
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
        tx.execute(
            "DELETE FROM seed_imports WHERE subscriber_id = $1
             AND id NOT IN (SELECT import_id FROM seeds WHERE subscriber_id = $1)",
            &[&subscriber_id],
        )?;
        tally.total = tx
            .query_one(
                "SELECT COUNT(*) FROM seeds WHERE subscriber_id = $1",
                &[&subscriber_id],
            )?
            .get::<_, i64>(0) as usize;
        tx.commit()?;
        Ok(SeedImport::Imported(tally))
    }

    pub(in crate::store) fn clear_seeds(&self, subscriber_id: i64) -> anyhow::Result<usize> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM seeds WHERE subscriber_id = $1",
            &[&subscriber_id],
        )?;
        tx.execute(
            "DELETE FROM seed_imports WHERE subscriber_id = $1",
            &[&subscriber_id],
        )?;
        tx.commit()?;
        Ok(n as usize)
    }

    pub(in crate::store) fn seeded_subscribers(&self) -> anyhow::Result<HashSet<i64>> {
        let mut conn = self.conn()?;
        Ok(conn
            .query("SELECT DISTINCT subscriber_id FROM seeds", &[])?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    pub(in crate::store) fn seed_summary(
        &self,
        subscriber_id: i64,
        titles: usize,
    ) -> anyhow::Result<SeedSummary> {
        let mut conn = self.conn()?;
        let files = conn
            .query(
                &format!(
                    "SELECT i.file_name, i.format, i.imported_at, COUNT(*), SUM({MATCHED})::BIGINT
                     FROM seed_imports i JOIN seeds s ON s.import_id = i.id
                     WHERE i.subscriber_id = $1
                     GROUP BY i.id, i.file_name, i.format, i.imported_at
                     ORDER BY i.imported_at, i.id"
                ),
                &[&subscriber_id],
            )?
            .iter()
            .map(|r| SeedFile {
                file_name: r.get(0),
                format: r.get(1),
                imported_at: from_ts(r.get(2)),
                seeds: r.get::<_, i64>(3) as usize,
                matched: r.get::<_, i64>(4) as usize,
            })
            .collect();
        let first_titles = conn
            .query(
                "SELECT s.title FROM seeds s JOIN seed_imports i ON i.id = s.import_id
                 WHERE s.subscriber_id = $1 ORDER BY i.imported_at, i.id, s.line LIMIT $2",
                &[&subscriber_id, &(titles as i64)],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(summary(files, first_titles))
    }

    pub(in crate::store) fn profile_documents(
        &self,
        subscriber_id: i64,
    ) -> anyhow::Result<Vec<ProfileDocument>> {
        let mut conn = self.conn()?;
        let verdicts = conn
            .query(
                "SELECT f.paper_id, f.value, p.data FROM feedback f
                 JOIN papers p ON p.id = f.paper_id
                 WHERE f.subscriber_id = $1 ORDER BY f.at, f.paper_id COLLATE \"C\"",
                &[&subscriber_id],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let seeds = conn
            .query(
                &format!(
                    "SELECT s.title, s.abstract, s.authors, i.file_name, p.id, p.data
                     FROM seeds s JOIN seed_imports i ON i.id = s.import_id
                     LEFT JOIN papers p ON p.id = {SEED_PAPER}
                     WHERE s.subscriber_id = $1 ORDER BY i.imported_at, i.id, s.line"
                ),
                &[&subscriber_id],
            )?
            .iter()
            .map(|r| SeedDocRow {
                title: r.get(0),
                abstract_text: r.get(1),
                authors: r.get(2),
                file_name: r.get(3),
                paper_id: r.get(4),
                paper_json: r.get(5),
            })
            .collect();
        profile(verdicts, seeds)
    }
}
