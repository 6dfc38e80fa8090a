//! SELECTION: which stored papers each reader gets, ranked, and why. Pure: no I/O, no clock.
//!
//! How topics combine (see [`crate::domain::Topics`] for the syntax): a paper is picked when
//! it matches **any** keyword/phrase (title, HF keywords or abstract, after the one
//! normalisation of [`normalise`], with word forms from [`forms`] and acronyms learned by
//! [`acronyms`]), **any** category, **any** author ([`authors`]) or is similar enough to an
//! `about:` interest ([`about`]); **and** it has at least `min_upvotes` HF upvotes when that
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
pub(crate) mod about;
pub(crate) mod acronyms;
pub(crate) mod authors;
pub(crate) mod forms;
pub(crate) mod index;
pub(crate) mod normalise;
pub(crate) mod score;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::domain::StoredPaper;
use crate::domain::{PaperId, Pick, Term, Topics};
use about::{AboutWord, WordIndex};
use acronyms::Acronyms;
use authors::Name;
use index::PatternSet;
use normalise::Field;
pub use score::SelectionWeights;
use score::{Corpus, Hits};

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
    Phrase { term: usize, hits: Hits },
    Expansion { term: usize, hits: Hits },
    Category { term: usize },
    Author { term: usize },
    About { term: usize, words: Vec<String> },
}

/// The candidate papers of a run, indexed for matching.
pub struct Selector {
    limits: SelectionLimits,
    /// Candidates in trending order: upvotes desc, then most recent first.
    papers: Vec<StoredPaper>,
    max_upvotes: u32,
    /// The most recent date among the candidates: ages are counted from it (no clock here).
    newest: DateTime<Utc>,
    phrases: HashMap<String, CompiledPhrase>,
    /// Term id → (paper, BM25 score, hits).
    postings: Vec<Vec<Posting>>,
    /// Lower-case category code or archive → papers.
    categories: HashMap<String, Vec<u32>>,
    /// Author as a reader wrote it → papers.
    authors: HashMap<String, Vec<u32>>,
    /// `about:` text → (paper, similarity, carrying words).
    about: HashMap<String, Vec<(u32, f64, Vec<String>)>>,
    acronyms: Acronyms,
}

