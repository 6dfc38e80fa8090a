//! The editor's word on an edition: a note, and pinned papers with optional notes
//! ("Editor's picks"). Keyed by period key (`2026-W48`), so both can be set before the
//! edition is planned.
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Sqlite, from_ts, ts};
use crate::domain::{Editorial, PaperId, Pin};

/// Pins from their `(paper id, note, pinned at)` rows in pin order, for both backends; a
/// row whose paper id no longer parses is left out.
pub(super) fn pins_from(rows: Vec<(String, Option<String>, i64)>) -> Vec<Pin> {
    rows.into_iter()
        .filter_map(|(id, note, at)| {
            Some(Pin {
                paper_id: PaperId::try_from(id).ok()?,
                note,
                pinned_at: from_ts(at),
            })
        })
        .collect()
}

/// The note to keep for a pin: trimmed, none when blank.
pub(super) fn pin_note(note: Option<&str>) -> Option<&str> {
    note.map(str::trim).filter(|n| !n.is_empty())
}

impl Sqlite {
    /// Sets (or replaces) the editor's note of an edition; an empty note removes it.
    pub fn set_edition_note(
        &self,
        period_key: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let conn = self.conn();
        if note.trim().is_empty() {
            conn.execute(
                "DELETE FROM edition_notes WHERE period_key = ?1",
                params![period_key],
            )?;
        } else {
            conn.execute(
                "INSERT INTO edition_notes (period_key, note, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (period_key) DO UPDATE SET note = excluded.note,
                     updated_at = excluded.updated_at",
                params![period_key, note.trim(), ts(now)],
            )?;
        }
        Ok(())
    }

    /// Pins a paper to an edition (again: its note is replaced, its place kept).
    pub fn pin_paper(
        &self,
        period_key: &str,
        paper_id: &PaperId,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let note = pin_note(note);
        self.conn().execute(
            "INSERT INTO edition_pins (period_key, paper_id, note, position, pinned_at)
             VALUES (?1, ?2, ?3,
                 (SELECT COALESCE(MAX(position), 0) + 1 FROM edition_pins WHERE period_key = ?1),
                 ?4)
             ON CONFLICT (period_key, paper_id) DO UPDATE SET note = excluded.note",
            params![period_key, paper_id.as_str(), note, ts(now)],
        )?;
        Ok(())
    }

    /// Removes a pin; returns whether there was one.
    pub fn unpin_paper(&self, period_key: &str, paper_id: &PaperId) -> anyhow::Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM edition_pins WHERE period_key = ?1 AND paper_id = ?2",
            params![period_key, paper_id.as_str()],
        )?;
        Ok(n > 0)
    }

    /// The note and pins of an edition (empty when the editor set nothing).
    pub fn editorial(&self, period_key: &str) -> anyhow::Result<Editorial> {
        let conn = self.reader();
        let note: Option<String> = conn
            .query_row(
                "SELECT note FROM edition_notes WHERE period_key = ?1",
                params![period_key],
                |r| r.get(0),
            )
            .optional()?;
        let mut stmt = conn.prepare(
            "SELECT paper_id, note, pinned_at FROM edition_pins WHERE period_key = ?1
             ORDER BY position",
        )?;
        let pins = stmt
            .query_map(params![period_key], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let pins = pins_from(pins);
        Ok(Editorial { note, pins })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::store::Store;

    #[test]
    fn notes_and_pins_are_kept_per_edition_in_pin_order() {
        let store = Store::for_tests().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
        let id = |s: &str| PaperId::parse_arxiv(s).unwrap().0;
        assert_eq!(store.editorial("2026-W48").unwrap(), Editorial::default());

        store
            .set_edition_note("2026-W48", "  A week of scaling laws. ", now)
            .unwrap();
        store
            .pin_paper("2026-W48", &id("2410.18975"), Some("Read this"), now)
            .unwrap();
        store
            .pin_paper("2026-W48", &id("2410.17243"), None, now)
            .unwrap();
        store
            .pin_paper("2026-W48", &id("2410.18975"), Some("Read this first"), now)
            .unwrap();
        store
            .set_edition_note("2026-W49", "other week", now)
            .unwrap();

        let e = store.editorial("2026-W48").unwrap();
        assert_eq!(e.note.as_deref(), Some("A week of scaling laws."));
        let pins: Vec<_> = e
            .pins
            .iter()
            .map(|p| (p.paper_id.as_str(), p.note.as_deref()))
            .collect();
        assert_eq!(
            pins,
            [
                ("2410.18975", Some("Read this first")),
                ("2410.17243", None)
            ]
        );

        assert!(store.unpin_paper("2026-W48", &id("2410.17243")).unwrap());
        store.set_edition_note("2026-W48", "", now).unwrap();
        let e = store.editorial("2026-W48").unwrap();
        assert_eq!((e.note, e.pins.len()), (None, 1));
    }
}
