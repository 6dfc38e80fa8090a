use chrono::TimeZone;

use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse_all(name: &str) -> Vec<Paper> {
    let page = parse(&fixture(name), &FeedFields::default()).unwrap();
    assert!(page.skipped.is_empty(), "{:?}", page.skipped);
    page.papers
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<DateTime<Utc>> {
    Some(Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap())
}

fn ids(papers: &[Paper]) -> Vec<&str> {
    papers
        .iter()
        .map(|p| p.id.as_ref().unwrap().as_str())
        .collect()
}

const WILEY: &str = "feed_rss2_wiley_taxon_2021-12-21.xml";
const TANDF: &str = "feed_rss1_tandf_zoology_middle_east_2021-12-21.xml";
const BIORXIV: &str = "feed_rss1_biorxiv_genomics_2023-12-16.xml";
const OJS_ATOM: &str = "feed_atom_ojs_entomologisk_tidskrift_2021-12-21.xml";
const JSON_FEED: &str = "feed_jsonfeed_1.1_influxdata_blog.json";

#[test]
fn a_journal_rss2_table_of_contents_gives_doi_keyed_papers_with_abstracts() {
    let papers = parse_all(WILEY);
    assert_eq!(papers.len(), 66);
    assert!(
        ids(&papers)
            .iter()
            .all(|id| id.starts_with("doi:10.1002/tax."))
    );
    let p = &papers[0];
    assert_eq!(p.id.as_ref().unwrap().as_str(), "doi:10.1002/tax.12650");
    assert_eq!(p.doi.as_deref(), Some("10.1002/tax.12650"));
    assert_eq!(
        p.title,
        "Phylogenomic analysis confirms polyphyly of Leptospermum and delineates five major \
         clades that warrant generic recognition"
    );
    // dc:description's abstract over the one-line description ("TAXON, EarlyView."), its
    // "Abstract" heading dropped; content:encoded's <i> gone.
    assert!(
        p.abstract_text
            .starts_with("Leptospermum is an ecologically and economically important genus"),
        "{}",
        p.abstract_text
    );
    assert!(!p.abstract_text.contains('<') && !p.abstract_text.contains("&lt;"));
    assert_eq!(
        p.authors,
        [
            "Rachel M. Binks",
            "Margaret Heslewood",
            "Peter G. Wilson",
            "Margaret Byrne"
        ]
    );
    // dc:date, 2021-12-20T12:09:28-08:00.
    assert_eq!(p.published, utc(2021, 12, 20, 20, 9, 28));
    assert_eq!(p.categories, ["RESEARCH ARTICLE"]);
    assert_eq!(p.primary_category.as_deref(), Some("RESEARCH ARTICLE"));
    assert_eq!(
        p.abs_url.as_deref(),
        Some("https://onlinelibrary.wiley.com/doi/10.1002/tax.12650"),
        "the feed's ?af=R tracking dropped"
    );
    assert_eq!(p.origin, Some(SourceKind::Feed));
    // 982 authors in one dc:creator, one a line.
    assert_eq!(papers[1].authors.len(), 982);
    assert_eq!(papers[1].authors[0], "The Brazil Flora Group");
}

#[test]
fn an_rss1_table_of_contents_reads_dublin_core_and_prism() {
    let papers = parse_all(TANDF);
    assert_eq!(papers.len(), 13);
    let p = &papers[0];
    assert_eq!(
        p.id.as_ref().unwrap().as_str(),
        "doi:10.1080/09397140.2021.1992835"
    );
    assert_eq!(
        p.title,
        "Taxonomic status of Dahl’s Jird, Meriones dahli, as inferred from cytochrome b and IRBP \
         gene sequences (Mammalia: Rodentia)"
    );
    // One dc:creator element each.
    assert_eq!(p.authors, ["Şafak Bulut", "Gül Olgun Karacan"]);
    assert_eq!(p.published, utc(2021, 10, 20, 6, 4, 37));
    assert_eq!(
        p.abs_url.as_deref(),
        Some("https://www.tandfonline.com/doi/full/10.1080/09397140.2021.1992835")
    );
}

#[test]
fn a_biorxiv_rdf_feed_gives_the_doi_of_dc_identifier_and_surname_initial_pairs() {
    let papers = parse_all(BIORXIV);
    assert_eq!(papers.len(), 1);
    let p = &papers[0];
    assert_eq!(
        p.id.as_ref().unwrap().as_str(),
        "doi:10.1101/2023.12.16.571984"
    );
    assert_eq!(
        p.title,
        "Complete genome of the Medicago anthracnose fungus, Colletotrichum destructivum, \
         reveals a mini-chromosome-like region within a core chromosome."
    );
    assert_eq!(p.authors.len(), 10);
    assert_eq!(
        p.authors[..4],
        ["LAPALU, N.", "SIMON, A.", "Lu, A.", "Plaumann, P.-L."]
    );
    assert_eq!(p.authors[9], "O'Connell, R. J.");
    assert!(
        p.abstract_text
            .starts_with("Colletotrichum destructivum (Cd)")
    );
    assert_eq!(p.published, utc(2023, 12, 16, 0, 0, 0));
    assert_eq!(
        p.abs_url.as_deref(),
        Some("http://biorxiv.org/cgi/content/short/2023.12.16.571984v1")
    );
}

#[test]
fn an_atom_feed_without_dois_keys_its_papers_by_canonical_url() {
    let papers = parse_all(OJS_ATOM);
    assert_eq!(papers.len(), 10);
    let p = &papers[0];
    assert_eq!(
        p.id.as_ref().unwrap().as_str(),
        "ext:http://et-online.nu/index.php/contents/article/view/94"
    );
    assert_eq!(p.doi, None);
    assert_eq!(p.authors, ["Julia Stigenberg", "Cornelis Van Achterberg"]);
    assert!(
        p.abstract_text
            .starts_with("Familjen Braconidae, bracksteklar")
    );
    // The summary's escaped HTML and its &amp;amp; are text now.
    assert!(
        p.abstract_text
            .contains("Släktet Gretiella gen. nov., och arterna")
    );
    assert!(p.abstract_text.contains("(Stigenberg & Zhang)"));
    assert_eq!(p.published, utc(2021, 12, 9, 0, 0, 0));
    assert_eq!(p.updated, utc(2021, 12, 9, 14, 7, 43));
    assert_eq!(
        p.abs_link().as_deref(),
        Some("http://et-online.nu/index.php/contents/article/view/94")
    );
}

#[test]
fn a_json_feed_gives_authors_tags_and_dates() {
    let papers = parse_all(JSON_FEED);
    assert_eq!(papers.len(), 3);
    let p = &papers[0];
    assert_eq!(
        p.id.as_ref().unwrap().as_str(),
        "ext:https://www.influxdata.com/blog/influxdb-outperforms-graphite-in-time-series-data-metrics-benchmark"
    );
    assert_eq!(
        p.title,
        "InfluxDB vs. Graphite for Time Series Data & Metrics Benchmark"
    );
    // `authors` (1.1) before the older `author`.
    assert_eq!(p.authors, ["Chris Churilo", "Fake Author 1"]);
    assert_eq!(papers[1].authors, ["Chris Churilo"]);
    assert_eq!(
        p.categories,
        [
            "InfluxDB",
            "Community",
            "Elasticsearch",
            "Time Series Database"
        ]
    );
    assert_eq!(p.published, utc(2019, 5, 31, 19, 17, 58));
    assert!(
        p.abstract_text
            .starts_with("This blog post has been updated")
    );
}

#[test]
fn field_mapping_reads_only_the_named_place() {
    let fields = |f: FeedFields| parse(&fixture(WILEY), &f).unwrap().papers;
    let short = fields(FeedFields {
        abstract_text: Some("description".into()),
        published: Some("prism:coverDate".into()),
        ..FeedFields::default()
    });
    assert_eq!(short[0].abstract_text, "TAXON, EarlyView.");
    assert_eq!(short[0].published, utc(2021, 9, 12, 18, 7, 48));
    let tandf = parse(
        &fixture(TANDF),
        &FeedFields {
            categories: Some("dc:source".into()),
            doi: Some("prism:doi".into()),
            ..FeedFields::default()
        },
    )
    .unwrap()
    .papers;
    assert_eq!(tandf[0].categories, ["Zoology in the Middle East"]);
    assert_eq!(
        tandf[0].doi.as_deref(),
        Some("10.1080/09397140.2021.1992835")
    );
    // A JSON Feed's extension key, nested.
    let doc = r#"{"version":"https://jsonfeed.org/version/1.1","items":[
        {"id":"1","url":"https://example.org/p/1","title":"T","_paper":{"doi":"10.5555/ABC"}}]}"#;
    let p = &parse(
        doc,
        &FeedFields {
            doi: Some("_paper.doi".into()),
            ..FeedFields::default()
        },
    )
    .unwrap()
    .papers[0];
    assert_eq!(p.id.as_ref().unwrap().as_str(), "doi:10.5555/abc");
    assert_eq!(p.abs_url.as_deref(), Some("https://example.org/p/1"));
}

