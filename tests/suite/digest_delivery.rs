//! The whole pipeline through its real parts: recorded HF and arXiv responses served by a
//! local HTTP server → `paperpost fetch` → three subscribers → `paperpost send` over SMTP to
//! a real SMTP server on loopback → every received message parsed back and checked.
use crate::support;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use mail_parser::{MessageParser, MimeHeaders};
use paperpost::domain::Paper;
use support::TestServer;
use support::cli::paperpost;
use support::newsletter::{Config, closed_port, relay, smtp_delivery};
use support::recorded::{feeds_toml, query_toml, recorded_sources};
use support::smtp::SmtpServer;

fn write_config(dir: &Path, sources: &TestServer, smtp_port: u16) -> PathBuf {
    Config::new()
        .table("[fetch]\nbackoff_ms = 10\n")
        .table(&feeds_toml(sources))
        .table(&query_toml(sources))
        .table(&smtp_delivery(&format!(
            "connections = 2\n{}",
            relay(None, smtp_port, 10.0)
        )))
        .write(dir)
}

/// An independent, naive reading of the documented topic rules, to check selection against.
fn matches(paper: &Paper, topics: &[&str], categories: &[&str]) -> bool {
    let text = format!(" {} {} ", paper.title, paper.abstract_text).to_lowercase();
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_string)
        .collect();
    let joined = format!(" {} ", words.join(" "));
    topics.iter().any(|t| {
        let t = t.to_lowercase();
        [format!(" {t} "), format!(" {t}s ")]
            .iter()
            .any(|f| joined.contains(f.as_str()))
    }) || paper
        .categories
        .iter()
        .any(|c| categories.contains(&c.as_str()))
}

