//! What a subscriber wants to read, parsed from a one-line topic string.
//!
//! Syntax: items separated by commas, semicolons or new lines (separators inside double
//! quotes belong to the quoted text). Each item is one of
//! - a keyword or phrase (`transformer`, `"diffusion model"`, quotes optional): matched in
//!   title, abstract and keywords after the normalisation of [`crate::selection`];
//! - `cat:cs.CL` (or a bare arXiv code in any case, `cs.CL`, `CS.LG`, `hep-th`, when arXiv has
//!   that category): the paper lists that category; `cat:cs` matches every `cs.*` category;
//! - `author:"Yann LeCun"` (or `au:`): a paper author is that person, however the name is
//!   written;
//! - `about:"equivariance and symmetry in deep learning"`: an interest in plain words, matched
//!   by text similarity;
//! - `like:2410.12345`, `dislike:2410.12345` (or `-like:`): papers the reader liked or did not;
//! - `-` before a keyword, phrase, category or author: exclude papers that match it;
//! - `min_upvotes:10` (or `upvotes>=10`): only papers with at least that many HF upvotes.
//!
//! Anything else is refused with a [`TopicsError`] naming the item, its 1-based position and
//! its column: an unbalanced quote, an unknown prefix (`foo:bar`), a category arXiv does not
//! have (`cat:cs.ZZ`), an empty item between two separators. Parsing never panics (property
//! tested on arbitrary Unicode) and the canonical spelling ([`Topics`]'s `Display`) reads back
//! to the same value.
use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::PaperId;
use super::categories::canonical_category;

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
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Phrase(p) => f.write_str(p),
            Term::Category(c) => f.write_str(c),
            Term::Author(a) => write!(f, "author {a}"),
            Term::About(a) => write!(f, "about “{a}”"),
        }
    }
}

