//! A newsletter in a temp folder, driven through the real binary: a config whose only source
//! is a recorded HF Daily Papers file, subscribers imported from CSV, `paperpost send` run
//! as a scheduler would (again until nothing is due). State is read back through `Store`.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use paperpost::store::{DeliveryRow, DeliveryState, Store};

pub struct Newsletter {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

/// A `[[delivery.relays]]` table for a plain-text relay on loopback.
pub fn relay(name: &str, port: u16, timeout_secs: f64) -> String {
    format!(
        "\n[[delivery.relays]]\nname = \"{name}\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout_secs = {timeout_secs}\n"
    )
}

/// A port with nothing listening on it (bound by the OS, then closed).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

impl Newsletter {
    /// `delivery` is the body of `[delivery]` followed by any `[[delivery.relays]]` and
    /// `[delivery.dkim]` tables. Papers come from `papers` (a fixture file name).
    pub fn new(delivery: &str) -> Newsletter {
        Self::with_papers("hf_daily_papers_2024-10-25_full.json", 3, delivery)
    }

    pub fn with_papers(papers: &str, max_papers: usize, delivery: &str) -> Newsletter {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        let n = Newsletter { dir, config };
        n.write_config(papers, max_papers, delivery);
        n
    }

    /// Rewrites the config (e.g. to fetch another file for a later edition).
    pub fn write_config(&self, papers: &str, max_papers: usize, delivery: &str) {
        let text = format!(
            r#"[newsletter]
name = "paperpost test"
base_url = "https://papers.example.org/"
from = "paperpost <digest@papers.example.org>"

[store]
path = "pp.sqlite3"

[[sources]]
name = "papers"
kind = "file"
path = "{papers}"

[selection]
max_papers = {max_papers}

[delivery]
transport = "smtp"
{delivery}
"#,
            papers = fixture_path(papers).display()
        );
        std::fs::write(&self.config, text).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paperpost"));
        cmd.arg("--config")
            .arg(&self.config)
            .args(args)
            .env("RUST_LOG", "paperpost=warn");
        cmd
    }

    /// Runs a command to its end, echoing what it printed (shown when a test fails).
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        eprintln!(
            "$ paperpost {} → {}\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts a command without waiting (for signals).
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    pub fn store(&self) -> Store {
        Store::open(&self.dir.path().join("pp.sqlite3")).unwrap()
    }

    /// Fetches the papers and imports `emails` as active weekly subscribers with no topics
    /// (each gets the trending digest).
    pub fn fetch_and_import(&self, emails: &[String]) {
        let fetch = self.run(&["fetch"]);
        assert!(fetch.status.success(), "fetch failed");
        self.import(emails);
    }

    pub fn import(&self, emails: &[String]) {
        let mut csv = String::from("email,name,topics,status,frequency\n");
        for e in emails {
            csv.push_str(&format!("{e},,,active,weekly\n"));
        }
        let path = self.dir.path().join("subscribers.csv");
        std::fs::write(&path, csv).unwrap();
        let out = self
            .command(&["subscribers", "import", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `send` again and again, as a scheduler would, until nothing is outstanding
    /// (waiting for the next retry or an expired lease in between). Returns every run.
    pub fn send_until_done(&self, max_runs: usize) -> Vec<Output> {
        let store = self.store();
        let mut runs = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for _ in 0..max_runs {
            runs.push(self.run(&["send"]));
            if store.outstanding_deliveries().unwrap() == 0 {
                return runs;
            }
            assert!(Instant::now() < deadline, "deliveries still outstanding");
            let wait = store
                .next_retry_at()
                .unwrap()
                .map(|t| (t - chrono::Utc::now()).to_std().unwrap_or_default())
                .unwrap_or(Duration::from_millis(500));
            std::thread::sleep(wait.min(Duration::from_secs(3)) + Duration::from_millis(50));
        }
        panic!("deliveries still outstanding after {max_runs} sends");
    }

    /// The newest edition's key.
    pub fn edition(&self) -> String {
        self.store().delivery_counts().unwrap()[0]
            .period_key
            .clone()
    }

    pub fn row(&self, email: &str) -> DeliveryRow {
        self.store()
            .delivery_state(&self.edition(), email)
            .unwrap()
            .unwrap_or_else(|| panic!("no delivery for {email}"))
    }

    pub fn rows_in(&self, state: DeliveryState) -> usize {
        self.store()
            .delivery_rows(&self.edition())
            .unwrap()
            .iter()
            .filter(|r| r.state == state)
            .count()
    }
}
