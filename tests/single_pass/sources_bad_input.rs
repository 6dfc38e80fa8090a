//! Bad documents, table-driven, through the whole error path (file sources, so no network):
//! every error names the source, the document and the position where it broke.
use crate::support;

use chrono::NaiveDate;
use paperpost::sources::{SourceReport, fetch_all};
use support::{fetcher, fixture, sources};

async fn read(dir: &std::path::Path, file: &str, body: &str, format: &str) -> SourceReport {
    let path = dir.join(file);
    std::fs::write(&path, body).unwrap();
    let cfg = format!(
        "[[sources]]\nname = \"bad\"\nkind = \"file\"\npath = {:?}\nformat = \"{format}\"\n",
        path.display().to_string()
    );
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    fetch_all(&sources(&cfg), &fetcher(), today, &|_| {})
        .await
        .remove(0)
}

fn half(s: &str) -> String {
    let mut at = s.len() / 2;
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    s[..at].to_string()
}

#[tokio::test]
async fn bad_documents_name_the_source_the_file_and_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let atom_half = half(&fixture("arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml"));
    let atom_lines = atom_half.lines().count();
    let hf_bad = fixture("hf_daily_papers_2024-10-25_full.json").replacen(
        "\"upvotes\":64",
        "\"upvotes\":\"many\"",
        1,
    );
    let cases: Vec<(&str, String, &str, String)> = vec![
        (
            "cut.xml",
            atom_half,
            "auto",
            format!("malformed XML at line {atom_lines}, column"),
        ),
        (
            "cut-api.xml",
            half(&fixture("arxiv_api_2026_query_testing_max10.xml")),
            "arxiv_atom",
            "malformed XML at line".into(),
        ),
        (
            "mismatch.xml",
            "<feed>\n  <entry></feed>".into(),
            "auto",
            "malformed XML at line 2, column".into(),
        ),
        (
            "hf.json",
            hf_bad,
            "auto",
            "invalid JSON at line 1, column".into(),
        ),
        (
            "types.json",
            "[{\"paper\": {\"id\": 2410}}]".into(),
            "hf_json",
            "line 1, column 22: invalid type: integer".into(),
        ),
        (
            "cut.json",
            half(&fixture("hf_daily_papers_item_2026-03_full_fields.json")),
            "auto",
            "invalid JSON at line".into(),
        ),
        (
            "text.txt",
            "Service Unavailable".into(),
            "auto",
            "neither XML nor JSON".into(),
        ),
        (
            "html.xml",
            "<html><body><p>oops</body></html>".into(),
            "arxiv_rss",
            "malformed XML at line 1, column".into(),
        ),
        (
            "json-as-xml",
            "[]".into(),
            "arxiv_atom",
            "malformed XML at line 1, column 1".into(),
        ),
        (
            "xml-as-json",
            "<feed/>".into(),
            "hf_json",
            "invalid JSON at line 1, column 1".into(),
        ),
        (
            "error.xml",
            fixture("arxiv_api_2026_error_400_id_abc.xml"),
            "auto",
            "arXiv API error: incorrect id format for abc".into(),
        ),
    ];
    for (file, body, format, want) in cases {
        let r = read(dir.path(), file, &body, format).await;
        let err = r
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("{file}: no error"))
            .to_string();
        let path = dir.path().join(file).display().to_string();
        assert!(
            err.starts_with(&format!("source \"bad\": {path}: ")),
            "{file}: {err}"
        );
        assert!(err.contains(&want), "{file}: want {want:?} in {err}");
        assert!(
            r.papers.is_empty(),
            "{file}: a bad document gives no papers"
        );
    }
}

#[tokio::test]
async fn empty_feeds_and_pages_are_zero_papers_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "empty.atom",
            fixture("arxiv_rss_atom_empty_handmade.xml"),
            "auto",
        ),
        (
            "empty.rss",
            "<rss version=\"2.0\"><channel><title>cs.AI</title></channel></rss>".into(),
            "auto",
        ),
        ("empty.json", "[]".to_string(), "hf_json"),
        ("empty-list.json", "{\"papers\": []}".to_string(), "auto"),
        (
            "empty-api.xml",
            fixture("arxiv_api_2026_empty_result_id_0000.0000.xml"),
            "auto",
        ),
    ];
    for (file, body, format) in cases {
        let r = read(dir.path(), file, &body, format).await;
        assert!(r.error.is_none(), "{file}: {:?}", r.error);
        assert_eq!((r.papers.len(), r.documents), (0, 1), "{file}");
    }
}

#[tokio::test]
async fn a_missing_file_names_its_path_and_duplicates_are_merged() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let cfg = format!(
        "[[sources]]\nname = \"list\"\nkind = \"file\"\npath = {:?}\n",
        missing.display().to_string()
    );
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let r = fetch_all(&sources(&cfg), &fetcher(), today, &|_| {})
        .await
        .remove(0);
    let err = r.error.unwrap().to_string();
    assert!(
        err.starts_with(&format!(
            "source \"list\": cannot read {}: ",
            missing.display()
        )),
        "{err}"
    );

    let twice = r#"[{"id": "2410.18975v1", "title": "Old", "upvotes": 1},
                    {"id": "2410.18975v2", "title": "New", "categories": ["cs.CV"]}]"#;
    let r = read(dir.path(), "twice.json", twice, "auto").await;
    assert_eq!(r.papers.len(), 1);
    let p = &r.papers[0];
    assert_eq!(
        (p.title.as_str(), p.version, p.upvotes),
        ("New", Some(2), Some(1))
    );
    assert_eq!(p.categories, ["cs.CV"]);
    assert!(p.sources.contains("bad"));
}
