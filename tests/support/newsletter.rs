//! A newsletter in a temp folder, driven through the real binary: a config whose only source
//! is a recorded HF Daily Papers file, subscribers imported from CSV, `paperpost send` run
//! as a scheduler would (again until nothing is due, on a clock moved to each retry). State
//! is read back through `Store`.
//! Also the config builder every test's config file starts from.
//!
//! The store: an SQLite file beside the config, or, when `PAPERPOST_TEST_BACKEND=postgres`
//! (or the test asks with [`Config::on_postgres`] / [`Newsletter::on_postgres`]), a fresh
//! database on the test process's throwaway PostgreSQL server. Tests open it with
//! [`super::open_store`], which opens whatever the config names.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use chrono::{DateTime, Utc};
use paperpost::config::Settings;
use paperpost::domain::{DeliveryRow, DeliveryState, Frequency, Period};
use paperpost::pipeline::{self, PlanSummary};
use paperpost::store::Store;

use super::cli;
use super::fixture_path;

pub struct Newsletter {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    /// `[newsletter]` and `[store]`: what [`Newsletter::write_config`] keeps.
    base: Config,
    /// How far this newsletter's clock (what [`Newsletter::send_until_done`] tells `send`)
    /// is ahead of real time. It only grows, so its time never goes back.
    ahead: std::sync::Mutex<chrono::TimeDelta>,
}

/// A config file's text, table by table: `[newsletter]` and `[store]` (`pp.sqlite3` beside
/// the config, plus the `url` of a PostgreSQL database when the tests run on PostgreSQL)
/// first, then the tables a test adds, in the order it adds them.
#[derive(Debug, Clone)]
pub struct Config {
    newsletter: String,
    store: StoreChoice,
    tables: String,
}

/// Which store a [`Config`] names.
#[derive(Debug, Clone)]
enum StoreChoice {
    /// What `PAPERPOST_TEST_BACKEND` says: SQLite, or on PostgreSQL the database of the
    /// folder the config is written to (one per folder, so a rewritten config keeps it).
    FromEnv,
    Sqlite,
    /// These `[store]` keys (a PostgreSQL `url` and `tls`).
    Postgres(String),
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Config {
    /// The test newsletter: "paperpost test" at `https://papers.example.org/`.
    pub fn new() -> Config {
        Config::for_newsletter(
            "paperpost test",
            "https://papers.example.org/",
            "paperpost <digest@papers.example.org>",
        )
    }

    /// A newsletter with this name, public address and sender.
    pub fn for_newsletter(name: &str, base_url: &str, from: &str) -> Config {
        Config {
            newsletter: format!(
                "name = \"{name}\"\nbase_url = \"{base_url}\"\nfrom = \"{from}\"\n"
            ),
            store: StoreChoice::FromEnv,
            tables: String::new(),
        }
    }

    /// The store is a fresh PostgreSQL database whatever `PAPERPOST_TEST_BACKEND` says
    /// (for tests of several processes sharing one store).
    pub fn on_postgres(mut self) -> Config {
        self.store = StoreChoice::Postgres(postgres_keys(&fresh_database()));
        self
    }

    /// `[store]` keys of the test's own after `path` (a PostgreSQL `url` and the rest).
    pub fn store_keys(mut self, keys: &str) -> Config {
        self.store = StoreChoice::Postgres(keys.to_string());
        self
    }

    /// The store is the SQLite file `pp.sqlite3` whatever `PAPERPOST_TEST_BACKEND` says
    /// (for tests about SQLite itself).
    pub fn on_sqlite(mut self) -> Config {
        self.store = StoreChoice::Sqlite;
        self
    }

    /// Whether the store is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        match self.store {
            StoreChoice::FromEnv => paperpost::store::test_backend_is_postgres(),
            StoreChoice::Sqlite => false,
            StoreChoice::Postgres(_) => true,
        }
    }

    /// The newsletter's time zone (`[newsletter] timezone`).
    pub fn timezone(mut self, tz: &str) -> Config {
        self.newsletter.push_str(&format!("timezone = \"{tz}\"\n"));
        self
    }

    /// Appends TOML: whole tables (`[fetch]`, `[[sources]]`, `[delivery]`…), after a blank line.
    pub fn table(mut self, toml: &str) -> Config {
        self.tables.push('\n');
        self.tables.push_str(toml);
        if !toml.ends_with('\n') {
            self.tables.push('\n');
        }
        self
    }

    /// The config's text; on PostgreSQL by the env, its store is a fresh database (use
    /// [`Config::write`] to keep a folder's database across rewrites).
    pub fn text(&self) -> String {
        let store = match &self.store {
            StoreChoice::FromEnv => store_keys_for(None),
            StoreChoice::Sqlite => String::new(),
            StoreChoice::Postgres(keys) => keys.clone(),
        };
        self.text_with(&store)
    }

    fn text_with(&self, store: &str) -> String {
        format!(
            "[newsletter]\n{}\n[store]\npath = \"pp.sqlite3\"\n{store}{}",
            self.newsletter, self.tables
        )
    }

    /// Writes `config.toml` in `dir`; its path. Writing again in the same folder keeps
    /// its store.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("config.toml");
        let text = match &self.store {
            StoreChoice::FromEnv => self.text_with(&store_keys_for(Some(dir))),
            _ => self.text(),
        };
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// The `[store]` keys beyond `path` a config written in `dir` gets: none on SQLite; on
/// PostgreSQL (`PAPERPOST_TEST_BACKEND=postgres`) the `url` of the folder's own database
/// (the same one for every config written there), or of a fresh one for no folder. For
/// tests whose config is not built here (`paperpost init`'s): add these after `[store]`.
pub fn store_keys_for(dir: Option<&Path>) -> String {
    if !paperpost::store::test_backend_is_postgres() {
        return String::new();
    }
    postgres_keys(&match dir {
        None => fresh_database(),
        Some(dir) => database_for(dir),
    })
}

