//! The reputation guard (`[delivery.guard]`): hard-bounce and complaint rates per edition
//! and over a rolling window, judged against thresholds; over one, sending pauses itself
//! until an operator resumes it. Pure: the store counts ([`GuardCounts`]) and keeps the
//! pause ([`SendingPause`]), this module decides.
//!
//! A rate is the share of the messages delivered (deliveries in state `sent`) in its scope
//! that drew at least one report of that kind (a delivery reported twice counts once), so
//! it is never above 100 %. A scope is judged only once it has `min_sample` delivered
//! messages: one bounce in three sends is no evidence.
use chrono::{DateTime, Utc};

/// The thresholds (`[delivery.guard]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuardLimits {
    /// Complaints per delivered message above which sending pauses (0.003 = 0.3 %).
    pub complaint_rate: f64,
    /// Hard bounces per delivered message above which sending pauses (0.05 = 5 %).
    pub hard_bounce_rate: f64,
    /// The rolling window, in days.
    pub window_days: u32,
    /// A scope (an edition, the window) is judged only with at least this many delivered.
    pub min_sample: u64,
}

/// What a report is counted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardKind {
    Complaint,
    HardBounce,
}

impl GuardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GuardKind::Complaint => "complaint",
            GuardKind::HardBounce => "hard_bounce",
        }
    }

    /// The config key of its threshold.
    pub fn key(self) -> &'static str {
        match self {
            GuardKind::Complaint => "complaint_rate",
            GuardKind::HardBounce => "hard_bounce_rate",
        }
    }

    fn words(self) -> &'static str {
        match self {
            GuardKind::Complaint => "complaint rate",
            GuardKind::HardBounce => "hard-bounce rate",
        }
    }
}

impl std::str::FromStr for GuardKind {
    type Err = String;
    fn from_str(s: &str) -> Result<GuardKind, String> {
        match s {
            "complaint" => Ok(GuardKind::Complaint),
            "hard_bounce" => Ok(GuardKind::HardBounce),
            other => Err(format!("unknown guard kind {other:?}")),
        }
    }
}

/// Messages delivered in one scope and how many of them drew a hard bounce or a complaint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub delivered: i64,
    pub hard: i64,
    pub complaints: i64,
}

impl Tally {
    fn of(&self, kind: GuardKind) -> i64 {
        match kind {
            GuardKind::Complaint => self.complaints,
            GuardKind::HardBounce => self.hard,
        }
    }
}

/// Since when messages are counted: the start of the rolling window, or the last resume
/// when it is later (a resume starts the count afresh: the reports it accepted do not trip
/// the guard again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Window { days: u32, from: DateTime<Utc> },
    Resume { at: DateTime<Utc> },
}

impl Since {
    /// The later of the window's start (`now` − `window_days`) and the last resume.
    pub fn at(now: DateTime<Utc>, window_days: u32, last_resume: Option<DateTime<Utc>>) -> Since {
        let from = now - chrono::Duration::days(i64::from(window_days));
        match last_resume {
            Some(at) if at > from => Since::Resume { at },
            _ => Since::Window {
                days: window_days,
                from,
            },
        }
    }

    pub fn instant(&self) -> DateTime<Utc> {
        match *self {
            Since::Window { from, .. } => from,
            Since::Resume { at } => at,
        }
    }

    /// `in the last 30 days`, `since sending was resumed at …`.
    pub fn words(&self) -> String {
        match self {
            Since::Window { days, .. } => format!("in the last {days} days"),
            Since::Resume { at } => format!(
                "since sending was resumed at {}",
                at.format("%Y-%m-%d %H:%M UTC")
            ),
        }
    }
}

/// The counts the guard judges: per edition (period key, oldest first) and over the whole
/// window, each of the messages delivered since [`Since`].
#[derive(Debug, Clone, PartialEq)]
pub struct GuardCounts {
    pub since: Since,
    pub editions: Vec<(String, Tally)>,
}

impl GuardCounts {
    /// Every edition's tally added up: the rolling window.
    pub fn window(&self) -> Tally {
        self.editions
            .iter()
            .fold(Tally::default(), |a, (_, t)| Tally {
                delivered: a.delivered + t.delivered,
                hard: a.hard + t.hard,
                complaints: a.complaints + t.complaints,
            })
    }
}

/// Where the guard stands while nothing is paused, for the status report: the window's
/// counts against the thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardWatch {
    pub limits: GuardLimits,
    pub since: Since,
    pub window: Tally,
}

