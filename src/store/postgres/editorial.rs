//! PostgreSQL operations of `editorial` (the SQLite ones are in `../editorial.rs`).
use chrono::{DateTime, Utc};

use super::Postgres;
use super::pool::Sql;
use crate::domain::{Editorial, PaperId};
use crate::store::editorial::{pin_note, pins_from};
use crate::store::ts;

/// The first key of the advisory lock taken while pinning to one edition ("pins" in ASCII;
/// the second key is the period key's hash).
const PINS_LOCK: i32 = 0x7069_6e73;

impl Postgres {
    /// Sets (or replaces) the editor's note of an edition; an empty note removes it. One
    /// statement either way, so two editors at once leave one of their notes.
    pub(in crate::store) fn set_edition_note(
        &self,
        period_key: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut conn = self.conn()?;
        if note.trim().is_empty() {
            conn.execute(
                "DELETE FROM edition_notes WHERE period_key = $1",
                &[&period_key],
            )?;
        } else {
            conn.execute(
                "INSERT INTO edition_notes (period_key, note, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (period_key) DO UPDATE SET note = excluded.note,
                     updated_at = excluded.updated_at",
                &[&period_key, &note.trim(), &ts(now)],
            )?;
        }
        Ok(())
    }

    /// Pins a paper to an edition (again: its note is replaced, its place kept). The new
    /// pin goes after the edition's last one (`MAX(position) + 1`); two editors pinning to
    /// the same edition at once would both read the same maximum under READ COMMITTED, so
    /// the transaction first takes an advisory lock on the edition's period key, which
    /// serialises pinning per edition only.
    pub(in crate::store) fn pin_paper(
        &self,
        period_key: &str,
        paper_id: &PaperId,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let note = pin_note(note);
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&PINS_LOCK, &period_key],
        )?;
        tx.execute(
            "INSERT INTO edition_pins (period_key, paper_id, note, position, pinned_at)
             VALUES ($1, $2, $3,
                 (SELECT COALESCE(MAX(position), 0) + 1 FROM edition_pins WHERE period_key = $1),
                 $4)
             ON CONFLICT (period_key, paper_id) DO UPDATE SET note = excluded.note",
            &[&period_key, &paper_id.as_str(), &note, &ts(now)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a pin; returns whether there was one.
    pub(in crate::store) fn unpin_paper(
        &self,
        period_key: &str,
        paper_id: &PaperId,
    ) -> anyhow::Result<bool> {
        let n = self.conn()?.execute(
            "DELETE FROM edition_pins WHERE period_key = $1 AND paper_id = $2",
            &[&period_key, &paper_id.as_str()],
        )?;
        Ok(n > 0)
    }

    /// The note and pins of an edition (empty when the editor set nothing).
    pub(in crate::store) fn editorial(&self, period_key: &str) -> anyhow::Result<Editorial> {
        let mut conn = self.conn()?;
        let note: Option<String> = conn
            .query_opt(
                "SELECT note FROM edition_notes WHERE period_key = $1",
                &[&period_key],
            )?
            .map(|r| r.get(0));
        let rows = conn
            .query(
                "SELECT paper_id, note, pinned_at FROM edition_pins WHERE period_key = $1
                 ORDER BY position, pinned_at, paper_id",
                &[&period_key],
            )?
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        Ok(Editorial {
            note,
            pins: pins_from(rows),
        })
    }
}
