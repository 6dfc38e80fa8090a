//! `paperpost serve` end to end, as a process: a fast schedule (every few seconds), the
//! recorded sources on a local HTTP server, a real SMTP server on loopback. Digests arrive,
//! the next ticks send nothing new, SIGTERM stops it cleanly with nothing left in `sending`.
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use paperpost::domain::DeliveryState;
use paperpost::store::Store;
use support::TestServer;
use support::cli::{self, paperpost};
use support::newsletter::{Config, relay, smtp_delivery};
use support::recorded::{feeds_toml, recorded_sources};
use support::smtp::SmtpServer;

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

/// The `/status` token `spawn_serve` gives the server.
const STATUS_TOKEN: &str = "status-token-of-the-serve-tests";

/// `paperpost serve` (web server on a free port, scheduler beside it), logging paperpost's
/// info to `log`.
fn spawn_serve(config: &Path, stdout: Stdio, log: &Path) -> Child {
    cli::command(config, &["serve", "--bind", "127.0.0.1:0"])
        .env("RUST_LOG", "paperpost=info")
        .env("PAPERPOST_STATUS_TOKEN", STATUS_TOKEN)
        .stdout(stdout)
        .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
        .spawn()
        .unwrap()
}

/// Sends SIGTERM and waits for the exit; kills `child` and fails the test (with `log()`)
/// when it has not exited `limit` after the signal. The exit status and the time it took.
fn stop_with_sigterm(
    child: &mut Child,
    limit: Duration,
    log: impl Fn() -> String,
) -> (ExitStatus, Duration) {
    cli::sigterm(child);
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("serve did not stop within {limit:?} of SIGTERM:\n{}", log());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
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
    let log_path = dir.path().join("serve.log");
    let out_path = dir.path().join("serve.out");

    // Act: start the service (web server on a free port, scheduler beside it).
    let mut child = spawn_serve(
        &config,
        Stdio::from(std::fs::File::create(&out_path).unwrap()),
        &log_path,
    );
    let server_log = || std::fs::read_to_string(&log_path).unwrap_or_default();

    // Assert: the three digests arrive…
    let arrived = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until("three digests", Duration::from_secs(60), || {
            smtp.log().len() >= 3
        })
    }));
    if arrived.is_err() {
        let _ = child.kill();
        panic!("no digests; serve said:\n{}", server_log());
    }
    let mut to: Vec<String> = smtp.log().into_iter().flat_map(|(to, _)| to).collect();
    to.sort();
    assert_eq!(
        to,
        ["ada@example.org", "alan@example.org", "grace@example.org"]
    );
    // The web server answers from the same process.
    let listening = std::fs::read_to_string(&out_path).unwrap();
    let url = listening
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {listening:?}"))
        .to_string();
    let health = reqwest::get(format!("{url}healthz")).await.unwrap();
    assert!(health.status().is_success());
    // The operator's status page: with its token only (no loopback by default).
    let status = reqwest::get(format!("{url}status?token={STATUS_TOKEN}"))
        .await
        .unwrap();
    assert!(status.status().is_success());
    let page = status.text().await.unwrap();
    assert!(page.contains("fetch") && page.contains("weekly"), "{page}");
    for (path, why) in [
        ("status", "no token, even from loopback"),
        ("status?token=0123456789abcdef0123", "a wrong token"),
    ] {
        let r = reqwest::get(format!("{url}{path}")).await.unwrap();
        assert_eq!(r.status(), 404, "{why}");
    }
    // …and later ticks (fetches every 2 s, sends every 3 s) send nothing new.
    let fetches = |log: &str| log.matches(" fetched ").count();
    let before = fetches(&server_log());
    wait_until("two more fetch ticks", Duration::from_secs(20), || {
        fetches(&server_log()) >= before + 2
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        smtp.log().len(),
        3,
        "a later tick sent again:\n{}",
        server_log()
    );

    // SIGTERM: a clean exit, promptly.
    let (status, _) = stop_with_sigterm(&mut child, Duration::from_secs(10), server_log);
    let log = server_log();
    assert!(status.success(), "exit {status:?}:\n{log}");
    assert!(log.contains("scheduler stopped"), "{log}");
    assert!(!log.contains("ERROR"), "{log}");

    // Nothing left in `sending`, nothing outstanding.
    let store = Store::open(&dir.path().join("pp.sqlite3")).unwrap();
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
    let log_path = dir.path().join("serve.log");
    let mut child = spawn_serve(&config, Stdio::null(), &log_path);
    let server_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    wait_until("the edition to be planned", Duration::from_secs(60), || {
        server_log().contains("planned the weekly edition")
    });
    std::thread::sleep(Duration::from_millis(500));

    let (status, took) = stop_with_sigterm(&mut child, Duration::from_secs(15), server_log);

    let log = server_log();
    assert!(status.success(), "exit {status:?}:\n{log}");
    assert!(
        took >= Duration::from_secs(1),
        "it waited for the message in flight"
    );
    let store = Store::open(&dir.path().join("pp.sqlite3")).unwrap();
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
    let log_path = dir.path().join("serve.log");
    let out_path = dir.path().join("serve.out");

    // Act: a fresh store, so serve's first tick catches the fetch up at once.
    let mut child = spawn_serve(
        &config,
        Stdio::from(std::fs::File::create(&out_path).unwrap()),
        &log_path,
    );
    let server_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let fetched = std::panic::catch_unwind(|| {
        wait_until("the start-up fetch", Duration::from_secs(60), || {
            server_log().contains(" fetched ")
        })
    });
    if fetched.is_err() {
        let _ = child.kill();
        panic!("no fetch; serve said:\n{}", server_log());
    }

    // Assert: both hostile sources failed with their limits, the process lives on and
    // answers, and the good sources' papers are stored.
    let log = server_log();
    assert!(child.try_wait().unwrap().is_none(), "serve died:\n{log}");
    assert!(log.contains("depth limit"), "{log}");
    assert!(
        log.contains("larger than the limit of 1048576 bytes"),
        "{log}"
    );
    let listening = std::fs::read_to_string(&out_path).unwrap();
    let url = listening
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {listening:?}"))
        .to_string();
    let health = reqwest::get(format!("{url}healthz")).await.unwrap();
    assert!(health.status().is_success());
    let (status, _) = stop_with_sigterm(&mut child, Duration::from_secs(10), server_log);
    assert!(status.success(), "exit {status:?}:\n{}", server_log());
    let store = Store::open(&dir.path().join("pp.sqlite3")).unwrap();
    assert!(store.paper_count().unwrap() > 0, "the good sources' papers");
    evil.stop();
    sources.stop().await;
}

