//! The reputation guard end to end (issue 22, item 3): digests go out to the SMTP test
//! server with VERP; real ARF complaints and DSN hard bounces about them go through
//! `paperpost bounces ingest`; over `[delivery.guard]`'s threshold sending pauses itself —
//! `status` says why with the numbers, `send` sends nothing and exits 4 with the deliveries
//! left queued — until `deliveries resume` (or the operator's button on the status page)
//! lifts it, after which the queued messages go out exactly once and the old reports do
//! not trip the guard again.
use crate::support;

use std::sync::Arc;

use chrono::{Datelike, Duration, Utc};
use paperpost::domain::DeliveryState;
use reqwest::StatusCode;
use support::newsletter::{Newsletter, relay};
use support::operator::{OperatorBrowser, add_operator, csrf_in};
use support::smtp::SmtpServer;

use crate::bounces::{arf, envelopes, ingest_stdin, mbox};

/// The exit status of a `send` held back by the guard (`cli::send::EXIT_PAUSED`).
const EXIT_PAUSED: i32 = 4;

fn out(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `[delivery]` with VERP through `server`, and `[delivery.guard]` set to `guard`.
fn delivery(server: &SmtpServer, guard: &str) -> String {
    format!(
        "bounce_address = \"bounces@papers.example.org\"\n{}\n[delivery.guard]\n{guard}\n",
        relay(None, server.port, 10.0)
    )
}

fn readers(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}{i:02}@example.net"))
        .collect()
}

/// An ARF complaint about `reader`'s digest, as its mailbox provider sends it back to the
/// digest's VERP address; `id` makes its Message-ID unique.
fn complaint(env: &[(String, String, String)], reader: &str, id: &str) -> String {
    let (_, verp, mid) = env.iter().find(|e| e.0 == reader).unwrap();
    arf(reader, verp, mid).replace("<arf-1@example.com>", &format!("<{id}@example.com>"))
}

/// A DSN hard bounce (5.1.1) quoting `reader`'s digest's Message-ID.
fn hard_bounce(env: &[(String, String, String)], reader: &str, id: &str) -> String {
    let (_, _, mid) = env.iter().find(|e| e.0 == reader).unwrap();
    support::dsn_by_message_id(id, reader, "5.1.1", mid)
}

