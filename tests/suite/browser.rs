//! A subscriber's whole path in a real browser: `paperpost serve` as a child process on a
//! free loopback port, a real SMTP server, Debian's Chromium driven by playwright-core
//! (`tests/browser/flow.mjs`).
//!
//! sign up on the home page → the confirmation mail (parsed here with mail-parser) → its
//! link → preferences: new topics and frequency → the editor (added with `paperpost
//! operators add`) signs in, writes the week's note and pins a paper on the status page,
//! and signs out → `paperpost send` mails a digest that opens with them (seen at
//! 375 and 600 px, light and dark; its web copy and the reader's feed too) → 👍 under
//! a paper in that digest, confirmed on the page it opens → new papers are fetched and the
//! next (daily) digest has a "More like what you liked" section → its
//! `List-Unsubscribe` URL gets the RFC 8058 one-click POST from the browser context → the
//! store says `unsubscribed`, and the web copy and the feed are gone (404).
//!
//! Screenshots of every page land in the test's temporary folder (or in
//! `$PAPERPOST_BROWSER_ARTIFACTS` when set, e.g. `test-artifacts/browser`, gitignored), with
//! the mails and the logs. `README_SCREENSHOT=tests/browser/screenshots/digest.png` also
//! writes the README's picture of a digest. Needs node, Chromium and `npm install` in
//! `tests/browser/`: `tests/run.sh` sets all of that up.
use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mail_parser::{Message, MessageParser};
use paperpost::domain::{Feedback, Frequency, Period, SubscriberStatus, Term};
use support::cli::{self, paperpost};
use support::newsletter::{Config, closed_port, file_source, relay, smtp_delivery};
use support::process::Running;
use support::smtp::SmtpServer;
use support::wait;

const EMAIL: &str = "ada.browser@example.org";
const NOTE: &str = "A week of long contexts and honest benchmarks. Start with the game.";
const PIN_ID: &str = "2410.18975";
const PIN_TITLE: &str = "Unbounded: A Generative Infinite Game of Character Life Simulation";
const PIN_NOTE: &str = "A game that never ends, built on an LLM.";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The operator `paperpost operators add` makes before `serve` starts.
const OPERATOR: &str = "editor";
const OPERATOR_PASSWORD: &str = "the editor's browser password";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn write_config(dir: &Path, port: u16, smtp_port: u16) -> PathBuf {
    Config::for_newsletter(
        "paperpost",
        &format!("http://127.0.0.1:{port}/"),
        "paperpost <digest@paperpost.invalid>",
    )
    .table(&file_source("hf", "hf_daily_papers_2024-10-25_full.json"))
    .table(&smtp_delivery(&relay(None, smtp_port, 10.0)))
    .table(&format!("[web]\nbind = \"127.0.0.1:{port}\"\n"))
    // The test sends with `paperpost send`; serve's scheduler must not (run between 00:00 and
    // 08:00 UTC it caught up the previous day's daily edition for the reader while they were
    // daily, and the mails and the archive then held one digest more than the test expects).
    .table("[schedule]\nfetch = \"\"\nsend = \"0 8 29 2 *\"\ndaily_send = \"0 8 29 2 *\"\n")
    .write(dir)
}

/// `GET path` over plain HTTP/1.1; the status code, or `None` when nothing answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = String::new();
    s.read_to_string(&mut head).ok()?;
    head.split_whitespace().nth(1)?.parse().ok()
}

fn serve(config: &Path, port: u16, dir: &Path) -> Running {
    let mut cmd = cli::command(config, &["serve"]);
    cmd.env("RUST_LOG", "paperpost=debug");
    let mut server = Running::spawn("paperpost serve", cmd, dir.join("serve.log"));
    server.wait_until("/healthz to answer 200", Duration::from_secs(30), |_| {
        http_status(port, "/healthz") == Some(200)
    });
    server
}

/// `GET path` over plain HTTP/1.1: the status, the head (lower-cased) and the body.
fn http_get(port: u16, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = String::new();
    s.read_to_string(&mut all).unwrap();
    let (head, body) = all.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_lowercase(), body.to_string())
}

