//! The parser of topic lines: items, the operators between them, and each item's prefix.
//!
//! A line is split into items at `,` `;` and new lines outside quotes. Inside an item,
//! whitespace-separated `AND`, `OR` and `NOT` in capitals, outside quotes, are operators
//! (lower-case `and`/`or` are words: "research and development" is a phrase):
//!
//! ```text
//! item    = either (OR either)*          A OR B   = two items, A, B
//! either  = NOT atom | atom (AND atom)*  NOT x    = -x;  A AND B = Term::All
//! ```
//!
//! `NOT` inside a conjunction (`a AND NOT b`) and an exclusion inside one (`a AND -b`) are
//! refused naming the spelling that works (`a, -b`): an exclusion applies to the whole line.
use unicode_normalization::UnicodeNormalization;

use super::refs::{PaperRef, paper_ref};
use super::{
    MAX_ALL_PARTS, PaperId, Term, Topics, TopicsError, TopicsHint, canonical_category, names,
};

const MAX_ITEMS: usize = 50;
const MAX_ITEM_LEN: usize = 100;
const MAX_ABOUT_LEN: usize = 400;
/// Room for what is around an item's value: `-`, the longest prefix (`category:`), quotes
/// and spaces.
const PREFIX_ALLOWANCE: usize = 20;

/// Prefixes the parser knows, for the error that lists them.
pub(super) const PREFIXES: &str =
    "cat:, author: (au:), ti:, abs:, all:, about:, like:, dislike:, strict:, min_upvotes:";

/// How a line is read: as typed by a reader now, or as stored by any version of paperpost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Mode {
    #[default]
    Typed,
    /// A stored line keeps the meaning it had when it was written: before operators and
    /// paper references were read, the canonical spelling left a phrase such as `NOT`,
    /// `2410.18958` or `10.1038/nature14539` bare, and it stays that phrase. Every line the
    /// canonical spelling writes now reads the same in both modes (it quotes such phrases).
    Stored,
}

/// Parses a line into topics and hints.
pub(super) fn parse(raw: &str, mode: Mode) -> Result<(Topics, Vec<TopicsHint>), TopicsError> {
    let mut parser = Parser {
        mode,
        ..Parser::default()
    };
    for item in &split_items(raw)? {
        parser.item(item)?;
    }
    Ok((parser.topics, parser.hints))
}

#[derive(Default)]
struct Parser {
    topics: Topics,
    hints: Vec<TopicsHint>,
    mode: Mode,
}

/// One item of the line (or a part of one between operators) with where it was.
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

    /// The part of this item starting `offset` characters in.
    fn part(&self, text: &str, offset: usize) -> Item {
        Item {
            text: text.to_string(),
            position: self.position,
            column: self.column + offset,
        }
    }
}

/// What one item (without operators) says.
enum Atom {
    Term(Term),
    /// A keyword or phrase excluded at any mention (`-strict:`).
    Strict(Term),
    /// A paper named by id, link or DOI: liked, or disliked (`dislike:`).
    Paper {
        id: PaperId,
        dislike: bool,
    },
    MinUpvotes(u32),
}

/// An operator between items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    Not,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::And => "AND",
            Op::Or => "OR",
            Op::Not => "NOT",
        }
    }
}

/// Text between operators (`offset` in characters from the item's start), or an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str, usize),
    Op(Op, usize),
}

impl Parser {
    fn item(&mut self, item: &Item) -> Result<(), TopicsError> {
        // Only a bound on the work for an absurd item; each part has its own limit below.
        if item.text.chars().count() > MAX_ITEMS * (MAX_ABOUT_LEN + PREFIX_ALLOWANCE) {
            return Err(item.error(&format!(
                "is longer than {} characters",
                MAX_ITEMS * MAX_ABOUT_LEN
            )));
        }
        let mut pieces = pieces(&item.text);
        if self.mode == Mode::Stored
            && let [Piece::Op(_, offset)] = pieces[..]
        {
            // A stored `AND`, `OR` or `NOT` alone is the phrase it was written as.
            pieces = vec![Piece::Text(&item.text, offset)];
        }
        // Each side of every `OR`, with the offset of an `OR` next to it (for errors).
        let mut start = 0;
        let mut last_or = None;
        for (i, p) in pieces.iter().enumerate() {
            if let Piece::Op(Op::Or, at) = *p {
                self.either(item, &pieces[start..i], at)?;
                start = i + 1;
                last_or = Some(at);
            }
        }
        self.either(item, &pieces[start..], last_or.unwrap_or(0))
    }

