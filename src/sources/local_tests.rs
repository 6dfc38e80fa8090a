use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_fixture_format_is_detected_and_read() {
    let cases = [
        (
            "hf_daily_papers_2024-10-25_full.json",
            FileFormat::HfJson,
            29,
        ),
        (
            "hf_daily_papers_item_2026-03_full_fields.json",
            FileFormat::HfJson,
            1,
        ),
        (
            "arxiv_api_2026_query_testing_max10.xml",
            FileFormat::ArxivAtom,
            10,
        ),
        (
            "arxiv_api_legacy2016_au_del_maestro.xml",
            FileFormat::ArxivAtom,
            10,
        ),
        (
            "arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml",
            FileFormat::ArxivAtom,
            7,
        ),
        ("arxiv_rss_cs.AI_handmade.xml", FileFormat::ArxivRss, 4),
        ("paperpost_list_handmade.json", FileFormat::PaperpostJson, 2),
    ];
    for (name, format, n) in cases {
        let doc = fixture(name);
        assert_eq!(detect(&doc).unwrap(), format, "{name}");
        assert_eq!(parse(&doc, FileFormat::Auto).unwrap().len(), n, "{name}");
        assert_eq!(parse(&doc, format).unwrap().len(), n, "{name}");
    }
    let feed = parse(
        &fixture("arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml"),
        FileFormat::Auto,
    )
    .unwrap();
    assert!(feed.iter().all(|p| p.announce_type.is_some()));
}

#[test]
fn the_paperpost_list_maps_every_key() {
    let papers = parse(&fixture("paperpost_list_handmade.json"), FileFormat::Auto).unwrap();
    let a = &papers[0];
    assert_eq!(
        (a.id.as_ref().unwrap().as_str(), a.version),
        ("2410.18975", Some(2))
    );
    assert_eq!(a.title, "Unbounded: A Generative Infinite Game");
    assert_eq!(a.categories, ["cs.CV", "cs.AI"]);
    assert_eq!(a.primary_category.as_deref(), Some("cs.CV"));
    assert_eq!(
        a.published.unwrap().to_rfc3339(),
        "2024-10-24T00:00:00+00:00"
    );
    assert_eq!(
        a.code_url.as_deref(),
        Some("https://github.com/example/unbounded")
    );
    assert_eq!((a.upvotes, a.ai_summary.is_some()), (Some(12), true));
    let b = &papers[1];
    assert_eq!(
        b.id.as_ref().unwrap().as_str(),
        "ext:https://example.org/papers/not-on-arxiv.html"
    );
    assert_eq!(
        b.abs_url.as_deref(),
        Some("https://example.org/papers/not-on-arxiv.html")
    );
    assert_eq!(
        b.published.unwrap().to_rfc3339(),
        "2026-11-20T09:30:00+00:00"
    );
    let bare = parse(
        r#"[{"url": "https://arxiv.org/abs/1605.08386v1", "title": "T"}]"#,
        FileFormat::Auto,
    )
    .unwrap();
    assert_eq!(bare[0].id.as_ref().unwrap().as_str(), "1605.08386");
}

#[test]
fn bad_lists_name_the_paper_or_the_position() {
    let cases = [
        (
            r#"{"papers": [{"title": "ok", "id": "2410.18975"}, {"title": "no id"}]}"#,
            "papers[1]: has neither",
        ),
        (r#"[{"id": "nope", "title": "x"}]"#, "papers[0]: id `nope`"),
        (
            r#"[{"id": "2410.18975", "title": "x", "published": "last week"}]"#,
            "papers[0]: published",
        ),
        (r#"[{"id": "2410.18975", "titel": "x"}]"#, "line 1, column"),
        (r#"[{"id": "2410.18975"}]"#, "missing field `title`"),
        (
            r#"{"papers": [{"id": "2410.18975", "title": "x", "upvotes": "many"}]}"#,
            "line 1, column",
        ),
        ("just some text", "neither XML nor JSON"),
    ];
    for (doc, want) in cases {
        let e = parse(doc, FileFormat::Auto).unwrap_err().to_string();
        assert!(e.contains(want), "{doc}: {e}");
    }
    let api_error = parse(
        &fixture("arxiv_api_2026_error_400_id_abc.xml"),
        FileFormat::Auto,
    )
    .unwrap_err();
    assert!(
        api_error
            .to_string()
            .contains("incorrect id format for abc")
    );
}
