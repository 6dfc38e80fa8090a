//! What a subscriber wants to read, parsed from a one-line topic string.
//!
//! Syntax: items separated by commas, semicolons or new lines (separators inside double
//! quotes belong to the quoted text). Each item is one of
//! - a keyword or phrase (`transformer`, `"diffusion model"`, quotes optional; `all:` says
//!   the same): matched in title, abstract and keywords after the normalisation of
//!   [`crate::selection`];
//! - `ti:transformer` / `abs:transformer` (arXiv's field prefixes): in the title only, in the
//!   abstract only;
//! - `cat:cs.CL` (or a bare arXiv code in any case, `cs.CL`, `CS.LG`, `hep-th`, when arXiv has
//!   that category): the paper lists that category; `cat:cs` matches every `cs.*` category;
//! - `author:"Yann LeCun"` (or `au:`): a paper author is that person, however the name is
//!   written;
//! - `about:"equivariance and symmetry in deep learning"`: an interest in plain words, matched
//!   by text similarity;
//! - `like:2410.12345`, `dislike:2410.12345` (or `-like:`): papers the reader liked or did not;
//!   a bare arXiv id, an arXiv link (`/abs/…`, `/pdf/…`) or an arXiv DOI (`doi:10.48550/
//!   arXiv.…`) means `like:` of that paper;
//! - `-` (or `NOT `) before a keyword, phrase, category or author: exclude papers that match
//!   it. A keyword or phrase excludes where it matters — in the title or HF keywords, or said
//!   at least [`EXCLUDE_ABSTRACT_MENTIONS`] times in the abstract — so a passing mention does
//!   not; `-strict:survey` excludes any mention. Categories and authors exclude literally;
//! - `A AND B` (upper case, between items): a paper must match both; `A OR B` is two items
//!   (`A, B`), as items are alternatives already;
//! - `min_upvotes:10` (or `upvotes>=10`): only papers with at least that many HF upvotes.
//!
//! Anything else is refused with a [`TopicsError`] naming the item, its 1-based position and
//! its column: an unbalanced quote, an unknown prefix (`foo:bar`), a category arXiv does not
//! have (`cat:cs.ZZ`), an empty item between two separators, an operator with nothing on one
//! side. A bare person's name (`Yann LeCun`) stays a phrase, with a hint
//! ([`Topics::parse_with_hints`]) naming `author:"Yann LeCun"`. Parsing never panics (property
//! tested on arbitrary Unicode) and the canonical spelling ([`Topics`]'s `Display`) reads back
//! to the same value.
use std::fmt;

use serde::{Deserialize, Serialize};

use super::PaperId;
use super::categories::canonical_category;

mod names;
mod parse;
mod refs;

#[cfg(test)]
use parse::PREFIXES;
pub(crate) use parse::is_acronym_word;
use parse::{Mode, is_acronym_phrase, needs_quotes};

/// How many times the abstract must say an excluded keyword or phrase (not in the title or
/// keywords) for the paper to be about it and left out: once is a passing mention.
pub const EXCLUDE_ABSTRACT_MENTIONS: u16 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Term {
    /// A keyword or phrase: NFC, single spaces, lower case except acronyms (`SAM`, `ViT`).
    Phrase(String),
    /// An arXiv category (`cs.CL`) or archive (`cs`), as arXiv spells it.
    Category(String),
    /// An author's name as the reader wrote it (NFC, single spaces).
    Author(String),
    /// An interest in plain words (NFC, single spaces).
    About(String),
    /// A keyword or phrase looked for in the title only (`ti:`), spelled as [`Term::Phrase`].
    Title(String),
    /// A keyword or phrase looked for in the abstract only (`abs:`).
    Abstract(String),
    /// Items that must all match (`diffusion AND video`): two to [`MAX_ALL_PARTS`] distinct
    /// keywords, phrases, `ti:`/`abs:` phrases, categories or authors.
    All(Vec<Term>),
}

/// At most this many items joined with `AND`.
pub const MAX_ALL_PARTS: usize = 6;

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Phrase(p) => f.write_str(p),
            Term::Category(c) => f.write_str(c),
            Term::Author(a) => write!(f, "author {a}"),
            Term::About(a) => write!(f, "about “{a}”"),
            Term::Title(p) => write!(f, "{p} (title)"),
            Term::Abstract(p) => write!(f, "{p} (abstract)"),
            Term::All(parts) => {
                let parts: Vec<String> = parts.iter().map(Term::to_string).collect();
                f.write_str(&parts.join(" AND "))
            }
        }
    }
}

