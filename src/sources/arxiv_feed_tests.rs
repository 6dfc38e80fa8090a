use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn count(papers: &[Paper], kind: &str) -> usize {
    papers
        .iter()
        .filter(|p| p.announce_type.as_deref() == Some(kind))
        .count()
}

#[test]
fn the_atom_excerpt_gives_seven_papers_five_cross_two_new() {
    let papers = parse(&fixture("arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml")).unwrap();
    assert_eq!(papers.len(), 7);
    assert_eq!((count(&papers, "cross"), count(&papers, "new")), (5, 2));
    let p = &papers[0];
    assert_eq!(p.id.as_ref().unwrap().as_str(), "2508.13426");
    assert_eq!(p.version, Some(1));
    assert_eq!(
        p.title,
        "ALIGN: Word Association Learning for Cross-Cultural Generalization in Large Language Models"
    );
    assert!(
        p.abstract_text
            .starts_with("As large language models (LLMs)"),
        "{}",
        p.abstract_text
    );
    assert!(!p.abstract_text.contains("Announce Type"));
    assert_eq!(
        p.authors,
        ["Chunhua Liu", "Kabir Manandhar Shrestha", "Sukai Huang"]
    );
    assert_eq!(p.categories, ["cs.CL", "cs.AI"]);
    assert_eq!(p.primary_category.as_deref(), Some("cs.CL"));
    assert_eq!(
        p.abs_url.as_deref(),
        Some("https://arxiv.org/abs/2508.13426")
    );
    assert_eq!(p.listed.unwrap().to_rfc3339(), "2025-08-20T04:00:00+00:00");
    assert_eq!(papers[2].authors, ["Paulo Andr\\'e Lima de Castro"]);
}

#[test]
fn the_rss_feed_gives_the_same_fields_and_every_announce_type() {
    let rss = parse(&fixture("arxiv_rss_cs.AI_handmade.xml")).unwrap();
    assert_eq!(rss.len(), 4);
    for kind in ["new", "cross", "replace", "replace-cross"] {
        assert_eq!(count(&rss, kind), 1, "{kind}");
    }
    let new = &rss[0];
    assert_eq!(
        new.abstract_text,
        "We search for efficient transformer architectures under a latency budget & report $O(n \\log n)$ attention."
    );
    assert_eq!(new.published, new.listed);
    assert!(rss[2].is_replacement() && rss[2].published.is_none());
    assert_eq!(rss[3].id.as_ref().unwrap().as_str(), "math/0309136");
    assert_eq!(rss[3].version, Some(2));
    // The cross-listed ALIGN paper is in both fixtures: both formats agree.
    let atom = parse(&fixture("arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml")).unwrap();
    let (a, r) = (&atom[0], &rss[1]);
    assert_eq!(
        (&a.id, &a.title, &a.authors, &a.categories),
        (&r.id, &r.title, &r.authors, &r.categories)
    );
    assert_eq!(
        (&a.announce_type, a.listed, &a.abs_url),
        (&r.announce_type, r.listed, &r.abs_url)
    );
    assert_eq!(
        parse_as(
            &fixture("arxiv_rss_cs.AI_handmade.xml"),
            Some(FeedFormat::Rss)
        )
        .unwrap()
        .len(),
        4
    );
    assert!(
        parse_as(
            &fixture("arxiv_rss_cs.AI_handmade.xml"),
            Some(FeedFormat::Atom)
        )
        .is_err()
    );
}

#[test]
fn an_empty_feed_is_zero_papers() {
    assert!(
        parse(&fixture("arxiv_rss_atom_empty_handmade.xml"))
            .unwrap()
            .is_empty()
    );
    let empty_rss = "<rss version=\"2.0\"><channel><title>cs.AI</title></channel></rss>";
    assert!(parse(empty_rss).unwrap().is_empty());
}

#[test]
fn the_announce_type_is_read_from_the_summary_when_the_element_is_missing() {
    assert_eq!(
        split_summary("arXiv:2508.13426v1 Announce Type: replace-cross \nAbstract: Text\n here."),
        (Some("replace-cross".into()), "Text here.".into())
    );
    assert_eq!(split_summary("Plain text"), (None, "Plain text".into()));
}

#[test]
fn the_url_joins_categories_with_plus() {
    let cfg = ArxivFeedConfig {
        url: "https://rss.arxiv.org/atom/".into(),
        categories: vec!["cs.AI".into(), "cs.CL".into()],
    };
    assert_eq!(feed_url(&cfg), "https://rss.arxiv.org/atom/cs.AI+cs.CL");
}
