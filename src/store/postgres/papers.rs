//! PostgreSQL operations of `papers` (the SQLite ones are in `../papers.rs`).
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::Postgres;
use super::pool::Sql;
use crate::domain::{Paper, PaperId, StoredPaper, UpsertCounts, ValidatorRow};
use crate::store::papers::merge_batch;
use crate::store::{from_ts, ts};

/// The key of the advisory lock that serialises storing papers ("papers" in ASCII).
const PAPERS_LOCK: i64 = 0x7061_7065_7273;

impl Postgres {
    /// Storing a batch reads the stored papers, merges in Rust and writes the result back,
    /// so two processes fetching at once (on different hosts) must not interleave: each
    /// batch takes `pg_advisory_xact_lock(PAPERS_LOCK)` first (row locks cannot cover the
    /// ids not stored yet). Then it is three set-based statements whatever the batch size:
    /// read every stored paper of the batch, insert the new ones, update the changed ones.
    pub(in crate::store) fn upsert_papers(
        &self,
        papers: Vec<Paper>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<UpsertCounts> {
        let span = tracing::info_span!("Storing papers", count = papers.len());
        let _enter = span.enter();
        let mut ids: Vec<&str> = papers
            .iter()
            .filter_map(|p| p.id.as_ref().map(PaperId::as_str))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PAPERS_LOCK])?;
        let mut stored: HashMap<String, String> = tx
            .query("SELECT id, data FROM papers WHERE id = ANY($1)", &[&ids])?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let (rows, counts) = merge_batch(papers, |id| Ok(stored.remove(id)))?;
        let (new, changed): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.new);
        if !new.is_empty() {
            let ids: Vec<&str> = new.iter().map(|r| r.id.as_str()).collect();
            let data: Vec<&str> = new.iter().map(|r| r.data.as_str()).collect();
            let upvotes: Vec<Option<i64>> = new.iter().map(|r| r.upvotes).collect();
            let replacement: Vec<i64> = new.iter().map(|r| i64::from(r.replacement)).collect();
            tx.execute(
                "INSERT INTO papers (id, data, upvotes, first_seen, updated_at, replacement)
                 SELECT t.id, t.data, t.upvotes, $4, $4, t.replacement
                 FROM unnest($1::text[], $2::text[], $3::bigint[], $5::bigint[])
                     AS t (id, data, upvotes, replacement)",
                &[&ids, &data, &upvotes, &ts(now), &replacement],
            )?;
        }
        if !changed.is_empty() {
            let ids: Vec<&str> = changed.iter().map(|r| r.id.as_str()).collect();
            let data: Vec<&str> = changed.iter().map(|r| r.data.as_str()).collect();
            let upvotes: Vec<Option<i64>> = changed.iter().map(|r| r.upvotes).collect();
            tx.execute(
                "UPDATE papers SET data = t.data, upvotes = t.upvotes, updated_at = $4
                 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t (id, data, upvotes)
                 WHERE papers.id = t.id",
                &[&ids, &data, &upvotes, &ts(now)],
            )?;
        }
        tx.commit()?;
        Ok(counts)
    }

    /// Papers first stored at or after `since`, news only, newest first.
    pub(in crate::store) fn papers_seen_since(
        &self,
        since: DateTime<Utc>,
    ) -> anyhow::Result<Vec<StoredPaper>> {
        let rows = self.conn()?.query(
            "SELECT data, first_seen, replacement FROM papers
             WHERE first_seen >= $1 AND replacement = 0 ORDER BY first_seen DESC, id",
            &[&ts(since)],
        )?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredPaper {
                    paper: serde_json::from_str(r.get::<_, &str>(0))?,
                    first_seen: from_ts(r.get(1)),
                    replacement: r.get::<_, i64>(2) != 0,
                })
            })
            .collect()
    }

    /// The papers with these ids (unknown ids are left out), in one query.
    pub(in crate::store) fn papers_by_id(
        &self,
        ids: &[PaperId],
    ) -> anyhow::Result<HashMap<PaperId, Paper>> {
        let asked: HashMap<&str, &PaperId> = ids.iter().map(|id| (id.as_str(), id)).collect();
        let keys: Vec<&str> = asked.keys().copied().collect();
        let rows = self
            .conn()?
            .query("SELECT id, data FROM papers WHERE id = ANY($1)", &[&keys])?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in rows {
            if let Some(id) = asked.get(r.get::<_, &str>(0)) {
                out.insert((*id).clone(), serde_json::from_str(r.get::<_, &str>(1))?);
            }
        }
        Ok(out)
    }

    pub(in crate::store) fn paper_count(&self) -> anyhow::Result<i64> {
        Ok(self
            .conn()?
            .query_one("SELECT COUNT(*) FROM papers", &[])?
            .get(0))
    }

    /// Conditional GET validators saved by earlier fetches.
    pub(in crate::store) fn http_validators(&self) -> anyhow::Result<Vec<ValidatorRow>> {
        Ok(self
            .conn()?
            .query(
                "SELECT url, etag, last_modified FROM http_validators ORDER BY url",
                &[],
            )?
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    /// One upsert per URL in one transaction (a few feeds: a loop of one prepared
    /// statement; a set-based upsert would refuse a URL given twice, where the last wins).
    pub(in crate::store) fn save_http_validators(
        &self,
        validators: &[ValidatorRow],
    ) -> anyhow::Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        for (url, etag, lm) in validators {
            tx.execute(
                "INSERT INTO http_validators (url, etag, last_modified) VALUES ($1, $2, $3)
                 ON CONFLICT (url) DO UPDATE
                 SET etag = excluded.etag, last_modified = excluded.last_modified",
                &[url, etag, lm],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
