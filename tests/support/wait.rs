//! Waiting on an observable event: a condition polled every 50 ms, and a failed test saying
//! what never happened once the deadline passes. Tests never sleep to let time pass.
use std::time::{Duration, Instant};

/// How long to pause between two looks.
pub const PAUSE: Duration = Duration::from_millis(50);

/// Polls `ready` until it gives a value; after `timeout`, fails the test with the message
/// `timed_out` makes (read the logs there, at failure time).
pub fn poll_or<T>(
    timeout: Duration,
    mut ready: impl FnMut() -> Option<T>,
    timed_out: impl FnOnce() -> String,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = ready() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("{}", timed_out());
        }
        std::thread::sleep(PAUSE);
    }
}

/// Polls `ready` until it gives a value; fails naming `what` after `timeout`.
pub fn poll<T>(what: &str, timeout: Duration, ready: impl FnMut() -> Option<T>) -> T {
    poll_or(timeout, ready, || {
        format!("timed out after {timeout:?} waiting for {what}")
    })
}

/// Polls `done` until it holds; fails naming `what` after `timeout`.
pub fn until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    poll(what, timeout, || done().then_some(()))
}

/// [`until`] for async tests: pauses on tokio's timer, so the runtime's other tasks (a
/// server under test) go on meanwhile, and only for a millisecond, as these tests race the
/// event they wait for against work still in progress.
pub async fn until_async(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
