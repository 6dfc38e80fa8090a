//! `paperpost store copy` end to end: a store built through the real binary (papers fetched
//! from a recorded file, readers imported, an editor's note and pin, a like, a digest sent
//! over a real SMTP server on loopback, a hard bounce ingested) is copied into a real
//! PostgreSQL database; the copy then answers the operator's commands exactly as the SQLite
//! file does, a second copy adds nothing, and a database holding another store is refused.
use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;

use mail_parser::MessageParser;
use paperpost::domain::Period;
use paperpost::store::test_server;
use support::cli::paperpost;
use support::newsletter::{Config, Newsletter, file_source, relay, smtp_delivery};
use support::smtp::SmtpServer;

const READERS: [&str; 3] = ["ada@example.org", "bob@example.org", "cyd@example.org"];

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(config: &Path, args: &[&str]) -> String {
    let out = paperpost(config, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// The newsletter's config with `[store] url` set to `url`: the same newsletter on the copy.
fn config_on(n: &Newsletter, url: &str) -> PathBuf {
    let text = std::fs::read_to_string(&n.config).unwrap();
    assert!(text.contains("[store]\n"), "{text}");
    let text = text.replacen(
        "[store]\n",
        &format!("[store]\nurl = \"{url}\"\ntls = \"disable\"\n"),
        1,
    );
    let path = n.dir.path().join("config-postgres.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A newsletter on an SQLite file (whatever `PAPERPOST_TEST_BACKEND` says: that is what
/// `store copy` copies) sending to `smtp`.
fn sqlite_newsletter(smtp: &SmtpServer) -> Newsletter {
    Newsletter::from_config(
        Config::new()
            .on_sqlite()
            .table(&file_source(
                "papers",
                "hf_daily_papers_2024-10-25_full.json",
            ))
            .table("[selection]\nmax_papers = 3\n")
            .table(&smtp_delivery(&relay(None, smtp.port, 10.0))),
    )
}

/// A newsletter with a sent edition and a bit of everything the store holds.
fn newsletter_with_history(smtp: &SmtpServer) -> Newsletter {
    let n = sqlite_newsletter(smtp);
    n.fetch_and_import(&READERS.map(String::from));
    let week = Period::week_of(chrono::Utc::now().date_naive()).key();
    ok(&n.config, &["editions", "note", &week, "Long contexts."]);
    ok(&n.config, &["editions", "pin", &week, "arXiv:2410.18975v1"]);
    ok(
        &n.config,
        &["like", "ada@example.org", "arXiv:2410.18975v1"],
    );
    let library = n.dir.path().join("library.csv");
    std::fs::write(
        &library,
        "arxiv,title\n2410.18975,\n,A paper paperpost lacks\n",
    )
    .unwrap();
    ok(
        &n.config,
        &[
            "subscribers",
            "seed",
            "ada@example.org",
            library.to_str().unwrap(),
        ],
    );
    ok(&n.config, &["send"]);
    let to_cyd = smtp
        .messages()
        .into_iter()
        .find(|m| m.to.iter().any(|t| t == "cyd@example.org"))
        .expect("cyd got the digest");
    let message_id = MessageParser::default()
        .parse(&to_cyd.raw)
        .unwrap()
        .message_id()
        .unwrap()
        .to_string();
    let dsn = n.dir.path().join("bounce.eml");
    std::fs::write(
        &dsn,
        support::dsn_by_message_id(
            "dsn-1",
            "cyd@example.org",
            "5.1.1",
            &format!("<{message_id}>"),
        ),
    )
    .unwrap();
    ok(&n.config, &["bounces", "ingest", dsn.to_str().unwrap()]);
    // A report about ada that proves nothing: kept as unverified, acted on never.
    let forged = n.dir.path().join("forged.eml");
    std::fs::write(
        &forged,
        support::dsn_by_message_id("dsn-2", "ada@example.org", "5.1.1", "<not-ours@x>"),
    )
    .unwrap();
    ok(&n.config, &["bounces", "ingest", forged.to_str().unwrap()]);
    n
}

/// The per-table lines of a copy's report: (table, source, copy, new).
fn report(out: &str) -> Vec<(String, u64, u64, u64)> {
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f.as_slice() {
                [t, a, b, c] => Some((
                    t.to_string(),
                    a.parse().ok()?,
                    b.parse().ok()?,
                    c.parse().ok()?,
                )),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn a_copied_store_answers_the_operators_commands_exactly_as_the_sqlite_file_does() {
    // Arrange
    let smtp = SmtpServer::start(None);
    let n = newsletter_with_history(&smtp);
    let url = test_server::shared()
        .unwrap()
        .fresh_database("storecopy")
        .unwrap();

    // Act: copy, then copy again.
    let first = ok(
        &n.config,
        &["store", "copy", "--to", &url, "--tls", "disable"],
    );
    let second = ok(
        &n.config,
        &["store", "copy", "--to", &url, "--tls", "disable"],
    );

    // Assert: every table copied whole, the second run adding nothing.
    let (first, second) = (report(&first), report(&second));
    let row = |r: &[(String, u64, u64, u64)], t: &str| {
        r.iter()
            .find(|x| x.0 == t)
            .unwrap_or_else(|| panic!("no {t} in {r:?}"))
            .clone()
    };
    assert_eq!(
        first.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        paperpost::store::COPIED_TABLES,
        "every table the store knows is copied, in foreign-key order"
    );
    for (table, rows) in [
        ("subscribers", 3),
        ("deliveries", 3),
        ("feedback", 1),
        ("edition_notes", 1),
        ("edition_pins", 1),
        ("seed_imports", 1),
        ("seeds", 2),
        ("bounces", 1),
        ("suppressions", 1),
        ("unverified_reports", 1),
    ] {
        assert_eq!(row(&first, table), (table.into(), rows, rows, rows));
        assert_eq!(row(&second, table), (table.into(), rows, rows, 0));
    }
    assert!(row(&first, "papers").1 > 0);
    assert_eq!(
        row(&first, "paper_vectors").1,
        row(&first, "papers").1,
        "fetch stored a vector per paper, and the copy carries them"
    );
    for (f, s) in first.iter().zip(&second) {
        assert_eq!((f.1, f.2), (s.1, s.2), "{} changed on the second run", f.0);
        assert_eq!(s.3, 0, "the second run copied rows of {}", s.0);
    }

    // The operator's commands answer the same on the copy.
    let on_copy = config_on(&n, &url);
    let week = Period::week_of(chrono::Utc::now().date_naive()).key();
    let mut problems = Vec::new();
    for args in [
        &["deliveries"][..],
        &["subscribers", "list"],
        &["status"],
        &["editions"],
        &["editions", "show", &week],
        &["likes", "ada@example.org"],
        &["subscribers", "show", "ada@example.org"],
    ] {
        let sqlite = ok(&n.config, args);
        assert!(!sqlite.trim().is_empty(), "{args:?} printed nothing");
        let postgres = paperpost(&on_copy, args);
        if !postgres.status.success() {
            problems.push(format!("{args:?} fails on the copy: {}", stderr(&postgres)));
        } else if stdout(&postgres) != sqlite {
            problems.push(format!(
                "{args:?} differs on the copy:\n--- SQLite\n{sqlite}--- PostgreSQL\n{}",
                stdout(&postgres)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let check = ok(&on_copy, &["check-config"]);
    assert!(check.contains("store:      postgres"), "{check}");
}

#[test]
fn a_database_holding_another_newsletters_store_is_refused_and_left_untouched() {
    // Arrange: newsletter A copied into the database; newsletter B, another store.
    let smtp = SmtpServer::start(None);
    let a = sqlite_newsletter(&smtp);
    a.fetch_and_import(&["ada@example.org".into()]);
    let b = sqlite_newsletter(&smtp);
    b.fetch_and_import(&["zed@example.org".into(), "yan@example.org".into()]);
    let url = test_server::shared()
        .unwrap()
        .fresh_database("storecopy")
        .unwrap();
    ok(
        &a.config,
        &["store", "copy", "--to", &url, "--tls", "disable"],
    );

    // Act
    let refused = paperpost(
        &b.config,
        &["store", "copy", "--to", &url, "--tls", "disable"],
    );

    // Assert: refused with why; A's copy still matches A exactly (a re-copy adds nothing
    // and finds the same counts, which B's rows would have broken).
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("already holds another paperpost store"),
        "{}",
        stderr(&refused)
    );
    let again = report(&ok(
        &a.config,
        &["store", "copy", "--to", &url, "--tls", "disable"],
    ));
    assert!(
        again.iter().all(|(_, s, c, new)| s == c && *new == 0),
        "{again:?}"
    );
    let on_copy = config_on(&a, &url);
    let mut cmd = support::cli::command(&on_copy, &["subscribers", "list"]);
    let listed = support::cli::output(&mut cmd);
    if listed.status.success() {
        assert!(!stdout(&listed).contains("zed@example.org"));
    }
}

#[test]
fn copying_a_postgresql_store_is_refused_with_what_to_do() {
    let smtp = SmtpServer::start(None);
    let n = sqlite_newsletter(&smtp);
    let url = test_server::shared()
        .unwrap()
        .fresh_database("storecopy")
        .unwrap();
    let on_pg = config_on(&n, &url);

    let out = paperpost(&on_pg, &["store", "copy", "--to", &url, "--tls", "disable"]);

    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("already PostgreSQL") && stderr(&out).contains("SQLite file"),
        "{}",
        stderr(&out)
    );
}
