//! SELECTION: which stored papers each reader gets, ranked, and why. Pure: no I/O, no clock.
//!
//! How topics combine (see [`crate::domain::Topics`] for the syntax): a paper is picked when
//! it matches **any** of the reader's items — a keyword or phrase (title, HF keywords or
//! abstract, after the one normalisation of [`normalise`], with word forms from [`forms`]
//! and acronyms learned by [`acronyms`]), a category, an author, an `about:` interest, an
//! `A AND B` of those; **and** it has at least `min_upvotes` HF upvotes when that is set;
//! **and** it matches none of the excluded keywords, phrases, categories or authors.
//! Readers with no terms get the trending digest: the window's papers by upvotes.
//!
//! Each kind of item has its matcher ([`matchers`]), which owns its index of the run's
//! candidates, how it scores the papers an item picks (keywords, phrases and `about:` lines
//! by meaning too, [`meaning`]), what an exclusion of it leaves out, and its piece of the
//! why line. This module only combines them: one index per run, then per reader the
//! exclusions and sent papers blocked, every item's scores added, the window and
//! `min_upvotes` applied, the blend of [`score`] (relevance with upvotes and recency,
//! weights in `[selection]`) ranked and capped. Each pick says where and how strongly it
//! matched ("diffusion: title · abstract ×4", "ViT = vision transformer: abstract ×2"). Only
//! papers first stored inside the reader's window and never sent to them before are
//! candidates.
//!
//! A new kind of item is one new file in [`matchers`] and its slot there (see that module);
//! nothing in this module changes.
//!
//! Built for many readers ([`index`]): the papers are normalised, the acronyms learned and
//! every reader's terms matched once per run; each reader then only adds up the postings of
//! its own terms.
pub(crate) mod acronyms;
pub(crate) mod forms;
pub(crate) mod index;
mod lists;
mod matchers;
pub(crate) mod meaning;
pub(crate) mod normalise;
mod parallel;
#[cfg(test)]
mod reference;
pub(crate) mod score;
mod scratch;
mod settings;

pub use settings::SelectionSettings;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::domain::StoredPaper;
use crate::domain::{PaperId, Pick, PickRef, Term, Topics};
use matchers::{Distinct, Matchers};
pub use meaning::Meaning;
// The tests (`use super::*`) read text as the matchers do.
#[cfg(test)]
use normalise::Field;
pub(crate) use parallel::map as parallel_map;
pub use score::SelectionWeights;
use scratch::{SCRATCH, Scratch};

/// Limits and weights applied to every digest.
#[derive(Debug, Clone, Copy)]
pub struct SelectionLimits {
    /// At most this many papers in a digest (default 20).
    pub max_papers: usize,
    /// How picks are scored (`[selection]` weights).
    pub weights: SelectionWeights,
}

impl Default for SelectionLimits {
    fn default() -> Self {
        SelectionLimits {
            max_papers: 20,
            weights: SelectionWeights::default(),
        }
    }
}

/// The candidate papers of a run, indexed for matching.
pub struct Selector {
    limits: SelectionLimits,
    /// Candidates in trending order: upvotes desc, then most recent first.
    papers: Vec<StoredPaper>,
    /// Every kind's matcher, indexed for the run's terms.
    kinds: Matchers,
    /// Per candidate, the upvotes and recency parts of the blend ([`score::static_parts`]):
    /// the same for every reader, so computed once.
    upvotes_part: Vec<f64>,
    recency_part: Vec<f64>,
    /// Per candidate, what deciding its eligibility reads: a few bytes next to each other
    /// rather than the whole paper.
    meta: Vec<PaperMeta>,
    /// Candidate id → index, to mark a reader's sent papers before scoring.
    index_of: HashMap<PaperId, u32>,
    /// The candidates' embedding vectors, when terms are read by meaning too.
    meaning: Option<Meaning>,
}

