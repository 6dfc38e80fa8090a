//! A full disk during `send`: once an outcome cannot be recorded, no further message goes
//! out in that run; the run exits non-zero saying what failed, and after the disk is freed
//! the next run delivers the rest, duplicating at most the messages that were in flight.
//!
//! The store lives on a real, small file system: a 16 MB tmpfs mounted for the test (root
//! only; the test says so and passes without checking anything where mounting is refused).
mod support;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use paperpost::config::Settings;
use paperpost::domain::Frequency;
use support::newsletter::{Newsletter, relay};
use support::smtp::SmtpServer;

const READERS: usize = 2000;
const CONNECTIONS: usize = 4;
/// Room left on the file system once the edition is planned.
const FREE_BYTES: u64 = 200 * 1024;

/// A tmpfs mounted on a temporary folder, unmounted when dropped (even when the test fails).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("could not run mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Something still holds a file open: detach it now, it goes when released.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// Fills the file system holding `path` until only about `free` bytes are left; returns the
/// filler file (delete it to free the space).
fn fill_until_free(dir: &Path, free: u64) -> std::path::PathBuf {
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0x5au8; 64 * 1024];
    let mut written: u64 = 0;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    f.sync_all().ok();
    f.set_len(written.saturating_sub(free)).unwrap();
    drop(f);
    filler
}

#[test]
fn a_full_disk_stops_the_sending_and_the_next_run_duplicates_at_most_what_was_in_flight() {
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
        &format!(
            "connections = {CONNECTIONS}\nlease_secs = 2\nretry_base_secs = 0.2\n{}",
            relay(Some("local"), smtp.port, 5.0)
        ),
    );
    let readers: Vec<String> = (0..READERS)
        .map(|i| format!("reader{i:05}@example.org"))
        .collect();
    n.fetch_and_import(&readers);
    {
        let settings = Settings::load(&n.config).unwrap();
        let store = n.store();
        let now = chrono::Utc::now();
        let period = paperpost::pipeline::period_for(&settings, Frequency::Weekly, now);
        let plan = paperpost::pipeline::plan_edition(
            &settings,
            &store,
            period,
            Frequency::Weekly,
            None,
            false,
            now,
        )
        .unwrap();
        assert_eq!(plan.planned, READERS, "{plan:?}");
        // Dropping the last handle checkpoints the WAL and removes it: the next writes
        // need fresh space on the disk.
    }
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
    let mut received: HashMap<String, usize> = HashMap::new();
    for (to, _) in smtp.log() {
        for t in to {
            *received.entry(t).or_default() += 1;
        }
    }
    let missing: Vec<&String> = readers
        .iter()
        .filter(|r| !received.contains_key(*r))
        .collect();
    assert!(missing.is_empty(), "never received: {missing:?}");
    assert_eq!(received.len(), READERS, "only our readers got mail");
    let duplicates: usize = received.values().map(|c| c - 1).sum();
    eprintln!("duplicates: {duplicates}");
    assert!(
        received.values().all(|c| *c <= 2),
        "nobody gets it more than twice"
    );
    assert!(
        duplicates <= CONNECTIONS,
        "{duplicates} duplicates > {CONNECTIONS} messages in flight at the failure"
    );
    drop(n);
}
