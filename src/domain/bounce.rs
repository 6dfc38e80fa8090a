//! Bounces and complaints: what a report says, whom it is about, and what it changed.
use chrono::{DateTime, Utc};

/// What a report says happened to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BounceKind {
    /// Permanent failure (DSN status 5.x.x): the address is suppressed at once.
    Hard,
    /// Temporary failure (4.x.x) that the reporting server gave up on.
    Soft,
    /// A spam complaint (ARF feedback report): unsubscribed and suppressed at once.
    Complaint,
}

impl BounceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BounceKind::Hard => "hard",
            BounceKind::Soft => "soft",
            BounceKind::Complaint => "complaint",
        }
    }
}

/// The delivery (or at least the reader) a report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BounceTarget {
    pub email: String,
    pub delivery_id: Option<i64>,
    pub edition_id: Option<i64>,
    /// The edition's key (2026-W48), for messages.
    pub period_key: Option<String>,
}

/// One bounce or complaint to record.
#[derive(Debug, Clone)]
pub struct BounceEvent {
    pub kind: BounceKind,
    pub target: BounceTarget,
    /// DSN status (`5.1.1`) or ARF Feedback-Type (`abuse`).
    pub status: Option<String>,
    /// Status and diagnostic as the report gave them; becomes the suppression reason.
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// When soft bounces suppress an address: `limit` of them within `window`.
#[derive(Debug, Clone, Copy)]
pub struct SoftPolicy {
    pub limit: u32,
    pub window: chrono::Duration,
}

/// What recording one report changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BounceApplied {
    /// The message had been ingested before: nothing was changed.
    pub duplicate: bool,
    /// The address was put on the suppression list by this report.
    pub suppressed: bool,
    /// The reader was unsubscribed by this report.
    pub unsubscribed: bool,
}

impl BounceApplied {
    /// A message ingested before: nothing changed.
    pub fn duplicate() -> BounceApplied {
        BounceApplied {
            duplicate: true,
            ..Default::default()
        }
    }
}

/// Bounce and complaint counts of one edition, with the digests it sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditionBounces {
    pub period_key: String,
    pub sent: i64,
    pub hard: i64,
    pub soft: i64,
    pub complaints: i64,
}

impl EditionBounces {
    /// `n` as a percentage of the digests sent ("-" when none were).
    pub fn rate(&self, n: i64) -> String {
        if self.sent == 0 {
            "-".into()
        } else {
            format!("{:.1}%", n as f64 * 100.0 / self.sent as f64)
        }
    }
}

/// One recorded bounce or complaint, for `deliveries`.
#[derive(Debug, Clone)]
pub struct BounceRecord {
    pub email: String,
    pub kind: String,
    pub period_key: Option<String>,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A report about a reader that proved nothing: no VERP token whose check verifies, no
/// Message-ID of a delivery to that address. Recorded to be counted and shown, never acted on
/// (unless `[bounces] trust_unverified`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedReport {
    /// `hard`, `soft` or `complaint`: what the report claims.
    pub kind: String,
    /// The address the report names.
    pub email: String,
    /// What the report says (status and diagnostic, or the Feedback-Type).
    pub reason: String,
    /// Why it was not believed.
    pub why: String,
    pub at: DateTime<Utc>,
}

/// The reports not believed: how many in all, and the latest ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnverifiedReports {
    pub total: i64,
    /// Newest first.
    pub latest: Vec<UnverifiedReport>,
}
