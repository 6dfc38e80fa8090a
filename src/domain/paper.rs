//! A research paper, normalised from whatever source saw it.
use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One paper's identity: its arXiv id without version (`2410.18975`, `astro-ph/0601001`);
/// for a paper that is not on arXiv, `doi:` and its DOI in canonical spelling
/// (`doi:10.1101/2024.01.01.123456`, see [`canonical_doi`]); for one with neither, `ext:`
/// and its URL (canonical for feeds, see [`canonical_url`]; as written for hand-made lists).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaperId(String);

impl PaperId {
    /// Parses any common spelling of an arXiv identifier: `2410.18975v2`, `arXiv:2410.18975`,
    /// `https://arxiv.org/abs/2410.18975v1`, `http://arxiv.org/pdf/astro-ph/0601001v1.pdf`,
    /// `astro-ph/0601001`. Returns the id and the version when one was given.
    pub fn parse_arxiv(raw: &str) -> Option<(PaperId, Option<u32>)> {
        let mut s = raw.trim();
        for prefix in ["http://", "https://"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest;
            }
        }
        for prefix in ["www.", "export."] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest;
            }
        }
        for prefix in ["arxiv.org/abs/", "arxiv.org/pdf/", "huggingface.co/papers/"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest;
            }
        }
        if s.len() > 6 && s.get(..6).is_some_and(|h| h.eq_ignore_ascii_case("arxiv:")) {
            s = &s[6..];
        }
        let s = s.strip_suffix(".pdf").unwrap_or(s);
        let (base, version) = split_version(s);
        let valid = if let Some((archive, number)) = base.split_once('/') {
            // old style: archive(.SUBJ)?/YYMMNNN; the archive itself (before any `.SUBJ`)
            // must be there, or the id would not read back (`./0601001` → `/0601001`).
            archive.split('.').next().is_some_and(|a| !a.is_empty())
                && archive
                    .chars()
                    .all(|c| c.is_ascii_alphabetic() || c == '-' || c == '.')
                && number.len() == 7
                && number.chars().all(|c| c.is_ascii_digit())
        } else {
            // new style: YYMM.NNNN or YYMM.NNNNN
            match base.split_once('.') {
                Some((yymm, num)) => {
                    yymm.len() == 4
                        && yymm.chars().all(|c| c.is_ascii_digit())
                        && (4..=5).contains(&num.len())
                        && num.chars().all(|c| c.is_ascii_digit())
                }
                None => false,
            }
        };
        if !valid {
            return None;
        }
        // Old-style archives are lower case, the subject class (math.GT/...) is dropped from ids.
        let base = match base.split_once('/') {
            Some((archive, number)) => {
                let archive = archive.split('.').next().unwrap_or(archive);
                format!("{}/{}", archive.to_ascii_lowercase(), number)
            }
            None => base.to_string(),
        };
        Some((PaperId(base), version))
    }

    /// An id for a paper that is not on arXiv, keyed by its URL as written.
    pub fn external(url: &str) -> PaperId {
        PaperId(format!("ext:{}", url.trim()))
    }

    /// The id of the paper with this DOI (any usual spelling, see [`canonical_doi`]): the
    /// arXiv id for an arXiv-issued DOI (`10.48550/arXiv.2410.18975`), else `doi:` and the
    /// canonical DOI. `None` when `raw` is not a DOI.
    pub fn from_doi(raw: &str) -> Option<PaperId> {
        let doi = canonical_doi(raw)?;
        if let Some(rest) = doi.strip_prefix("10.48550/arxiv.")
            && let Some((id, _)) = PaperId::parse_arxiv(rest)
        {
            return Some(id);
        }
        Some(PaperId(format!("doi:{doi}")))
    }

    /// The id a web address names: an arXiv page's arXiv id, a DOI resolver link's DOI,
    /// else `ext:` and the canonical URL ([`canonical_url`]). `None` when `raw` is not an
    /// http(s) URL.
    pub fn from_url(raw: &str) -> Option<PaperId> {
        if let Some((id, _)) = arxiv_link(raw) {
            return Some(id);
        }
        let url = canonical_url(raw)?;
        let host = url.split_once("://").map_or("", |(_, rest)| rest);
        if ["doi.org/", "dx.doi.org/", "www.doi.org/"]
            .iter()
            .any(|h| host.starts_with(h))
            && let Some(id) = PaperId::from_doi(&url)
        {
            return Some(id);
        }
        Some(PaperId(format!("ext:{url}")))
    }

    /// Any way a person names a paper: an arXiv id or link ([`PaperId::parse_arxiv`]), a
    /// DOI in any spelling, a `doi:`/`ext:` key as paperpost prints them, or a web address.
    pub fn parse_any(raw: &str) -> Option<PaperId> {
        let raw = raw.trim();
        if let Some((id, _)) = PaperId::parse_arxiv(raw) {
            return Some(id);
        }
        if let Ok(id) = PaperId::try_from(raw.to_string())
            && !id.is_arxiv()
        {
            return Some(id);
        }
        PaperId::from_doi(raw).or_else(|| PaperId::from_url(raw))
    }

    /// True for an arXiv id (not a `doi:` or `ext:` key).
    pub fn is_arxiv(&self) -> bool {
        !self.0.starts_with("ext:") && !self.0.starts_with("doi:")
    }

    /// The DOI of a `doi:` key.
    pub fn doi(&self) -> Option<&str> {
        self.0.strip_prefix("doi:")
    }

    /// The URL of an `ext:` key.
    pub fn url(&self) -> Option<&str> {
        self.0.strip_prefix("ext:")
    }

    /// How good a key this is when one paper has several: an arXiv id (2) over a DOI (1)
    /// over a URL (0).
    pub fn strength(&self) -> u8 {
        if self.is_arxiv() {
            2
        } else if self.doi().is_some() {
            1
        } else {
            0
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn split_version(s: &str) -> (&str, Option<u32>) {
    if let Some(pos) = s.rfind('v') {
        let (base, v) = (&s[..pos], &s[pos + 1..]);
        if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) && !base.is_empty() {
            return (base, v.parse().ok());
        }
    }
    (s, None)
}

/// An arXiv id in a link to an arXiv page (`https://arxiv.org/abs/2410.18975v2`), and its
/// version; `None` for any other link.
pub fn arxiv_link(raw: &str) -> Option<(PaperId, Option<u32>)> {
    let s = raw.trim();
    let lower = s.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let rest = rest.strip_prefix("export.").unwrap_or(rest);
    if !(rest.starts_with("arxiv.org/abs/") || rest.starts_with("arxiv.org/pdf/")) {
        return None;
    }
    // The original spelling (old-style archives keep their case until parse_arxiv), without
    // a query or fragment.
    let cut = s.find(['?', '#']).unwrap_or(s.len());
    PaperId::parse_arxiv(s[..cut].trim_end_matches('/'))
}

/// A DOI in the spelling paperpost keys papers by: [`Doi::parse`]'s (lower case, resolver
/// and `doi:` prefixes and whitespace dropped), also from `info:doi/10.…`; a bioRxiv or
/// medRxiv DOI (`10.1101/…`) without the version its links add (`…123456v2`), which is not
/// part of the DOI. `None` when `raw` is not a DOI.
///
/// [`Doi::parse`]: super::Doi::parse
pub fn canonical_doi(raw: &str) -> Option<String> {
    let s = raw.trim();
    let s = match s.get(..9) {
        Some(head) if head.eq_ignore_ascii_case("info:doi/") => &s[9..],
        _ => s,
    };
    let doi = super::Doi::parse(s)?;
    let doi = doi.as_str();
    if let Some(suffix) = doi.strip_prefix("10.1101/")
        && let Some(pos) = suffix.rfind('v')
        && pos > 0
        && suffix[pos + 1..].bytes().all(|b| b.is_ascii_digit())
        && pos + 1 < suffix.len()
    {
        return Some(format!("10.1101/{}", &suffix[..pos]));
    }
    Some(doi.to_string())
}

/// Query parameters that only track where a click came from: dropped from canonical URLs.
/// `af=R` (Atypon: Wiley, Taylor & Francis), `rss=1` (HighWire, Silverchair), `dgcid`
/// (ScienceDirect) are the journal feeds' own.
const TRACKING_PARAMS: &[&str] = &[
    "af", "rss", "dgcid", "fbclid", "gclid", "mc_cid", "mc_eid", "ref", "source",
];

/// A URL in the spelling paperpost keys papers by: scheme and host lower case, no
/// fragment, no tracking parameters (`utm_*` and [`TRACKING_PARAMS`]), no trailing slash
/// on a path other than `/`, the default port dropped. `None` when `raw` is not an http(s) URL.
pub fn canonical_url(raw: &str) -> Option<String> {
    let mut url = url::Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let path = url.path().to_string();
    if path.len() > 1 && path.ends_with('/') {
        url.set_path(path.trim_end_matches('/'));
    }
    let mut out = url.to_string();
    // `Url` writes an empty path as `/`: `https://x.org` and `https://x.org/` are one page.
    if url.path() == "/" && url.query().is_none() {
        out = out.trim_end_matches('/').to_string();
    }
    Some(out)
}

impl fmt::Display for PaperId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PaperId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if let Some(url) = s.strip_prefix("ext:") {
            return Ok(PaperId::external(url));
        }
        if let Some(doi) = s.strip_prefix("doi:") {
            return canonical_doi(doi)
                .map(|d| PaperId(format!("doi:{d}")))
                .ok_or_else(|| format!("`{s}` is not a DOI key"));
        }
        PaperId::parse_arxiv(&s)
            .map(|(id, _)| id)
            .ok_or_else(|| format!("`{s}` is not an arXiv identifier"))
    }
}

