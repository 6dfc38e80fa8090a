//! A new operator's path, through the real binary: `init`, `check-config`, `fetch` from
//! recorded responses, a test digest to themselves over real SMTP, the real edition;
//! editions and their cancelling; secrets only where used; reader administration.
mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use mail_parser::MessageParser;
use paperpost::store::{DeliveryState, Store};
use support::cli;
use support::newsletter::{Config, closed_port, file_source, relay, smtp_delivery};
use support::recorded::recorded_sources;
use support::smtp::SmtpServer;

/// `paperpost --config <config> <args…>` with logging off and no terminal on stdin.
fn paperpost(config: &Path, args: &[&str]) -> Output {
    cli::output(
        cli::command(config, args)
            .env("RUST_LOG", "off")
            .stdin(Stdio::null()),
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn subject(raw: &[u8]) -> String {
    MessageParser::default()
        .parse(raw)
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn from_init_to_a_test_digest_and_then_the_real_edition_for_every_reader() {
    // Arrange: the recorded sources on loopback, a real SMTP server, an empty folder.
    let sources = recorded_sources().await;
    let smtp = SmtpServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");

    // Act 1: init writes a commented config with what was asked.
    let init = cli::output(
        Command::new(env!("CARGO_BIN_EXE_paperpost"))
            .arg("init")
            .arg(&site)
            .args([
                "--name",
                "Lab papers",
                "--url",
                "https://papers.example.org/",
            ])
            .args(["--from", "Lab papers <digest@papers.example.org>"])
            .env_remove("PAPERPOST_CONFIG")
            .env("RUST_LOG", "off")
            .stdin(Stdio::null()),
    );
    assert!(init.status.success());
    assert!(
        stdout(&init).contains("check-config"),
        "says what to do next"
    );
    let config = site.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("name = \"Lab papers\""), "{text}");
    assert!(text.contains("from = \"Lab papers <digest@papers.example.org>\""));
    assert!(
        text.contains("# Sources: any number"),
        "the comments are kept"
    );
    let again = paperpost(&config, &["init", site.to_str().unwrap()]);
    assert!(!again.status.success() && stderr(&again).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        text,
        "not overwritten"
    );

    // The operator points the sources at their mirror and adds their relay.
    let text = text
        .replacen(
            "name = \"hf-daily\"\n",
            &format!(
                "name = \"hf-daily\"\nurl = \"{}\"\n",
                sources.url("/api/daily_papers")
            ),
            1,
        )
        .replacen(
            "categories = [\"cs.AI\", \"cs.CL\", \"cs.LG\"]",
            &format!(
                "categories = [\"cs.AI\"]\nurl = \"{}\"",
                sources.url("/atom")
            ),
            1,
        );
    std::fs::write(&config, format!("{text}\n{}", relay(None, smtp.port, 10.0))).unwrap();
    let check = paperpost(&config, &["check-config"]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(stdout(&check).contains("Lab papers"));
    assert!(paperpost(&config, &["fetch"]).status.success());
    for (email, topics) in [("ada@example.org", "video"), ("grace@example.org", "")] {
        let add = paperpost(&config, &["subscribers", "add", email, "--topics", topics]);
        assert!(add.status.success());
    }

    // Act 2: a test digest to the operator, as Ada would get it.
    let test = paperpost(
        &config,
        &["send", "--to", "me@example.org", "--as", "ada@example.org"],
    );

    // Assert: it arrived, marked as a test, and nothing was planned.
    assert!(test.status.success(), "{}", stderr(&test));
    let got = smtp.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, vec!["me@example.org".to_string()]);
    let raw = String::from_utf8_lossy(&got[0].raw).into_owned();
    let msg = MessageParser::default().parse(&got[0].raw).unwrap();
    assert!(
        subject(&got[0].raw).starts_with("[test] Lab papers"),
        "{raw}"
    );
    assert!(msg.body_text(0).unwrap().contains("TEST SEND"));
    assert!(msg.body_html(0).unwrap().contains("Test send"));
    assert!(
        msg.body_html(0).unwrap().contains("Unbounded"),
        "Ada's video paper is in it"
    );
    assert!(
        msg.header_raw("List-Unsubscribe").is_none(),
        "not list mail"
    );
    let store = Store::open(&site.join("paperpost.sqlite3")).unwrap();
    assert!(
        store.edition_summaries(10).unwrap().is_empty(),
        "no edition"
    );

    // Act 3: the real send.
    let send = paperpost(&config, &["send"]);

    // Assert: every reader gets this week's edition, not marked as a test.
    assert!(send.status.success(), "{}", stderr(&send));
    let got = smtp.messages();
    assert_eq!(got.len(), 3);
    for reader in ["ada@example.org", "grace@example.org"] {
        let m = got
            .iter()
            .find(|m| m.to == vec![reader.to_string()])
            .unwrap();
        let s = subject(&m.raw);
        assert!(s.starts_with("Lab papers:"), "{reader}: {s}");
    }
}

#[test]
fn a_missing_config_points_to_init_and_says_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = paperpost(&dir.path().join("nope.toml"), &["subscribers", "list"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("nope.toml") && err.contains("paperpost init"),
        "{err}"
    );
    assert!(
        err.matches("No such file").count() <= 1,
        "the cause is said once: {err}"
    );
}

#[test]
fn commands_that_do_not_send_never_need_the_smtp_password_and_send_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "PAPERPOST_TEST_SECRET_THAT_IS_NOT_SET";
    let config = Config::new()
        .table(&file_source("hf", "hf_daily_papers_2024-10-25_full.json"))
        .table(&smtp_delivery(&format!(
            "{}username = \"digest\"\npassword_env = \"{secret}\"\n",
            relay(None, closed_port(), 2.0)
        )))
        .write(dir.path());
    let run = |args: &[&str]| {
        cli::output(
            cli::command(&config, args)
                .env("RUST_LOG", "off")
                .env_remove(secret),
        )
    };
    for args in [
        &["check-config"][..],
        &["subscribers", "add", "ada@example.org"],
        &["subscribers", "list"],
        &["fetch"],
        &[
            "preview",
            "--out",
            dir.path().join("p.html").to_str().unwrap(),
        ],
        &["editions"],
        &["send", "--dry-run"],
    ] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }

    let send = run(&["send"]);

    assert!(!send.status.success());
    assert!(stderr(&send).contains(secret), "{}", stderr(&send));
    let store = Store::open(&dir.path().join("pp.sqlite3")).unwrap();
    assert!(
        store.edition_summaries(10).unwrap().is_empty(),
        "nothing planned before the secret was known"
    );
    let check = run(&["check-config", "--smtp"]);
    assert!(!check.status.success() && stderr(&check).contains(secret));
}

