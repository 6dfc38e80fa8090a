//! Honest endings: a `send` that leaves deliveries leased to another run says so and exits
//! 3 (or waits for the lease with `--wait`), names how that run ended, and the CLI's
//! `subscribers add` re-subscribes an unsubscribed reader but not a suppressed one.
use crate::support;

use chrono::Utc;
use paperpost::domain::DeliveryState;
use support::newsletter::{Newsletter, relay};
use support::smtp::SmtpServer;

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_send_that_leaves_rows_leased_elsewhere_exits_3_and_send_wait_delivers_them() {
    // Arrange: 6 readers planned; two other runs hold 2 rows each for 8 s: one that never
    // recorded its end (killed) and one that stopped on an error.
    let smtp = SmtpServer::start(None);
    let n = Newsletter::new(&format!(
        "connections = 2\nlease_secs = 5\n{}",
        relay(Some("local"), smtp.port, 2.0)
    ));
    let who: Vec<String> = (0..6).map(|i| format!("r{i}@example.org")).collect();
    n.fetch_and_import(&who);
    n.plan_weekly();
    let store = n.store();
    let now = Utc::now();
    let lease = chrono::Duration::seconds(8);
    store.begin_send_run("killed-run", now).unwrap();
    assert_eq!(
        store
            .claim_deliveries("killed-run", now, lease, 2)
            .unwrap()
            .len(),
        2
    );
    store.begin_send_run("failed-run", now).unwrap();
    assert_eq!(
        store
            .claim_deliveries("failed-run", now, lease, 2)
            .unwrap()
            .len(),
        2
    );
    store
        .end_send_run("failed-run", Some("database or disk is full"), now)
        .unwrap();

    // Act 1: a plain send delivers what it can and says what it could not.
    let first = n.run(&["send"]);

    // Assert 1: exit 3, each holder named with how it ended.
    assert_eq!(first.status.code(), Some(3), "{}", text(&first));
    let out = text(&first);
    assert!(out.contains("sent 2,"), "{out}");
    assert!(
        out.contains("2 deliveries were not sent")
            && out.contains("killed-run")
            && out.contains(
                "never recorded its end (killed, crashed, or unable to write to the store)"
            )
            && out.contains("failed-run")
            && out.contains("stopped on an error: database or disk is full")
            && out.contains("--wait"),
        "{out}"
    );
    assert_eq!(smtp.log().len(), 2);

    // Act 2: `send --wait` waits for the leases to run out, then takes the rows over. Its
    // clock starts 7 s on, so it waits about a second rather than eight.
    let later = (now + chrono::Duration::seconds(7)).to_rfc3339();
    let second = n.run(&["send", "--wait", "--now", &later]);

    // Assert 2: everything out once, the takeovers named by cause.
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let out = text(&second);
    assert!(out.contains("waiting until"), "{out}");
    assert!(
        out.contains("2 deliveries were taken over from run killed-run")
            && out.contains(
                "2 deliveries were taken over from run failed-run, a run that stopped on an error"
            ),
        "{out}"
    );
    for w in &who {
        assert_eq!(smtp.received_by(w), 1, "{w}");
    }
    assert_eq!(n.rows_in(DeliveryState::Sent), 6);
}

#[test]
fn subscribers_add_resubscribes_an_unsubscribed_reader_but_not_a_suppressed_one() {
    let n = Newsletter::new(&relay(None, support::newsletter::closed_port(), 1.0));
    let add = |email: &str| n.run(&["subscribers", "add", email, "--topics", "diffusion"]);
    assert!(add("back@example.org").status.success());
    assert!(add("gone@example.org").status.success());
    assert!(
        n.run(&["subscribers", "remove", "back@example.org"])
            .status
            .success()
    );
    n.store()
        .suppress("gone@example.org", "550 5.1.1 no such user", Utc::now())
        .unwrap();

    let again = add("Back@example.org");
    let refused = add("gone@example.org");
    let twice = add("back@example.org");

    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("re-subscribed back@example.org (it was unsubscribed"));
    let back = n
        .store()
        .subscriber_by_email("back@example.org")
        .unwrap()
        .unwrap();
    assert_eq!(back.status.as_str(), "active");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).contains("on the suppression list (550 5.1.1 no such user)"),
        "{}",
        text(&refused)
    );
    assert_eq!(twice.status.code(), Some(1));
    assert!(
        text(&twice).contains("already subscribed; nothing changed"),
        "{}",
        text(&twice)
    );
}