/// The URL of the PostgreSQL database of the test folder `dir`, created on first use.
pub fn database_for(dir: &Path) -> String {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static BY_DIR: LazyLock<Mutex<HashMap<PathBuf, String>>> = LazyLock::new(Default::default);
    BY_DIR
        .lock()
        .unwrap()
        .entry(dir.to_path_buf())
        .or_insert_with(fresh_database)
        .clone()
}

/// A fresh database on the test PostgreSQL server (started on first use, stopped when the
/// test process exits).
pub fn fresh_database() -> String {
    paperpost::store::test_server::shared()
        .and_then(|s| s.fresh_database("t"))
        .unwrap_or_else(|e| panic!("a PostgreSQL database for the test: {e:#}"))
}

fn postgres_keys(url: &str) -> String {
    format!("url = \"{url}\"\ntls = \"disable\"\n")
}

/// A `[[sources]]` table reading the fixture file `papers`.
pub fn file_source(name: &str, papers: &str) -> String {
    format!(
        "[[sources]]\nname = \"{name}\"\nkind = \"file\"\npath = \"{}\"\n",
        fixture_path(papers).display()
    )
}

/// `[delivery]` over SMTP: `body` is the rest of the table followed by any
/// `[[delivery.relays]]` and `[delivery.dkim]` tables.
pub fn smtp_delivery(body: &str) -> String {
    format!("[delivery]\ntransport = \"smtp\"\n{body}\n")
}

/// A `[[delivery.relays]]` table for a plain-text relay on loopback, named or not.
pub fn relay(name: Option<&str>, port: u16, timeout_secs: f64) -> String {
    let name = name.map_or(String::new(), |n| format!("name = \"{n}\"\n"));
    format!(
        "\n[[delivery.relays]]\n{name}host = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout_secs = {timeout_secs}\n"
    )
}

/// `n` reader addresses, `reader00000@example.org` on.
pub fn readers(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("reader{i:05}@example.org"))
        .collect()
}

/// The rest of `[delivery]` for the crash and full-disk runs: `connections` sessions to the
/// relay on `port`, 2 s leases (a dead run's rows are taken over soon), retries after 0.2 s.
pub fn short_leases(connections: usize, port: u16) -> String {
    format!(
        "connections = {connections}\nlease_secs = 2\nretry_base_secs = 0.2\n{}",
        relay(Some("local"), port, 5.0)
    )
}

