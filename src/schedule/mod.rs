//! SCHEDULE: when paperpost fetches and sends (the loop of `paperpost serve` that acts on it
//! lives a level up, in [`crate::app::scheduler`]).
//!
//! - [`ScheduleSettings`]: the `[schedule]` section of `config.toml` (cron expressions and an
//!   IANA zone), validated at load;
//! - [`cron`]: a cron expression in a time zone (croner + chrono-tz), DST-safe;
//! - [`due`]: PURE — given the schedule, the readers and the time, what is due now, what was
//!   missed, and when the next run is;
//! - [`clock`]: the time source: the system clock, or a manual one for tests;
//!
//! Editions are keyed by period (ISO week or day), so a second run of the same period plans
//! nothing new and sends nothing twice, whichever process or tick runs it.
pub mod clock;
pub mod cron;
pub mod due;

use serde::{Deserialize, Deserializer};

pub use clock::{Clock, ManualClock, SystemClock};
pub use cron::Timing;
pub use due::{DueSend, Missed, Reader, Schedule, SendsDue, reader_period};

/// `[schedule]` in `config.toml`. Cron expressions have 5 fields (minute hour day month
/// weekday), or 6 with seconds first; `@daily`-style nicknames work too.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    /// When to fetch every source; an empty string disables scheduled fetching.
    #[serde(default = "default_fetch")]
    pub fetch: String,
    /// Zone of `fetch` (e.g. `America/New_York` to fetch after arXiv's 20:00 announcement);
    /// default `timezone`.
    #[serde(default, deserialize_with = "de_opt_tz")]
    pub fetch_timezone: Option<chrono_tz::Tz>,
    /// When the weekly edition goes out, for readers without their own hour. A reader with
    /// their own hour gets it on the same days at that hour, in their zone.
    #[serde(default = "default_send")]
    pub send: String,
    /// When the daily edition goes out (same rules).
    #[serde(default = "default_daily_send")]
    pub daily_send: String,
    /// Zone of the schedules; default `newsletter.timezone`.
    #[serde(default, deserialize_with = "de_opt_tz")]
    pub timezone: Option<chrono_tz::Tz>,
    /// After downtime, a missed edition still runs (once) if its time is at most this old;
    /// older misses are skipped and logged.
    #[serde(default = "default_grace_hours")]
    pub grace_hours: u32,
    /// The scheduler wakes at least this often (and at every due time).
    #[serde(default = "default_tick_secs")]
    pub tick_secs: u64,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        toml::from_str("").expect("every schedule setting has a default")
    }
}

fn default_fetch() -> String {
    "0 * * * *".into()
}
fn default_send() -> String {
    "0 8 * * MON".into()
}
fn default_daily_send() -> String {
    "0 8 * * *".into()
}
fn default_grace_hours() -> u32 {
    24
}
fn default_tick_secs() -> u64 {
    30
}

fn de_opt_tz<'de, D: Deserializer<'de>>(d: D) -> Result<Option<chrono_tz::Tz>, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "`{s}` is not an IANA time zone like `Europe/Berlin`"
        ))
    })
}

impl ScheduleSettings {
    /// Checks every value; on error, the key (within `[schedule]`) and what is wrong.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let tz = chrono_tz::UTC;
        if !self.fetch.trim().is_empty() {
            Timing::parse(&self.fetch, tz).map_err(|e| ("fetch", e))?;
        }
        for (key, pattern) in [("send", &self.send), ("daily_send", &self.daily_send)] {
            if pattern.trim().is_empty() {
                return Err((key, "must not be empty".into()));
            }
            Timing::parse(pattern, tz).map_err(|e| (key, e))?;
            // Readers with their own hour get the same days at that hour.
            let at = cron::at_hour(pattern, 0).map_err(|e| (key, e))?;
            Timing::parse(&at, tz).map_err(|e| (key, e))?;
        }
        if self.grace_hours == 0 || self.grace_hours > 24 * 31 {
            return Err(("grace_hours", "must be between 1 and 744 (31 days)".into()));
        }
        if self.tick_secs == 0 || self.tick_secs > 3600 {
            return Err(("tick_secs", "must be between 1 and 3600".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_weekly_monday_eight_and_hourly_fetch() {
        let s = ScheduleSettings::default();
        assert_eq!(s.send, "0 8 * * MON");
        assert_eq!(s.daily_send, "0 8 * * *");
        assert_eq!(s.fetch, "0 * * * *");
        assert_eq!((s.grace_hours, s.tick_secs), (24, 30));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn bad_values_name_their_key() {
        let bad = |toml_text: &str| {
            let s: ScheduleSettings = toml::from_str(toml_text).unwrap();
            s.validate().unwrap_err()
        };
        assert_eq!(bad("send = \"0 8 * * FUNDAY\"").0, "send");
        assert_eq!(bad("daily_send = \"61 8 * * *\"").0, "daily_send");
        assert_eq!(bad("fetch = \"every hour\"").0, "fetch");
        assert_eq!(bad("send = \"\"").0, "send");
        assert_eq!(bad("send = \"0 0 30 2 *\"").0, "send");
        assert_eq!(bad("grace_hours = 0").0, "grace_hours");
        assert_eq!(bad("tick_secs = 0").0, "tick_secs");
        let ok: ScheduleSettings =
            toml::from_str("fetch = \"\"\nsend = \"*/5 * * * * *\"\ntimezone = \"Asia/Tokyo\"")
                .unwrap();
        assert!(ok.validate().is_ok());
        assert!(toml::from_str::<ScheduleSettings>("timezone = \"Mars/Base\"").is_err());
    }
}
