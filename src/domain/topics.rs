//! What a subscriber wants to read, parsed from a one-line topic string.
//!
//! Syntax: items separated by commas, semicolons or new lines. Each item is one of
//! - a keyword or phrase (`transformer`, `"diffusion model"`, quotes optional): matched
//!   case-insensitively as whole words in title and abstract, simple plurals included;
//! - `cat:cs.CL` (or a bare arXiv category code such as `cs.CL` or `hep-th`): the paper lists that category;
//!   `cat:cs` matches every `cs.*` category;
//! - `author:"Yann LeCun"` (or `au:`): an author's name contains these words;
//! - `-term`: exclude papers that match `term`;
//! - `min_upvotes:10` (or `upvotes>=10`): only papers with at least that many HF upvotes.
//!
//! A paper is picked when it matches **any** keyword, phrase, category or author, **and** has
//! at least `min_upvotes` (when set), **and** matches no excluded term. No terms at all (only
//! `min_upvotes`, or nothing) means the trending digest.
use std::fmt;

use serde::{Deserialize, Serialize};

use super::PaperId;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Term {
    /// Lower-case words of a keyword or phrase.
    Phrase(String),
    /// An arXiv category (`cs.CL`) or archive (`cs`).
    Category(String),
    /// Lower-case words of an author's name.
    Author(String),
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Phrase(p) => f.write_str(p),
            Term::Category(c) => f.write_str(c),
            Term::Author(a) => write!(f, "author {a}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Topics {
    pub terms: Vec<Term>,
    pub exclude: Vec<String>,
    pub min_upvotes: Option<u32>,
    /// Papers named with `like:ARXIV_ID`: "more like these" (the recommender reads them).
    #[serde(default)]
    pub likes: Vec<PaperId>,
    /// Papers named with `dislike:ARXIV_ID` or `-like:ARXIV_ID`: "less like these".
    #[serde(default)]
    pub dislikes: Vec<PaperId>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("topic `{item}`: {reason}")]
pub struct TopicsError {
    pub item: String,
    pub reason: String,
}

const MAX_ITEMS: usize = 50;
const MAX_ITEM_LEN: usize = 100;

impl Topics {
    pub fn is_trending(&self) -> bool {
        self.terms.is_empty()
    }

    /// Parses a topic string; see the module docs for the syntax.
    pub fn parse(raw: &str) -> Result<Topics, TopicsError> {
        let mut topics = Topics::default();
        for item in split_items(raw) {
            let err = |reason: &str| TopicsError {
                item: item.clone(),
                reason: reason.into(),
            };
            if item.chars().count() > MAX_ITEM_LEN {
                return Err(err("is longer than 100 characters"));
            }
            if item.chars().any(|c| c.is_control()) {
                return Err(err("contains control characters"));
            }
            let lower = item.to_lowercase();
            if let Some(n) = strip_any(&lower, &["min_upvotes:", "upvotes>=", "upvotes:"]) {
                let n = n
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| err("the upvote count must be a whole number"))?;
                topics.min_upvotes = Some(n);
            } else if let Some((id, liked)) = liked_paper(&lower) {
                let id = id.ok_or_else(|| err("is not an arXiv identifier (like 2410.12345)"))?;
                let list = if liked {
                    &mut topics.likes
                } else {
                    &mut topics.dislikes
                };
                if !list.contains(&id) {
                    list.push(id);
                }
            } else if let Some(c) = strip_any_keep_case(&item, &["cat:", "category:"]) {
                let c = unquote(c);
                if !looks_like_category(c) {
                    return Err(err("is not an arXiv category code (like cs.CL or hep-th)"));
                }
                push_unique(&mut topics.terms, Term::Category(c.to_string()));
            } else if let Some(a) = strip_any(&lower, &["author:", "au:"]) {
                let a = words(unquote(a));
                if a.is_empty() {
                    return Err(err("names no author"));
                }
                push_unique(&mut topics.terms, Term::Author(a));
            } else if let Some(x) = lower.strip_prefix('-') {
                let x = words(unquote(x));
                if x.is_empty() {
                    return Err(err("excludes nothing"));
                }
                if !topics.exclude.contains(&x) {
                    topics.exclude.push(x);
                }
            } else if looks_like_category(&item) && item.contains('.') {
                push_unique(&mut topics.terms, Term::Category(item.to_string()));
            } else {
                let p = words(unquote(&lower));
                if p.is_empty() {
                    continue;
                }
                push_unique(&mut topics.terms, Term::Phrase(p));
            }
            if topics.terms.len() + topics.exclude.len() > MAX_ITEMS {
                return Err(err("is one topic too many (at most 50)"));
            }
        }
        Ok(topics)
    }

    /// Papers the reader named with `like:ARXIV_ID`.
    pub fn likes(&self) -> &[PaperId] {
        &self.likes
    }

    /// Papers the reader named with `dislike:ARXIV_ID` (or `-like:`).
    pub fn dislikes(&self) -> &[PaperId] {
        &self.dislikes
    }

    /// Categories this subscriber follows (for validation against the taxonomy).
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().filter_map(|t| match t {
            Term::Category(c) => Some(c.as_str()),
            _ => None,
        })
    }
}

