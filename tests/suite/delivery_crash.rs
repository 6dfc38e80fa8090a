//! Crash safety: `paperpost send` of an edition to 5,000 readers is killed with SIGKILL at
//! random moments, restarted each time, and finally run to completion. The SMTP server's log
//! must show every reader got the digest, duplicates must stay within what can have been in
//! flight at the kills (one message per connection per kill), and every duplicated reader's
//! row must say it was taken over from a dead run.
use crate::support;

use std::time::{Duration, Instant};

use paperpost::domain::DeliveryState;
use support::newsletter::{Newsletter, readers, short_leases};
use support::smtp::SmtpServer;

const READERS: usize = 5000;
const CONNECTIONS: usize = 4;
const KILLS: usize = 4;

#[test]
fn sigkill_at_random_moments_loses_nothing_and_duplicates_only_what_was_in_flight() {
    // Arrange: a fast local config (2 s leases), a server that only logs, 5,000 readers.
    let smtp = SmtpServer::start_with(Some(serde_json::json!({"pipelining": true})), false);
    let n = Newsletter::new(&short_leases(CONNECTIONS, smtp.port));
    let readers = readers(READERS);
    n.fetch_and_import(&readers);
    let started = Instant::now();
    // The kill moments come from a seed, printed so a failure can be replayed.
    let mut rng = support::crash_rng();

    // Act: start, SIGKILL after 100–800 ms, again and again. The first kill counts from the
    // start (it may land while the edition is being planned); the others from the first
    // message of that run, so they land while mail is in flight.
    let mut at_kill = Vec::new();
    for kill in 0..KILLS {
        let before = smtp.log().len();
        let mut child = n.spawn(&["send"]);
        let waiting = Instant::now();
        while kill > 0 && smtp.log().len() == before {
            if waiting.elapsed() > Duration::from_secs(20) {
                child.kill().unwrap();
                panic!("run {} sent nothing within 20 s", kill + 1);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(rand::Rng::random_range(
            &mut rng,
            100..800,
        )));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        at_kill.push(smtp.log().len());
    }
    eprintln!("messages received at each kill: {at_kill:?}");
    // Then to completion, waiting for the dead runs' leases to expire as needed.
    n.send_until_done(20);
    eprintln!("done in {:?}", started.elapsed());

    // Assert
    let duplicates = smtp.assert_each_received(&readers);
    assert!(
        duplicates <= CONNECTIONS * KILLS,
        "{duplicates} duplicates > {CONNECTIONS} connections × {KILLS} kills"
    );
    let rows = n.store().delivery_rows(&n.edition()).unwrap();
    assert_eq!(rows.len(), READERS);
    let not_sent: Vec<_> = rows
        .iter()
        .filter(|r| r.state != DeliveryState::Sent)
        .collect();
    assert!(not_sent.is_empty(), "rows left outside sent: {not_sent:?}");
    let received = smtp.received_counts();
    for r in &rows {
        if received[&r.email] > 1 {
            assert!(
                r.reclaimed > 0,
                "{} arrived twice but its row was never taken over: {r:?}",
                r.email
            );
        }
    }
    // The operator sees the takeovers.
    let report = n.run(&["deliveries"]);
    let report = String::from_utf8_lossy(&report.stdout);
    if rows.iter().any(|r| r.reclaimed > 0) {
        assert!(
            report.contains("taken over from a run that crashed or stopped on an error"),
            "{report}"
        );
    }
}
