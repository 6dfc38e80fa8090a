//! Several newsletters in one instance (issue 22, item 2), through the real binary, a real
//! SMTP server on loopback and `paperpost serve`: two `[[newsletters]]` with their own
//! sources, names, senders and List-Ids over one store; one reader subscribed to both gets
//! one digest from each, with only that newsletter's papers; unsubscribing from one
//! (RFC 8058 one-click, under `/n/{slug}/`) leaves the other; the preferences page lists
//! both. And a store made by the last one-newsletter version migrates with every reader,
//! delivery, note, pin, pause and suppression kept, all in the default newsletter.
use crate::support;

use std::time::{Duration, Instant};

use chrono::Utc;
use mail_parser::MessageParser;
use paperpost::domain::{DeliveryState, NewSubscriber, SubscriberEmail, SubscriberStatus, Topics};
use paperpost::store::Store;
use support::newsletter::{Config, Newsletter, file_source, relay, smtp_delivery};
use support::smtp::SmtpServer;

/// Two physics papers in paperpost's JSON list format, seen by the `phys` source only.
const PHYSICS: &str = r#"{"papers": [
  {"url": "https://journals.example.org/prl/1", "title": "Quantum spin liquids in kagome magnets",
   "abstract": "We study spin liquids.", "categories": ["cond-mat.str-el"]},
  {"url": "https://journals.example.org/prl/2", "title": "Dark matter halos of dwarf galaxies",
   "abstract": "Halo profiles.", "categories": ["astro-ph.GA"]}
]}"#;

/// The two newsletters: "ML weekly" (slug `ml`, the HF fixture, trending for readers with
/// no topics) at the root, and "Physics weekly" (slug `physics`, the physics list; readers
/// with no topics get its default topics) with its own sender and its pages under
/// `/n/physics/`.
fn two_newsletters(dir: &std::path::Path, smtp_port: u16) -> String {
    let physics = dir.join("physics.json");
    std::fs::write(&physics, PHYSICS).unwrap();
    let store = support::newsletter::store_keys_for(Some(dir));
    format!(
        r##"[[newsletters]]
slug = "ml"
name = "ML weekly"
base_url = "https://papers.example.org/"
from = "ML weekly <ml@papers.example.org>"
sources = ["hf"]

[[newsletters]]
slug = "physics"
name = "Physics weekly"
from = "Physics weekly <physics@papers.example.org>"
sources = ["phys"]
default_topics = "spin liquids, dark matter"
[newsletters.render]
accent = "#0B7A53"

[store]
path = "pp.sqlite3"
{store}
{hf}
[[sources]]
name = "phys"
kind = "file"
path = "{physics}"

[selection]
max_papers = 3

{delivery}"##,
        hf = file_source("hf", "hf_daily_papers_2024-10-25_full.json"),
        physics = physics.display(),
        delivery = smtp_delivery(&relay(None, smtp_port, 10.0)),
    )
}

fn run(config: &std::path::Path, args: &[&str]) -> String {
    let out = support::cli::paperpost(config, args);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        support::cli::stdout(&out),
        support::cli::stderr(&out)
    );
    support::cli::stdout(&out)
}

/// A mail as the test reads it.
struct Mail {
    list_id: String,
    from: String,
    subject: String,
    text: String,
    unsubscribe: String,
    html: String,
}

