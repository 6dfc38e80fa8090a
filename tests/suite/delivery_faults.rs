//! The delivery engine against a fault-injecting SMTP server (aiosmtpd on loopback, scripted
//! per recipient and per connection): every scripted fault ends in exactly the state the
//! issue asks for, the suppression list holds exactly the hard bounces, and nothing that
//! should not be resent is resent. Everything goes through the real binary; state is read
//! back through `Store`.
use crate::support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use paperpost::domain::DeliveryState::{self, *};
use serde_json::json;
use support::cli;
use support::newsletter::{Newsletter, closed_port, relay};
use support::smtp::SmtpServer;

fn addr(name: &str) -> String {
    format!("{name}@example.org")
}

/// Short timings for tests: 1 s per SMTP step, retries after ~0.2 s (deadlines are whole
/// seconds in the store, so ~1 s), at most 3 attempts.
const FAST: &str = r#"
connections = 2
max_attempts = 3
retry_base_secs = 0.2
retry_max_secs = 1
slow_down_secs = 1
lease_secs = 5
"#;

fn assert_row(n: &Newsletter, who: &str, state: DeliveryState, attempts: u32, error: Option<&str>) {
    let row = n.row(&addr(who));
    assert_eq!(
        (row.state, row.attempts),
        (state, attempts),
        "{who}: {row:?}"
    );
    match error {
        Some(e) => assert!(
            row.last_error.as_deref().is_some_and(|l| l.contains(e)),
            "{who}: expected {e:?} in {row:?}"
        ),
        None if state == Sent => assert_eq!(row.last_error, None, "{who}"),
        None => {}
    }
}

fn suppressed(n: &Newsletter) -> BTreeSet<String> {
    n.store()
        .suppressions()
        .unwrap()
        .into_iter()
        .map(|(e, _)| e)
        .collect()
}

#[test]
fn every_scripted_fault_ends_in_its_exact_state_and_only_hard_bounces_are_suppressed() {
    scripted_faults(false);
}

/// The same faults when the relay offers PIPELINING (MAIL, RCPT and DATA in one write):
/// each refusal must still be pinned on its step.
#[test]
fn every_scripted_fault_ends_in_its_exact_state_with_pipelining_too() {
    scripted_faults(true);
}

fn scripted_faults(pipelining: bool) {
    // Arrange: one recipient per fault.
    let smtp = SmtpServer::start(Some(json!({"pipelining": pipelining, "recipients": {
        addr("greylisted"): ["451 rcpt", "ok"],
        addr("busy"): ["451 data", "ok"],
        addr("gone"): ["550 rcpt"],
        addr("refused"): ["554 data"],
        addr("dropped"): ["drop", "ok"],
        addr("slow"): ["slow", "ok"],
        addr("mailbox-full"): ["451 rcpt"],
    }})));
    let n = Newsletter::new(&format!("{FAST}{}", relay(Some("local"), smtp.port, 1.0)));
    let who = [
        "ok",
        "greylisted",
        "busy",
        "gone",
        "refused",
        "dropped",
        "slow",
        "mailbox-full",
    ];
    n.fetch_and_import(&who.map(addr));

    // Act: send until nothing is due, as a scheduler would.
    let runs = n.send_until_done(10);

    // Assert: the exact final state of every delivery.
    assert_row(&n, "ok", Sent, 1, None);
    assert_row(&n, "greylisted", Sent, 2, None);
    assert_row(&n, "busy", Sent, 2, None);
    assert_row(&n, "gone", Failed, 1, Some("550"));
    assert_row(&n, "refused", Failed, 1, Some("554"));
    // The connection died after the body went out: it may have been delivered.
    assert_row(&n, "dropped", Unknown, 1, Some("message body"));
    // The reply to the body never came within the timeout: the body went out, so the relay
    // may still accept it — unknown, not retry.
    assert_row(&n, "slow", Unknown, 1, Some("timed out"));
    // A soft bounce that never clears: given up after max_attempts, and NOT suppressed.
    assert_row(
        &n,
        "mailbox-full",
        Failed,
        3,
        Some("gave up after 3 attempts"),
    );
    assert_eq!(
        suppressed(&n),
        [addr("gone"), addr("refused")].into_iter().collect()
    );
    for who in ["ok", "greylisted", "busy"] {
        assert_eq!(smtp.received_by(&addr(who)), 1, "{who}");
    }
    assert_eq!(smtp.received_by(&addr("dropped")), 0);
    // The first run exits 1 (failures to look at); its summary names them.
    let first = String::from_utf8_lossy(&runs[0].stdout);
    assert!(
        first.contains("2 addresses refused the mail permanently"),
        "{first}"
    );

    // `unknown` is not resent by later sends…
    let again = n.run(&["send"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to send"));
    assert_eq!(smtp.received_by(&addr("dropped")), 0);
    assert_eq!(
        smtp.rcpt_attempts()
            .iter()
            .filter(|a| **a == addr("dropped"))
            .count(),
        1
    );
    // …and `deliveries` lists each failure with its SMTP reply.
    let report = n.run(&["deliveries"]);
    let report = String::from_utf8_lossy(&report.stdout);
    for (who, reply) in [
        ("gone", "550"),
        ("refused", "554"),
        ("dropped", "unknown"),
        ("mailbox-full", "451"),
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.contains(&addr(who)) && l.contains(reply)),
            "{who} {reply} missing in:\n{report}"
        );
    }

    // Re-queued by hand, the unknown ones go out again (their scripts now accept).
    let retry = n.run(&["deliveries", "retry", "--unknown"]);
    assert!(String::from_utf8_lossy(&retry.stdout).contains("re-queued 2"));
    n.send_until_done(3);
    assert_row(&n, "dropped", Sent, 2, None);
    assert_row(&n, "slow", Sent, 2, None);
    assert_eq!(smtp.received_by(&addr("dropped")), 1);
    // Failed ones stay failed unless asked for.
    assert_row(&n, "gone", Failed, 1, Some("550"));
}

