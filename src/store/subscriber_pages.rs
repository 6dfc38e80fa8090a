//! Subscribers page by page (task i9speed): planning an edition reads its readers in pages
//! of ids instead of the whole table, so its memory does not grow with the readers. Also
//! the reading of a subscriber row on either database ([`subscriber_at`]), which
//! confirmations share.
use super::subscribers::{COLUMNS_S, SubscriberRow, subscriber_at};
use super::{Store, StoreError};
use crate::domain::{SubscriberPage, SubscriberStatus};

impl Store {
    /// Up to `limit` subscribers with `status` whose id is above `after`, by id (keyset
    /// pages): planning reads its readers page by page. A row that cannot be read is logged
    /// and skipped (as in [`Store::subscribers`]) but still moves the cursor on.
    pub fn subscribers_page(
        &self,
        status: SubscriberStatus,
        after: i64,
        limit: usize,
    ) -> Result<SubscriberPage, StoreError> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        self.write("subscribers_page", |c| {
            let rows = c.query(
                &format!(
                    "SELECT {COLUMNS_S} FROM subscribers s
                     WHERE s.status = $1 AND s.id > $2 AND s.newsletter = $3
                     ORDER BY s.id LIMIT $4"
                ),
                &[&status.as_str(), &after, &self.newsletter(), &limit],
                |r| subscriber_at(r, 0),
            )?;
            Ok(page_from(rows, limit))
        })
    }
}

/// A page from the rows read for it: an unreadable row is logged and skipped but still
/// moves the cursor on; fewer rows than `limit` means the last page.
fn page_from(rows: Vec<SubscriberRow>, limit: i64) -> SubscriberPage {
    let mut page = SubscriberPage::default();
    let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit;
    for row in rows {
        match row {
            Ok(s) => {
                page.next_after = Some(s.id);
                page.subscribers.push(s);
            }
            Err(u) => {
                u.warn();
                page.next_after = Some(u.id);
            }
        }
    }
    if !full {
        page.next_after = None;
    }
    page
}

#[cfg(test)]
mod tests {
    use crate::domain::NewSubscriber;
    use crate::domain::SubscriberStatus;
    use crate::domain::{SubscriberEmail, Topics};
    use crate::store::Store;

    #[test]
    fn pages_of_subscribers_cover_every_active_one_once_in_id_order() {
        let store = Store::for_tests().unwrap();
        let mut active = Vec::new();
        for i in 0..7 {
            let email = SubscriberEmail::parse(&format!("r{i}@example.org")).unwrap();
            let mut new = NewSubscriber::active(email, Topics::parse("diffusion").unwrap());
            if i % 3 == 1 {
                new.status = SubscriberStatus::Unsubscribed;
            }
            let s = store.add_subscriber(&new, chrono::Utc::now()).unwrap();
            if i % 3 != 1 {
                active.push(s.id);
            }
        }
        let mut seen = Vec::new();
        let mut after = 0;
        let mut pages = 0;
        loop {
            let page = store
                .subscribers_page(SubscriberStatus::Active, after, 2)
                .unwrap();
            pages += 1;
            assert!(page.subscribers.len() <= 2);
            seen.extend(page.subscribers.iter().map(|s| s.id));
            match page.next_after {
                Some(next) => after = next,
                None => break,
            }
        }
        assert_eq!(seen, active);
        assert_eq!(pages, 3, "5 active readers in pages of 2");
    }

    #[test]
    fn an_unreadable_row_is_skipped_but_moves_the_cursor_on() {
        let store = Store::for_tests().unwrap();
        let ids: Vec<i64> = (0..3)
            .map(|i| {
                let email = SubscriberEmail::parse(&format!("r{i}@example.org")).unwrap();
                let new = NewSubscriber::active(email, Topics::parse("diffusion").unwrap());
                store.add_subscriber(&new, chrono::Utc::now()).unwrap().id
            })
            .collect();
        // PostgreSQL text cannot hold invalid UTF-8: an unknown frequency stands in there.
        let poison = if store.is_postgres() {
            "UPDATE subscribers SET frequency = 'sometimes' WHERE id = {id}"
        } else {
            "UPDATE subscribers SET topics = CAST(X'6C6CFF' AS TEXT) WHERE id = {id}"
        };
        store.raw_execute(&poison.replace("{id}", &ids[1].to_string()));
        let page = store
            .subscribers_page(SubscriberStatus::Active, 0, 2)
            .unwrap();
        assert_eq!(
            page.subscribers.iter().map(|s| s.id).collect::<Vec<_>>(),
            [ids[0]]
        );
        assert_eq!(
            page.next_after,
            Some(ids[1]),
            "the cursor passes the bad row"
        );
        let page = store
            .subscribers_page(SubscriberStatus::Active, ids[1], 2)
            .unwrap();
        assert_eq!(
            page.subscribers.iter().map(|s| s.id).collect::<Vec<_>>(),
            [ids[2]]
        );
        assert_eq!(page.next_after, None);
    }
}