/// The `http://127.0.0.1:port/` a `serve` printed to `out`, once it has.
fn served_url(out: &Path) -> String {
    let mut url = None;
    wait_until("the listening address", Duration::from_secs(30), || {
        url = std::fs::read_to_string(out)
            .unwrap_or_default()
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .map(str::to_string);
        url.is_some()
    });
    url.unwrap()
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
    let (out, log) = (dir.path().join("serve.out"), dir.path().join("serve.log"));
    let mut child = spawn_serve(
        &config,
        Stdio::from(std::fs::File::create(&out).unwrap()),
        &log,
    );
    let server_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let url = served_url(&out);
    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();

    // Act + assert: two idle connections from 127.0.0.5 are held, a third is closed at
    // once, and the two are closed after the header timeout.
    let from = |last: u8| async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(([127, 0, 0, last], 0).into()).unwrap();
        socket.connect(addr).await.unwrap()
    };
    let closed = |mut s: tokio::net::TcpStream| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 64];
        tokio::time::timeout(Duration::from_secs(15), s.read(&mut buf))
            .await
            .is_ok_and(|r| r.map_or(true, |n| n == 0))
    };
    let (a, b) = (from(5).await, from(5).await);
    let health = reqwest::get(format!("{url}healthz")).await.unwrap();
    assert_eq!(health.status(), 200, "{}", server_log());
    assert!(closed(from(5).await).await, "a third from one IP is closed");
    let open = |s: &tokio::net::TcpStream| matches!(s.try_read(&mut [0u8; 8]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    assert!(
        open(&a) && open(&b),
        "the cap closed the newcomer, not the first two"
    );
    assert!(closed(a).await && closed(b).await, "idle ones time out");

    // /status: plain loopback yes; with a proxy's header, or from 127.0.0.2, no.
    let status = reqwest::get(format!("{url}status")).await.unwrap();
    assert_eq!(status.status(), 200);
    let proxied = reqwest::Client::new()
        .get(format!("{url}status"))
        .header("X-Real-IP", "127.0.0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 404, "status is not public behind a proxy");
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap()
        .get(format!("{url}status"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404, "127.0.0.2 is not loopback enough");

    let (status, _) = stop_with_sigterm(&mut child, Duration::from_secs(10), server_log);
    assert!(status.success(), "{}", server_log());
}