/// Each mail to `to`.
fn mails_to(smtp: &SmtpServer, to: &str) -> Vec<Mail> {
    smtp.messages()
        .iter()
        .filter(|m| m.to.iter().any(|r| r.eq_ignore_ascii_case(to)))
        .map(|m| {
            let p = MessageParser::default().parse(&m.raw).unwrap();
            let header = |name: &str| {
                p.header_raw(name)
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            Mail {
                list_id: header("List-Id"),
                from: header("From"),
                subject: p.subject().unwrap_or_default().to_string(),
                text: p.body_text(0).unwrap().into_owned(),
                unsubscribe: header("List-Unsubscribe"),
                html: p.body_html(0).unwrap().into_owned(),
            }
        })
        .collect()
}

/// A form posted as a browser posts it.
async fn post_form(http: &reqwest::Client, url: &str, body: &str) -> reqwest::Response {
    http.post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// The text of the page at `url`.
async fn page_text(http: &reqwest::Client, url: &str) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_reader_of_two_newsletters_gets_each_with_its_own_papers_and_leaves_one_alone() {
    // Arrange: Ada follows both newsletters, Bob only ML.
    let smtp = SmtpServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, two_newsletters(dir.path(), smtp.port)).unwrap();
    run(&config, &["check-config"]);
    run(&config, &["subscribers", "add", "ada@example.org"]);
    run(&config, &["subscribers", "add", "bob@example.org"]);
    run(
        &config,
        &[
            "subscribers",
            "add",
            "--newsletter",
            "physics",
            "Ada@Example.org",
        ],
    );
    let listed = run(&config, &["subscribers", "list", "--newsletter", "physics"]);
    assert!(
        listed.to_lowercase().contains("ada@example.org"),
        "{listed}"
    );
    assert!(!listed.contains("bob@"), "{listed}");
    let unknown = support::cli::paperpost(&config, &["subscribers", "list", "--newsletter", "x"]);
    assert!(!unknown.status.success());
    assert!(
        support::cli::stderr(&unknown).contains("no newsletter with the slug `x`"),
        "{}",
        support::cli::stderr(&unknown)
    );

    // Act: one `run` fetches every source once and sends each newsletter.
    let out = run(&config, &["run"]);
    assert!(out.contains("newsletter ml (ML weekly)"), "{out}");
    assert!(out.contains("newsletter physics (Physics weekly)"), "{out}");

    // Assert: Ada got two digests, one per newsletter, each with its own papers.
    let all = mails_to(&smtp, "ada@example.org");
    assert_eq!(all.len(), 2, "one digest per newsletter");
    let ml = all
        .iter()
        .find(|m| m.list_id.contains("ml-weekly"))
        .expect("the ML digest");
    let physics = all
        .iter()
        .find(|m| m.list_id.contains("physics-weekly"))
        .expect("the physics digest");
    assert!(ml.from.contains("ml@papers.example.org"), "{}", ml.from);
    assert!(
        physics.from.contains("physics@papers.example.org"),
        "{}",
        physics.from
    );
    assert!(ml.subject.starts_with("ML weekly"), "{}", ml.subject);
    assert!(
        physics.subject.starts_with("Physics weekly"),
        "{}",
        physics.subject
    );
    assert!(
        physics.text.contains("Quantum spin liquids"),
        "{}",
        physics.text
    );
    assert!(!physics.text.contains("Breaking the Memory Barrier"));
    assert!(!ml.text.contains("Quantum spin liquids"));
    // Each its own look: physics's accent colours its name and links, ML keeps the default.
    assert!(physics.html.contains("color:#0b7a53"), "{}", physics.html);
    assert!(!physics.html.contains("color:#1a56db"));
    assert!(ml.html.contains("color:#1a56db") && !ml.html.contains("#0b7a53"));
    assert!(
        physics
            .unsubscribe
            .contains("https://papers.example.org/n/physics/unsubscribe/"),
        "{}",
        physics.unsubscribe
    );
    assert!(
        ml.unsubscribe
            .contains("https://papers.example.org/unsubscribe/"),
        "{}",
        ml.unsubscribe
    );
    assert_eq!(mails_to(&smtp, "bob@example.org").len(), 1);
    assert_eq!(smtp.messages().len(), 3);
    // Each newsletter planned its own edition of the same week.
    let editions = run(&config, &["editions", "--newsletter", "physics"]);
    assert!(editions.contains("1 sent"), "{editions}");
    assert_eq!(
        run(&config, &["run"]).matches("nothing to send").count(),
        2,
        "a second run sends nothing"
    );
    assert_eq!(smtp.messages().len(), 3);

    // One-click unsubscribe from physics, through `serve`.
    let (mut serve, local) = support::cli::serving(&config).await;
    let http = reqwest::Client::new();
    let link = |header: &str| {
        let at = header.find("https://").unwrap();
        header[at..header[at..].find('>').unwrap() + at].to_string()
    };
    let physics_unsub = link(&physics.unsubscribe).replace("https://papers.example.org/", &local);
    // The physics link does not open the ML subscription's pages (nor the other way).
    let wrong = physics_unsub.replace("/n/physics/", "/");
    assert_eq!(http.get(&wrong).send().await.unwrap().status(), 404);
    let page = http.get(format!("{local}n/physics/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Physics weekly"));
    assert!(
        page.contains(r#"action="/n/physics/subscribe""#),
        "its own sign-up"
    );
    assert!(page.contains(":root{--a:#0b7a53}"), "its own colour");
    let home = page_text(&http, &local).await;
    assert!(home.contains("Also from this site"), "{home}");
    assert!(
        home.contains("https://papers.example.org/n/physics/"),
        "{home}"
    );
    // Its operators' pages: the status page asks for a sign-in under the same prefix.
    let status = http
        .get(format!("{local}n/physics/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(status.url().path(), "/n/physics/login");
    // Carol signs up to physics on its own page: the confirmation mail is physics's, in
    // its colour, and its link confirms her physics subscription.
    let signed = post_form(
        &http,
        &format!("{local}n/physics/subscribe"),
        "email=carol%40example.org",
    )
    .await;
    assert!(signed.status().is_success(), "{}", signed.status());
    let deadline = Instant::now() + Duration::from_secs(20);
    let confirmation = loop {
        if let Some(m) = mails_to(&smtp, "carol@example.org").pop() {
            break m;
        }
        assert!(Instant::now() < deadline, "no confirmation mail");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        confirmation.subject.contains("Physics weekly"),
        "{}",
        confirmation.subject
    );
    assert!(confirmation.from.contains("physics@papers.example.org"));
    assert!(
        confirmation.html.contains("#0b7a53"),
        "{}",
        confirmation.html
    );
    let at = confirmation
        .text
        .find("https://papers.example.org/n/physics/confirm/")
        .expect("a physics confirm link");
    let confirm = confirmation.text[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .replace("https://papers.example.org/", &local);
    let form = page_text(&http, &confirm).await;
    let csrf = support::operator::csrf_in(&form, "confirm-form");
    let confirmed = post_form(&http, &confirm, &format!("csrf={csrf}")).await;
    assert!(confirmed.status().is_success(), "{}", confirmed.status());

    let done = post_form(&http, &physics_unsub, "List-Unsubscribe=One-Click").await;
    assert!(done.status().is_success(), "{}", done.status());
    // The ML preferences page lists both newsletters, physics now unsubscribed.
    let ml_prefs = link(&ml.unsubscribe)
        .replace("https://papers.example.org/", &local)
        .replace("/unsubscribe/", "/preferences/");
    let prefs = page_text(&http, &ml_prefs).await;
    assert!(prefs.contains("Your newsletters"), "{prefs}");
    assert!(prefs.contains("Physics weekly"), "{prefs}");
    assert!(prefs.contains("/n/physics/preferences/"), "{prefs}");
    support::cli::sigterm(&serve);
    assert!(serve.wait().unwrap().success());

    let store = support::open_store(&config);
    let ml_ada = store
        .for_newsletter("ml")
        .subscriber_by_email("ada@example.org")
        .unwrap()
        .unwrap();
    let phys_ada = store
        .for_newsletter("physics")
        .subscriber_by_email("ada@example.org")
        .unwrap()
        .unwrap();
    assert_eq!(ml_ada.status, SubscriberStatus::Active, "still gets ML");
    let carol = store
        .for_newsletter("physics")
        .subscriber_by_email("carol@example.org");
    assert_eq!(carol.unwrap().unwrap().status, SubscriberStatus::Active);
    assert!(
        store
            .for_newsletter("ml")
            .subscriber_by_email("carol@example.org")
            .unwrap()
            .is_none(),
        "physics only"
    );
    assert_eq!(phys_ada.status, SubscriberStatus::Unsubscribed);
    assert_eq!(
        (ml_ada.newsletter.as_str(), phys_ada.newsletter.as_str()),
        ("ml", "physics")
    );
}

#[test]
fn a_one_newsletter_store_migrates_with_every_reader_delivery_and_suppression_kept() {
    // Arrange: a store as the last one-newsletter paperpost (schema 16) left it.
    let n = Newsletter::from_config(Config::new().table(&file_source(
        "papers",
        "hf_daily_papers_2024-10-25_full.json",
    )));
    let settings = paperpost::config::Settings::load(&n.config).unwrap();
    let options = settings.store.options().unwrap();
    let now = Utc::now();
    drop(Store::open_at_version(&options, 16).unwrap());
    // Rows as that version wrote them (today's operations write today's columns).
    let ada = "(SELECT id FROM subscribers WHERE email_key = 'ada@example.org')";
    let bob = "(SELECT id FROM subscribers WHERE email_key = 'bob@example.org')";
    let edition = "(SELECT id FROM editions WHERE period_key = '2026-W49')";
    for sql in [
        "INSERT INTO subscribers (email, email_key, status, topics, frequency, token_salt,
                                  created_at, updated_at)
         VALUES ('ada@example.org', 'ada@example.org', 'active', '', 'weekly', 'salt-ada', 1, 1),
                ('bob@example.org', 'bob@example.org', 'active', 'diffusion', 'weekly',
                 'salt-bob', 1, 1)"
            .to_string(),
        "INSERT INTO editions (period_key, created_at) VALUES ('2026-W49', 1)".into(),
        format!(
            "INSERT INTO deliveries (edition_id, subscriber_id, state, picks, message_id,
                                     created_at, updated_at, sent_at)
             VALUES ({edition}, {ada}, 'sent', '[]', '<a@example.org>', 1, 1, 2),
                    ({edition}, {bob}, 'pending', '[]', '<b@example.org>', 1, 1, NULL)"
        ),
        "INSERT INTO edition_notes (period_key, note, updated_at) VALUES ('2026-W50', 'Next week', 1)"
            .into(),
        "INSERT INTO edition_pins (period_key, paper_id, note, position, pinned_at)
         VALUES ('2026-W50', '2410.18975', 'Read this', 1, 1)"
            .into(),
        "INSERT INTO suppressions (email_key, reason, created_at)
         VALUES ('carol@example.org', 'hard bounce', 1)"
            .into(),
        "INSERT INTO sending_pauses (paused_at, kind, reports, delivered, threshold, reason,
                                     tripped_by, in_force)
         VALUES (1, 'complaint', 5, 100, 0.003, 'complaints over 0.3 %', 'send', 1)"
            .into(),
    ] {
        support::execute_sql(&n.config, &sql);
    }
    let email = |e: &str| SubscriberEmail::parse(e).unwrap();

    // Act: this paperpost opens it.
    let store = Store::open_with(&options).unwrap();

    // Assert: everything is there, in the default newsletter `main`.
    assert_eq!(store.schema_info().unwrap().state(), "current");
    let readers = store.subscribers(None).unwrap();
    assert_eq!(readers.len(), 2);
    assert!(readers.iter().all(|r| r.newsletter == "main"));
    assert_eq!(readers[1].topics.to_string(), "diffusion");
    assert_eq!(readers[0].tokens.salt, "salt-ada", "links keep working");
    let states = [
        store.delivery_state("2026-W49", "ada@example.org").unwrap(),
        store.delivery_state("2026-W49", "bob@example.org").unwrap(),
    ];
    let states: Vec<DeliveryState> = states.into_iter().map(|r| r.unwrap().state).collect();
    assert!(states.contains(&DeliveryState::Sent) && states.contains(&DeliveryState::Pending));
    assert_eq!(store.outstanding_deliveries().unwrap(), 1);
    let editorial = store.editorial("2026-W50").unwrap();
    assert_eq!(editorial.note.as_deref(), Some("Next week"));
    assert_eq!(editorial.pins.len(), 1);
    assert!(store.is_suppressed("carol@example.org").unwrap());
    assert!(
        store.sending_pause().unwrap().is_some(),
        "main's pause holds"
    );
    // And the store now holds a second newsletter beside it: the same address, the same
    // week, its own rows.
    let physics = store.for_newsletter("physics");
    assert!(physics.subscribers(None).unwrap().is_empty());
    assert!(physics.edition("2026-W49").unwrap().is_none());
    assert_eq!(physics.outstanding_deliveries().unwrap(), 0);
    assert!(physics.editorial("2026-W50").unwrap().note.is_none());
    assert!(
        physics.sending_pause().unwrap().is_none(),
        "a pause is one newsletter's"
    );
    physics
        .add_subscriber(
            &NewSubscriber::active(email("ada@example.org"), Topics::default()),
            now,
        )
        .unwrap();
    let (theirs, created) = physics.edition_for_period("2026-W49", &[], now).unwrap();
    let ours = store.edition("2026-W49").unwrap().unwrap();
    assert!(created && theirs.id != ours.id);
    assert_eq!(store.subscriptions_of("ADA@example.org").unwrap().len(), 2);
    assert_eq!(
        store.subscribers(None).unwrap().len(),
        2,
        "main keeps its own"
    );
    drop((store, physics));

    // The lone [newsletter] becomes the first of two [[newsletters]], slugged "ml":
    // check-config says its readers are orphaned; `store rename-newsletter` moves them (not
    // onto a slug that has rows).
    let text = std::fs::read_to_string(&n.config)
        .unwrap()
        .replace("[newsletter]\n", "[[newsletters]]\nslug = \"ml\"\n")
        .replacen(
            "\n[store]",
            "\n[[newsletters]]\nslug = \"physics\"\nname = \"Physics\"\n\n[store]",
            1,
        );
    std::fs::write(&n.config, text).unwrap();
    let check = n.ok(&["check-config"]);
    assert!(
        check.contains("readers of newsletters the config does not name: `main` (2 subscribers)"),
        "{check}"
    );
    let refused = n.run(&["store", "rename-newsletter", "main", "physics"]);
    assert!(!refused.status.success(), "physics has Ada");
    let moved = n.ok(&["store", "rename-newsletter", "main", "ml"]);
    assert!(moved.contains("from `main` to `ml`"), "{moved}");
    assert!(!n.ok(&["check-config"]).contains("does not name"));
    let listed = n.ok(&["store", "newsletters"]);
    assert!(listed.contains("ml\t2 subscribers\t1 editions"), "{listed}");
    let ml = n.ok(&["subscribers", "list"]);
    assert!(
        ml.contains("bob@example.org"),
        "the first newsletter's readers: {ml}"
    );
}
