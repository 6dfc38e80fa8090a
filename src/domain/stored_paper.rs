//! A paper as the store knows it, and what storing a batch of papers did.
use chrono::{DateTime, Utc};

use super::Paper;

/// A paper with what the store knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPaper {
    pub paper: Paper,
    /// When paperpost first stored it: "new" means new to paperpost.
    pub first_seen: DateTime<Utc>,
    /// It first reached us as an arXiv replacement, so it is not news.
    pub replacement: bool,
}

/// A URL's conditional-GET validators: (url, ETag, Last-Modified).
pub type ValidatorRow = (String, Option<String>, Option<String>);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UpsertCounts {
    pub new: usize,
    pub updated: usize,
}