#[test]
fn complaints_over_the_threshold_pause_sending_until_resumed_and_the_queue_then_goes_out_once() {
    // Arrange: ten readers got the edition; the guard judges from 10 delivered and pauses
    // above 10 % complaints.
    let server = SmtpServer::start(None);
    let n = Newsletter::new(&delivery(&server, "complaint_rate = 0.1\nmin_sample = 10"));
    let first = readers("r", 10);
    n.fetch_and_import(&first);
    assert!(n.run(&["send"]).status.success());
    let env = envelopes(&server);
    assert_eq!(env.len(), 10);
    let edition = n.edition();

    // Act 1: one complaint (10 %, not over) piped in; then an mbox with a second one (20 %)
    // and a hard bounce (10 %, over the default 5 % too: complaints are judged first, and a
    // pause gives one reason).
    let one = ingest_stdin(&n, &complaint(&env, "r00@example.net", "arf-a"));
    let still_sending = n.store().sending_pause().unwrap();
    let reports = n.dir.path().join("reports.mbox");
    std::fs::write(
        &reports,
        mbox(&[
            complaint(&env, "r01@example.net", "arf-b"),
            hard_bounce(&env, "r02@example.net", "dsn-c"),
        ]),
    )
    .unwrap();
    let two = n.run(&["bounces", "ingest", reports.to_str().unwrap()]);
    let status = n.ok(&["status"]);
    let overview = n.ok(&["deliveries"]);
    // Three new readers sign up meanwhile: planned, but held back.
    let later = readers("new", 3);
    n.import(&later);
    let held = n.run(&["send"]);
    let queued_while_paused = n.rows_in(DeliveryState::Pending);
    let status_held = n.ok(&["status"]);

    // Assert: the first complaint alone did not trip it; the second did, and says so.
    assert!(one.status.success(), "{}", out(&one));
    assert!(!out(&one).contains("paused"), "{}", out(&one));
    assert_eq!(still_sending, None);
    assert!(two.status.success(), "{}", out(&two));
    let why = format!(
        "complaint rate 20.00 % (2 of 10 delivered, edition {edition}) is over 10.00 % \
         ([delivery.guard] complaint_rate)"
    );
    assert!(
        out(&two).contains("these reports paused sending: sending paused since ")
            && out(&two).contains(&why)
            && out(&two).contains("nothing is sent until `paperpost deliveries resume`"),
        "{}",
        out(&two)
    );
    let pause = n.store().sending_pause().unwrap().expect("paused");
    assert_eq!((pause.reports, pause.delivered), (2, 10));
    assert_eq!(pause.tripped_by, "bounces ingest");
    assert!(
        status.contains("SENDING PAUSED by the reputation guard (tripped by bounces ingest)")
            && status.contains(&why),
        "{status}"
    );
    assert!(overview.contains(&why), "{overview}");
    // `send` planned the new readers, sent nothing and said why, with its own exit status.
    assert_eq!(held.status.code(), Some(EXIT_PAUSED), "{}", out(&held));
    let said = out(&held);
    assert!(
        said.contains(&why) && said.contains("nothing was sent: 3 deliveries stay queued"),
        "{said}"
    );
    assert_eq!(server.messages().len(), 10, "nothing more left");
    assert_eq!(queued_while_paused, 3);
    assert!(
        status_held.contains("SENDING PAUSED") && status_held.contains("3 deliveries stay queued"),
        "{status_held}"
    );

    // Act 2: the operator resumes, then sends.
    let resumed = n.run(&["deliveries", "resume", "--by", "tester"]);
    let again = n.run(&["deliveries", "resume", "--by", "tester"]);
    let sent = n.run(&["send"]);
    let after = n.ok(&["status"]);

    // Assert: lifted, recorded who; the three queued went out once each, nobody else got
    // a second digest, and the old reports did not trip the guard again.
    assert!(resumed.status.success(), "{}", out(&resumed));
    assert!(
        out(&resumed).contains("sending resumed by cli:tester")
            && out(&resumed).contains("3 deliveries are queued"),
        "{}",
        out(&resumed)
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        out(&again).contains("sending is not paused"),
        "{}",
        out(&again)
    );
    assert!(sent.status.success(), "{}", out(&sent));
    for r in &later {
        assert_eq!(server.received_by(r), 1, "{r}");
    }
    for r in &first {
        assert_eq!(server.received_by(r), 1, "{r}");
    }
    assert_eq!(server.messages().len(), 13);
    assert_eq!(n.rows_in(DeliveryState::Pending), 0);
    assert_eq!(n.store().sending_pause().unwrap(), None);
    assert!(!after.contains("SENDING PAUSED"), "{after}");
    assert!(
        after.contains("Sending guard: last resumed") && after.contains("by cli:tester"),
        "{after}"
    );
    // While nothing is paused, status shows the count the guard judges, restarted at the
    // resume (messages sent in the resume's own second are not counted), none reported.
    assert!(
        after.contains("Sending guard: complaints 0.00 % (0 of ")
            && after.contains("delivered since sending was resumed at")
            && after.contains("pauses above 10.00 %"),
        "{after}"
    );
}