    /// One side of `OR` (`or_at`: where that `OR` is): `NOT x`, `a AND b …` or one item.
    fn either(
        &mut self,
        item: &Item,
        either: &[Piece<'_>],
        or_at: usize,
    ) -> Result<(), TopicsError> {
        let Some(first) = either.first() else {
            return Err(item.part("OR", or_at).error(
                "`OR` needs an item on each side (`math.AP OR cs.NA`; a comma does the same)",
            ));
        };
        if let Piece::Op(Op::Not, at) = *first {
            return match &either[1..] {
                [] => Err(item
                    .part("NOT", at)
                    .error("`NOT` needs an item after it (`NOT survey`)")),
                [Piece::Text(text, offset)] => {
                    let part = item.part(text, *offset);
                    let (negated, atom) = self.atom(&part, true)?;
                    self.add(&part, negated, atom)
                }
                _ => Err(item.error(
                    "`NOT` leaves papers out of the whole digest and cannot be combined with \
                     `AND` or another `NOT` in one item: write each as an item of its own \
                     (`diffusion, -survey` or `diffusion, NOT survey`)",
                )),
            };
        }
        let mut parts: Vec<(&str, usize)> = Vec::new();
        let mut expect_text = true;
        for p in either {
            match (*p, expect_text) {
                (Piece::Text(text, offset), true) => {
                    parts.push((text, offset));
                    expect_text = false;
                }
                (Piece::Op(Op::And, _), false) => expect_text = true,
                (Piece::Op(Op::Not, _), _) => {
                    return Err(item.error(
                        "`NOT` starts an item of its own and leaves papers out of the whole \
                         digest: write `diffusion, -survey` (or `diffusion, NOT survey`)",
                    ));
                }
                (Piece::Op(op, at), _) => {
                    return Err(item.part(op.name(), at).error(&format!(
                        "`{}` needs an item on each side (`diffusion AND video`)",
                        op.name()
                    )));
                }
                // Two texts in a row cannot happen: pieces alternate.
                (Piece::Text(..), false) => {}
            }
        }
        if expect_text {
            return Err(item.error("`AND` needs an item on each side (`diffusion AND video`)"));
        }
        if let [(text, offset)] = parts[..] {
            let part = item.part(text, offset);
            let (negated, atom) = self.atom(&part, false)?;
            return self.add(&part, negated, atom);
        }
        if parts.len() > MAX_ALL_PARTS {
            return Err(item.error(&format!("joins more than {MAX_ALL_PARTS} items with `AND`")));
        }
        let mut all: Vec<Term> = Vec::new();
        for (text, offset) in parts {
            let part = item.part(text, offset);
            if part.text.starts_with('-') {
                return Err(part.error(
                    "an exclusion cannot be part of `AND`: it applies to the whole line, so \
                     write it as an item of its own (`diffusion AND video, -survey`)",
                ));
            }
            let term = match self.atom(&part, false)?.1 {
                Atom::Term(
                    t @ (Term::Phrase(_)
                    | Term::Title(_)
                    | Term::Abstract(_)
                    | Term::Category(_)
                    | Term::Author(_)),
                ) => t,
                Atom::Term(Term::About(_)) => {
                    return Err(part.error(
                        "an about: interest cannot be part of `AND`; put the whole description \
                         in quotes (`about:\"cats AND dogs\"`) or write it as an item of its own",
                    ));
                }
                Atom::Term(_) | Atom::Strict(_) => {
                    return Err(part.error("cannot be part of `AND`"));
                }
                Atom::Paper { .. } => {
                    return Err(part.error(
                        "a paper cannot be part of `AND`: write `like:ID` as an item of its own",
                    ));
                }
                Atom::MinUpvotes(_) => {
                    return Err(part.error(
                        "a minimum of upvotes applies to the whole line: write it as an item of \
                         its own (`diffusion AND video, min_upvotes:10`)",
                    ));
                }
            };
            if !all.contains(&term) {
                all.push(term);
            }
        }
        let term = match all.len() {
            1 => all.remove(0),
            _ => Term::All(all),
        };
        push(item, &mut self.topics, false, term)
    }

    /// Reads one item without operators (`not` when it follows `NOT`): whether it
    /// excludes, and what it says.
    fn atom(&mut self, item: &Item, not: bool) -> Result<(bool, Atom), TopicsError> {
        let negated = not || item.text.starts_with('-');
        Ok((negated, self.atom_inner(item, not)?))
    }

    fn atom_inner(&mut self, item: &Item, not: bool) -> Result<Atom, TopicsError> {
        let text = item.text.as_str();
        let len_limit = if strip_ci(text.trim_start_matches('-').trim_start(), "about:").is_some() {
            MAX_ABOUT_LEN
        } else {
            MAX_ITEM_LEN
        };
        // The limit is on the value (checked in `push`): a prefix, a minus and quotes do not
        // count, so the canonical spelling, which adds quotes and spells `au:` as `author:`,
        // reads back. This first bound only keeps the work on an absurd item small.
        if text.chars().count() > len_limit + PREFIX_ALLOWANCE {
            return Err(item.error(&format!("is longer than {len_limit} characters")));
        }
        if text.chars().any(char::is_control) {
            return Err(item.error("contains control characters"));
        }
        let (dash, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, text),
        };
        let negated = dash || not;
        let legacy_not = self.mode == Mode::Stored && body == "NOT";
        let both = dash && !legacy_not && (not || body.starts_with("NOT ") || body == "NOT");
        if both {
            return Err(item.error("says `NOT` and `-`: one is enough (`NOT survey` or `-survey`)"));
        }
        if body.is_empty() {
            return Err(item.error("excludes nothing"));
        }
        if let Some(n) = strip_ci(body, "upvotes>=") {
            if negated {
                return Err(item.error("a minimum of upvotes cannot be excluded"));
            }
            return Ok(Atom::MinUpvotes(upvotes(item, n)?));
        }
        if self.mode == Mode::Typed
            && let Some(found) = paper_ref(body)
        {
            let id = paper(item, body, found)?;
            return Ok(Atom::Paper { id, dislike: false });
        }
        if let Some((prefix, value)) = prefixed(body) {
            let value = value.trim();
            return match prefix.as_str() {
                "min_upvotes" | "upvotes" => {
                    if negated {
                        return Err(item.error("a minimum of upvotes cannot be excluded"));
                    }
                    Ok(Atom::MinUpvotes(upvotes(item, value)?))
                }
                "cat" | "category" => {
                    let code = unquote(value);
                    if code.is_empty() {
                        return Err(item.error("names no category"));
                    }
                    if let Some(c) = canonical_category(code) {
                        return Ok(Atom::Term(Term::Category(c.to_string())));
                    }
                    // An arXiv archive with a subject class arXiv does not have (`cs.FAKE`)
                    // is a typo; anything else names a feed's subject (`genomics`,
                    // `"plant biology"`), matched in any case.
                    let archive = code.split_once('.').map(|(a, _)| a);
                    if archive.is_some_and(|a| canonical_category(a).is_some())
                        || canonical_category(&code.replace([' ', '_', '/'], ".")).is_some()
                        || code.contains('"')
                    {
                        return Err(item.error(&format!(
                            "`{code}` is not an arXiv category (codes look like cs.CL, hep-th, \
                             math.AG; `cat:cs` means every cs.* category)"
                        )));
                    }
                    Ok(Atom::Term(Term::Category(clean(code))))
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
                    Ok(Atom::Term(Term::Author(name)))
                }
                "about" => {
                    if negated {
                        return Err(item.error(
                            "an about: interest cannot be excluded; exclude words or phrases instead",
                        ));
                    }
                    let about = clean(unquote(value));
                    if about.contains('"') {
                        return Err(
                            item.error("has a quote inside; quote the whole description only")
                        );
                    }
                    if !about.chars().any(char::is_alphanumeric) {
                        return Err(item.error("describes nothing"));
                    }
                    Ok(Atom::Term(Term::About(about)))
                }
                "like" | "dislike" | "id" => {
                    let value = unquote(value);
                    let Some(found) = paper_ref(value) else {
                        return Err(item.error(&format!(
                            "`{value}` is not an arXiv identifier (like 2410.12345)"
                        )));
                    };
                    let id = paper(item, value, found)?;
                    Ok(Atom::Paper {
                        id,
                        dislike: prefix == "dislike",
                    })
                }
                "ti" | "title" => Ok(Atom::Term(Term::Title(phrase(item, value)?))),
                "abs" | "abstract" => Ok(Atom::Term(Term::Abstract(phrase(item, value)?))),
                "all" => Ok(Atom::Term(Term::Phrase(phrase(item, value)?))),
                "strict" => {
                    if !negated {
                        return Err(item.error(
                            "strict: only changes an exclusion: write -strict:survey to leave \
                             out papers that mention it anywhere",
                        ));
                    }
                    strict(item, value)
                }
                other => Err(item.error(&format!(
                    "`{other}:` is not a known prefix (known: {PREFIXES}); put a keyword \
                     with a colon in quotes"
                ))),
            };
        }
        let quoted = body.starts_with('"');
        let bare = unquote(body);
        if !quoted && !bare.contains(char::is_whitespace) {
            let looks_like_code = bare.contains(['.', '-']);
            if let (true, Some(c)) = (looks_like_code, canonical_category(bare)) {
                return Ok(Atom::Term(Term::Category(c.to_string())));
            }
        }
        if !quoted && let Some(name) = names::as_author(bare) {
            self.hints.push(TopicsHint {
                item: item.text.clone(),
                position: item.position,
                suggestion: format!("{}author:\"{name}\"", if negated { "-" } else { "" }),
            });
        }
        Ok(Atom::Term(Term::Phrase(phrase(item, body)?)))
    }

