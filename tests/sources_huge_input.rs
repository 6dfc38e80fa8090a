//! Memory stays bounded whatever a source is given: a 200 MB local file (a regular file and a
//! pipe that never says its size) is refused at `max_body_bytes` without being read whole, XML
//! entities declared in a DTD ("billion laughs") are not expanded, and documents nested
//! deeper than the parsers' limits fail naming the limit. One test per process resource: the
//! peak RSS read here is this test binary's own. That is why this file is a test binary of
//! its own rather than a module of `tests/single_pass/`: the other modules' memory (the
//! relevance corpus and model alone peak near 160 MB) would count against the 150 MB bound.
mod support;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use paperpost::sources::{SourceReport, fetch_all};
use support::{fetcher, fixture, sources};

const MB: u64 = 1024 * 1024;

async fn run(cfg: &str) -> Vec<SourceReport> {
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    fetch_all(&sources(cfg), &fetcher(), today, &|_| {}).await
}

fn file_source(name: &str, path: &std::path::Path, extra: &str) -> String {
    format!(
        "[[sources]]\nname = \"{name}\"\nkind = \"file\"\npath = {:?}\n{extra}",
        path.display().to_string()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_200_mb_file_or_pipe_is_refused_at_the_limit_without_being_read_whole() {
    // Arrange: a 200 MB file (sparse: no disk needed) and a named pipe a thread fills with
    // 200 MB, which a size check cannot see; both under the default limit of 50 MiB.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(200 * MB)
        .unwrap();
    let pipe = dir.path().join("pipe.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo failed");
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (pipe, written) = (pipe.clone(), written.clone());
        std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new().write(true).open(&pipe).unwrap();
            let chunk = vec![b' '; MB as usize];
            for _ in 0..200 {
                // The reader closing its end ends this with a broken pipe.
                if w.write_all(&chunk).is_err() {
                    return;
                }
                written.fetch_add(MB, Ordering::Relaxed);
            }
        })
    };
    let cfg = file_source("big", &big, "") + &file_source("pipe", &pipe, "");

    // Act
    let reports = run(&cfg).await;
    writer.join().unwrap();

    // Assert: both refused naming the limit; the pipe was read only just past it; memory
    // stayed far below the 200 MB offered.
    for r in &reports {
        let err = r.error.as_ref().expect(&r.name).to_string();
        assert!(
            err.contains("larger than the limit of 52428800 bytes (max_body_bytes)")
                && err.contains(&r.name),
            "{err}"
        );
        assert!(r.papers.is_empty());
    }
    let sent = written.load(Ordering::Relaxed);
    assert!(sent < 60 * MB, "the pipe was read for {sent} bytes");
    let peak = support::peak_rss();
    eprintln!("pipe read {sent} bytes; peak RSS {peak} bytes");
    assert!(peak < 150 * MB, "peak RSS {peak} bytes");
}

#[tokio::test]
async fn dtd_entities_are_not_expanded_and_deep_documents_name_the_depth_limit() {
    // Arrange: "billion laughs" (lol9 would be 3 GB expanded) in an RSS feed's first title,
    // an Atom document and JSON lists nested past the limits, each read as the format named.
    let dir = tempfile::tempdir().unwrap();
    let mut dtd = String::from("<!DOCTYPE rss [<!ENTITY lol0 \"lol\">");
    for i in 1..10 {
        let refs = format!("&lol{};", i - 1).repeat(10);
        dtd += &format!("<!ENTITY lol{i} \"{refs}\">");
    }
    dtd += "]>";
    let rss = fixture("arxiv_rss_cs.AI_handmade.xml")
        .replacen("<rss ", &format!("{dtd}\n<rss "), 1)
        .replacen("<item>\n      <title>", "<item>\n      <title>&lol9; ", 1);
    let laughs = dir.path().join("laughs.xml");
    std::fs::write(&laughs, &rss).unwrap();
    let deep = 100_000;
    let deep_xml = dir.path().join("deep.xml");
    std::fs::write(
        &deep_xml,
        format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\">{}{}</feed>",
            "<entry>".repeat(deep),
            "</entry>".repeat(deep)
        ),
    )
    .unwrap();
    let deep_list = dir.path().join("deep_list.json");
    std::fs::write(
        &deep_list,
        format!("{}{}", "[".repeat(deep), "]".repeat(deep)),
    )
    .unwrap();
    let deep_object = dir.path().join("deep_object.json");
    std::fs::write(
        &deep_object,
        format!(
            "{{\"papers\": [{{\"title\": \"t\", \"id\": \"2410.18975\", \"authors\": {}{}}}]}}",
            "[".repeat(deep),
            "]".repeat(deep)
        ),
    )
    .unwrap();
    let cfg = file_source("laughs", &laughs, "format = \"arxiv_rss\"\n")
        + &file_source("deep-xml", &deep_xml, "format = \"arxiv_atom\"\n")
        + &file_source("deep-list", &deep_list, "format = \"paperpost_json\"\n")
        + &file_source("deep-object", &deep_object, "format = \"paperpost_json\"\n");

    // Act
    let reports = run(&cfg).await;

    // Assert: the feed's papers are there and the entity stayed as written; each deep
    // document failed alone, saying which limit.
    let laughs = &reports[0];
    assert!(laughs.error.is_none(), "{:?}", laughs.error);
    assert!(!laughs.papers.is_empty());
    let title = &laughs.papers[0].title;
    assert!(title.starts_with("&lol9; "), "{title}");
    let text: usize = laughs
        .papers
        .iter()
        .map(|p| p.title.len() + p.abstract_text.len())
        .sum();
    assert!(
        text < rss.len(),
        "{text} bytes of text from {} bytes",
        rss.len()
    );
    for (r, what) in reports[1..].iter().zip([
        "nested deeper than 256 levels (the depth limit)",
        "nested deeper than 128 levels (the depth limit)",
        "nested deeper than 128 levels (the depth limit)",
    ]) {
        let err = r.error.as_ref().expect(&r.name).to_string();
        assert!(err.contains(what) && err.contains(&r.name), "{err}");
        assert!(r.papers.is_empty(), "{}", r.name);
    }
}
