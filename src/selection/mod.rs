//! SELECTION: which stored papers each reader gets, ranked, and why. Pure: no I/O, no clock.
//!
//! How topics combine (see [`crate::domain::Topics`] for the syntax): a paper is picked when
//! it matches **any** keyword/phrase (title, HF keywords or abstract, after the one
//! normalisation of [`normalise`], with word forms from [`forms`] and acronyms learned by
//! [`acronyms`]), **any** category, **any** author ([`matchers`]) or is similar enough to an
//! `about:` interest ([`matchers`]); **and** it has at least `min_upvotes` HF upvotes when that
//! is set; **and** it matches none of the excluded keywords, phrases, categories or authors.
//! Readers with no terms get the trending digest: the window's papers by upvotes.
//!
//! Picks are ranked by the score of [`score`] (BM25F relevance blended with upvotes and
//! recency, weights in `[selection]`) and capped; each says where and how strongly it matched
//! ("diffusion: title · abstract ×4", "ViT = vision transformer: abstract ×2"). Only papers
//! first stored inside the reader's window and never sent to them before are candidates.
//!
//! Built for many readers ([`index`]): the papers are normalised, the acronyms learned and
//! every reader's terms matched once per run; each reader then only adds up the postings of
//! its own terms.
pub(crate) mod acronyms;
pub(crate) mod forms;
pub(crate) mod index;
mod matchers;
pub(crate) mod meaning;
pub(crate) mod normalise;
mod parallel;
#[cfg(test)]
mod reference;
pub(crate) mod score;
mod scratch;
mod settings;
pub(crate) mod terms;

pub use settings::SelectionSettings;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::domain::StoredPaper;
use crate::domain::{PaperId, Pick, PickRef, Term, Topics};
use acronyms::Acronyms;
use index::PatternSet;
use matchers::about::Abouts;
use matchers::{Candidates, Distinct, Matcher, Matchers};
pub use meaning::Meaning;
use meaning::{Fused, FusedLists, ToFuse};
use normalise::Field;
pub(crate) use parallel::map as parallel_map;
pub use score::SelectionWeights;
use score::{Corpus, Hits};
use scratch::{SCRATCH, Scratch};
use terms::{Scope, Wanted};

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

/// Where a phrase's postings are: its own and its learned acronym's.
#[derive(Debug, Clone)]
struct CompiledPhrase {
    direct: u32,
    /// The expansion's term and the why line's "ViT = vision transformer".
    expansion: Option<(u32, String)>,
}

/// One paper's contribution from one term, for ranking and the why line.
type Posting = (u32, f64, Hits);

/// Why a paper matched one of a reader's terms.
#[derive(Debug, Clone)]
enum Reason {
    Phrase {
        term: usize,
        hits: Hits,
    },
    Expansion {
        term: usize,
        hits: Hits,
    },
    /// A piece of the why line a matcher said.
    Line {
        term: usize,
        line: String,
    },
    /// Close in meaning to a keyword, phrase or `about:` line ([`meaning`]).
    Meaning {
        term: usize,
    },
    /// Every part of `A AND B` matched: each part's own why line.
    All {
        term: usize,
        parts: Vec<String>,
    },
}

