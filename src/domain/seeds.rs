//! A reader's profile seeds: the papers of their own library (a BibTeX, RIS, CSL-JSON or CSV
//! file they brought), each keyed by its arXiv id, else its DOI, else its normalised title,
//! and kept with its text so the profile can use papers paperpost never stored.
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::PaperId;

/// At most this many seeds per reader (a large personal library; more is an export of a
/// whole database, not a reader's interests).
pub const MAX_SEEDS_PER_READER: usize = 2_000;

/// A DOI in its canonical spelling: lower case (DOIs are case-insensitive), no resolver
/// prefix (`https://doi.org/`, `doi:`), `10.` + registrant + `/` + suffix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Doi(String);

impl Doi {
    /// The longest DOI accepted (real ones are far shorter).
    pub const MAX_LEN: usize = 300;

    /// Reads a DOI from any usual spelling: `10.1000/XYZ`, `doi:10.1000/xyz`,
    /// `https://doi.org/10.1000/xyz`, `http://dx.doi.org/10.1000%2Fxyz` (percent-decoded).
    /// `None` when it is not one.
    pub fn parse(raw: &str) -> Option<Doi> {
        let mut s = raw.trim();
        let lower = s.to_ascii_lowercase();
        for prefix in [
            "https://doi.org/",
            "http://doi.org/",
            "https://dx.doi.org/",
            "http://dx.doi.org/",
            "https://www.doi.org/",
            "http://www.doi.org/",
            "doi.org/",
            "dx.doi.org/",
            "doi:",
            "doi ",
        ] {
            if lower.starts_with(prefix) {
                s = s[prefix.len()..].trim_start();
                break;
            }
        }
        let decoded;
        if s.contains('%') {
            decoded = urlencoding::decode(s).ok()?.into_owned();
            s = &decoded;
        }
        let lower = s.to_lowercase();
        let (prefix, suffix) = lower.split_once('/')?;
        let registrant = prefix.strip_prefix("10.")?;
        let registrant_ok = !registrant.is_empty()
            && registrant.len() <= 20
            && registrant
                .split('.')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            && registrant.split('.').next().is_some_and(|p| p.len() >= 4);
        let suffix_ok = !suffix.is_empty()
            && suffix
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"{}\\\"".contains(c));
        (registrant_ok && suffix_ok && lower.len() <= Self::MAX_LEN).then_some(Doi(lower))
    }

    /// The arXiv id of an arXiv-issued DOI (`10.48550/arXiv.2410.18975`).
    pub fn arxiv_id(&self) -> Option<PaperId> {
        let rest = self.0.strip_prefix("10.48550/arxiv.")?;
        PaperId::parse_arxiv(rest).map(|(id, _)| id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Doi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Doi {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Doi::parse(&s).ok_or_else(|| format!("`{s}` is not a DOI"))
    }
}

impl From<Doi> for String {
    fn from(d: Doi) -> String {
        d.0
    }
}

/// What identifies a seed among a reader's seeds: `arxiv:ID`, else `doi:DOI`, else
/// `title:` and a hash of the normalised title (letters and digits, lower case), so the same
/// paper read from two files (or twice from one) is one seed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeedKey(String);

impl SeedKey {
    pub fn of(arxiv: Option<&PaperId>, doi: Option<&Doi>, title: &str) -> SeedKey {
        match (arxiv, doi) {
            (Some(id), _) => SeedKey(format!("arxiv:{id}")),
            (None, Some(doi)) => SeedKey(format!("doi:{doi}")),
            (None, None) => {
                let hash = Sha256::digest(normalise_title(title).as_bytes());
                SeedKey(format!("title:{}", &hex::encode(hash)[..24]))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SeedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A title reduced to what two spellings of it share: letters and digits in lower case
/// (Unicode NFKC), single spaces between words. `Attention Is {All} You Need.` and
/// `attention is all you need` are one title.
pub fn normalise_title(title: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::with_capacity(title.len());
    for word in title
        .nfkc()
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// One paper of a reader's library, ready to store: what the file said about it, and the
/// stored paper it names, when paperpost has it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSeed {
    pub key: SeedKey,
    pub arxiv: Option<PaperId>,
    pub doi: Option<Doi>,
    pub title: String,
    pub abstract_text: String,
    pub authors: Vec<String>,
    pub year: Option<i32>,
    /// The line of the file the entry starts on.
    pub line: usize,
    /// The stored paper this seed names (by arXiv id, DOI or title), if any.
    pub paper: Option<PaperId>,
}

/// Where a set of seeds came from: one file a reader imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSource {
    /// The file's name as the reader gave it (no folders).
    pub file_name: String,
    /// `bibtex`, `ris`, `csl-json` or `csv`.
    pub format: String,
    /// Hex SHA-256 of the file's bytes: importing the same file again changes nothing.
    pub content_hash: String,
}

/// Importing a file adds to what earlier files seeded ([`SeedMode::Merge`], the latest
/// file's version of a paper wins) or replaces all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedMode {
    Merge,
    Replace,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeedTally {
    /// Seeds new to the reader.
    pub added: usize,
    /// Seeds the reader had whose text or source changed.
    pub updated: usize,
    /// Seeds the reader had already, exactly so.
    pub unchanged: usize,
    /// Seeds removed first (`--replace`).
    pub removed: usize,
    /// The reader's seeds after the import.
    pub total: usize,
}

/// The outcome of [`crate::store::Store::import_seeds`]: done, or refused whole because the
/// reader would hold more than the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedImport {
    Imported(SeedTally),
    OverCap { would_hold: usize, max: usize },
}

/// One imported file, for `subscribers show` and the preferences page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedFile {
    pub file_name: String,
    pub format: String,
    pub imported_at: DateTime<Utc>,
    /// The reader's seeds that came (last) from this file.
    pub seeds: usize,
    /// Of them, those naming a stored paper.
    pub matched: usize,
}

/// What seeded a reader's profile: per file, and the first few titles.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SeedSummary {
    pub files: Vec<SeedFile>,
    pub total: usize,
    pub matched: usize,
    /// Up to the few titles asked for, in the order the files listed them.
    pub first_titles: Vec<String>,
}

/// Why a document is in a reader's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSource {
    /// A stored paper the reader liked (👍, `like:`).
    Liked,
    /// A stored paper the reader disliked: it pushes down what is like it.
    Disliked,
    /// A paper of the reader's library (the file it came from).
    Seed { file_name: String },
}

