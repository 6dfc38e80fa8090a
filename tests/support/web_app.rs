//! The web app under test, in process: the real router on a free loopback port over a
//! temporary SQLite file (or PostgreSQL database, `PAPERPOST_TEST_BACKEND=postgres`) seeded with five papers and a public edition, the file transport as
//! outbox (mails parsed back with mail-parser), and a clock the tests move.
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use paperpost::delivery::{MessageSettings, Transport};
use paperpost::domain::NewSubscriber;
use paperpost::domain::{Paper, PaperId, PickRef, SubscriberEmail, Topics};
use paperpost::render::sample_digest;
use paperpost::store::Store;
use paperpost::web::{AppState, Mailer, WebSettings, run};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

pub const FORM: &str = "application/x-www-form-urlencoded";

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Store,
    pub mailer: Mailer,
    pub outbox: tempfile::TempDir,
    pub clock: Arc<Mutex<DateTime<Utc>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub _db: tempfile::TempDir,
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
}

pub async fn spawn_with(settings: WebSettings) -> TestApp {
    spawn_configured(settings, |_| {}).await
}

/// The app with `settings`, after `configure` had its say on the state.
pub async fn spawn_configured(
    settings: WebSettings,
    configure: impl FnOnce(&mut AppState),
) -> TestApp {
    let db = tempfile::tempdir().unwrap();
    let store = super::store_in(db.path(), "paperpost.db");
    seed(&store);
    spawn_on(store, db, settings, configure).await
}

/// The app over an existing `store` (its folder `db` is kept as long as the app), with
/// `settings`, after `configure` had its say on the state: for tests that drive the same
/// store through the binary too.
pub async fn spawn_on(
    store: Store,
    db: tempfile::TempDir,
    settings: WebSettings,
    configure: impl FnOnce(&mut AppState),
) -> TestApp {
    let outbox = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let message = MessageSettings {
        from: "paperpost <digest@example.org>".parse().unwrap(),
        reply_to: None,
        list_id: "weekly.papers.example.org".into(),
        list_name: "paperpost".into(),
        message_id_domain: "example.org".into(),
    };
    let mut state = AppState::new(
        store.clone(),
        url::Url::parse(&base).unwrap(),
        "paperpost",
        message,
        Transport::File(outbox.path().to_path_buf()),
        settings,
    )
    .unwrap();
    let clock = Arc::new(Mutex::new(start_time()));
    let c = clock.clone();
    state.clock = Arc::new(move || *c.lock().unwrap());
    configure(&mut state);
    let mailer = state.mailer.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(listener, state, async {
        let _ = rx.await;
    }));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        http,
        store,
        mailer,
        outbox,
        clock,
        shutdown: Some(tx),
        server: Some(server),
        _db: db,
    }
}

pub async fn spawn() -> TestApp {
    spawn_with(WebSettings::default()).await
}

/// The papers of the sample digest (`render::sample_digest`): "Scaling Diffusion Models …",
/// "… Sparse Mixture-of-Experts …", ….
pub fn sample_papers(n: usize) -> Vec<Paper> {
    sample_digest(n)
        .picks()
        .iter()
        .map(|p| p.paper.clone())
        .collect()
}

/// `papers` as the stored picks of a trending digest.
pub fn trending_picks(papers: &[Paper]) -> Vec<PickRef> {
    papers
        .iter()
        .map(|p| PickRef {
            id: p.id.clone().unwrap(),
            reasons: vec!["trending".into()],
            more_like: false,
            pinned: false,
            note: None,
        })
        .collect()
}

/// Five papers (titles "Scaling Diffusion Models …", "… Sparse Mixture-of-Experts …") plus one
/// with a hostile title, and the public edition of week 2026-W48 listing them all.
pub fn seed(store: &Store) {
    let mut papers = sample_papers(5);
    papers.push(Paper {
        id: PaperId::parse_arxiv("2611.09999").map(|(id, _)| id),
        title: "<script>alert('x')</script> & Friends".into(),
        abstract_text: "An abstract with <b>markup</b> & ampersands.".into(),
        abs_url: Some("javascript:alert(1)".into()),
        upvotes: Some(1),
        ..Paper::default()
    });
    let picks = trending_picks(&papers);
    store.upsert_papers(papers, start_time()).unwrap();
    store
        .edition_for_period("2026-W48", &picks, start_time())
        .unwrap();
}