/// The candidate papers of a run, indexed for matching.
pub struct Selector {
    limits: SelectionLimits,
    /// Candidates in trending order: upvotes desc, then most recent first.
    papers: Vec<StoredPaper>,
    /// Per [`Scope`] (anywhere, title only, abstract only): phrase → its postings.
    phrases: [HashMap<String, CompiledPhrase>; 3],
    /// Term id → (paper, BM25 score, hits).
    postings: Vec<Vec<Posting>>,
    /// Every kind's matcher.
    kinds: Matchers,
    /// Phrases with nothing to match (no letters or digits): known, never matching.
    unmatchable: HashSet<String>,
    /// `A AND B`'s parts → the papers matching every part, with the parts' scores added.
    all: HashMap<Vec<Term>, Vec<(u32, f64)>>,
    acronyms: Acronyms,
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
    /// Keyword/phrase (anywhere) → its words and meaning fused ([`meaning::fuse`]), by paper.
    fused_phrases: FusedLists,
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
        let max_upvotes = papers
            .iter()
            .filter_map(|p| p.paper.upvotes)
            .max()
            .unwrap_or(0);
        let newest = papers.iter().map(date).max().unwrap_or_default();
        let texts: Vec<[Field; 3]> = parallel::map(&papers, |p| {
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
        // Every distinct term of every reader, compiled once.
        let terms: Vec<&Term> = terms.into_iter().collect();
        let mut wanted = Wanted::default();
        let mut distinct = Distinct::default();
        for &term in &terms {
            wanted.note(term);
            distinct.note(term);
        }
        let mut set = PatternSet::default();
        let mut phrases: [HashMap<String, CompiledPhrase>; 3] = Default::default();
        let mut unmatchable: HashSet<String> = HashSet::new();
        for &p in &wanted.phrases {
            match compile_phrase(p, &mut set, &acronyms) {
                Some(c) => {
                    phrases[Scope::Anywhere as usize].insert(p.to_string(), c);
                }
                None => {
                    unmatchable.insert(p.to_string());
                }
            }
        }
        // About words that are learned acronyms count their expansion too.
        let mut about_expansions: HashMap<&str, u32> = HashMap::new();
        for (word, long) in Abouts::acronym_words(&distinct.all, &acronyms) {
            if let Some(id) = set.add(long) {
                about_expansions.insert(word, id);
            }
        }
        let matcher = set.build();
        let mut hits_by_term: Vec<Vec<(u32, Hits)>> = vec![Vec::new(); matcher.terms()];
        let found = parallel::map(&texts, |[title, keywords, abs]| {
            matcher.find(title, keywords, abs)
        });
        for (i, hits) in found.into_iter().enumerate() {
            for (term, h) in hits {
                hits_by_term[term as usize].push((i as u32, h));
            }
        }
        // `ti:` and `abs:` phrases: the phrase's hits in that field only, as terms of their
        // own (their idf counts the papers with the phrase in that field).
        for &(scope, p) in &wanted.scoped {
            let Some(base) = phrases[Scope::Anywhere as usize].get(p).cloned() else {
                continue;
            };
            let mut derive = |id: u32| {
                let list: Vec<(u32, Hits)> = hits_by_term[id as usize]
                    .iter()
                    .map(|&(paper, h)| (paper, scope.restrict(h)))
                    .filter(|(_, h)| *h != Hits::default())
                    .collect();
                hits_by_term.push(list);
                (hits_by_term.len() - 1) as u32
            };
            let direct = derive(base.direct);
            let expansion = base.expansion.map(|(id, name)| (derive(id), name));
            phrases[scope as usize].insert(p.to_string(), CompiledPhrase { direct, expansion });
        }
        let abstract_lens: Vec<usize> = texts.iter().map(|t| t[2].tokens.len()).collect();
        let corpus = Corpus {
            papers: papers.len(),
            avg_abstract_len: abstract_lens.iter().sum::<usize>() as f64
                / papers.len().max(1) as f64,
        };
        let postings: Vec<Vec<Posting>> = hits_by_term
            .iter()
            .map(|list| {
                let idf = corpus.idf(list.len());
                list.iter()
                    .map(|&(p, h)| {
                        let s = idf * score::saturation(&w, h, abstract_lens[p as usize], &corpus);
                        (p, s, h)
                    })
                    .collect()
            })
            .collect();
        let expansion_hits: HashMap<&str, &[(u32, Hits)]> = about_expansions
            .iter()
            .map(|(w, id)| (*w, hits_by_term[*id as usize].as_slice()))
            .collect();
        let candidates = Candidates {
            papers: &papers,
            texts: &texts,
            abstract_lens: &abstract_lens,
            corpus,
            weights: w,
            meaning: meaning.as_ref(),
        };
        let kinds = Matchers::build(&candidates, &distinct, &expansion_hits);
        // Keywords and phrases by meaning too: each distinct one's words and meaning fused
        // once, here.
        let mut jobs: Vec<ToFuse> = Vec::new();
        for &p in &wanted.plain {
            let Some(c) = phrases[Scope::Anywhere as usize].get(p) else {
                continue;
            };
            let words = std::iter::once(c.direct)
                .chain(c.expansion.as_ref().map(|e| e.0))
                .fold(Vec::new(), |acc, t| {
                    let list: Vec<(u32, f64)> = postings[t as usize]
                        .iter()
                        .map(|&(p, s, _)| (p, s))
                        .collect();
                    terms::union_sum(&acc, &list)
                });
            // An acronym is read with its learned expansion ("LLM large language model").
            let text = match acronyms.long_of(p) {
                Some(long) => format!("{p} {long}"),
                None => p.to_string(),
            };
            jobs.push(ToFuse {
                key: p.to_string(),
                text,
                words,
            });
        }
        let fused_phrases = FusedLists::build(meaning.as_ref(), &w, jobs);
        // The blend's upvotes and recency parts depend on the paper only; ages are counted
        // from the most recent candidate's date (no clock here).
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
            terms = matcher.terms(),
            acronyms = acronyms.len(),
            "selection index built"
        );
        let mut selector = Selector {
            limits,
            papers,
            phrases,
            unmatchable,
            postings,
            kinds,
            all: HashMap::new(),
            acronyms,
            upvotes_part,
            recency_part,
            meta,
            index_of,
            meaning,
            fused_phrases,
        };
        selector.all = wanted
            .conjunctions
            .into_iter()
            .map(|parts| {
                let papers = selector.conjunction(parts);
                (parts.to_vec(), papers)
            })
            .collect();
        selector
    }