/// Runs one phase of `flow.mjs` and fails the test when it fails.
fn browser(phase: &'static str, env: &[(&str, &str)], artifacts: &Path) {
    let mut cmd = Command::new("node");
    if let Ok(out) = std::env::var("README_SCREENSHOT") {
        cmd.env("README_SCREENSHOT", root().join(out));
    }
    cmd.arg("flow.mjs")
        .arg(phase)
        .current_dir(root().join("tests/browser"))
        .env("ARTIFACTS", artifacts)
        .env("EMAIL", EMAIL)
        .env("CHROMIUM", CHROMIUM);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut node = Running::spawn(phase, cmd, artifacts.join(format!("{phase}.log")));
    let status = node.wait(Duration::from_secs(120));
    eprintln!("--- browser: {phase} ---\n{}", node.log());
    assert!(status.success(), "browser phase {phase} failed ({status})");
}

/// Waits for the `n`-th message (counting from 1) to `to`, raw.
fn wait_for_mail(smtp: &SmtpServer, to: &str, n: usize) -> Vec<u8> {
    wait::poll(
        &format!("mail #{n} to {to}"),
        Duration::from_secs(30),
        || {
            smtp.messages()
                .into_iter()
                .filter(|m| m.to.iter().any(|t| t == to))
                .nth(n - 1)
                .map(|m| m.raw)
        },
    )
}

/// The link to `{prefix}…` in a decoded body part (quoted-printable and HTML entities undone
/// by mail-parser; `&amp;` by hand for the HTML part).
fn link_in(part: &str, prefix: &str) -> Option<String> {
    let at = part.find(prefix)?;
    let rest = &part[at..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\''))
        .unwrap_or(rest.len());
    Some(rest[..end].replace("&amp;", "&"))
}

fn parse(raw: &[u8]) -> Message<'_> {
    MessageParser::default()
        .parse(raw)
        .expect("mail-parser reads the mail")
}

fn subscriber(config: &Path) -> paperpost::domain::Subscriber {
    support::open_store(config)
        .subscriber_by_email(EMAIL)
        .unwrap()
        .expect("the subscriber is in the store")
}