/// The canonical spelling, which [`Topics::parse`] reads back to the same value.
impl fmt::Display for Topics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = Vec::new();
        for t in &self.terms {
            items.push(match t {
                Term::Phrase(p) if p.contains(' ') => format!("\"{p}\""),
                Term::Phrase(p) => p.clone(),
                Term::Category(c) => format!("cat:{c}"),
                Term::Author(a) => format!("author:\"{a}\""),
            });
        }
        for x in &self.exclude {
            items.push(if x.contains(' ') {
                format!("-\"{x}\"")
            } else {
                format!("-{x}")
            });
        }
        for id in &self.likes {
            items.push(format!("like:{id}"));
        }
        for id in &self.dislikes {
            items.push(format!("dislike:{id}"));
        }
        if let Some(n) = self.min_upvotes {
            items.push(format!("min_upvotes:{n}"));
        }
        f.write_str(&items.join(", "))
    }
}

/// `like:ID` → (id, true); `dislike:ID` and `-like:ID` → (id, false); `None` for other items.
fn liked_paper(lower: &str) -> Option<(Option<PaperId>, bool)> {
    let (rest, liked) = if let Some(r) = lower.strip_prefix("like:") {
        (r, true)
    } else if let Some(r) = strip_any(lower, &["dislike:", "-like:"]) {
        (r, false)
    } else {
        return None;
    };
    Some((PaperId::parse_arxiv(unquote(rest)).map(|(id, _)| id), liked))
}

fn push_unique(terms: &mut Vec<Term>, t: Term) {
    if !terms.contains(&t) {
        terms.push(t);
    }
}

/// Splits on `,` `;` and new lines that are not inside double quotes.
fn split_items(raw: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in raw.chars() {
        match c {
            '"' | '“' | '”' => {
                quoted = !quoted;
                cur.push('"');
            }
            ',' | ';' | '\n' | '\r' if !quoted => {
                items.push(std::mem::take(&mut cur));
            }
            c => cur.push(c),
        }
    }
    items.push(cur);
    items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s != "\"\"")
        .collect()
}

fn strip_any<'a>(s: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    prefixes.iter().find_map(|p| s.strip_prefix(p))
}

fn strip_any_keep_case<'a>(s: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    prefixes.iter().find_map(|p| {
        // `get` and not `[..]`: the prefix's length need not fall on a char boundary of `s`
        // (`author:"łukasz"` has `ł` across byte 9, the length of `category:`).
        let head = s.get(..p.len())?;
        head.eq_ignore_ascii_case(p).then(|| &s[p.len()..])
    })
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"').trim()
}

