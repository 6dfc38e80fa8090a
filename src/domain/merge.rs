//! Merging what several sources know about one paper: a pure function with one documented
//! rule per field, so the stored paper is the same whatever order the sources arrive in.
//!
//! | field | rule |
//! |---|---|
//! | upvotes, comments, GitHub stars | the maximum seen (Hugging Face counts only grow) |
//! | title, abstract | arXiv's (feed or API) unless it has none, then the file's, then Hugging Face's; a newer version over an older |
//! | authors | the fuller list; equally long lists: as for the title |
//! | version | the newest seen |
//! | abstract link | the arXiv abstract page without a version (`/abs/ID`, always the latest) |
//! | PDF link | a pinned arXiv PDF (`…/pdf/IDvN`) is unpinned |
//! | primary category | arXiv's unless it has none |
//! | categories | the union, primary first, then in alphabetical order |
//! | published / updated / listed | the earliest / the latest / the latest |
//! | id | the strongest key: an arXiv id over a DOI over a URL ([`PaperId::strength`]) |
//! | thumbnail, code, project page, HF page, AI summary, comment, journal, DOI, published version's DOI | whichever has one |
//! | AI keywords | the longer list |
//! | announcement type | the most newsworthy: `new`, then `cross`, `replace`, `replace-cross` |
//! | sources | the union |
//!
//! Every rule picks the greatest candidate under a total order (ties broken by the values
//! themselves), so merging is commutative and associative: `merge(a, merge(b, c))` equals
//! `merge(merge(c, a), b)`. A paper's [`Provenance`] records how much each picked text is
//! trusted, so later merges compare like with like.
use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::{Paper, PaperId, SourceKind};

/// How much a value is trusted: the kind of source that gave it (arXiv over a file over
/// Hugging Face), then the paper version it came with.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Rank {
    pub tier: u8,
    pub version: u32,
}

impl Rank {
    pub fn of(origin: Option<SourceKind>, version: Option<u32>) -> Rank {
        let tier = match origin {
            // arXiv's, and bioRxiv's or medRxiv's own API about its preprints.
            Some(SourceKind::ArxivFeed | SourceKind::ArxivApi | SourceKind::Biorxiv) => 3,
            // A hand-made list, any other feed (a journal's table of contents), or a paper
            // stored before paperpost recorded origins.
            Some(SourceKind::Local | SourceKind::Feed) | None => 2,
            Some(SourceKind::HfDaily) => 1,
        };
        Rank {
            tier,
            version: version.unwrap_or(0),
        }
    }
}

/// The rank of each ranked field's current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Provenance {
    pub title: Rank,
    pub abstract_text: Rank,
    pub authors: Rank,
    pub primary_category: Rank,
}

impl Provenance {
    fn of(p: &Paper) -> Provenance {
        p.provenance.unwrap_or_else(|| {
            let r = Rank::of(p.origin, p.version);
            Provenance {
                title: r,
                abstract_text: r,
                authors: r,
                primary_category: r,
            }
        })
    }
}

