//! PostgreSQL operations of `reader_digests` (the SQLite ones are in `../reader_digests.rs`).
use tokio_postgres::Row;

use super::Postgres;
use super::pool::Sql;
use crate::domain::SentDigest;
use crate::store::reader_digests::{COLUMNS, sent_from};

fn row_to_sent(r: &Row) -> SentDigest {
    sent_from(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))
}

impl Postgres {
    /// The digest of edition `period_key` sent to subscriber `subscriber_id`, if one was
    /// (at most one: a reader has one delivery per edition).
    pub(in crate::store) fn sent_digest(
        &self,
        subscriber_id: i64,
        period_key: &str,
    ) -> anyhow::Result<Option<SentDigest>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM deliveries d JOIN editions e ON e.id = d.edition_id
                     WHERE d.subscriber_id = $1 AND e.period_key = $2 AND d.state = 'sent'"
                ),
                &[&subscriber_id, &period_key],
            )?
            .as_ref()
            .map(row_to_sent))
    }

    /// The last `limit` digests sent to a subscriber, newest first.
    pub(in crate::store) fn sent_digests(
        &self,
        subscriber_id: i64,
        limit: usize,
    ) -> anyhow::Result<Vec<SentDigest>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self
            .conn()?
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM deliveries d JOIN editions e ON e.id = d.edition_id
                     WHERE d.subscriber_id = $1 AND d.state = 'sent'
                     ORDER BY d.updated_at DESC, d.id DESC LIMIT $2"
                ),
                &[&subscriber_id, &limit],
            )?
            .iter()
            .map(row_to_sent)
            .collect())
    }
}
