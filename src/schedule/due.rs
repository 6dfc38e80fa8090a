//! PURE: what is due at a given time. No store, no clock: the runner passes the readers, the
//! last tick and `now`, and gets back which editions to plan for whom, which were missed,
//! and when to wake up next. Tests drive it across DST changes with made-up times.
//!
//! A reader's send time is the schedule of their frequency (`send` for weekly, `daily_send`
//! for daily) in their own zone (default: the schedule's), at their own hour if they chose
//! one (same days, `hour`:00). Each occurrence belongs to the period (ISO week or day) of its
//! local date, so readers in different zones share the week's edition.
//!
//! A reader is due while their latest occurrence is at most `grace` old; the runner plans
//! them unless they already have a delivery in that period's edition. Older occurrences (a
//! long outage) never run: they are reported as [`Missed`], once, by the first tick after.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::ScheduleSettings;
use super::cron::{Timing, at_hour};
use crate::domain::{Frequency, Period, Subscriber};

/// What the schedule needs to know about a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub id: i64,
    pub frequency: Frequency,
    pub timezone: Option<Tz>,
    pub send_hour: Option<u8>,
}

impl From<&Subscriber> for Reader {
    fn from(s: &Subscriber) -> Reader {
        Reader {
            id: s.id,
            frequency: s.frequency,
            timezone: s.timezone,
            send_hour: s.send_hour,
        }
    }
}

/// The parsed `[schedule]`.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub timezone: Tz,
    pub fetch: Option<Timing>,
    pub weekly: Timing,
    pub daily: Timing,
    pub grace: Duration,
    pub tick: Duration,
    /// Readers' own send times (their zone, their hour), parsed once each and kept: the
    /// scheduler asks for them at every tick.
    own_times: Arc<Mutex<HashMap<OwnTime, Timing>>>,
}

/// Readers of one frequency whose send time (this period's) has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSend {
    pub frequency: Frequency,
    pub period: Period,
    /// The earliest send time among them.
    pub slot: DateTime<Utc>,
    pub readers: Vec<i64>,
}

/// An edition whose send time passed while nothing ran, beyond the grace window (or
/// superseded by a later one): skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missed {
    pub frequency: Frequency,
    pub period_key: String,
    pub slot: DateTime<Utc>,
    pub readers: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendsDue {
    /// Oldest slot first.
    pub due: Vec<DueSend>,
    pub missed: Vec<Missed>,
}

/// The next send of a frequency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextSend {
    pub frequency: Frequency,
    pub at: DateTime<Utc>,
    /// Active readers of that frequency (0: the schedule's own time is shown).
    pub readers: usize,
    /// How many of them have their own zone or hour.
    pub own_time: usize,
}

pub const FREQUENCIES: [Frequency; 2] = [Frequency::Weekly, Frequency::Daily];

/// A reader's period at `at`: the ISO week or the day of the local date in the reader's
/// zone, or in `default_zone` (the schedule's) when they have none. The one definition of
/// "this period": the scheduler files each send time under it, `send` plans each reader into
/// the edition of it, and previews and test digests show it.
pub fn reader_period(
    frequency: Frequency,
    zone: Option<Tz>,
    default_zone: Tz,
    at: DateTime<Utc>,
) -> Period {
    Period::at(frequency, at, zone.unwrap_or(default_zone))
}

