//! One matcher per kind of topic item: [`phrase`] (keywords and phrases, anywhere or in one
//! field with `ti:`/`abs:`), [`category`], [`author`], [`about`] (interests in plain words)
//! and [`conjunction`] (`A AND B` of the others). Each owns its index of the run's
//! candidates, built once per run for every reader's terms of its kind; how it adds the
//! papers a term picks to a reader's scores (reading the term by meaning too, for the kinds
//! that are, [`super::meaning`]); what an exclusion of it leaves out; its piece of the why
//! line; and the per-paper look-up the tests check its scoring against.
//!
//! The selector ([`super::Selector`]) only combines them, through [`Matchers`]: each of its
//! calls goes to the matcher of the term's kind by one `match` on the term (`by_kind!`),
//! a static call on that kind's own type. The per-reader loops stay monomorphic, with the
//! kind's scoring inlined into them: no call through a vtable per term and reader (the
//! `&dyn Matcher` of the first version). Every loop over papers is inside a matcher, on its
//! own types.
//!
//! A new kind of item is its [`Term`] variant (parsed in `domain::topics`), one new file
//! here implementing [`Matcher`], and its slot in [`Matchers`]: a field, its build line and
//! one arm of `by_kind!` (the compiler points at that arm). The selector and the
//! reference oracle do not change.
//!
//! Papers a reader likes (`like:`) are no kind here: the recommender
//! ([`crate::recommend`]) reads them after selection.
use std::collections::{HashMap, HashSet};

use super::acronyms::Acronyms;
use super::meaning::Meaning;
use super::normalise::Field;
use super::parallel;
use super::score::{Corpus, Hits, SelectionWeights};
use super::scratch::Scratch;
use crate::domain::{StoredPaper, Term};

/// `$body` with `$m` bound to the matcher of `$term`'s kind among `$kinds`: the one place
/// that says which kind reads which term. Each arm calls the kind's own type, so every
/// call is static and can be inlined where the selector loops over a reader's terms.
macro_rules! by_kind {
    ($kinds:expr, $term:expr, |$m:ident| $body:expr) => {
        match $term {
            Term::Phrase(_) | Term::Title(_) | Term::Abstract(_) => {
                let $m = &$kinds.phrases;
                $body
            }
            Term::Category(_) => {
                let $m = &$kinds.categories;
                $body
            }
            Term::Author(_) => {
                let $m = &$kinds.authors;
                $body
            }
            Term::About(_) => {
                let $m = &$kinds.about;
                $body
            }
            Term::All(_) => {
                let $m = &$kinds.conjunctions;
                $body
            }
        }
    };
}

mod about;
mod author;
mod category;
mod conjunction;
mod phrase;

use about::Abouts;
use author::Authors;
use category::Categories;
use conjunction::Conjunctions;
use phrase::Phrases;

/// What the selector asks of the matcher of one kind of topic item. A `term` handed to a
/// matcher is always of its kind (`by_kind!`).
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

    /// The why line's pieces of `term` by its words for each of `papers`, into the same
    /// place of `out` (`out[i]` for `papers[i]`); nothing for a paper `term` does not pick.
    /// All of a reader's picks at once, so that `term` is looked up in the index once per
    /// reader, not once per pick. `kinds` is every kind's matcher, for a term made of terms.
    fn why_by_words(&self, term: &Term, papers: &[u32], kinds: &Matchers, out: &mut [Vec<String>]);

    /// [`Matcher::why_by_words`] for a reader's own term, which a kind read by meaning too
    /// also says.
    fn why(&self, term: &Term, papers: &[u32], kinds: &Matchers, out: &mut [Vec<String>]) {
        self.why_by_words(term, papers, kinds, out);
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

/// The why line of a term that names what it picks (a category, an author): the term itself,
/// for each of `papers` in its sorted `list` of picked papers (`out[i]` for `papers[i]`).
fn why_listed(term: &Term, list: &[u32], papers: &[u32], out: &mut [Vec<String>]) {
    for (&paper, out) in papers.iter().zip(out) {
        if list.binary_search(&paper).is_ok() {
            out.push(term.to_string());
        }
    }
}

/// Every kind's matcher over one run's candidates.
#[derive(Debug)]
pub(crate) struct Matchers {
    /// Also asked directly for `-strict:` exclusions, which only keywords and phrases have.
    pub(crate) phrases: Phrases,
    categories: Categories,
    authors: Authors,
    about: Abouts,
    conjunctions: Conjunctions,
    /// How many acronyms were learned from the candidates.
    pub(crate) learned_acronyms: usize,
}

/// The run's candidates as the matchers index them.
pub(crate) struct Candidates<'a> {
    /// Each candidate's title, HF keywords and abstract, normalised.
    pub texts: &'a [[Field; 3]],
    /// Each candidate's abstract length in tokens (BM25F's length normalisation).
    pub abstract_lens: &'a [usize],
    /// What BM25's idf and length normalisation read: the number of candidates and their
    /// mean abstract length.
    pub corpus: Corpus,
    /// Acronyms the candidates define ("vision transformer (ViT)").
    pub acronyms: &'a Acronyms,
    pub weights: SelectionWeights,
    /// The candidates' vectors, when terms are read by meaning too.
    pub meaning: Option<&'a Meaning>,
}

