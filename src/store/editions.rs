//! Editions: one per period (a week or a day), created once, whatever runs twice.
use super::error::{Context, DbResult};
use chrono::{DateTime, Utc};

use super::db::Row;
use super::{Store, StoreError, from_ts, ts};
use crate::domain::{Edition, PickRef};

/// The columns every read of an edition selects, in [`edition_from`]'s order.
const EDITION: &str = "id, period_key, created_at, public";

/// An edition from its row: unreadable public picks read as none.
fn edition_from(r: &Row<'_>) -> DbResult<Edition> {
    Ok(Edition {
        id: r.get(0)?,
        period_key: r.get(1)?,
        created_at: from_ts(r.get(2)?),
        public: r
            .get::<Option<String>>(3)?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
    })
}

impl Store {
    /// The edition of `period_key`, created with `public` picks if it does not exist yet.
    /// Returns the edition and whether this call created it. Race-free across processes by
    /// the unique period key: `ON CONFLICT DO NOTHING` waits for a concurrent creator's
    /// commit and then inserts nothing, and the `SELECT` after it (a new snapshot under
    /// PostgreSQL's READ COMMITTED) sees the winner's row. Only the winner's `RETURNING`
    /// yields a row, so exactly one caller is told it created the edition.
    pub fn edition_for_period(
        &self,
        period_key: &str,
        public: &[PickRef],
        now: DateTime<Utc>,
    ) -> Result<(Edition, bool), StoreError> {
        self.write("edition_for_period", |c| {
            let public = serde_json::to_string(public)?;
            if let Some(edition) = c.query_opt(
                &format!(
                    "INSERT INTO editions (period_key, created_at, public, newsletter)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (newsletter, period_key) DO NOTHING RETURNING {EDITION}"
                ),
                &[&period_key, &ts(now), &public, &self.newsletter()],
                edition_from,
            )? {
                return Ok((edition, true));
            }
            let edition = c.query_opt(
                &format!(
                    "SELECT {EDITION} FROM editions WHERE period_key = $1 AND newsletter = $2"
                ),
                &[&period_key, &self.newsletter()],
                edition_from,
            )?;
            Ok((edition.context("the edition just created is gone")?, false))
        })
    }

    /// The edition of `period_key`, if it was created.
    pub fn edition(&self, period_key: &str) -> Result<Option<Edition>, StoreError> {
        self.read("edition", |c| {
            c.query_opt(
                &format!(
                    "SELECT {EDITION} FROM editions WHERE period_key = $1 AND newsletter = $2"
                ),
                &[&period_key, &self.newsletter()],
                edition_from,
            )
        })
    }

    /// The slugs of the newsletters that have editions (whichever newsletter this handle
    /// sees), in order: what a report about any digest may concern.
    pub fn newsletters_with_editions(&self) -> Result<Vec<String>, StoreError> {
        self.read("newsletters_with_editions", |c| {
            c.query(
                "SELECT DISTINCT newsletter FROM editions ORDER BY newsletter",
                &[],
                |r| r.get(0),
            )
        })
    }

    /// Editions, newest first.
    pub fn editions(&self, limit: usize) -> Result<Vec<Edition>, StoreError> {
        self.read("editions", |c| {
            c.query(
                &format!(
                    "SELECT {EDITION} FROM editions WHERE newsletter = $1
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ),
                &[
                    &self.newsletter(),
                    &i64::try_from(limit).unwrap_or(i64::MAX),
                ],
                edition_from,
            )
        })
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
