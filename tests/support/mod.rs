//! A real HTTP server for tests: axum on 127.0.0.1:0, answering with a closure, recording
//! every request. Stopped (gracefully) by [`TestServer::stop`].
//!
//! Shared by the three test binaries (`tests/suite/`, `tests/single_pass/` and
//! `tests/sources_huge_input.rs`), each of which uses a part of it: what one of them leaves
//! unused is not dead (this covers the submodules too).
#![allow(dead_code)]
pub mod cli;
pub mod disk;
pub mod hostile;
pub mod logs;
pub mod net;
pub mod newsletter;
pub mod operator;
pub mod process;
pub mod recorded;
pub mod smtp;
pub mod wait;
pub mod web_app;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use paperpost::sources::{FetchOptions, Fetcher, user_agent};

#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
}

impl Seen {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Given the request and how many requests came before it, the answer.
pub type Responder = dyn Fn(&Seen, usize) -> Response + Send + Sync;

struct AppState {
    seen: Mutex<Vec<Seen>>,
    respond: Box<Responder>,
}

pub struct TestServer {
    pub base: String,
    state: Arc<AppState>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start(
        respond: impl Fn(&Seen, usize) -> Response + Send + Sync + 'static,
    ) -> TestServer {
        let state = Arc::new(AppState {
            seen: Mutex::new(Vec::new()),
            respond: Box::new(respond),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        TestServer {
            base: format!("http://{addr}"),
            state,
            stop,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("server stops")
            .unwrap();
    }
}

async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let query = url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let seen = Seen {
        path: req.uri().path().to_string(),
        query,
        headers: req.headers().clone(),
    };
    let n = {
        let mut all = state.seen.lock().unwrap();
        all.push(seen.clone());
        all.len() - 1
    };
    (state.respond)(&seen, n)
}

pub fn reply(status: u16, body: impl Into<String>) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .body(Body::from(body.into()))
        .unwrap()
}

pub fn reply_with(status: u16, headers: &[(&str, &str)], body: impl Into<String>) -> Response {
    let mut b = Response::builder().status(StatusCode::from_u16(status).unwrap());
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::from(body.into())).unwrap()
}

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> String {
    let path = fixture_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Opens the store the config file at `config` names (`[store] url` or `path`), as the
/// binary does: every test that reads a newsletter's state back goes through here, so it
/// runs on SQLite or PostgreSQL alike.
pub fn open_store(config: &Path) -> paperpost::store::Store {
    let settings = paperpost::config::Settings::load(config)
        .unwrap_or_else(|e| panic!("{}: {e}", config.display()));
    open_configured(&settings)
}

/// Opens the store `settings` names.
pub fn open_configured(settings: &paperpost::config::Settings) -> paperpost::store::Store {
    settings
        .store
        .open()
        .unwrap_or_else(|e| panic!("the store of the test's config: {e}"))
}

/// Runs one SQL statement (no parameters) on the store the config at `config` names, the
/// way another program with access to the database could, and returns how many rows it
/// changed: for tests that damage stored rows by hand. Write SQL both backends accept.
pub fn execute_sql(config: &Path, sql: &str) -> u64 {
    let settings = paperpost::config::Settings::load(config).unwrap();
    match settings.store.url {
        None => rusqlite::Connection::open(&settings.store.path)
            .unwrap()
            .execute(sql, [])
            .unwrap_or_else(|e| panic!("{sql}: {e}")) as u64,
        // On a thread of its own: the caller may be inside a tokio runtime (an async test),
        // where blocking on another runtime panics.
        Some(url) => std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                            .await
                            .unwrap();
                        let task = tokio::spawn(conn);
                        let n = client
                            .execute(sql, &[])
                            .await
                            .unwrap_or_else(|e| panic!("{sql}: {e}"));
                        drop(client);
                        let _ = task.await;
                        n
                    })
                })
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        }),
    }
}

/// The store of a test with no config file (the in-process web app): the SQLite file
/// `dir/file`, or on PostgreSQL (`PAPERPOST_TEST_BACKEND=postgres`) the folder's database.
pub fn store_in(dir: &Path, file: &str) -> paperpost::store::Store {
    let mut settings = paperpost::config::StoreSettings {
        path: dir.join(file),
        ..Default::default()
    };
    if on_postgres() {
        settings.url = Some(newsletter::database_for(dir));
        settings.tls = paperpost::store::PostgresTls::Disable;
    }
    settings
        .open()
        .unwrap_or_else(|e| panic!("the test's store: {e}"))
}

/// Whether this run's tests use PostgreSQL (`PAPERPOST_TEST_BACKEND=postgres`).
pub fn on_postgres() -> bool {
    paperpost::store::test_backend_is_postgres()
}

/// A fetcher with test timings: 2 retries, 10 ms backoff.
pub fn fetcher() -> Fetcher {
    Fetcher::new(options()).unwrap()
}

pub fn options() -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_secs(10),
        max_retries: 2,
        backoff_base: Duration::from_millis(10),
        max_wait: Duration::from_secs(5),
        ..FetchOptions::new(user_agent("https://paperpost.invalid/contact"))
    }
}

/// Parses `[[sources]]` TOML the way the config loader will.
pub fn sources(toml_text: &str) -> Vec<paperpost::sources::SourceConfig> {
    #[derive(serde::Deserialize)]
    struct Doc {
        sources: Vec<paperpost::sources::SourceConfig>,
    }
    let doc: Doc = toml::from_str(toml_text).unwrap();
    for s in &doc.sources {
        s.validate().unwrap();
    }
    doc.sources
}

/// The peak resident memory of this test process, in bytes (VmHWM from /proc).
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

/// A DSN addressed to the From address (no VERP), carrying only the returned headers: matched
/// by the Message-ID.
pub fn dsn_by_message_id(id: &str, reader: &str, status: &str, message_id: &str) -> String {
    format!(
        "From: MAILER-DAEMON@mx.example.net\r
To: digest@papers.example.org\r
Subject: Delivery Status Notification (Failure)\r
Message-ID: <{id}@mx.example.net>\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r
\r
--b\r
Content-Type: text/plain\r
\r
Your message could not be delivered.\r
--b\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.example.net\r
\r
Final-Recipient: rfc822; {reader}\r
Action: failed\r
Status: {status}\r
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full\r
\r
--b\r
Content-Type: text/rfc822-headers\r
\r
From: paperpost <digest@papers.example.org>\r
To: {reader}\r
Message-ID: {message_id}\r
\r
--b--\r
"
    )
}

/// A seeded RNG for tests that act at random moments: the seed comes from
/// `PAPERPOST_CRASH_SEED` or is drawn, and is printed so a failure can be replayed.
pub fn crash_rng() -> rand::rngs::StdRng {
    let seed: u64 = std::env::var("PAPERPOST_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash seed: {seed} (replay with PAPERPOST_CRASH_SEED={seed})");
    <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed)
}