    /// Files an item's atom into the topics.
    fn add(&mut self, item: &Item, negated: bool, atom: Atom) -> Result<(), TopicsError> {
        let topics = &mut self.topics;
        match atom {
            Atom::Term(term) => push(item, topics, negated, term)?,
            Atom::Strict(term) => {
                check_len(item, &term)?;
                if !topics.exclude_strict.contains(&term) {
                    topics.exclude_strict.push(term);
                }
            }
            Atom::Paper { id, dislike } => {
                let list = if negated || dislike {
                    &mut topics.dislikes
                } else {
                    &mut topics.likes
                };
                if !list.contains(&id) {
                    list.push(id);
                }
            }
            Atom::MinUpvotes(n) => topics.min_upvotes = Some(n),
        }
        let count = topics.terms.len()
            + topics.exclude.len()
            + topics.exclude_strict.len()
            + topics.likes.len()
            + topics.dislikes.len();
        if count > MAX_ITEMS {
            return Err(item.error(&format!("is one topic too many (at most {MAX_ITEMS})")));
        }
        Ok(())
    }
}

/// A paper named by an id, link or DOI, or why it cannot be followed.
fn paper(item: &Item, text: &str, found: PaperRef) -> Result<PaperId, TopicsError> {
    match found {
        PaperRef::Arxiv(id) => Ok(id),
        // Papers not on arXiv are keyed by DOI (a preprint server's, a journal's feed).
        PaperRef::OtherDoi(doi) => match PaperId::from_doi(&doi) {
            // Its canonical spelling (`dislike:doi:…`) must read back within the limit.
            Some(id) if id.as_str().chars().count() > MAX_ITEM_LEN => Err(item.error(&format!(
                "names a DOI longer than {} characters",
                MAX_ITEM_LEN - 4
            ))),
            Some(id) => Ok(id),
            None => Err(item.error(&format!(
                "`{doi}` is not a DOI (DOIs look like 10.48550/arXiv.2410.18958)"
            ))),
        },
        PaperRef::BadDoi => Err(item.error(&format!(
            "`{text}` is not a DOI (DOIs look like 10.48550/arXiv.2410.18958)"
        ))),
        PaperRef::OtherLink => Err(item.error(&format!(
            "`{text}` is a link but not to an arXiv paper or a DOI; arXiv links \
             (arxiv.org/abs/…, arxiv.org/pdf/…), arXiv ids and DOIs (10.…/…, doi.org/…) name papers"
        ))),
    }
}

