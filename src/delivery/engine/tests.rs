//! The engine with an injected composer over the `.eml` outbox (one worker): a message that
//! cannot be built fails alone; a worker that panics gives its row back for a retry, and a
//! run left without workers stops instead of waiting forever. Either backend
//! (`PAPERPOST_TEST_BACKEND`).
use std::time::Duration;

use super::*;
use crate::domain::{DeliveryRow, DeliveryState, SendRunEnd};

const EDITION: &str = "2026-W48";

/// A message for any claimed row, as the real composer would hand it over.
fn composed(c: &Claimed) -> Composed {
    Composed {
        from: None,
        to: c.subscriber.email.address().clone(),
        bytes: b"Subject: test\r\n\r\nbody\r\n".to_vec(),
        name: format!("delivery-{}", c.id),
    }
}

/// Runs the engine over `readers` planned readers (r0@… r{n-1}@…) with `compose`, on a
/// runtime of its own (store calls stay outside it); fails if the run does not end.
fn run(
    readers: usize,
    compose: Box<Composer>,
) -> (Store, EngineReport, Vec<DeliveryRow>, tempfile::TempDir) {
    run_on(Store::for_tests().unwrap(), readers, compose)
}

/// [`run`] on a store the caller made (and may have given to `compose`).
fn run_on(
    store: Store,
    readers: usize,
    compose: Box<Composer>,
) -> (Store, EngineReport, Vec<DeliveryRow>, tempfile::TempDir) {
    crate::store::plan_readers(&store, readers);
    let outbox = tempfile::tempdir().unwrap();
    let settings = EngineSettings {
        owner: "engine-test".into(),
        ..EngineSettings::default()
    };
    let (_stop, stop) = watch::channel(false);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let report = runtime
        .block_on(async {
            tokio::time::timeout(
                Duration::from_secs(60),
                deliver(
                    store.clone(),
                    Transport::File(outbox.path().to_path_buf()),
                    settings,
                    compose,
                    Box::new(Utc::now),
                    Arc::default(),
                    stop,
                ),
            )
            .await
        })
        .expect("the run ends")
        .unwrap();
    runtime.shutdown_timeout(Duration::from_secs(5));
    let rows = store.delivery_rows(EDITION).unwrap();
    (store, report, rows, outbox)
}

fn row<'a>(rows: &'a [DeliveryRow], email: &str) -> &'a DeliveryRow {
    rows.iter().find(|r| r.email == email).unwrap()
}

#[test]
fn a_message_that_cannot_be_built_fails_alone_naming_the_header_and_the_others_go_out() {
    let compose = Box::new(|c: &Claimed| {
        if c.subscriber.email.as_ref() == "r1@example.org" {
            return Err(ComposeError::Message(MessageError::header(
                "To",
                "the reader's stored name `Mal\\nlory` cannot be used",
            )));
        }
        Ok(composed(c))
    });

    let (store, report, rows, _outbox) = run(4, compose);

    assert_eq!((report.sent, report.failed, report.retry), (3, 1, 0));
    assert_eq!((report.aborted, report.workers_failed), (None, 0));
    let bad = row(&rows, "r1@example.org");
    assert_eq!((bad.state, bad.attempts), (DeliveryState::Failed, 1));
    let error = bad.last_error.as_deref().unwrap();
    assert!(
        error.starts_with("permanent, not sent: the To header cannot be written")
            && error.contains("Mal\\nlory"),
        "{error}"
    );
    assert!(
        store.suppressions().unwrap().is_empty(),
        "nothing is wrong with the address"
    );
    assert_eq!(
        store.send_run_end("engine-test").unwrap(),
        Some(SendRunEnd::Finished)
    );
}

#[test]
fn a_worker_that_panics_records_its_row_and_a_run_without_workers_stops_and_gives_the_rest_back() {
    // One worker (the outbox): it sends r0 and r1, then dies composing r2 while the queue
    // and the claimer hold the rest.
    let compose = Box::new(|c: &Claimed| {
        if c.subscriber.email.as_ref() == "r2@example.org" {
            panic!("boom composing r2");
        }
        Ok(composed(c))
    });

    let (store, report, rows, outbox) = run(6, compose);

    // The row in hand is recorded for a retry, with what the worker died of…
    let dead = row(&rows, "r2@example.org");
    assert_eq!((dead.state, dead.attempts), (DeliveryState::Retry, 1));
    let error = dead.last_error.as_deref().unwrap();
    assert!(
        error.contains("the delivery worker failed") && error.contains("boom composing r2"),
        "{error}"
    );
    // …the ones before it went out, and everything after it is back in the queue untouched.
    for sent in ["r0@example.org", "r1@example.org"] {
        assert_eq!(row(&rows, sent).state, DeliveryState::Sent);
    }
    for queued in ["r3@example.org", "r4@example.org", "r5@example.org"] {
        let r = row(&rows, queued);
        assert_eq!((r.state, r.attempts), (DeliveryState::Pending, 0), "{r:?}");
    }
    assert!(rows.iter().all(|r| r.state != DeliveryState::Sending));
    assert_eq!(std::fs::read_dir(outbox.path()).unwrap().count(), 2);
    // The run says why it stopped, and is recorded as stopped with that reason.
    assert_eq!((report.sent, report.retry), (2, 1));
    assert_eq!((report.workers_failed, report.released), (1, 3));
    let why = report.aborted.clone().unwrap();
    assert!(
        why.contains("every delivery worker failed") && why.contains("boom composing r2"),
        "{why}"
    );
    match store.send_run_end("engine-test").unwrap() {
        Some(SendRunEnd::Stopped { error }) => assert_eq!(error, why),
        other => panic!("{other:?}"),
    }
}