#[test]
fn with_resend_unknown_a_dropped_connection_is_retried() {
    let smtp = SmtpServer::start(Some(
        json!({"recipients": {addr("dropped"): ["drop", "ok"]}}),
    ));
    let n = Newsletter::new(&format!(
        "{FAST}resend_unknown = true\n{}",
        relay(Some("local"), smtp.port, 1.0)
    ));
    n.fetch_and_import(&[addr("dropped")]);

    n.send_until_done(5);

    let row = n.row(&addr("dropped"));
    assert_eq!((row.state, row.attempts), (Sent, 2), "{row:?}");
    assert_eq!(smtp.received_by(&addr("dropped")), 1);
}

#[test]
fn a_421_at_connect_pauses_the_relay_then_everything_is_delivered() {
    // The first connection is greeted with 421; later ones are fine.
    let smtp = SmtpServer::start(Some(json!({"connect": ["421", "ok"]})));
    let fast = FAST
        .replace("connections = 2", "connections = 1")
        .replace("slow_down_secs = 1", "slow_down_secs = 1.5");
    let n = Newsletter::new(&format!("{fast}{}", relay(Some("local"), smtp.port, 1.0)));
    let who: Vec<String> = (0..3).map(|i| addr(&format!("r{i}"))).collect();
    n.fetch_and_import(&who);

    let started = Instant::now();
    let send = n.run(&["send"]);
    let took = started.elapsed();

    assert!(send.status.success());
    let out = String::from_utf8_lossy(&send.stdout);
    assert!(out.contains("relays answered 421 1 times"), "{out}");
    assert!(
        took >= Duration::from_millis(1500),
        "the relay was not paused: {took:?}"
    );
    for w in &who {
        let row = n.row(w);
        // A relay refusing connections is not the reader's failed attempt.
        assert_eq!((row.state, row.attempts), (Sent, 1), "{w}: {row:?}");
        assert_eq!(smtp.received_by(w), 1);
    }
}

#[test]
fn when_the_first_relay_is_down_mail_fails_over_to_the_second() {
    let smtp = SmtpServer::start(None);
    let n = Newsletter::new(&format!(
        "{FAST}{}{}",
        relay(Some("primary"), closed_port(), 1.0),
        relay(Some("backup"), smtp.port, 1.0)
    ));
    let who: Vec<String> = (0..6).map(|i| addr(&format!("r{i}"))).collect();
    n.fetch_and_import(&who);

    let send = n.run(&["send"]);

    assert!(send.status.success());
    for w in &who {
        let row = n.row(w);
        assert_eq!((row.state, row.attempts), (Sent, 1), "{w}: {row:?}");
        assert_eq!(row.relay.as_deref(), Some("backup"), "{w}");
        assert_eq!(smtp.received_by(w), 1);
    }
}

#[test]
fn with_the_first_relay_down_the_backup_sees_at_most_connections_sessions() {
    // Two relays, 4 connections each: 8 workers, half of them meant for the dead primary.
    let smtp = SmtpServer::start_with(Some(json!({"pipelining": true})), false);
    let n = Newsletter::new(&format!(
        "{}{}{}",
        FAST.replace("connections = 2", "connections = 4"),
        relay(Some("primary"), closed_port(), 1.0),
        relay(Some("backup"), smtp.port, 1.0)
    ));
    let who: Vec<String> = (0..60).map(|i| addr(&format!("r{i:02}"))).collect();
    n.fetch_and_import(&who);

    let send = n.run(&["send"]);

    assert!(send.status.success());
    assert_eq!(smtp.log().len(), who.len(), "everyone got it once");
    let sessions = smtp.max_concurrent_sessions();
    assert!(
        (1..=4).contains(&sessions),
        "the backup saw {sessions} sessions at once; connections = 4"
    );
}

