//! A new operator's path, through the real binary: `init`, `check-config`, `fetch` from
//! recorded responses, a test digest to themselves over real SMTP, the real edition;
//! editions and their cancelling; secrets only where used; reader administration.
use crate::support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use mail_parser::MessageParser;
use paperpost::domain::DeliveryState;
use support::cli;
use support::newsletter::{Config, closed_port, file_source, relay, smtp_delivery, store_keys_for};
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
    // (On PostgreSQL, the store is the test's database.)
    let text = text.replacen(
        "[store]\n",
        &format!("[store]\n{}", store_keys_for(Some(&site))),
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
    let store = support::open_store(&config);
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
    let store = support::open_store(&config);
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
    let store = support::open_store(&config);
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

#[test]
fn a_reader_is_edited_and_shown_and_a_suppressed_address_is_lifted() {
    // Arrange: Bob's mailbox refuses the first digest with a 550.
    let smtp = SmtpServer::start(Some(
        serde_json::json!({"recipients": {"bob@example.org": ["550 rcpt", "ok"]}}),
    ));
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new()
        .table(&file_source("hf", "hf_daily_papers_2024-10-25_full.json"))
        .table(&smtp_delivery(&relay(None, smtp.port, 10.0)))
        .write(dir.path());
    assert!(paperpost(&config, &["fetch"]).status.success());
    for (email, topics) in [("ada@example.org", "llm"), ("bob@example.org", "")] {
        let add = paperpost(&config, &["subscribers", "add", email, "--topics", topics]);
        assert!(add.status.success());
    }

    // Act: edit Ada; bad edits change nothing.
    let edit = paperpost(
        &config,
        &[
            "subscribers",
            "edit",
            "ADA@example.org",
            "--topics",
            "video",
            "--hour",
            "9",
        ],
    );
    let edit_tz = paperpost(
        &config,
        &[
            "subscribers",
            "edit",
            "ada@example.org",
            "--timezone",
            "Europe/Berlin",
            "--name",
            "Ada L.",
        ],
    );
    let bad = [
        (&["--hour", "24"][..], "not an hour"),
        (&["--timezone", "Mars/Olympus"], "Mars/Olympus"),
        (&["--frequency", "hourly"], "hourly"),
        (&["--topics", "cat:CS CL"], "cat:CS CL"),
        (&[], "nothing to change"),
    ];
    for (args, expected) in bad {
        let mut all = vec!["subscribers", "edit", "ada@example.org"];
        all.extend_from_slice(args);
        let out = paperpost(&config, &all);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let unknown = paperpost(
        &config,
        &["subscribers", "edit", "eve@example.org", "--hour", "9"],
    );

    // Assert
    assert!(edit.status.success() && edit_tz.status.success());
    assert_eq!(unknown.status.code(), Some(1));
    let show = stdout(&paperpost(
        &config,
        &["subscribers", "show", "ada@example.org"],
    ));
    assert!(show.starts_with("ada@example.org (Ada L.)"), "{show}");
    for line in [
        "topics:       video",
        "weekly, at 09:00 Europe/Berlin",
        "last digest:  none yet",
        "suppressed:   no",
    ] {
        assert!(show.contains(line), "{line:?} in:\n{show}");
    }

    // The edition: Bob's address refuses it and is suppressed, with the reply as reason.
    let send = paperpost(&config, &["send"]);
    assert_eq!(send.status.code(), Some(1), "the failure is reported");
    let show = stdout(&paperpost(
        &config,
        &["subscribers", "show", "bob@example.org"],
    ));
    assert!(show.contains("failed") && show.contains("550"), "{show}");
    assert!(show.contains("suppressed:   since"), "{show}");
    let ada = stdout(&paperpost(
        &config,
        &["subscribers", "show", "ada@example.org"],
    ));
    assert!(ada.contains(" sent "), "{ada}");

    let lift = paperpost(&config, &["deliveries", "unsuppress", "Bob@example.org"]);
    assert!(lift.status.success());
    assert!(
        stdout(&lift).contains("no longer suppressed"),
        "{}",
        stdout(&lift)
    );
    let again = paperpost(&config, &["deliveries", "unsuppress", "bob@example.org"]);
    assert_eq!(again.status.code(), Some(1), "not suppressed any more");
    assert!(
        stdout(&paperpost(
            &config,
            &["subscribers", "show", "bob@example.org"]
        ))
        .contains("suppressed:   no")
    );
    assert!(
        paperpost(&config, &["deliveries", "retry", "--failed"])
            .status
            .success()
    );
    assert!(paperpost(&config, &["send"]).status.success());
    assert_eq!(
        smtp.received_by("bob@example.org"),
        1,
        "mailed again once lifted"
    );
}

#[test]
fn import_with_update_changes_known_readers_in_the_given_columns_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new().write(dir.path());
    let add = paperpost(
        &config,
        &[
            "subscribers",
            "add",
            "ada@example.org",
            "--topics",
            "llm",
            "--name",
            "Ada",
            "--hour",
            "7",
        ],
    );
    assert!(add.status.success());
    let csv = dir.path().join("update.csv");
    std::fs::write(
        &csv,
        "email,topics,frequency\n\
         ADA@example.org,video,daily\n\
         alan@example.org,agent,weekly\n\
         bad-address,x,weekly\n",
    )
    .unwrap();

    let plain = paperpost(&config, &["subscribers", "import", csv.to_str().unwrap()]);
    let export_before = stdout(&paperpost(&config, &["subscribers", "export"]));
    let update = paperpost(
        &config,
        &["subscribers", "import", "--update", csv.to_str().unwrap()],
    );
    let again = paperpost(
        &config,
        &["subscribers", "import", "--update", csv.to_str().unwrap()],
    );

    assert_eq!(plain.status.code(), Some(1));
    assert!(
        stderr(&plain).contains("update.csv:2:") && stderr(&plain).contains("already subscribed")
    );
    assert!(
        export_before.contains("ada@example.org,Ada,llm,active,weekly,,7"),
        "{export_before}"
    );
    assert_eq!(
        update.status.code(),
        Some(1),
        "the bad row is still reported"
    );
    assert!(
        stdout(&update).contains("imported 0 subscribers, updated 1, 1 unchanged, 1 rows skipped"),
        "{}",
        stdout(&update)
    );
    assert!(
        stdout(&again).contains("updated 0, 2 unchanged"),
        "{}",
        stdout(&again)
    );
    let export = stdout(&paperpost(&config, &["subscribers", "export"]));
    assert!(
        export.contains("ada@example.org,Ada,video,active,daily,,7"),
        "topics and frequency changed; name and hour kept:\n{export}"
    );
}

#[test]
fn subscribers_round_trip_through_a_listmonk_csv_and_its_attributes_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new().write(dir.path());
    let ours = dir.path().join("ours.csv");
    std::fs::write(
        &ours,
        "email,name,topics,status,frequency,timezone,send_hour\n\
         ada@example.org,\"Lovelace, Ada\",\"\"\"diffusion model\"\", cat:cs.CV\",active,weekly,Europe/London,8\n\
         alan@example.org,,agent,paused,daily,,\n\
         grace@example.org,Grace,,unsubscribed,weekly,,\n",
    )
    .unwrap();
    assert!(
        paperpost(&config, &["subscribers", "import", ours.to_str().unwrap()])
            .status
            .success()
    );
    let original = stdout(&paperpost(&config, &["subscribers", "export"]));

    // Act: export as listmonk, import that into a fresh store (format detected).
    let listmonk = paperpost(&config, &["subscribers", "export", "--format", "listmonk"]);
    let dir2 = tempfile::tempdir().unwrap();
    let config2 = Config::new().write(dir2.path());
    let file = dir2.path().join("listmonk.csv");
    std::fs::write(&file, &listmonk.stdout).unwrap();
    let import = paperpost(&config2, &["subscribers", "import", file.to_str().unwrap()]);

    // Assert
    let text = stdout(&listmonk);
    assert!(text.starts_with("email,name,attributes\n"), "{text}");
    assert!(text.contains("\"\"send_hour\"\":8"), "{text}");
    assert!(import.status.success(), "{}", stderr(&import));
    assert_eq!(
        stdout(&paperpost(&config2, &["subscribers", "export"])),
        original
    );

    // A listmonk export with its own columns and foreign attributes: ours are used, the
    // others are named, a blocklisted reader gets nothing.
    let theirs = dir2.path().join("theirs.csv");
    std::fs::write(
        &theirs,
        "uuid,email,name,attributes,status,created_at,updated_at\n\
         1,new@example.org,New,\"{\"\"topics\"\": [\"\"graph neural network\"\", \"\"cat:cs.LG\"\"], \"\"city\"\": \"\"Oslo\"\"}\",enabled,x,y\n\
         2,spam@example.org,,{},blocklisted,x,y\n\
         3,broken@example.org,,{not json,enabled,x,y\n",
    )
    .unwrap();
    let out = paperpost(
        &config2,
        &["subscribers", "import", theirs.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("theirs.csv:4:") && stderr(&out).contains("not valid JSON"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("city"),
        "foreign keys are named: {}",
        stderr(&out)
    );
    let export = stdout(&paperpost(&config2, &["subscribers", "export"]));
    assert!(
        export.contains("new@example.org,New,\"\"\"graph neural network\"\", cat:cs.LG\",active"),
        "{export}"
    );
    assert!(
        export.contains("spam@example.org,,,unsubscribed"),
        "{export}"
    );
}

#[test]
fn preview_open_says_so_when_no_browser_can_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new()
        .table(&file_source("hf", "hf_daily_papers_2024-10-25_full.json"))
        .write(dir.path());
    assert!(paperpost(&config, &["fetch"]).status.success());
    let no_tools = tempfile::tempdir().unwrap();

    // No opener on PATH: the desktop cannot open anything.
    let out = cli::output(
        cli::command(&config, &["preview", "--topics", "video", "--open"])
            .env("RUST_LOG", "off")
            .env("PATH", no_tools.path()),
    );

    assert_eq!(out.status.code(), Some(1), "not a success");
    assert!(
        stderr(&out).contains("could not open a browser"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("preview written to"),
        "the page is still written"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_progress_names_each_source_and_counts_its_pages_before_it_is_done() {
    use paperpost::sources::{FetchProgress, fetch_all_reporting};
    use std::sync::Mutex;

    let server = recorded_sources().await;
    let toml = format!(
        "{}\n{}",
        support::recorded::feeds_toml(&server),
        support::recorded::query_toml(&server)
    );
    let events = Mutex::new(Vec::new());
    let on = |p: FetchProgress<'_>| {
        let e = match p {
            FetchProgress::Page(pg) => (pg.source.clone(), Some(pg.pages), pg.papers),
            FetchProgress::Done(r) => (r.name.clone(), None, r.papers.len()),
        };
        events.lock().unwrap().push(e);
    };

    let reports = fetch_all_reporting(
        &support::sources(&toml),
        &support::fetcher(),
        chrono::Utc::now().date_naive(),
        &on,
    )
    .await;

    let events = events.into_inner().unwrap();
    assert!(reports.iter().all(|r| r.error.is_none()));
    for r in &reports {
        let mine: Vec<_> = events.iter().filter(|e| e.0 == r.name).collect();
        let done = mine.iter().position(|e| e.1.is_none()).expect("done event");
        assert_eq!(done, mine.len() - 1, "{}: pages come before done", r.name);
        let pages: Vec<usize> = mine.iter().filter_map(|e| e.1).collect();
        assert!(!pages.is_empty(), "{}: no page progress", r.name);
        assert!(
            pages.windows(2).all(|w| w[0] <= w[1]),
            "{}: {pages:?}",
            r.name
        );
        assert_eq!(
            pages.last().copied(),
            Some(r.documents + r.not_modified),
            "{}",
            r.name
        );
    }
    let query: Vec<_> = events
        .iter()
        .filter(|e| e.0 == "testing")
        .filter_map(|e| e.1)
        .collect();
    assert!(
        query.contains(&2),
        "the API query's two pages are counted: {query:?}"
    );
    server.stop().await;
}

#[test]
fn the_new_commands_explain_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new().write(dir.path());
    for args in [
        &["init", "--help"][..],
        &["editions", "--help"],
        &["editions", "cancel", "--help"],
        &["subscribers", "edit", "--help"],
        &["subscribers", "show", "--help"],
        &["subscribers", "revoke", "--help"],
        &["deliveries", "unsuppress", "--help"],
        &["check-config", "--help"],
        &["operators", "--help"],
        &["operators", "add", "--help"],
        &["operators", "passwd", "--help"],
    ] {
        let out = paperpost(&config, args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            stdout(&out).lines().count() > 3,
            "{args:?} --help is too thin"
        );
    }
    let send = stdout(&paperpost(&config, &["send", "--help"]));
    for flag in ["--to", "--as", "--topics"] {
        assert!(send.contains(flag), "send --help names {flag}");
    }
}

/// `paperpost --config <config> <args…>` with `input` on its standard input (a script's pipe).
fn paperpost_with_stdin(config: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = cli::command(config, args)
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may refuse (and exit) before it reads: a closed pipe is no failure here.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    eprintln!(
        "$ paperpost {args:?} < … → {}\n{}{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    out
}

#[test]
fn operators_are_added_from_the_environment_or_stdin_listed_given_new_passwords_and_removed() {
    // Arrange: a fresh newsletter.
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new().write(dir.path());
    let with_env = |args: &[&str], value: &str| {
        cli::output(
            cli::command(&config, args)
                .env("RUST_LOG", "off")
                .env("PP_OPERATOR_PASSWORD", value)
                .stdin(Stdio::null()),
        )
    };
    let add_env = [
        "operators",
        "add",
        "Ada",
        "--password-env",
        "PP_OPERATOR_PASSWORD",
    ];

    // Act + assert: from the environment and from a pipe.
    let ada = with_env(&add_env, "correct horse battery staple");
    assert!(ada.status.success(), "{}", stderr(&ada));
    assert!(
        stdout(&ada).contains("added operator ada"),
        "stored in lower case"
    );
    let bob = paperpost_with_stdin(
        &config,
        &["operators", "add", "bob"],
        "bob's long password\n",
    );
    assert!(bob.status.success(), "{}", stderr(&bob));

    // Bad input: each says what is wrong, and nothing is stored.
    let refused: [(Output, &str); 7] = [
        (
            with_env(&add_env, "another password"),
            "already an operator ada",
        ),
        (
            with_env(
                &[
                    "operators",
                    "add",
                    "carol",
                    "--password-env",
                    "PP_OPERATOR_PASSWORD",
                ],
                "short",
            ),
            "at least 12",
        ),
        (
            with_env(
                &[
                    "operators",
                    "add",
                    "carol",
                    "--password-env",
                    "PP_OPERATOR_PASSWORD",
                ],
                "long enough\u{7}password",
            ),
            "control characters",
        ),
        (
            paperpost(
                &config,
                &[
                    "operators",
                    "add",
                    "carol",
                    "--password-env",
                    "PP_UNSET_VARIABLE",
                ],
            ),
            "PP_UNSET_VARIABLE is not set",
        ),
        (
            paperpost_with_stdin(&config, &["operators", "add", "carol"], ""),
            "no password",
        ),
        (
            paperpost_with_stdin(
                &config,
                &["operators", "add", "a b"],
                "a long enough password\n",
            ),
            "letters a-z",
        ),
        (
            paperpost_with_stdin(
                &config,
                &["operators", "passwd", "dave"],
                "a long enough password\n",
            ),
            "no operator dave",
        ),
    ];
    for (out, says) in refused {
        assert_eq!(out.status.code(), Some(1), "{says}");
        assert!(stderr(&out).contains(says), "{says}: {}", stderr(&out));
    }
    let store = support::open_store(&config);
    let name = |n: &str| paperpost::domain::OperatorName::parse(n).unwrap();
    assert_eq!(store.operator_password_hash(&name("carol")).unwrap(), None);
    let hash = store.operator_password_hash(&name("ada")).unwrap().unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains("correct horse"));

    let list = paperpost(&config, &["operators", "list"]);
    let text = stdout(&list);
    assert!(
        text.contains("ada") && text.contains("bob") && text.contains("never"),
        "{text}"
    );

    // A new password replaces the hash; removing an operator removes them.
    let passwd = paperpost_with_stdin(
        &config,
        &["operators", "passwd", "ada"],
        "a new long password\r\n",
    );
    assert!(passwd.status.success(), "{}", stderr(&passwd));
    assert_ne!(
        store.operator_password_hash(&name("ada")).unwrap().unwrap(),
        hash
    );
    assert!(
        paperpost(&config, &["operators", "remove", "bob"])
            .status
            .success()
    );
    assert_eq!(
        paperpost(&config, &["operators", "remove", "bob"])
            .status
            .code(),
        Some(1)
    );
    let text = stdout(&paperpost(&config, &["operators", "list"]));
    assert!(text.contains("ada") && !text.contains("bob"), "{text}");
}
