//! One normalisation for query and paper text, so that what a reader types and what a paper
//! says meet in the same form.
//!
//! Steps, in order: LaTeX markup reduced (`$\beta$-VAE` → `beta-VAE`, `\textit{x}` → `x`);
//! Unicode NFKC (ligatures `ﬁ` → `fi`, full-width letters); diacritics folded (`Schölkopf` →
//! `Scholkopf`, also `ł`, `ø`, `ß`, `æ`, `œ`); Greek letters named (`β` → `beta`); words cut
//! into tokens of letters and digits (a trailing `+`/`#` kept: `C++`, `C#`); a possessive `'s`
//! dropped (`Sam's` → `Sam`); each token lower-cased and spelled the US way
//! ([`super::forms::us_spelling`]).
//!
//! Between two tokens there is either a *soft* joint (a hyphen, period, apostrophe or LaTeX
//! inside a word: `self-supervised`, `node.js`), a *space*, or a *break* (sentence and clause
//! punctuation, brackets, quotes, the end of a field): a phrase never runs across a break, so
//! never from the title into the abstract. Tokens are stored joined with nothing in between
//! (a break is a `\u{1}`), which lets `self supervised`, `self-supervised` and `selfsupervised`
//! find each other (see [`super::index`]).
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::forms::us_spelling;

/// Written into [`Field::joined`] at a break, so that no pattern can match across it.
pub(crate) const BREAK: char = '\u{1}';

/// One token of a normalised text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    /// Byte range of the token's key in [`Field::joined`].
    pub start: u32,
    pub end: u32,
    /// The joint before this token is a space (not soft, not a break).
    pub space_before: bool,
    /// Written in capitals (`SAM`, `US`, `NASs`): what an all-capitals query word needs.
    pub caps: bool,
}

/// A normalised text: token keys joined, and where each token is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Field {
    pub joined: String,
    pub tokens: Vec<Token>,
}

impl Field {
    pub(crate) fn new(text: &str) -> Field {
        let mut field = Field::default();
        let mut tok = String::new();
        let mut raw_tok = String::new();
        let mut joint = Joint::Break;
        let folded = fold(&reduce_latex(text));
        let chars: Vec<char> = folded.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_alphanumeric() {
                if c.is_ascii() {
                    tok.push(c.to_ascii_lowercase());
                } else {
                    // Lower case can leave marks or compatibility letters (`İ` → `i̇`):
                    // folded again so that normalising twice changes nothing.
                    let lower: String = c.to_lowercase().collect();
                    tok.extend(fold(&lower).chars().filter(|c| c.is_alphanumeric()));
                }
                raw_tok.push(c);
                i += 1;
                // C++ and C#: the marks belong to the word when nothing alphanumeric follows.
                while i < chars.len()
                    && matches!(chars[i], '+' | '#')
                    && !chars.get(i + 1).is_some_and(|n| n.is_alphanumeric())
                {
                    tok.push(chars[i]);
                    i += 1;
                }
                continue;
            }
            // A possessive 's at the end of a word: dropped with its apostrophe.
            if is_apostrophe(c)
                && !tok.is_empty()
                && matches!(chars.get(i + 1), Some('s' | 'S'))
                && !chars.get(i + 2).is_some_and(|n| n.is_alphanumeric())
            {
                i += 2;
                continue;
            }
            if !tok.is_empty() {
                field.push_token(&tok, &raw_tok, joint);
                tok.clear();
                raw_tok.clear();
                joint = Joint::Soft;
            }
            let next_alnum = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
            let j = if is_break(c) {
                Joint::Break
            } else if is_soft(c) && next_alnum {
                Joint::Soft
            } else {
                // Spaces, `/`, `&`, symbols; "model." at the very end; a dash between spaces.
                Joint::Space
            };
            joint = joint.max(j);
            if c == '.' && chars.get(i + 1).is_some_and(|n| n.is_whitespace()) {
                joint = Joint::Break;
            }
            i += 1;
        }
        if !tok.is_empty() {
            field.push_token(&tok, &raw_tok, joint);
        }
        field
    }

    fn push_token(&mut self, key: &str, raw: &str, joint: Joint) {
        if joint == Joint::Break && !self.tokens.is_empty() {
            self.joined.push(BREAK);
        }
        let start = self.joined.len() as u32;
        self.joined.push_str(&us_spelling(key));
        self.tokens.push(Token {
            start,
            end: self.joined.len() as u32,
            space_before: joint == Joint::Space,
            caps: is_caps(raw),
        });
    }

    /// The token keys separated by single spaces (breaks too): the normal form as text.
    pub(crate) fn words(&self) -> String {
        self.tokens
            .iter()
            .map(|t| self.key(t))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub(crate) fn key(&self, t: &Token) -> &str {
        self.joined
            .get(t.start as usize..t.end as usize)
            .unwrap_or_default()
    }

    /// The token starting at byte `at` of [`Field::joined`].
    pub(crate) fn token_starting(&self, at: usize) -> Option<usize> {
        self.tokens
            .binary_search_by_key(&(at as u32), |t| t.start)
            .ok()
    }

    /// The token ending at byte `at`.
    pub(crate) fn token_ending(&self, at: usize) -> Option<usize> {
        self.tokens
            .binary_search_by_key(&(at as u32), |t| t.end)
            .ok()
    }
}

