//! A full disk during `send`: once an outcome cannot be recorded, no further message goes
//! out in that run; the run exits non-zero saying what failed, and after the disk is freed
//! the next run delivers the rest, duplicating at most the messages that were in flight.
//!
//! The store lives on a real, small file system: a 16 MB tmpfs mounted for the test (root
//! only; the test says so and passes without checking anything where mounting is refused).
use crate::support;

use support::disk::{Tmpfs, fill_until_free};
use support::newsletter::{Newsletter, readers, short_leases};
use support::smtp::SmtpServer;

const READERS: usize = 2000;
const CONNECTIONS: usize = 4;
/// Room left on the file system once the edition is planned.
const FREE_BYTES: u64 = 200 * 1024;

#[test]
fn a_full_disk_stops_the_sending_and_the_next_run_duplicates_at_most_what_was_in_flight() {
    if support::on_postgres() {
        eprintln!("skipped on PostgreSQL: fills the file system the SQLite store is on");
        return;
    }
    let disk = match Tmpfs::mount("16m") {
        Ok(d) => d,
        Err(why) => {
            eprintln!(
                "SKIPPED a_full_disk_stops_the_sending…: cannot mount a tmpfs here ({why}); \
                 this test needs root (or CAP_SYS_ADMIN) to make a real full file system"
            );
            return;
        }
    };
    // Arrange: a store on the 16 MB file system, 2,000 readers, the edition planned.
    let smtp = SmtpServer::start_with(Some(serde_json::json!({"pipelining": true})), false);
    let n = Newsletter::with_papers_in(
        disk.path(),
        "hf_daily_papers_2024-10-25_full.json",
        3,
        &short_leases(CONNECTIONS, smtp.port),
    );
    let readers = readers(READERS);
    n.fetch_and_import(&readers);
    // (`plan_weekly` drops its store handle, the last one: that checkpoints the WAL and
    // removes it, so the next writes need fresh space on the disk.)
    let plan = n.plan_weekly();
    assert_eq!(plan.planned, READERS, "{plan:?}");
    let filler = fill_until_free(n.dir.path(), FREE_BYTES);

    // Act 1: send with the disk nearly full.
    let first = n.run(&["send"]);
    let sent_first = smtp.log().len();
    eprintln!("first run: {sent_first} messages accepted by the server");

    // Assert 1: the run stopped on the store's error, said so, and exited non-zero.
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        !first.status.success(),
        "a run that cannot record exits non-zero"
    );
    assert!(
        stderr.contains("the store refused a write") && stderr.contains("full"),
        "the run says what failed: {stderr}"
    );
    assert!(
        sent_first < READERS,
        "the run stopped before the end ({sent_first} sent)"
    );

    // Act 2: free the disk and send until everything is out, on a clock past the first
    // run's 2 s leases (rather than waiting for them).
    std::fs::remove_file(&filler).unwrap();
    let later = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let second = n.run(&["send", "--wait", "--now", &later]);
    let out = String::from_utf8_lossy(&second.stdout);
    assert_eq!(second.status.code(), Some(0), "{out}");
    // The first run records that it stopped on the store's error when that last write still
    // fits, else it reads as a run that never recorded its end.
    assert!(
        out.contains("taken over from run")
            && (out.contains("stopped on an error: the store refused a write")
                || out.contains("never recorded its end")),
        "the takeover names its cause: {out}"
    );
    assert_eq!(n.store().outstanding_deliveries().unwrap(), 0);

    // Assert 2: everyone got it; duplicates only for what was in flight at the failure.
    let duplicates = smtp.assert_each_received(&readers);
    assert!(
        smtp.received_counts().values().all(|c| *c <= 2),
        "nobody gets it more than twice"
    );
    assert!(
        duplicates <= CONNECTIONS,
        "{duplicates} duplicates > {CONNECTIONS} messages in flight at the failure"
    );
    drop(n);
}