/// One paper from what `a` and `b` know (the same id). Pure; see the module doc for the rules.
pub fn merge(a: Paper, b: Paper) -> Paper {
    let (pa, pb) = (Provenance::of(&a), Provenance::of(&b));
    let (title, title_rank) = best_text((a.title, pa.title), (b.title, pb.title));
    let (abstract_text, abstract_rank) = best_text(
        (a.abstract_text, pa.abstract_text),
        (b.abstract_text, pb.abstract_text),
    );
    let (authors, authors_rank) = best_by(
        (a.authors, pa.authors),
        (b.authors, pb.authors),
        |(x, rx), (y, ry)| x.len().cmp(&y.len()).then(rx.cmp(ry)).then(x.cmp(y)),
    );
    let (primary_category, primary_rank) = best_by(
        (a.primary_category, pa.primary_category),
        (b.primary_category, pb.primary_category),
        |(x, rx), (y, ry)| {
            x.is_some()
                .cmp(&y.is_some())
                .then(rx.cmp(ry))
                .then(x.cmp(y))
        },
    );
    let mut categories = a.categories;
    categories.extend(b.categories);
    let mut sources = a.sources;
    sources.extend(b.sources);
    let version = a.version.max(b.version);
    let id = best_by(a.id, b.id, |x, y| {
        let strength = |i: &Option<PaperId>| i.as_ref().map(PaperId::strength);
        strength(x).cmp(&strength(y)).then(x.cmp(y))
    });
    normalize(Paper {
        abs_url: a.abs_url.max(b.abs_url),
        pdf_url: a.pdf_url.max(b.pdf_url),
        hf_url: a.hf_url.max(b.hf_url),
        code_url: a.code_url.max(b.code_url),
        project_url: a.project_url.max(b.project_url),
        thumbnail: a.thumbnail.max(b.thumbnail),
        upvotes: a.upvotes.max(b.upvotes),
        comments: a.comments.max(b.comments),
        github_stars: a.github_stars.max(b.github_stars),
        ai_summary: a.ai_summary.max(b.ai_summary),
        ai_keywords: best_by(a.ai_keywords, b.ai_keywords, |x, y| {
            x.len().cmp(&y.len()).then(x.cmp(y))
        }),
        announce_type: best_by(a.announce_type, b.announce_type, |x, y| {
            news_rank(y).cmp(&news_rank(x)).then(x.cmp(y))
        }),
        comment: a.comment.max(b.comment),
        journal_ref: a.journal_ref.max(b.journal_ref),
        doi: a.doi.max(b.doi),
        published_doi: a.published_doi.max(b.published_doi),
        published: min_some(a.published, b.published),
        updated: a.updated.max(b.updated),
        listed: a.listed.max(b.listed),
        id,
        version,
        title,
        abstract_text,
        authors,
        categories,
        primary_category,
        sources,
        origin: None,
        provenance: Some(Provenance {
            title: title_rank,
            abstract_text: abstract_rank,
            authors: authors_rank,
            primary_category: primary_rank,
        }),
    })
}

/// A paper in the form [`merge`] returns: links unpinned, categories primary first then
/// sorted without repeats, its provenance recorded. Idempotent; the store keeps papers so.
pub fn normalize(mut p: Paper) -> Paper {
    p.provenance = Some(Provenance::of(&p));
    p.origin = None;
    if let Some(id) = p.id.as_ref().filter(|id| id.is_arxiv()) {
        p.abs_url = Some(format!("https://arxiv.org/abs/{id}"));
        if let Some(pdf) = &p.pdf_url {
            p.pdf_url = Some(unpin_pdf(pdf, id.as_str()));
        }
    }
    p.categories.sort();
    p.categories.dedup();
    if let Some(primary) = &p.primary_category {
        p.categories.retain(|c| c != primary);
        p.categories.insert(0, primary.clone());
    }
    p
}

/// `…/pdf/2410.18975v2` (or `.pdf`, `v2.pdf`) → `…/pdf/2410.18975`: the latest version.
fn unpin_pdf(url: &str, id: &str) -> String {
    let Some(pos) = url.rfind(id) else {
        return url.to_string();
    };
    let (head, tail) = url.split_at(pos + id.len());
    let rest = tail.strip_suffix(".pdf").unwrap_or(tail);
    let pinned = rest
        .strip_prefix('v')
        .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()));
    if pinned || rest.is_empty() {
        head.to_string()
    } else {
        url.to_string()
    }
}

/// Text: a non-empty value over an empty one, then the higher rank, then the greater text.
fn best_text(a: (String, Rank), b: (String, Rank)) -> (String, Rank) {
    best_by(a, b, |(x, rx), (y, ry)| {
        (!x.is_empty())
            .cmp(&!y.is_empty())
            .then(rx.cmp(ry))
            .then(x.cmp(y))
    })
}

/// The greater of two values under `cmp` (a total order, so the pick is order-free).
fn best_by<T>(a: T, b: T, cmp: impl Fn(&T, &T) -> Ordering) -> T {
    if cmp(&a, &b) == Ordering::Less { b } else { a }
}

/// How newsworthy an announcement is: lower is more.
fn news_rank(t: &Option<String>) -> u8 {
    match t.as_deref() {
        Some("new") => 0,
        Some("cross") => 1,
        Some("replace") => 2,
        Some("replace-cross") => 3,
        Some(_) => 4,
        None => 5,
    }
}