#[tokio::test]
async fn hard_bounces_trip_the_guard_at_the_next_send_and_the_operator_resumes_on_the_status_page()
{
    // Arrange: ten readers got the edition; three of them hard-bounce (30 %), but the guard
    // wants 20 delivered before it judges.
    let server = SmtpServer::start(None);
    let guard = |min: u32| format!("hard_bounce_rate = 0.2\nmin_sample = {min}");
    let n = Newsletter::new(&delivery(&server, &guard(20)));
    let first = readers("r", 10);
    n.fetch_and_import(&first);
    assert!(n.run(&["send"]).status.success());
    let env = envelopes(&server);
    let edition = n.edition();
    let reports = n.dir.path().join("dsns.mbox");
    std::fs::write(
        &reports,
        mbox(&[
            hard_bounce(&env, "r03@example.net", "d1"),
            hard_bounce(&env, "r04@example.net", "d2"),
            hard_bounce(&env, "r05@example.net", "d3"),
        ]),
    )
    .unwrap();

    // Act 1: ingest under the minimum sample; then the operator lowers it to 10 and two new
    // readers are due.
    let ingest = n.run(&["bounces", "ingest", reports.to_str().unwrap()]);
    let paused_after_ingest = n.store().sending_pause().unwrap();
    n.write_config(
        "hf_daily_papers_2024-10-25_full.json",
        3,
        &delivery(&server, &guard(10)),
    );
    let later = readers("new", 2);
    n.import(&later);
    let held = n.run(&["send"]);

    // Assert: not judged on 10 of 20; the send judged it on 10 and paused before claiming.
    assert!(
        out(&ingest).contains("3 matched (3 hard"),
        "{}",
        out(&ingest)
    );
    assert_eq!(paused_after_ingest, None);
    assert_eq!(held.status.code(), Some(EXIT_PAUSED), "{}", out(&held));
    let why = format!(
        "hard-bounce rate 30.00 % (3 of 10 delivered, edition {edition}) is over 20.00 % \
         ([delivery.guard] hard_bounce_rate)"
    );
    assert!(out(&held).contains(&why), "{}", out(&held));
    assert_eq!(
        n.store().sending_pause().unwrap().unwrap().tripped_by,
        "send"
    );
    assert_eq!(server.messages().len(), 10);

    // Act 2: the operator signs in to the status page over the same store and resumes.
    let store = n.store();
    let app = support::web_app::spawn_on(
        store.clone(),
        tempfile::tempdir().unwrap(),
        paperpost::web::WebSettings::default(),
        |state| state.status = Some(Arc::new(|_| Ok(maud::html! { p { "status page" } }))),
    )
    .await;
    // The app's clock reads the test's fixed start time unless told: the resume happens now.
    *app.clock.lock().unwrap() = chrono::Utc::now();
    add_operator(&app, "ada", "correct horse battery staple");
    let ada = OperatorBrowser::new(&app)
        .signed_in("ada", "correct horse battery staple")
        .await;
    let page = ada.get("status").await.text().await.unwrap();
    let csrf = csrf_in(&page, "resume");
    let forged = ada.post("status/resume", "csrf=0000").await;
    let still = store.sending_pause().unwrap();
    let resumed = ada
        .post("status/resume", support::web_app::form(&[("csrf", &csrf)]))
        .await;
    let page_after = ada.get("status").await.text().await.unwrap();
    app.stop().await;
    let sent = n.run(&["send"]);

    // Assert: the page said why and offered the button; a POST without the session's CSRF
    // changed nothing; the real one lifted the pause, recorded ada, and the queued two
    // went out once.
    assert!(page.contains(&why), "{page}");
    assert!(page.contains("id=\"resume-sending\""), "{page}");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(still.is_some(), "a forged POST lifts nothing");
    assert_eq!(resumed.status(), StatusCode::SEE_OTHER);
    assert!(!page_after.contains("id=\"resume\""), "{page_after}");
    let last = store.last_resumed_pause().unwrap().unwrap();
    assert_eq!(last.resumed_by, "web:ada");
    assert_eq!(last.pause.reports, 3);
    assert!(sent.status.success(), "{}", out(&sent));
    for r in later.iter().chain(&first) {
        assert_eq!(server.received_by(r), 1, "{r}");
    }
    assert_eq!(store.sending_pause().unwrap(), None);
}

#[test]
fn a_new_domain_warms_up_one_daily_cap_at_a_time_and_the_rest_waits_for_the_next_day() {
    // Arrange: ten readers, a warm-up of 3 messages on the first day, doubling each day.
    let server = SmtpServer::start(None);
    let n = Newsletter::new(&delivery(&server, "warmup = { start = 3, growth = 2.0 }"));
    let all = readers("r", 10);
    n.fetch_and_import(&all);
    // Noon (UTC) of this ISO week's Monday, Tuesday and Wednesday: one edition throughout.
    let today = Utc::now().date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let noon = |d: i64| {
        (monday + Duration::days(d))
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
            .to_rfc3339()
    };

    // Act: send on day 1 (twice), day 2 and day 3.
    let day1 = n.run(&["send", "--now", &noon(0)]);
    let day1_again = n.run(&["send", "--now", &noon(0)]);
    let after_day1 = server.messages().len();
    let day2 = n.run(&["send", "--now", &noon(1)]);
    let after_day2 = server.messages().len();
    let day3 = n.run(&["send", "--now", &noon(2)]);

    // Assert: 3, then nothing more that day, then 6, then the last one; each reader once.
    for o in [&day1, &day1_again, &day2, &day3] {
        assert!(o.status.success(), "{}", out(o));
    }
    assert_eq!(after_day1, 3);
    assert!(
        out(&day1).contains("sent 3,")
            && out(&day1).contains(
                "day 1: today's cap of 3 messages is reached; 7 deliveries stay queued for \
                 tomorrow (cap 6; days are UTC)"
            ),
        "{}",
        out(&day1)
    );
    assert!(
        out(&day1_again).contains("sent 0,") && out(&day1_again).contains("7 deliveries stay"),
        "{}",
        out(&day1_again)
    );
    assert_eq!(after_day2, 9);
    assert!(
        out(&day2).contains(
            "day 2: today's cap of 6 messages is reached; 1 delivery stays queued \
             for tomorrow (cap 12"
        ),
        "{}",
        out(&day2)
    );
    assert!(!out(&day3).contains("warm-up"), "{}", out(&day3));
    for r in &all {
        assert_eq!(server.received_by(r), 1, "{r}");
    }
    assert_eq!(n.rows_in(DeliveryState::Pending), 0);
}