    /// A keyword, phrase or `about:` line's words and meaning fused, by paper, when terms
    /// are read by meaning too.
    fn fused(&self, term: &Term) -> Option<&[Fused]> {
        match term {
            Term::Phrase(p) => self.fused_phrases.get(p),
            _ => None,
        }
    }

    /// Whether keywords, phrases and `about:` lines are read by meaning too.
    pub fn reads_meaning(&self) -> bool {
        self.meaning.is_some()
    }

    /// The compiled postings of a keyword-like term (phrase, `ti:`, `abs:`).
    fn compiled(&self, term: &Term) -> Option<&CompiledPhrase> {
        let (scope, p) = Scope::of(term)?;
        self.phrases[scope as usize].get(p)
    }

    /// The postings of a compiled phrase: its own, then its learned expansion's.
    fn lists<'a>(&'a self, c: &CompiledPhrase) -> impl Iterator<Item = &'a [Posting]> + 'a {
        std::iter::once(c.direct)
            .chain(c.expansion.as_ref().map(|e| e.0))
            .map(|t| self.postings[t as usize].as_slice())
    }

    /// The papers one term matches with its relevance score, by paper (`AND`'s parts).
    fn scored(&self, term: &Term) -> Vec<(u32, f64)> {
        match term {
            Term::Phrase(_) | Term::Title(_) | Term::Abstract(_) => {
                let Some(c) = self.compiled(term) else {
                    return Vec::new();
                };
                self.lists(c).fold(Vec::new(), |acc, list| {
                    let list: Vec<(u32, f64)> = list.iter().map(|&(p, s, _)| (p, s)).collect();
                    terms::union_sum(&acc, &list)
                })
            }
            Term::Category(_) => self.kinds.categories.scores(term),
            Term::Author(_) => self.kinds.authors.scores(term),
            Term::About(_) => self.kinds.about.scores(term),
            Term::All(parts) => self.conjunction(parts),
        }
    }

    /// The papers matching every part, the parts' scores added.
    fn conjunction(&self, parts: &[Term]) -> Vec<(u32, f64)> {
        let mut acc: Option<Vec<(u32, f64)>> = None;
        for part in parts {
            let list = self.scored(part);
            let next = match &acc {
                None => list,
                Some(prev) => terms::intersect_sum(prev, &list),
            };
            let empty = next.is_empty();
            acc = Some(next);
            if empty {
                break;
            }
        }
        acc.unwrap_or_default()
    }

    /// Blocks every paper an exclusion of `topics` leaves out: keywords and phrases where it
    /// matters ([`terms::is_about`]: title or keywords, or said at least twice in the
    /// abstract, the phrase and its learned expansion counted together), strict ones at any
    /// mention, categories and authors literally.
    fn block_excluded(&self, topics: &Topics, s: &mut Scratch) {
        for x in &topics.exclude {
            match x {
                Term::Phrase(_) | Term::Title(_) | Term::Abstract(_) => {
                    if let Some(c) = self.compiled(x) {
                        self.about_phrase(c, &mut |p| s.block(p));
                    }
                }
                Term::Category(_) => self.kinds.categories.block_excluded(x, s),
                Term::Author(_) => self.kinds.authors.block_excluded(x, s),
                Term::About(_) | Term::All(_) => {}
            }
        }
        for x in &topics.exclude_strict {
            if let Some(c) = self.compiled(x) {
                for list in self.lists(c) {
                    list.iter().for_each(|&(p, _, _)| s.block(p));
                }
            }
        }
    }

    /// The papers about a compiled phrase ([`terms::is_about`]).
    fn about_phrase(&self, c: &CompiledPhrase, f: &mut impl FnMut(u32)) {
        let direct = &self.postings[c.direct as usize];
        let expansion = c
            .expansion
            .as_ref()
            .map_or(&[][..], |e| self.postings[e.0 as usize].as_slice());
        let other = |list: &[Posting], paper: u32| {
            list.binary_search_by_key(&paper, |(p, _, _)| *p)
                .ok()
                .map(|i| list[i].2)
        };
        for &(paper, _, h) in direct {
            let mut h = h;
            if let Some(x) = other(expansion, paper) {
                h.abstract_text = h.abstract_text.saturating_add(x.abstract_text);
                h.title = h.title.saturating_add(x.title);
                h.keywords = h.keywords.saturating_add(x.keywords);
            }
            if terms::is_about(h) {
                f(paper);
            }
        }
        for &(paper, _, h) in expansion {
            if other(direct, paper).is_none() && terms::is_about(h) {
                f(paper);
            }
        }
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
        self.acronyms.len()
    }

    /// Whether every term and exclusion of `topics` was indexed, so that [`Selector::select`]
    /// answers for them (a reader whose topics changed after the index was built is not).
    pub fn covers(&self, topics: &Topics) -> bool {
        topics.indexed_terms().all(|t| match t {
            Term::Phrase(p) | Term::Title(p) | Term::Abstract(p) => {
                self.compiled(t).is_some() || self.unmatchable.contains(p)
            }
            Term::Category(_) => true,
            Term::Author(_) => self.kinds.authors.covers(t),
            Term::About(_) => self.kinds.about.covers(t),
            Term::All(parts) => self.all.contains_key(parts.as_slice()),
        })
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
        ranked
            .into_iter()
            .map(|paper| {
                (
                    paper,
                    self.describe(topics, self.reasons_for(topics, paper)),
                )
            })
            .collect()
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
            if let Some(list) = self.fused(term) {
                for f in list {
                    s.add(f.paper, f.score);
                }
                continue;
            }
            match term {
                Term::Phrase(_) | Term::Title(_) | Term::Abstract(_) => {
                    let Some(c) = self.compiled(term) else {
                        continue;
                    };
                    for list in self.lists(c) {
                        for &(paper, score, _) in list {
                            s.add(paper, score);
                        }
                    }
                }
                Term::All(parts) => {
                    for &(paper, score) in self
                        .all
                        .get(parts.as_slice())
                        .map_or(&[][..], Vec::as_slice)
                    {
                        s.add(paper, score);
                    }
                }
                Term::Category(_) => self.kinds.categories.add_scores(term, s),
                Term::Author(_) => self.kinds.authors.add_scores(term, s),
                Term::About(_) => self.kinds.about.add_scores(term, s),
            }
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

    /// Why `paper` matched `topics`, looked up in the (paper-sorted) postings.
    fn reasons_for(&self, topics: &Topics, paper: u32) -> Vec<Reason> {
        self.reasons(topics, paper, true)
    }

    /// [`Selector::reasons_for`]; `meaning` false for the parts of `A AND B`, which match
    /// by their words alone.
    fn reasons(&self, topics: &Topics, paper: u32, meaning: bool) -> Vec<Reason> {
        let find = |list: &[Posting]| {
            list.binary_search_by_key(&paper, |(p, _, _)| *p)
                .ok()
                .map(|i| list[i].2)
        };
        let mut reasons = Vec::new();
        for (term, t) in topics.terms.iter().enumerate() {
            if let Some(list) = self.fused(t).filter(|_| meaning) {
                match list.binary_search_by_key(&paper, |f| f.paper) {
                    Ok(i) if list[i].by_meaning => reasons.push(Reason::Meaning { term }),
                    Ok(_) => {}
                    // Not in the fused list: the term did not pick this paper.
                    Err(_) => continue,
                }
            }
            match t {
                Term::Phrase(_) | Term::Title(_) | Term::Abstract(_) => {
                    let Some(c) = self.compiled(t) else {
                        continue;
                    };
                    if let Some(hits) = find(&self.postings[c.direct as usize]) {
                        reasons.push(Reason::Phrase { term, hits });
                    }
                    if let Some((x, _)) = &c.expansion
                        && let Some(hits) = find(&self.postings[*x as usize])
                    {
                        reasons.push(Reason::Expansion { term, hits });
                    }
                }
                Term::All(parts) => {
                    let matched = self
                        .all
                        .get(parts.as_slice())
                        .is_some_and(|l| l.binary_search_by_key(&paper, |(p, _)| *p).is_ok());
                    if matched {
                        let parts = parts
                            .iter()
                            .map(|part| {
                                let only = Topics {
                                    terms: vec![part.clone()],
                                    ..Topics::default()
                                };
                                self.describe(&only, self.reasons(&only, paper, false))
                                    .join(", ")
                            })
                            .collect();
                        reasons.push(Reason::All { term, parts });
                    }
                }
                Term::Category(_) | Term::Author(_) | Term::About(_) => {
                    let mut lines = Vec::new();
                    let kind: &dyn Matcher = match t {
                        Term::Category(_) => &self.kinds.categories,
                        Term::Author(_) => &self.kinds.authors,
                        _ => &self.kinds.about,
                    };
                    if meaning {
                        kind.why(t, paper, &self.kinds, &mut lines);
                    } else {
                        kind.why_by_words(t, paper, &self.kinds, &mut lines);
                    }
                    reasons.extend(lines.into_iter().map(|line| Reason::Line { term, line }));
                }
            }
        }
        reasons
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

    /// The why line's pieces, in the order of the reader's terms.
    fn describe(&self, topics: &Topics, mut reasons: Vec<Reason>) -> Vec<String> {
        let order = |r: &Reason| match r {
            Reason::Phrase { term, .. } | Reason::Line { term, .. } | Reason::All { term, .. } => {
                (*term, 0)
            }
            Reason::Expansion { term, .. } => (*term, 1),
            Reason::Meaning { term } => (*term, 2),
        };
        reasons.sort_by_key(order);
        let mut out = Vec::new();
        for r in reasons {
            let line = match r {
                Reason::Phrase { term, hits } => {
                    let t = &topics.terms[term];
                    let name = t.phrase().map_or_else(|| t.to_string(), str::to_string);
                    format!("{name}: {}", hits.describe())
                }
                Reason::Expansion { term, hits } => {
                    let t = &topics.terms[term];
                    let name = self
                        .compiled(t)
                        .and_then(|c| c.expansion.as_ref())
                        .map(|e| e.1.clone())
                        .or_else(|| t.phrase().map(str::to_string))
                        .unwrap_or_else(|| t.to_string());
                    format!("{name}: {}", hits.describe())
                }
                Reason::All { parts, .. } => parts.join(" AND "),
                Reason::Meaning { term } => match &topics.terms[term] {
                    Term::About(a) => format!("close in meaning to your interest “{a}”"),
                    t => format!(
                        "close in meaning to “{}”",
                        t.phrase().map_or_else(|| t.to_string(), str::to_string)
                    ),
                },
                Reason::Line { line, .. } => line,
            };
            out.push(line);
        }
        out
    }
}

/// A phrase and, when the papers define it as an acronym or it is one, its other spelling.
fn compile_phrase(p: &str, set: &mut PatternSet, acronyms: &Acronyms) -> Option<CompiledPhrase> {
    let direct = set.add(p)?;
    let expansion = if let Some(long) = acronyms.long_of(p) {
        set.add(long).map(|id| (id, format!("{p} = {long}")))
    } else {
        let norm = normalise::normalise(p);
        acronyms
            .short_of(&norm)
            .and_then(|short| set.add(short).map(|id| (id, format!("{p} = {short}"))))
    };
    Some(CompiledPhrase { direct, expansion })
}

/// The HF keywords as one field, each keyword a clause of its own.
fn keywords_text(keywords: &[String]) -> String {
    keywords.join("; ")
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