impl Term {
    /// The canonical spelling of the item, as [`Topics::parse`] reads it back.
    fn canonical(&self) -> String {
        match self {
            Term::Phrase(p) if needs_quotes(p) => format!("\"{p}\""),
            Term::Phrase(p) => p.clone(),
            Term::Category(c) => format!("cat:{c}"),
            Term::Author(a) => format!("author:\"{a}\""),
            Term::About(a) => format!("about:\"{a}\""),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Topics {
    pub terms: Vec<Term>,
    /// Excluded keywords, phrases, categories and authors (never `About`).
    pub exclude: Vec<Term>,
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

const MAX_ITEMS: usize = 50;
const MAX_ITEM_LEN: usize = 100;
const MAX_ABOUT_LEN: usize = 400;
/// Room for what is around an item's value: `-`, the longest prefix (`category:`), quotes
/// and spaces.
const PREFIX_ALLOWANCE: usize = 20;

/// Prefixes the parser knows, for the error that lists them.
const PREFIXES: &str = "cat:, author:, about:, like:, dislike:, min_upvotes:";

impl Topics {
    /// True when the reader follows nothing: the trending digest.
    pub fn is_trending(&self) -> bool {
        self.terms.is_empty() && self.likes.is_empty()
    }

    /// Parses a topic string; see the module docs for the syntax.
    pub fn parse(raw: &str) -> Result<Topics, TopicsError> {
        let mut topics = Topics::default();
        let items = split_items(raw)?;
        for item in &items {
            parse_item(item, &mut topics)?;
            if topics.terms.len()
                + topics.exclude.len()
                + topics.likes.len()
                + topics.dislikes.len()
                > MAX_ITEMS
            {
                return Err(item.error(&format!("is one topic too many (at most {MAX_ITEMS})")));
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

    /// Categories this subscriber follows.
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().filter_map(|t| match t {
            Term::Category(c) => Some(c.as_str()),
            _ => None,
        })
    }

    /// One line per item saying how it is understood (for `paperpost topics check`).
    pub fn explain(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for t in &self.terms {
            lines.push(match t {
                Term::Phrase(p) if is_acronym_phrase(p) => format!(
                    "keyword `{p}`: title, abstract or keywords; all-capitals words match \
                     only in capitals; learned expansions count too"
                ),
                Term::Phrase(p) => format!(
                    "keyword `{p}`: title, abstract or keywords; any case, accents, hyphens \
                     or spacing; plurals and British/US spellings"
                ),
                Term::Category(c) if c.contains('.') => format!("category {c}"),
                Term::Category(c) => format!("every category of the {c} archive"),
                Term::Author(a) => {
                    format!("author {a}: also with initials or as \"surname, given names\"")
                }
                Term::About(a) => {
                    format!("about “{a}”: papers whose text is close to these words")
                }
            });
        }
        for x in &self.exclude {
            lines.push(format!("leave out papers matching {}", x.canonical()));
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

/// The canonical spelling, which [`Topics::parse`] reads back to the same value.
impl fmt::Display for Topics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = self.terms.iter().map(Term::canonical).collect();
        for x in &self.exclude {
            items.push(format!("-{}", x.canonical()));
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

/// One item of the line with where it was.
struct Item {
    text: String,
    position: usize,
    column: usize,
}

impl Item {
    fn error(&self, reason: &str) -> TopicsError {
        TopicsError {
            item: self.text.clone(),
            position: self.position,
            column: self.column,
            reason: reason.to_string(),
        }
    }
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '„' | '«' | '»' | '＂')
}

/// Splits on `,` `;` and new lines outside double quotes (curly quotes count as quotes).
/// Empty items at either end or on blank lines are skipped; an empty item between two
/// commas is an error, as is a quote left open.
fn split_items(raw: &str) -> Result<Vec<Item>, TopicsError> {
    struct Raw {
        text: String,
        column: usize,
        /// Bounded by `,`/`;` on both sides (not by a line end or the line's ends).
        between_commas: bool,
    }
    let mut raws: Vec<Raw> = Vec::new();
    let mut cur = String::new();
    let mut start = 1;
    let mut opened_by_comma = false;
    let mut quote_open: Option<usize> = None;
    for (i, c) in raw.chars().enumerate() {
        let column = i + 1;
        if is_quote(c) {
            quote_open = match quote_open {
                Some(_) => None,
                None => Some(column),
            };
            cur.push('"');
            continue;
        }
        let sep = match c {
            ',' | ';' if quote_open.is_none() => Some(true),
            '\n' | '\r' if quote_open.is_none() => Some(false),
            _ => None,
        };
        match sep {
            Some(comma) => {
                raws.push(Raw {
                    text: std::mem::take(&mut cur),
                    column: start,
                    between_commas: opened_by_comma && comma,
                });
                opened_by_comma = comma;
                start = column + 1;
            }
            None => {
                if cur.is_empty() && c.is_whitespace() {
                    start = column + 1;
                } else {
                    cur.push(c);
                }
            }
        }
    }
    let open = quote_open;
    raws.push(Raw {
        text: cur,
        column: start,
        between_commas: false,
    });
    let mut items = Vec::new();
    for r in raws {
        let text = r.text.trim().to_string();
        let item = Item {
            text,
            position: items.len() + 1,
            column: r.column,
        };
        if item.text.is_empty() {
            if r.between_commas {
                return Err(item.error("is empty (two separators in a row)"));
            }
            continue;
        }
        items.push(item);
    }
    if let Some(col) = open {
        let mut item = items.pop().unwrap_or(Item {
            text: String::new(),
            position: 1,
            column: col,
        });
        item.column = item.column.min(col);
        return Err(item.error(&format!("the quote opened at column {col} is never closed")));
    }
    Ok(items)
}

fn parse_item(item: &Item, topics: &mut Topics) -> Result<(), TopicsError> {
    let text = item.text.as_str();
    let len_limit = if starts_with_ci(text, "about:") {
        MAX_ABOUT_LEN
    } else {
        MAX_ITEM_LEN
    };
    // The limit is on the value (checked in `push`): a prefix, a minus and quotes do not
    // count, so the canonical spelling, which adds quotes and spells `au:` as `author:`, reads
    // back. This first bound only keeps the work on an absurd item small.
    if text.chars().count() > len_limit + PREFIX_ALLOWANCE {
        return Err(item.error(&format!("is longer than {len_limit} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(item.error("contains control characters"));
    }
    let (negated, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text),
    };
    if body.is_empty() {
        return Err(item.error("excludes nothing"));
    }
    if let Some(n) = strip_ci(body, "upvotes>=") {
        if negated {
            return Err(item.error("a minimum of upvotes cannot be excluded"));
        }
        topics.min_upvotes = Some(upvotes(item, n)?);
        return Ok(());
    }
    if let Some((prefix, value)) = prefixed(body) {
        let value = value.trim();
        match prefix.as_str() {
            "min_upvotes" | "upvotes" => {
                if negated {
                    return Err(item.error("a minimum of upvotes cannot be excluded"));
                }
                topics.min_upvotes = Some(upvotes(item, value)?);
            }
            "cat" | "category" => {
                let code = unquote(value);
                if code.is_empty() {
                    return Err(item.error("names no category"));
                }
                let Some(c) = canonical_category(code) else {
                    return Err(item.error(&format!(
                        "`{code}` is not an arXiv category (codes look like cs.CL, hep-th, \
                         math.AG; `cat:cs` means every cs.* category)"
                    )));
                };
                push(item, topics, negated, Term::Category(c.to_string()))?;
            }
            "author" | "au" => {
                let name = clean(unquote(value));
                if name.contains('"') {
                    return Err(
                        item.error("has a quote inside the name; quote the whole name only")
                    );
                }
                if !name.chars().any(char::is_alphanumeric) {
                    return Err(item.error("names no author"));
                }
                push(item, topics, negated, Term::Author(name))?;
            }
            "about" => {
                if negated {
                    return Err(item.error(
                        "an about: interest cannot be excluded; exclude words or phrases instead",
                    ));
                }
                let about = clean(unquote(value));
                if about.contains('"') {
                    return Err(item.error("has a quote inside; quote the whole description only"));
                }
                if !about.chars().any(char::is_alphanumeric) {
                    return Err(item.error("describes nothing"));
                }
                push(item, topics, false, Term::About(about))?;
            }
            "like" | "dislike" => {
                let Some((id, _)) = PaperId::parse_arxiv(unquote(value)) else {
                    return Err(item.error(&format!(
                        "`{}` is not an arXiv identifier (like 2410.12345)",
                        unquote(value)
                    )));
                };
                let liked = prefix == "like" && !negated;
                let list = if liked {
                    &mut topics.likes
                } else {
                    &mut topics.dislikes
                };
                if !list.contains(&id) {
                    list.push(id);
                }
            }
            other => {
                return Err(item.error(&format!(
                    "`{other}:` is not a known prefix (known: {PREFIXES}); put a keyword \
                     with a colon in quotes"
                )));
            }
        }
        return Ok(());
    }
    let quoted = body.starts_with('"');
    let phrase = unquote(body);
    if !quoted && !phrase.contains(char::is_whitespace) {
        let looks_like_code = phrase.contains(['.', '-']);
        if let (true, Some(c)) = (looks_like_code, canonical_category(phrase)) {
            return push(item, topics, negated, Term::Category(c.to_string()));
        }
    }
    if phrase.contains('"') {
        return Err(item.error("has a quote inside a phrase; quote the whole phrase only"));
    }
    // NFC again after lower-casing: `İ` lowers to `i` and a combining dot, which must be
    // put in canonical order with any other marks, or the phrase would not read back.
    let phrase: String = phrase_case(&clean(phrase)).nfc().collect();
    if !phrase.chars().any(char::is_alphanumeric) {
        return Err(item.error("has no letters or digits"));
    }
    push(item, topics, negated, Term::Phrase(phrase))
}

fn push(item: &Item, topics: &mut Topics, negated: bool, term: Term) -> Result<(), TopicsError> {
    let (value, limit) = match &term {
        Term::About(a) => (a, MAX_ABOUT_LEN),
        Term::Phrase(v) | Term::Category(v) | Term::Author(v) => (v, MAX_ITEM_LEN),
    };
    if value.chars().count() > limit {
        return Err(item.error(&format!("is longer than {limit} characters")));
    }
    let list = if negated {
        &mut topics.exclude
    } else {
        &mut topics.terms
    };
    if !list.contains(&term) {
        list.push(term);
    }
    Ok(())
}

fn upvotes(item: &Item, n: &str) -> Result<u32, TopicsError> {
    n.trim()
        .parse::<u32>()
        .map_err(|_| item.error("the upvote count must be a whole number"))
}

/// `name:value` where `name` is ASCII letters or `_` (so `C++: tricks` or `3:1` are not
/// prefixes, but `foo:bar` is an unknown one). Returns the lower-case name.
fn prefixed(s: &str) -> Option<(String, &str)> {
    let (name, value) = s.split_once(':')?;
    let name = name.trim_end();
    let is_name = !name.is_empty()
        && name.len() <= 20
        && name.chars().all(|c| c.is_ascii_alphabetic() || c == '_');
    is_name.then(|| (name.to_ascii_lowercase(), value))
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    strip_ci(s, prefix).is_some()
}

/// `s` without `prefix` (ASCII case-insensitive); `get` keeps the cut on a char boundary.
fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.trim(),
        None => s,
    }
}

/// NFC, whitespace collapsed to single spaces.
fn clean(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A word in capitals that is short enough to be an acronym (`SAM`, `US`, `NAS`, `GPT4`).
pub(crate) fn is_acronym_word(w: &str) -> bool {
    let letters = w.chars().filter(|c| c.is_alphabetic()).count();
    (2..=6).contains(&letters)
        && w.chars().all(|c| c.is_alphanumeric())
        && w.chars()
            .filter(|c| c.is_alphabetic())
            .all(char::is_uppercase)
}

/// A word with a capital after its first letter (`ViT`, `LLaMA`, `BERT`): kept as written.
fn is_cased_word(w: &str) -> bool {
    w.chars().skip(1).any(char::is_uppercase)
}

fn is_acronym_phrase(p: &str) -> bool {
    p.split(' ').any(is_acronym_word)
}

/// Lower case, except words written as acronyms (`SAM`, `ViT`); a phrase shouted in
/// capitals with a long word (`TRANSFORMERS`) is lower-cased whole.
fn phrase_case(p: &str) -> String {
    let shouted = p.split(' ').all(|w| !w.chars().any(char::is_lowercase))
        && p.split(' ')
            .any(|w| w.chars().filter(|c| c.is_alphabetic()).count() > 6);
    p.split(' ')
        .map(|w| {
            if !shouted && (is_acronym_word(w) || is_cased_word(w)) {
                w.to_string()
            } else {
                w.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a phrase must be quoted to read back as the same phrase.
fn needs_quotes(p: &str) -> bool {
    p.contains(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '>' | '='))
        || p.starts_with('-')
        || (p.contains(['.', '-']) && canonical_category(p).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(s: &str) -> Term {
        Term::Phrase(s.into())
    }

    #[test]
    fn every_kind_of_item_is_parsed() {
        let t = Topics::parse(
            "Transformers, \"diffusion model\"; cat:cs.CL, large language models, author:\"Yann LeCun\", \
             about:\"equivariance in deep learning\", -survey, -cat:stat.ML, -author:\"X Y\", min_upvotes:10",
        )
        .unwrap();
        assert_eq!(
            t.terms,
            vec![
                phrase("transformers"),
                phrase("diffusion model"),
                Term::Category("cs.CL".into()),
                phrase("large language models"),
                Term::Author("Yann LeCun".into()),
                Term::About("equivariance in deep learning".into()),
            ]
        );
        assert_eq!(
            t.exclude,
            vec![
                phrase("survey"),
                Term::Category("stat.ML".into()),
                Term::Author("X Y".into())
            ]
        );
        assert_eq!(t.min_upvotes, Some(10));
    }

    #[test]
    fn bare_codes_are_categories_only_when_arxiv_has_them() {
        let t =
            Topics::parse("cs.LG, astro-ph.CO, CS.cv, hep-th, node.js, -stat.ML, math").unwrap();
        assert_eq!(
            t.terms,
            vec![
                Term::Category("cs.LG".into()),
                Term::Category("astro-ph.CO".into()),
                Term::Category("cs.CV".into()),
                Term::Category("hep-th".into()),
                phrase("node.js"),
                phrase("math"),
            ]
        );
        assert_eq!(t.exclude, vec![Term::Category("stat.ML".into())]);
    }

    #[test]
    fn the_canonical_spelling_round_trips() {
        for raw in [
            "a, \"b c\", cat:cs, author:x y, -\"d e\", -f, upvotes>=3",
            "\"hep-th\", \"a:b\", \"-x\", node.js, about:\"groups, symmetry\"",
            "SAM, ViT, TRANSFORMERS, like:2410.12345, -author:Łukasz, -cat:cs.CL",
        ] {
            let t = Topics::parse(raw).unwrap();
            assert_eq!(Topics::parse(&t.to_string()).unwrap(), t, "{raw} → {t}");
        }
    }

    #[test]
    fn acronyms_keep_their_capitals_and_other_words_are_lower_cased() {
        let t = Topics::parse("SAM, ViT, Diffusion Models, TRANSFORMERS, LLaMA").unwrap();
        assert_eq!(
            t.terms,
            vec![
                phrase("SAM"),
                phrase("ViT"),
                phrase("diffusion models"),
                phrase("transformers"),
                phrase("LLaMA")
            ]
        );
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
        assert!(Topics::parse(" ,").unwrap().is_trending());
        assert!(Topics::parse("a,\n\nb").is_ok());
        assert!(Topics::parse("min_upvotes:5").unwrap().is_trending());
    }

    /// Every silent acceptance listed under **Why** in issue 9 is now an error that names the
    /// item, its position and its column.
    #[test]
    fn bad_items_are_refused_with_the_item_and_its_position_named() {
        let cases = [
            ("min_upvotes:many", "min_upvotes:many", 1, 1, "whole number"),
            ("cat:CS CL", "cat:CS CL", 1, 1, "not an arXiv category"),
            ("llm, cat:cs.ZZ", "cat:cs.ZZ", 2, 6, "not an arXiv category"),
            ("author:", "author:", 1, 1, "names no author"),
            ("llm, foo:bar", "foo:bar", 2, 6, "not a known prefix"),
            (
                "\"diffusion model, cat:cs.CV",
                "\"diffusion model, cat:cs.CV",
                1,
                1,
                "never closed",
            ),
            ("a, b,, c", "", 3, 6, "empty"),
            ("a, -", "-", 2, 4, "excludes nothing"),
            ("\"\"", "\"\"", 1, 1, "no letters"),
            (
                "x, like:banana",
                "like:banana",
                2,
                4,
                "not an arXiv identifier",
            ),
            ("-about:x", "-about:x", 1, 1, "cannot be excluded"),
        ];
        for (raw, item, position, column, reason) in cases {
            let e = Topics::parse(raw).unwrap_err();
            assert_eq!(
                (e.item.as_str(), e.position, e.column),
                (item, position, column),
                "{raw}: {e}"
            );
            assert!(e.reason.contains(reason), "{raw}: {e}");
        }
        let long = "x".repeat(101);
        assert!(Topics::parse(&long).is_err());
        let e = Topics::parse("llm, foo:bar").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "topic 2 `foo:bar` (column 6): `foo:` is not a known prefix (known: {PREFIXES}); put a keyword with a colon in quotes"
            )
        );
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
        assert!(!Topics::parse("like:2410.12345").unwrap().is_trending());
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
            "“diffusion model”",
        ] {
            if let Ok(t) = Topics::parse(raw) {
                assert_eq!(Topics::parse(&t.to_string()).unwrap(), t, "{raw}");
            }
        }
        let t = Topics::parse("au: Łukasz").unwrap();
        assert_eq!(t.terms, vec![Term::Author("Łukasz".into())]);
        assert_eq!(
            Topics::parse("“diffusion model”").unwrap().terms,
            vec![phrase("diffusion model")]
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(crate::test_support::proptest_config(2000))]

            /// Any Unicode at all: an answer, never a panic; what parses reads back the same.
            #[test]
            fn any_line_parses_or_is_refused_and_round_trips(raw in "\\PC{0,80}") {
                if let Ok(t) = Topics::parse(&raw) {
                    let canonical = t.to_string();
                    let back = Topics::parse(&canonical).unwrap();
                    prop_assert_eq!(&back, &t);
                    prop_assert_eq!(back.to_string(), canonical);
                }
            }

            /// Lines built from the syntax's own pieces and arbitrary text.
            #[test]
            fn lines_of_syntax_pieces_never_panic_and_round_trip(
                pieces in proptest::collection::vec(
                    prop_oneof![
                        Just("cat:".to_string()), Just("author:".to_string()),
                        Just("about:".to_string()), Just("-".to_string()),
                        Just("\"".to_string()), Just(", ".to_string()),
                        Just("like:".to_string()), Just("min_upvotes:".to_string()),
                        "\\PC{0,6}", "[a-zA-Z.\\-]{1,8}",
                    ],
                    0..12,
                )
            ) {
                let raw = pieces.concat();
                if let Ok(t) = Topics::parse(&raw) {
                    prop_assert_eq!(Topics::parse(&t.to_string()).unwrap(), t);
                }
            }
        }
    }
}