#[test]
fn arxiv_links_give_arxiv_ids_and_dois_in_any_spelling_are_found() {
    let doc = r#"<rss version="2.0"><channel>
        <item><title>On arXiv</title><link>https://arxiv.org/abs/2410.18975v2</link>
          <guid isPermaLink="false">doi:10.5555/X</guid></item>
        <item><title>By guid</title><guid>https://doi.org/10.5555/Y</guid></item>
        <item><title>By link</title><link>https://example.org/a/?utm_source=rss#x</link></item>
      </channel></rss>"#;
    let page = parse(doc, &FeedFields::default()).unwrap();
    assert_eq!(
        ids(&page.papers),
        ["2410.18975", "doi:10.5555/y", "ext:https://example.org/a"]
    );
    assert_eq!(page.papers[0].version, Some(2));
    assert_eq!(page.papers[0].doi.as_deref(), Some("10.5555/x"));
    assert!(
        page.papers[0].match_keys().len() == 2,
        "found by its DOI too"
    );
}

#[test]
fn items_without_a_title_or_a_key_are_skipped_with_the_reason() {
    let doc = r#"<rss version="2.0"><channel>
        <item><title>Good</title><link>https://example.org/good</link></item>
        <item><link>https://example.org/untitled</link></item>
        <item><title>Nowhere</title><guid isPermaLink="false">tag:x,2024:7</guid></item>
      </channel></rss>"#;
    let page = parse(doc, &FeedFields::default()).unwrap();
    assert_eq!(ids(&page.papers), ["ext:https://example.org/good"]);
    assert_eq!(
        page.skipped,
        [
            "item 2 (https://example.org/untitled): has no title",
            "item 3 (tag:x,2024:7): has no link, id or DOI to key it by"
        ]
    );
}