#[test]
fn a_reader_signs_up_confirms_edits_preferences_and_unsubscribes_in_chromium() {
    // Arrange: what the browser needs, a clean artifacts folder, the SMTP server, a config
    // whose public address is the port `serve` will listen on, and papers in the store.
    assert!(
        root()
            .join("tests/browser/node_modules/playwright-core")
            .is_dir(),
        "playwright-core is not installed: run tests/run.sh (it runs npm install in tests/browser)"
    );
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run tests/run.sh (it installs Debian's chromium)"
    );
    let smtp = SmtpServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let artifacts = match std::env::var("PAPERPOST_BROWSER_ARTIFACTS") {
        Ok(path) => root().join(path),
        Err(_) => dir.path().join("artifacts"),
    };
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).unwrap();
    // A port nobody listens on right now: `serve` binds it next.
    let port = closed_port();
    let base = format!("http://127.0.0.1:{port}/");
    let config = write_config(dir.path(), port, smtp.port);
    assert!(paperpost(&config, &["fetch"]).status.success());
    let added = cli::output(
        cli::command(
            &config,
            &["operators", "add", OPERATOR, "--password-env", "PP_EDITOR"],
        )
        .env("PP_EDITOR", OPERATOR_PASSWORD),
    );
    assert!(added.status.success());
    let mut server = serve(&config, port, dir.path());
    let page_env = [("BASE_URL", base.as_str())];

    // Act + assert, step by step.
    // 1. Sign up: pending, with what the form said, and a confirmation mail.
    browser("signup", &page_env, &artifacts);
    let pending = subscriber(&config);
    assert_eq!(pending.status, SubscriberStatus::Pending);
    assert_eq!(pending.frequency, Frequency::Daily);
    assert!(
        pending
            .topics
            .terms
            .contains(&Term::Category("cs.CL".into())),
        "{:?}",
        pending.topics
    );
    assert!(
        pending
            .topics
            .terms
            .contains(&Term::Phrase("knowledge editing".into()))
    );
    let raw = wait_for_mail(&smtp, EMAIL, 1);
    std::fs::write(artifacts.join("confirm.eml"), &raw).unwrap();
    let mail = parse(&raw);
    assert!(mail.subject().unwrap_or_default().starts_with("Confirm"));
    let prefix = format!("{base}confirm/");
    let text = mail.body_text(0).expect("a text part");
    let confirm_url = link_in(&text, &prefix).expect("a confirm link in the text part");
    let html = mail.body_html(0).expect("an HTML part");
    assert_eq!(
        link_in(&html, &prefix).as_deref(),
        Some(confirm_url.as_str()),
        "both parts carry the same link"
    );

    // 2. Confirm, then change the preferences.
    browser(
        "confirm",
        &[("BASE_URL", &base), ("CONFIRM_URL", &confirm_url)],
        &artifacts,
    );
    let edited = subscriber(&config);
    assert_eq!(edited.status, SubscriberStatus::Active);
    assert_eq!(edited.frequency, Frequency::Weekly);
    let terms = &edited.topics.terms;
    assert!(
        terms.contains(&Term::Phrase("hallucinations".into())),
        "{terms:?}"
    );
    assert!(
        terms.contains(&Term::Phrase("data selection".into())),
        "{terms:?}"
    );
    assert!(
        terms.contains(&Term::Author("Sanmi Koyejo".into())),
        "{terms:?}"
    );
    assert!(
        !terms.iter().any(|t| matches!(t, Term::Category(_))),
        "{terms:?}"
    );

    // 2b. The editor signs in, writes the week's note and pins a paper on the status page,
    // and signs out.
    browser(
        "editor",
        &[
            ("BASE_URL", &base),
            ("OPERATOR", OPERATOR),
            ("OPERATOR_PASSWORD", OPERATOR_PASSWORD),
            ("NOTE", NOTE),
            ("PIN_ID", PIN_ID),
            ("PIN_NOTE", PIN_NOTE),
        ],
        &artifacts,
    );
    let week = Period::week_of(chrono::Utc::now().date_naive()).key();
    let editorial = support::open_store(&config).editorial(&week).unwrap();
    assert_eq!(editorial.note.as_deref(), Some(NOTE));
    assert_eq!(editorial.pins[0].paper_id.as_str(), PIN_ID);

    // 3. The weekly digest goes out, with a one-click List-Unsubscribe.
    let send = paperpost(&config, &["send"]);
    assert!(send.status.success());
    let sent = String::from_utf8_lossy(&send.stdout);
    assert!(sent.contains("weekly edition"), "{sent}");
    let raw = wait_for_mail(&smtp, EMAIL, 2);
    std::fs::write(artifacts.join("digest.eml"), &raw).unwrap();
    let digest = parse(&raw);
    let body = digest.body_text(0).expect("a text part");
    assert!(
        body.contains("Can Knowledge Editing Really Correct Hallucinations?"),
        "the digest has the paper the new topics match:\n{body}"
    );
    let header = |name: &str| {
        digest
            .header_raw(name)
            .unwrap_or_else(|| panic!("{name} header"))
            .trim()
            .to_string()
    };
    assert_eq!(
        header("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    let unsubscribe_url = header("List-Unsubscribe")
        .strip_prefix('<')
        .and_then(|h| h.strip_suffix('>'))
        .expect("List-Unsubscribe is one <URL>")
        .to_string();
    assert!(
        unsubscribe_url.starts_with(&format!("{base}unsubscribe/")),
        "{unsubscribe_url}"
    );

    // 4. 👍 under a paper of that digest, confirmed with the page's one button.
    let liked = "Can Knowledge Editing Really Correct Hallucinations?";
    let digest_html = artifacts.join("digest.html");
    std::fs::write(
        &digest_html,
        digest.body_html(0).expect("an HTML part").as_bytes(),
    )
    .unwrap();
    let digest_path = digest_html.to_str().unwrap();
    // It opens with the editor's note and pick, and links its web copy and the reader's feed.
    let html_part = digest.body_html(0).unwrap().into_owned();
    for part in [body.as_ref(), html_part.as_str()] {
        let note = part.find(NOTE).expect("the editor's note");
        let pinned = part.find(PIN_NOTE).expect("the pin's note");
        assert!(note < pinned && part.contains(PIN_TITLE));
    }
    let web_copy_url = link_in(&body, &format!("{base}d/")).expect("a web copy link");
    assert!(web_copy_url.ends_with(&week), "{web_copy_url}");
    let feed_url = link_in(&body, &format!("{base}feed/")).expect("a feed link");
    let web_copy_path = &web_copy_url[base.len() - 1..];
    let feed_path = &feed_url[base.len() - 1..];
    let (status, head, page) = http_get(port, web_copy_path);
    assert_eq!(status, 200);
    assert!(head.contains("x-robots-tag: noindex"), "{head}");
    // The mail's digest without the reader's other links and address (a read-only link
    // leads nowhere else): no managing token, no feed token.
    let manage = &unsubscribe_url[format!("{base}unsubscribe/").len()..];
    let feed_token = &feed_path["/feed/".len()..feed_path.len() - ".xml".len()];
    for absent in [manage, feed_token, EMAIL] {
        assert!(!page.contains(absent), "the web copy carries {absent}");
    }
    browser(
        "digest",
        &[
            ("BASE_URL", &base),
            ("DIGEST_HTML", digest_path),
            ("WEB_COPY_URL", &web_copy_url),
            ("FEED_URL", &feed_url),
            ("NOTE", NOTE),
            ("PIN_TITLE", PIN_TITLE),
            ("PIN_NOTE", PIN_NOTE),
            (
                "LIKE_TITLE",
                "Can Knowledge Editing Really Correct Hallucinations?",
            ),
        ],
        &artifacts,
    );
    browser(
        "like",
        &[
            ("BASE_URL", &base),
            ("DIGEST_HTML", digest_path),
            ("LIKE_TITLE", liked),
        ],
        &artifacts,
    );
    let store = support::open_store(&config);
    let reader = subscriber(&config);
    let verdicts = store.feedback_of(reader.id).unwrap();
    assert_eq!(
        verdicts.len(),
        1,
        "one click on the button, one like: {verdicts:?}"
    );
    assert_eq!(verdicts[0].paper_id.as_str(), "2410.16251");
    assert_eq!(verdicts[0].feedback, Feedback::Like);
    assert_eq!(reader.frequency, Frequency::Daily);

    // 5. New papers arrive (a second source), and the next digest recommends from them.
    let more_sources = format!(
        "{}\n{}",
        std::fs::read_to_string(&config).unwrap(),
        file_source("cs_ai", "arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml")
    );
    std::fs::write(&config, more_sources).unwrap();
    assert!(paperpost(&config, &["fetch"]).status.success());
    let send = paperpost(&config, &["send"]);
    assert!(
        send.status.success(),
        "{}",
        String::from_utf8_lossy(&send.stderr)
    );
    let raw = wait_for_mail(&smtp, EMAIL, 3);
    std::fs::write(artifacts.join("digest-more-like.eml"), &raw).unwrap();
    let next = parse(&raw);
    let next_html = artifacts.join("digest-more-like.html");
    std::fs::write(
        &next_html,
        next.body_html(0).expect("an HTML part").as_bytes(),
    )
    .unwrap();
    let text = next.body_text(0).expect("a text part");
    assert!(text.contains("MORE LIKE WHAT YOU LIKED"), "{text}");
    browser(
        "more",
        &[
            ("BASE_URL", &base),
            ("DIGEST_HTML", next_html.to_str().unwrap()),
            ("LIKE_TITLE", liked),
        ],
        &artifacts,
    );

    // 6. One click from the browser context unsubscribes.
    browser(
        "unsubscribe",
        &[("BASE_URL", &base), ("UNSUBSCRIBE_URL", &unsubscribe_url)],
        &artifacts,
    );
    assert_eq!(subscriber(&config).status, SubscriberStatus::Unsubscribed);
    for path in [web_copy_path, feed_path] {
        assert_eq!(
            http_get(port, path).0,
            404,
            "revoked on unsubscribe: {path}"
        );
    }

    // The server stops cleanly on SIGTERM.
    let (status, _) = server.stop(Duration::from_secs(10));
    assert!(status.success(), "serve exited with {status}");
    std::fs::copy(dir.path().join("serve.log"), artifacts.join("serve.log")).unwrap();
    let log = std::fs::read_to_string(artifacts.join("serve.log")).unwrap();
    let confirm_token = &confirm_url[prefix.len()..];
    let copy_token = web_copy_path["/d/".len()..].split('/').next().unwrap();
    for secret in [
        manage,
        feed_token,
        copy_token,
        confirm_token,
        OPERATOR_PASSWORD,
    ] {
        assert!(
            !log.contains(secret),
            "the server log must not contain tokens or passwords"
        );
    }
}
