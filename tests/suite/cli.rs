//! The command line as a user meets it: config errors, subscriber management, preview.
use crate::support;

use std::path::{Path, PathBuf};

use support::cli;
use support::newsletter::{file_source, store_keys_for};

use cli::{quiet as paperpost, stderr, stdout};

/// The config in `dir` (the store: `paperpost.sqlite3` there, or on PostgreSQL the folder's
/// database, named in a `[store]` table after `extra`).
fn config(dir: &Path, extra: &str) -> PathBuf {
    let store = match store_keys_for(Some(dir)) {
        keys if keys.is_empty() => keys,
        keys => format!("\n[store]\n{keys}"),
    };
    let text = format!(
        r#"[newsletter]
base_url = "https://papers.example.org/"
from = "paperpost <digest@example.org>"

{}{extra}{store}"#,
        file_source("hf", "hf_daily_papers_2024-10-25_full.json")
    );
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Issue 20: what researchers type is explained as it will be applied — exclusions by where
/// they matter, operators, field prefixes, papers by id or link, a bare name with a hint, and
/// word forms spelled right — and what does not map is refused naming the spelling that works.
#[test]
fn topics_check_explains_the_syntax_researchers_type() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let out = paperpost(
        &cfg,
        &[
            "topics",
            "check",
            "transformers, agents, diffusion AND video, math.AP OR cs.NA, ti:survey, \
             arXiv:2410.18958, Yann LeCun, -survey, NOT benchmark, -strict:review",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "canonical: transformers, agents, diffusion AND video, cat:math.AP, cat:cs.NA, \
         ti:survey, \"yann LeCun\", -survey, -benchmark, -strict:review, like:2410.18958",
        "all of these must match: keyword `diffusion`",
        "keyword `survey` in the title only (ti:)",
        "leave out papers about `survey`: in the title or keywords, or said at least 2 times \
         in the abstract; a passing mention in the abstract stays",
        "leave out papers that mention `review` anywhere",
        "more like paper 2410.18958",
        "`transformers` is matched as: transformers\n",
        "`agents` is matched as: agents\n",
        "hint: topic 7 `Yann LeCun` looks like a person's name: did you mean \
         author:\"Yann LeCun\"?",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    for wrong in ["transformerses", "agentses"] {
        assert!(!text.contains(wrong), "{text}");
    }

    let out = paperpost(&cfg, &["topics", "check", "diffusion AND NOT survey"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("`diffusion, -survey`"),
        "{}",
        stderr(&out)
    );
    // A DOI not on arXiv names the paper a feed or a preprint server keys by it.
    let out = paperpost(&cfg, &["topics", "check", "doi:10.1038/nature14539"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("canonical: like:doi:10.1038/nature14539"),
        "{}",
        stdout(&out)
    );
}

/// A line stored before operators and paper references were read (the canonical spelling
/// then left `NOT` or `2410.18958` bare) keeps its meaning: the reader is neither skipped
/// as unreadable nor switched to following a paper; written again, those phrases are quoted.
#[test]
fn a_topic_line_stored_by_an_earlier_version_keeps_its_meaning() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    assert!(
        paperpost(&cfg, &["subscribers", "add", "ada@example.org"])
            .status
            .success()
    );
    let old = "UPDATE subscribers SET topics = 'NOT, 2410.18958, 10.1038/nature14539, -survey' \
               WHERE email = 'ada@example.org'";
    assert_eq!(support::execute_sql(&cfg, old), 1);
    let out = paperpost(&cfg, &["subscribers", "export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(r#""""NOT"", ""2410.18958"", ""10.1038/nature14539"", -survey""#),
        "{text}"
    );
}

#[test]
fn a_bad_config_fails_with_the_file_the_key_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "\n[selection]\nmax_papers = 0\n",
            "config.toml:11: `selection.max_papers`",
        ),
        ("\n[selection]\nmax_papers = \"lots\"\n", "line 11"),
        ("\n[delivery]\nconnections = -1\n", "line 11"),
        ("\n[render]\nabstract = \"long\"\n", "line 11"),
        (
            "\n[delivery]\ntransprot = \"smtp\"\n",
            "unknown field `transprot`",
        ),
        (
            "\n[[sources]]\nname = \"hf\"\nkind = \"file\"\npath = \"x.json\"\n",
            "used twice",
        ),
        (
            "\n[[sources]]\nname = \"x\"\nkind = \"carrier_pigeon\"\n",
            "carrier_pigeon",
        ),
    ];
    for (extra, expected) in cases {
        let cfg = config(dir.path(), extra);
        let out = paperpost(&cfg, &["check-config"]);
        assert!(!out.status.success(), "{extra}");
        assert!(
            stderr(&out).contains(expected),
            "expected {expected:?} for {extra:?}, got:\n{}",
            stderr(&out)
        );
    }
    let missing = paperpost(&dir.path().join("nope.toml"), &["check-config"]);
    assert!(stderr(&missing).contains("nope.toml"));
}

#[test]
fn editions_note_and_pin_set_the_editors_word_before_the_edition_is_planned() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let note = paperpost(
        &cfg,
        &["editions", "note", "2026-W48", "Two lines about the week."],
    );
    assert!(note.status.success(), "{}", stderr(&note));
    let pin = paperpost(
        &cfg,
        &[
            "editions",
            "pin",
            "2026-W48",
            "arXiv:2410.18975v2",
            "--note",
            "Read this first",
        ],
    );
    assert!(pin.status.success(), "{}", stderr(&pin));
    assert!(stdout(&pin).contains("pinned 2410.18975 to 2026-W48"));
    let show = paperpost(&cfg, &["editions", "show", "2026-W48"]);
    let out = stdout(&show);
    assert!(out.contains("note: Two lines about the week."), "{out}");
    assert!(out.contains("pick: 2410.18975 — Read this first"), "{out}");

    for (args, expected) in [
        (
            &["editions", "note", "last week", "x"][..],
            "is not an edition",
        ),
        (
            &["editions", "pin", "2026-W48", "not-an-id"][..],
            "is not an arXiv identifier",
        ),
    ] {
        let bad = paperpost(&cfg, args);
        assert!(!bad.status.success(), "{args:?}");
        assert!(
            stderr(&bad).contains(expected),
            "{args:?}: {}",
            stderr(&bad)
        );
    }
}

/// Issue 22: `next` and `next-day` name the edition `send` plans now in the newsletter's time
/// zone — here UTC+14, a day ahead of UTC for ten hours of every day — and say which key
/// that is.
#[test]
fn editions_next_is_the_edition_of_now_in_the_newsletters_zone() {
    use chrono::Utc;
    use paperpost::domain::{Frequency, Period};
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[newsletter]\n",
        "[newsletter]\ntimezone = \"Pacific/Kiritimati\"\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let zone: chrono_tz::Tz = "Pacific/Kiritimati".parse().unwrap();
    for (word, frequency) in [("next", Frequency::Weekly), ("next-day", Frequency::Daily)] {
        // The key before and after the command: the same but at the stroke of midnight there.
        let before = Period::at(frequency, Utc::now(), zone).key();
        let note = paperpost(
            &cfg,
            &["editions", "note", word, "Set for what send plans now."],
        );
        let after = Period::at(frequency, Utc::now(), zone).key();
        assert!(note.status.success(), "{}", stderr(&note));
        let said = stderr(&note);
        let key = [before, after]
            .into_iter()
            .find(|k| said.contains(&format!("{word} is {k}: the")))
            .unwrap_or_else(|| panic!("{word}: {said}"));
        assert!(said.contains("Pacific/Kiritimati"), "{said}");
        assert!(stdout(&note).contains(&format!("editor's note of {key} set")));
        let show = paperpost(&cfg, &["editions", "show", &key]);
        assert!(
            stdout(&show).contains("note: Set for what send plans now."),
            "{}",
            stdout(&show)
        );
    }
    let bad = paperpost(&cfg, &["editions", "show", "nxt"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("`next`"), "{}", stderr(&bad));
}

#[test]
fn check_config_reports_the_store_backend_and_its_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = paperpost(&config(dir.path(), ""), &["check-config"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = paperpost::store::Store::expected_schema_version();
    let backend = if support::on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert!(
        text.contains(&format!(
            "store:      {backend}, schema version {expected} (current)"
        )),
        "{text}"
    );
}

#[test]
fn check_config_warns_when_the_base_url_is_not_https() {
    let dir = tempfile::tempdir().unwrap();
    let https = paperpost(&config(dir.path(), ""), &["check-config"]);
    assert!(https.status.success());
    assert!(!stderr(&https).contains("not https"), "{}", stderr(&https));
    let text = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    let http = dir.path().join("http.toml");
    std::fs::write(
        &http,
        text.replace("https://papers.example.org/", "http://papers.example.org/"),
    )
    .unwrap();
    let out = paperpost(&http, &["check-config"]);
    assert!(out.status.success(), "a warning, not an error");
    assert!(
        stderr(&out).contains("`newsletter.base_url` (http://papers.example.org/) is not https"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn subscribers_round_trip_through_csv_and_bad_rows_are_reported_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let csv = dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "email,name,topics,status,frequency\n\
         ada@example.org,Ada,\"\"\"diffusion model\"\", cat:cs.CV\",active,weekly\n\
         not-an-address,Bad,,active,weekly\n\
         alan@example.org,,agent,paused,daily\n\
         ADA@example.org,Dup,,active,weekly\n\
         eve@example.org,Eve,cat:CS CL,active,weekly\n\
         grace@example.org,Grace,,active,hourly\n\
         bob@example.org,Bob,min_upvotes:5,,\n",
    )
    .unwrap();

    let out = paperpost(&cfg, &["subscribers", "import", csv.to_str().unwrap()]);

    assert_eq!(out.status.code(), Some(1), "partial import exits 1");
    let err = stderr(&out);
    for (line, what) in [
        (3, "not-an-address"),
        (5, "already subscribed"),
        (6, "cat:CS CL"),
        (7, "hourly"),
    ] {
        assert!(
            err.contains(&format!("in.csv:{line}:")) && err.contains(what),
            "line {line} ({what}) in:\n{err}"
        );
    }
    assert!(
        stdout(&out).contains("imported 3 subscribers, 4 rows skipped"),
        "{}",
        stdout(&out)
    );

    let exported = paperpost(&cfg, &["subscribers", "export"]);
    let first = stdout(&exported);
    assert!(
        first.starts_with("email,name,topics,status,frequency"),
        "{first}"
    );
    assert!(first.contains("alan@example.org,,agent,paused,daily"));
    // Re-import the export into a fresh store: the export is the same.
    let dir2 = tempfile::tempdir().unwrap();
    let cfg2 = config(dir2.path(), "");
    let file = dir2.path().join("export.csv");
    std::fs::write(&file, &first).unwrap();
    assert!(
        paperpost(&cfg2, &["subscribers", "import", file.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(stdout(&paperpost(&cfg2, &["subscribers", "export"])), first);
}

#[test]
fn adding_a_known_address_is_refused_and_remove_unsubscribes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    assert!(
        paperpost(
            &cfg,
            &["subscribers", "add", "ada@example.org", "--topics", "llm"]
        )
        .status
        .success()
    );
    let dup = paperpost(&cfg, &["subscribers", "add", "Ada@Example.org"]);
    assert!(!dup.status.success());
    assert!(
        stderr(&dup).contains("already subscribed"),
        "{}",
        stderr(&dup)
    );
    let bad = paperpost(&cfg, &["subscribers", "add", "ada@", "--topics", "llm"]);
    assert!(!bad.status.success() && stderr(&bad).contains("not a valid email address"));
    assert!(
        paperpost(&cfg, &["subscribers", "remove", "ada@example.org"])
            .status
            .success()
    );
    let list = stdout(&paperpost(
        &cfg,
        &["subscribers", "list", "--status", "unsubscribed"],
    ));
    assert!(list.starts_with("ada@example.org\tunsubscribed"), "{list}");
}

/// `paperpost send`, then the one mail it wrote to the outbox, parsed.
fn send_the_one_mail(cfg: &Path, dir: &Path) -> Vec<u8> {
    let send = paperpost(cfg, &["send"]);
    assert!(send.status.success(), "{}", stderr(&send));
    let mails: Vec<_> = std::fs::read_dir(dir.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    std::fs::read(&mails[0]).unwrap()
}

/// `paperpost preview FLAG VALUE --out DIR/p.html`: the page written, after checking the
/// command succeeded.
fn preview_page(cfg: &Path, dir: &Path, flag: &str, value: &str) -> String {
    let page = dir.join("p.html");
    let out = paperpost(
        cfg,
        &["preview", flag, value, "--out", page.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read_to_string(&page).unwrap()
}

#[test]
fn preview_renders_the_digest_of_some_topics_without_sending() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    assert!(paperpost(&cfg, &["fetch"]).status.success());
    let html = preview_page(&cfg, dir.path(), "--topics", "video");
    assert!(
        html.contains("Unbounded: A Generative Infinite Game"),
        "a video paper is in the preview"
    );
    assert!(!html.contains("<script"));
    assert!(!dir.path().join("outbox").exists(), "preview sends nothing");
}

#[test]
fn every_command_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    for cmd in [
        "fetch",
        "preview",
        "send",
        "run",
        "subscribers",
        "deliveries",
        "check-config",
        "like",
        "dislike",
        "likes",
    ] {
        let out = paperpost(&cfg, &[cmd, "--help"]);
        assert!(out.status.success(), "{cmd}");
        assert!(stdout(&out).lines().count() > 3, "{cmd} --help is too thin");
    }
}

#[test]
fn like_and_dislike_record_a_readers_verdict_and_undo_forgets_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    assert!(paperpost(&cfg, &["fetch"]).status.success());
    let add = paperpost(&cfg, &["subscribers", "add", "ada@example.org"]);
    assert!(add.status.success(), "{}", stderr(&add));

    let liked = paperpost(&cfg, &["like", "ada@example.org", "arXiv:2410.18975v1"]);
    assert!(liked.status.success(), "{}", stderr(&liked));
    assert!(
        stdout(&liked).contains("Unbounded: A Generative Infinite Game"),
        "{}",
        stdout(&liked)
    );
    let disliked = paperpost(
        &cfg,
        &[
            "dislike",
            "ADA@example.org",
            "https://arxiv.org/abs/2410.18978",
        ],
    );
    assert!(disliked.status.success(), "{}", stderr(&disliked));
    let list = stdout(&paperpost(&cfg, &["likes", "ada@example.org"]));
    assert!(list.contains("like\t2410.18975\tUnbounded"), "{list}");
    assert!(list.contains("dislike\t2410.18978\tFramer"), "{list}");

    // The latest verdict wins; undoing the wrong kind changes nothing.
    assert!(
        paperpost(&cfg, &["dislike", "ada@example.org", "2410.18975"])
            .status
            .success()
    );
    let wrong = paperpost(&cfg, &["like", "ada@example.org", "2410.18975", "--undo"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("dislikes 2410.18975"),
        "{}",
        stderr(&wrong)
    );
    let undo = paperpost(
        &cfg,
        &["dislike", "ada@example.org", "2410.18975", "--undo"],
    );
    assert!(undo.status.success(), "{}", stderr(&undo));
    let list = stdout(&paperpost(&cfg, &["likes", "ada@example.org"]));
    assert!(
        !list.contains("2410.18975") && list.contains("2410.18978"),
        "{list}"
    );

    for (args, expected) in [
        (
            ["like", "nobody@example.org", "2410.18975"],
            "no subscriber nobody@example.org",
        ),
        (
            ["like", "ada@example.org", "2499.99999"],
            "paper 2499.99999 is not in the store",
        ),
        (
            ["dislike", "ada@example.org", "not-an-id"],
            "`not-an-id` is not an arXiv identifier",
        ),
    ] {
        let out = paperpost(&cfg, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_reader_who_liked_a_paper_gets_a_more_like_section_naming_it() {
    // Arrange: the recorded HF papers, a reader who follows `video` and liked a paper on
    // knowledge editing and hallucinations.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    assert!(paperpost(&cfg, &["fetch"]).status.success());
    let add = paperpost(
        &cfg,
        &["subscribers", "add", "ada@example.org", "--topics", "video"],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    let like = paperpost(&cfg, &["like", "ada@example.org", "2410.16251"]);
    assert!(like.status.success(), "{}", stderr(&like));
    let show = stdout(&paperpost(
        &cfg,
        &["subscribers", "show", "ada@example.org"],
    ));
    assert!(
        show.contains("likes:        2410.16251") && show.contains("dislikes:     none"),
        "{show}"
    );
    // The reader's preview already shows the section.
    let html = preview_page(&cfg, dir.path(), "--subscriber", "ada@example.org");
    assert!(html.contains("More like what you liked"), "preview: {html}");
    assert!(html.contains("Should We Really Edit Language Models?"));

    // Act
    let raw = send_the_one_mail(&cfg, dir.path());

    // Assert: one mail whose section comes after the video picks and names the liked paper.
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let text = msg.body_text(0).unwrap().replace('\n', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let section = text.find("MORE LIKE WHAT YOU LIKED").expect("the section");
    assert!(text.find("Unbounded: A Generative Infinite Game").unwrap() < section);
    let editing = text
        .find("Should We Really Edit Language Models?")
        .expect("the closest paper is recommended");
    assert!(editing > section);
    assert!(
        text.contains(
            "Close to papers you liked: “Can Knowledge Editing Really Correct Hallucinations?”"
        ),
        "{text}"
    );
    assert!(text.contains("/feedback/") && text.contains("?v=dislike"));
    let html = msg.body_html(0).unwrap();
    assert!(html.contains("More like what you liked"));
}

/// The arXiv ids a digest links to, in the order they first appear.
fn linked_ids(s: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for part in s.split("arxiv.org/abs/").skip(1) {
        let id: String = part
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let id = id.trim_end_matches('.').to_string();
        if !id.is_empty() && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The reader's own web preview (`/preferences/{token}/preview`, the link on their
/// preferences page), served over the store of `cfg` at the real time, as the binary ran.
fn web_preview(cfg: &Path, email: &str) -> String {
    let store = support::open_store(cfg);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let app = support::web_app::spawn_on(
            store.clone(),
            tempfile::tempdir().unwrap(),
            paperpost::web::WebSettings::default(),
            |_| {},
        )
        .await;
        *app.clock.lock().unwrap() = chrono::Utc::now();
        let token = app.manage_token(&app.subscriber(email));
        let r = app.get(&format!("preferences/{token}/preview")).await;
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let page = r.text().await.unwrap();
        // The preferences page links there.
        let prefs = app.get(&format!("preferences/{token}")).await;
        let prefs = prefs.text().await.unwrap();
        assert!(
            prefs.contains(&format!("/preferences/{token}/preview")),
            "{prefs}"
        );
        app.stop().await;
        page
    })
}

#[test]
fn a_reader_who_follows_only_liked_papers_gets_them_ranked_by_likeness_and_the_preview_shows_that_digest()
 {
    // Arrange: the recorded HF papers; a reader whose topics are one liked paper (knowledge
    // editing and hallucinations).
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    assert!(paperpost(&cfg, &["fetch"]).status.success());
    let add = paperpost(
        &cfg,
        &[
            "subscribers",
            "add",
            "ada@example.org",
            "--topics",
            "like:2410.16251",
        ],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    let previewed = linked_ids(&preview_page(
        &cfg,
        dir.path(),
        "--subscriber",
        "ada@example.org",
    ));
    let web_previewed = linked_ids(&web_preview(&cfg, "ada@example.org"));

    // Act
    let raw = send_the_one_mail(&cfg, dir.path());

    // Assert: not the trending list but papers like the liked one, first the closest, each
    // saying why; the preview showed the same papers in the same order.
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let html = msg.body_html(0).unwrap();
    let mailed = linked_ids(&html);
    assert!(!mailed.is_empty());
    assert_eq!(previewed, mailed, "the preview is the digest");
    assert_eq!(
        web_previewed, mailed,
        "the reader's web preview is the digest"
    );
    assert!(
        !mailed.contains(&"2410.16251".to_string()),
        "not the liked paper itself"
    );
    let rank = |id: &str| mailed.iter().position(|m| m == id);
    assert_eq!(
        rank("2410.18785"),
        Some(0),
        "model editing first: {mailed:?}"
    );
    assert!(
        rank("2410.18860") < Some(3),
        "hallucinations next: {mailed:?}"
    );
    assert!(
        rank("2410.18975").is_none_or(|r| r > 5),
        "an off-topic trending game paper: {mailed:?}"
    );
    let text = msg.body_text(0).unwrap().replace('\n', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains(
            "Close to papers you liked: “Can Knowledge Editing Really Correct Hallucinations?”"
        ),
        "{text}"
    );
    assert!(
        !text.contains("MORE LIKE WHAT YOU LIKED"),
        "the whole digest is the profile's"
    );
}

/// Rows the store can hold but today's rules refuse: a topic line that no longer parses,
/// bytes that are not UTF-8, an address at localhost.
const POISON: [(&str, &str, &str); 3] = [
    (
        "bob@example.org",
        "UPDATE subscribers SET topics = 'cat:CS CL' WHERE email = 'bob@example.org'",
        "topics",
    ),
    (
        "carol@example.org",
        "UPDATE subscribers SET topics = CAST(X'6C6CFF' AS TEXT) WHERE email = 'carol@example.org'",
        "UTF-8",
    ),
    (
        "dave@example.org",
        "UPDATE subscribers SET email = 'dave@localhost', email_key = 'dave@localhost' WHERE email = 'dave@example.org'",
        "localhost",
    ),
];

#[test]
fn stored_rows_that_no_longer_read_are_reported_and_skipped_while_the_rest_is_sent() {
    // Arrange: four readers, three of whose rows then go bad in the store.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    for email in [
        "ada@example.org",
        "bob@example.org",
        "carol@example.org",
        "dave@example.org",
    ] {
        assert!(
            paperpost(&cfg, &["subscribers", "add", email])
                .status
                .success()
        );
    }
    // (PostgreSQL's text columns cannot hold bytes that are not UTF-8: Carol stays good.)
    let poison: Vec<_> = POISON
        .iter()
        .filter(|(_, _, why)| !(support::on_postgres() && *why == "UTF-8"))
        .collect();
    for (_, sql, _) in &poison {
        assert_eq!(support::execute_sql(&cfg, sql), 1, "{sql}");
    }
    assert!(paperpost(&cfg, &["fetch"]).status.success());

    // Act + Assert: listing and exporting show the good reader and name the bad ones.
    for args in [&["subscribers", "list"][..], &["subscribers", "export"]] {
        let out = paperpost(&cfg, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("ada@example.org"), "{args:?}");
        let err = stderr(&out);
        for (email, _, why) in &poison {
            let shown = email.replace("example.org", "").replace('@', "");
            assert!(
                err.contains(&shown) && err.contains(why),
                "{args:?} {email} {why}:\n{err}"
            );
            assert!(!stdout(&out).contains(&shown), "{args:?} lists {email}");
        }
    }
    let status = paperpost(&cfg, &["status"]);
    assert!(status.status.success(), "{}", stderr(&status));

    // Sending goes on for the good reader; the skipped ones are logged by id and reason.
    let send = cli::output(&mut cli::command(&cfg, &["send"]));
    assert!(send.status.success(), "{}", stderr(&send));
    let log = stderr(&send);
    assert!(log.contains("skipping a subscriber"), "{log}");
    let mails: Vec<String> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(
        mails.len(),
        4 - poison.len(),
        "only the good readers' digests"
    );
    assert!(
        mails.iter().any(|m| m.contains("To: ada@example.org")),
        "{}",
        &mails[0][..400.min(mails[0].len())]
    );

    // The bad rows can still be erased.
    assert!(
        paperpost(
            &cfg,
            &["subscribers", "remove", "--purge", "dave@localhost"]
        )
        .status
        .success()
    );
}

#[test]
fn an_empty_or_foreign_store_file_is_refused_by_every_command() {
    if support::on_postgres() {
        eprintln!("skipped on PostgreSQL: about the SQLite store file itself");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let store = dir.path().join("paperpost.sqlite3");
    let cases: [(&[u8], &str); 2] = [
        (b"", "is empty (0 bytes)"),
        (
            b"name,email\nada,ada@example.org\n",
            "not an SQLite database",
        ),
    ];
    for (content, want) in cases {
        std::fs::write(&store, content).unwrap();
        for args in [
            &["check-config"][..],
            &["send"],
            &["subscribers", "list"],
            &["fetch"],
        ] {
            let out = paperpost(&cfg, args);
            assert!(!out.status.success(), "{args:?} accepted {want}");
            let err = stderr(&out);
            assert!(
                err.contains(want)
                    && err.contains("not a paperpost store")
                    && err.contains("paperpost.sqlite3"),
                "{args:?}: {err}"
            );
        }
        assert_eq!(
            std::fs::read(&store).unwrap(),
            content,
            "the file is left as it was"
        );
    }
    // A missing file still makes a new store.
    std::fs::remove_file(&store).unwrap();
    assert!(paperpost(&cfg, &["check-config"]).status.success());
}

#[test]
fn a_csv_import_keeps_every_good_row_whatever_the_bad_ones_hold_and_export_escapes_formulas() {
    // Arrange: the rows that stopped an import, between good ones.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let csv = dir.path().join("in.csv");
    let mut data = b"email,name,topics,status\n".to_vec();
    data.extend_from_slice(
        b"ada@example.org,\"=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",caf\xc3\xa9,active\n",
    );
    data.extend_from_slice(b"b\xffd@example.org,Bad,,active\n");
    data.extend_from_slice("lukasz@example.org,Łukasz,au: Łukasz,active\n".as_bytes());
    data.extend_from_slice(b"only,two\n");
    data.extend_from_slice(b"x@example.org,\"never closed,,active\n");
    data.extend_from_slice(
        "emile@example.org,Émile Borel,\"日本語, author:\"\"Émile Borel\"\"\",active\n".as_bytes(),
    );
    data.extend_from_slice(b"\"\"\"q r\"\"@example.org\",,,active\n");
    data.extend_from_slice(b"grace@example.org,@grace,-survey,active\n");
    std::fs::write(&csv, &data).unwrap();

    // Act
    let out = paperpost(&cfg, &["subscribers", "import", csv.to_str().unwrap()]);

    // Assert: four good rows in, four bad ones named by line.
    assert_eq!(out.status.code(), Some(1), "partial import exits 1");
    assert!(
        stdout(&out).contains("imported 4 subscribers, 4 rows skipped"),
        "{}",
        stdout(&out)
    );
    let err = stderr(&out);
    for (line, what) in [
        (3, "not valid UTF-8"),
        (5, "the row has 2 fields"),
        (6, "unclosed quote"),
        (8, "quoted local parts"),
    ] {
        assert!(
            err.contains(&format!("in.csv:{line}: ")) && err.contains(what),
            "line {line} ({what}):\n{err}"
        );
    }
    let exported = stdout(&paperpost(&cfg, &["subscribers", "export"]));
    assert!(exported.contains("'=HYPERLINK("), "{exported}");
    assert!(
        exported.contains("grace@example.org,'@grace,'-survey"),
        "{exported}"
    );
    assert!(exported.contains("author:\"\"Łukasz\"\""), "{exported}");
    // The export re-imports to the same subscribers.
    let dir2 = tempfile::tempdir().unwrap();
    let cfg2 = config(dir2.path(), "");
    let file = dir2.path().join("export.csv");
    std::fs::write(&file, &exported).unwrap();
    assert!(
        paperpost(&cfg2, &["subscribers", "import", file.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(
        stdout(&paperpost(&cfg2, &["subscribers", "export"])),
        exported
    );
}