/// `-strict:VALUE`: a keyword, phrase or `abs:` phrase excluded at any mention (`ti:` is
/// literal already).
fn strict(item: &Item, value: &str) -> Result<Atom, TopicsError> {
    if let Some((prefix, rest)) = prefixed(value) {
        let rest = rest.trim();
        return match prefix.as_str() {
            "ti" | "title" => Ok(Atom::Term(Term::Title(phrase(item, rest)?))),
            "abs" | "abstract" => Ok(Atom::Strict(Term::Abstract(phrase(item, rest)?))),
            "all" => Ok(Atom::Strict(Term::Phrase(phrase(item, rest)?))),
            _ => Err(item.error(
                "strict: applies to keywords and phrases (-strict:survey, \
                 -strict:\"literature review\", -strict:abs:survey)",
            )),
        };
    }
    if value.is_empty() {
        return Err(item.error("excludes nothing"));
    }
    Ok(Atom::Strict(Term::Phrase(phrase(item, value)?)))
}

fn check_len(item: &Item, term: &Term) -> Result<(), TopicsError> {
    let (value, limit) = match term {
        Term::About(a) => (a.as_str(), MAX_ABOUT_LEN),
        Term::Phrase(v)
        | Term::Category(v)
        | Term::Author(v)
        | Term::Title(v)
        | Term::Abstract(v) => (v.as_str(), MAX_ITEM_LEN),
        Term::All(parts) => {
            for p in parts {
                check_len(item, p)?;
            }
            return Ok(());
        }
    };
    if value.chars().count() > limit {
        return Err(item.error(&format!("is longer than {limit} characters")));
    }
    Ok(())
}