impl Term {
    /// The canonical spelling of the item, as [`Topics::parse`] reads it back.
    fn canonical(&self) -> String {
        match self {
            Term::Phrase(p) if needs_quotes(p) => format!("\"{p}\""),
            Term::Phrase(p) => p.clone(),
            // A feed's subject may have spaces or commas: quoted.
            Term::Category(c) if c.contains([',', ' ', '\t']) => {
                format!("cat:\"{c}\"")
            }
            Term::Category(c) => format!("cat:{c}"),
            Term::Author(a) => format!("author:\"{a}\""),
            Term::About(a) => format!("about:\"{a}\""),
            Term::Title(p) => format!("ti:{}", prefixed_value(p)),
            Term::Abstract(p) => format!("abs:{}", prefixed_value(p)),
            Term::All(parts) => {
                let parts: Vec<String> = parts.iter().map(Term::canonical).collect();
                parts.join(" AND ")
            }
        }
    }

    /// The phrase a keyword-like term looks for, whatever its field.
    pub fn phrase(&self) -> Option<&str> {
        match self {
            Term::Phrase(p) | Term::Title(p) | Term::Abstract(p) => Some(p),
            _ => None,
        }
    }
}

/// A phrase after `ti:`/`abs:`: quoted when it has spaces or separators.
fn prefixed_value(p: &str) -> String {
    if p.contains(|c: char| c.is_whitespace() || matches!(c, ',' | ';')) {
        format!("\"{p}\"")
    } else {
        p.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Topics {
    pub terms: Vec<Term>,
    /// Excluded keywords, phrases, `ti:`/`abs:` phrases, categories and authors (never
    /// `About` or `All`). Keywords and phrases exclude where it matters (see
    /// [`EXCLUDE_ABSTRACT_MENTIONS`]), the rest literally.
    pub exclude: Vec<Term>,
    /// Keywords and phrases (`Phrase`, `Abstract`) excluded at any mention: `-strict:survey`.
    #[serde(default)]
    pub exclude_strict: Vec<Term>,
    pub min_upvotes: Option<u32>,
    /// Papers named with `like:ARXIV_ID`: "more like these" (the recommender reads them).
    #[serde(default)]
    pub likes: Vec<PaperId>,
    /// Papers named with `dislike:ARXIV_ID` or `-like:ARXIV_ID`: "less like these".
    #[serde(default)]
    pub dislikes: Vec<PaperId>,
}

/// A topic line that cannot be understood: which item, where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("topic {position} `{item}` (column {column}): {reason}")]
pub struct TopicsError {
    /// The item as typed.
    pub item: String,
    /// 1-based index of the item in the line.
    pub position: usize,
    /// 1-based column (in characters) where the item starts.
    pub column: usize,
    pub reason: String,
}

/// Something in a line that parsed but may not mean what the reader thinks (a bare
/// person's name): shown by `topics check` and the web forms, never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicsHint {
    /// The item as typed.
    pub item: String,
    /// 1-based index of the item in the line.
    pub position: usize,
    /// What to write instead (`author:"Yann LeCun"`).
    pub suggestion: String,
}

impl fmt::Display for TopicsHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "topic {} `{}` looks like a person's name: did you mean {}? As written it is a \
             phrase (papers that say these words); put it in quotes to keep it so without \
             this note",
            self.position, self.item, self.suggestion
        )
    }
}

impl Topics {
    /// True when the reader follows nothing: the trending digest.
    pub fn is_trending(&self) -> bool {
        self.terms.is_empty() && self.likes.is_empty()
    }

    /// Parses a topic string; see the module docs for the syntax.
    pub fn parse(raw: &str) -> Result<Topics, TopicsError> {
        parse::parse(raw, Mode::Typed).map(|(topics, _)| topics)
    }

    /// [`Topics::parse`], with hints about items that may not mean what the reader thinks.
    pub fn parse_with_hints(raw: &str) -> Result<(Topics, Vec<TopicsHint>), TopicsError> {
        parse::parse(raw, Mode::Typed)
    }

    /// Reads a stored line with the meaning it had when it was stored: what an earlier
    /// version wrote bare as a phrase (`NOT`, `2410.18958`, `10.1038/nature14539`) stays that
    /// phrase, where [`Topics::parse`] reads a reader's typing as an operator or a paper.
    /// Lines in today's canonical spelling read the same either way.
    pub fn parse_stored(raw: &str) -> Result<Topics, TopicsError> {
        parse::parse(raw, Mode::Stored).map(|(topics, _)| topics)
    }

    /// Papers the reader named with `like:ARXIV_ID`.
    pub fn likes(&self) -> &[PaperId] {
        &self.likes
    }