/// A reader's own send time: frequency, zone, hour.
type OwnTime = (&'static str, Tz, Option<u8>);

/// Readers that share a send time: same frequency, zone and hour.
struct Group {
    frequency: Frequency,
    timing: Timing,
    readers: Vec<i64>,
}

impl Schedule {
    pub fn new(s: &ScheduleSettings, newsletter_tz: Tz) -> Result<Schedule, String> {
        let tz = s.timezone.unwrap_or(newsletter_tz);
        let fetch = if s.fetch.trim().is_empty() {
            None
        } else {
            Some(Timing::parse(&s.fetch, s.fetch_timezone.unwrap_or(tz))?)
        };
        Ok(Schedule {
            timezone: tz,
            fetch,
            weekly: Timing::parse(&s.send, tz)?,
            daily: Timing::parse(&s.daily_send, tz)?,
            grace: Duration::hours(s.grace_hours as i64),
            tick: Duration::seconds(s.tick_secs as i64),
            own_times: Arc::default(),
        })
    }

    /// The schedule's own send time of a frequency.
    pub fn base(&self, frequency: Frequency) -> &Timing {
        match frequency {
            Frequency::Weekly => &self.weekly,
            Frequency::Daily => &self.daily,
        }
    }

    /// A reader's send time.
    pub fn timing_for(
        &self,
        frequency: Frequency,
        timezone: Option<Tz>,
        hour: Option<u8>,
    ) -> Result<Timing, String> {
        let base = self.base(frequency);
        let tz = timezone.unwrap_or(self.timezone);
        if hour.is_none() && tz == self.timezone {
            return Ok(base.clone());
        }
        let key = (frequency.as_str(), tz, hour);
        let mut own = self.own_times.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = own.get(&key) {
            return Ok(t.clone());
        }
        let timing = match hour {
            None => Timing::parse(base.pattern(), tz),
            Some(h) => Timing::parse(&at_hour(base.pattern(), h.min(23))?, tz),
        }?;
        own.insert(key, timing.clone());
        Ok(timing)
    }

    fn groups(&self, readers: &[Reader]) -> Vec<Group> {
        // Same frequency, zone and hour: same send time.
        type SendTime<'a> = (&'a str, &'a str, Option<u8>);
        let mut by_time: BTreeMap<SendTime, (Reader, Vec<i64>)> = BTreeMap::new();
        for r in readers {
            let tz = r.timezone.unwrap_or(self.timezone);
            by_time
                .entry((r.frequency.as_str(), tz.name(), r.send_hour))
                .or_insert_with(|| (*r, Vec::new()))
                .1
                .push(r.id);
        }
        by_time
            .into_values()
            .filter_map(|(r, ids)| {
                match self.timing_for(r.frequency, r.timezone, r.send_hour) {
                    Ok(timing) => Some(Group {
                        frequency: r.frequency,
                        timing,
                        readers: ids,
                    }),
                    Err(e) => {
                        // Validated at load and stored hours are 0–23: not expected.
                        tracing::error!("no send time for reader {}: {e}", r.id);
                        None
                    }
                }
            })
            .collect()
    }

    /// The fetch slot to run now, if fetching is scheduled and the latest fetch time came
    /// after the last fetch slot that ran. After an outage, only the latest one runs.
    pub fn fetch_due(
        &self,
        last_fetch: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let latest = self.fetch.as_ref()?.latest(now)?;
        last_fetch.is_none_or(|l| l < latest).then_some(latest)
    }

    /// Which readers are due now (whether or not they were planned already: the runner
    /// checks the store), and which editions were missed since `last_tick`.
    pub fn sends_due(
        &self,
        readers: &[Reader],
        last_tick: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> SendsDue {
        let mut due: BTreeMap<(&str, String), DueSend> = BTreeMap::new();
        let mut missed: BTreeMap<(&str, String), Missed> = BTreeMap::new();
        for g in self.groups(readers) {
            let tz = g.timing.timezone();
            let f = g.frequency;
            let mut due_key = None;
            if let Some(slot) = g.timing.latest(now).filter(|s| now - *s <= self.grace) {
                let period = reader_period(f, Some(tz), self.timezone, slot);
                due_key = Some(period.key());
                let d = due
                    .entry((f.as_str(), period.key()))
                    .or_insert_with(|| DueSend {
                        frequency: f,
                        period,
                        slot,
                        readers: Vec::new(),
                    });
                d.slot = d.slot.min(slot);
                d.readers.extend(&g.readers);
            }
            let Some(last) = last_tick else { continue };
            for slot in g.timing.between(last, now) {
                let key = reader_period(f, Some(tz), self.timezone, slot).key();
                if due_key.as_ref() == Some(&key) {
                    continue;
                }
                let m = missed
                    .entry((f.as_str(), key.clone()))
                    .or_insert_with(|| Missed {
                        frequency: f,
                        period_key: key,
                        slot,
                        readers: 0,
                    });
                m.slot = m.slot.min(slot);
                m.readers += g.readers.len();
            }
        }
        // A period that is due for some readers is not "missed" for others in it.
        missed.retain(|k, _| !due.contains_key(k));
        let mut due: Vec<DueSend> = due.into_values().collect();
        due.sort_by_key(|d| d.slot);
        for d in &mut due {
            d.readers.sort_unstable();
        }
        let mut missed: Vec<Missed> = missed.into_values().collect();
        missed.sort_by_key(|m| m.slot);
        SendsDue { due, missed }
    }

    /// A reader's period at `at` (see [`reader_period`]).
    pub fn period_of(&self, frequency: Frequency, zone: Option<Tz>, at: DateTime<Utc>) -> Period {
        reader_period(frequency, zone, self.timezone, at)
    }

    /// Every reader in the edition of their period at `at`, whatever their send time: what
    /// `send` plans. Weekly before daily, then by period.
    pub fn periods_at(&self, readers: &[Reader], at: DateTime<Utc>) -> Vec<DueSend> {
        let mut by_period: BTreeMap<(usize, String), DueSend> = BTreeMap::new();
        for r in readers {
            let period = self.period_of(r.frequency, r.timezone, at);
            let order = FREQUENCIES
                .iter()
                .position(|f| *f == r.frequency)
                .unwrap_or(0);
            by_period
                .entry((order, period.key()))
                .or_insert_with(|| DueSend {
                    frequency: r.frequency,
                    period,
                    slot: at,
                    readers: Vec::new(),
                })
                .readers
                .push(r.id);
        }
        by_period.into_values().collect()
    }

    /// The next send per frequency: the earliest among its readers' send times, or the
    /// schedule's own time when it has none.
    pub fn next_sends(&self, readers: &[Reader], now: DateTime<Utc>) -> Vec<NextSend> {
        let groups = self.groups(readers);
        FREQUENCIES
            .iter()
            .filter_map(|&f| {
                let mine: Vec<&Group> = groups.iter().filter(|g| g.frequency == f).collect();
                let count = mine.iter().map(|g| g.readers.len()).sum();
                let own_time = readers
                    .iter()
                    .filter(|r| r.frequency == f)
                    .filter(|r| {
                        r.send_hour.is_some() || r.timezone.is_some_and(|tz| tz != self.timezone)
                    })
                    .count();
                let at = if mine.is_empty() {
                    self.base(f).next_after(now)
                } else {
                    mine.iter().filter_map(|g| g.timing.next_after(now)).min()
                }?;
                Some(NextSend {
                    frequency: f,
                    at,
                    readers: count,
                    own_time,
                })
            })
            .collect()
    }

    /// The next time to run: the next fetch or send time, or one tick from now if sooner.
    pub fn next_wake(&self, readers: &[Reader], now: DateTime<Utc>) -> DateTime<Utc> {
        let mut wake = now + self.tick;
        if let Some(f) = self.fetch.as_ref().and_then(|f| f.next_after(now)) {
            wake = wake.min(f);
        }
        for g in self.groups(readers) {
            if let Some(t) = g.timing.next_after(now) {
                wake = wake.min(t);
            }
        }
        wake
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use chrono::TimeZone;
    use chrono_tz::{America, Asia, Europe};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn local(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn schedule(toml_text: &str, tz: Tz) -> Schedule {
        let s: ScheduleSettings = toml::from_str(toml_text).unwrap();
        s.validate().unwrap();
        Schedule::new(&s, tz).unwrap()
    }

    fn reader(id: i64, frequency: Frequency, tz: Option<Tz>, hour: Option<u8>) -> Reader {
        Reader {
            id,
            frequency,
            timezone: tz,
            send_hour: hour,
        }
    }

    /// One planning of a reader: who, which period, at which tick.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Planned {
        reader: i64,
        period: String,
        at: DateTime<Utc>,
    }

    /// Runs `ticks` the way the runner does: plans every due reader that has nothing in that
    /// period yet. Returns every planning and every miss. The scheduler was already running
    /// before the first tick (what was due then is planned), unless the ticks start with a
    /// cold start ([`simulate_cold`]).
    fn simulate(
        s: &Schedule,
        readers: &[Reader],
        ticks: Vec<DateTime<Utc>>,
    ) -> (Vec<Planned>, Vec<Missed>) {
        let before = ticks[0] - Duration::seconds(1);
        let mut planned: HashSet<(String, i64)> = s
            .sends_due(readers, None, before)
            .due
            .into_iter()
            .flat_map(|d| d.readers.into_iter().map(move |r| (d.period.key(), r)))
            .collect();
        run_ticks(s, readers, ticks, &mut planned, Some(before))
    }

    fn simulate_cold(
        s: &Schedule,
        readers: &[Reader],
        ticks: Vec<DateTime<Utc>>,
    ) -> (Vec<Planned>, Vec<Missed>) {
        run_ticks(s, readers, ticks, &mut HashSet::new(), None)
    }

    fn run_ticks(
        s: &Schedule,
        readers: &[Reader],
        ticks: Vec<DateTime<Utc>>,
        planned: &mut HashSet<(String, i64)>,
        mut last_tick: Option<DateTime<Utc>>,
    ) -> (Vec<Planned>, Vec<Missed>) {
        let mut out = Vec::new();
        let mut missed = Vec::new();
        for now in ticks {
            let due = s.sends_due(readers, last_tick, now);
            for d in due.due {
                for r in d.readers {
                    if planned.insert((d.period.key(), r)) {
                        out.push(Planned {
                            reader: r,
                            period: d.period.key(),
                            at: now,
                        });
                    }
                }
            }
            missed.extend(due.missed);
            last_tick = Some(now);
        }
        (out, missed)
    }

    fn every(start: DateTime<Utc>, end: DateTime<Utc>, step: Duration) -> Vec<DateTime<Utc>> {
        let mut t = start;
        let mut out = Vec::new();
        while t <= end {
            out.push(t);
            t += step;
        }
        out
    }

    fn runs(planned: &[Planned]) -> Vec<(String, DateTime<Utc>)> {
        planned.iter().map(|p| (p.period.clone(), p.at)).collect()
    }

    #[test]
    fn every_reader_is_in_the_period_of_their_own_local_date() {
        // Sunday 23:30 in Berlin is already Monday (the next ISO week) in Tokyo.
        let s = schedule("", Europe::Berlin);
        let now = utc("2026-11-29T22:30:00Z");
        let readers = [
            reader(1, Frequency::Weekly, None, None),
            reader(2, Frequency::Weekly, Some(Asia::Tokyo), Some(9)),
            reader(3, Frequency::Daily, Some(America::New_York), None),
            reader(4, Frequency::Daily, None, None),
        ];
        let got: Vec<(Frequency, String, Vec<i64>)> = s
            .periods_at(&readers, now)
            .into_iter()
            .map(|d| (d.frequency, d.period.key(), d.readers))
            .collect();
        assert_eq!(
            got,
            [
                (Frequency::Weekly, "2026-W48".to_string(), vec![1]),
                (Frequency::Weekly, "2026-W49".to_string(), vec![2]),
                (Frequency::Daily, "2026-11-29".to_string(), vec![3, 4]),
            ]
        );
        // The scheduler files a send time under the same definition.
        assert_eq!(
            s.period_of(Frequency::Weekly, Some(Asia::Tokyo), now).key(),
            "2026-W49"
        );
    }

    #[test]
    fn weekly_monday_eight_stays_at_eight_local_across_berlin_dst() {
        let s = schedule("", Europe::Berlin);
        let r = [reader(1, Frequency::Weekly, None, None)];
        let b = Europe::Berlin;
        // Spring forward on Sunday 2026-03-29.
        let ticks = every(
            utc("2026-03-16T00:00:00Z"),
            utc("2026-04-07T00:00:00Z"),
            Duration::minutes(10),
        );
        let (planned, missed) = simulate(&s, &r, ticks);
        assert_eq!(
            runs(&planned),
            vec![
                ("2026-W12".into(), local(b, 2026, 3, 16, 8, 0)),
                ("2026-W13".into(), local(b, 2026, 3, 23, 8, 0)),
                ("2026-W14".into(), local(b, 2026, 3, 30, 8, 0)),
                ("2026-W15".into(), local(b, 2026, 4, 6, 8, 0)),
            ]
        );
        assert_eq!(local(b, 2026, 3, 23, 8, 0), utc("2026-03-23T07:00:00Z"));
        assert_eq!(local(b, 2026, 3, 30, 8, 0), utc("2026-03-30T06:00:00Z"));
        assert!(missed.is_empty());
        // Fall back on Sunday 2026-10-25.
        let ticks = every(
            utc("2026-10-18T00:00:00Z"),
            utc("2026-11-03T00:00:00Z"),
            Duration::minutes(10),
        );
        let (planned, _) = simulate(&s, &r, ticks);
        assert_eq!(
            runs(&planned),
            vec![
                ("2026-W43".into(), utc("2026-10-19T06:00:00Z")),
                ("2026-W44".into(), utc("2026-10-26T07:00:00Z")),
                ("2026-W45".into(), utc("2026-11-02T07:00:00Z")),
            ]
        );
    }

    #[test]
    fn weekly_across_new_york_dst() {
        let s = schedule("", America::New_York);
        let r = [reader(1, Frequency::Weekly, None, None)];
        // Spring forward on Sunday 2026-03-08, fall back on Sunday 2026-11-01.
        let ticks = every(
            utc("2026-03-01T00:00:00Z"),
            utc("2026-03-17T00:00:00Z"),
            Duration::minutes(15),
        );
        let (planned, _) = simulate(&s, &r, ticks);
        assert_eq!(
            runs(&planned),
            vec![
                ("2026-W10".into(), utc("2026-03-02T13:00:00Z")),
                ("2026-W11".into(), utc("2026-03-09T12:00:00Z")),
                ("2026-W12".into(), utc("2026-03-16T12:00:00Z")),
            ]
        );
        let ticks = every(
            utc("2026-10-25T00:00:00Z"),
            utc("2026-11-10T00:00:00Z"),
            Duration::minutes(15),
        );
        let (planned, _) = simulate(&s, &r, ticks);
        assert_eq!(
            runs(&planned),
            vec![
                ("2026-W44".into(), utc("2026-10-26T12:00:00Z")),
                ("2026-W45".into(), utc("2026-11-02T13:00:00Z")),
                ("2026-W46".into(), utc("2026-11-09T13:00:00Z")),
            ]
        );
    }

    /// Daily at `hhmm` in `tz` around `day`: one planning per day, at the given UTC times.
    fn daily_runs(tz: Tz, pattern: &str, from: &str, to: &str) -> Vec<(String, DateTime<Utc>)> {
        let s = schedule(&format!("daily_send = \"{pattern}\""), tz);
        let r = [reader(7, Frequency::Daily, None, None)];
        let (planned, missed) = simulate(&s, &r, every(utc(from), utc(to), Duration::minutes(5)));
        assert!(missed.is_empty(), "{missed:?}");
        runs(&planned)
    }

    #[test]
    fn daily_across_berlin_dst_runs_once_a_day_even_in_the_gap_and_the_repeated_hour() {
        let b = Europe::Berlin;
        let eight = daily_runs(
            b,
            "0 8 * * *",
            "2026-03-28T00:00:00Z",
            "2026-03-30T23:55:00Z",
        );
        assert_eq!(
            eight,
            vec![
                ("2026-03-28".into(), utc("2026-03-28T07:00:00Z")),
                ("2026-03-29".into(), utc("2026-03-29T06:00:00Z")),
                ("2026-03-30".into(), utc("2026-03-30T06:00:00Z")),
            ]
        );
        // 02:30 does not exist on 2026-03-29: it runs at 03:00 CEST, once.
        let gap = daily_runs(
            b,
            "30 2 * * *",
            "2026-03-28T00:00:00Z",
            "2026-03-30T23:55:00Z",
        );
        assert_eq!(
            gap,
            vec![
                ("2026-03-28".into(), utc("2026-03-28T01:30:00Z")),
                ("2026-03-29".into(), utc("2026-03-29T01:00:00Z")),
                ("2026-03-30".into(), utc("2026-03-30T00:30:00Z")),
            ]
        );
        // 02:30 happens twice on 2026-10-25: it runs on the first pass only.
        let twice = daily_runs(
            b,
            "30 2 * * *",
            "2026-10-24T00:00:00Z",
            "2026-10-26T23:55:00Z",
        );
        assert_eq!(
            twice,
            vec![
                ("2026-10-24".into(), utc("2026-10-24T00:30:00Z")),
                ("2026-10-25".into(), utc("2026-10-25T00:30:00Z")),
                ("2026-10-26".into(), utc("2026-10-26T01:30:00Z")),
            ]
        );
        let eight = daily_runs(
            b,
            "0 8 * * *",
            "2026-10-24T00:00:00Z",
            "2026-10-26T23:55:00Z",
        );
        assert_eq!(
            eight.iter().map(|r| r.1).collect::<Vec<_>>(),
            vec![
                utc("2026-10-24T06:00:00Z"),
                utc("2026-10-25T07:00:00Z"),
                utc("2026-10-26T07:00:00Z"),
            ]
        );
    }

    #[test]
    fn daily_across_new_york_dst_runs_once_a_day() {
        let ny = America::New_York;
        // 02:30 does not exist on 2026-03-08 (02:00 → 03:00): 03:00 EDT.
        let gap = daily_runs(
            ny,
            "30 2 * * *",
            "2026-03-07T00:00:00Z",
            "2026-03-09T23:55:00Z",
        );
        assert_eq!(
            gap,
            vec![
                ("2026-03-07".into(), utc("2026-03-07T07:30:00Z")),
                ("2026-03-08".into(), utc("2026-03-08T07:00:00Z")),
                ("2026-03-09".into(), utc("2026-03-09T06:30:00Z")),
            ]
        );
        // 01:30 happens twice on 2026-11-01 (02:00 EDT → 01:00 EST): first pass only.
        let twice = daily_runs(
            ny,
            "30 1 * * *",
            "2026-10-31T00:00:00Z",
            "2026-11-02T23:55:00Z",
        );
        assert_eq!(
            twice,
            vec![
                ("2026-10-31".into(), utc("2026-10-31T05:30:00Z")),
                ("2026-11-01".into(), utc("2026-11-01T05:30:00Z")),
                ("2026-11-02".into(), utc("2026-11-02T06:30:00Z")),
            ]
        );
        let seven = daily_runs(
            ny,
            "0 7 * * *",
            "2026-10-31T00:00:00Z",
            "2026-11-02T23:55:00Z",
        );
        assert_eq!(
            seven.iter().map(|r| r.1).collect::<Vec<_>>(),
            vec![
                utc("2026-10-31T11:00:00Z"),
                utc("2026-11-01T12:00:00Z"),
                utc("2026-11-02T12:00:00Z"),
            ]
        );
    }

    #[test]
    fn readers_in_three_zones_each_get_the_weekly_edition_at_their_local_hour() {
        let s = schedule("", Europe::Berlin);
        let readers = [
            reader(1, Frequency::Weekly, Some(Europe::Berlin), Some(8)),
            reader(2, Frequency::Weekly, Some(America::New_York), Some(7)),
            reader(3, Frequency::Weekly, Some(Asia::Tokyo), Some(9)),
        ];
        // A plain week, and the week New York is already on summer time but Berlin is not.
        for (from, expected) in [
            (
                "2026-11-28T00:00:00Z",
                [
                    (3, utc("2026-11-30T00:00:00Z")),
                    (1, utc("2026-11-30T07:00:00Z")),
                    (2, utc("2026-11-30T12:00:00Z")),
                ],
            ),
            (
                "2026-03-07T00:00:00Z",
                [
                    (3, utc("2026-03-09T00:00:00Z")),
                    (1, utc("2026-03-09T07:00:00Z")),
                    (2, utc("2026-03-09T11:00:00Z")),
                ],
            ),
        ] {
            let start = utc(from);
            let ticks = every(start, start + Duration::days(7), Duration::minutes(5));
            let (planned, _) = simulate(&s, &readers, ticks);
            let got: Vec<(i64, DateTime<Utc>)> = planned.iter().map(|p| (p.reader, p.at)).collect();
            assert_eq!(got, expected, "week from {from}");
            // One shared edition: the ISO week of their (local) Monday.
            let periods: HashSet<&str> = planned.iter().map(|p| p.period.as_str()).collect();
            assert_eq!(periods.len(), 1, "{planned:?}");
        }
        // Each at exactly their local hour.
        let (planned, _) = simulate(
            &s,
            &readers,
            every(
                utc("2026-11-28T00:00:00Z"),
                utc("2026-12-05T00:00:00Z"),
                Duration::minutes(5),
            ),
        );
        for (p, (tz, hour)) in planned.iter().zip([
            (Asia::Tokyo, 9),
            (Europe::Berlin, 8),
            (America::New_York, 7),
        ]) {
            let t = p.at.with_timezone(&tz);
            assert_eq!(
                (chrono::Timelike::hour(&t), chrono::Timelike::minute(&t)),
                (hour, 0)
            );
            assert_eq!(chrono::Datelike::weekday(&t), chrono::Weekday::Mon);
        }
    }

    #[test]
    fn a_reader_with_only_a_zone_gets_the_schedules_time_in_it() {
        let s = schedule("daily_send = \"30 6 * * *\"", Europe::Berlin);
        let r = [reader(1, Frequency::Daily, Some(Asia::Tokyo), None)];
        let due = s.sends_due(&r, None, utc("2026-11-25T21:31:00Z"));
        assert_eq!(due.due.len(), 1);
        assert_eq!(due.due[0].slot, utc("2026-11-25T21:30:00Z")); // 06:30 JST on the 26th
        assert_eq!(due.due[0].period.key(), "2026-11-26");
    }

    #[test]
    fn after_a_three_day_outage_only_the_latest_missed_edition_runs() {
        let s = schedule("", Europe::Berlin);
        let daily = [
            reader(1, Frequency::Daily, None, None),
            reader(2, Frequency::Daily, None, None),
        ];
        // Up on Monday, down from Monday 09:00 until Thursday 10:00.
        let mut ticks = every(
            utc("2026-11-23T06:00:00Z"),
            utc("2026-11-23T08:00:00Z"),
            Duration::minutes(5),
        );
        ticks.extend(every(
            utc("2026-11-26T09:00:00Z"),
            utc("2026-11-26T12:00:00Z"),
            Duration::minutes(5),
        ));
        let (planned, missed) = simulate(&s, &daily, ticks);
        assert_eq!(
            runs(&planned),
            vec![
                ("2026-11-23".into(), utc("2026-11-23T07:00:00Z")),
                ("2026-11-23".into(), utc("2026-11-23T07:00:00Z")),
                // Thursday's edition, once, at start-up; not Tuesday's nor Wednesday's.
                ("2026-11-26".into(), utc("2026-11-26T09:00:00Z")),
                ("2026-11-26".into(), utc("2026-11-26T09:00:00Z")),
            ]
        );
        let keys: Vec<&str> = missed.iter().map(|m| m.period_key.as_str()).collect();
        assert_eq!(keys, ["2026-11-24", "2026-11-25"]);
        assert!(missed.iter().all(|m| m.readers == 2));

        // Weekly: Monday 08:00 passed during a Sunday-to-Wednesday outage.
        let weekly = [reader(1, Frequency::Weekly, None, None)];
        let outage = vec![utc("2026-11-22T12:00:00Z"), utc("2026-11-25T12:00:00Z")];
        let (planned, missed) = simulate(&s, &weekly, outage.clone());
        assert!(planned.is_empty(), "2 days late is beyond the 24 h grace");
        assert_eq!(missed.len(), 1);
        assert_eq!(missed[0].period_key, "2026-W48");
        let lenient = schedule("grace_hours = 96", Europe::Berlin);
        let (planned, missed) = simulate(&lenient, &weekly, outage.clone());
        assert_eq!(runs(&planned), vec![("2026-W48".into(), outage[1])]);
        assert!(missed.is_empty());
        // Ticking on afterwards plans nothing more.
        let ticks = every(
            outage[1],
            outage[1] + Duration::days(3),
            Duration::minutes(30),
        );
        let mut again = outage.clone();
        again.extend(ticks);
        let (planned_after, _) = simulate(&lenient, &weekly, again);
        assert_eq!(planned_after.len(), 1);
        // A cold start (first ever) within the grace window also runs it once.
        let (cold, missed) = simulate_cold(
            &lenient,
            &weekly,
            vec![outage[1], outage[1] + Duration::hours(1)],
        );
        assert_eq!(runs(&cold), vec![("2026-W48".into(), outage[1])]);
        assert!(missed.is_empty());
    }

    #[test]
    fn the_first_start_runs_a_recent_edition_and_reports_nothing_missed() {
        let s = schedule("", Europe::Berlin);
        let r = [reader(1, Frequency::Daily, None, None)];
        let due = s.sends_due(&r, None, utc("2026-11-26T09:00:00Z"));
        assert_eq!(due.due[0].period.key(), "2026-11-26");
        assert!(due.missed.is_empty());
        let weekly = [reader(1, Frequency::Weekly, None, None)];
        assert!(
            s.sends_due(&weekly, None, utc("2026-11-26T09:00:00Z"))
                .due
                .is_empty()
        );
    }

    #[test]
    fn fetch_runs_once_per_slot_and_once_after_an_outage() {
        let s = schedule("", Europe::Berlin);
        let now = utc("2026-11-26T09:10:00Z");
        assert_eq!(s.fetch_due(None, now), Some(utc("2026-11-26T09:00:00Z")));
        assert_eq!(s.fetch_due(Some(utc("2026-11-26T09:00:00Z")), now), None);
        assert_eq!(
            s.fetch_due(Some(utc("2026-11-23T09:00:00Z")), now),
            Some(utc("2026-11-26T09:00:00Z"))
        );
        let off = schedule("fetch = \"\"", Europe::Berlin);
        assert_eq!(off.fetch_due(None, now), None);
        // arXiv announces at 20:00 New York time, Sunday to Thursday.
        let arxiv = schedule(
            "fetch = \"30 20 * * SUN-THU\"\nfetch_timezone = \"America/New_York\"",
            Europe::Berlin,
        );
        assert_eq!(
            arxiv.fetch.as_ref().unwrap().next_after(now),
            Some(utc("2026-11-27T01:30:00Z"))
        );
    }

    #[test]
    fn the_next_wake_is_the_sooner_of_a_tick_and_the_next_slot() {
        let s = schedule("fetch = \"\"", Europe::Berlin);
        let r = [reader(1, Frequency::Weekly, Some(Asia::Tokyo), Some(9))];
        let sunday = utc("2026-11-29T23:59:50Z");
        assert_eq!(s.next_wake(&r, sunday), utc("2026-11-30T00:00:00Z"));
        let earlier = utc("2026-11-29T12:00:00Z");
        assert_eq!(s.next_wake(&r, earlier), earlier + Duration::seconds(30));
        let next = s.next_sends(&r, earlier);
        assert_eq!(next.len(), 2);
        assert_eq!(next[0].at, utc("2026-11-30T00:00:00Z"));
        assert_eq!((next[0].readers, next[0].own_time), (1, 1));
        assert_eq!(next[1].frequency, Frequency::Daily);
        assert_eq!(next[1].at, utc("2026-11-30T07:00:00Z"));
        assert_eq!(next[1].readers, 0);
    }
}
