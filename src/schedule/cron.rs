//! A cron expression evaluated in an IANA time zone. croner walks the zone's wall clock, so
//! DST behaves as people expect: a time skipped by spring-forward runs right after the gap
//! (once), a time repeated by fall-back runs on its first pass only (once).
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// At most this many occurrences are listed between two times (a long outage).
pub const MAX_LISTED: usize = 1000;

#[derive(Debug, Clone)]
pub struct Timing {
    pattern: String,
    cron: Cron,
    tz: Tz,
}

impl Timing {
    /// Parses `pattern` (5 fields, or 6 with seconds first, or a nickname like `@daily`) and
    /// checks that it ever fires.
    pub fn parse(pattern: &str, tz: Tz) -> Result<Timing, String> {
        let cron = Cron::from_str(pattern.trim())
            .map_err(|e| format!("`{pattern}` is not a cron expression: {e}"))?;
        let t = Timing {
            pattern: pattern.trim().to_string(),
            cron,
            tz,
        };
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .expect("a valid date")
            .with_timezone(&Utc);
        if t.next_after(start).is_none() {
            return Err(format!("`{pattern}` never fires"));
        }
        Ok(t)
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first occurrence strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&t.with_timezone(&self.tz), false)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// The latest occurrence at or before `now`, in the same sense as [`Timing::next_after`]
    /// (a backward search can disagree with the forward one around DST changes; the forward
    /// walk from the occurrence before decides).
    pub fn latest(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&self.tz);
        let back = self.cron.find_previous_occurrence(&local, true).ok()?;
        let before = self
            .cron
            .find_previous_occurrence(&back, false)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|_| back.with_timezone(&Utc) - Duration::days(1));
        let mut latest = None;
        let mut t = before;
        while let Some(next) = self.next_after(t).filter(|n| *n <= now) {
            latest = Some(next);
            t = next;
        }
        latest.or(Some(back.with_timezone(&Utc)))
    }

    /// Occurrences in `(after, until]`, oldest first, at most [`MAX_LISTED`].
    pub fn between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t = after;
        while out.len() < MAX_LISTED {
            match self.next_after(t) {
                Some(n) if n <= until => {
                    out.push(n);
                    t = n;
                }
                _ => break,
            }
        }
        out
    }
}

/// The same days as `pattern`, at `hour`:00:00 instead: a reader's own send time.
pub fn at_hour(pattern: &str, hour: u8) -> Result<String, String> {
    let p = pattern.trim();
    let expanded = match p.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *".to_string(),
        "@monthly" => "0 0 1 * *".to_string(),
        "@weekly" => "0 0 * * 0".to_string(),
        "@daily" | "@midnight" => "0 0 * * *".to_string(),
        "@hourly" => "0 * * * *".to_string(),
        _ => p.to_string(),
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    let days = match fields.len() {
        5 => &fields[2..],
        6 | 7 => &fields[3..],
        _ => return Err(format!("`{pattern}` does not have 5 or 6 fields")),
    };
    Ok(format!("0 0 {hour} {}", days.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_readers_hour_keeps_the_days_of_the_pattern() {
        assert_eq!(at_hour("0 8 * * MON", 9).unwrap(), "0 0 9 * * MON");
        assert_eq!(at_hour("*/5 30 8 * * 1-5", 7).unwrap(), "0 0 7 * * 1-5");
        assert_eq!(at_hour("@weekly", 6).unwrap(), "0 0 6 * * 0");
        assert!(at_hour("0 8 *", 6).is_err());
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_runs_once_right_after_it() {
        let berlin = chrono_tz::Europe::Berlin;
        let t = Timing::parse("30 2 * * *", berlin).unwrap();
        let runs = t.between(utc("2026-03-27T12:00:00Z"), utc("2026-03-31T12:00:00Z"));
        assert_eq!(
            runs,
            vec![
                at(berlin, 2026, 3, 28, 2, 30),
                utc("2026-03-29T01:00:00Z"), // 03:00 CEST: 02:30 did not exist
                at(berlin, 2026, 3, 30, 2, 30),
                at(berlin, 2026, 3, 31, 2, 30),
            ]
        );
        // The latest run seen from inside the day agrees with the forward walk.
        assert_eq!(
            t.latest(utc("2026-03-29T05:00:00Z")),
            Some(utc("2026-03-29T01:00:00Z"))
        );
    }

    #[test]
    fn a_time_repeated_by_fall_back_runs_once_on_its_first_pass() {
        let berlin = chrono_tz::Europe::Berlin;
        let t = Timing::parse("30 2 * * *", berlin).unwrap();
        let runs = t.between(utc("2026-10-24T12:00:00Z"), utc("2026-10-26T12:00:00Z"));
        assert_eq!(
            runs,
            vec![utc("2026-10-25T00:30:00Z"), utc("2026-10-26T01:30:00Z")]
        );
        for now in [
            "2026-10-25T00:45:00Z",
            "2026-10-25T01:45:00Z",
            "2026-10-25T09:00:00Z",
        ] {
            assert_eq!(
                t.latest(utc(now)),
                Some(utc("2026-10-25T00:30:00Z")),
                "{now}"
            );
        }
    }

    #[test]
    fn latest_is_inclusive_and_seconds_patterns_work() {
        let t = Timing::parse("*/2 * * * * *", chrono_tz::UTC).unwrap();
        assert_eq!(
            t.latest(utc("2026-11-26T10:00:03Z")),
            Some(utc("2026-11-26T10:00:02Z"))
        );
        let w = Timing::parse("0 8 * * MON", chrono_tz::America::New_York).unwrap();
        let monday = utc("2026-11-30T13:00:00Z");
        assert_eq!(w.latest(monday), Some(monday));
        assert_eq!(w.next_after(monday), Some(utc("2026-12-07T13:00:00Z")));
        assert!(Timing::parse("0 0 31 2 *", chrono_tz::UTC).is_err());
    }
}