/// Lower-case words joined by single spaces; punctuation other than `-`, `+`, `'` and `.`
/// inside a word is dropped.
fn words(s: &str) -> String {
    s.to_lowercase()
        .split(|c: char| c.is_whitespace())
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '+' && c != '#')
                .to_string()
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `cs`, `cs.CL`, `hep-th`, `math.AG`, `astro-ph.CO`, `cond-mat.quant-gas`: letters and dashes,
/// optionally a dot and a subject (arXiv's longest subject codes have 9 characters).
pub(crate) fn looks_like_category(s: &str) -> bool {
    let (archive, subject) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let archive_ok = !archive.is_empty()
        && archive.len() <= 16
        && archive.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && !archive.starts_with('-');
    let subject_ok = subject.is_none_or(|sub| {
        !sub.is_empty()
            && sub.len() <= 12
            && sub.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
    });
    archive_ok && subject_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_item_is_parsed() {
        let t = Topics::parse(
            "Transformers, \"diffusion model\"; cat:cs.CL, large language models, author:\"Yann LeCun\", -survey, min_upvotes:10",
        )
        .unwrap();
        assert_eq!(
            t.terms,
            vec![
                Term::Phrase("transformers".into()),
                Term::Phrase("diffusion model".into()),
                Term::Category("cs.CL".into()),
                Term::Phrase("large language models".into()),
                Term::Author("yann lecun".into()),
            ]
        );
        assert_eq!(t.exclude, vec!["survey".to_string()]);
        assert_eq!(t.min_upvotes, Some(10));
    }

    #[test]
    fn bare_category_codes_are_categories() {
        let t = Topics::parse("cs.LG, astro-ph.CO").unwrap();
        assert_eq!(
            t.terms,
            vec![
                Term::Category("cs.LG".into()),
                Term::Category("astro-ph.CO".into())
            ]
        );
    }

    #[test]
    fn the_canonical_spelling_round_trips() {
        let t = Topics::parse("a, \"b c\", cat:cs, author:x y, -\"d e\", -f, upvotes>=3").unwrap();
        assert_eq!(Topics::parse(&t.to_string()).unwrap(), t);
    }

    #[test]
    fn long_physics_subject_codes_are_categories() {
        let t = Topics::parse("cat:cond-mat.quant-gas, cond-mat.stat-mech").unwrap();
        assert_eq!(
            t.categories().collect::<Vec<_>>(),
            ["cond-mat.quant-gas", "cond-mat.stat-mech"]
        );
    }

    #[test]
    fn empty_topics_mean_trending() {
        assert!(Topics::parse("").unwrap().is_trending());
        assert!(Topics::parse(" , ;").unwrap().is_trending());
        assert!(Topics::parse("min_upvotes:5").unwrap().is_trending());
    }

    #[test]
    fn bad_items_are_refused_with_the_item_named() {
        let cases = [
            ("min_upvotes:many", "min_upvotes:many"),
            ("cat:CS CL", "cat:CS CL"),
            ("author:", "author:"),
        ];
        for (raw, item) in cases {
            let e = Topics::parse(raw).unwrap_err();
            assert_eq!(e.item, item, "{raw}");
        }
        let long = "x".repeat(101);
        assert!(Topics::parse(&long).is_err());
    }

    #[test]
    fn liked_and_disliked_papers_are_parsed_and_round_trip() {
        let t = Topics::parse("llm, like:2410.12345, dislike:2411.00001v2, -like:arXiv:2411.00002")
            .unwrap();
        assert_eq!(
            t.likes().iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ["2410.12345"]
        );
        assert_eq!(
            t.dislikes().iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ["2411.00001", "2411.00002"]
        );
        assert_eq!(Topics::parse(&t.to_string()).unwrap(), t);
        assert!(Topics::parse("like:banana").is_err());
    }

    #[test]
    fn non_ascii_items_parse_and_round_trip() {
        for raw in [
            "au: Łukasz",
            "author:\"łukasz\"",
            "café",
            "日本語",
            "author:\"Łukasz Kaiser\", author:\"Émile Borel\"",
            "-ł, cat:ł",
        ] {
            if let Ok(t) = Topics::parse(raw) {
                assert_eq!(Topics::parse(&t.to_string()).unwrap(), t, "{raw}");
            }
        }
        let t = Topics::parse("au: Łukasz").unwrap();
        assert_eq!(t.terms, vec![Term::Author("łukasz".into())]);
        assert_eq!(Topics::parse(&t.to_string()).unwrap(), t);
    }
}
