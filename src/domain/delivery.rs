//! Deliveries: one row per (edition, reader), its state, and the reports read from them.
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{PickRef, Subscriber};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryState {
    Pending,
    Sending,
    Sent,
    Retry,
    Failed,
    Unknown,
    Skipped,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 7] = [
        Self::Pending,
        Self::Sending,
        Self::Sent,
        Self::Retry,
        Self::Failed,
        Self::Unknown,
        Self::Skipped,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Retry => "retry",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
            Self::Skipped => "skipped",
        }
    }
}

impl FromStr for DeliveryState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown delivery state `{s}`"))
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery to record when an edition is planned.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub subscriber_id: i64,
    /// Empty for a skipped (empty) digest.
    pub picks: Vec<PickRef>,
    pub message_id: String,
    /// The editor's note of the edition at planning time (shown at the top of the digest).
    pub editor_note: Option<String>,
}

/// A delivery claimed for sending, with everything needed to render and send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub edition_id: i64,
    pub period_key: String,
    pub subscriber: Subscriber,
    pub picks: Vec<PickRef>,
    pub message_id: String,
    /// The editor's note frozen at planning.
    pub editor_note: Option<String>,
    /// Attempts including this one.
    pub attempts: u32,
    /// First attempt of this row, for the retry age limit.
    pub created_at: DateTime<Utc>,
    /// A run that died held this row before; the message may already be out.
    pub reclaimed: bool,
    /// Taken over by this claim from an expired lease: the owner of that lease.
    pub reclaimed_from: Option<String>,
    pub suppressed: bool,
}

/// The outcome of one claimed delivery, recorded by [`Store::finish_deliveries`](crate::store::Store::finish_deliveries).
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    Sent {
        relay: String,
    },
    Retry {
        next_attempt: DateTime<Utc>,
        error: String,
    },
    /// Permanent failure; `suppress` puts the address on the suppression list in the same
    /// transaction (a hard bounce).
    Failed {
        error: String,
        suppress: Option<String>,
    },
    Unknown {
        error: String,
    },
    /// Failed without any SMTP traffic (the address is on the suppression list): the claim's
    /// attempt is not counted.
    Suppressed {
        error: String,
    },
    /// Given back untouched: the attempt is not counted.
    Release,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub period_key: String,
    pub counts: Vec<(DeliveryState, i64)>,
    pub reclaimed: i64,
}

/// One delivery as `paperpost deliveries` and the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub email: String,
    pub state: DeliveryState,
    /// Attempts so far (a claim counts one; a row given back untouched does not).
    pub attempts: u32,
    /// The last SMTP reply or error, for failed, unknown and retry rows.
    pub last_error: Option<String>,
    /// The relay that accepted it.
    pub relay: Option<String>,
    /// Times this row was taken over from a run that died holding it: the message may have
    /// been sent by that run too.
    pub reclaimed: u32,
}

#[derive(Debug, Clone)]
pub struct DeliveryFailure {
    pub id: i64,
    pub period_key: String,
    pub email: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}