impl GuardWatch {
    /// `complaints 0.02 % (1 of 4,800 delivered in the last 30 days; pauses above 0.30 %),
    /// hard bounces 0.50 % (24; pauses above 5.00 %)`, and when the window holds fewer than
    /// `min_sample` messages, that it is not judged yet.
    pub fn describe(&self) -> String {
        let w = &self.window;
        let mut out = format!(
            "complaints {} ({} of {} delivered {}; pauses above {}), hard bounces {} ({}; \
             pauses above {})",
            percent(rate(w.complaints, w.delivered)),
            thousands(w.complaints),
            thousands(w.delivered),
            self.since.words(),
            percent(self.limits.complaint_rate),
            percent(rate(w.hard, w.delivered)),
            thousands(w.hard),
            percent(self.limits.hard_bounce_rate),
        );
        let sample = i64::try_from(self.limits.min_sample).unwrap_or(i64::MAX);
        if w.delivered < sample {
            out.push_str(&format!(
                "; not judged until {} are delivered (min_sample)",
                thousands(sample)
            ));
        }
        out
    }
}

/// A rate over its threshold: what trips the guard.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    pub kind: GuardKind,
    /// The edition's period key; `None`: the rolling window.
    pub edition: Option<String>,
    pub reports: i64,
    pub delivered: i64,
    pub threshold: f64,
    /// How the scope is said (`edition 2026-W49`, `in the last 30 days`).
    pub scope: String,
}

impl Breach {
    pub fn rate(&self) -> f64 {
        rate(self.reports, self.delivered)
    }

    /// `complaint rate 0.42 % (21 of 5,000 delivered, edition 2026-W49) is over 0.30 %
    /// ([delivery.guard] complaint_rate)`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} ({} of {} delivered, {}) is over {} ([delivery.guard] {})",
            self.kind.words(),
            percent(self.rate()),
            thousands(self.reports),
            thousands(self.delivered),
            self.scope,
            percent(self.threshold),
            self.kind.key()
        )
    }
}

/// `reports / delivered`, 0 when nothing was delivered.
pub fn rate(reports: i64, delivered: i64) -> f64 {
    if delivered <= 0 {
        0.0
    } else {
        reports as f64 / delivered as f64
    }
}

/// A rate as a percentage with two decimals: `0.42 %`.
pub fn percent(rate: f64) -> String {
    format!("{:.2} %", rate * 100.0)
}

/// `5000` as `5,000`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The first rate over its threshold, if any: each edition (oldest first), then the window;
/// in each, complaints before hard bounces (the graver signal). A scope with fewer than
/// `min_sample` delivered messages is not judged.
pub fn judge(limits: &GuardLimits, counts: &GuardCounts) -> Option<Breach> {
    let scopes = counts
        .editions
        .iter()
        .map(|(key, t)| (Some(key.clone()), format!("edition {key}"), *t))
        .chain(std::iter::once((
            None,
            counts.since.words(),
            counts.window(),
        )));
    for (edition, scope, tally) in scopes {
        if tally.delivered <= 0 || (tally.delivered as u64) < limits.min_sample {
            continue;
        }
        for (kind, threshold) in [
            (GuardKind::Complaint, limits.complaint_rate),
            (GuardKind::HardBounce, limits.hard_bounce_rate),
        ] {
            let reports = tally.of(kind);
            if rate(reports, tally.delivered) > threshold {
                return Some(Breach {
                    kind,
                    edition,
                    reports,
                    delivered: tally.delivered,
                    threshold,
                    scope,
                });
            }
        }
    }
    None
}

/// The warm-up of a new sending domain (`[delivery.guard] warmup`): at most `start`
/// messages on its first day (UTC), `growth` times as many each day after; what is over the
/// day's cap stays queued for the next day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Warmup {
    pub start: u64,
    pub growth: f64,
}

impl Warmup {
    /// The cap of day `day` (0: the domain's first day), rounded down; saturates.
    pub fn cap(&self, day: i64) -> u64 {
        let day = i32::try_from(day.clamp(0, 10_000)).unwrap_or(10_000);
        let cap = self.start as f64 * self.growth.powi(day);
        if cap.is_finite() && cap < u64::MAX as f64 {
            cap.floor() as u64
        } else {
            u64::MAX
        }
    }
}

/// Where a warm-up stands on one day: for the engine's claims and the lines `send` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmupDay {
    /// 0: the domain's first day.
    pub day: i64,
    pub cap: u64,
    /// Sent today plus being sent now (by any run).
    pub used: u64,
    /// Tomorrow's cap.
    pub next_cap: u64,
}

