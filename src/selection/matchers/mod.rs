//! One matcher per kind of topic item. Each owns its index of the run's candidates (built
//! once per run for every reader's terms of its kind), how it scores the papers a term of
//! its kind picks, what it excludes, and how it says why a paper matched.
use std::collections::{HashMap, HashSet};

use super::meaning::Meaning;
use super::normalise::Field;
use super::score::{Corpus, Hits, SelectionWeights};
use super::scratch::Scratch;
use crate::domain::{StoredPaper, Term};

pub(crate) mod about;
mod author;
mod category;

use about::Abouts;
use author::Authors;
use category::Categories;

/// What the selector asks of the matcher of one kind of topic item. A `term` handed to a
/// matcher is always of its kind ([`Matchers::of`]).
pub(crate) trait Matcher {
    /// Whether `term` was indexed, so that a reader with it can be selected for.
    fn covers(&self, term: &Term) -> bool;

    /// Adds every paper `term` picks, with its relevance, to one reader's scores.
    fn add_scores(&self, term: &Term, s: &mut Scratch);

    /// The papers `term` picks by its words, with their relevance, by paper: a part of
    /// `A AND B`.
    fn scores(&self, term: &Term) -> Vec<(u32, f64)>;

    /// Blocks every paper the exclusion `term` leaves out. A kind that cannot be excluded
    /// blocks nothing.
    fn block_excluded(&self, _term: &Term, _s: &mut Scratch) {}

    /// The why line's pieces of `term` for `paper`, by its words; nothing when `term` does
    /// not pick `paper`. `kinds` is every kind's matcher, for a term made of terms.
    fn why_by_words(&self, term: &Term, paper: u32, kinds: &Matchers, out: &mut Vec<String>);

    /// [`Matcher::why_by_words`] for a reader's own term, which a kind read by meaning too
    /// also says.
    fn why(&self, term: &Term, paper: u32, kinds: &Matchers, out: &mut Vec<String>) {
        self.why_by_words(term, paper, kinds, out);
    }

    /// The straightforward scoring of one paper (the reference of
    /// [`Matcher::add_scores`]): `add` gets each part of `term`'s score for `paper`.
    #[cfg(test)]
    fn score_of(&self, term: &Term, paper: u32, add: &mut dyn FnMut(f64));

    /// Whether the exclusion `term` leaves `paper` out, decided for this paper alone (the
    /// reference of [`Matcher::block_excluded`]).
    #[cfg(test)]
    fn excludes(&self, _term: &Term, _paper: u32) -> bool {
        false
    }
}

/// Every kind's matcher over one run's candidates.
#[derive(Debug)]
pub(crate) struct Matchers {
    pub(crate) categories: Categories,
    pub(crate) authors: Authors,
    pub(crate) about: Abouts,
}

/// The run's candidates as the matchers index them.
pub(crate) struct Candidates<'a> {
    pub papers: &'a [StoredPaper],
    /// Each candidate's title, HF keywords and abstract, normalised.
    pub texts: &'a [[Field; 3]],
    /// Each candidate's abstract length in tokens (BM25F's length normalisation).
    pub abstract_lens: &'a [usize],
    pub corpus: Corpus,
    pub weights: SelectionWeights,
    /// The candidates' vectors, when terms are read by meaning too.
    pub meaning: Option<&'a Meaning>,
}

impl Matchers {
    pub(crate) fn build(
        c: &Candidates<'_>,
        terms: &Distinct<'_>,
        about_expansions: &HashMap<&str, &[(u32, Hits)]>,
    ) -> Matchers {
        let w = &c.weights;
        Matchers {
            categories: Categories::build(c.papers, w.category_score),
            authors: Authors::build(c.papers, &terms.all, w.author_score),
            about: Abouts::build(c, &terms.all, about_expansions),
        }
    }
}

/// The distinct terms of a run, each in first-seen order: `top` are the readers' own
/// (terms and exclusions), `all` those and the parts of `A AND B`.
#[derive(Debug, Default)]
pub(crate) struct Distinct<'a> {
    pub top: Vec<&'a Term>,
    pub all: Vec<&'a Term>,
    seen_top: HashSet<&'a Term>,
    seen: HashSet<&'a Term>,
}

impl<'a> Distinct<'a> {
    pub(crate) fn note(&mut self, term: &'a Term) {
        if self.seen_top.insert(term) {
            self.top.push(term);
        }
        self.note_part(term);
    }

    fn note_part(&mut self, term: &'a Term) {
        if self.seen.insert(term) {
            self.all.push(term);
            if let Term::All(parts) = term {
                for part in parts {
                    self.note_part(part);
                }
            }
        }
    }
}
