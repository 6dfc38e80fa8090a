//! Phrase matching for many readers at once: every phrase any reader follows (with its word
//! forms and learned acronym expansions) goes into one Aho-Corasick automaton, which runs
//! once over each paper's normalised title, keywords and abstract. The cost grows with the
//! text and the matches, not with readers × papers: each reader then only adds up the
//! postings of its own terms.
//!
//! Text and patterns are token keys joined with nothing in between (see
//! [`super::normalise`]), so `self supervised`, `self-supervised` and `selfsupervised` are the
//! same string. A match counts when it starts and ends on token edges and every joint it
//! spans inside is soft (a hyphen, a period), is a word boundary of the query too, or joins
//! two words of three letters or more (so `selfsupervised` finds "self supervised" but
//! `form` does not find "for m"). Query words in capitals (`SAM`, `US`) only match words in
//! capitals.
use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::forms::word_forms;
use super::normalise::{Field, Token};
use super::score::Hits;
use crate::domain::is_acronym_word;

/// One spelling of a term to look for.
#[derive(Debug, Clone)]
struct Pattern {
    term: u32,
    /// Byte offsets in the joined pattern where the query has a word boundary.
    boundaries: Vec<u32>,
    /// Byte ranges of query words written in capitals.
    strict: Vec<(u32, u32)>,
}

/// Terms and their spellings, before the automaton is built.
#[derive(Debug, Default)]
pub(crate) struct PatternSet {
    /// Joined spelling → the patterns that spell it.
    by_text: HashMap<String, Vec<Pattern>>,
    terms: usize,
    /// Last word → its forms (`[0]` as a word, `[1]` as an acronym): readers share words,
    /// each is expanded once.
    forms: [HashMap<String, Vec<String>>; 2],
}

impl PatternSet {
    /// Adds a term (a phrase as the reader stored it, or an expansion) with all its forms;
    /// returns its id, or `None` when it has no letters or digits.
    pub(crate) fn add(&mut self, phrase: &str) -> Option<u32> {
        let words: Vec<&str> = phrase.split_whitespace().collect();
        let field = Field::new(phrase);
        let (last, head) = field.tokens.split_last()?;
        let term = self.terms as u32;
        self.terms += 1;
        // A token is strict when the word of the phrase it comes from is an acronym.
        let strict_tokens: Vec<bool> = field
            .tokens
            .iter()
            .map(|t| t.caps && is_strict(field.key(t), &words))
            .collect();
        let mut prefix = String::new();
        let mut boundaries = Vec::new();
        let mut strict = Vec::new();
        for (i, t) in head.iter().enumerate() {
            let start = prefix.len() as u32;
            prefix.push_str(field.key(t));
            if strict_tokens[i] {
                strict.push((start, prefix.len() as u32));
            }
            boundaries.push(prefix.len() as u32);
        }
        let last_strict = strict_tokens.last().copied().unwrap_or(false);
        let last_key = field.key(last);
        let cache = &mut self.forms[usize::from(last_strict)];
        if !cache.contains_key(last_key) {
            cache.insert(last_key.to_string(), word_forms(last_key, last_strict));
        }
        let forms = cache.get(last_key).map_or(&[][..], Vec::as_slice);
        for form in forms {
            let text = format!("{prefix}{form}");
            let mut strict = strict.clone();
            if last_strict {
                strict.push((prefix.len() as u32, text.len() as u32));
            }
            self.by_text.entry(text).or_default().push(Pattern {
                term,
                boundaries: boundaries.clone(),
                strict,
            });
        }
        Some(term)
    }

    pub(crate) fn build(self) -> Matcher {
        let mut texts = Vec::with_capacity(self.by_text.len());
        let mut patterns = Vec::with_capacity(self.by_text.len());
        for (text, p) in self.by_text {
            texts.push(text);
            patterns.push(p);
        }
        let automaton = (!texts.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .match_kind(MatchKind::Standard)
                .build(&texts)
                .expect("patterns are short literals")
        });
        Matcher {
            automaton,
            patterns,
            terms: self.terms,
        }
    }
}

/// Whether a token with key `key` comes from a query word in capitals.
fn is_strict(key: &str, words: &[&str]) -> bool {
    words
        .iter()
        .any(|w| is_acronym_word(w) && w.to_lowercase() == key)
}

pub(crate) struct Matcher {
    automaton: Option<AhoCorasick>,
    /// Per automaton pattern, the term spellings it stands for.
    patterns: Vec<Vec<Pattern>>,
    terms: usize,
}

impl Matcher {
    pub(crate) fn terms(&self) -> usize {
        self.terms
    }

    /// Term → hits in this paper (title, keywords, abstract), sorted by term.
    pub(crate) fn find(&self, title: &Field, keywords: &Field, abs: &Field) -> Vec<(u32, Hits)> {
        let mut found: Vec<(u32, u8, u32)> = Vec::new();
        for (which, field) in [(0u8, title), (1, keywords), (2, abs)] {
            self.find_in(field, which, &mut found);
        }
        found.sort_unstable();
        found.dedup();
        let mut hits: Vec<(u32, Hits)> = Vec::new();
        for (term, which, _) in found {
            if hits.last().is_none_or(|(t, _)| *t != term) {
                hits.push((term, Hits::default()));
            }
            if let Some((_, h)) = hits.last_mut() {
                let n = match which {
                    0 => &mut h.title,
                    1 => &mut h.keywords,
                    _ => &mut h.abstract_text,
                };
                *n = n.saturating_add(1);
            }
        }
        hits
    }