#[test]
fn a_delivery_older_than_max_age_is_failed_and_not_suppressed() {
    let smtp = SmtpServer::start(Some(
        json!({"recipients": {addr("deferred"): ["451 rcpt"]}}),
    ));
    // 0.0005 h = 1.8 s; plenty of attempts, so the age is what stops it.
    let n = Newsletter::new(&format!(
        "{}max_age_hours = 0.0005\n{}",
        FAST.replace("max_attempts = 3", "max_attempts = 50"),
        relay(Some("local"), smtp.port, 1.0)
    ));
    n.fetch_and_import(&[addr("deferred"), addr("fine")]);

    n.send_until_done(10);

    let row = n.row(&addr("deferred"));
    assert_eq!(row.state, Failed, "{row:?}");
    assert!(row.attempts >= 2 && row.attempts < 50, "{row:?}");
    let error = row.last_error.unwrap();
    assert!(
        error.contains("older than max_age_hours") && error.contains("451"),
        "{error}"
    );
    assert!(suppressed(&n).is_empty());
    assert_eq!(n.row(&addr("fine")).state, Sent);
}

#[test]
fn a_suppressed_address_fails_in_a_later_edition_without_any_smtp_traffic() {
    use paperpost::domain::Period;

    let smtp = SmtpServer::start(Some(json!({"recipients": {addr("gone"): ["550 rcpt"]}})));
    let delivery = format!("{FAST}{}", relay(Some("local"), smtp.port, 1.0));
    let n = Newsletter::new(&delivery);
    n.fetch_and_import(&[addr("gone"), addr("fine")]);
    n.send_until_done(3);
    let first = n.edition();
    assert_eq!(n.row(&addr("gone")).state, Failed);
    assert_eq!(suppressed(&n), [addr("gone")].into_iter().collect());

    // A later edition: new papers arrive, next week's edition is planned.
    n.write_config("arxiv_api_2026_query_testing_max10.xml", 3, &delivery);
    assert!(n.run(&["fetch"]).status.success());
    let next_week = Period::week_of(n.now().date_naive() + chrono::Duration::days(7));
    let plan = n.plan(next_week);
    assert_eq!(plan.planned, 2, "{plan:?}");
    let rcpt_before = smtp.rcpt_attempts().len();

    n.send_until_done(3);

    let store = n.store();
    let second = next_week.key();
    assert_ne!(first, second);
    let gone = store
        .delivery_state(&second, &addr("gone"))
        .unwrap()
        .unwrap();
    assert_eq!(gone.state, Failed, "{gone:?}");
    assert_eq!(gone.attempts, 0, "no SMTP traffic, so no attempt: {gone:?}");
    assert!(
        gone.last_error
            .as_deref()
            .unwrap()
            .starts_with("suppressed"),
        "{gone:?}"
    );
    let fine = store
        .delivery_state(&second, &addr("fine"))
        .unwrap()
        .unwrap();
    assert_eq!(fine.state, Sent);
    // The only RCPT of the second edition was for the reader who is not suppressed.
    assert_eq!(smtp.rcpt_attempts()[rcpt_before..], [addr("fine")]);
}

#[test]
fn sigterm_stops_claiming_finishes_what_is_in_flight_and_exits_cleanly() {
    let smtp = SmtpServer::start(None);
    // 5 messages a second: 40 readers take 8 s, so the signal lands mid-run.
    let n = Newsletter::new(&format!(
        "{FAST}rate_limit = 5\n{}",
        relay(Some("local"), smtp.port, 1.0)
    ));
    let who: Vec<String> = (0..40).map(|i| addr(&format!("r{i:02}"))).collect();
    n.fetch_and_import(&who);

    let child = n.spawn(&["send"]);
    let started = Instant::now();
    while smtp.log().len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "fewer than 3 messages arrived within 20 s of starting `send`"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    cli::sigterm(&child);
    let out = child.wait_with_output().unwrap();
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    assert_eq!(out.status.code(), Some(0), "a clean stop exits 0");
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "it stopped early"
    );
    let rows = n.store().delivery_rows(&n.edition()).unwrap();
    assert_eq!(rows.iter().filter(|r| r.state == Sending).count(), 0);
    let sent: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.state == Sent)
        .map(|r| r.email.clone())
        .collect();
    let received: BTreeSet<String> = smtp.log().into_iter().flat_map(|(to, _)| to).collect();
    assert_eq!(sent, received, "sent rows are exactly what the server got");
    assert!(sent.len() >= 3 && sent.len() < 40, "{}", sent.len());
    for r in rows.iter().filter(|r| r.state != Sent) {
        assert_eq!((r.state, r.attempts), (Pending, 0), "{r:?}");
    }
    // The next send delivers the rest.
    n.send_until_done(2);
    assert_eq!(n.rows_in(Sent), 40);
    assert_eq!(smtp.log().len(), 40);
}
