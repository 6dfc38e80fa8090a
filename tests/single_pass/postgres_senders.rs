//! Several processes, one PostgreSQL (issue 10): what an operator who outgrows one host
//! runs. Always on PostgreSQL (a throwaway server started by the test process), whatever
//! `PAPERPOST_TEST_BACKEND` says.
//!
//! 1. Three `paperpost send` processes share one database and one SMTP server; random ones
//!    are SIGKILLed at random moments and restarted. Every reader gets the digest, no reader
//!    more than the documented bound (a killed process can have one message in flight per
//!    SMTP connection), and the `deliveries` table says exactly what the server received.
//! 2. Two `paperpost serve` instances on one database: one edition, one mail per reader.
use crate::support;

use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant};

use paperpost::domain::DeliveryState;
use rand::Rng;
use support::cli;
use support::newsletter::{
    Config, Newsletter, file_source, readers, relay, short_leases, smtp_delivery,
};
use support::smtp::SmtpServer;
use support::wait;

const READERS: usize = 5000;
const SENDERS: usize = 3;
const CONNECTIONS: usize = 2;
const KILLS: usize = 5;

#[test]
fn three_senders_killed_at_random_deliver_every_digest_within_the_duplicate_bound() {
    // Arrange: one database, one SMTP server that only logs, 5,000 readers, 2 s leases.
    let smtp = SmtpServer::start_with(Some(serde_json::json!({"pipelining": true})), false);
    let n = Newsletter::on_postgres(&short_leases(CONNECTIONS, smtp.port));
    let readers = readers(READERS);
    n.fetch_and_import(&readers);
    // The kill moments come from a seed, printed so a failure can be replayed.
    let mut rng = support::crash_rng();
    let started = Instant::now();

    // Act: three senders at once; every 150–700 ms of sending, SIGKILL a random one and
    // start another in its place, KILLS times. The first kill waits for the first message,
    // so the kills land while mail is in flight (one may land while the edition is planned).
    let mut senders: Vec<Child> = (0..SENDERS).map(|_| n.spawn(&["send"])).collect();
    wait::until("the first digest", Duration::from_secs(60), || {
        !smtp.log().is_empty()
    });
    let mut at_kill = Vec::new();
    for _ in 0..KILLS {
        std::thread::sleep(Duration::from_millis(rng.random_range(150..700)));
        let victim = rng.random_range(0..senders.len());
        let mut child = senders.swap_remove(victim);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        at_kill.push(smtp.log().len());
        senders.push(n.spawn(&["send"]));
    }
    eprintln!("messages received at each kill: {at_kill:?}");
    // The survivors run to their end; then runs on a moved clock finish what the killed
    // processes held (their leases expire).
    // Exit 3 is "deliveries still leased to another run": a killed sender's rows, or a
    // sender still at work, which is what several senders look like to each other.
    for mut child in senders {
        let status = child.wait().unwrap();
        assert!(
            matches!(status.code(), Some(0 | 3)),
            "a sender that was not killed failed: {status:?}"
        );
    }
    n.send_until_done(20);
    eprintln!("done in {:?}", started.elapsed());

    // Assert: everyone got it; duplicates within the bound; the table agrees with the server.
    let duplicates = smtp.assert_each_received(&readers);
    assert!(
        duplicates <= CONNECTIONS * KILLS,
        "{duplicates} duplicates > {CONNECTIONS} connections × {KILLS} kills"
    );
    let rows = n.store().delivery_rows(&n.edition()).unwrap();
    assert_eq!(rows.len(), READERS, "one delivery row per reader");
    let not_sent: Vec<_> = rows
        .iter()
        .filter(|r| r.state != DeliveryState::Sent)
        .collect();
    assert!(not_sent.is_empty(), "rows left outside sent: {not_sent:?}");
    let received: HashMap<String, usize> = smtp.received_counts();
    assert_eq!(
        received.len(),
        rows.len(),
        "recipients the server saw = rows sent"
    );
    for r in &rows {
        assert!(received.contains_key(&r.email), "{} never arrived", r.email);
        if received[&r.email] > 1 {
            assert!(
                r.reclaimed > 0,
                "{} arrived twice but its row was never taken over: {r:?}",
                r.email
            );
        }
    }
}

#[test]
fn two_serve_instances_on_one_database_plan_one_edition_and_mail_each_reader_once() {
    // Arrange: 40 readers, a schedule that sends every 2 s, one SMTP server.
    let smtp = SmtpServer::start(None);
    let n = Newsletter::from_config(
        Config::new()
            .on_postgres()
            .table(&file_source("papers", "hf_daily_papers_2024-10-25_full.json"))
            .table("[selection]\nmax_papers = 3\n")
            .table(&smtp_delivery(&format!(
                "connections = 2\n{}",
                relay(None, smtp.port, 10.0)
            )))
            .table("[schedule]\nsend = \"*/2 * * * * *\"\ndaily_send = \"*/2 * * * * *\"\ntick_secs = 1\n"),
    );
    let readers = readers(40);
    n.fetch_and_import(&readers);

    // Act: two instances, each with its web server and its scheduler.
    let mut a = spawn_serve(&n, "a");
    let mut b = spawn_serve(&n, "b");
    wait::until("every reader's digest", Duration::from_secs(90), || {
        smtp.log().len() >= readers.len()
    });
    // Several more ticks of both: nothing is sent again.
    let store = n.store();
    let seen = chrono::Utc::now();
    wait::until(
        "a tick after the last digest",
        Duration::from_secs(30),
        || {
            store
                .meta(paperpost::pipeline::LAST_TICK)
                .unwrap()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .is_some_and(|t| t.to_utc() > seen + chrono::Duration::seconds(3))
        },
    );
    for child in [&mut a, &mut b] {
        cli::sigterm(child);
        let status = child.wait().unwrap();
        assert!(status.success(), "serve exited with {status:?}");
    }

    // Assert: one edition, one row and one mail per reader.
    let duplicates = smtp.assert_each_received(&readers);
    assert_eq!(duplicates, 0, "a reader was mailed twice");
    let counts = store.delivery_counts().unwrap();
    assert_eq!(counts.len(), 1, "one edition: {counts:?}");
    let rows = store.delivery_rows(&n.edition()).unwrap();
    assert_eq!(rows.len(), readers.len());
    assert!(
        rows.iter().all(|r| r.state == DeliveryState::Sent),
        "{rows:?}"
    );
}

/// `paperpost serve` on a free port, its log in the newsletter's folder.
fn spawn_serve(n: &Newsletter, name: &str) -> Child {
    let log = std::fs::File::create(n.dir.path().join(format!("serve-{name}.log"))).unwrap();
    n.command(&["serve", "--bind", "127.0.0.1:0"])
        .env("RUST_LOG", "paperpost=info")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}