/// A port with nothing listening on it (bound by the OS, then closed): for a relay that is
/// down, or for a server to bind next.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Newsletter {
    /// `delivery` is the body of `[delivery]` followed by any `[[delivery.relays]]` and
    /// `[delivery.dkim]` tables. Papers come from `papers` (a fixture file name).
    pub fn new(delivery: &str) -> Newsletter {
        Self::with_papers("hf_daily_papers_2024-10-25_full.json", 3, delivery)
    }

    pub fn with_papers(papers: &str, max_papers: usize, delivery: &str) -> Newsletter {
        Self::with_papers_in(&std::env::temp_dir(), papers, max_papers, delivery)
    }

    /// [`Newsletter::with_papers`] in a fresh folder under `parent` (a small file system).
    pub fn with_papers_in(
        parent: &Path,
        papers: &str,
        max_papers: usize,
        delivery: &str,
    ) -> Newsletter {
        let n = Newsletter::empty_in(parent, Config::new());
        n.write_config(papers, max_papers, delivery);
        n
    }

    /// [`Newsletter::new`] on a fresh PostgreSQL database whatever `PAPERPOST_TEST_BACKEND`
    /// says: for tests of several senders or servers sharing one store. `store()` opens it.
    pub fn on_postgres(delivery: &str) -> Newsletter {
        let n = Newsletter::empty_in(&std::env::temp_dir(), Config::new().on_postgres());
        n.write_config("hf_daily_papers_2024-10-25_full.json", 3, delivery);
        n
    }

    /// A newsletter whose config is `config` exactly, written in a fresh folder (use
    /// `Config::new().on_postgres()` for PostgreSQL whatever the env). A later
    /// [`Newsletter::write_config`] keeps its `[newsletter]` and `[store]`.
    pub fn from_config(config: Config) -> Newsletter {
        let n = Newsletter::empty_in(&std::env::temp_dir(), config.clone());
        config.write(n.dir.path());
        n
    }

    fn empty_in(parent: &Path, config: Config) -> Newsletter {
        let dir = tempfile::tempdir_in(parent).unwrap();
        Newsletter {
            config: dir.path().join("config.toml"),
            dir,
            base: Config {
                tables: String::new(),
                ..config
            },
            ahead: Default::default(),
        }
    }

    /// Whether the store is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.base.is_postgres()
    }

    /// Rewrites the config (e.g. to fetch another file for a later edition), same store.
    pub fn write_config(&self, papers: &str, max_papers: usize, delivery: &str) {
        let config = self
            .base
            .clone()
            .table(&file_source("papers", papers))
            .table(&format!("[selection]\nmax_papers = {max_papers}\n"))
            .table(&smtp_delivery(delivery));
        config.write(self.dir.path());
    }

    pub fn command(&self, args: &[&str]) -> Command {
        cli::command(&self.config, args)
    }

    /// Runs a command to its end, echoing what it printed (shown when a test fails).
    pub fn run(&self, args: &[&str]) -> Output {
        cli::paperpost(&self.config, args)
    }

    /// Runs a command that must succeed (the test fails with its stderr otherwise); what
    /// it printed.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts a command without waiting (for signals).
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The store the config names (the same PostgreSQL database for every call).
    pub fn store(&self) -> Store {
        super::open_store(&self.config)
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

    /// The time on this newsletter's clock: real time, moved ahead to each retry or lease
    /// expiry that [`Newsletter::send_until_done`] did not wait for.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.ahead.lock().unwrap()
    }

    /// Moves the clock to `t`, unless it reads `t` or later already.
    fn move_clock_to(&self, t: DateTime<Utc>) {
        let mut ahead = self.ahead.lock().unwrap();
        *ahead = (*ahead).max(t - Utc::now());
    }

    /// Runs `send` again and again, as a scheduler would, until nothing is outstanding.
    /// Nothing sleeps in between: the clock moves to the next retry or lease expiry, and
    /// each run is told the time (the hidden `send --now`). Returns every run.
    pub fn send_until_done(&self, max_runs: usize) -> Vec<Output> {
        let store = self.store();
        let mut runs = Vec::new();
        for _ in 0..max_runs {
            runs.push(self.run(&["send", "--now", &self.now().to_rfc3339()]));
            if store.outstanding_deliveries().unwrap() == 0 {
                return runs;
            }
            let retry = store.next_retry_at().unwrap();
            let (_, lease_ends) = store.leased_elsewhere("", self.now()).unwrap();
            if let Some(due) = retry.into_iter().chain(lease_ends).min() {
                self.move_clock_to(due);
            }
        }
        panic!("deliveries still outstanding after {max_runs} sends");
    }

    /// Plans the weekly edition of the week `now` falls in (on this newsletter's clock) as
    /// a scheduler would, without sending it.
    pub fn plan_weekly(&self) -> PlanSummary {
        let now = self.now();
        let settings = Settings::load(&self.config).unwrap();
        self.plan(pipeline::period_for(
            &settings.newsletter_options(),
            Frequency::Weekly,
            now,
        ))
    }

    /// Plans the weekly edition of `period` (at this newsletter's time), without sending it.
    pub fn plan(&self, period: Period) -> PlanSummary {
        let settings = Settings::load(&self.config).unwrap();
        let store = self.store();
        let plan = pipeline::plan_edition(
            &settings.plan_settings(),
            &store,
            period,
            Frequency::Weekly,
            None,
            false,
            self.now(),
        );
        plan.unwrap()
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