/// Pauses sending as the reputation guard does when a rate passes its threshold.
fn trip_the_guard(store: &Store) {
    store.raw_execute(
        "INSERT INTO sending_pauses (paused_at, kind, edition, reports, delivered, threshold,
                                     reason, tripped_by, in_force)
         VALUES (1800000000, 'complaint', '2026-W48', 3, 10, 0.1,
                 'complaint rate 30.00 % (3 of 10 delivered, edition 2026-W48) is over 10.00 %',
                 'bounces ingest', 1)",
    );
}

#[test]
fn while_sending_is_paused_nothing_is_claimed() {
    let store = Store::for_tests().unwrap();
    trip_the_guard(&store);

    let (_store, report, rows, outbox) = run_on(store, 5, Box::new(|c| Ok(composed(c))));

    assert_eq!((report.sent, report.released), (0, 0));
    assert!(
        report
            .paused
            .as_deref()
            .is_some_and(|p| p.contains("complaint rate 30.00 % (3 of 10 delivered")),
        "{report:?}"
    );
    assert!(
        rows.iter()
            .all(|r| r.state == DeliveryState::Pending && r.attempts == 0)
    );
    assert_eq!(std::fs::read_dir(outbox.path()).unwrap().count(), 0);
}

#[test]
fn a_pause_tripped_mid_run_stops_claiming_between_batches_and_leaves_the_rest_queued() {
    // 40 readers, one worker (the outbox): batches of 16. The guard trips (another process
    // ingested the reports) while the second message is composed.
    let store = Store::for_tests().unwrap();
    let tripper = store.clone();
    let compose = Box::new(move |c: &Claimed| {
        if c.subscriber.email.as_ref() == "r1@example.org" {
            trip_the_guard(&tripper);
        }
        Ok(composed(c))
    });

    let (store, report, rows, outbox) = run_on(store, 40, compose);

    // The batch in hand went out (but for what was still queued, given back); no second
    // batch was claimed; every other row is pending as planned, its attempt not counted.
    let sent = rows
        .iter()
        .filter(|r| r.state == DeliveryState::Sent)
        .count();
    let pending = rows
        .iter()
        .filter(|r| r.state == DeliveryState::Pending && r.attempts == 0)
        .count();
    assert!((2..=16).contains(&sent), "{sent} sent: {report:?}");
    assert_eq!(sent + pending, 40, "{rows:?}");
    assert_eq!(report.sent, sent);
    assert_eq!(std::fs::read_dir(outbox.path()).unwrap().count(), sent);
    assert!(report.paused.is_some(), "{report:?}");
    assert_eq!(report.aborted, None, "a pause is no failure");
    assert_eq!(
        store.send_run_end("engine-test").unwrap(),
        Some(SendRunEnd::Finished)
    );
}

#[test]
fn a_pause_seen_by_the_watcher_stops_a_run_inside_a_batch_and_gives_the_queue_back() {
    // One worker composing slowly (0.3 s a message): the first batch of 16 would take ~5 s,
    // so the claimer is still feeding it when the guard trips; the watcher (every 2 s) must
    // stop the run inside the batch.
    let store = Store::for_tests().unwrap();
    let tripper = store.clone();
    let compose = Box::new(move |c: &Claimed| {
        if c.subscriber.email.as_ref() == "r1@example.org" {
            trip_the_guard(&tripper);
        }
        std::thread::sleep(Duration::from_millis(300));
        Ok(composed(c))
    });

    let (_store, report, rows, outbox) = run_on(store, 20, compose);

    let sent = rows
        .iter()
        .filter(|r| r.state == DeliveryState::Sent)
        .count();
    let pending = rows
        .iter()
        .filter(|r| r.state == DeliveryState::Pending && r.attempts == 0)
        .count();
    assert!((2..16).contains(&sent), "{sent} sent: {report:?}");
    assert_eq!(sent + pending, 20, "{rows:?}");
    assert!(
        report.released > 0,
        "the rest of the batch given back: {report:?}"
    );
    assert_eq!(std::fs::read_dir(outbox.path()).unwrap().count(), sent);
    assert!(report.paused.is_some(), "{report:?}");
}