fn push(item: &Item, topics: &mut Topics, negated: bool, term: Term) -> Result<(), TopicsError> {
    check_len(item, &term)?;
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

/// A keyword or phrase as written (quotes optional): NFC, single spaces, acronyms kept.
fn phrase(item: &Item, raw: &str) -> Result<String, TopicsError> {
    let p = unquote(raw);
    if p.contains('"') {
        return Err(item.error("has a quote inside a phrase; quote the whole phrase only"));
    }
    // NFC again after lower-casing: `İ` lowers to `i` and a combining dot, which must be
    // put in canonical order with any other marks, or the phrase would not read back.
    let p: String = phrase_case(&clean(p)).nfc().collect();
    if !p.chars().any(char::is_alphanumeric) {
        return Err(item.error("has no letters or digits"));
    }
    Ok(p)
}

fn upvotes(item: &Item, n: &str) -> Result<u32, TopicsError> {
    n.trim()
        .parse::<u32>()
        .map_err(|_| item.error("the upvote count must be a whole number"))
}

/// The item cut at its operators: text pieces and operators, alternating when well formed.
/// Operators are whitespace-separated `AND`, `OR`, `NOT` outside quotes.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    // Words outside quotes: (byte start, byte end, char offset).
    let mut words: Vec<(usize, usize, usize)> = Vec::new();
    let mut in_quote = false;
    let mut start: Option<(usize, usize)> = None;
    for (chars, (i, c)) in text.char_indices().enumerate() {
        if c == '"' {
            in_quote = !in_quote;
        }
        let space = c.is_whitespace() && !in_quote;
        match (space, start) {
            (true, Some((s, offset))) => {
                words.push((s, i, offset));
                start = None;
            }
            (false, None) => start = Some((i, chars)),
            _ => {}
        }
    }
    if let Some((s, offset)) = start {
        words.push((s, text.len(), offset));
    }
    let mut out: Vec<Piece<'_>> = Vec::new();
    let mut run: Option<(usize, usize, usize)> = None;
    for (s, e, offset) in words {
        let op = match &text[s..e] {
            "AND" => Some(Op::And),
            "OR" => Some(Op::Or),
            "NOT" => Some(Op::Not),
            _ => None,
        };
        match op {
            Some(op) => {
                if let Some((rs, re, ro)) = run.take() {
                    out.push(Piece::Text(&text[rs..re], ro));
                }
                out.push(Piece::Op(op, offset));
            }
            None => {
                run = Some(match run {
                    Some((rs, _, ro)) => (rs, e, ro),
                    None => (s, e, offset),
                });
            }
        }
    }
    if let Some((rs, re, ro)) = run {
        out.push(Piece::Text(&text[rs..re], ro));
    }
    out
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

/// `s` without `prefix` (ASCII case-insensitive); `get` keeps the cut on a char boundary.
pub(super) fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
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

pub(super) fn is_acronym_phrase(p: &str) -> bool {
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

/// Whether a phrase must be quoted to read back as the same phrase: it has separators or
/// spaces, or bare it would read as something else (an exclusion, a category, an operator,
/// a paper).
pub(super) fn needs_quotes(p: &str) -> bool {
    p.contains(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '>' | '='))
        || p.starts_with('-')
        || matches!(p, "AND" | "OR" | "NOT")
        || (p.contains(['.', '-']) && canonical_category(p).is_some())
        || paper_ref(p).is_some()
}