fn links(text: &str) -> BTreeSet<String> {
    text.split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .filter(|w| w.starts_with("https://arxiv.org/abs/") || w.contains("/unsubscribe/"))
        .map(|w| w.trim_end_matches(['.', ',', ')']).replace("&amp;", "&"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_then_send_delivers_each_reader_their_own_papers_once() {
    // Arrange: recorded sources over HTTP, a real SMTP server, a fresh store.
    let sources = recorded_sources().await;
    let smtp = SmtpServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sources, smtp.port);
    let readers = [
        (
            "ada@example.org",
            "video, \"diffusion model\"",
            vec!["video", "diffusion model"],
            vec![],
        ),
        (
            "alan@example.org",
            "agent, cat:cs.AI",
            vec!["agent"],
            vec!["cs.AI"],
        ),
        ("grace@example.org", "", vec![], vec![]),
    ];
    let fetch = paperpost(&config, &["fetch"]);
    assert!(fetch.status.success());
    let fetched = String::from_utf8_lossy(&fetch.stdout);
    assert!(
        fetched.contains("hf") && fetched.contains("29 papers"),
        "{fetched}"
    );
    for (email, topics, _, _) in &readers {
        assert!(
            paperpost(&config, &["subscribers", "add", email, "--topics", topics])
                .status
                .success()
        );
    }

    // Act
    let send = paperpost(&config, &["send"]);

    // Assert: one message per reader, each with its own papers.
    assert!(send.status.success());
    let received = smtp.messages();
    let recipients: BTreeSet<_> = received.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(
        recipients,
        readers.iter().map(|r| r.0.to_string()).collect()
    );
    assert_eq!(received.len(), 3);
    let store = support::open_store(&config);
    let all = store
        .papers_seen_since(chrono::Utc::now() - chrono::Duration::days(1))
        .unwrap();
    let by_id: HashMap<String, Paper> = all
        .into_iter()
        .map(|p| (p.paper.id.clone().unwrap().to_string(), p.paper))
        .collect();
    let mut ids_per_reader = HashMap::new();
    for m in &received {
        let msg = MessageParser::default().parse(&m.raw).expect("parses");
        let to = &m.to[0];
        let (_, _, topics, cats) = readers.iter().find(|r| r.0 == to).unwrap();
        // Headers every bulk digest needs.
        assert!(
            msg.message_id()
                .is_some_and(|id| id.ends_with("@papers.example.org")),
            "{to}"
        );
        let unsub = msg
            .header_raw("List-Unsubscribe")
            .expect("List-Unsubscribe")
            .trim()
            .to_string();
        assert!(
            unsub.starts_with("<https://papers.example.org/unsubscribe/") && unsub.ends_with('>'),
            "{unsub}"
        );
        assert_eq!(
            msg.header_raw("List-Unsubscribe-Post").map(str::trim),
            Some("List-Unsubscribe=One-Click")
        );
        assert!(msg.header_raw("List-Id").is_some());
        assert!(
            msg.content_type()
                .is_some_and(|c| c.subtype() == Some("alternative"))
        );
        // Both parts, with the same links.
        let text = msg.body_text(0).expect("text part").to_string();
        let html = msg.body_html(0).expect("html part").to_string();
        assert!(msg.text_bodies().count() == 1 && msg.html_bodies().count() == 1);
        let (text_links, html_links) = (links(&text), links(&html));
        assert_eq!(text_links, html_links, "links differ for {to}");
        assert!(text_links.contains(&unsub[1..unsub.len() - 1]));
        // Papers: every one matches this reader's topics (none are someone else's).
        // In the order the text part lists them.
        let mut ids: Vec<String> = Vec::new();
        for word in text.split_whitespace() {
            if let Some(raw) = word.strip_prefix("https://arxiv.org/abs/") {
                let id = paperpost::domain::PaperId::parse_arxiv(raw)
                    .unwrap()
                    .0
                    .to_string();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        assert!(!ids.is_empty(), "{to} got an empty digest");
        assert!(ids.len() <= 20);
        for id in &ids {
            let p = by_id
                .get(id)
                .unwrap_or_else(|| panic!("{id} is not a stored paper"));
            if !topics.is_empty() || !cats.is_empty() {
                assert!(
                    matches(p, topics, cats),
                    "{to} got {id} ({}) which matches none of {topics:?} {cats:?}",
                    p.title
                );
            }
        }
        ids_per_reader.insert(to.clone(), ids);
    }
    // The trending digest is the top papers by upvotes.
    let grace = &ids_per_reader["grace@example.org"];
    let upvotes: Vec<u32> = grace
        .iter()
        .map(|id| by_id[id].upvotes.unwrap_or(0))
        .collect();
    assert!(upvotes.windows(2).all(|w| w[0] >= w[1]), "{upvotes:?}");
    assert_eq!(upvotes[0], 64);
    // Personal digests differ from each other.
    assert_ne!(
        ids_per_reader["ada@example.org"],
        ids_per_reader["alan@example.org"]
    );

    // A second send delivers nothing.
    let again = paperpost(&config, &["send"]);
    assert!(again.status.success());
    assert_eq!(
        smtp.log().len(),
        3,
        "the second send must not deliver again"
    );
    sources.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_smtp_server_is_reported_and_nothing_is_marked_sent() {
    let sources = recorded_sources().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sources, closed_port());
    assert!(paperpost(&config, &["fetch"]).status.success());
    assert!(
        paperpost(&config, &["subscribers", "add", "ada@example.org"])
            .status
            .success()
    );

    let send = paperpost(&config, &["send"]);

    assert!(!send.status.success());
    let err = String::from_utf8_lossy(&send.stderr);
    assert!(
        err.contains("unreachable") || err.contains("connect"),
        "{err}"
    );
    let store = support::open_store(&config);
    let counts = store.delivery_counts().unwrap();
    let sent = counts[0]
        .counts
        .iter()
        .find(|(s, _)| s.as_str() == "sent")
        .map_or(0, |c| c.1);
    assert_eq!(sent, 0);
    assert_eq!(
        store.outstanding_deliveries().unwrap(),
        1,
        "the delivery stays queued"
    );
    sources.stop().await;
}