#[test]
fn a_cancelled_edition_is_planned_again_and_delivered_digests_stay() {
    // Arrange: no relay yet, so `send` only writes .eml files.
    let dir = tempfile::tempdir().unwrap();
    let papers = file_source("hf", "hf_daily_papers_2024-10-25_full.json");
    let config = Config::new().table(&papers).write(dir.path());
    assert!(paperpost(&config, &["fetch"]).status.success());
    for email in ["ada@example.org", "bob@example.org"] {
        assert!(
            paperpost(&config, &["subscribers", "add", email])
                .status
                .success()
        );
    }
    let send = paperpost(&config, &["send"]);
    assert!(send.status.success());
    assert!(
        stdout(&send).contains("written 2 .eml files to"),
        "{}",
        stdout(&send)
    );
    assert!(
        !stdout(&send).contains("sent 2"),
        "the outbox is not sending"
    );
    let list = stdout(&paperpost(&config, &["editions"]));
    assert!(
        list.contains("2 sent (2 only written as .eml files)"),
        "{list}"
    );
    let store = Store::open(&dir.path().join("pp.sqlite3")).unwrap();
    let key = store.edition_summaries(1).unwrap()[0].period_key.clone();

    // Act: cancel, then configure a relay and send again.
    let cancel = paperpost(&config, &["editions", "cancel", &key]);
    assert!(cancel.status.success());
    assert!(
        stdout(&cancel).contains("withdrew 2 undelivered digests"),
        "{}",
        stdout(&cancel)
    );
    let smtp = SmtpServer::start(None);
    Config::new()
        .table(&papers)
        .table(&smtp_delivery(&relay(None, smtp.port, 10.0)))
        .write(dir.path());
    let again = paperpost(&config, &["send"]);

    // Assert: both readers got the edition over SMTP; cancelling now keeps them.
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(smtp.received_by("ada@example.org"), 1);
    assert_eq!(smtp.received_by("bob@example.org"), 1);
    let cancel = paperpost(&config, &["editions", "cancel", &key]);
    assert!(stdout(&cancel).contains("withdrew 0 undelivered digests, 2 kept"));
    let rows = store.delivery_rows(&key).unwrap();
    assert!(
        rows.iter().all(|r| r.state == DeliveryState::Sent),
        "{rows:?}"
    );
    assert!(stdout(&paperpost(&config, &["send"])).contains("nothing to send"));
    assert_eq!(smtp.log().len(), 2, "no second digest");
}
