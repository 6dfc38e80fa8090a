//! The status report's query: what the schedule, the store and the guard say now (the view
//! is [`crate::render::render_status_text`] / [`crate::render::render_status_page`]).
use chrono::{DateTime, Utc};

use super::LAST_TICK;
use crate::domain::{
    DeliveryCounts, DeliveryState, GuardLimits, GuardWatch, NextRun, QueueStatus, StatusReport,
    SubscriberStatus, count,
};
use crate::schedule::{Reader, Schedule};
use crate::store::Store;

/// Editions shown with their delivery counts.
const EDITIONS_SHOWN: usize = 10;

/// The status at `now` of the newsletter `newsletter` running on `schedule`, with the last
/// `runs` runs.
pub fn status_report(
    schedule: &Schedule,
    newsletter: &str,
    store: &Store,
    now: DateTime<Utc>,
    runs: usize,
    guard: Option<&GuardLimits>,
) -> anyhow::Result<StatusReport> {
    let tz = schedule.timezone;
    let readers: Vec<Reader> = store
        .subscribers(Some(SubscriberStatus::Active))?
        .iter()
        .map(Reader::from)
        .collect();
    let mut next = vec![match &schedule.fetch {
        Some(f) => NextRun {
            what: "fetch".into(),
            at: f.next_after(now),
            detail: format!("`{}` in {}", f.pattern(), f.timezone().name()),
        },
        None => NextRun {
            what: "fetch".into(),
            at: None,
            detail: "not scheduled (`fetch` is empty)".into(),
        },
    }];
    for n in schedule.next_sends(&readers, now) {
        let base = schedule.base(n.frequency);
        let who = match (n.readers, n.own_time) {
            (0, _) => "no active readers".to_string(),
            (r, 0) => count(r, "reader", "readers"),
            (r, o) => format!("{}, {o} at their own time", count(r, "reader", "readers")),
        };
        next.push(NextRun {
            what: format!("{} digest", n.frequency),
            at: Some(n.at),
            detail: format!("`{}` in {}; {who}", base.pattern(), tz.name()),
        });
    }
    let mut editions: Vec<DeliveryCounts> = store.delivery_counts()?;
    let mut queue = QueueStatus {
        next_retry: store.next_retry_at()?,
        ..QueueStatus::default()
    };
    // Counts over every edition, not only the ones shown.
    for e in &editions {
        for &(state, n) in &e.counts {
            match state {
                DeliveryState::Pending => queue.pending += n,
                DeliveryState::Sending => queue.sending += n,
                DeliveryState::Retry => queue.retry += n,
                _ => {}
            }
        }
    }
    editions.truncate(EDITIONS_SHOWN);
    Ok(StatusReport {
        newsletter: newsletter.to_string(),
        resume_command: crate::domain::resume_command(store.newsletter()),
        generated_at: now,
        timezone: tz,
        last_tick: store
            .meta(&super::per_newsletter(store, LAST_TICK))?
            .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
            .map(|t| t.with_timezone(&Utc)),
        next,
        runs: store.recent_runs(runs)?,
        editions,
        bounces: store.edition_bounces()?,
        unverified_reports: store.unverified_bounces(0)?.total,
        queue,
        pause: store.sending_pause()?,
        last_resume: store.last_resumed_pause()?,
        guard: match guard {
            Some(limits) => {
                let counts = store.guard_counts(limits.window_days, now)?;
                Some(GuardWatch {
                    limits: *limits,
                    since: counts.since,
                    window: counts.window(),
                })
            }
            None => None,
        },
    })
}
