//! Readers' links, a token per purpose, end to end through the real binary: `paperpost send`
//! over a real SMTP server on loopback, the mails parsed back, then `paperpost serve` answers
//! each link for its own purpose only — the example (a feed address alone showed the
//! reader's address and changed their frequency to daily) refused —, tokens revoked one
//! purpose at a time and all at once on unsubscribe, and a store from before tokens per
//! purpose (schema version 8) whose links in sent digests keep working for what they were
//! for, but not for the preferences page.
use crate::support;

use std::time::{Duration, Instant};

use chrono::Utc;
use mail_parser::MessageParser;
use paperpost::domain::{Frequency, SubscriberStatus};
use paperpost::store::Store;
use reqwest::StatusCode;
use support::newsletter::{Newsletter, closed_port, relay};
use support::process::Running;
use support::smtp::SmtpServer;
use support::web_app::{Mail, csrf_of, form, sample_papers, trending_picks};

/// The newsletter's public address (`Config::new`); the links in mails start with it.
const PUBLIC: &str = "https://papers.example.org/";
const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

/// A digest as its reader got it: every link of theirs.
struct Links {
    copy: String,
    feed: String,
    preferences: String,
    unsubscribe: String,
    /// A paper's 👍 link.
    feedback: String,
    /// The `List-Unsubscribe` header's URL.
    list_unsubscribe: String,
}

impl Links {
    /// The links of the (only) digest mailed to `to`, the same in both parts.
    fn of(smtp: &SmtpServer, to: &str) -> Links {
        let raw = smtp.message_to(to);
        let m = MessageParser::default().parse(&raw).unwrap();
        let (text, html) = (m.body_text(0).unwrap(), m.body_html(0).unwrap());
        let link = |route: &str| {
            let t = Mail::link_in(&text, PUBLIC, route).expect(route);
            assert_eq!(
                Mail::link_in(&html, PUBLIC, route).as_ref(),
                Some(&t),
                "{route}"
            );
            t
        };
        let header = m
            .header_raw("List-Unsubscribe")
            .expect("List-Unsubscribe")
            .trim();
        Links {
            copy: link("d"),
            feed: link("feed"),
            preferences: link("preferences"),
            unsubscribe: link("unsubscribe"),
            feedback: link("feedback"),
            list_unsubscribe: header[1..header.len() - 1].to_string(),
        }
    }
}

/// The token in a link: the path segment after its route.
fn token_of(url: &str) -> String {
    let path = url.strip_prefix(PUBLIC).unwrap_or(url);
    let rest = path.split_once('/').expect("route/token").1;
    rest.split(['/', '?'])
        .next()
        .unwrap()
        .trim_end_matches(".xml")
        .to_string()
}

/// `paperpost serve` on a free loopback port, stopped by its PID when dropped.
struct Served {
    server: Running,
    local: String,
    http: reqwest::Client,
}

impl Served {
    async fn start(n: &Newsletter) -> Served {
        let port = closed_port();
        let mut cmd = n.command(&["serve", "--bind", &format!("127.0.0.1:{port}")]);
        cmd.env("RUST_LOG", "paperpost=info");
        let mut server = Running::spawn("paperpost serve", cmd, n.dir.path().join("serve.log"));
        let local = format!("http://127.0.0.1:{port}/");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while http.get(format!("{local}healthz")).send().await.is_err() {
            assert!(server.exited().is_none(), "serve exited:\n{}", server.log());
            assert!(Instant::now() < deadline, "serve did not answer");
            tokio::time::sleep(support::wait::PAUSE).await;
        }
        Served {
            server,
            local,
            http,
        }
    }

    fn local(&self, url: &str) -> String {
        url.replace(PUBLIC, &self.local)
    }

