//! Runs: what a fetch or send run did, and how a send run ended.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What one source gave in a fetch run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRunRecord {
    pub name: String,
    pub papers: usize,
    pub new: usize,
    pub not_modified: usize,
    /// Items that could not become papers (logged each with its reason), and the first
    /// reason.
    #[serde(default)]
    pub skipped: usize,
    #[serde(default)]
    pub first_skipped: Option<String>,
    pub error: Option<String>,
}

/// One finished run: a fetch, a send, or a scheduled run of both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub kind: String,
    #[serde(default)]
    pub period_key: Option<String>,
    #[serde(default)]
    pub sources: Vec<SourceRunRecord>,
    #[serde(default)]
    pub planned: usize,
    #[serde(default)]
    pub sent: usize,
    #[serde(default)]
    pub failed: usize,
    #[serde(default)]
    pub retry: usize,
    #[serde(default)]
    pub unknown: usize,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(skip)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub finished_at: Option<DateTime<Utc>>,
}

/// How a send run ended, as far as the store knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendRunEnd {
    /// No end was recorded: the run is still going, was killed, crashed, or could not write
    /// its end (the store refused writes).
    Running {
        started_at: DateTime<Utc>,
    },
    Finished,
    /// Stopped early on this error (the store refusing writes, no relay reachable, …).
    Stopped {
        error: String,
    },
}

impl SendRunEnd {
    /// Why rows held by a run that ended this way were left in `sending`.
    pub fn describe(&self) -> String {
        match self {
            SendRunEnd::Running { started_at } => format!(
                "a run started at {} that never recorded its end (killed, crashed, or unable \
                 to write to the store)",
                started_at.to_rfc3339()
            ),
            SendRunEnd::Finished => "a run that finished without giving them back".into(),
            SendRunEnd::Stopped { error } => format!("a run that stopped on an error: {error}"),
        }
    }
}
