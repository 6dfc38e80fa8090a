//! What the in-process app logs, captured for tests that check a log line: `start()`
//! installs (once per test binary) a tracing subscriber that writes paperpost's info and
//! above to a buffer, `text()` reads it. The buffer is the process's: from then on it holds
//! the lines of every in-process app of the binary (`tests/suite/` runs many modules'
//! tests at once), so a test looks for lines that name what only it uses (its own client
//! addresses and accounts), and what it requires absent must be absent from them all.
use std::sync::{Mutex, Once};

static LINES: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LINES.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn start() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing_subscriber::fmt()
            .with_writer(|| Capture)
            .with_ansi(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new("paperpost=info"))
            .init();
    });
}

pub fn text() -> String {
    String::from_utf8_lossy(&LINES.lock().unwrap()).into_owned()
}