/// The normal form of a text as words separated by spaces (for keys and tests).
pub(crate) fn normalise(text: &str) -> String {
    Field::new(text).words()
}

/// How two neighbouring tokens are joined; the strongest joint between them wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Joint {
    Soft,
    Space,
    Break,
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | 'ʼ' | '`')
}

/// Clause punctuation and brackets: no phrase runs across them.
fn is_break(c: char) -> bool {
    matches!(
        c,
        ',' | ';'
            | ':'
            | '!'
            | '?'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '"'
            | '“'
            | '”'
            | '«'
            | '»'
            | '„'
            | '¿'
            | '¡'
            | '。'
            | '、'
            | '，'
            | '；'
            | '：'
            | '！'
            | '？'
            | '（'
            | '）'
    )
}

/// Joiners inside a word: hyphens and dashes, periods, apostrophes, and what is left of LaTeX.
fn is_soft(c: char) -> bool {
    is_apostrophe(c)
        || matches!(
            c,
            '-' | '‐' | '‑' | '‒' | '–' | '—' | '.' | '_' | '^' | '·' | '•' | '~'
        )
}

/// Letters all capitals (a plural `s` aside), at least one letter.
fn is_caps(raw: &str) -> bool {
    let core = raw
        .strip_suffix('s')
        .filter(|c| c.chars().count() >= 2)
        .unwrap_or(raw);
    let mut letters = core.chars().filter(|c| c.is_alphabetic()).peekable();
    letters.peek().is_some() && letters.all(char::is_uppercase)
}

/// NFKC, then diacritics and the letters NFD does not split folded to ASCII-like forms, and
/// Greek letters spelled out (as LaTeX would name them).
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkc() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        if let Some(s) = special_fold(c) {
            out.push_str(s);
            continue;
        }
        if let Some(name) = greek_name(c) {
            out.push_str(name);
            continue;
        }
        for d in std::iter::once(c).nfd() {
            if !is_combining_mark(d) {
                out.push(d);
            }
        }
    }
    out
}

fn special_fold(c: char) -> Option<&'static str> {
    Some(match c {
        'ł' => "l",
        'Ł' => "L",
        'ø' => "o",
        'Ø' => "O",
        'ß' => "ss",
        'ẞ' => "SS",
        'æ' => "ae",
        'Æ' => "AE",
        'œ' => "oe",
        'Œ' => "OE",
        'đ' | 'ð' => "d",
        'Đ' | 'Ð' => "D",
        'ı' => "i",
        'þ' => "th",
        'Þ' => "Th",
        _ => return None,
    })
}

