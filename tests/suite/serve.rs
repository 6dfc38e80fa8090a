//! `paperpost serve` end to end, as a process: a fast schedule (every few seconds), the
//! recorded sources on a local HTTP server, a real SMTP server on loopback. Digests arrive,
//! the next ticks send nothing new, SIGTERM stops it cleanly with nothing left in `sending`.
use crate::support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use paperpost::domain::DeliveryState;
use paperpost::store::Store;
use support::TestServer;
use support::cli::{self, paperpost};
use support::net::{connect_from, is_closed, until_all_closed};
use support::newsletter::{Config, relay, smtp_delivery};
use support::operator::OperatorBrowser;
use support::process::Running;
use support::recorded::{feeds_toml, recorded_sources};
use support::smtp::SmtpServer;
use support::wait;

/// The recorded sources, a real SMTP server and a config for both in a temp folder.
struct Setup {
    sources: TestServer,
    smtp: SmtpServer,
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Setup {
    /// With `[schedule]` `schedule`, two SMTP connections and a 10 s SMTP timeout.
    async fn start(schedule: &str) -> Setup {
        Setup::start_with(None, schedule, "connections = 2", 10.0).await
    }

    /// The SMTP server runs `smtp_script`; `delivery` is the rest of `[delivery]`.
    async fn start_with(
        smtp_script: Option<serde_json::Value>,
        schedule: &str,
        delivery: &str,
        smtp_timeout: f64,
    ) -> Setup {
        let sources = recorded_sources().await;
        let smtp = SmtpServer::start(smtp_script);
        let dir = tempfile::tempdir().unwrap();
        let config = Config::new()
            .timezone("Europe/Berlin")
            .table("[fetch]\nbackoff_ms = 10\n")
            .table(&feeds_toml(&sources))
            .table(&smtp_delivery(&format!(
                "{delivery}\n{}",
                relay(None, smtp.port, smtp_timeout)
            )))
            .table(&format!("[schedule]\n{schedule}\n"))
            .write(dir.path());
        Setup {
            sources,
            smtp,
            dir,
            config,
        }
    }
}

/// A `/status` token as the old versions took it: `spawn_serve` still sets it, as an
/// upgraded installation may, and it opens nothing now.
const STATUS_TOKEN: &str = "status-token-of-the-serve-tests";

/// The operator the tests add with `paperpost operators add`, and the password.
const OPERATOR: (&str, &str) = ("ops", "the serve tests' operator password");

/// `paperpost operators add ops` with the password from the environment.
fn add_operator(config: &Path) {
    let (name, password) = OPERATOR;
    let out = cli::output(
        cli::command(
            config,
            &["operators", "add", name, "--password-env", "PP_OPS"],
        )
        .env("PP_OPS", password),
    );
    assert!(out.status.success());
}

/// A client that shows redirects instead of following them.
fn no_redirects(from: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `paperpost serve` (web server on a free port, scheduler beside it) with paperpost's info
/// in `dir/serve.log` and what it prints in `dir/serve.out`; stopped when dropped.
fn spawn_serve(config: &Path, dir: &Path) -> Serving {
    let mut cmd = cli::command(config, &["serve", "--bind", "127.0.0.1:0"]);
    cmd.env("RUST_LOG", "paperpost=info")
        .env("PAPERPOST_STATUS_TOKEN", STATUS_TOKEN);
    let out = dir.join("serve.out");
    Serving {
        process: Running::spawn_split("paperpost serve", cmd, &out, dir.join("serve.log")),
        out,
    }
}

/// A running `paperpost serve`: the process, and the file its stdout goes to.
struct Serving {
    process: Running,
    out: PathBuf,
}

impl Serving {
    /// The `http://127.0.0.1:port/` it printed, once it has.
    fn url(&self) -> String {
        wait::poll("the listening address", Duration::from_secs(30), || {
            std::fs::read_to_string(&self.out)
                .unwrap_or_default()
                .split_whitespace()
                .find(|w| w.starts_with("http://127.0.0.1:"))
                .map(str::to_string)
        })
    }
}

impl std::ops::Deref for Serving {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.process
    }
}

impl std::ops::DerefMut for Serving {
    fn deref_mut(&mut self) -> &mut Running {
        &mut self.process
    }
}

/// When the scheduler's last tick started (it is recorded as the tick ends).
fn last_tick(store: &Store) -> Option<chrono::DateTime<chrono::Utc>> {
    let t = store.meta(paperpost::pipeline::LAST_TICK).unwrap()?;
    Some(chrono::DateTime::parse_from_rfc3339(&t).unwrap().to_utc())
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_sends_each_digest_once_and_stops_cleanly_on_sigterm() {
    // Arrange: a schedule that fetches every 2 s and sends every 3 s.
    let Setup {
        sources,
        smtp,
        dir,
        config,
    } = Setup::start(
        "fetch = \"*/2 * * * * *\"\nsend = \"*/3 * * * * *\"\ndaily_send = \"*/3 * * * * *\"\ntick_secs = 1",
    )
    .await;
    for args in [
        &["subscribers", "add", "ada@example.org"][..],
        &[
            "subscribers",
            "add",
            "alan@example.org",
            "--topics",
            "agent, cat:cs.AI",
        ],
        // A daily reader at 09:00 in Tokyo: that time is always less than a day ago, so
        // the start-up catches their edition up (inside the 24 h grace window).
        &[
            "subscribers",
            "add",
            "grace@example.org",
            "--frequency",
            "daily",
            "--timezone",
            "Asia/Tokyo",
            "--hour",
            "9",
        ],
    ] {
        assert!(paperpost(&config, args).status.success());
    }

    add_operator(&config);

    // Act: start the service (web server on a free port, scheduler beside it).
    let mut serve = spawn_serve(&config, dir.path());

    // Assert: the three digests arrive…
    serve.wait_until("three digests", Duration::from_secs(60), |_| {
        smtp.log().len() >= 3
    });
    let mut to: Vec<String> = smtp.log().into_iter().flat_map(|(to, _)| to).collect();
    to.sort();
    assert_eq!(
        to,
        ["ada@example.org", "alan@example.org", "grace@example.org"]
    );
    // The web server answers from the same process.
    let url = serve.url();
    let health = reqwest::get(format!("{url}healthz")).await.unwrap();
    assert!(health.status().is_success());
    // The operator's status page: for the operator `operators add` made, signed in (the
    // site is https://papers.example.org/: its cookie is __Host- and Secure).
    let (name, password) = OPERATOR;
    let ops = OperatorBrowser::at(&url, [127, 0, 0, 1])
        .signed_in(name, password)
        .await;
    assert!(ops.cookie("__Host-paperpost_session").is_some());
    let status = ops.get("status").await;
    assert!(status.status().is_success());
    let page = status.text().await.unwrap();
    assert!(page.contains("fetch") && page.contains("weekly"), "{page}");
    for (path, why) in [
        ("status", "not signed in, even from loopback"),
        (
            &format!("status?token={STATUS_TOKEN}"),
            "the old token opens nothing",
        ),
    ] {
        let r = no_redirects([127, 0, 0, 1])
            .get(format!("{url}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{why}");
        assert_eq!(r.headers()["location"], "/login", "{why}");
    }
    assert!(
        serve.log().contains(
            "$PAPERPOST_STATUS_TOKEN is no longer read: /status needs an operator's sign-in"
        ),
        "the old variable is named, with what replaced it:\n{}",
        serve.log()
    );
    // …and later ticks (fetches every 2 s, sends every 3 s) send nothing new.
    let fetches = |log: &str| log.matches(" fetched ").count();
    let before = fetches(&serve.log());
    serve.wait_until("two more fetch ticks", Duration::from_secs(20), |s| {
        fetches(&s.log()) >= before + 2
    });
    // A tick that started after that one has ended it, sending included.
    let seen = chrono::Utc::now();
    let store = support::open_store(&config);
    serve.wait_until("the next tick to end", Duration::from_secs(20), |_| {
        last_tick(&store).is_some_and(|t| t > seen)
    });
    assert_eq!(smtp.log().len(), 3, "a later tick sent again");

    // SIGTERM: a clean exit, promptly.
    let (status, _) = serve.stop(Duration::from_secs(10));
    let log = serve.log();
    assert!(status.success(), "exit {status:?}:\n{log}");
    assert!(log.contains("scheduler stopped"), "{log}");
    assert!(!log.contains("ERROR"), "{log}");

    // Nothing left in `sending`, nothing outstanding.
    let store = support::open_store(&config);
    let counts = store.delivery_counts().unwrap();
    assert!(
        counts
            .iter()
            .flat_map(|e| &e.counts)
            .all(|(s, _)| *s != DeliveryState::Sending),
        "{counts:?}"
    );
    assert_eq!(store.outstanding_deliveries().unwrap(), 0);
    assert_eq!(
        counts.len(),
        2,
        "the week's edition and Grace's day: {counts:?}"
    );

    // `paperpost status` tells the story.
    let status = paperpost(&config, &["status"]);
    assert!(status.status.success());
    let text = String::from_utf8_lossy(&status.stdout);
    for expected in [
        "Next runs",
        "weekly digest",
        "daily digest",
        "hf: 29 papers",
        "sent 3, failed 0",
        "Delivery queue: 0 outstanding",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in:\n{text}");
    }
    sources.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_send_finishes_the_message_in_flight_and_leaves_the_rest_queued() {
    // The first reader's message gets no reply for 30 s (the client gives up after 3 s); one
    // connection, so the other readers wait in the queue behind it.
    let Setup {
        sources,
        smtp,
        dir,
        config,
    } = Setup::start_with(
        Some(serde_json::json!({"recipients": {"slow@example.org": ["slow"]}})),
        "fetch = \"*/2 * * * * *\"\nsend = \"*/3 * * * * *\"\ntick_secs = 1",
        "connections = 1\nmax_attempts = 1",
        3.0,
    )
    .await;
    for email in [
        "slow@example.org",
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ] {
        assert!(
            paperpost(&config, &["subscribers", "add", email])
                .status
                .success()
        );
    }
    let mut serve = spawn_serve(&config, dir.path());
    serve.wait_until(
        "the slow reader's message to be in flight",
        Duration::from_secs(60),
        |_| smtp.rcpt_attempts().iter().any(|r| r == "slow@example.org"),
    );

    let (status, took) = serve.stop(Duration::from_secs(15));

    let log = serve.log();
    assert!(status.success(), "exit {status:?}:\n{log}");
    assert!(
        took >= Duration::from_secs(1),
        "it waited for the message in flight"
    );
    let store = support::open_store(&config);
    let week = &store.editions(1).unwrap()[0].period_key;
    let states: Vec<DeliveryState> = [
        "slow@example.org",
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    .iter()
    .map(|e| store.delivery_state(week, e).unwrap().unwrap().state)
    .collect();
    eprintln!("states after SIGTERM: {states:?}");
    assert!(
        !states.contains(&DeliveryState::Sending),
        "{states:?}\n{log}"
    );
    assert_ne!(
        states[0],
        DeliveryState::Pending,
        "the message in flight got an outcome: {states:?}"
    );
    assert!(
        states[1..].iter().all(|s| *s == DeliveryState::Pending),
        "the queued ones go back untouched: {states:?}\n{log}"
    );
    assert!(smtp.log().is_empty());
    sources.stop().await;
}

/// Issue 19: two stored names no header can carry (written behind the CLI's back), met by
/// both connections of a scheduled run, used to kill both workers and hang the run until
/// SIGTERM. Now those two deliveries fail, naming the field, and everyone else is mailed.
#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_run_meeting_unusable_names_delivers_everyone_else_and_serve_stops_promptly() {
    let Setup {
        sources,
        smtp,
        dir,
        config,
    } = Setup::start("fetch = \"*/2 * * * * *\"\nsend = \"*/3 * * * * *\"\ntick_secs = 1").await;
    let emails = ["a", "b", "c", "d", "e", "f"].map(|r| format!("{r}@example.org"));
    for email in &emails {
        assert!(
            paperpost(&config, &["subscribers", "add", email])
                .status
                .success()
        );
    }
    for (email, name) in [
        ("a@example.org", "Mal\nlory"),
        ("b@example.org", "Eve\r\nBcc: x@example.net"),
    ] {
        let sql = format!("UPDATE subscribers SET name = '{name}' WHERE email = '{email}'");
        assert_eq!(support::execute_sql(&config, &sql), 1);
    }

    let mut serve = spawn_serve(&config, dir.path());

    serve.wait_until("the four other digests", Duration::from_secs(60), |_| {
        smtp.log().len() >= 4
    });
    let store = support::open_store(&config);
    let failed = |store: &Store| {
        let Some(edition) = store.editions(1).unwrap().into_iter().next() else {
            return 0;
        };
        emails[..2]
            .iter()
            .filter(|e| {
                store
                    .delivery_state(&edition.period_key, e)
                    .unwrap()
                    .is_some_and(|r| r.state == DeliveryState::Failed)
            })
            .count()
    };
    serve.wait_until("both bad rows to fail", Duration::from_secs(30), |_| {
        failed(&store) == 2
    });
    // SIGTERM: it stops within the limit (it used to hang in the run).
    let (status, _) = serve.stop(Duration::from_secs(10));
    let log = serve.log();
    assert!(status.success(), "exit {status:?}:\n{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(log.contains("the To header cannot be written"), "{log}");
    let mut to: Vec<String> = smtp.log().into_iter().flat_map(|(to, _)| to).collect();
    to.sort();
    assert_eq!(to, emails[2..]);
    assert_eq!(store.outstanding_deliveries().unwrap(), 0);
    sources.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_once_runs_one_tick_and_readers_times_round_trip_through_csv() {
    // Nothing is due at a time that never comes soon; only the first fetch runs.
    let Setup {
        sources,
        smtp,
        dir,
        config,
    } = Setup::start("send = \"0 8 29 2 *\"\ndaily_send = \"0 8 29 2 *\"").await;
    let csv = dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "email,name,topics,status,frequency,timezone,send_hour\n\
         ada@example.org,Ada,,active,daily,America/New_York,7\n\
         bob@example.org,,,active,weekly,,\n\
         eve@example.org,,,active,weekly,Mars/Olympus,\n\
         joe@example.org,,,active,weekly,,24\n",
    )
    .unwrap();
    let import = paperpost(&config, &["subscribers", "import", csv.to_str().unwrap()]);
    assert_eq!(import.status.code(), Some(1), "two bad rows");
    let err = String::from_utf8_lossy(&import.stderr);
    assert!(
        err.contains("in.csv:4:") && err.contains("Mars/Olympus"),
        "{err}"
    );
    assert!(err.contains("in.csv:5:") && err.contains("24"), "{err}");
    let export = paperpost(&config, &["subscribers", "export"]);
    let text = String::from_utf8_lossy(&export.stdout).to_string();
    assert_eq!(
        text,
        "email,name,topics,status,frequency,timezone,send_hour\n\
         ada@example.org,Ada,,active,daily,America/New_York,7\n\
         bob@example.org,,,active,weekly,,\n"
    );

    let once = paperpost(&config, &["serve", "--once"]);

    assert!(once.status.success());
    let out = String::from_utf8_lossy(&once.stdout);
    assert!(out.contains("hf") && out.contains("29 papers"), "{out}");
    assert!(out.contains("sent 0"), "{out}");
    assert!(smtp.log().is_empty());
    let status = String::from_utf8_lossy(&paperpost(&config, &["status"]).stdout).to_string();
    assert!(status.contains("1 reader, 1 at their own time"), "{status}");
    sources.stop().await;
}

#[test]
fn serve_and_status_explain_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[newsletter]\nbase_url = \"https://x.example.org/\"\nfrom = \"x <x@example.org>\"\n",
    )
    .unwrap();
    for cmd in ["serve", "status"] {
        let out = paperpost(&config, &[cmd, "--help"]);
        assert!(out.status.success(), "{cmd}");
        assert!(
            String::from_utf8_lossy(&out.stdout).lines().count() > 3,
            "{cmd} --help is too thin"
        );
    }
    let help = paperpost(&config, &["subscribers", "add", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--timezone") && help.contains("--hour"),
        "{help}"
    );
    // A bad schedule is refused at load, naming the key and line.
    std::fs::write(
        &config,
        "[newsletter]\nbase_url = \"https://x.example.org/\"\nfrom = \"x <x@example.org>\"\n[schedule]\nsend = \"0 8 * * FUNDAY\"\n",
    )
    .unwrap();
    let bad = paperpost(&config, &["check-config"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("config.toml:5: `schedule.send`"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_source_in_the_start_up_fetch_fails_alone_and_serve_keeps_serving() {
    // Arrange: the recorded feeds beside an endless body and a 60,000-deep feed.
    let sources = recorded_sources().await;
    let evil = support::hostile::HostileServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new()
        .table("[fetch]\nbackoff_ms = 10\n")
        .table(&feeds_toml(&sources))
        .table(&format!(
            "[[sources]]\nname = \"deep\"\nkind = \"arxiv_feed\"\nurl = \"{0}/deep-xml\"\ncategories = [\"cs.AI\"]\n\n\
             [[sources]]\nname = \"endless\"\nkind = \"hf_daily\"\nurl = \"{0}/endless-200\"\ndays = 1\nmax_body_bytes = 1048576\n",
            evil.base
        ))
        .write(dir.path());

    // Act: a fresh store, so serve's first tick catches the fetch up at once.
    let mut serve = spawn_serve(&config, dir.path());
    serve.wait_until("the start-up fetch", Duration::from_secs(60), |s| {
        s.log().contains(" fetched ")
    });

    // Assert: both hostile sources failed with their limits, the process lives on and
    // answers, and the good sources' papers are stored.
    let log = serve.log();
    assert!(serve.exited().is_none(), "serve died:\n{log}");
    assert!(log.contains("depth limit"), "{log}");
    assert!(
        log.contains("larger than the limit of 1048576 bytes"),
        "{log}"
    );
    let url = serve.url();
    let health = reqwest::get(format!("{url}healthz")).await.unwrap();
    assert!(health.status().is_success());
    let (status, _) = serve.stop(Duration::from_secs(10));
    assert!(status.success(), "exit {status:?}:\n{}", serve.log());
    let store = support::open_store(&config);
    assert!(store.paper_count().unwrap() > 0, "the good sources' papers");
    evil.stop();
    sources.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_applies_the_web_keys_timeouts_caps_and_loopback_status() {
    // Arrange: no sources, nothing due; short header timeout, two connections per IP,
    // and /status for plain loopback.
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new()
        .table("[schedule]\nfetch = \"\"\nsend = \"0 8 29 2 *\"\ndaily_send = \"0 8 29 2 *\"\n")
        .table(
            "[web]\nheader_timeout_secs = 3\nmax_connections_per_ip = 2\nstatus_loopback = true\n",
        )
        .write(dir.path());
    let mut serve = spawn_serve(&config, dir.path());
    let url = serve.url();
    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();

    // Act + assert: two idle connections from 127.0.0.5 are held, a third is closed at
    // once, and the two are closed after the header timeout.
    let (a, b) = (
        connect_from([127, 0, 0, 5], addr).await,
        connect_from([127, 0, 0, 5], addr).await,
    );
    let health = reqwest::get(format!("{url}healthz")).await.unwrap();
    assert_eq!(health.status(), 200, "{}", serve.log());
    // A third from one IP is closed at once…
    let third = connect_from([127, 0, 0, 5], addr).await;
    until_all_closed(vec![third], Duration::from_secs(15)).await;
    assert!(
        !is_closed(&a) && !is_closed(&b),
        "the cap closed the newcomer, not the first two"
    );
    // …and the idle ones time out.
    until_all_closed(vec![a, b], Duration::from_secs(15)).await;

    // /status: plain loopback yes; with a proxy's header, or from 127.0.0.2, the sign-in.
    let status = no_redirects([127, 0, 0, 1])
        .get(format!("{url}status"))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 200);
    let proxied = no_redirects([127, 0, 0, 1])
        .get(format!("{url}status"))
        .header("X-Real-IP", "127.0.0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 303, "no loopback access behind a proxy");
    let other = no_redirects([127, 0, 0, 2])
        .get(format!("{url}status"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 303, "127.0.0.2 is not loopback enough");

    let (status, _) = serve.stop(Duration::from_secs(10));
    assert!(status.success(), "{}", serve.log());
}
