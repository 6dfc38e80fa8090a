//! Items that name a paper rather than a word: arXiv ids (`2410.18958v2`, `arXiv:2410.18958`,
//! `astro-ph/0601001`), arXiv links (`https://arxiv.org/abs/…`, `/pdf/…`, Hugging Face's
//! paper pages) and DOIs (`doi:10.…`, `https://doi.org/10.…`, a bare `10.…/…`). An arXiv DOI
//! (`10.48550/arXiv.2410.18958`) is that arXiv paper; papers are identified by arXiv id
//! ([`PaperId`]), so other DOIs cannot be followed yet.
use super::PaperId;
use super::parse::strip_ci;

/// What an item that looks like a paper reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PaperRef {
    Arxiv(PaperId),
    /// The DOI of a paper that is not on arXiv (as written, without `doi:` or the link).
    OtherDoi(String),
    /// `doi:` followed by something that is not a DOI.
    BadDoi,
    /// A web link that names no arXiv paper.
    OtherLink,
}

/// The arXiv registrant's DOI prefix: `10.48550/arXiv.ID`.
const ARXIV_DOI: &str = "10.48550/arxiv.";

/// What `s` names, or `None` when it is not a paper reference at all (a keyword).
pub(super) fn paper_ref(s: &str) -> Option<PaperRef> {
    let s = s.trim();
    if s.is_empty() || s.contains(char::is_whitespace) || s.contains('"') {
        return None;
    }
    let link = ["http://", "https://"]
        .iter()
        .find_map(|p| strip_ci(s, p))
        .map(|rest| rest.trim_end_matches('/'));
    let (doi, said_doi) = match link {
        Some(rest) => {
            let host = ["dx.doi.org/", "www.doi.org/", "doi.org/"]
                .iter()
                .find_map(|h| strip_ci(rest, h));
            (host, host.is_some())
        }
        None => match strip_ci(s, "doi:") {
            Some(rest) => (Some(rest.trim()), true),
            None => (Some(s), false),
        },
    };
    if let Some(doi) = doi {
        if is_doi(doi) {
            if let Some(id) = strip_ci(doi, ARXIV_DOI).and_then(PaperId::parse_arxiv) {
                return Some(PaperRef::Arxiv(id.0));
            }
            return Some(PaperRef::OtherDoi(doi.to_string()));
        }
        if said_doi {
            return Some(PaperRef::BadDoi);
        }
    }
    let id = match link {
        Some(rest) => PaperId::parse_arxiv(rest),
        None => PaperId::parse_arxiv(s),
    };
    match (id, link) {
        (Some((id, _)), _) => Some(PaperRef::Arxiv(id)),
        (None, Some(_)) => Some(PaperRef::OtherLink),
        (None, None) => None,
    }
}

/// `10.` + a registrant code of digits (and dots) + `/` + a suffix.
fn is_doi(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("10.") else {
        return false;
    };
    let Some((registrant, suffix)) = rest.split_once('/') else {
        return false;
    };
    !registrant.is_empty()
        && registrant.starts_with(|c: char| c.is_ascii_digit())
        && registrant.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !suffix.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arxiv(id: &str) -> Option<PaperRef> {
        Some(PaperRef::Arxiv(PaperId::parse_arxiv(id).unwrap().0))
    }

    #[test]
    fn every_spelling_of_an_arxiv_paper_is_that_paper() {
        for s in [
            "arXiv:2410.18958",
            "2410.18958",
            "2410.18958v2",
            "https://arxiv.org/abs/2410.18958",
            "https://arxiv.org/abs/2410.18958v3/",
            "http://arxiv.org/pdf/2410.18958v1",
            "https://arxiv.org/pdf/2410.18958.pdf",
            "arxiv.org/abs/2410.18958",
            "https://huggingface.co/papers/2410.18958",
            "doi:10.48550/arXiv.2410.18958",
            "DOI:10.48550/ARXIV.2410.18958",
            "https://doi.org/10.48550/arXiv.2410.18958",
            "http://dx.doi.org/10.48550/arXiv.2410.18958",
            "10.48550/arXiv.2410.18958",
        ] {
            assert_eq!(paper_ref(s), arxiv("2410.18958"), "{s}");
        }
        assert_eq!(paper_ref("astro-ph/0601001"), arxiv("astro-ph/0601001"));
    }

    #[test]
    fn other_dois_links_and_words_are_told_apart() {
        assert_eq!(
            paper_ref("doi:10.1038/nature14539"),
            Some(PaperRef::OtherDoi("10.1038/nature14539".into()))
        );
        assert_eq!(
            paper_ref("https://doi.org/10.1145/3442188.3445922"),
            Some(PaperRef::OtherDoi("10.1145/3442188.3445922".into()))
        );
        assert_eq!(paper_ref("doi:banana"), Some(PaperRef::BadDoi));
        assert_eq!(
            paper_ref("https://example.org/paper"),
            Some(PaperRef::OtherLink)
        );
        for word in [
            "transformer",
            "node.js",
            "cs.CL",
            "3.14",
            "gpt-4",
            "10.5",
            "v2",
        ] {
            assert_eq!(paper_ref(word), None, "{word}");
        }
    }
}
