use super::*;
use crate::sources::config::BiorxivServer;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn a_details_page_gives_doi_keyed_papers_and_its_paging() {
    let page = parse(&fixture("biorxiv_details_page1_handmade.json"), "biorxiv").unwrap();
    assert_eq!((page.count, page.total), (2, 4));
    assert!(page.skipped.is_empty());
    let p = &page.papers[0];
    assert_eq!(
        p.id.as_ref().unwrap().as_str(),
        "doi:10.1101/2023.12.16.571984"
    );
    assert_eq!(p.doi.as_deref(), Some("10.1101/2023.12.16.571984"));
    assert_eq!(p.version, Some(1));
    assert_eq!(p.authors.len(), 10);
    assert_eq!(p.authors[3], "Plaumann, P.-L.");
    assert_eq!(p.categories, ["genomics"]);
    assert_eq!(p.published_doi, None, "\"NA\" is no DOI");
    assert_eq!(
        p.abs_url.as_deref(),
        Some("https://www.biorxiv.org/content/10.1101/2023.12.16.571984v1")
    );
    assert!(p.published.is_some());
    assert_eq!(p.origin, Some(crate::domain::SourceKind::Biorxiv));
}

#[test]
fn a_later_version_and_a_published_doi_are_kept() {
    let page = parse(&fixture("biorxiv_details_page2_handmade.json"), "biorxiv").unwrap();
    let v2 = &page.papers[0];
    assert_eq!(v2.version, Some(2));
    assert_eq!(
        v2.published, None,
        "a revision's date is not the posting date"
    );
    assert!(v2.updated.is_some());
    let pre = &page.papers[1];
    assert_eq!(pre.published_doi.as_deref(), Some("10.1002/tax.12650"));
    let keys: Vec<String> = pre.match_keys().iter().map(|k| k.to_string()).collect();
    assert_eq!(
        keys,
        ["doi:10.1101/2021.06.01.446600", "doi:10.1002/tax.12650"]
    );
}

#[test]
fn bad_answers_are_refused_or_their_records_skipped_saying_which() {
    let e = parse("{\"messages\": [", "biorxiv").unwrap_err();
    assert!(matches!(e, ParseError::Json { .. }), "{e}");
    let e = parse("{\"collection\": []}", "biorxiv").unwrap_err();
    assert!(e.to_string().contains("no `messages`"), "{e}");
    let e = parse(
        r#"{"messages":[{"status":"Error: interval badly formed"}],"collection":[]}"#,
        "biorxiv",
    )
    .unwrap_err();
    assert!(e.to_string().contains("interval badly formed"), "{e}");
    let empty = parse(
        r#"{"messages":[{"status":"no posts found"}],"collection":[]}"#,
        "medrxiv",
    )
    .unwrap();
    assert!(empty.papers.is_empty() && empty.total == 0);
    let page = parse(
        r#"{"messages":[{"status":"ok","count":3,"total":3}],"collection":[
            {"doi":"10.1101/2024.01.01.000001","title":"Fine","version":"1"},
            {"doi":"not a doi","title":"No DOI"},
            {"doi":"10.1101/2024.01.01.000003","title":" "}]}"#,
        "medrxiv",
    )
    .unwrap();
    assert_eq!(page.papers.len(), 1);
    assert_eq!(
        page.papers[0].abs_url.as_deref(),
        Some("https://www.medrxiv.org/content/10.1101/2024.01.01.000001v1")
    );
    assert_eq!(
        page.skipped,
        [
            "record 2 (not a doi): `not a doi` is not a DOI",
            "record 3 (10.1101/2024.01.01.000003): has no title"
        ]
    );
}

#[test]
fn page_urls_carry_the_interval_the_cursor_and_the_category() {
    let mut cfg = BiorxivConfig {
        url: "http://127.0.0.1:9/api/".into(),
        server: BiorxivServer::Medrxiv,
        days: Some(3),
        interval: None,
        category: None,
        max_pages: 20,
    };
    let today = chrono::NaiveDate::from_ymd_opt(2024, 3, 2).unwrap();
    let (from, to) = cfg.dates(today).unwrap();
    assert_eq!(
        (from.to_string(), to.to_string()),
        ("2024-02-29".into(), "2024-03-02".into())
    );
    assert_eq!(
        page_url(&cfg, "2024-02-29", "2024-03-02", 100),
        "http://127.0.0.1:9/api/details/medrxiv/2024-02-29/2024-03-02/100"
    );
    cfg.category = Some("infectious diseases".into());
    assert!(page_url(&cfg, "a", "b", 0).ends_with("/0?category=infectious%20diseases"));
}