impl From<PaperId> for String {
    fn from(id: PaperId) -> String {
        id.0
    }
}

/// Which kind of source saw a paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    HfDaily,
    ArxivFeed,
    ArxivApi,
    Local,
    /// Any RSS, Atom or JSON feed (`kind = "feed"`).
    Feed,
    /// The bioRxiv/medRxiv API.
    Biorxiv,
}

/// A paper as paperpost keeps it. Text fields are whitespace-collapsed by the source that
/// built it; everything a source does not know stays `None`/empty and is filled by [`Paper::merge`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Paper {
    pub id: Option<PaperId>,
    /// Highest arXiv version seen (`v2` → 2).
    pub version: Option<u32>,
    pub title: String,
    pub abstract_text: String,
    pub authors: Vec<String>,
    /// arXiv categories, primary first.
    pub categories: Vec<String>,
    pub primary_category: Option<String>,
    /// First publication (arXiv v1, or the date the source gives).
    pub published: Option<DateTime<Utc>>,
    /// Last revision seen.
    pub updated: Option<DateTime<Utc>>,
    /// The date a daily list (HF Daily Papers, an arXiv announcement) listed the paper.
    pub listed: Option<DateTime<Utc>>,
    pub abs_url: Option<String>,
    pub pdf_url: Option<String>,
    pub hf_url: Option<String>,
    pub code_url: Option<String>,
    pub project_url: Option<String>,
    pub thumbnail: Option<String>,
    pub upvotes: Option<u32>,
    pub comments: Option<u32>,
    pub github_stars: Option<u32>,
    /// The source's one-line AI summary (HF `ai_summary`).
    pub ai_summary: Option<String>,
    pub ai_keywords: Vec<String>,
    /// arXiv announcement type: `new`, `cross`, `replace`, `replace-cross`.
    pub announce_type: Option<String>,
    pub comment: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    /// The DOI of the journal version of a preprint (bioRxiv's `published`), canonical: the
    /// store matches the preprint with that paper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_doi: Option<String>,
    /// Names of the configured sources that saw this paper.
    pub sources: BTreeSet<String>,
    /// The kind of source that built this value (set by each parser); merged and stored
    /// papers carry `provenance` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<SourceKind>,
    /// How much each ranked field's value is trusted (see [`super::merge`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<super::merge::Provenance>,
}

