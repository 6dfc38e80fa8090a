//! Finding a paper's arXiv id and DOI where reference managers put them: arXiv abstract and
//! PDF links, `doi.org` links, and free text such as Google Scholar's
//! `journal={arXiv preprint arXiv:1706.03762}` or Zotero's `note = {arXiv: 1310.8110}`.
use crate::domain::{Doi, PaperId};

/// The arXiv paper an `arxiv.org` link names (`/abs/`, `/pdf/`, `/html/`, any host
/// spelling, version and query dropped).
pub(crate) fn arxiv_from_url(url: &str) -> Option<PaperId> {
    let lower = url.to_ascii_lowercase();
    let at = lower.find("arxiv.org/")?;
    let rest = &url[at + "arxiv.org/".len()..];
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let rest = ["abs/", "pdf/", "html/", "format/"].iter().find_map(|p| {
        rest.get(..p.len())
            .filter(|h| h.eq_ignore_ascii_case(p))
            .map(|_| &rest[p.len()..])
    })?;
    PaperId::parse_arxiv(rest.trim_end_matches('/')).map(|(id, _)| id)
}

/// The DOI a resolver link names (`https://doi.org/10.…`, `dx.doi.org`), or an arXiv-issued
/// DOI's link.
pub(crate) fn doi_from_url(url: &str) -> Option<Doi> {
    let lower = url.to_ascii_lowercase();
    let at = lower.find("doi.org/")?;
    let rest = &url[at + "doi.org/".len()..];
    Doi::parse(rest.split(['?', '#']).next().unwrap_or(rest))
}

/// The first arXiv id mentioned in free text: `arXiv:2410.18975`, `arXiv: 1310.8110 [math]`,
/// `arXiv preprint arXiv:1706.03762`, `arxiv.org/abs/…`, `arXiv:hep-th/9603067`.
pub(crate) fn arxiv_in_text(text: &str) -> Option<PaperId> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("arxiv") {
        let start = from + found + "arxiv".len();
        from = start;
        let rest = &text[start..];
        if let Some(id) = rest
            .strip_prefix(".org/")
            .and_then(|_| arxiv_from_url(&text[start - "arxiv".len()..]))
        {
            return Some(id);
        }
        let rest = rest.trim_start_matches([':', ' ', '\t', '\u{a0}']);
        let token: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-'))
            .collect();
        let token = token.trim_end_matches(['.', '/', '-']);
        // An old-style id needs its archive (`hep-th/…`); a bare number must be new-style.
        if let Some((id, _)) = PaperId::parse_arxiv(token) {
            return Some(id);
        }
    }
    None
}

/// The arXiv id written in an `eprint` field (or Mendeley's `arxivId`), with or without
/// `arXiv:` and a version.
pub(crate) fn arxiv_eprint(value: &str) -> Option<PaperId> {
    let v = value.trim();
    PaperId::parse_arxiv(v)
        .map(|(id, _)| id)
        .or_else(|| arxiv_in_text(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Option<String> {
        arxiv_in_text(s).map(|i| i.to_string())
    }

    #[test]
    fn arxiv_ids_are_found_in_the_words_reference_managers_write() {
        assert_eq!(
            id("arXiv preprint arXiv:1706.03762").as_deref(),
            Some("1706.03762")
        );
        assert_eq!(id("arXiv: 1310.8110").as_deref(), Some("1310.8110"));
        assert_eq!(
            id("arXiv:1310.8110 [math, stat]").as_deref(),
            Some("1310.8110")
        );
        assert_eq!(
            id("see arXiv:hep-th/9603067v2.").as_deref(),
            Some("hep-th/9603067")
        );
        assert_eq!(
            id("https://arxiv.org/abs/2410.18975v1").as_deref(),
            Some("2410.18975")
        );
        assert_eq!(id("ArXiv e-prints"), None);
        assert_eq!(id("arXiv"), None);
        assert_eq!(id("1706.03762 without the word"), None);
    }

    #[test]
    fn links_name_their_arxiv_paper_or_doi() {
        for url in [
            "https://arxiv.org/abs/math/0307200v3",
            "http://export.arxiv.org/pdf/math/0307200.pdf",
            "https://www.arxiv.org/abs/math/0307200?context=cs",
        ] {
            assert_eq!(
                arxiv_from_url(url).unwrap().as_str(),
                "math/0307200",
                "{url}"
            );
        }
        assert_eq!(arxiv_from_url("https://arxiv.org/list/cs.CL/new"), None);
        assert_eq!(
            doi_from_url("https://doi.org/10.1103/PhysRevLett.105.040504")
                .unwrap()
                .as_str(),
            "10.1103/physrevlett.105.040504"
        );
        assert_eq!(doi_from_url("https://example.org/10.1000/x"), None);
    }
}