    async fn get(&self, url: &str) -> (StatusCode, String) {
        let r = self.http.get(self.local(url)).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post(&self, url: &str, body: &str) -> (StatusCode, String) {
        let r = self
            .http
            .post(self.local(url))
            .header("content-type", support::web_app::FORM)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    fn stop(mut self) -> String {
        let (status, _) = self.server.stop(Duration::from_secs(10));
        assert!(status.success(), "serve exited with {status}");
        self.server.log()
    }
}

/// Runs SQL on the newsletter's store behind paperpost's back (as another program could);
/// the rows it changed or returned.
fn sql(n: &Newsletter, text: &str) -> u64 {
    tokio::task::block_in_place(|| support::execute_sql(&n.config, text))
}

/// A page a read-only link opens must lead nowhere else: none of the reader's other links,
/// not their address.
fn assert_read_only(page: &str, other_tokens: &[&str], email: &str, what: &str) {
    for t in other_tokens {
        assert!(!page.contains(t), "{what} carries another token: {page}");
    }
    for route in ["/preferences/", "/unsubscribe/", "/feedback/"] {
        assert!(!page.contains(route), "{what} links {route}: {page}");
    }
    assert!(!page.contains(email), "{what} shows the address");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_feed_address_alone_cannot_open_preferences_and_each_link_opens_its_purpose_only() {
    // Arrange: two readers get a digest over real SMTP; `serve` answers their links.
    let smtp = SmtpServer::start(None);
    let n = Newsletter::new(&relay(None, smtp.port, 10.0));
    n.fetch_and_import(&["ada@example.org".into(), "bob@example.org".into()]);
    n.ok(&["send"]);
    let web = Served::start(&n).await;
    let ada = Links::of(&smtp, "ada@example.org");
    let (copy, feed, manage) = (
        token_of(&ada.copy),
        token_of(&ada.feed),
        token_of(&ada.preferences),
    );
    // Three tokens; the managing one in every managing link and the List-Unsubscribe header.
    assert!(copy != feed && feed != manage && copy != manage);
    for url in [&ada.unsubscribe, &ada.feedback, &ada.list_unsubscribe] {
        assert_eq!(token_of(url), manage, "{url}");
    }
    let store = n.store();
    let reader = |email: &str| store.subscriber_by_email(email).unwrap().unwrap();

    // The example, from the feed address alone: the feed answers and carries no
    // other token; its token opens neither preferences nor changes them.
    let (status, xml) = web.get(&ada.feed).await;
    assert_eq!(status, StatusCode::OK);
    assert_read_only(&xml, &[&copy, &manage], "ada@example.org", "the feed");
    let prefs_by_feed = format!("{PUBLIC}preferences/{feed}");
    let (status, page) = web.get(&prefs_by_feed).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!page.contains("ada@example.org"));
    let change = form(&[("action", "save"), ("topics", ""), ("frequency", "daily")]);
    let (status, _) = web.post(&prefs_by_feed, &change).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        reader("ada@example.org").frequency,
        Frequency::Weekly,
        "the frequency is unchanged"
    );
    for url in [
        format!("{PUBLIC}unsubscribe/{feed}"),
        ada.feedback.replace(&manage, &feed),
    ] {
        assert_eq!(web.get(&url).await.0, StatusCode::NOT_FOUND, "{url}");
    }
    // The feed links the web copies with its own token: read-only too.
    let related = Mail::link_in(&xml, PUBLIC, "d").expect("the feed links the web copy");
    assert_eq!(token_of(&related), feed);
    let (status, page) = web.get(&related).await;
    assert_eq!(status, StatusCode::OK);
    assert_read_only(
        &page,
        &[&copy, &manage],
        "ada@example.org",
        "a copy by the feed",
    );

    // The copy token: the web copy, nothing else — it cannot unsubscribe.
    let (status, page) = web.get(&ada.copy).await;
    assert_eq!(status, StatusCode::OK);
    assert_read_only(&page, &[&feed, &manage], "ada@example.org", "the web copy");
    let (status, _) = web
        .post(&format!("{PUBLIC}unsubscribe/{copy}"), ONE_CLICK)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for url in [
        format!("{PUBLIC}preferences/{copy}"),
        format!("{PUBLIC}feed/{copy}.xml"),
    ] {
        assert_eq!(web.get(&url).await.0, StatusCode::NOT_FOUND, "{url}");
    }
    assert_eq!(reader("ada@example.org").status, SubscriberStatus::Active);

    // The managing token opens preferences, which show the feed address and renew it.
    let (status, page) = web.get(&ada.preferences).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("ada@example.org"));
    assert!(page.contains(&format!("/feed/{feed}.xml")), "{page}");
    let renew = form(&[
        ("csrf", &csrf_of(&page, "new-feed-form")),
        ("action", "new-feed"),
    ]);
    let (status, _) = web.post(&ada.preferences, &renew).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        web.get(&ada.feed).await.0,
        StatusCode::NOT_FOUND,
        "old feed"
    );
    assert_eq!(
        web.get(&related).await.0,
        StatusCode::NOT_FOUND,
        "its copies"
    );
    assert_eq!(web.get(&ada.copy).await.0, StatusCode::OK, "copy kept");
    let (status, page) = web.get(&ada.preferences).await;
    assert_eq!(status, StatusCode::OK, "manage kept");
    let new_feed = format!(
        "{PUBLIC}{}",
        &Mail::link_in(&page, "/", "feed").expect("the new feed")[1..]
    );
    assert_ne!(token_of(&new_feed), feed);
    assert_eq!(web.get(&new_feed).await.0, StatusCode::OK);

    // `subscribers show` tells the purposes apart and prints no token unless asked.
    let shown = n.ok(&["subscribers", "show", "ada@example.org"]);
    assert!(
        shown.contains("copy   generation 0, never revoked"),
        "{shown}"
    );
    assert!(shown.contains("feed   generation 1, revoked 20"), "{shown}");
    assert!(
        shown.contains("manage generation 0, never revoked"),
        "{shown}"
    );
    for t in [&copy, &feed, &manage, &token_of(&new_feed)] {
        assert!(!shown.contains(t.as_str()), "show prints a token: {shown}");
    }
    let links = n.ok(&["subscribers", "show", "ada@example.org", "--links"]);
    for url in [&ada.copy, &new_feed, &ada.preferences, &ada.unsubscribe] {
        assert!(links.contains(url.as_str()), "--links lacks {url}: {links}");
    }

    // `subscribers revoke --token copy`: Bob's web copy dies, his feed and preferences live.
    let bob = Links::of(&smtp, "bob@example.org");
    n.ok(&[
        "subscribers",
        "revoke",
        "bob@example.org",
        "--token",
        "copy",
    ]);
    assert_eq!(web.get(&bob.copy).await.0, StatusCode::NOT_FOUND);
    assert_eq!(web.get(&bob.feed).await.0, StatusCode::OK);
    assert_eq!(web.get(&bob.preferences).await.0, StatusCode::OK);

    // Unsubscribing revokes every token: each of Ada's links is dead.
    let (status, _) = web.post(&ada.list_unsubscribe, ONE_CLICK).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        reader("ada@example.org").status,
        SubscriberStatus::Unsubscribed
    );
    for url in [&ada.copy, &new_feed, &ada.preferences, &ada.unsubscribe] {
        assert_eq!(web.get(url).await.0, StatusCode::NOT_FOUND, "{url}");
    }
    let shown = n.ok(&["subscribers", "show", "ada@example.org"]);
    for line in [
        "copy   generation 1",
        "feed   generation 2",
        "manage generation 1",
    ] {
        assert!(shown.contains(line), "{line}: {shown}");
    }
    let log = web.stop();
    for t in [&copy, &feed, &manage] {
        assert!(!log.contains(t.as_str()), "the server log holds a token");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn links_mailed_before_tokens_per_purpose_keep_working_for_what_they_were_for() {
    // Arrange: a store as paperpost left it at schema version 8 — one plain token per
    // reader — with a digest sent to Olga, whose mail links carry that token.
    let smtp = SmtpServer::start(None);
    let n = Newsletter::new(&relay(None, smtp.port, 10.0));
    let settings = paperpost::config::Settings::load(&n.config).unwrap();
    let old = Store::open_at_version(&settings.store.options().unwrap(), 8).unwrap();
    let papers = sample_papers(3);
    let title = papers[0].title.clone();
    let picks = trending_picks(&papers);
    old.upsert_papers(papers, Utc::now()).unwrap();
    let week = "2025-W40";
    drop(old);
    // The edition as that version wrote it (today's operations write today's columns).
    sql(
        &n,
        &format!("INSERT INTO editions (id, period_key, created_at) VALUES (7, '{week}', 1)"),
    );
    let edition_id = 7;
    let secret = "5eed0123456789abcdef0123456789ab";
    sql(
        &n,
        &format!(
            "INSERT INTO subscribers (id, email, email_key, status, token, created_at, updated_at)
             VALUES (41, 'olga@example.org', 'olga@example.org', 'active', '{secret}', 1, 1)"
        ),
    );
    sql(
        &n,
        &format!(
            "INSERT INTO deliveries (edition_id, subscriber_id, state, picks, message_id,
                                     created_at, updated_at, sent_at)
             VALUES ({}, 41, 'sent', '{}', '<old@papers.example.org>', 1, 1, 2)",
            edition_id,
            serde_json::to_string(&picks).unwrap()
        ),
    );
    let legacy = format!("41.{secret}");
    let (copy, feed, prefs, unsubscribe, feedback) = (
        format!("{PUBLIC}d/{legacy}/{week}"),
        format!("{PUBLIC}feed/{legacy}.xml"),
        format!("{PUBLIC}preferences/{legacy}"),
        format!("{PUBLIC}unsubscribe/{legacy}"),
        format!("{PUBLIC}feedback/{legacy}/{}?v=like", picks[0].id.as_str()),
    );

    // Act: this paperpost opens the store (migrating it) and serves.
    let web = Served::start(&n).await;

    // Assert: the old token is stored as a hash only.
    if n.is_postgres() {
        let plain = sql(
            &n,
            &format!("SELECT 1 FROM subscribers s WHERE strpos(s::text, '{secret}') > 0"),
        );
        assert_eq!(plain, 0, "the plain token is still in the table");
    } else {
        for file in ["pp.sqlite3", "pp.sqlite3-wal"] {
            let bytes = std::fs::read(n.dir.path().join(file)).unwrap_or_default();
            assert!(
                memchr::memmem::find(&bytes, secret.as_bytes()).is_none(),
                "the plain token is still in {file}"
            );
        }
    }
    // The old links still read the copy and the feed and open 👍/👎 …
    let (status, page) = web.get(&copy).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&title), "the web copy shows the digest");
    let (status, xml) = web.get(&feed).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains(&title), "the feed lists the digest's papers");
    assert_eq!(web.get(&feedback).await.0, StatusCode::OK);
    // … but not the preferences: that page only offers to mail a fresh link, showing no
    // address, and the old page's forms change nothing.
    let (status, page) = web.get(&prefs).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Mail me a fresh link"), "{page}");
    assert!(!page.contains("olga@example.org"), "{page}");
    let change = form(&[("action", "save"), ("topics", ""), ("frequency", "daily")]);
    assert_eq!(web.post(&prefs, &change).await.0, StatusCode::FORBIDDEN);
    let store = n.store();
    let olga = || store.subscriber_by_id(41).unwrap().unwrap();
    assert_eq!(olga().frequency, Frequency::Weekly);
    let ask = form(&[
        ("csrf", &csrf_of(&page, "fresh-link-form")),
        ("action", "mail-link"),
    ]);
    let (status, page) = web.post(&prefs, &ask).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("olga@example.org"));
    // (The scheduler in `serve` may mail Olga a digest meanwhile: the fresh link's mail is
    // the one with its subject.)
    let fresh = support::wait::poll("the fresh link's mail", Duration::from_secs(30), || {
        smtp.messages().into_iter().find_map(|m| {
            let m = MessageParser::default().parse(&m.raw)?.into_owned();
            let to_olga = m.to()?.first()?.address()? == "olga@example.org";
            let fresh = m.subject()?.contains("preferences link");
            (to_olga && fresh).then(|| Mail::link_in(&m.body_text(0)?, PUBLIC, "preferences"))?
        })
    });
    assert_ne!(token_of(&fresh), legacy);
    let (status, page) = web.get(&fresh).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("olga@example.org"),
        "the fresh link opens them"
    );

    // The old unsubscribe link (what mail clients' one-click uses) unsubscribes, and with
    // it every token dies, the old one too.
    let (status, page) = web.post(&unsubscribe, ONE_CLICK).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("You're unsubscribed") && !page.contains("olga@example.org"));
    assert_eq!(olga().status, SubscriberStatus::Unsubscribed);
    for url in [&copy, &feed, &prefs, &fresh] {
        assert_eq!(web.get(url).await.0, StatusCode::NOT_FOUND, "{url}");
    }
    let log = web.stop();
    assert!(!log.contains(secret), "the server log holds the old token");
}
