//! PostgreSQL operations of `subscriber_pages` (the SQLite ones are in `../subscriber_pages.rs`).
use super::Postgres;
use super::pool::Sql;
use super::subscribers::row_to_subscriber_at;
use crate::domain::{SubscriberPage, SubscriberStatus};
use crate::store::subscriber_pages::page_from;
use crate::store::subscribers::COLUMNS_S;

impl Postgres {
    /// Keyset pages by id, exactly as on SQLite.
    pub(in crate::store) fn subscribers_page(
        &self,
        status: SubscriberStatus,
        after: i64,
        limit: usize,
    ) -> anyhow::Result<SubscriberPage> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let rows = self.conn()?.query(
            &format!(
                "SELECT {COLUMNS_S} FROM subscribers s WHERE s.status = $1 AND s.id > $2 \
                 ORDER BY s.id LIMIT $3"
            ),
            &[&status.as_str(), &after, &limit],
        )?;
        let rows = rows
            .iter()
            .map(|r| row_to_subscriber_at(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page_from(rows, limit))
    }
}