/// One document of a reader's profile: its text, and the stored paper when there is one.
/// Liked or seeded papers that name the same stored paper appear once (as liked); a
/// reader's dislike of a paper their library names wins over the seed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileDocument {
    pub source: ProfileSource,
    pub paper: Option<PaperId>,
    pub title: String,
    pub abstract_text: String,
    pub authors: Vec<String>,
}

impl ProfileDocument {
    /// True for the documents that say what the reader wants (likes and seeds).
    pub fn is_positive(&self) -> bool {
        !matches!(self.source, ProfileSource::Disliked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dois_are_read_from_every_usual_spelling_into_one_canonical_form() {
        for raw in [
            "10.1002/GGGE.20071",
            "doi:10.1002/ggge.20071",
            "DOI: 10.1002/ggge.20071",
            "https://doi.org/10.1002/ggge.20071",
            "http://dx.doi.org/10.1002/ggge.20071",
            " https://doi.org/10.1002%2Fggge.20071 ",
        ] {
            assert_eq!(
                Doi::parse(raw).map(String::from).as_deref(),
                Some("10.1002/ggge.20071"),
                "{raw}"
            );
        }
        let sici = "10.1002/(SICI)1097-4636(199812)43:4<448::AID-JBM13>3.0.CO;2-7";
        assert!(Doi::parse(sici).is_some());
        for bad in [
            "",
            "10.1002",
            "11.1002/x",
            "10.12/x",
            "10.1002/",
            "10.1002/a b",
            "doi",
        ] {
            assert_eq!(Doi::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_arxiv_doi_names_its_arxiv_paper() {
        let doi = Doi::parse("https://doi.org/10.48550/arXiv.2410.18975").unwrap();
        assert_eq!(doi.arxiv_id().unwrap().as_str(), "2410.18975");
        assert_eq!(Doi::parse("10.1000/x").unwrap().arxiv_id(), None);
    }

    #[test]
    fn a_seed_is_keyed_by_arxiv_id_then_doi_then_its_normalised_title() {
        let id = PaperId::parse_arxiv("1706.03762v7").unwrap().0;
        let doi = Doi::parse("10.1000/X").unwrap();
        assert_eq!(
            SeedKey::of(Some(&id), Some(&doi), "t").as_str(),
            "arxiv:1706.03762"
        );
        assert_eq!(SeedKey::of(None, Some(&doi), "t").as_str(), "doi:10.1000/x");
        let a = SeedKey::of(None, None, "Attention Is {All} You Need.");
        let b = SeedKey::of(None, None, "attention is all  you need");
        assert_eq!(a, b);
        assert!(a.as_str().starts_with("title:"));
        assert_ne!(a, SeedKey::of(None, None, "Attention is not all you need"));
    }
}
