//! Editions: one per period, what the editor set for it, and their summaries.
use chrono::{DateTime, Utc};

use super::{DeliveryState, PaperId, PickRef};

#[derive(Debug, Clone, PartialEq)]
pub struct Edition {
    pub id: i64,
    pub period_key: String,
    pub created_at: DateTime<Utc>,
    /// The public (trending) digest of the period, for the archive.
    pub public: Vec<PickRef>,
}

/// One edition in `paperpost editions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditionSummary {
    pub id: i64,
    pub period_key: String,
    pub planned_at: DateTime<Utc>,
    /// Deliveries per state (states with none left out).
    pub counts: Vec<(DeliveryState, i64)>,
    /// `sent` rows that were only written as `.eml` files (the file transport).
    pub written_to_files: i64,
}

/// What [`Store::cancel_edition`](crate::store::Store::cancel_edition) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CancelledEdition {
    pub period_key: String,
    /// Deliveries withdrawn: pending, retry and skipped rows, and rows only written as
    /// `.eml` files. Their readers are planned again by the next `send`.
    pub withdrawn: usize,
    /// Papers no longer remembered as sent to those readers.
    pub papers_unmarked: usize,
    /// Rows kept: delivered (or maybe delivered: unknown), failed, or in flight.
    pub kept: usize,
    /// The edition row itself was removed (nothing was left in it): it is created afresh,
    /// with a new public digest, when planned again.
    pub edition_removed: bool,
}

/// One pinned paper.
#[derive(Debug, Clone, PartialEq)]
pub struct Pin {
    pub paper_id: PaperId,
    pub note: Option<String>,
    pub pinned_at: DateTime<Utc>,
}

/// What the editor set for one edition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Editorial {
    pub note: Option<String>,
    /// In the order they were pinned.
    pub pins: Vec<Pin>,
}
