//! What `paperpost status` and the status page show: next run times, the last runs, editions
//! and the delivery queue — counts and times only, no reader's address. Built by
//! [`crate::pipeline::status_report`] (the query), shown by [`crate::render::render_status_text`]
//! and [`crate::render::render_status_page`] (the views).
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{DeliveryCounts, EditionBounces, ResumedPause, RunRecord, SendingPause};

#[derive(Debug, Clone)]
pub struct NextRun {
    /// "fetch", "weekly digest", "daily digest".
    pub what: String,
    pub at: Option<DateTime<Utc>>,
    /// The cron expression and zone, and who it is for.
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStatus {
    pub pending: i64,
    pub sending: i64,
    pub retry: i64,
    pub next_retry: Option<DateTime<Utc>>,
}

impl QueueStatus {
    pub fn outstanding(&self) -> i64 {
        self.pending + self.sending + self.retry
    }
}

#[derive(Debug, Clone)]
pub struct StatusReport {
    pub newsletter: String,
    /// The command that lifts this newsletter's guard pause.
    pub resume_command: String,
    pub generated_at: DateTime<Utc>,
    /// Times are shown in the schedule's zone.
    pub timezone: Tz,
    pub last_tick: Option<DateTime<Utc>>,
    pub next: Vec<NextRun>,
    /// Newest first.
    pub runs: Vec<RunRecord>,
    /// Newest edition first.
    pub editions: Vec<DeliveryCounts>,
    /// Bounce and complaint counts of the editions that have any.
    pub bounces: Vec<EditionBounces>,
    /// Bounce and complaint reports not believed (nothing proved which digest they were
    /// about), over all time: nothing was changed for them.
    pub unverified_reports: i64,
    pub queue: QueueStatus,
    /// The reputation guard's pause in force (`[delivery.guard]`), if sending is paused.
    pub pause: Option<SendingPause>,
    /// Where the guard stands while sending is not paused (`None`: the guard is off).
    pub guard: Option<super::GuardWatch>,
    /// The latest pause lifted, with who lifted it and when.
    pub last_resume: Option<ResumedPause>,
}

impl StatusReport {
    pub fn bounces_of(&self, period_key: &str) -> Option<&EditionBounces> {
        self.bounces.iter().find(|b| b.period_key == period_key)
    }
}
