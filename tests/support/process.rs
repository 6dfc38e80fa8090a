//! A child process under test (`paperpost serve`, a browser phase) with its output in a log
//! file: waited on with deadlines, stopped with SIGTERM by its PID, and never left behind:
//! dropping it (test passed or not) stops it, and a failing test prints its log.
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use super::wait;

/// Runs a helper tool (openssl, postconf, python3…) to its end; fails the test, with what
/// it wrote to stderr, unless it succeeds. `missing` says how to get the tool when it cannot
/// be started at all.
pub fn run_tool(cmd: &mut Command, missing: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{missing}: {e}"));
    assert!(
        out.status.success(),
        "{} {:?}: {}\n{}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args().collect::<Vec<_>>(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub struct Running {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Running {
    /// Starts `cmd` with stdout and stderr both in `log`.
    pub fn spawn(name: &str, cmd: Command, log: PathBuf) -> Running {
        let out = File::create(&log).unwrap();
        let stdout = out.try_clone().unwrap();
        Self::start(name, cmd, stdout, out, log)
    }

    /// Starts `cmd` with stdout in `out` and stderr in `log`.
    pub fn spawn_split(name: &str, cmd: Command, out: &Path, log: PathBuf) -> Running {
        let stdout = File::create(out).unwrap();
        let stderr = File::create(&log).unwrap();
        Self::start(name, cmd, stdout, stderr, log)
    }

    fn start(name: &str, mut cmd: Command, stdout: File, stderr: File, log: PathBuf) -> Running {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Running {
            name: name.to_string(),
            child: Some(child),
            log,
        }
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its exit status, once it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().unwrap())
    }

    /// Polls `done` (given this process, to read its log) until it holds. Fails the test,
    /// with the log, when the process exits first or `timeout` passes.
    pub fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&Running) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while !done(self) {
            if let Some(exit) = self.exited() {
                panic!("{} exited ({exit}) before {what}", self.name);
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}"
            );
            std::thread::sleep(wait::PAUSE);
        }
    }

    /// Waits for it to end by itself; stops it and fails the test after `limit`.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let name = self.name.clone();
        let status = wait::poll(&format!("{name} to exit"), limit, || self.exited());
        self.child = None;
        status
    }

    /// SIGTERM (by its PID), and the exit status with how long it took to exit; stops it
    /// and fails the test when it is still running `limit` after the signal.
    pub fn stop(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let child = self.child.as_ref().expect("still running");
        super::cli::sigterm(child);
        let start = Instant::now();
        let name = self.name.clone();
        let status = wait::poll(&format!("{name} to stop after SIGTERM"), limit, || {
            self.exited()
        });
        self.child = None;
        (status, start.elapsed())
    }

    /// SIGTERM, then SIGKILL when it still runs 10 s later.
    fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let running = self.child.is_some();
        self.terminate();
        if running && std::thread::panicking() {
            eprintln!("--- {} log ---\n{}", self.name, self.log());
        }
    }
}
