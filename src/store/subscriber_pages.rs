//! Subscribers page by page (task i9speed): planning an edition reads its readers in pages
//! of ids instead of the whole table, so its memory does not grow with the readers.
use super::Sqlite;
use super::subscribers::{COLUMNS_S, SubscriberRow, row_to_subscriber_at};
use crate::domain::{SubscriberPage, SubscriberStatus};

impl Sqlite {
    /// Up to `limit` subscribers with `status` whose id is above `after`, by id. A row
    /// that cannot be read is logged and skipped (as in [`Store::subscribers`]) but still
    /// moves the cursor on.
    pub fn subscribers_page(
        &self,
        status: SubscriberStatus,
        after: i64,
        limit: usize,
    ) -> anyhow::Result<SubscriberPage> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS_S} FROM subscribers s WHERE s.status = ?1 AND s.id > ?2 \
             ORDER BY s.id LIMIT ?3"
        ))?;
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(rusqlite::params![status.as_str(), after, limit], |r| {
                row_to_subscriber_at(r, 0)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page_from(rows, limit))
    }
}

/// A page from the rows read for it (both backends): an unreadable row is logged and
/// skipped but still moves the cursor on; fewer rows than `limit` means the last page.
pub(super) fn page_from(rows: Vec<SubscriberRow>, limit: i64) -> SubscriberPage {
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
}
