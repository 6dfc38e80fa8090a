//! Which newsletters the store holds rows of, and renaming one (its slug changed in the
//! config): the rows that belong to a newsletter — subscriptions, editions, the editor's
//! notes and pins, guard pauses — carry its slug (schema 17).
use super::{Store, StoreError};

/// The tables whose rows belong to one newsletter, by their `newsletter` column.
const TABLES: [&str; 5] = [
    "subscribers",
    "editions",
    "edition_notes",
    "edition_pins",
    "sending_pauses",
];

/// A newsletter's rows as `store newsletters` counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsletterRows {
    pub slug: String,
    pub subscribers: i64,
    pub editions: i64,
}

impl Store {
    /// Every newsletter the store has subscriptions or editions of, by slug, with their
    /// counts (whichever newsletter this handle sees).
    pub fn newsletters_in_store(&self) -> Result<Vec<NewsletterRows>, StoreError> {
        self.read("newsletters_in_store", |c| {
            c.query(
                "SELECT n.newsletter,
                        (SELECT COUNT(*) FROM subscribers s WHERE s.newsletter = n.newsletter),
                        (SELECT COUNT(*) FROM editions e WHERE e.newsletter = n.newsletter)
                 FROM (SELECT newsletter FROM subscribers
                       UNION SELECT newsletter FROM editions) n
                 ORDER BY n.newsletter",
                &[],
                |r| {
                    Ok(NewsletterRows {
                        slug: r.get(0)?,
                        subscribers: r.get(1)?,
                        editions: r.get(2)?,
                    })
                },
            )
        })
    }

    /// Moves every row of newsletter `from` to `to` in one transaction (a slug changed in
    /// the config: its readers, editions, deliveries, notes, pins and pauses follow).
    /// Refused, changing nothing, when `to` already has rows: merging two newsletters
    /// could give one address two subscriptions or a period two editions. Returns how many
    /// rows moved per table.
    pub fn rename_newsletter(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<(&'static str, u64)>, StoreError> {
        self.transaction("rename_newsletter", |c| {
            for table in TABLES {
                let taken = c.exists(
                    &format!("SELECT 1 FROM {table} WHERE newsletter = $1"),
                    &[&to],
                )?;
                if taken {
                    return Err(StoreError::Conflict {
                        op: "rename_newsletter",
                        what: format!("newsletter `{to}` (it has rows in {table})"),
                    }
                    .into());
                }
            }
            let mut moved = Vec::with_capacity(TABLES.len());
            for table in TABLES {
                let n = c.execute(
                    &format!("UPDATE {table} SET newsletter = $1 WHERE newsletter = $2"),
                    &[&to, &from],
                )?;
                moved.push((table, n));
            }
            Ok(moved)
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use crate::domain::{NewSubscriber, SubscriberEmail, Topics};
    use crate::store::{Store, StoreError};

    #[test]
    fn a_newsletter_renamed_takes_all_its_rows_and_a_taken_slug_is_refused() {
        let store = Store::for_tests().unwrap();
        let now = Utc::now();
        let ada = NewSubscriber::active(
            SubscriberEmail::parse("ada@example.org").unwrap(),
            Topics::default(),
        );
        store.add_subscriber(&ada, now).unwrap();
        store.edition_for_period("2026-W49", &[], now).unwrap();
        store.set_edition_note("2026-W50", "Hi", now).unwrap();
        let bio = store.for_newsletter("bio");
        bio.add_subscriber(&ada, now).unwrap();
        let slugs: Vec<String> = store
            .newsletters_in_store()
            .unwrap()
            .into_iter()
            .map(|n| format!("{} {} {}", n.slug, n.subscribers, n.editions))
            .collect();
        assert_eq!(slugs, ["bio 1 0", "main 1 1"]);

        assert!(matches!(
            store.rename_newsletter("main", "bio"),
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(store.subscribers(None).unwrap().len(), 1, "nothing moved");

        let moved = store.rename_newsletter("main", "ml").unwrap();
        assert!(moved.contains(&("subscribers", 1)) && moved.contains(&("edition_notes", 1)));
        let ml = store.for_newsletter("ml");
        assert_eq!(ml.subscribers(None).unwrap()[0].newsletter, "ml");
        assert!(ml.edition("2026-W49").unwrap().is_some());
        assert_eq!(
            ml.editorial("2026-W50").unwrap().note.as_deref(),
            Some("Hi")
        );
        assert!(store.subscribers(None).unwrap().is_empty());
    }
}