impl WarmupDay {
    pub fn at(w: &Warmup, day: i64, used: u64) -> WarmupDay {
        WarmupDay {
            day,
            cap: w.cap(day),
            used,
            next_cap: w.cap(day + 1),
        }
    }

    /// Messages that may still be claimed today.
    pub fn left(&self) -> u64 {
        self.cap.saturating_sub(self.used)
    }

    /// `warm-up of example.org, day 1: today's cap of 500 messages is reached; 120
    /// deliveries stay queued for tomorrow (cap 750; days are UTC)`.
    pub fn describe(&self, domain: &str, waiting: i64) -> String {
        format!(
            "warm-up of {domain}, day {}: today's cap of {} messages is reached; {} queued for \
             tomorrow (cap {}; days are UTC)",
            self.day + 1,
            thousands(i64::try_from(self.cap).unwrap_or(i64::MAX)),
            if waiting == 1 {
                "1 delivery stays".to_string()
            } else {
                format!("{} deliveries stay", thousands(waiting))
            },
            thousands(i64::try_from(self.next_cap).unwrap_or(i64::MAX))
        )
    }
}

/// Sending paused by the guard, as the store keeps it until an operator resumes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SendingPause {
    pub since: DateTime<Utc>,
    pub kind: GuardKind,
    /// The edition whose rate tripped it; `None`: the rolling window's.
    pub edition: Option<String>,
    pub reports: i64,
    pub delivered: i64,
    pub threshold: f64,
    /// [`Breach::describe`] at the time it tripped.
    pub reason: String,
    /// What tripped it: `bounces ingest`, `send`.
    pub tripped_by: String,
}

impl SendingPause {
    /// `sending paused since 2026-12-07 16:50 UTC: complaint rate … ([delivery.guard]
    /// complaint_rate)`.
    pub fn describe(&self) -> String {
        format!(
            "sending paused since {}: {}",
            self.since.format("%Y-%m-%d %H:%M UTC"),
            self.reason
        )
    }
}

/// What a check of the guard found.
#[derive(Debug, Clone, PartialEq)]
pub enum GuardState {
    /// No rate over its threshold, no pause in force.
    Clear,
    /// This check found a rate over its threshold and paused sending.
    Tripped(SendingPause),
    /// Sending was already paused (by an earlier check, maybe another process's).
    Paused(SendingPause),
}

impl GuardState {
    /// The pause in force, if any.
    pub fn pause(&self) -> Option<&SendingPause> {
        match self {
            GuardState::Clear => None,
            GuardState::Tripped(p) | GuardState::Paused(p) => Some(p),
        }
    }
}