impl TestApp {
    /// The server's socket address (for raw TCP clients).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: impl Into<String>) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header(CONTENT_TYPE, FORM)
            .body(body.into())
            .send()
            .await
            .unwrap()
    }

    pub async fn subscribe(&self, email: &str, topics: &str) -> (StatusCode, String) {
        let r = self
            .post(
                "subscribe",
                form(&[
                    ("email", email),
                    ("topics", topics),
                    ("frequency", "weekly"),
                ]),
            )
            .await;
        (r.status(), r.text().await.unwrap())
    }

    /// Follows a confirmation link as a reader does: opens its page, clicks its button.
    pub async fn confirm(&self, path: &str) -> reqwest::Response {
        let page = self.get(path).await.text().await.unwrap();
        let csrf = csrf_of(&page, "confirm-form");
        self.post(path, form(&[("csrf", &csrf)])).await
    }

    pub fn advance(&self, by: Duration) {
        *self.clock.lock().unwrap() += by;
    }

    /// Every mail written so far, oldest first, once no mail is in flight.
    pub async fn mails(&self) -> Vec<Mail> {
        self.mailer.idle().await;
        let mut files: Vec<(std::time::SystemTime, PathBuf)> =
            std::fs::read_dir(self.outbox.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .map(|p| (std::fs::metadata(&p).unwrap().modified().unwrap(), p))
                .collect();
        files.sort();
        files.into_iter().map(|(_, p)| Mail::read(&p)).collect()
    }

    pub async fn mails_to(&self, address: &str) -> Vec<Mail> {
        self.mails()
            .await
            .into_iter()
            .filter(|m| m.to.eq_ignore_ascii_case(address))
            .collect()
    }

    pub fn subscriber(&self, email: &str) -> paperpost::domain::Subscriber {
        self.store
            .subscriber_by_email(email)
            .unwrap()
            .expect("subscriber exists")
    }

    /// The reader's current link token for `purpose`, as their next digest carries it.
    pub fn token(
        &self,
        sub: &paperpost::domain::Subscriber,
        purpose: paperpost::domain::TokenPurpose,
    ) -> String {
        let key = paperpost::security::Secret::load(&self.store).unwrap();
        paperpost::security::reader_token(&key, purpose, sub)
    }

    /// The reader's managing token: preferences, feedback, unsubscribe.
    pub fn manage_token(&self, sub: &paperpost::domain::Subscriber) -> String {
        self.token(sub, paperpost::domain::TokenPurpose::Manage)
    }

    pub fn add_active(&self, email: &str, topics: &str) -> paperpost::domain::Subscriber {
        let new = NewSubscriber::active(
            SubscriberEmail::parse(email).unwrap(),
            Topics::parse(topics).unwrap(),
        );
        self.store.add_subscriber(&new, start_time()).unwrap()
    }

    pub async fn stop(mut self) {
        self.shutdown.take().unwrap().send(()).unwrap();
        let result = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            self.server.take().unwrap(),
        )
        .await
        .expect("the server stops after the shutdown signal");
        result.unwrap().unwrap();
    }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub raw: String,
}

impl Mail {
    pub fn read(path: &std::path::Path) -> Mail {
        let bytes = std::fs::read(path).unwrap();
        let msg = mail_parser::MessageParser::default()
            .parse(&bytes)
            .expect("a parsable mail");
        Mail {
            to: msg
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap()
                .to_string(),
            subject: msg.subject().unwrap_or_default().to_string(),
            text: msg.body_text(0).expect("a text part").into_owned(),
            html: msg.body_html(0).expect("an HTML part").into_owned(),
            raw: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// The one link to `{base}{route}/…` in `part`.
    pub fn link_in(part: &str, base: &str, route: &str) -> Option<String> {
        let start = format!("{base}{route}/");
        let at = part.find(&start)?;
        let rest = &part[at..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '\''))
            .unwrap_or(rest.len());
        Some(rest[..end].replace("&amp;", "&"))
    }

    /// The link to `route` from both parts, which must agree.
    pub fn link(&self, base: &str, route: &str) -> String {
        let text = Mail::link_in(&self.text, base, route).expect("link in the text part");
        let html = Mail::link_in(&self.html, base, route).expect("link in the HTML part");
        assert_eq!(text, html, "both parts carry the same link");
        text
    }

    pub fn path(&self, base: &str, route: &str) -> String {
        self.link(base, route)[base.len()..].to_string()
    }
}

pub fn assert_readable_page(body: &str, needle: &str) {
    assert!(body.starts_with("<!DOCTYPE html>"), "an HTML page: {body}");
    assert!(body.contains(needle), "page should say {needle:?}:\n{body}");
}

/// The CSRF field of the form with `id` on `page`.
pub fn csrf_of(page: &str, id: &str) -> String {
    let form = &page[page.find(&format!("id=\"{id}\"")).expect("form on page")..];
    let at = form.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    form[at..at + 64].to_string()
}