impl Paper {
    /// The key the store uses. Papers without one are rejected by sources, so this is
    /// only `None` while a source is still building the value.
    pub fn key(&self) -> Option<&PaperId> {
        self.id.as_ref()
    }

    /// True when the announcement that showed us this paper was a replacement, not news.
    pub fn is_replacement(&self) -> bool {
        matches!(
            self.announce_type.as_deref(),
            Some("replace") | Some("replace-cross")
        )
    }

    /// Folds what `other` knows into `self`: the same paper seen again, by another source
    /// or later, field by field with the rules of [`super::merge`] — whatever the order.
    pub fn merge(&mut self, other: Paper) {
        *self = super::merge::merge(std::mem::take(self), other);
    }

    /// Every key this paper can be found by, best first: its id, the id of its DOI, the
    /// id of its published version's DOI (repeats left out). The store and the sources
    /// merge two sightings that share any of them.
    pub fn match_keys(&self) -> Vec<PaperId> {
        let mut keys: Vec<PaperId> = self.id.iter().cloned().collect();
        let dois = [&self.doi, &self.published_doi];
        for id in dois
            .into_iter()
            .flatten()
            .filter_map(|d| PaperId::from_doi(d))
        {
            if !keys.contains(&id) {
                keys.push(id);
            }
        }
        keys
    }

