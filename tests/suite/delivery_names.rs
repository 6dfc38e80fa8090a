//! No reader field can stop an edition (issue 19): a name no header can carry, written into
//! the store behind the CLI's back, fails that reader's delivery with the reason while
//! everyone else is delivered; the CLI and both CSV formats refuse such names at the door;
//! a delivery worker that panics gives its row back and a run left without workers stops
//! instead of hanging. Real binary, real SMTP server on loopback, either backend.
use crate::support;

use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use paperpost::config::Settings;
use paperpost::delivery::{ComposeError, Composed, EngineReport, Progress, deliver};
use paperpost::domain::{Claimed, DeliveryState, SendRunEnd};
use paperpost::pipeline::Composer;
use support::newsletter::{Newsletter, closed_port, readers, relay};
use support::process::Running;
use support::smtp::SmtpServer;

/// Two connections, short leases and retries.
fn delivery(smtp: &SmtpServer) -> String {
    format!(
        "connections = 2\nlease_secs = 5\nretry_base_secs = 0.2\n{}",
        relay(Some("local"), smtp.port, 10.0)
    )
}

/// A real SMTP server, and a newsletter mailing through it to `readers_count` readers
/// (each gets the trending digest).
fn newsletter_of(readers_count: usize) -> (SmtpServer, Newsletter, Vec<String>) {
    let smtp = SmtpServer::start(None);
    let n = Newsletter::new(&delivery(&smtp));
    let all = readers(readers_count);
    n.fetch_and_import(&all);
    (smtp, n, all)
}

/// Sets `email`'s stored name to `name` with plain SQL on the newsletter's database, as
/// another program (or an older paperpost) could. The text goes in as a string literal
/// (line breaks and all), which SQLite and PostgreSQL read alike.
fn write_name_behind_the_clis_back(n: &Newsletter, email: &str, name: &str) {
    let changed = support::execute_sql(
        &n.config,
        &format!(
            "UPDATE subscribers SET name = '{}' WHERE email = '{email}'",
            name.replace('\'', "''")
        ),
    );
    assert_eq!(changed, 1, "{email}");
}

/// Runs `send` in the background and waits for it to end by itself (a hang fails the test
/// after `limit`, and the process is stopped by its PID).
fn send_within(n: &Newsletter, limit: Duration) -> (i32, String) {
    let log = n.dir.path().join("send.log");
    let mut send = Running::spawn("paperpost send", n.command(&["send"]), log);
    let status = send.wait(limit);
    let out = send.log();
    eprintln!("$ paperpost send → {status}\n{out}");
    (status.code().unwrap_or(-1), out)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_reader_whose_stored_name_holds_a_line_break_fails_alone_and_every_other_reader_is_delivered() {
    // Arrange: ten readers; one's name gets a CR/LF written straight into the database.
    let (smtp, n, all) = newsletter_of(10);
    let bad = &all[3];
    write_name_behind_the_clis_back(&n, bad, "Mal\r\nlory");

    // Act
    let (code, out) = send_within(&n, Duration::from_secs(120));

    // Assert: the run ends, says one failed, and exits 1 for it (no panic, no exit 2).
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("sent 9, ") && out.contains("failed 1"),
        "{out}"
    );
    assert!(!out.contains("panicked"), "{out}");
    let others: Vec<String> = all.iter().filter(|r| *r != bad).cloned().collect();
    assert_eq!(smtp.assert_each_received(&others), 0, "nobody got two");
    // The bad row failed for good, naming the header and the field; nothing is left in
    // `sending`, and the address is not suppressed (nothing is wrong with it).
    let row = n.row(bad);
    assert_eq!(row.state, DeliveryState::Failed, "{row:?}");
    let error = row.last_error.unwrap();
    for part in [
        "the To header cannot be written",
        "stored name `Mal\\r\\nlory`",
        "the name contains a line break (U+000D) at character 4",
    ] {
        assert!(error.contains(part), "{part:?} missing in {error}");
    }
    assert_eq!(n.rows_in(DeliveryState::Sending), 0);
    assert!(n.store().suppressions().unwrap().is_empty());
    // `deliveries` names the row and why, on one line (the name shown escaped).
    let deliveries = stdout(&n.run(&["deliveries"]));
    let line = deliveries
        .lines()
        .find(|l| l.contains(bad.as_str()))
        .unwrap_or_else(|| panic!("{bad} not in:\n{deliveries}"));
    assert!(
        line.contains("failed") && line.contains("To header") && line.contains("line break"),
        "{line}"
    );
    // `subscribers show` shows the name escaped, says it is unusable, and shows the failure.
    let show = stdout(&n.run(&["subscribers", "show", bad]));
    assert!(show.contains("(Mal\\r\\nlory)"), "{show}");
    assert!(show.contains("name:         unusable"), "{show}");
    assert!(
        show.lines()
            .any(|l| l.contains("last digest:") && l.contains("failed") && l.contains("To header")),
        "{show}"
    );
    // Fixing the name through the CLI makes the reader mailable again.
    assert!(
        n.run(&["subscribers", "edit", bad, "--name", "Mallory"])
            .status
            .success()
    );
    assert!(!stdout(&n.run(&["subscribers", "show", bad])).contains("unusable"));
}