impl Matchers {
    /// Indexes `papers` for `terms`: their text normalised and their acronyms learned once,
    /// then each kind's index.
    pub(crate) fn build(
        papers: &[StoredPaper],
        terms: &Distinct<'_>,
        weights: SelectionWeights,
        meaning: Option<&Meaning>,
    ) -> Matchers {
        let texts: Vec<[Field; 3]> = parallel::map(papers, |p| {
            [
                Field::new(&p.paper.title),
                Field::new(&keywords_text(&p.paper.ai_keywords)),
                Field::new(&p.paper.abstract_text),
            ]
        });
        let acronyms = Acronyms::learn(
            papers
                .iter()
                .flat_map(|p| [p.paper.title.as_str(), p.paper.abstract_text.as_str()]),
        );
        let abstract_lens: Vec<usize> = texts.iter().map(|t| t[2].tokens.len()).collect();
        let corpus = Corpus {
            papers: papers.len(),
            avg_abstract_len: abstract_lens.iter().sum::<usize>() as f64
                / papers.len().max(1) as f64,
        };
        let c = Candidates {
            texts: &texts,
            abstract_lens: &abstract_lens,
            corpus,
            acronyms: &acronyms,
            weights,
            meaning,
        };
        // About words that are learned acronyms count their long form's hits too.
        let about_words = Abouts::acronym_words(&terms.all, &acronyms);
        let longs: Vec<&str> = about_words.iter().map(|(_, long)| *long).collect();
        let (phrases, long_hits) = Phrases::build(&c, terms, &longs);
        let expansions: HashMap<&str, &[(u32, Hits)]> = about_words
            .iter()
            .zip(&long_hits)
            .map(|((word, _), hits)| (*word, hits.as_slice()))
            .collect();
        let mut kinds = Matchers {
            phrases,
            categories: Categories::build(papers, weights.category_score),
            authors: Authors::build(papers, &terms.all, weights.author_score),
            about: Abouts::build(&c, &terms.all, &expansions),
            conjunctions: Conjunctions::default(),
            learned_acronyms: acronyms.len(),
        };
        // Made of the other kinds' terms.
        kinds.conjunctions = Conjunctions::build(&terms.all, &kinds);
        kinds
    }

    /// [`Matcher::covers`] of `term`'s kind.
    pub(crate) fn covers(&self, term: &Term) -> bool {
        by_kind!(self, term, |m| m.covers(term))
    }

    /// [`Matcher::add_scores`] of `term`'s kind: the per-reader loop.
    #[inline]
    pub(crate) fn add_scores(&self, term: &Term, s: &mut Scratch) {
        by_kind!(self, term, |m| m.add_scores(term, s))
    }

    /// [`Matcher::scores`] of `term`'s kind.
    pub(crate) fn scores(&self, term: &Term) -> Vec<(u32, f64)> {
        by_kind!(self, term, |m| m.scores(term))
    }

    /// [`Matcher::block_excluded`] of `term`'s kind.
    #[inline]
    pub(crate) fn block_excluded(&self, term: &Term, s: &mut Scratch) {
        by_kind!(self, term, |m| m.block_excluded(term, s))
    }

    /// [`Matcher::why_by_words`] of `term`'s kind.
    pub(crate) fn why_by_words(&self, term: &Term, papers: &[u32], out: &mut [Vec<String>]) {
        by_kind!(self, term, |m| m.why_by_words(term, papers, self, out))
    }

    /// [`Matcher::why`] of `term`'s kind.
    pub(crate) fn why(&self, term: &Term, papers: &[u32], out: &mut [Vec<String>]) {
        by_kind!(self, term, |m| m.why(term, papers, self, out))
    }

    /// [`Matcher::score_of`] of `term`'s kind.
    #[cfg(test)]
    pub(crate) fn score_of(&self, term: &Term, paper: u32, add: &mut dyn FnMut(f64)) {
        by_kind!(self, term, |m| m.score_of(term, paper, add))
    }

    /// [`Matcher::excludes`] of `term`'s kind.
    #[cfg(test)]
    pub(crate) fn excludes(&self, term: &Term, paper: u32) -> bool {
        by_kind!(self, term, |m| m.excludes(term, paper))
    }
}

/// The HF keywords as one field, each keyword a clause of its own.
fn keywords_text(keywords: &[String]) -> String {
    keywords.join("; ")
}

/// The distinct terms of a run, each in first-seen order: `top` are the readers' own
/// (terms and exclusions: what is read by meaning too), `all` those and the parts of
/// `A AND B` (what the matchers index).
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