    /// Papers the reader named with `dislike:ARXIV_ID` (or `-like:`).
    pub fn dislikes(&self) -> &[PaperId] {
        &self.dislikes
    }

    /// Categories this subscriber follows.
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().filter_map(|t| match t {
            Term::Category(c) => Some(c.as_str()),
            _ => None,
        })
    }

    /// Every term a selection index must know: terms, their `AND` parts, exclusions.
    pub fn indexed_terms(&self) -> impl Iterator<Item = &Term> {
        self.terms
            .iter()
            .chain(&self.exclude)
            .chain(&self.exclude_strict)
    }

    /// One line per item saying how it is understood (for `paperpost topics check`).
    pub fn explain(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for t in &self.terms {
            lines.push(match t {
                Term::All(parts) => {
                    let parts: Vec<String> = parts.iter().map(explain_part).collect();
                    format!(
                        "all of these must match: {} (keywords as below; the why line names \
                         each)",
                        parts.join(" AND ")
                    )
                }
                other => explain_term(other),
            });
        }
        for x in &self.exclude {
            lines.push(explain_exclusion(x));
        }
        for x in &self.exclude_strict {
            let place = match x {
                Term::Abstract(_) => "the abstract",
                _ => "the title, abstract or keywords",
            };
            lines.push(format!(
                "leave out papers that mention `{}` anywhere in {place}, even in passing \
                 (strict)",
                x.phrase().unwrap_or_default()
            ));
        }
        for id in &self.likes {
            lines.push(format!("more like paper {id}"));
        }
        for id in &self.dislikes {
            lines.push(format!("less like paper {id}"));
        }
        if let Some(n) = self.min_upvotes {
            lines.push(format!("only papers with at least {n} upvotes"));
        }
        if self.is_trending() {
            lines.push("no topics: the trending digest".into());
        }
        lines
    }
}

fn explain_term(t: &Term) -> String {
    match t {
        Term::Phrase(p) if is_acronym_phrase(p) => format!(
            "keyword `{p}`: title, abstract or keywords; all-capitals words match only in \
             capitals; learned expansions count too"
        ),
        Term::Phrase(p) => format!(
            "keyword `{p}`: title, abstract or keywords; any case, accents, hyphens or \
             spacing; plurals and British/US spellings"
        ),
        Term::Title(p) => format!("keyword `{p}` in the title only (ti:)"),
        Term::Abstract(p) => format!("keyword `{p}` in the abstract only (abs:)"),
        Term::Category(c) if !c.contains('.') && canonical_category(c).is_some() => {
            format!("every category of the {c} archive")
        }
        Term::Category(c) => format!("category {c}"),
        Term::Author(a) => format!("author {a}: also with initials or as \"surname, given names\""),
        Term::About(a) => format!("about “{a}”: papers whose text is close to these words"),
        Term::All(parts) => {
            let parts: Vec<String> = parts.iter().map(explain_part).collect();
            parts.join(" AND ")
        }
    }
}

/// A part of `A AND B`, briefly.
fn explain_part(t: &Term) -> String {
    match t {
        Term::Phrase(p) => format!("keyword `{p}`"),
        Term::Title(p) => format!("`{p}` in the title"),
        Term::Abstract(p) => format!("`{p}` in the abstract"),
        other => other.to_string(),
    }
}

fn explain_exclusion(x: &Term) -> String {
    let n = EXCLUDE_ABSTRACT_MENTIONS;
    match x {
        Term::Phrase(p) => format!(
            "leave out papers about `{p}`: in the title or keywords, or said at least {n} \
             times in the abstract; a passing mention in the abstract stays \
             (-strict:{} leaves out any mention)",
            Term::Phrase(p.clone()).canonical()
        ),
        Term::Title(p) => format!("leave out papers with `{p}` in the title"),
        Term::Abstract(p) => format!(
            "leave out papers whose abstract says `{p}` at least {n} times \
             (-strict:{} leaves out any mention)",
            x.canonical()
        ),
        Term::Category(c) => format!("leave out papers listed in {c} (any of their categories)"),
        Term::Author(a) => format!("leave out papers by {a}"),
        other => format!("leave out papers matching {}", other.canonical()),
    }
}

/// The canonical spelling, which [`Topics::parse`] reads back to the same value.
impl fmt::Display for Topics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = self.terms.iter().map(Term::canonical).collect();
        for x in &self.exclude {
            items.push(format!("-{}", x.canonical()));
        }
        for x in &self.exclude_strict {
            items.push(format!("-strict:{}", x.canonical()));
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

#[cfg(test)]
mod tests;