#[test]
fn malformed_documents_are_refused_saying_where_and_what() {
    let none = FeedFields::default();
    let e = parse(
        "<rss version=\"2.0\"><channel>\n<item><title>x</item>",
        &none,
    )
    .unwrap_err();
    assert!(matches!(e, ParseError::Xml { line: 2, .. }), "{e}");
    let e = parse("{\"items\": [1,}", &none).unwrap_err();
    assert!(matches!(e, ParseError::Json { line: 1, .. }), "{e}");
    let e = parse("{\"title\": \"x\"}", &none).unwrap_err();
    assert!(e.to_string().contains("no `items` list"), "{e}");
    let e = parse("<html><body/></html>", &none).unwrap_err();
    assert!(e.to_string().contains("found <html>"), "{e}");
    let deep = format!("{{\"items\": {}", "[".repeat(200));
    assert!(
        parse(&deep, &none)
            .unwrap_err()
            .to_string()
            .contains("depth limit")
    );
}

#[test]
fn field_locations_are_checked() {
    assert!(FieldSpec::parse("dc:creator").is_ok());
    assert!(FieldSpec::parse("content").is_ok());
    assert!(FieldSpec::parse("_paper.doi").is_ok());
    for (bad, want) in [
        ("", "is empty"),
        ("x:creator", "unknown namespace prefix `x`"),
        ("dc:", "not prefix:element"),
        ("dc creator", "contains a space"),
    ] {
        let e = FieldSpec::parse(bad).unwrap_err();
        assert!(e.contains(want), "{bad}: {e}");
    }
}

#[test]
fn author_lists_are_split_in_each_usual_shape() {
    let cases: [(&str, &[&str]); 7] = [
        (
            "A. One, B. Two and C. Three",
            &["A. One", "B. Two", "C. Three"],
        ),
        ("Smith, J.; Jones, A. B.", &["Smith, J.", "Jones, A. B."]),
        (
            "LAPALU, N., SIMON, A., Dallery, J.-F.",
            &["LAPALU, N.", "SIMON, A.", "Dallery, J.-F."],
        ),
        (
            "Brandão S, Saeedi H, Brandt A. ",
            &["Brandão S", "Saeedi H", "Brandt A."],
        ),
        ("editor@x.org (Ada Lovelace)", &["Ada Lovelace"]),
        ("Jane Doe & John Roe", &["Jane Doe", "John Roe"]),
        (
            "Rachel M. Binks, \n Margaret Heslewood,\n",
            &["Rachel M. Binks", "Margaret Heslewood"],
        ),
    ];
    for (raw, want) in cases {
        assert_eq!(split_authors(raw), want, "{raw:?}");
    }
}

#[test]
fn dates_are_read_in_each_usual_spelling() {
    assert_eq!(
        parse_date("2021-10-20T06:04:37Z"),
        utc(2021, 10, 20, 6, 4, 37)
    );
    assert_eq!(
        parse_date("Mon, 20 Dec 2021 00:09:28 -0800"),
        utc(2021, 12, 20, 8, 9, 28)
    );
    assert_eq!(
        parse_date("Tue, 21 Dec 2021 09:23:57 GMT"),
        utc(2021, 12, 21, 9, 23, 57)
    );
    assert_eq!(parse_date(" 2023-12-16 "), utc(2023, 12, 16, 0, 0, 0));
    assert_eq!(parse_date("2018-12-17-08:00"), utc(2018, 12, 17, 0, 0, 0));
    assert_eq!(parse_date("December 2021"), None);
}