/// A pause lifted by `deliveries resume` (or the status page's button).
#[derive(Debug, Clone, PartialEq)]
pub struct ResumedPause {
    pub pause: SendingPause,
    pub resumed_at: DateTime<Utc>,
    pub resumed_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: GuardLimits = GuardLimits {
        complaint_rate: 0.003,
        hard_bounce_rate: 0.05,
        window_days: 30,
        min_sample: 1000,
    };

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn counts(editions: &[(&str, i64, i64, i64)]) -> GuardCounts {
        GuardCounts {
            since: Since::at(now(), 30, None),
            editions: editions
                .iter()
                .map(|&(k, delivered, hard, complaints)| {
                    (
                        k.to_string(),
                        Tally {
                            delivered,
                            hard,
                            complaints,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn a_rate_over_its_threshold_trips_and_says_what_where_and_by_how_much() {
        let b = judge(&LIMITS, &counts(&[("2026-W49", 5000, 3, 21)])).unwrap();
        assert_eq!(b.kind, GuardKind::Complaint);
        assert_eq!(b.edition.as_deref(), Some("2026-W49"));
        assert_eq!(
            b.describe(),
            "complaint rate 0.42 % (21 of 5,000 delivered, edition 2026-W49) is over 0.30 % \
             ([delivery.guard] complaint_rate)"
        );
        let b = judge(&LIMITS, &counts(&[("2026-W49", 2000, 101, 0)])).unwrap();
        assert_eq!(
            (b.kind, b.reports, b.delivered),
            (GuardKind::HardBounce, 101, 2000)
        );
        assert!(
            b.describe()
                .starts_with("hard-bounce rate 5.05 % (101 of 2,000 delivered"),
            "{}",
            b.describe()
        );
    }

    #[test]
    fn at_or_under_the_threshold_nothing_trips() {
        // 15 of 5,000 is exactly 0.3 %: "over" means above it.
        assert_eq!(
            judge(&LIMITS, &counts(&[("2026-W49", 5000, 250, 15)])),
            None
        );
        assert_eq!(judge(&LIMITS, &counts(&[])), None);
    }

    #[test]
    fn a_scope_under_the_minimum_sample_is_not_judged() {
        // One bounce and one complaint in three sends: 33 %, but no evidence.
        assert_eq!(judge(&LIMITS, &counts(&[("2026-W49", 3, 1, 1)])), None);
        // 999 delivered with 100 complaints: still under min_sample.
        assert_eq!(judge(&LIMITS, &counts(&[("2026-W49", 999, 0, 100)])), None);
        let small = GuardLimits {
            min_sample: 3,
            ..LIMITS
        };
        assert!(judge(&small, &counts(&[("2026-W49", 3, 1, 1)])).is_some());
    }

    #[test]
    fn small_editions_are_judged_together_over_the_window() {
        // Four editions of 400: none reaches min_sample alone; together 1,600 with 8
        // complaints (0.5 %) trips, over the window.
        let c = counts(&[
            ("2026-W46", 400, 0, 2),
            ("2026-W47", 400, 0, 2),
            ("2026-W48", 400, 0, 2),
            ("2026-W49", 400, 0, 2),
        ]);
        let b = judge(&LIMITS, &c).unwrap();
        assert_eq!(b.edition, None);
        assert_eq!((b.reports, b.delivered), (8, 1600));
        assert!(
            b.describe()
                .contains("(8 of 1,600 delivered, in the last 30 days)"),
            "{}",
            b.describe()
        );
    }

    #[test]
    fn one_bad_edition_trips_even_when_the_window_dilutes_it() {
        let c = counts(&[("2026-W48", 100_000, 0, 0), ("2026-W49", 2000, 0, 10)]);
        assert!(c.window().complaints * 1000 < c.window().delivered * 3);
        let b = judge(&LIMITS, &c).unwrap();
        assert_eq!(b.edition.as_deref(), Some("2026-W49"));
    }

    #[test]
    fn complaints_are_judged_before_hard_bounces_and_editions_before_the_window() {
        let b = judge(&LIMITS, &counts(&[("2026-W49", 1000, 900, 4)])).unwrap();
        assert_eq!(b.kind, GuardKind::Complaint);
    }

    #[test]
    fn the_count_restarts_at_a_resume_inside_the_window_only() {
        let resumed = now() - chrono::Duration::days(2);
        assert_eq!(
            Since::at(now(), 30, Some(resumed)),
            Since::Resume { at: resumed }
        );
        let long_ago = now() - chrono::Duration::days(60);
        let s = Since::at(now(), 30, Some(long_ago));
        assert_eq!(s.instant(), now() - chrono::Duration::days(30));
        let c = GuardCounts {
            since: Since::Resume { at: resumed },
            editions: vec![(
                "2026-W49".into(),
                Tally {
                    delivered: 1000,
                    hard: 0,
                    complaints: 1,
                },
            )],
        };
        let limits = GuardLimits {
            complaint_rate: 0.0005,
            ..LIMITS
        };
        // The edition trips first; the window's wording names the resume.
        assert!(judge(&limits, &c).unwrap().scope.starts_with("edition"));
        assert_eq!(
            c.since.words(),
            "since sending was resumed at 2026-12-05 12:00 UTC"
        );
    }

    #[test]
    fn the_warm_up_cap_grows_each_day_and_says_what_is_left() {
        let w = Warmup {
            start: 500,
            growth: 1.5,
        };
        assert_eq!(
            (0..5).map(|d| w.cap(d)).collect::<Vec<_>>(),
            [500, 750, 1125, 1687, 2531]
        );
        assert_eq!(w.cap(-3), 500, "a day before the first is the first");
        assert_eq!(w.cap(100_000), u64::MAX, "saturates instead of overflowing");
        let today = WarmupDay::at(&w, 1, 700);
        assert_eq!((today.cap, today.left(), today.next_cap), (750, 50, 1125));
        assert_eq!(WarmupDay::at(&w, 0, 900).left(), 0);
        assert_eq!(
            WarmupDay::at(&w, 0, 500).describe("example.org", 1200),
            "warm-up of example.org, day 1: today's cap of 500 messages is reached; 1,200 \
             deliveries stay queued for tomorrow (cap 750; days are UTC)"
        );
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent(0.003), "0.30 %");
        assert_eq!(percent(rate(1, 3)), "33.33 %");
        assert_eq!(rate(5, 0), 0.0);
    }
}
