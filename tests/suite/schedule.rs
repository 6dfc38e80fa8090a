//! The scheduler through its real parts with a made-up clock: a temp SQLite file, recorded
//! sources on a local HTTP server, a real SMTP server on loopback (or the `.eml` outbox).
//! Nothing sleeps through real time: each tick is `run_due` at a chosen instant, or the loop
//! on a [`ManualClock`] that jumps to each wake-up.
use crate::support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use paperpost::app::{run_due, run_until_stopped};
use paperpost::config::Settings;
use paperpost::domain::{DeliveryState, NewSubscriber};
use paperpost::domain::{Frequency, SubscriberEmail, Topics};
use paperpost::pipeline::RunOutcome;
use paperpost::schedule::{Clock, ManualClock};
use paperpost::store::Store;
use support::TestServer;
use support::newsletter::{Config, file_source, relay, smtp_delivery};
use support::recorded::{Day, Today, feeds_toml, recorded_sources_on};
use support::smtp::SmtpServer;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// An ordinary day: HF has its recorded papers, the arXiv feed is empty.
const NORMAL: Day = Day {
    hf: true,
    arxiv: false,
};
/// No announcements (a weekend or a holiday): empty feed, no HF papers.
const QUIET: Day = Day {
    hf: false,
    arxiv: false,
};
/// Only the arXiv feed has papers (a later day with new ones).
const ARXIV_ONLY: Day = Day {
    hf: false,
    arxiv: true,
};

const FILE_DELIVERY: &str = "[delivery]\ntransport = \"file\"\noutbox = \"outbox\"\n";

fn settings(dir: &Path, sources: &str, delivery: &str, schedule: &str) -> Settings {
    let text = Config::new()
        .timezone("Europe/Berlin")
        .table("[fetch]\nbackoff_ms = 10\nretries = 1\n")
        .table(sources)
        .table(delivery)
        .table(&format!("[schedule]\n{schedule}\n"))
        .text();
    Settings::parse(&text, &dir.join("config.toml"), dir).unwrap()
}

/// The newsletter on the recorded sources (answering as `today` says), mailing through a
/// real SMTP server, with the default schedule and an empty store.
struct Setup {
    today: Today,
    sources: TestServer,
    smtp: SmtpServer,
    settings: Settings,
    store: Store,
    _dir: tempfile::TempDir,
}

impl Setup {
    async fn start(day: Day) -> Setup {
        let today = Today::new(day);
        let sources = recorded_sources_on(today.clone()).await;
        let smtp = SmtpServer::start(None);
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(
            dir.path(),
            &feeds_toml(&sources),
            &smtp_delivery(&format!(
                "connections = 2\n{}",
                relay(None, smtp.port, 10.0)
            )),
            "",
        );
        let store = support::open_configured(&settings);
        Setup {
            today,
            sources,
            smtp,
            settings,
            store,
            _dir: dir,
        }
    }

    async fn tick(&self, now: DateTime<Utc>) -> RunOutcome {
        tick(&self.settings, &self.store, now).await
    }
}

/// The newsletter on the recorded HF file, mailing to the `outbox` folder, with `schedule`
/// and an empty store in `dir`.
fn on_file(dir: &Path, schedule: &str) -> (Settings, Store) {
    let settings = settings(
        dir,
        &file_source("hf", "hf_daily_papers_2024-10-25_full.json"),
        FILE_DELIVERY,
        schedule,
    );
    let store = support::open_configured(&settings);
    (settings, store)
}

/// One scheduler tick at `now`, as `serve` runs it.
async fn tick(settings: &Settings, store: &Store, now: DateTime<Utc>) -> RunOutcome {
    run_due(settings, store, settings.transport().unwrap(), now)
        .await
        .unwrap()
}

fn add_reader(
    store: &Store,
    email: &str,
    frequency: Frequency,
    tz: Option<chrono_tz::Tz>,
    hour: Option<u8>,
) -> i64 {
    let mut new = NewSubscriber::active(
        SubscriberEmail::parse(email).unwrap(),
        Topics::parse("").unwrap(),
    );
    new.frequency = frequency;
    new.timezone = tz;
    new.send_hour = hour;
    store
        .add_subscriber(&new, utc("2026-11-01T00:00:00Z"))
        .unwrap()
        .id
}

fn recipients(smtp: &SmtpServer) -> Vec<String> {
    let mut r: Vec<String> = smtp.log().into_iter().flat_map(|(to, _)| to).collect();
    r.sort();
    r
}

