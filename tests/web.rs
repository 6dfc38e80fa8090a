//! HTTP tests of `paperpost serve`: the real app on a free loopback port, a temporary SQLite
//! file, the file transport as outbox (mails parsed back with mail-parser) and a clock the
//! tests move.
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use paperpost::delivery::{MessageSettings, Transport};
use paperpost::domain::{
    Feedback, Frequency, Paper, PaperId, PickRef, SubscriberEmail, SubscriberStatus, Topics,
};
use paperpost::render::sample_digest;
use paperpost::store::{NewSubscriber, Store};
use paperpost::web::{AppState, Mailer, WebSettings, run};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};

const FORM: &str = "application/x-www-form-urlencoded";

struct TestApp {
    base: String,
    http: reqwest::Client,
    store: Store,
    mailer: Mailer,
    outbox: tempfile::TempDir,
    clock: Arc<Mutex<DateTime<Utc>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _db: tempfile::TempDir,
}

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap()
}

async fn spawn_with(settings: WebSettings) -> TestApp {
    let db = tempfile::tempdir().unwrap();
    let store = Store::open(&db.path().join("paperpost.db")).unwrap();
    seed(&store);
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

async fn spawn() -> TestApp {
    spawn_with(WebSettings::default()).await
}

/// Five papers (titles "Scaling Diffusion Models …", "… Sparse Mixture-of-Experts …") plus one
/// with a hostile title, and the public edition of week 2026-W48 listing them all.
fn seed(store: &Store) {
    let mut papers: Vec<Paper> = sample_digest(5)
        .picks()
        .iter()
        .map(|p| p.paper.clone())
        .collect();
    papers.push(Paper {
        id: PaperId::parse_arxiv("2611.09999").map(|(id, _)| id),
        title: "<script>alert('x')</script> & Friends".into(),
        abstract_text: "An abstract with <b>markup</b> & ampersands.".into(),
        abs_url: Some("javascript:alert(1)".into()),
        upvotes: Some(1),
        ..Paper::default()
    });
    let picks: Vec<PickRef> = papers
        .iter()
        .map(|p| PickRef {
            id: p.id.clone().unwrap(),
            reasons: vec!["trending".into()],
            more_like: false,
        })
        .collect();
    store.upsert_papers(papers, start_time()).unwrap();
    store
        .edition_for_period("2026-W48", &picks, start_time())
        .unwrap();
}

impl TestApp {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    async fn post(&self, path: &str, body: impl Into<String>) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header(CONTENT_TYPE, FORM)
            .body(body.into())
            .send()
            .await
            .unwrap()
    }

    async fn subscribe(&self, email: &str, topics: &str) -> (StatusCode, String) {
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

    fn advance(&self, by: Duration) {
        *self.clock.lock().unwrap() += by;
    }

    /// Every mail written so far, oldest first, once no mail is in flight.
    async fn mails(&self) -> Vec<Mail> {
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

    async fn mails_to(&self, address: &str) -> Vec<Mail> {
        self.mails()
            .await
            .into_iter()
            .filter(|m| m.to.eq_ignore_ascii_case(address))
            .collect()
    }

    fn subscriber(&self, email: &str) -> paperpost::domain::Subscriber {
        self.store
            .subscriber_by_email(email)
            .unwrap()
            .expect("subscriber exists")
    }

    fn add_active(&self, email: &str, topics: &str) -> paperpost::domain::Subscriber {
        let new = NewSubscriber::active(
            SubscriberEmail::parse(email).unwrap(),
            Topics::parse(topics).unwrap(),
        );
        self.store.add_subscriber(&new, start_time()).unwrap()
    }

    async fn stop(mut self) {
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

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

struct Mail {
    to: String,
    subject: String,
    text: String,
    html: String,
    raw: String,
}

impl Mail {
    fn read(path: &std::path::Path) -> Mail {
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
    fn link_in(part: &str, base: &str, route: &str) -> Option<String> {
        let start = format!("{base}{route}/");
        let at = part.find(&start)?;
        let rest = &part[at..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '\''))
            .unwrap_or(rest.len());
        Some(rest[..end].replace("&amp;", "&"))
    }

    /// The link to `route` from both parts, which must agree.
    fn link(&self, base: &str, route: &str) -> String {
        let text = Mail::link_in(&self.text, base, route).expect("link in the text part");
        let html = Mail::link_in(&self.html, base, route).expect("link in the HTML part");
        assert_eq!(text, html, "both parts carry the same link");
        text
    }

    fn path(&self, base: &str, route: &str) -> String {
        self.link(base, route)[base.len()..].to_string()
    }
}

fn assert_readable_page(body: &str, needle: &str) {
    assert!(body.starts_with("<!DOCTYPE html>"), "an HTML page: {body}");
    assert!(body.contains(needle), "page should say {needle:?}:\n{body}");
}

#[tokio::test]
async fn every_route_answers_with_the_security_headers() {
    let app = spawn().await;
    let token = app.add_active("ada@example.org", "llm").public_token();
    let routes = [
        ("/", StatusCode::OK),
        ("/archive", StatusCode::OK),
        ("/archive/2026-W48", StatusCode::OK),
        ("/archive.xml", StatusCode::OK),
        ("/preview", StatusCode::OK),
        ("/preview?topics=diffusion", StatusCode::OK),
        ("/healthz", StatusCode::OK),
        (&format!("/preferences/{token}"), StatusCode::OK),
        (&format!("/unsubscribe/{token}"), StatusCode::OK),
        (
            "/confirm/1.00000000000000000000000000000000",
            StatusCode::NOT_FOUND,
        ),
        ("/no/such/page", StatusCode::NOT_FOUND),
        ("/subscribe", StatusCode::METHOD_NOT_ALLOWED),
    ];
    for (path, status) in routes {
        let r = app.get(path).await;
        assert_eq!(r.status(), status, "{path}");
        let h = r.headers();
        assert_eq!(
            h["content-security-policy"],
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        if status.is_client_error() {
            let body = r.text().await.unwrap();
            assert_readable_page(&body, "home page");
        }
    }
    assert_eq!(app.get("/healthz").await.text().await.unwrap(), "ok\n");
    let home = app.get("/").await.text().await.unwrap();
    for id in [
        "id=\"subscribe-form\"",
        "id=\"email\"",
        "id=\"topics\"",
        "id=\"authors\"",
        "id=\"cat-cs.CL\"",
        "id=\"frequency-daily\"",
        "id=\"subscribe-submit\"",
    ] {
        assert!(home.contains(id), "home has {id}");
    }
    assert!(
        home.contains("Scaling Diffusion Models"),
        "the home page shows a sample of the latest issue"
    );
    assert!(
        !home.contains("<script"),
        "no script, and feed text escaped"
    );
    app.stop().await;
}

#[tokio::test]
async fn sign_up_mails_a_link_that_confirms_once_and_reuse_is_harmless() {
    let app = spawn().await;
    let (status, body) = app
        .subscribe("ada@example.org", "diffusion, cat:cs.CL")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_readable_page(&body, "Check your inbox");
    let sub = app.subscriber("ada@example.org");
    assert_eq!(sub.status, SubscriberStatus::Pending);
    assert_eq!(sub.topics, Topics::parse("diffusion, cat:cs.CL").unwrap());

    let mails = app.mails_to("ada@example.org").await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.subject.contains("Confirm"), "{}", mail.subject);
    assert!(
        !mail.raw.contains("List-Unsubscribe:"),
        "a confirmation is not list mail"
    );
    let confirm = mail.path(&app.base, "confirm");
    let secret = confirm.rsplit('.').next().unwrap();
    assert_eq!(secret.len(), 32, "128 random bits as hex");

    let r = app.get(&confirm).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert_readable_page(&page, "You're subscribed");
    assert!(
        page.contains(&format!("/preferences/{}", sub.public_token())),
        "links to preferences"
    );
    assert_eq!(
        app.subscriber("ada@example.org").status,
        SubscriberStatus::Active
    );

    let again = app.get(&confirm).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_readable_page(&again.text().await.unwrap(), "Already confirmed");
    assert_eq!(
        app.subscriber("ada@example.org").status,
        SubscriberStatus::Active
    );

    let forged = format!("{}0", &confirm[..confirm.len() - 1]);
    let forged = if forged == confirm {
        format!("{}1", &confirm[..confirm.len() - 1])
    } else {
        forged
    };
    assert_eq!(app.get(&forged).await.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn the_answer_is_identical_for_new_pending_and_active_addresses() {
    let app = spawn().await;
    app.add_active("active@example.org", "llm");
    app.subscribe("pending@example.org", "").await;
    assert_eq!(app.mails().await.len(), 1);

    let mut answers = Vec::new();
    for email in [
        "new@example.org",
        "pending@example.org",
        "ACTIVE@example.org",
    ] {
        let r = app
            .post(
                "subscribe",
                form(&[
                    ("email", email),
                    ("topics", "robots"),
                    ("frequency", "daily"),
                ]),
            )
            .await;
        let mut headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(k, _)| *k != "date")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        headers.sort();
        answers.push((r.status(), headers, r.bytes().await.unwrap()));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "status, headers and body are the same"
    );

    let new = app.mails_to("new@example.org").await;
    assert_eq!(new.len(), 1);
    new[0].link(&app.base, "confirm");
    let pending = app.mails_to("pending@example.org").await;
    assert_eq!(
        pending.len(),
        2,
        "a pending address gets a fresh confirmation"
    );
    let active = app.mails_to("active@example.org").await;
    assert_eq!(active.len(), 1);
    assert!(
        active[0].subject.contains("already subscribed"),
        "{}",
        active[0].subject
    );
    let prefs = active[0].path(&app.base, "preferences");
    assert_eq!(
        prefs,
        format!(
            "preferences/{}",
            app.subscriber("active@example.org").public_token()
        )
    );
    let active = app.subscriber("active@example.org");
    assert_eq!(
        (active.status, active.topics.to_string()),
        (SubscriberStatus::Active, "llm".into()),
        "a form cannot change an active subscriber"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_address_gets_a_few_confirmation_mails_a_day_whatever_is_posted() {
    let app = spawn().await;
    let variants = [
        "bob@example.org",
        "BOB@example.org",
        " Bob@Example.org ",
        "bob@example.org",
        "bob@EXAMPLE.org",
    ];
    let mut bodies = Vec::new();
    for (i, email) in variants.iter().enumerate() {
        let (status, body) = app.subscribe(email, &format!("topic{i}")).await;
        assert_eq!(status, StatusCode::OK);
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "over the limit, the answer does not change"
    );
    assert_eq!(
        app.mails_to("bob@example.org").await.len(),
        3,
        "max_confirmations_per_address_per_day = 3"
    );
    app.advance(Duration::hours(25));
    app.subscribe("bob@example.org", "").await;
    assert_eq!(
        app.mails_to("bob@example.org").await.len(),
        4,
        "the next day allows more"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_ip_gets_a_limited_number_of_sign_ups_an_hour() {
    let app = spawn_with(WebSettings {
        max_subscribes_per_ip_per_hour: 3,
        ..WebSettings::default()
    })
    .await;
    for i in 0..5 {
        let (status, body) = app.subscribe(&format!("user{i}@example.org"), "").await;
        assert_eq!(status, StatusCode::OK);
        assert_readable_page(&body, "Check your inbox");
    }
    assert_eq!(app.mails().await.len(), 3);
    assert!(
        app.store
            .subscriber_by_email("user4@example.org")
            .unwrap()
            .is_none(),
        "nothing stored over the limit"
    );
    app.advance(Duration::minutes(61));
    app.subscribe("user4@example.org", "").await;
    assert_eq!(app.mails().await.len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn forwarded_for_is_only_trusted_when_configured() {
    let settings = WebSettings {
        max_subscribes_per_ip_per_hour: 1,
        ..WebSettings::default()
    };
    for trust in [false, true] {
        let app = spawn_with(WebSettings {
            trust_forwarded_for: trust,
            ..settings.clone()
        })
        .await;
        for i in 0..2 {
            app.http
                .post(app.url("subscribe"))
                .header(CONTENT_TYPE, FORM)
                .header("x-forwarded-for", format!("203.0.113.7, 198.51.100.{i}"))
                .body(form(&[("email", &format!("fwd{i}@example.org"))]))
                .send()
                .await
                .unwrap();
        }
        let expected = if trust { 2 } else { 1 };
        assert_eq!(
            app.mails().await.len(),
            expected,
            "trust_forwarded_for = {trust}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn confirmation_links_expire_and_a_new_sign_up_sends_a_fresh_one() {
    let app = spawn().await;
    app.subscribe("eve@example.org", "").await;
    let old = app.mails_to("eve@example.org").await[0].path(&app.base, "confirm");
    app.advance(Duration::hours(48));
    let r = app.get(&old).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert_readable_page(&r.text().await.unwrap(), "expired");
    assert_eq!(
        app.subscriber("eve@example.org").status,
        SubscriberStatus::Pending
    );

    app.subscribe("eve@example.org", "").await;
    let mails = app.mails_to("eve@example.org").await;
    let fresh = mails.last().unwrap().path(&app.base, "confirm");
    assert_ne!(fresh, old);
    assert_eq!(app.get(&fresh).await.status(), StatusCode::OK);
    assert_eq!(
        app.subscriber("eve@example.org").status,
        SubscriberStatus::Active
    );
    let r = app.get(&old).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "an older link of a confirmed subscriber is harmless"
    );
    assert_readable_page(&r.text().await.unwrap(), "Already confirmed");
    app.stop().await;
}

#[tokio::test]
async fn one_click_unsubscribe_and_subscribing_again() {
    let app = spawn().await;
    let sub = app.add_active("carol@example.org", "llm");
    let path = format!("unsubscribe/{}", sub.public_token());

    let page = app.get(&path).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(r#"<form id="unsubscribe-form" method="post""#),
        "{page}"
    );
    assert!(page.contains(r#"name="List-Unsubscribe" value="One-Click""#));
    assert_eq!(
        app.subscriber("carol@example.org").status,
        SubscriberStatus::Active,
        "GET changes nothing"
    );

    let wrong = app.post(&path, "List-Unsubscribe=Maybe").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_readable_page(&wrong.text().await.unwrap(), "List-Unsubscribe=One-Click");
    assert_eq!(
        app.subscriber("carol@example.org").status,
        SubscriberStatus::Active
    );

    let r = app.post(&path, "List-Unsubscribe=One-Click").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get(LOCATION).is_none(), "no redirect");
    assert_readable_page(&r.text().await.unwrap(), "You're unsubscribed");
    assert_eq!(
        app.subscriber("carol@example.org").status,
        SubscriberStatus::Unsubscribed
    );
    assert_eq!(
        app.post(&path, "List-Unsubscribe=One-Click").await.status(),
        StatusCode::OK,
        "repeating is harmless"
    );

    let multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
    let r = app
        .http
        .post(app.url(&path))
        .header(CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(multipart)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "RFC 8058's multipart body works too"
    );

    let bogus = format!("unsubscribe/{}.{}", sub.id, "0".repeat(32));
    assert_eq!(
        app.post(&bogus, "List-Unsubscribe=One-Click")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&bogus).await.status(), StatusCode::NOT_FOUND);

    app.subscribe("carol@example.org", "robots").await;
    let s = app.subscriber("carol@example.org");
    assert_eq!(s.status, SubscriberStatus::Pending);
    let confirm = app
        .mails_to("carol@example.org")
        .await
        .last()
        .unwrap()
        .path(&app.base, "confirm");
    assert_eq!(app.get(&confirm).await.status(), StatusCode::OK);
    let s = app.subscriber("carol@example.org");
    assert_eq!(
        (s.status, s.topics.to_string()),
        (SubscriberStatus::Active, "robots".into())
    );
    app.stop().await;
}

/// The CSRF field of the form with `id` on `page`.
fn csrf_of(page: &str, id: &str) -> String {
    let form = &page[page.find(&format!("id=\"{id}\"")).expect("form on page")..];
    let at = form.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    form[at..at + 64].to_string()
}

#[tokio::test]
async fn preferences_change_topics_frequency_and_pause_with_csrf() {
    let app = spawn().await;
    let sub = app.add_active("dan@example.org", "llm, cat:cs.CL");
    let path = format!("preferences/{}", sub.public_token());
    let page = app.get(&path).await.text().await.unwrap();
    assert!(page.contains("dan@example.org"));
    assert!(
        page.contains(r#"id="cat-cs.CL" type="checkbox" name="categories" value="cs.CL" checked"#)
    );
    let csrf = csrf_of(&page, "preferences-form");

    let r = app
        .post(
            &path,
            form(&[
                ("csrf", &csrf),
                ("action", "save"),
                ("topics", "robots, -survey"),
                ("authors", "Ada Lovelace"),
                ("categories", "cs.RO"),
                ("categories", "hep-th"),
                ("frequency", "daily"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], format!("/{path}?done=saved"));
    let s = app.subscriber("dan@example.org");
    assert_eq!(s.frequency, Frequency::Daily);
    assert_eq!(
        s.topics,
        Topics::parse("robots, author:\"ada lovelace\", cat:cs.RO, cat:hep-th, -survey").unwrap()
    );
    assert!(
        app.get(&format!("{path}?done=saved"))
            .await
            .text()
            .await
            .unwrap()
            .contains("Saved.")
    );

    let r = app
        .post(
            &path,
            form(&[
                ("csrf", &csrf),
                ("categories", "cs.FAKE"),
                ("frequency", "weekly"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_readable_page(
        &r.text().await.unwrap(),
        "“cs.FAKE” is not an arXiv category",
    );

    for bad in [
        form(&[("action", "pause")]),
        form(&[("csrf", &"0".repeat(64)), ("action", "pause")]),
    ] {
        let r = app.post(&path, bad).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_readable_page(&r.text().await.unwrap(), "This form is out of date");
    }
    let other = app.add_active("eve@example.org", "");
    let other_page = app
        .get(&format!("preferences/{}", other.public_token()))
        .await
        .text()
        .await
        .unwrap();
    let other_csrf = csrf_of(&other_page, "pause-form");
    assert_eq!(
        app.post(&path, form(&[("csrf", &other_csrf), ("action", "pause")]))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.subscriber("dan@example.org").status,
        SubscriberStatus::Active
    );

    let csrf = csrf_of(&page, "pause-form");
    assert_eq!(
        app.post(&path, form(&[("csrf", &csrf), ("action", "pause")]))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.subscriber("dan@example.org").status,
        SubscriberStatus::Paused
    );
    let page = app.get(&path).await.text().await.unwrap();
    assert!(page.contains("id=\"resume-submit\""));
    assert_eq!(
        app.post(&path, form(&[("csrf", &csrf), ("action", "resume")]))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.subscriber("dan@example.org").status,
        SubscriberStatus::Active
    );

    let bogus = format!("preferences/{}.{}", sub.id, "f".repeat(32));
    assert_eq!(app.get(&bogus).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.post(&bogus, form(&[("csrf", &csrf)])).await.status(),
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test]
async fn readers_choose_their_own_time_zone_and_hour() {
    let app = spawn().await;
    let sub = app.add_active("tz@example.org", "llm");
    let path = format!("preferences/{}", sub.public_token());
    let page = app.get(&path).await.text().await.unwrap();
    assert!(page.contains(r#"<option value="" selected>Newsletter default</option>"#));
    assert!(page.contains(r#"<option value="Asia/Kolkata">Asia/Kolkata</option>"#));
    assert!(page.contains(r#"<option value="23">23:00</option>"#));
    assert!(
        page.contains("at this local hour"),
        "the copy says when digests come"
    );
    let csrf = csrf_of(&page, "preferences-form");
    let save = |timezone: &str, hour: &str| {
        form(&[
            ("csrf", &csrf),
            ("action", "save"),
            ("topics", "llm"),
            ("frequency", "weekly"),
            ("timezone", timezone),
            ("send_hour", hour),
        ])
    };

    let r = app.post(&path, save("Asia/Kolkata", "7")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s = app.subscriber("tz@example.org");
    assert_eq!(
        (s.timezone, s.send_hour),
        (Some(chrono_tz::Asia::Kolkata), Some(7))
    );
    let page = app.get(&path).await.text().await.unwrap();
    assert!(page.contains(r#"<option value="Asia/Kolkata" selected>"#));
    assert!(page.contains(r#"<option value="7" selected>07:00</option>"#));
    assert!(page.contains("at 07:00 Asia/Kolkata"));

    for (timezone, hour, needle) in [
        (
            "Mars/Olympus",
            "7",
            "Time zone: “Mars/Olympus” is not a time zone",
        ),
        ("Asia/Kolkata", "24", "Delivery hour: “24” is not an hour"),
        ("Asia/Kolkata", "-1", "Delivery hour: “-1” is not an hour"),
        ("<b>x</b>", "7am", "Delivery hour: “7am” is not an hour"),
    ] {
        let r = app.post(&path, save(timezone, hour)).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{timezone} {hour}"
        );
        let body = r.text().await.unwrap();
        assert_readable_page(&body, needle);
        assert!(!body.contains("<b>x</b>"), "posted values are escaped");
        let s = app.subscriber("tz@example.org");
        assert_eq!(
            (s.timezone, s.send_hour),
            (Some(chrono_tz::Asia::Kolkata), Some(7)),
            "a refused form changes nothing"
        );
    }

    let r = app.post(&path, save("", "")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s = app.subscriber("tz@example.org");
    assert_eq!((s.timezone, s.send_hour), (None, None));

    // The sign-up form takes them too, for the pending subscriber it creates.
    let r = app
        .post(
            "subscribe",
            form(&[
                ("email", "new-tz@example.org"),
                ("frequency", "daily"),
                ("timezone", "America/New_York"),
                ("send_hour", "18"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let s = app.subscriber("new-tz@example.org");
    assert_eq!(s.status, SubscriberStatus::Pending);
    assert_eq!(
        (s.timezone, s.send_hour),
        (Some(chrono_tz::America::New_York), Some(18))
    );
    let r = app
        .post(
            "subscribe",
            form(&[("email", "bad-tz@example.org"), ("send_hour", "24")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_readable_page(&r.text().await.unwrap(), "Delivery hour: “24”");
    assert!(
        app.store
            .subscriber_by_email("bad-tz@example.org")
            .unwrap()
            .is_none()
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_form_posts_get_a_readable_4xx_and_store_nothing() {
    let app = spawn().await;
    let huge = form(&[
        ("email", "big@example.org"),
        ("topics", &"x, ".repeat(10_000)),
    ]);
    let r = app.post("subscribe", huge).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_readable_page(&r.text().await.unwrap(), "too much");

    let r = app
        .post(
            "subscribe",
            form(&[("email", "not-an-address"), ("topics", "llm")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert_readable_page(&body, "is not a valid email address");
    assert!(
        body.contains(r#"value="not-an-address""#),
        "the form comes back filled in"
    );
    assert!(body.contains(">llm</textarea>"));

    let r = app
        .post(
            "subscribe",
            form(&[
                ("email", "ok@example.org"),
                ("categories", "cs.FAKE"),
                ("topics", "cat:math.XX"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert_readable_page(&body, "“cs.FAKE” is not an arXiv category");
    assert!(body.contains("“math.XX” is not an arXiv category"));

    let r = app
        .post(
            "subscribe",
            form(&[
                ("email", "\"><script>alert(1)</script>@x"),
                ("topics", "</textarea><script>"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(!body.contains("<script>"), "user input is escaped");

    let r = app
        .post(
            "subscribe",
            "email=%FF%FE%00&topics=%E2%28&&=&frequency=hourly",
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "garbage is refused, not a 500"
    );

    let r = app
        .http
        .post(app.url("subscribe"))
        .header(CONTENT_TYPE, "application/json")
        .body(r#"{"email":"json@example.org"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_readable_page(&r.text().await.unwrap(), "ordinary web form");

    assert_eq!(app.store.subscriber_count(None).unwrap(), 0);
    assert!(app.mails().await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn the_archive_and_its_atom_feed_list_public_editions() {
    let app = spawn().await;
    let list = app.get("archive").await;
    assert_eq!(list.headers()["cache-control"], "public, max-age=300");
    let list = list.text().await.unwrap();
    assert!(list.contains("href=\"/archive/2026-W48\""), "{list}");
    assert!(list.contains("Week of 2026-11-23"));

    let page = app.get("archive/2026-W48").await.text().await.unwrap();
    assert!(page.contains("Scaling Diffusion Models to Millions of Tokens: Paper 1"));
    assert!(
        page.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; Friends"),
        "feed text is escaped"
    );
    assert!(!page.contains("<script") && !page.contains("javascript:"));
    assert_eq!(
        app.get("archive/2099-W01").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("archive/%3Cscript%3E").await.status(),
        StatusCode::NOT_FOUND
    );

    let feed = app.get("archive.xml").await;
    assert_eq!(
        feed.headers()[CONTENT_TYPE],
        "application/atom+xml; charset=utf-8"
    );
    let xml = feed.text().await.unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut entries, mut depth) = (0, 0i32);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) => {
                depth += 1;
                entries += (e.name().as_ref() == "entry") as usize;
            }
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((entries, depth), (1, 0));
    assert!(xml.contains(&format!("<id>{}archive/2026-W48</id>", app.base)));
    assert!(!xml.contains("<script"));
    assert!(
        xml.contains("&amp;lt;script&amp;gt;"),
        "HTML content, escaped twice: {xml}"
    );
    app.stop().await;
}

#[tokio::test]
async fn preview_renders_what_topics_would_get_now() {
    let app = spawn().await;
    let r = app.get("preview?topics=diffusion").await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("Scaling Diffusion Models"), "{page}");
    assert!(
        !page.contains("Sparse Mixture-of-Experts to Millions"),
        "only matching papers"
    );
    assert!(page.contains("A preview for the topics: diffusion."));

    let page = app
        .get("preview?topics=&frequency=weekly")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("trending"), "no topics: the trending digest");

    let page = app
        .get("preview?categories=cs.CL&authors=Author1+Surname0")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Paper 1"), "{page}");

    let r = app.get("preview?topics=cat:cs.FAKE").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_readable_page(
        &r.text().await.unwrap(),
        "“cs.FAKE” is not an arXiv category",
    );

    app.advance(Duration::days(30));
    let page = app
        .get("preview?topics=diffusion")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Scaling Diffusion Models"),
        "old papers drop out of the window"
    );
    app.stop().await;
}

#[tokio::test]
async fn feedback_links_record_nothing_on_get_or_head_and_the_button_post_records() {
    // Arrange: a reader and a stored paper.
    let app = spawn().await;
    let sub = app.add_active("fay@example.org", "llm");
    let paper = sample_digest(5).picks()[0].paper.clone();
    let id = paper.id.clone().unwrap();
    let path = format!("feedback/{}/{}", sub.public_token(), id);

    // Act: what a link scanner does — GET and HEAD, both verdicts.
    for v in ["like", "dislike"] {
        let r = app.get(&format!("{path}?v={v}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let page = r.text().await.unwrap();
        assert_readable_page(&page, &paper.title);
        assert!(page.contains("id=\"feedback-submit\""), "one button");
        let head = app
            .http
            .head(app.url(&format!("{path}?v={v}")))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), StatusCode::OK);
    }
    assert!(
        app.store.feedback_of(sub.id).unwrap().is_empty(),
        "GET and HEAD record nothing"
    );

    // A post without the page's CSRF field, or with another reader's, records nothing.
    let other = app.add_active("gus@example.org", "");
    let other_page = app
        .get(&format!("feedback/{}/{}?v=like", other.public_token(), id))
        .await
        .text()
        .await
        .unwrap();
    for bad in [String::new(), csrf_of(&other_page, "feedback-form")] {
        let r = app
            .post(&path, form(&[("csrf", &bad), ("v", "like")]))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    assert!(app.store.feedback_of(sub.id).unwrap().is_empty());

    // The button's post records the verdict; a later one replaces it.
    let page = app
        .get(&format!("{path}?v=like"))
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page, "feedback-form");
    let r = app
        .post(&path, form(&[("csrf", &csrf), ("v", "like")]))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("More like what you liked"));
    let rows = app.store.feedback_of(sub.id).unwrap();
    assert_eq!((rows.len(), rows[0].feedback), (1, Feedback::Like));
    assert_eq!(rows[0].paper_id, id);

    // The preferences page lists it with a remove button that works.
    let prefs = format!("preferences/{}", sub.public_token());
    let page = app.get(&prefs).await.text().await.unwrap();
    let liked = &page[page.find("id=\"liked-papers\"").expect("liked list")..];
    assert!(liked.contains(&paper.title));
    let r = app
        .post(&path, form(&[("csrf", &csrf), ("v", "remove")]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.store.feedback_of(sub.id).unwrap().is_empty());
    let page = app.get(&prefs).await.text().await.unwrap();
    assert!(page.contains("id=\"feedback-none\""));

    // Unknown papers, bad verdicts and bad tokens are clear errors that store nothing.
    for (url, status) in [
        (
            format!("feedback/{}/2499.99999?v=like", sub.public_token()),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("feedback/{}/not-an-id?v=like", sub.public_token()),
            StatusCode::NOT_FOUND,
        ),
        (format!("{path}?v=love"), StatusCode::BAD_REQUEST),
        (
            format!("feedback/{}.x/{id}?v=like", sub.id),
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_eq!(app.get(&url).await.status(), status, "{url}");
    }
    let r = app
        .post(&path, form(&[("csrf", &csrf), ("v", "love")]))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(app.store.feedback_of(sub.id).unwrap().is_empty());
    app.stop().await;
}
