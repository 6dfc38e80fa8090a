use super::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ids(page: &ApiPage) -> Vec<String> {
    page.papers
        .iter()
        .map(|p| format!("{}v{}", p.id.as_ref().unwrap(), p.version.unwrap()))
        .collect()
}

#[test]
fn one_entry_gives_every_field() {
    let page = parse(&fixture("arxiv_api_2026_id_list_1605.08386.xml")).unwrap();
    assert_eq!(ids(&page), ["1605.08386v1"]);
    assert_eq!(page.total_results, Some(1));
    let p = &page.papers[0];
    assert_eq!(p.title, "Heat-bath random walks with Markov bases");
    assert_eq!(p.authors, ["Caprice Stanley", "Tobias Windisch"]);
    assert_eq!(p.primary_category.as_deref(), Some("math.CO"));
    assert_eq!(p.categories, ["math.CO", "math.ST"]);
    assert_eq!(p.comment.as_deref(), Some("20 pages, 3 figures"));
    assert_eq!(
        p.abs_url.as_deref(),
        Some("https://arxiv.org/abs/1605.08386v1")
    );
    assert_eq!(
        p.pdf_url.as_deref(),
        Some("https://arxiv.org/pdf/1605.08386v1")
    );
    assert_eq!(
        p.published.unwrap().to_rfc3339(),
        "2016-05-26T17:59:46+00:00"
    );
    assert!(p.abstract_text.starts_with("Graphs on lattice points"));
}

#[test]
fn an_old_style_id_and_a_ragged_summary() {
    let page = parse(&fixture("arxiv_api_2026_old_style_id_astro-ph_0601001.xml")).unwrap();
    assert_eq!(ids(&page), ["astro-ph/0601001v1"]);
    let p = &page.papers[0];
    assert!(
        p.abstract_text.starts_with("We derive the frequencies"),
        "{}",
        p.abstract_text
    );
    assert!(p.abstract_text.contains("Gould & Morgan (2003)"));
    assert!(p.abstract_text.contains("V_max<17.5"));
    assert!(
        p.abstract_text.contains("(1/310)(1^{+1.39}_{-0.59})"),
        "LaTeX is kept"
    );
    assert_eq!(p.journal_ref.as_deref(), Some("ActaAstron.56:1-50,2006"));
    assert_eq!(p.primary_category.as_deref(), Some("astro-ph"));
    assert_eq!(p.authors.len(), 4);
}

#[test]
fn a_query_page_gives_ten_papers_with_primary_first() {
    let page = parse(&fixture("arxiv_api_2026_query_testing_max10.xml")).unwrap();
    assert_eq!(page.papers.len(), 10);
    assert_eq!(page.total_results, Some(214881));
    assert_eq!(page.papers[0].id.as_ref().unwrap().as_str(), "2202.12139");
    for p in &page.papers {
        assert_eq!(
            p.categories.first(),
            p.primary_category.as_ref(),
            "{:?}",
            p.id
        );
        assert!(!p.title.contains('\n') && !p.abstract_text.contains('\n'));
        assert!(p.pdf_url.is_some() && p.abs_url.is_some());
    }
    assert!(page.papers.iter().any(|p| p.doi.is_some()));
}

#[test]
fn the_2016_style_gives_every_field() {
    let page = parse(&fixture(
        "arxiv_api_legacy2016_au_del_maestro_AND_ti_checkerboard.xml",
    ))
    .unwrap();
    assert_eq!(ids(&page), ["cond-mat/0603029v1"]);
    let p = &page.papers[0];
    assert_eq!(
        p.title,
        "From stripe to checkerboard order on the square lattice in the presence of quenched disorder"
    );
    assert!(p.abstract_text.starts_with("We discuss the effects"));
    assert_eq!(p.doi.as_deref(), Some("10.1103/PhysRevB.74.024520"));
    assert_eq!(
        p.journal_ref.as_deref(),
        Some("Phys. Rev. B 74, 024520 (2006)")
    );
    assert_eq!(
        p.comment.as_deref(),
        Some("10 pages, 11 figures; added reference")
    );
    assert_eq!(p.categories, ["cond-mat.str-el", "cond-mat.supr-con"]);
    assert_eq!(
        p.pdf_url.as_deref(),
        Some("http://arxiv.org/pdf/cond-mat/0603029v1")
    );
    let all = parse(&fixture("arxiv_api_legacy2016_au_del_maestro.xml")).unwrap();
    assert_eq!(all.papers.len(), 10);
    assert!(
        all.papers
            .iter()
            .all(|p| p.primary_category.is_some() && !p.authors.is_empty())
    );
}

/// The same document rewritten in the 2026 style (namespaces declared once on `<feed>`) and
/// with another prefix parses to the same papers.
#[test]
fn the_2016_and_2026_styles_parse_identically() {
    for name in [
        "arxiv_api_legacy2016_au_del_maestro_AND_ti_checkerboard.xml",
        "arxiv_api_legacy2016_au_del_maestro.xml",
    ] {
        let legacy = fixture(name);
        let modern = legacy
            .replace(" xmlns:arxiv=\"http://arxiv.org/schemas/atom\"", "")
            .replace(" xmlns:opensearch=\"http://a9.com/-/spec/opensearch/1.1/\"", "")
            .replace(
                "<feed xmlns=\"http://www.w3.org/2005/Atom\">",
                "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:ax=\"http://arxiv.org/schemas/atom\" \
                 xmlns:opensearch=\"http://a9.com/-/spec/opensearch/1.1/\">",
            )
            .replace("arxiv:", "ax:");
        assert_ne!(legacy, modern);
        let (a, b) = (parse(&legacy).unwrap(), parse(&modern).unwrap());
        assert_eq!(a.papers, b.papers, "{name}");
        assert_eq!(a.total_results, b.total_results);
    }
}

#[test]
fn the_error_entry_and_the_empty_result() {
    let err = parse(&fixture("arxiv_api_2026_error_400_id_abc.xml")).unwrap();
    assert_eq!(err.error.as_deref(), Some("incorrect id format for abc"));
    assert!(err.papers.is_empty());
    let empty = parse(&fixture("arxiv_api_2026_empty_result_id_0000.0000.xml")).unwrap();
    assert_eq!(
        (empty.papers.len(), empty.total_results, empty.error),
        (0, Some(0), None)
    );
}