    /// The paper's page, derived from the id when no source gave a link: the arXiv
    /// abstract page, the DOI's resolver link, or the URL the id was made from.
    pub fn abs_link(&self) -> Option<String> {
        self.abs_url.clone().or_else(|| {
            let id = self.id.as_ref()?;
            if let Some(doi) = id.doi() {
                Some(format!("https://doi.org/{doi}"))
            } else if let Some(url) = id.url() {
                Some(url.to_string())
            } else {
                Some(format!("https://arxiv.org/abs/{id}"))
            }
        })
    }

    /// The PDF, derived from the id when no source gave a link.
    pub fn pdf_link(&self) -> Option<String> {
        self.pdf_url.clone().or_else(|| {
            self.id
                .as_ref()
                .filter(|id| id.is_arxiv())
                .map(|id| format!("https://arxiv.org/pdf/{id}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arxiv_ids_are_parsed_from_every_common_spelling() {
        let cases = [
            ("2410.18975", "2410.18975", None),
            ("2410.18975v2", "2410.18975", Some(2)),
            ("arXiv:1605.08386v1", "1605.08386", Some(1)),
            ("http://arxiv.org/abs/1605.08386v1", "1605.08386", Some(1)),
            (
                "https://arxiv.org/pdf/2410.18975v3.pdf",
                "2410.18975",
                Some(3),
            ),
            (
                "http://arxiv.org/abs/astro-ph/0601001v1",
                "astro-ph/0601001",
                Some(1),
            ),
            ("math.GT/0309136", "math/0309136", None),
            ("0704.0001", "0704.0001", None),
        ];
        for (raw, id, version) in cases {
            let (got, v) = PaperId::parse_arxiv(raw).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(got.as_str(), id, "{raw}");
            assert_eq!(v, version, "{raw}");
        }
    }

    #[test]
    fn things_that_are_not_arxiv_ids_are_refused() {
        for raw in [
            "",
            "abc",
            "12345.6789",
            "2410.189",
            "foo/bar",
            "https://example.org/x",
        ] {
            assert!(PaperId::parse_arxiv(raw).is_none(), "{raw}");
        }
    }

    #[test]
    fn dois_are_keyed_in_one_spelling_and_read_back() {
        for raw in [
            "10.1101/2024.01.01.123456",
            " doi:10.1101/2024.01.01.123456v2 ",
            "https://doi.org/10.1101/2024.01.01.123456",
            "HTTPS://DX.DOI.ORG/10.1101/2024.01.01.123456V3",
            "info:doi/10.1101/2024.01.01.123456",
        ] {
            let id = PaperId::from_doi(raw).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(id.as_str(), "doi:10.1101/2024.01.01.123456", "{raw}");
            assert!(!id.is_arxiv());
            assert_eq!(id.doi(), Some("10.1101/2024.01.01.123456"));
            assert_eq!(PaperId::try_from(id.to_string()).unwrap(), id);
        }
        // Only bioRxiv's DOIs carry a version to drop; others keep a trailing `v1`.
        assert_eq!(
            PaperId::from_doi("10.1002/TAX.12650").unwrap().as_str(),
            "doi:10.1002/tax.12650"
        );
        assert_eq!(
            PaperId::from_doi("10.5555/abcv1").unwrap().as_str(),
            "doi:10.5555/abcv1"
        );
        // An arXiv DOI is that arXiv paper.
        let ax = PaperId::from_doi("https://doi.org/10.48550/arXiv.2410.18975").unwrap();
        assert_eq!(ax.as_str(), "2410.18975");
        assert!(ax.is_arxiv());
        for bad in ["", "10.1/x", "doi:nothing", "https://example.org/10.1000"] {
            assert!(PaperId::from_doi(bad).is_none(), "{bad}");
        }
        assert!(PaperId::try_from("doi:not a doi".to_string()).is_err());
    }

    #[test]
    fn urls_are_keyed_canonically() {
        let cases = [
            (
                "HTTPS://Onlinelibrary.Wiley.com/doi/10.1002/tax.12650?af=R",
                "ext:https://onlinelibrary.wiley.com/doi/10.1002/tax.12650",
            ),
            (
                "https://example.org/papers/7/?utm_source=rss&utm_medium=feed&page=2#top",
                "ext:https://example.org/papers/7?page=2",
            ),
            ("http://Example.org:80/", "ext:http://example.org"),
            (
                "https://www.sciencedirect.com/science/article/pii/S1055790321002906?dgcid=rss_sd_all",
                "ext:https://www.sciencedirect.com/science/article/pii/S1055790321002906",
            ),
            (
                "https://doi.org/10.1080/09397140.2021.1992835",
                "doi:10.1080/09397140.2021.1992835",
            ),
            ("http://arxiv.org/abs/2410.18975v2?context=cs", "2410.18975"),
        ];
        for (raw, want) in cases {
            let id = PaperId::from_url(raw).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(id.as_str(), want, "{raw}");
            assert_eq!(PaperId::try_from(id.to_string()).unwrap(), id, "{raw}");
        }
        assert!(!PaperId::from_url("https://x.org/a").unwrap().is_arxiv());
        for bad in ["", "x.org/a", "ftp://x.org/a", "mailto:a@b.org"] {
            assert!(PaperId::from_url(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_paper_is_named_by_any_of_its_usual_spellings() {
        for (raw, want) in [
            ("arXiv:2410.18975v2", "2410.18975"),
            (
                "https://doi.org/10.1101/2024.01.01.123456",
                "doi:10.1101/2024.01.01.123456",
            ),
            ("10.1002/TAX.12650", "doi:10.1002/tax.12650"),
            ("doi:10.1002/tax.12650", "doi:10.1002/tax.12650"),
            ("ext:https://x.org/a", "ext:https://x.org/a"),
            ("https://x.org/a/?utm_source=y", "ext:https://x.org/a"),
        ] {
            assert_eq!(PaperId::parse_any(raw).unwrap().as_str(), want, "{raw}");
        }
        assert!(PaperId::parse_any("not a paper").is_none());
    }

    #[test]
    fn a_doi_paper_links_to_its_doi_and_is_found_by_its_published_doi() {
        let p = Paper {
            id: PaperId::from_doi("10.1101/2023.12.16.571984"),
            doi: Some("10.1101/2023.12.16.571984".into()),
            published_doi: Some("10.1002/TAX.12650".into()),
            ..Paper::default()
        };
        assert_eq!(
            p.abs_link().as_deref(),
            Some("https://doi.org/10.1101/2023.12.16.571984")
        );
        assert_eq!(p.pdf_link(), None);
        let keys: Vec<String> = p.match_keys().iter().map(|k| k.to_string()).collect();
        assert_eq!(
            keys,
            ["doi:10.1101/2023.12.16.571984", "doi:10.1002/tax.12650"]
        );
        let web = Paper {
            id: PaperId::from_url("https://example.org/a?utm_source=x"),
            ..Paper::default()
        };
        assert_eq!(web.abs_link().as_deref(), Some("https://example.org/a"));
    }

    fn paper(title: &str, version: Option<u32>) -> Paper {
        Paper {
            id: PaperId::parse_arxiv("2410.18975").map(|p| p.0),
            version,
            title: title.into(),
            ..Paper::default()
        }
    }

    #[test]
    fn merging_keeps_hf_upvotes_and_adds_arxiv_categories() {
        let mut hf = paper("HF title", None);
        hf.upvotes = Some(64);
        hf.sources.insert("hf".into());
        let mut ax = paper("arXiv title", Some(1));
        ax.categories = vec!["cs.CL".into(), "cs.AI".into()];
        ax.primary_category = Some("cs.CL".into());
        ax.sources.insert("arxiv".into());
        hf.merge(ax);
        assert_eq!(hf.upvotes, Some(64));
        assert_eq!(hf.categories, ["cs.CL", "cs.AI"]);
        assert_eq!(hf.sources.len(), 2);
    }

    #[test]
    fn a_newer_version_replaces_the_text() {
        let mut old = paper("Old", Some(1));
        old.merge(paper("New", Some(2)));
        assert_eq!((old.title.as_str(), old.version), ("New", Some(2)));
        old.merge(paper("Older", Some(1)));
        assert_eq!(old.title, "New");
    }
}
