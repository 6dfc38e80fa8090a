//! A real SMTP server on loopback for tests: `tests/support/smtp_server.py` (aiosmtpd),
//! started per test on a port the OS picks, optionally scripted to fail per recipient, and
//! killed (by its PID) when dropped.
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct SmtpServer {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

/// One received message, parsed back with mail-parser (an independent parser).
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

impl SmtpServer {
    pub fn start(script: Option<serde_json::Value>) -> SmtpServer {
        Self::start_with(script, true)
    }

    /// `save = false` only logs recipients and Message-IDs (for big runs).
    pub fn start_with(script: Option<serde_json::Value>, save: bool) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py"))
            .arg("--out")
            .arg(dir.path().join("mail"));
        if let Some(s) = script {
            let p = dir.path().join("script.json");
            std::fs::write(&p, s.to_string()).unwrap();
            cmd.arg("--script").arg(p);
        }
        if !save {
            cmd.arg("--no-save");
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with aiosmtpd (tests/run.sh installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| {
                panic!("SMTP test server did not start (is aiosmtpd installed?): {line:?}")
            })
            .parse()
            .unwrap();
        SmtpServer { port, dir, child }
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// The entries of the server's JSON-lines log `name`, in order (none before it exists).
    fn entries(&self, name: &str) -> Vec<serde_json::Value> {
        let Ok(text) = std::fs::read_to_string(self.mail_dir().join(name)) else {
            return Vec::new();
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// (recipients, Message-ID) of every accepted message, in order.
    pub fn log(&self) -> Vec<(Vec<String>, Option<String>)> {
        self.entries("log.jsonl")
            .iter()
            .map(|v| (recipients(v), v["message_id"].as_str().map(str::to_string)))
            .collect()
    }

    /// Every RCPT TO the server saw (accepted or refused), in order.
    pub fn rcpt_attempts(&self) -> Vec<String> {
        self.entries("rcpt.jsonl")
            .iter()
            .map(|v| v["rcpt"].as_str().unwrap().to_string())
            .collect()
    }

    /// The most SMTP sessions that were open at once so far.
    pub fn max_concurrent_sessions(&self) -> u64 {
        std::fs::read_to_string(self.mail_dir().join("sessions.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["max_open"].as_u64())
            .unwrap_or(0)
    }

    /// How many accepted messages went to `addr`.
    pub fn received_by(&self, addr: &str) -> usize {
        self.log()
            .iter()
            .filter(|(to, _)| to.iter().any(|t| t.eq_ignore_ascii_case(addr)))
            .count()
    }

    /// How many accepted messages went to each recipient.
    pub fn received_counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for (to, _) in self.log() {
            for t in to {
                *counts.entry(t).or_default() += 1;
            }
        }
        counts
    }

    /// Asserts that each of `readers`, and nobody else, got at least one message; how many
    /// more than one each arrived in all (the duplicates).
    pub fn assert_each_received(&self, readers: &[String]) -> usize {
        let received = self.received_counts();
        let missing: Vec<&String> = readers
            .iter()
            .filter(|r| !received.contains_key(*r))
            .collect();
        assert!(missing.is_empty(), "never received: {missing:?}");
        assert_eq!(received.len(), readers.len(), "only our readers got mail");
        let duplicates = received.values().map(|c| c - 1).sum();
        eprintln!("duplicates: {duplicates}");
        duplicates
    }

    /// The raw bytes of the first message received for `to`; fails the test when none was.
    pub fn message_to(&self, to: &str) -> Vec<u8> {
        self.messages()
            .into_iter()
            .find(|m| m.to.iter().any(|t| t == to))
            .unwrap_or_else(|| panic!("no mail to {to}"))
            .raw
    }

    pub fn messages(&self) -> Vec<Received> {
        self.entries("log.jsonl")
            .iter()
            .map(|v| {
                let file = v["file"].as_str().expect("saved message");
                Received {
                    to: recipients(v),
                    raw: std::fs::read(self.mail_dir().join(file)).unwrap(),
                }
            })
            .collect()
    }
}

/// The `to` addresses of a log entry.
fn recipients(entry: &serde_json::Value) -> Vec<String> {
    entry["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