    fn find_in(&self, field: &Field, which: u8, found: &mut Vec<(u32, u8, u32)>) {
        let Some(ac) = &self.automaton else { return };
        if field.tokens.is_empty() {
            return;
        }
        for m in ac.find_overlapping_iter(&field.joined) {
            let Some(first) = field.token_starting(m.start()) else {
                continue;
            };
            let Some(last) = field.token_ending(m.end()) else {
                continue;
            };
            for p in &self.patterns[m.pattern().as_usize()] {
                if fits(field, first, last, m.start() as u32, p) {
                    found.push((p.term, which, m.start() as u32));
                }
            }
        }
    }
}

fn fits(field: &Field, first: usize, last: usize, start: u32, p: &Pattern) -> bool {
    let tokens = &field.tokens;
    let len = |t: &Token| t.end - t.start;
    for k in first..last {
        let next = &tokens[k + 1];
        if !next.space_before || p.boundaries.contains(&(next.start - start)) {
            continue;
        }
        if len(&tokens[k]) >= 3 && len(next) >= 3 {
            continue;
        }
        return false;
    }
    p.strict.iter().all(|&(a, b)| {
        tokens[first..=last]
            .iter()
            .filter(|t| t.end > start + a && t.start < start + b)
            .all(|t| t.caps)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hits of `phrase` in a paper with this title and abstract: (title, abstract).
    fn hits(phrase: &str, title: &str, abs: &str) -> (u16, u16) {
        let mut set = PatternSet::default();
        let term = set.add(phrase).unwrap();
        let m = set.build();
        let found = m.find(&Field::new(title), &Field::default(), &Field::new(abs));
        found
            .iter()
            .find(|(t, _)| *t == term)
            .map_or((0, 0), |(_, h)| (h.title, h.abstract_text))
    }

    /// Every matching case listed under **Why** in issue 9, and their neighbours.
    #[test]
    fn the_cases_from_the_issue_match_as_a_researcher_expects() {
        let cases: &[(&str, &str, bool)] = &[
            ("news", "A new method. New results.", false),
            ("news", "Fake news detection", true),
            ("NAS", "We study a new na approach", false),
            ("NAS", "Efficient NAS for edge devices", true),
            ("bias", "A bia of the model", false),
            ("bias", "Gender biases in LLMs", true),
            (
                "self supervised",
                "Self-supervised learning of features",
                true,
            ),
            ("self-supervised", "self supervised learning", true),
            ("selfsupervised", "self-supervised learning", true),
            ("self supervised", "Selfsupervised learning", true),
            (
                "graph neural network",
                "Scalable graph-neural-networks",
                true,
            ),
            ("optimisation", "Convex optimization", true),
            ("optimization", "Convex optimisation", true),
            ("modelling", "Language modeling at scale", true),
            ("generalise", "Models that generalize", true),
            ("colour", "Color constancy", true),
            ("behaviour", "Emergent behaviors", true),
            ("matrix", "Random matrices", true),
            ("index", "Learned indices", true),
            ("analysis", "Two analyses of dropout", true),
            ("criterion", "Stopping criteria", true),
            ("hypothesis", "Testing hypotheses", true),
            ("transformer", "Transformers for graphs", true),
            ("transformers", "A transformer for graphs", false),
            ("SAM", "Sam's new camera", false),
            ("SAM", "SAM 2: segment anything in videos", true),
            ("US", "Let us now consider", false),
            ("US", "Elections in the US", true),
            ("beta-vae", "Disentangling with $\\beta$-VAE", true),
            ("Schölkopf", "Scho\u{308}lkopf lecture notes", true),
            ("node.js", "Fast node.js servers", true),
            ("form", "for m in range", false),
            ("fine-tuning", "Eﬃcient ﬁne-tuning", true),
            ("LLM", "Aligning LLMs", true),
            ("C++", "Compiling C++ fast", true),
            ("C++", "Compiling C fast", false),
        ];
        for (phrase, title, expected) in cases {
            let (t, _) = hits(phrase, title, "");
            assert_eq!(t > 0, *expected, "{phrase} in {title:?}");
        }
    }

    #[test]
    fn a_phrase_never_runs_from_the_title_into_the_abstract() {
        assert_eq!(
            hits("diffusion model", "Fast diffusion", "Models of sound."),
            (0, 0)
        );
        assert_eq!(
            hits(
                "diffusion model",
                "Diffusion models",
                "A diffusion model. Diffusion, models."
            ),
            (1, 1)
        );
    }

    #[test]
    fn every_occurrence_is_counted_once() {
        assert_eq!(
            hits(
                "diffusion",
                "Diffusion",
                "diffusion, diffusions and self-diffusion"
            ),
            (1, 3)
        );
    }
}