#[test]
fn two_bad_names_meeting_both_connections_neither_hang_the_run_nor_keep_anyone_else_waiting() {
    // Arrange: eight readers, two connections, and two names no header can carry (each
    // worker is likely to meet one), one of them a header injection attempt.
    let (smtp, n, all) = newsletter_of(8);
    write_name_behind_the_clis_back(&n, &all[0], "Eve\r\nBcc: everyone@example.net");
    write_name_behind_the_clis_back(&n, &all[1], "Mal\nlory");

    // Act
    let (code, out) = send_within(&n, Duration::from_secs(120));

    // Assert
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("sent 6, ") && out.contains("failed 2"),
        "{out}"
    );
    assert_eq!(smtp.assert_each_received(&all[2..]), 0);
    for bad in &all[..2] {
        let row = n.row(bad);
        assert_eq!(row.state, DeliveryState::Failed, "{row:?}");
        assert!(
            row.last_error
                .unwrap()
                .contains("the To header cannot be written")
        );
    }
    assert_eq!(n.rows_in(DeliveryState::Sending), 0);
    assert_eq!(n.store().outstanding_deliveries().unwrap(), 0);
    assert!(
        smtp.rcpt_attempts().iter().all(|r| !r.contains("everyone")),
        "nothing reached the relay for the injected Bcc"
    );
}

