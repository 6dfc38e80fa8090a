//! Logging with tracing: `RUST_LOG` picks what is shown (default: paperpost's info and
//! everyone's warnings), written to stderr so stdout stays for results.
//!
//! Progress bars live on stderr too. Every bar belongs to [`bars`], and every log line is
//! written while that set is suspended (cleared, then drawn again below the line), so a log
//! line never tears a bar.
use std::io::Write;
use std::sync::LazyLock;

use indicatif::{MultiProgress, ProgressDrawTarget};
use tracing_subscriber::EnvFilter;

static BARS: LazyLock<MultiProgress> =
    LazyLock::new(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));

/// The one set of progress bars of this process; add every bar to it.
pub fn bars() -> &'static MultiProgress {
    &BARS
}

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("paperpost=info,warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(LogLine::default)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// One formatted log event, collected whole, then written to stderr with the bars
/// suspended. (tracing-subscriber makes one writer per event and drops it at the end.)
#[derive(Default)]
struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        BARS.suspend(|| {
            let _ = std::io::stderr().lock().write_all(&self.0);
        });
    }
}