fn sending_rows(store: &Store) -> i64 {
    store
        .delivery_counts()
        .unwrap()
        .iter()
        .flat_map(|e| e.counts.iter())
        .filter(|(s, _)| *s == DeliveryState::Sending)
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_runs_of_the_same_period_make_one_edition_and_send_each_reader_once() {
    // Arrange: two handles on one SQLite file, as two `serve` processes would have.
    let setup = Setup::start(NORMAL).await;
    let settings = &setup.settings;
    let a = setup.store.clone();
    let b = support::open_configured(settings);
    let emails = ["ada@example.org", "alan@example.org", "grace@example.org"];
    for e in emails {
        add_reader(&a, e, Frequency::Weekly, None, None);
    }
    // Monday 08:00:20 in Berlin: the weekly edition is due.
    let now = utc("2026-11-30T07:00:20Z");

    // Act: both run the same tick at once.
    let run = |store: Store| {
        let settings = settings.clone();
        tokio::spawn(async move { tick(&settings, &store, now).await })
    };
    let (ra, rb) = tokio::join!(run(a.clone()), run(b.clone()));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());

    // Assert: one fetch, one edition, each reader mailed once.
    assert_eq!(
        ra.fetch.is_some() as u8 + rb.fetch.is_some() as u8,
        1,
        "exactly one of them fetched"
    );
    let editions = a.editions(10).unwrap();
    assert_eq!(editions.len(), 1, "{editions:?}");
    assert_eq!(editions[0].period_key, "2026-W49");
    assert_eq!(ra.planned() + rb.planned(), 3);
    assert_eq!(recipients(&setup.smtp), emails);
    assert_eq!(ra.sent() + rb.sent(), 3);
    assert_eq!(sending_rows(&a), 0);

    // The next tick, in either process, sends nothing new.
    let later = tick(settings, &b, now + Duration::seconds(30)).await;
    assert_eq!((later.planned(), later.sent()), (0, 0));
    assert_eq!(setup.smtp.log().len(), 3);
    assert_eq!(a.editions(10).unwrap().len(), 1);
    setup.sources.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quiet_day_sends_no_mail_and_is_no_error() {
    let setup = Setup::start(NORMAL).await;
    let store = &setup.store;
    for e in ["ada@example.org", "alan@example.org"] {
        add_reader(store, e, Frequency::Daily, None, None);
    }
    // Monday: arXiv announced a few papers (fewer than a digest holds): mail.
    setup.today.set(ARXIV_ONLY);
    let monday = utc("2026-11-30T07:00:10Z");
    let out = setup.tick(monday).await;
    assert_eq!(out.sent(), 2);

    // Tuesday: arXiv announces nothing (empty feed) and HF has no papers.
    setup.today.set(QUIET);
    let tuesday = utc("2026-12-01T07:00:10Z");
    let out = setup.tick(tuesday).await;

    let fetch = out.fetch.as_ref().expect("the fetch ran");
    assert_eq!(
        fetch.failed().count(),
        0,
        "an empty feed is not an error: {fetch:?}"
    );
    assert_eq!(fetch.sources.iter().map(|s| s.papers).sum::<usize>(), 0);
    assert_eq!(out.editions.len(), 1);
    assert_eq!(out.editions[0].period_key, "2026-12-01");
    assert_eq!((out.planned(), out.empty(), out.sent()), (0, 2, 0));
    assert_eq!(setup.smtp.log().len(), 2, "no mail on a quiet day");
    assert_eq!(
        store
            .delivery_state("2026-12-01", "ada@example.org")
            .unwrap()
            .unwrap()
            .state,
        DeliveryState::Skipped
    );
    let runs = store.recent_runs(5).unwrap();
    let send = runs.iter().find(|r| r.kind == "send").unwrap();
    assert!(
        send.note
            .as_deref()
            .unwrap_or("")
            .contains("2 empty digests skipped"),
        "{send:?}"
    );
    assert!(runs.iter().all(|r| r.kind != "error"));
    // And the quiet edition is not retried: the next tick does nothing.
    let again = setup.tick(tuesday + Duration::minutes(1)).await;
    assert!(again.editions.is_empty());
    setup.sources.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn readers_in_three_zones_get_the_weekly_edition_at_their_local_hour() {
    let setup = Setup::start(NORMAL).await;
    let store = &setup.store;
    use chrono_tz::{America, Asia, Europe};
    add_reader(
        store,
        "berlin@example.org",
        Frequency::Weekly,
        Some(Europe::Berlin),
        Some(8),
    );
    add_reader(
        store,
        "newyork@example.org",
        Frequency::Weekly,
        Some(America::New_York),
        Some(7),
    );
    add_reader(
        store,
        "tokyo@example.org",
        Frequency::Weekly,
        Some(Asia::Tokyo),
        Some(9),
    );

    // (tick, who has their digest after it)
    let steps: [(&str, &[&str]); 7] = [
        ("2026-11-29T23:30:00Z", &[]),
        // Monday 09:00 in Tokyo
        ("2026-11-30T00:00:05Z", &["tokyo@example.org"]),
        ("2026-11-30T06:59:00Z", &["tokyo@example.org"]),
        // Monday 08:00 in Berlin
        (
            "2026-11-30T07:00:05Z",
            &["berlin@example.org", "tokyo@example.org"],
        ),
        (
            "2026-11-30T11:59:00Z",
            &["berlin@example.org", "tokyo@example.org"],
        ),
        // Monday 07:00 in New York
        (
            "2026-11-30T12:00:05Z",
            &[
                "berlin@example.org",
                "newyork@example.org",
                "tokyo@example.org",
            ],
        ),
        (
            "2026-12-01T12:00:00Z",
            &[
                "berlin@example.org",
                "newyork@example.org",
                "tokyo@example.org",
            ],
        ),
    ];
    for (at, expected) in steps {
        setup.tick(utc(at)).await;
        assert_eq!(recipients(&setup.smtp), expected, "after the tick at {at}");
    }
    let editions = store.editions(10).unwrap();
    assert_eq!(editions.len(), 1, "one shared weekly edition: {editions:?}");
    assert_eq!(editions[0].period_key, "2026-W49");
    setup.sources.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_three_day_outage_the_missed_edition_runs_once() {
    let setup = Setup::start(NORMAL).await;
    let store = &setup.store;
    add_reader(store, "ada@example.org", Frequency::Daily, None, None);
    add_reader(store, "alan@example.org", Frequency::Daily, None, None);

    // Monday 08:00 Berlin: Monday's edition.
    let monday = utc("2026-11-30T07:00:10Z");
    let out = setup.tick(monday).await;
    assert_eq!(out.sent(), 2);

    // The host is down from Monday 08:01 to Thursday 10:00; arXiv announced meanwhile.
    setup.today.set(ARXIV_ONLY);
    let thursday = utc("2026-12-03T09:00:00Z");
    let out = setup.tick(thursday).await;

    // Thursday's edition runs, once; Tuesday's and Wednesday's are skipped and recorded.
    assert_eq!(out.edition_keys(), ["2026-12-03"]);
    assert_eq!(out.sent(), 2, "{out:?}");
    let missed: Vec<&str> = out.missed.iter().map(|m| m.period_key.as_str()).collect();
    assert_eq!(missed, ["2026-12-01", "2026-12-02"]);
    let keys: Vec<String> = store
        .editions(10)
        .unwrap()
        .into_iter()
        .map(|e| e.period_key)
        .collect();
    assert_eq!(keys, ["2026-12-03", "2026-11-30"]);
    let recorded: Vec<_> = store
        .recent_runs(20)
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "missed")
        .collect();
    assert_eq!(recorded.len(), 2);
    assert!(recorded[0].note.as_deref().unwrap().contains("grace"));

    // Ticking on sends nothing more and reports nothing missed again.
    let again = setup.tick(thursday + Duration::seconds(30)).await;
    assert!(again.missed.is_empty() && again.editions.is_empty() && again.sent() == 0);
    assert_eq!(setup.smtp.log().len(), 4);
    setup.sources.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_simulated_week_of_serve_runs_every_edition_once_at_its_time() {
    // The loop itself on a manual clock: a week of ticks in a moment.
    let dir = tempfile::tempdir().unwrap();
    let (settings, store) = on_file(dir.path(), "fetch = \"0 6 * * *\"\ntick_secs = 3600");
    add_reader(&store, "daily@example.org", Frequency::Daily, None, None);
    add_reader(
        &store,
        "tokyo@example.org",
        Frequency::Weekly,
        Some(chrono_tz::Asia::Tokyo),
        Some(9),
    );
    let start = utc("2026-11-29T12:00:00Z"); // Sunday
    let end = utc("2026-12-06T12:00:00Z");
    let clock = ManualClock::new(start);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);

    let rt = paperpost::app::Runtime::with_transport(
        Arc::new(settings.clone()),
        Some(settings.transport().unwrap()),
    )
    .unwrap();
    let scheduler = tokio::spawn(run_until_stopped(
        rt,
        store.clone(),
        Arc::new(clock.clone()),
        stop_rx,
    ));
    support::wait::until_async(
        "the loop's clock to reach the end of the week",
        std::time::Duration::from_secs(60),
        || clock.now() >= end,
    )
    .await;
    stop_tx.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), scheduler)
        .await
        .expect("the loop stops")
        .unwrap()
        .unwrap();

    // Every day's edition once, planned at 08:00 Berlin (Sunday's caught up at start), and the
    // weekly one at Monday 09:00 in Tokyo.
    let created: BTreeMap<String, DateTime<Utc>> = store
        .editions(20)
        .unwrap()
        .into_iter()
        .map(|e| (e.period_key, e.created_at))
        .collect();
    let mut expected: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    expected.insert("2026-11-29".into(), start);
    for day in 30..=36 {
        let date =
            chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap() + chrono::Days::new(day - 1);
        let at = date.and_hms_opt(7, 0, 0).unwrap().and_utc(); // 08:00 CET
        expected.insert(date.format("%Y-%m-%d").to_string(), at);
    }
    expected.insert("2026-W49".into(), utc("2026-11-30T00:00:00Z"));
    assert_eq!(created, expected);
    // Mail only when there was something new: the file holds 29 papers and a digest at
    // most 20, so the daily reader gets two digests (Sunday, Monday) and then nothing; the
    // weekly reader one.
    let eml = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .count();
    assert_eq!(eml, 3);
    let skipped = store
        .delivery_counts()
        .unwrap()
        .iter()
        .flat_map(|e| e.counts.iter())
        .filter(|(s, _)| *s == DeliveryState::Skipped)
        .map(|(_, n)| n)
        .sum::<i64>();
    assert_eq!(skipped, 6, "Tuesday to Sunday: quiet, no mail");
    assert_eq!(sending_rows(&store), 0);
    assert_eq!(store.outstanding_deliveries().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edition_locked_by_another_process_is_left_to_it_until_its_lease_expires() {
    let dir = tempfile::tempdir().unwrap();
    let (settings, store) = on_file(dir.path(), "");
    add_reader(&store, "ada@example.org", Frequency::Weekly, None, None);
    let now = utc("2026-11-30T07:00:10Z");
    // Another process is planning this week's edition (and died doing it).
    assert!(
        store
            .try_lock(
                "edition:2026-W49",
                "pid1-other",
                now,
                now + Duration::minutes(10)
            )
            .unwrap()
    );

    let out = tick(&settings, &store, now).await;

    assert!(out.fetch.is_some());
    assert_eq!(out.editions.len(), 1);
    assert!(out.editions[0].plan.is_none(), "left to the lock's owner");
    assert!(store.edition("2026-W49").unwrap().is_none());
    // Its lease runs out: the next tick takes the edition over, once.
    let later = now + Duration::minutes(11);
    let out = tick(&settings, &store, later).await;
    assert_eq!(out.edition_keys(), ["2026-W49"]);
    assert_eq!(out.sent(), 1);
    let out = tick(&settings, &store, later + Duration::minutes(1)).await;
    assert!(out.editions.is_empty() && out.sent() == 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn send_and_the_scheduler_file_a_reader_in_another_zone_under_the_same_period() {
    // Arrange: a daily reader in Tokyo, the newsletter in Berlin. At 16:30 UTC it is still
    // Monday in Berlin but already Tuesday 01:30 in Tokyo.
    let setup = Setup::start(NORMAL).await;
    let (settings, store) = (&setup.settings, &setup.store);
    add_reader(
        store,
        "kenji@example.org",
        Frequency::Daily,
        Some(chrono_tz::Asia::Tokyo),
        None,
    );
    let rt = paperpost::app::Runtime::with_transport(
        Arc::new(settings.clone()),
        Some(settings.transport().unwrap()),
    )
    .unwrap();
    let (_keep, stop) = tokio::sync::watch::channel(false);

    // Act: `paperpost run` (fetch, plan every reader, send) at that instant, then the
    // scheduler's tick at the reader's 08:00 in Tokyo the same (Tokyo) day.
    let manual = paperpost::pipeline::run_due(
        &rt.run,
        store,
        utc("2026-11-30T16:30:00Z"),
        &paperpost::pipeline::RunOptions::new(
            paperpost::pipeline::Due::Everyone,
            paperpost::pipeline::FetchWhen::Now,
            stop,
        ),
    )
    .await
    .unwrap();
    let scheduled = setup.tick(utc("2026-11-30T23:00:20Z")).await;

    // Assert: both see Tuesday in Tokyo: one edition, one digest.
    assert_eq!(manual.edition_keys(), ["2026-12-01"]);
    assert_eq!((manual.planned(), manual.sent()), (1, 1));
    assert_eq!((scheduled.planned(), scheduled.sent()), (0, 0));
    let keys: Vec<String> = store
        .editions(10)
        .unwrap()
        .into_iter()
        .map(|e| e.period_key)
        .collect();
    assert_eq!(keys, ["2026-12-01"]);
    assert_eq!(recipients(&setup.smtp), ["kenji@example.org"]);
    setup.sources.stop().await;
}