#[test]
fn names_with_control_characters_are_refused_by_add_and_edit_naming_the_flag_and_the_character() {
    let n = Newsletter::new(&relay(None, closed_port(), 1.0));
    // Refused by `add`, which adds nothing.
    for (name, why) in [
        ("Mal\nlory", "a line break (U+000A) at character 4"),
        (
            "Ada\u{202e}ecalevol",
            "bidirectional embedding, override or isolate (U+202E)",
        ),
        ("Ada\tL", "a control character (U+0009)"),
    ] {
        let out = n.run(&["subscribers", "add", "ada@example.org", "--name", name]);
        assert!(!out.status.success(), "{name:?} was accepted");
        let err = stderr(&out);
        assert!(
            err.contains("--name: the name contains") && err.contains(why),
            "{err}"
        );
        assert!(
            n.store()
                .subscriber_by_email("ada@example.org")
                .unwrap()
                .is_none()
        );
    }
    let long = "x".repeat(101);
    let err = stderr(&n.run(&["subscribers", "add", "ada@example.org", "--name", &long]));
    assert!(err.contains("at most 100"), "{err}");
    // A good name goes in trimmed; `edit` refuses a bad one and changes nothing.
    assert!(
        n.run(&["subscribers", "add", "ada@example.org", "--name", " Ada "])
            .status
            .success()
    );
    let out = n.run(&[
        "subscribers",
        "edit",
        "ada@example.org",
        "--name",
        "A\r\nBcc: x",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--name: the name contains a line break (U+000D)"));
    let ada = n
        .store()
        .subscriber_by_email("ada@example.org")
        .unwrap()
        .unwrap();
    assert_eq!(ada.name.unwrap().raw(), "Ada");
    // "" still removes the name.
    assert!(
        n.run(&["subscribers", "edit", "ada@example.org", "--name", ""])
            .status
            .success()
    );
    let ada = n.store().subscriber_by_email("ada@example.org").unwrap();
    assert_eq!(ada.unwrap().name, None);
}

#[test]
fn both_csv_formats_refuse_a_bad_name_by_its_line_and_import_the_other_rows() {
    let n = Newsletter::new(&relay(None, closed_port(), 1.0));
    // paperpost's own format: a tab and a bidi override in two names.
    let ours = n.dir.path().join("ours.csv");
    std::fs::write(
        &ours,
        "email,name,topics,status\n\
         a@example.org,Ada,,active\n\
         b@example.org,\"Bo\tb\",,active\n\
         c@example.org,Cy\u{2066}rus,,active\n\
         d@example.org,,,active\n",
    )
    .unwrap();
    let out = n.run(&["subscribers", "import", ours.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "two rows skipped");
    let err = stderr(&out);
    assert!(
        err.contains("ours.csv:3: the name contains a control character (U+0009)"),
        "{err}"
    );
    assert!(
        err.contains("ours.csv:4: the name contains a bidirectional"),
        "{err}"
    );
    // listmonk's format: a quoted name running over two lines (reported at its first line).
    let listmonk = n.dir.path().join("listmonk.csv");
    std::fs::write(
        &listmonk,
        "email,name,attributes\n\
         e@example.org,Eve,{}\n\
         f@example.org,\"Mal\nlory\",{}\n\
         g@example.org,Grace,\"{\"\"frequency\"\": \"\"daily\"\"}\"\n",
    )
    .unwrap();
    let out = n.run(&["subscribers", "import", listmonk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "one row skipped");
    let err = stderr(&out);
    assert!(
        err.contains("listmonk.csv:3: the name contains a line break (U+000A)"),
        "{err}"
    );
    let mut imported: Vec<String> = n
        .store()
        .subscribers(None)
        .unwrap()
        .into_iter()
        .map(|s| s.email.to_string())
        .collect();
    imported.sort();
    assert_eq!(
        imported,
        [
            "a@example.org",
            "d@example.org",
            "e@example.org",
            "g@example.org"
        ]
    );
}

/// The engine with the real composer, over real SMTP with two connections, except that
/// composing `panicking` readers' digests panics (standing in for any bug a worker can
/// meet).
fn deliver_with_panics(n: &Newsletter, panicking: &[String]) -> EngineReport {
    let settings = Settings::load(&n.config).unwrap();
    let store = n.store();
    let composer = Composer::new(
        &settings.newsletter_options(),
        settings.delivery.bounce_address.clone(),
        store.clone(),
        None,
        paperpost::security::Secret::load(&store).unwrap(),
    );
    let panicking = panicking.to_vec();
    let compose = move |c: &Claimed| -> Result<Composed, ComposeError> {
        if panicking.contains(&c.subscriber.email.to_string()) {
            panic!("composing for {} blew up", c.subscriber.email);
        }
        composer.compose(c)
    };
    let mut engine = settings.engine_settings();
    engine.owner = "panicking-run".into();
    let transport = settings.transport().unwrap();
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let report = runtime.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(120),
            deliver(
                store,
                transport,
                engine,
                Box::new(compose),
                Box::new(chrono::Utc::now),
                Arc::new(Progress::default()),
                stop,
            ),
        )
        .await
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    report.expect("the run ends").unwrap()
}

#[test]
fn a_worker_that_panics_over_smtp_gives_its_row_back_and_the_other_worker_delivers_the_rest() {
    let (smtp, n, all) = newsletter_of(8);
    n.plan_weekly();

    let report = deliver_with_panics(&n, &all[2..3]);

    // One worker died; the other delivered everyone else, and the run went to its end.
    assert_eq!(report.workers_failed, 1, "{report:?}");
    assert!(report.aborted.is_none(), "{report:?}");
    assert!(
        report
            .problem()
            .unwrap()
            .contains("composing for reader00002@example.org blew up")
    );
    let others: Vec<String> = all.iter().filter(|r| **r != all[2]).cloned().collect();
    assert_eq!(smtp.assert_each_received(&others), 0);
    let row = n.row(&all[2]);
    assert_eq!(row.state, DeliveryState::Retry, "{row:?}");
    assert!(
        row.last_error
            .unwrap()
            .contains("the delivery worker failed")
    );
    assert_eq!(n.rows_in(DeliveryState::Sending), 0);
    match n.store().send_run_end("panicking-run").unwrap() {
        Some(SendRunEnd::Stopped { error }) => assert!(error.contains("blew up"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn when_every_worker_panics_the_run_stops_promptly_and_gives_the_unsent_rows_back() {
    let (smtp, n, all) = newsletter_of(12);
    n.plan_weekly();

    // Every reader's digest panics: both workers die on their first row.
    let report = deliver_with_panics(&n, &all);

    assert_eq!(report.workers_failed, 2, "{report:?}");
    let why = report.aborted.clone().unwrap();
    assert!(
        why.contains("every delivery worker failed (2 of 2)"),
        "{why}"
    );
    assert!(smtp.log().is_empty());
    // The two rows in hand wait for a retry; all the others are back in the queue
    // untouched; nothing stays leased.
    let rows = n.store().delivery_rows(&n.edition()).unwrap();
    let state_count = |s| rows.iter().filter(|r| r.state == s).count();
    assert_eq!(state_count(DeliveryState::Retry), 2, "{rows:?}");
    assert_eq!(state_count(DeliveryState::Pending), 10, "{rows:?}");
    assert!(
        rows.iter()
            .filter(|r| r.state == DeliveryState::Pending)
            .all(|r| r.attempts == 0)
    );
    match n.store().send_run_end("panicking-run").unwrap() {
        Some(SendRunEnd::Stopped { error }) => assert_eq!(error, why),
        other => panic!("{other:?}"),
    }
}