/// What [`Selector::eligible_index`] reads of a candidate.
#[derive(Debug, Clone, Copy)]
struct PaperMeta {
    first_seen: DateTime<Utc>,
    upvotes: u32,
    has_id: bool,
}

impl Selector {
    /// Indexes `papers` for every term used by `topics` (terms and exclusions). Only those
    /// topics can be selected for afterwards.
    pub fn new<'a>(
        papers: Vec<StoredPaper>,
        topics: impl IntoIterator<Item = &'a Topics>,
        limits: SelectionLimits,
    ) -> Selector {
        Selector::for_terms(
            papers,
            topics.into_iter().flat_map(Topics::indexed_terms),
            limits,
        )
    }

    /// Indexes `papers` for `terms` (each reader's terms and exclusions, repeats welcome):
    /// what planning calls after reading the readers page by page, without holding them.
    /// Only topics made of these terms can be selected for afterwards ([`Selector::covers`]).
    pub fn for_terms<'a>(
        papers: Vec<StoredPaper>,
        terms: impl IntoIterator<Item = &'a Term>,
        limits: SelectionLimits,
    ) -> Selector {
        Selector::build(papers, terms, limits, None)
    }

    /// [`Selector::new`] with keywords, phrases, acronyms and `about:` lines read by meaning
    /// too ([`meaning`]): `meaning` holds the papers' vectors, in the order of `papers`.
    /// Without it (or with `meaning_weight` 0) terms are read by their words alone.
    pub fn with_meaning<'a>(
        papers: Vec<StoredPaper>,
        topics: impl IntoIterator<Item = &'a Topics>,
        limits: SelectionLimits,
        meaning: Option<Meaning>,
    ) -> Selector {
        Selector::build(
            papers,
            topics.into_iter().flat_map(Topics::indexed_terms),
            limits,
            meaning,
        )
    }

    /// The same candidates (and vectors) indexed again for `topics` alone: a reader whose
    /// topics changed after the run's index was built.
    pub fn for_topics(&self, topics: &Topics) -> Selector {
        Selector::build(
            self.papers.clone(),
            topics.indexed_terms(),
            self.limits,
            self.meaning.clone(),
        )
    }

    /// [`Selector::for_terms`] with the papers' vectors (see [`Selector::with_meaning`]).
    pub fn build<'a>(
        papers: Vec<StoredPaper>,
        terms: impl IntoIterator<Item = &'a Term>,
        limits: SelectionLimits,
        meaning: Option<Meaning>,
    ) -> Selector {
        let w = limits.weights;
        let mut order: Vec<usize> = (0..papers.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&papers[a], &papers[b]);
            let up = |p: &StoredPaper| p.paper.upvotes.unwrap_or(0);
            up(b)
                .cmp(&up(a))
                .then(date(b).cmp(&date(a)))
                .then(b.first_seen.cmp(&a.first_seen))
                .then(a.paper.id.cmp(&b.paper.id))
        });
        let meaning = meaning
            .filter(|_| w.uses_meaning())
            .map(|m| m.permuted(&order));
        let mut slots: Vec<Option<StoredPaper>> = papers.into_iter().map(Some).collect();
        let papers: Vec<StoredPaper> = order.iter().filter_map(|&i| slots[i].take()).collect();
        // Every distinct term of every reader, indexed once.
        let mut distinct = Distinct::default();
        for term in terms {
            distinct.note(term);
        }
        let kinds = Matchers::build(&papers, &distinct, w, meaning.as_ref());
        // The blend's upvotes and recency parts depend on the paper only; ages are counted
        // from the most recent candidate's date (no clock here).
        let max_upvotes = papers
            .iter()
            .filter_map(|p| p.paper.upvotes)
            .max()
            .unwrap_or(0);
        let newest = papers.iter().map(date).max().unwrap_or_default();
        let (upvotes_part, recency_part) = papers
            .iter()
            .map(|p| {
                let age = (newest - date(p)).num_minutes() as f64 / 1440.0;
                score::static_parts(&w, p.paper.upvotes.unwrap_or(0), max_upvotes, age)
            })
            .unzip();
        let meta = papers
            .iter()
            .map(|p| PaperMeta {
                first_seen: p.first_seen,
                upvotes: p.paper.upvotes.unwrap_or(0),
                has_id: p.paper.id.is_some(),
            })
            .collect();
        let index_of = papers
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((p.paper.id.clone()?, i as u32)))
            .collect();
        tracing::debug!(
            papers = papers.len(),
            terms = kinds.phrases.patterns(),
            acronyms = kinds.learned_acronyms,
            "selection index built"
        );
        Selector {
            limits,
            papers,
            kinds,
            upvotes_part,
            recency_part,
            meta,
            index_of,
            meaning,
        }
    }

    /// Whether keywords, phrases and `about:` lines are read by meaning too.
    pub fn reads_meaning(&self) -> bool {
        self.meaning.is_some()
    }

    pub fn candidate_count(&self) -> usize {
        self.papers.len()
    }

    /// Candidate ids (for looking up what was already sent).
    pub fn candidate_ids(&self) -> Vec<PaperId> {
        self.papers
            .iter()
            .filter_map(|p| p.paper.id.clone())
            .collect()
    }

    /// How many acronyms were learned from the candidates.
    pub fn learned_acronyms(&self) -> usize {
        self.kinds.learned_acronyms
    }

    /// Whether every term and exclusion of `topics` was indexed, so that [`Selector::select`]
    /// answers for them (a reader whose topics changed after the index was built is not).
    pub fn covers(&self, topics: &Topics) -> bool {
        topics.indexed_terms().all(|t| self.kinds.covers(t))
    }

    pub fn limits(&self) -> SelectionLimits {
        self.limits
    }

    /// The candidates, in trending order (to index them again for other terms).
    pub fn papers(&self) -> &[StoredPaper] {
        &self.papers
    }

    /// The digest picks for one reader: papers first stored at or after `window_start`,
    /// not in `already_sent`, matching `topics`, ranked and capped. Empty when nothing matches.
    pub fn select(
        &self,
        topics: &Topics,
        window_start: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> Vec<Pick> {
        self.rank(topics, window_start, already_sent)
            .into_iter()
            .map(|(paper, reasons)| Pick {
                paper: self.papers[paper as usize].paper.clone(),
                reasons,
            })
            .collect()
    }

    /// The picks of [`Selector::select`] as planning stores them (id and why line), without
    /// copying each paper.
    pub fn select_refs(
        &self,
        topics: &Topics,
        window_start: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> Vec<PickRef> {
        self.rank(topics, window_start, already_sent)
            .into_iter()
            .filter_map(|(paper, reasons)| {
                Some(PickRef {
                    id: self.papers[paper as usize].paper.id.clone()?,
                    reasons,
                    more_like: false,
                    pinned: false,
                    note: None,
                })
            })
            .collect()
    }

    /// The picks as (candidate index, why line), best first.
    fn rank(
        &self,
        topics: &Topics,
        window_start: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> Vec<(u32, Vec<String>)> {
        if topics.terms.is_empty() {
            return self.rank_trending(topics, window_start, already_sent);
        }
        let ranked = SCRATCH
            .with_borrow_mut(|scratch| self.top_k(scratch, topics, window_start, already_sent));
        let reasons = self.why(topics, &ranked);
        ranked.into_iter().zip(reasons).collect()
    }

    /// The best `max_papers` candidates for `topics`, best first. A dense score per
    /// candidate in reused buffers: no map and no allocation per paper; excluded and sent
    /// papers are marked first and never scored.
    fn top_k(
        &self,
        s: &mut Scratch,
        topics: &Topics,
        window_start: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> Vec<u32> {
        let w = &self.limits.weights;
        s.reset(self.papers.len());
        self.block_excluded(topics, s);
        for id in already_sent {
            if let Some(&paper) = self.index_of.get(id) {
                s.block(paper);
            }
        }
        for term in &topics.terms {
            self.kinds.add_scores(term, s);
        }
        let Scratch {
            rel,
            touched,
            ranked,
            ..
        } = s;
        ranked.clear();
        ranked.extend(
            touched
                .iter()
                .filter(|&&paper| self.eligible_index(paper, topics, window_start))
                .map(|&paper| {
                    let i = paper as usize;
                    let score =
                        score::blend_parts(w, rel[i], self.upvotes_part[i], self.recency_part[i]);
                    (score, paper)
                }),
        );
        let order = |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        let k = self.limits.max_papers;
        if ranked.len() > k && k > 0 {
            ranked.select_nth_unstable_by(k - 1, order);
            ranked.truncate(k);
        }
        ranked.sort_by(order);
        ranked.truncate(k);
        ranked.iter().map(|&(_, paper)| paper).collect()
    }

    /// Blocks every paper an exclusion of `topics` leaves out, as the matcher of its kind
    /// says; `-strict:` keywords and phrases at any mention.
    fn block_excluded(&self, topics: &Topics, s: &mut Scratch) {
        for x in &topics.exclude {
            self.kinds.block_excluded(x, s);
        }
        for x in &topics.exclude_strict {
            self.kinds.phrases.block_mentions(x, s);
        }
    }

    /// The why line of each of `papers`: each of the reader's terms that picked it says
    /// why, in the order of the terms. Term by term over all the papers, each term looked up
    /// in its matcher's index once.
    fn why(&self, topics: &Topics, papers: &[u32]) -> Vec<Vec<String>> {
        let mut out = vec![Vec::new(); papers.len()];
        for term in &topics.terms {
            self.kinds.why(term, papers, &mut out);
        }
        out
    }

    /// The public (non-personalised) digest of the window: the top papers by upvotes.
    pub fn trending(&self, window_start: DateTime<Utc>) -> Vec<Pick> {
        self.select(&Topics::default(), window_start, &HashSet::new())
    }

    fn rank_trending(
        &self,
        topics: &Topics,
        window_start: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> Vec<(u32, Vec<String>)> {
        SCRATCH.with_borrow_mut(|s| {
            s.reset(self.papers.len());
            self.block_excluded(topics, s);
            (0..self.papers.len() as u32)
                .filter(|&i| !s.is_blocked(i))
                .filter(|i| self.eligible(*i, topics, window_start, already_sent))
                .take(self.limits.max_papers)
                .map(|i| (i, trending_reason(&self.papers[i as usize])))
                .collect()
        })
    }

    fn eligible(
        &self,
        paper: u32,
        topics: &Topics,
        window_start: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> bool {
        let p = &self.papers[paper as usize];
        self.eligible_index(paper, topics, window_start)
            && p.paper
                .id
                .as_ref()
                .is_some_and(|id| !already_sent.contains(id))
    }

    /// [`Selector::eligible`] without the sent papers (marked beforehand in [`top_k`]).
    fn eligible_index(&self, paper: u32, topics: &Topics, window_start: DateTime<Utc>) -> bool {
        let p = &self.meta[paper as usize];
        p.first_seen >= window_start
            && p.has_id
            && topics.min_upvotes.is_none_or(|min| p.upvotes >= min)
    }
}

fn date(p: &StoredPaper) -> DateTime<Utc> {
    p.paper.listed.or(p.paper.published).unwrap_or(p.first_seen)
}

/// In the trending digest, a paper with upvotes is there because it trends; one without
/// (no HF source saw it) only because it is recent, which needs no "why" line.
fn trending_reason(p: &StoredPaper) -> Vec<String> {
    match p.paper.upvotes {
        Some(n) if n > 0 => vec!["trending".to_string()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