fn min_some<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn base(kind: SourceKind, source: &str, version: Option<u32>) -> Paper {
        let mut p = Paper {
            id: Some(PaperId::parse_arxiv("2410.18975").unwrap().0),
            version,
            origin: Some(kind),
            ..Paper::default()
        };
        p.sources.insert(source.into());
        p
    }

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("Author {i}")).collect()
    }

    /// The same paper as each of the four kinds of source sees it (shaped like the
    /// recorded fixtures): HF with counts and extras, the arXiv feed announcing v2 with a
    /// short author list, the API with v1, a hand-made file with a few fields.
    pub(crate) fn four_sightings() -> Vec<Paper> {
        let day = |d| Utc.with_ymd_and_hms(2024, 10, d, 0, 0, 0).unwrap();
        let mut hf = base(SourceKind::HfDaily, "hf", None);
        hf.title = "Unbounded: A Generative Infinite Game (HF)".into();
        hf.abstract_text = "HF's copy of the abstract.".into();
        hf.authors = names(8);
        hf.upvotes = Some(28);
        hf.comments = Some(3);
        hf.thumbnail = Some("https://cdn/thumb.png".into());
        hf.hf_url = Some("https://huggingface.co/papers/2410.18975".into());
        hf.ai_summary = Some("A game.".into());
        hf.ai_keywords = vec!["game".into(), "LLM".into()];
        hf.github_stars = Some(40);
        hf.published = Some(day(24));
        hf.listed = Some(day(25));
        let mut feed = base(SourceKind::ArxivFeed, "feed", Some(2));
        feed.title = "Unbounded: A Generative Infinite Game of Character Life Simulation".into();
        feed.abstract_text = "arXiv v2 abstract.".into();
        feed.authors = names(2);
        feed.categories = vec!["cs.CV".into(), "cs.AI".into()];
        feed.primary_category = Some("cs.CV".into());
        feed.announce_type = Some("replace".into());
        feed.abs_url = Some("https://arxiv.org/abs/2410.18975v2".into());
        feed.listed = Some(day(28));
        let mut api = base(SourceKind::ArxivApi, "api", Some(1));
        api.title = "Unbounded: A Generative Infinite Game (v1)".into();
        api.abstract_text = "arXiv v1 abstract.".into();
        api.authors = names(8);
        api.categories = vec!["cs.CV".into(), "cs.CL".into(), "cs.LG".into()];
        api.primary_category = Some("cs.CV".into());
        api.published = Some(day(24));
        api.updated = Some(day(24));
        api.pdf_url = Some("http://arxiv.org/pdf/2410.18975v1".into());
        api.abs_url = Some("http://arxiv.org/abs/2410.18975v1".into());
        api.comment = Some("Project page: unbounded".into());
        api.doi = Some("10.1000/x".into());
        let mut file = base(SourceKind::Local, "file", None);
        file.title = "Unbounded (my notes)".into();
        file.authors = names(3);
        file.upvotes = Some(12);
        file.code_url = Some("https://github.com/x/unbounded".into());
        file.categories = vec!["cs.CV".into()];
        vec![hf, feed, api, file]
    }

    pub(crate) fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
        if items.len() <= 1 {
            return vec![items.to_vec()];
        }
        let mut out = Vec::new();
        for i in 0..items.len() {
            let mut rest = items.to_vec();
            let first = rest.remove(i);
            for mut p in permutations(&rest) {
                p.insert(0, first.clone());
                out.push(p);
            }
        }
        out
    }

    fn fold(order: Vec<Paper>) -> Paper {
        let mut it = order.into_iter();
        let mut acc = it.next().unwrap();
        for p in it {
            acc.merge(p);
        }
        acc
    }

    #[test]
    fn every_order_of_arrival_from_the_four_kinds_of_source_merges_to_the_same_paper() {
        let orders = permutations(&four_sightings());
        assert_eq!(orders.len(), 24);
        let results: Vec<Paper> = orders.into_iter().map(fold).collect();
        for r in &results[1..] {
            assert_eq!(r, &results[0]);
        }
        // And in pairs grouped either way (associativity).
        let [hf, feed, api, file]: [Paper; 4] = four_sightings().try_into().unwrap();
        let left = merge(
            merge(hf.clone(), feed.clone()),
            merge(api.clone(), file.clone()),
        );
        let right = merge(file, merge(api, merge(feed, hf)));
        assert_eq!(left, results[0]);
        assert_eq!(right, results[0]);
    }

    #[test]
    fn each_field_keeps_the_best_of_each_source() {
        let p = fold(four_sightings());
        assert_eq!(p.upvotes, Some(28), "HF's upvotes, the maximum seen");
        assert_eq!(p.comments, Some(3));
        assert_eq!(
            p.authors,
            names(8),
            "the fuller list, arXiv's spelling on a tie"
        );
        assert_eq!(
            p.abstract_text, "arXiv v2 abstract.",
            "arXiv's, newest version"
        );
        assert_eq!(
            p.title,
            "Unbounded: A Generative Infinite Game of Character Life Simulation"
        );
        assert_eq!(p.version, Some(2));
        assert_eq!(
            p.abs_url.as_deref(),
            Some("https://arxiv.org/abs/2410.18975")
        );
        assert_eq!(
            p.pdf_url.as_deref(),
            Some("http://arxiv.org/pdf/2410.18975")
        );
        assert_eq!(p.thumbnail.as_deref(), Some("https://cdn/thumb.png"));
        assert_eq!(
            p.code_url.as_deref(),
            Some("https://github.com/x/unbounded")
        );
        assert_eq!(p.ai_summary.as_deref(), Some("A game."));
        assert_eq!(p.categories, ["cs.CV", "cs.AI", "cs.CL", "cs.LG"]);
        assert_eq!(p.primary_category.as_deref(), Some("cs.CV"));
        assert_eq!(p.sources.len(), 4);
        assert_eq!(p.listed, four_sightings()[1].listed, "the latest listing");
        assert_eq!(p.doi.as_deref(), Some("10.1000/x"));
    }

    #[test]
    fn a_missing_arxiv_text_falls_back_to_the_other_sources() {
        let mut s = four_sightings();
        s[1].abstract_text.clear();
        s[2].abstract_text.clear();
        let p = fold(s);
        assert_eq!(p.abstract_text, "HF's copy of the abstract.");
        let mut s = four_sightings();
        s.remove(1);
        s.remove(1);
        assert_eq!(
            fold(s).title,
            "Unbounded (my notes)",
            "a file's title over HF's"
        );
    }

    #[test]
    fn merging_a_paper_with_itself_changes_nothing_once_normalized() {
        for p in four_sightings() {
            let n = normalize(p.clone());
            assert_eq!(merge(n.clone(), p), n);
            assert_eq!(normalize(n.clone()), n);
        }
    }

    #[test]
    fn the_strongest_id_wins_whatever_the_order() {
        let doi = Paper {
            id: PaperId::from_doi("10.1101/2024.01.01.123456"),
            doi: Some("10.1101/2024.01.01.123456".into()),
            origin: Some(SourceKind::Biorxiv),
            ..Paper::default()
        };
        let web = Paper {
            id: PaperId::from_url("https://example.org/p/1"),
            doi: Some("10.1101/2024.01.01.123456".into()),
            origin: Some(SourceKind::Feed),
            ..Paper::default()
        };
        let ax = base(SourceKind::ArxivApi, "api", Some(1));
        for order in permutations(&[doi.clone(), web.clone(), ax.clone()]) {
            assert_eq!(fold(order).id, ax.id);
        }
        assert_eq!(merge(web.clone(), doi.clone()).id, doi.id);
        assert_eq!(merge(doi, web).published_doi, None);
    }

    #[test]
    fn pinned_pdf_links_are_unpinned_and_others_left_alone() {
        let id = "2410.18975";
        for (url, want) in [
            (
                "http://arxiv.org/pdf/2410.18975v3",
                "http://arxiv.org/pdf/2410.18975",
            ),
            (
                "https://arxiv.org/pdf/2410.18975v1.pdf",
                "https://arxiv.org/pdf/2410.18975",
            ),
            (
                "https://arxiv.org/pdf/2410.18975",
                "https://arxiv.org/pdf/2410.18975",
            ),
            (
                "https://example.org/paper.pdf",
                "https://example.org/paper.pdf",
            ),
            ("https://x/2410.18975vx", "https://x/2410.18975vx"),
        ] {
            assert_eq!(unpin_pdf(url, id), want, "{url}");
        }
    }
}