const GREEK: [(&str, char, char); 24] = [
    ("alpha", 'α', 'Α'),
    ("beta", 'β', 'Β'),
    ("gamma", 'γ', 'Γ'),
    ("delta", 'δ', 'Δ'),
    ("epsilon", 'ε', 'Ε'),
    ("zeta", 'ζ', 'Ζ'),
    ("eta", 'η', 'Η'),
    ("theta", 'θ', 'Θ'),
    ("iota", 'ι', 'Ι'),
    ("kappa", 'κ', 'Κ'),
    ("lambda", 'λ', 'Λ'),
    ("mu", 'μ', 'Μ'),
    ("nu", 'ν', 'Ν'),
    ("xi", 'ξ', 'Ξ'),
    ("omicron", 'ο', 'Ο'),
    ("pi", 'π', 'Π'),
    ("rho", 'ρ', 'Ρ'),
    ("sigma", 'σ', 'Σ'),
    ("tau", 'τ', 'Τ'),
    ("upsilon", 'υ', 'Υ'),
    ("phi", 'φ', 'Φ'),
    ("chi", 'χ', 'Χ'),
    ("psi", 'ψ', 'Ψ'),
    ("omega", 'ω', 'Ω'),
];

fn greek_name(c: char) -> Option<&'static str> {
    let c = if c == 'ς' { 'σ' } else { c };
    GREEK
        .iter()
        .find(|(_, lower, upper)| *lower == c || *upper == c)
        .map(|(name, _, _)| *name)
}

/// LaTeX as it appears in titles and abstracts, reduced to its words: `$` and braces go,
/// `\beta` becomes `beta` (also `\varepsilon`), other commands (`\mathrm`, `\textit`, `\cite`)
/// go and leave their argument, `\%` and friends become the character.
pub(crate) fn reduce_latex(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['$', '\\', '{']) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' | '{' | '}' => {}
            '\\' => {
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphabetic() && name.len() < 32 {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if name.is_empty() {
                    // `\%`, `\&`, `\_`, `\\`: the character itself (a line break is a space).
                    match chars.next() {
                        Some('\\') | None => out.push(' '),
                        Some(n) => out.push(n),
                    }
                    continue;
                }
                let bare = name
                    .strip_prefix("var")
                    .unwrap_or(&name)
                    .to_ascii_lowercase();
                if GREEK.iter().any(|(g, _, _)| *g == bare) {
                    out.push_str(&bare);
                }
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listed_equivalences_meet_in_one_form() {
        let same = [
            ("self-supervised", "self supervised"),
            ("Schölkopf", "Scholkopf"),
            ("Scho\u{308}lkopf", "Schölkopf"),
            ("ﬁne-tuning", "fine-tuning"),
            ("$\\beta$-VAE", "beta-vae"),
            ("β-VAE", "beta vae"),
            ("\\textit{Attention} is all", "attention is all"),
            ("Łukasz", "lukasz"),
            ("optimisation", "optimization"),
            ("modelling", "modeling"),
            ("colour", "color"),
            ("Sam's model", "sam model"),
            ("ＧＰＴ", "gpt"),
        ];
        for (a, b) in same {
            assert_eq!(normalise(a), normalise(b), "{a} vs {b}");
        }
    }

    #[test]
    fn joints_are_soft_inside_words_and_breaks_at_punctuation() {
        let f = Field::new("self-supervised node.js. Graph (neural) nets");
        let words: Vec<_> = f
            .tokens
            .iter()
            .map(|t| (f.key(t), t.space_before))
            .collect();
        assert_eq!(
            words,
            [
                ("self", false),
                ("supervised", false),
                ("node", true),
                ("js", false),
                ("graph", false),
                ("neural", false),
                ("nets", false)
            ]
        );
        assert_eq!(
            f.joined,
            "selfsupervisednodejs\u{1}graph\u{1}neural\u{1}nets"
        );
        let f = Field::new("Let us see SAM and LLMs");
        let caps: Vec<_> = f.tokens.iter().map(|t| t.caps).collect();
        assert_eq!(caps, [false, false, false, true, false, true]);
    }

    #[test]
    fn c_plus_plus_and_c_sharp_keep_their_marks() {
        assert_eq!(normalise("C++ and C# code, a+b"), "c++ and c# code a b");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(crate::test_support::proptest_config(2000))]

            #[test]
            fn normalising_twice_changes_nothing(s in "\\PC{0,60}") {
                let once = normalise(&s);
                prop_assert_eq!(normalise(&once), once.clone());
            }

            #[test]
            fn joined_keys_never_hold_a_break_inside_a_token(s in "\\PC{0,60}") {
                let f = Field::new(&s);
                for t in &f.tokens {
                    prop_assert!(!f.key(t).contains(BREAK));
                    prop_assert!(!f.key(t).is_empty());
                }
            }
        }
    }
}