impl Selector {
    /// Indexes `papers` for every term used by `topics` (terms and exclusions). Only those
    /// topics can be selected for afterwards.
    pub fn new<'a>(
        mut papers: Vec<StoredPaper>,
        topics: impl IntoIterator<Item = &'a Topics>,
        limits: SelectionLimits,
    ) -> Selector {
        let w = limits.weights;
        papers.sort_by(|a, b| {
            let up = |p: &StoredPaper| p.paper.upvotes.unwrap_or(0);
            up(b)
                .cmp(&up(a))
                .then(date(b).cmp(&date(a)))
                .then(b.first_seen.cmp(&a.first_seen))
                .then(a.paper.id.cmp(&b.paper.id))
        });
        let max_upvotes = papers
            .iter()
            .filter_map(|p| p.paper.upvotes)
            .max()
            .unwrap_or(0);
        let newest = papers.iter().map(date).max().unwrap_or_default();
        let texts: Vec<[Field; 3]> = papers
            .iter()
            .map(|p| {
                [
                    Field::new(&p.paper.title),
                    Field::new(&keywords_text(&p.paper.ai_keywords)),
                    Field::new(&p.paper.abstract_text),
                ]
            })
            .collect();
        let acronyms = Acronyms::learn(
            papers
                .iter()
                .flat_map(|p| [p.paper.title.as_str(), p.paper.abstract_text.as_str()]),
        );
        // Every distinct term of every reader, compiled once.
        let mut set = PatternSet::default();
        let mut phrases: HashMap<String, CompiledPhrase> = HashMap::new();
        let mut author_terms: HashSet<String> = HashSet::new();
        let mut about_terms: HashSet<String> = HashSet::new();
        for t in topics {
            for term in t.terms.iter().chain(&t.exclude) {
                match term {
                    Term::Phrase(p) if !phrases.contains_key(p) => {
                        if let Some(c) = compile_phrase(p, &mut set, &acronyms) {
                            phrases.insert(p.clone(), c);
                        }
                    }
                    Term::Author(a) => {
                        author_terms.insert(a.clone());
                    }
                    Term::About(a) => {
                        about_terms.insert(a.clone());
                    }
                    _ => {}
                }
            }
        }
        // About words that are learned acronyms count their expansion too.
        let mut about_expansions: HashMap<String, u32> = HashMap::new();
        for a in &about_terms {
            for word in a.split_whitespace() {
                let word = word.trim_matches(|c: char| !c.is_alphanumeric());
                if let Some(long) = acronyms.long_of(word)
                    && !about_expansions.contains_key(word)
                    && let Some(id) = set.add(long)
                {
                    about_expansions.insert(word.to_string(), id);
                }
            }
        }
        let matcher = set.build();
        let mut hits_by_term: Vec<Vec<(u32, Hits)>> = vec![Vec::new(); matcher.terms()];
        for (i, [title, keywords, abs]) in texts.iter().enumerate() {
            for (term, h) in matcher.find(title, keywords, abs) {
                hits_by_term[term as usize].push((i as u32, h));
            }
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
        let mut categories: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, p) in papers.iter().enumerate() {
            let mut keys: Vec<String> = Vec::new();
            for c in &p.paper.categories {
                let lower = c.to_lowercase();
                if let Some((archive, _)) = lower.split_once('.') {
                    keys.push(archive.to_string());
                }
                keys.push(lower);
            }
            keys.sort();
            keys.dedup();
            for k in keys {
                categories.entry(k).or_default().push(i as u32);
            }
        }
        let authors = index_authors(&papers, &author_terms);
        let mut about = HashMap::new();
        if !about_terms.is_empty() {
            let mut words_index = WordIndex::default();
            for (i, [title, keywords, abs]) in texts.iter().enumerate() {
                words_index.add(i as u32, title, keywords, abs);
            }
            let expansion_hits: HashMap<&str, &[(u32, Hits)]> = about_expansions
                .iter()
                .map(|(w, id)| (w.as_str(), hits_by_term[*id as usize].as_slice()))
                .collect();
            for a in about_terms {
                let written: Vec<&str> = a
                    .split_whitespace()
                    .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
                    .collect();
                let words: Vec<AboutWord<'_>> = about::content_words(&a)
                    .into_iter()
                    .map(|(word, stem)| {
                        let extra = written
                            .iter()
                            .find(|w| w.to_lowercase() == word)
                            .and_then(|w| expansion_hits.get(w))
                            .copied()
                            .unwrap_or(&[]);
                        AboutWord { word, stem, extra }
                    })
                    .collect();
                let similar =
                    about::similar_papers(&words, &words_index, &abstract_lens, &corpus, &w);
                about.insert(a, similar);
            }
        }
        tracing::debug!(
            papers = papers.len(),
            terms = matcher.terms(),
            acronyms = acronyms.len(),
            "selection index built"
        );
        Selector {
            limits,
            papers,
            max_upvotes,
            newest,
            phrases,
            postings,
            categories,
            authors,
            about,
            acronyms,
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

    /// The digest picks for one reader: papers first stored at or after `window_start`,
    /// not in `already_sent`, matching `topics`, ranked and capped. Empty when nothing matches.
    pub fn select(
        &self,
        topics: &Topics,
        window_start: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> Vec<Pick> {
        if topics.terms.is_empty() {
            return self.select_trending(topics, window_start, already_sent);
        }
        let w = &self.limits.weights;
        // A dense score per candidate and the list of those touched: no map, no per-paper
        // allocation; why lines are built for the k picks only.
        let mut rel = vec![0.0f64; self.papers.len()];
        let mut seen = vec![false; self.papers.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut add = |paper: u32, s: f64| {
            let i = paper as usize;
            if !seen[i] {
                seen[i] = true;
                touched.push(paper);
            }
            rel[i] += s;
        };
        for term in &topics.terms {
            match term {
                Term::Phrase(p) => {
                    let Some(c) = self.phrases.get(p) else {
                        continue;
                    };
                    let terms = std::iter::once(c.direct).chain(c.expansion.as_ref().map(|e| e.0));
                    for t in terms {
                        for &(paper, s, _) in &self.postings[t as usize] {
                            add(paper, s);
                        }
                    }
                }
                Term::Category(c) => {
                    for &paper in self.category_papers(c) {
                        add(paper, w.category_score);
                    }
                }
                Term::Author(a) => {
                    for &paper in self.authors.get(a).map_or(&[][..], Vec::as_slice) {
                        add(paper, w.author_score);
                    }
                }
                Term::About(a) => {
                    for (paper, sim, _) in self.about.get(a).map_or(&[][..], Vec::as_slice) {
                        add(*paper, w.about_score * sim);
                    }
                }
            }
        }
        let excluded = self.excluded(topics);
        let mut ranked: Vec<(f64, u32)> = touched
            .into_iter()
            .filter(|paper| !excluded.contains(paper))
            .filter(|paper| self.eligible(*paper, topics, window_start, already_sent))
            .map(|paper| {
                let p = &self.papers[paper as usize];
                let age = (self.newest - date(p)).num_minutes() as f64 / 1440.0;
                let up = p.paper.upvotes.unwrap_or(0);
                let s = score::blend(w, rel[paper as usize], up, self.max_upvotes, age);
                (s, paper)
            })
            .collect();
        let order = |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        let k = self.limits.max_papers;
        if ranked.len() > k && k > 0 {
            ranked.select_nth_unstable_by(k - 1, order);
            ranked.truncate(k);
        }
        ranked.sort_by(order);
        ranked.truncate(k);
        ranked
            .into_iter()
            .map(|(_, paper)| Pick {
                paper: self.papers[paper as usize].paper.clone(),
                reasons: self.describe(topics, self.reasons_for(topics, paper)),
            })
            .collect()
    }

    /// Why `paper` matched `topics`, looked up in the (paper-sorted) postings.
    fn reasons_for(&self, topics: &Topics, paper: u32) -> Vec<Reason> {
        let find = |list: &[Posting]| {
            list.binary_search_by_key(&paper, |(p, _, _)| *p)
                .ok()
                .map(|i| list[i].2)
        };
        let mut reasons = Vec::new();
        for (term, t) in topics.terms.iter().enumerate() {
            match t {
                Term::Phrase(p) => {
                    let Some(c) = self.phrases.get(p) else {
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
                Term::Category(c) => {
                    if self.category_papers(c).binary_search(&paper).is_ok() {
                        reasons.push(Reason::Category { term });
                    }
                }
                Term::Author(a) => {
                    if self
                        .authors
                        .get(a)
                        .is_some_and(|l| l.binary_search(&paper).is_ok())
                    {
                        reasons.push(Reason::Author { term });
                    }
                }
                Term::About(a) => {
                    if let Some(list) = self.about.get(a)
                        && let Ok(i) = list.binary_search_by_key(&paper, |(p, _, _)| *p)
                    {
                        reasons.push(Reason::About {
                            term,
                            words: list[i].2.clone(),
                        });
                    }
                }
            }
        }
        reasons
    }

    /// The public (non-personalised) digest of the window: the top papers by upvotes.
    pub fn trending(&self, window_start: DateTime<Utc>) -> Vec<Pick> {
        self.select(&Topics::default(), window_start, &HashSet::new())
    }

    fn select_trending(
        &self,
        topics: &Topics,
        window_start: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> Vec<Pick> {
        let excluded = self.excluded(topics);
        (0..self.papers.len() as u32)
            .filter(|i| !excluded.contains(i))
            .filter(|i| self.eligible(*i, topics, window_start, already_sent))
            .take(self.limits.max_papers)
            .map(|i| {
                let p = &self.papers[i as usize];
                Pick {
                    paper: p.paper.clone(),
                    reasons: trending_reason(p),
                }
            })
            .collect()
    }

    fn eligible(
        &self,
        paper: u32,
        topics: &Topics,
        window_start: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> bool {
        let p = &self.papers[paper as usize];
        p.first_seen >= window_start
            && p.paper
                .id
                .as_ref()
                .is_some_and(|id| !already_sent.contains(id))
            && topics
                .min_upvotes
                .is_none_or(|min| p.paper.upvotes.unwrap_or(0) >= min)
    }

    fn category_papers(&self, code: &str) -> &[u32] {
        self.categories
            .get(&code.to_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// Papers any excluded term matches (anywhere, however weakly).
    fn excluded(&self, topics: &Topics) -> HashSet<u32> {
        let mut out = HashSet::new();
        for x in &topics.exclude {
            match x {
                Term::Phrase(p) => {
                    if let Some(c) = self.phrases.get(p) {
                        let terms =
                            std::iter::once(c.direct).chain(c.expansion.as_ref().map(|e| e.0));
                        for t in terms {
                            out.extend(self.postings[t as usize].iter().map(|(p, _, _)| *p));
                        }
                    }
                }
                Term::Category(c) => out.extend(self.category_papers(c)),
                Term::Author(a) => out.extend(self.authors.get(a).into_iter().flatten()),
                Term::About(_) => {}
            }
        }
        out
    }

    /// The why line's pieces, in the order of the reader's terms.
    fn describe(&self, topics: &Topics, mut reasons: Vec<Reason>) -> Vec<String> {
        let order = |r: &Reason| match r {
            Reason::Phrase { term, .. } | Reason::Category { term } | Reason::Author { term } => {
                (*term, 0)
            }
            Reason::Expansion { term, .. } => (*term, 1),
            Reason::About { term, .. } => (*term, 0),
        };
        reasons.sort_by_key(order);
        let mut out = Vec::new();
        for r in reasons {
            let line = match r {
                Reason::Phrase { term, hits } => {
                    format!("{}: {}", topics.terms[term], hits.describe())
                }
                Reason::Expansion { term, hits } => {
                    let name = match &topics.terms[term] {
                        Term::Phrase(p) => self
                            .phrases
                            .get(p)
                            .and_then(|c| c.expansion.as_ref())
                            .map_or_else(|| p.clone(), |e| e.1.clone()),
                        other => other.to_string(),
                    };
                    format!("{name}: {}", hits.describe())
                }
                Reason::Category { term } | Reason::Author { term } => {
                    topics.terms[term].to_string()
                }
                Reason::About { words, .. } => format!("about: {}", words.join(" · ")),
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

/// Each reader's author names → the candidates with that author, through a surname index.
fn index_authors(papers: &[StoredPaper], wanted: &HashSet<String>) -> HashMap<String, Vec<u32>> {
    if wanted.is_empty() {
        return HashMap::new();
    }
    let mut by_surname: HashMap<String, Vec<(u32, Name)>> = HashMap::new();
    let mut by_full: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, p) in papers.iter().enumerate() {
        for a in &p.paper.authors {
            let name = Name::parse(a);
            by_full.entry(name.full.clone()).or_default().push(i as u32);
            by_surname
                .entry(name.surname.clone())
                .or_default()
                .push((i as u32, name));
        }
    }
    let mut out = HashMap::new();
    for w in wanted {
        let q = Name::parse(w);
        let mut found: Vec<u32> = by_full.get(&q.full).cloned().unwrap_or_default();
        if let Some(list) = by_surname.get(&q.surname) {
            found.extend(list.iter().filter(|(_, n)| n.is(&q)).map(|(i, _)| *i));
        }
        found.sort_unstable();
        found.dedup();
        out.insert(w.clone(), found);
    }
    out
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
