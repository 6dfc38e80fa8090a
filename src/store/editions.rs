//! Editions: one per period (a week or a day), created once, whatever runs twice.
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Sqlite, from_ts, ts};
use crate::domain::{Edition, PickRef};

fn row_to_edition(r: &rusqlite::Row<'_>) -> rusqlite::Result<Edition> {
    Ok(edition_from(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

/// An edition from its row, for both backends: unreadable public picks read as none.
pub(super) fn edition_from(
    id: i64,
    period_key: String,
    created_at: i64,
    public: Option<String>,
) -> Edition {
    Edition {
        id,
        period_key,
        created_at: from_ts(created_at),
        public: public
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
    }
}

impl Sqlite {
    /// The edition of `period_key`, created with `public` picks if it does not exist yet.
    /// Returns the edition and whether this call created it. Two concurrent callers get the
    /// same edition (the period key is unique).
    pub fn edition_for_period(
        &self,
        period_key: &str,
        public: &[PickRef],
        now: DateTime<Utc>,
    ) -> anyhow::Result<(Edition, bool)> {
        let conn = self.conn();
        let created = conn.execute(
            "INSERT INTO editions (period_key, created_at, public) VALUES (?1, ?2, ?3)
             ON CONFLICT (period_key) DO NOTHING",
            params![period_key, ts(now), serde_json::to_string(public)?],
        )? > 0;
        let edition = conn.query_row(
            "SELECT id, period_key, created_at, public FROM editions WHERE period_key = ?1",
            [period_key],
            row_to_edition,
        )?;
        Ok((edition, created))
    }

    pub fn edition(&self, period_key: &str) -> anyhow::Result<Option<Edition>> {
        Ok(self
            .reader()
            .query_row(
                "SELECT id, period_key, created_at, public FROM editions WHERE period_key = ?1",
                [period_key],
                row_to_edition,
            )
            .optional()?)
    }

    /// Editions, newest first.
    pub fn editions(&self, limit: usize) -> anyhow::Result<Vec<Edition>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, period_key, created_at, public FROM editions ORDER BY created_at DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], row_to_edition)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn an_edition_is_created_once_per_period() {
        let store = Store::for_tests().unwrap();
        let (a, created_a) = store
            .edition_for_period("2026-W48", &[], Utc::now())
            .unwrap();
        let (b, created_b) = store
            .edition_for_period("2026-W48", &[], Utc::now())
            .unwrap();
        assert!(created_a && !created_b);
        assert_eq!(a.id, b.id);
        assert_eq!(store.editions(10).unwrap().len(), 1);
    }

    #[test]
    fn eight_processes_creating_the_same_edition_at_once_make_one_and_one_is_told_it_created_it() {
        use crate::store::attempts::tests::{race, stores_on_one_database};
        let (stores, _dir) = stores_on_one_database(8);
        let now = Utc::now();
        for round in 0..10 {
            let key = format!("2026-W{:02}", round + 10);
            let results = race(&stores, |_, store| {
                let (edition, created) = store.edition_for_period(&key, &[], now).unwrap();
                (edition.id, created)
            });
            let ids: std::collections::HashSet<i64> = results.iter().map(|r| r.0).collect();
            assert_eq!(ids.len(), 1, "round {round}: one edition row: {results:?}");
            assert_eq!(
                results.iter().filter(|r| r.1).count(),
                1,
                "round {round}: exactly one creator: {results:?}"
            );
        }
        assert_eq!(stores[0].editions(usize::MAX).unwrap().len(), 10);
    }
}
