//! A research paper, normalised from whatever source saw it.
use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One paper's identity: its arXiv id without version (`2410.18975`, `astro-ph/0601001`),
/// or, for hand-made lists of papers that are not on arXiv, `ext:` and the paper's URL.
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

    /// An id for a paper that is not on arXiv, keyed by its URL.
    pub fn external(url: &str) -> PaperId {
        PaperId(format!("ext:{}", url.trim()))
    }

    pub fn is_arxiv(&self) -> bool {
        !self.0.starts_with("ext:")
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

    /// The arXiv abstract page, derived from the id when no source gave a link.
    pub fn abs_link(&self) -> Option<String> {
        self.abs_url.clone().or_else(|| {
            self.id
                .as_ref()
                .filter(|id| id.is_arxiv())
                .map(|id| format!("https://arxiv.org/abs/{id}"))
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
