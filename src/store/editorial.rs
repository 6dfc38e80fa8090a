//! The editor's word on an edition: a note, and pinned papers with optional notes
//! ("Editor's picks"). Keyed by period key (`2026-W48`), so both can be set before the
//! edition is planned.
use chrono::{DateTime, Utc};

use super::{Store, StoreError, from_ts, ts};
use crate::domain::{Editorial, PaperId, Pin};

/// The note to keep for a pin: trimmed, none when blank.
fn pin_note(note: Option<&str>) -> Option<&str> {
    note.map(str::trim).filter(|n| !n.is_empty())
}

/// The first key of the advisory lock PostgreSQL takes while pinning to one edition
/// ("pins" in ASCII; the second key is the period key's hash).
const PINS_LOCK: i32 = 0x7069_6e73;

impl Store {
    /// Sets (or replaces) the editor's note of an edition; an empty note removes it. One
    /// statement either way, so two editors at once leave one of their notes.
    pub fn set_edition_note(
        &self,
        period_key: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("set_edition_note", |c| {
            if note.trim().is_empty() {
                c.execute(
                    "DELETE FROM edition_notes WHERE period_key = $1 AND newsletter = $2",
                    &[&period_key, &self.newsletter()],
                )?;
            } else {
                c.execute(
                    "INSERT INTO edition_notes (period_key, note, updated_at, newsletter)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (newsletter, period_key) DO UPDATE SET note = excluded.note,
                         updated_at = excluded.updated_at",
                    &[&period_key, &note.trim(), &ts(now), &self.newsletter()],
                )?;
            }
            Ok(())
        })
    }

    /// Pins a paper to an edition (again: its note is replaced, its place kept). The new
    /// pin goes after the edition's last one (`MAX(position) + 1`). Two editors pinning to
    /// one edition at once on PostgreSQL would both read the same maximum under READ
    /// COMMITTED, so there the transaction first takes an advisory lock on the edition's
    /// period key (serialising pinning per edition only); SQLite's one writer serialises it.
    pub fn pin_paper(
        &self,
        period_key: &str,
        paper_id: &PaperId,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let note = pin_note(note);
        self.transaction("pin_paper", |c| {
            if c.is_postgres() {
                c.execute(
                    "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                    &[&PINS_LOCK, &format!("{}/{period_key}", self.newsletter())],
                )?;
            }
            c.execute(
                "INSERT INTO edition_pins (period_key, paper_id, note, position, pinned_at,
                                           newsletter)
                 VALUES ($1, $2, $3,
                     (SELECT COALESCE(MAX(position), 0) + 1 FROM edition_pins
                       WHERE period_key = $1 AND newsletter = $4),
                     $5, $4)
                 ON CONFLICT (newsletter, period_key, paper_id) DO UPDATE SET note = excluded.note",
                &[
                    &period_key,
                    &paper_id.as_str(),
                    &note,
                    &self.newsletter(),
                    &ts(now),
                ],
            )?;
            Ok(())
        })
    }

    /// Removes a pin; returns whether there was one.
    pub fn unpin_paper(&self, period_key: &str, paper_id: &PaperId) -> Result<bool, StoreError> {
        self.write("unpin_paper", |c| {
            Ok(c.execute(
                "DELETE FROM edition_pins
                 WHERE period_key = $1 AND paper_id = $2 AND newsletter = $3",
                &[&period_key, &paper_id.as_str(), &self.newsletter()],
            )? > 0)
        })
    }

    /// The note and pins of an edition (empty when the editor set nothing); a pin whose
    /// paper id no longer parses is left out.
    pub fn editorial(&self, period_key: &str) -> Result<Editorial, StoreError> {
        self.read("editorial", |c| {
            let note = c.query_opt(
                "SELECT note FROM edition_notes WHERE period_key = $1 AND newsletter = $2",
                &[&period_key, &self.newsletter()],
                |r| r.get::<String>(0),
            )?;
            let pins = c.query(
                "SELECT paper_id, note, pinned_at FROM edition_pins
                 WHERE period_key = $1 AND newsletter = $2
                 ORDER BY position, pinned_at, paper_id",
                &[&period_key, &self.newsletter()],
                |r| {
                    let Ok(paper_id) = PaperId::try_from(r.get::<String>(0)?) else {
                        return Ok(None);
                    };
                    Ok(Some(Pin {
                        paper_id,
                        note: r.get(1)?,
                        pinned_at: from_ts(r.get(2)?),
                    }))
                },
            )?;
            Ok(Editorial {
                note,
                pins: pins.into_iter().flatten().collect(),
            })
        })
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
