//! Interests in plain words (`about:"equivariance and symmetry in deep learning"`): the
//! papers whose text is similar enough to the description ([`similarity`]: its words
//! stemmed, a learned acronym counting its expansion too), scored `about_score` ×
//! similarity, and, when terms are read by meaning too, the papers close to it in meaning
//! ([`crate::selection::meaning`]). Never excluded: `-about:` is no item.
use std::collections::HashMap;

use super::{Candidates, Matcher, Matchers};
use crate::domain::Term;
use crate::selection::acronyms::Acronyms;
use crate::selection::meaning::{FusedLists, ToFuse};
use crate::selection::score::Hits;
use crate::selection::scratch::Scratch;

pub(crate) mod similarity;

use similarity::{AboutWord, Similar, WordIndex};

/// Each `about:` text of the run → the papers similar enough to it.
#[derive(Debug)]
pub(crate) struct Abouts {
    matches: HashMap<String, AboutMatches>,
    /// `about:` text → its similarity and meaning fused, when read by meaning too.
    fused: FusedLists,
    score: f64,
}

/// The papers similar enough to one `about:` interest.
#[derive(Debug)]
struct AboutMatches {
    /// The description's content words ([`similarity::Carrying`] points into them).
    words: Vec<String>,
    /// By paper.
    papers: Vec<Similar>,
}

impl AboutMatches {
    /// "about: equivariance · symmetry", the words that weighed most, when `paper` is
    /// similar enough.
    fn why(&self, paper: u32, out: &mut Vec<String>) {
        if let Ok(i) = self.papers.binary_search_by_key(&paper, |s| s.paper) {
            let words = self.papers[i].carrying.words(&self.words);
            out.push(format!("about: {}", words.join(" · ")));
        }
    }
}

/// The `about:` texts among `terms`.
fn about_texts<'t>(terms: &[&'t Term]) -> impl Iterator<Item = &'t str> {
    terms.iter().filter_map(|t| match t {
        Term::About(a) => Some(a.as_str()),
        _ => None,
    })
}

/// A description's words as written, without the punctuation around them.
fn written(description: &str) -> impl Iterator<Item = &str> {
    description
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
}

impl Abouts {
    /// The words of the `about:` texts among `terms` that are learned acronyms, each once,
    /// with its long form: matched as a phrase, whose hits [`Abouts::build`] counts as the
    /// word's.
    pub(crate) fn acronym_words<'t>(
        terms: &[&'t Term],
        acronyms: &'t Acronyms,
    ) -> Vec<(&'t str, &'t str)> {
        let mut out: Vec<(&str, &str)> = Vec::new();
        for a in about_texts(terms) {
            for word in written(a) {
                if let Some(long) = acronyms.long_of(word)
                    && !out.iter().any(|(w, _)| *w == word)
                {
                    out.push((word, long));
                }
            }
        }
        out
    }

    /// Scores the candidates against every `about:` text among `terms`; `expansions` are
    /// the hits of [`Abouts::acronym_words`]' long forms, by word.
    pub(crate) fn build(
        c: &Candidates<'_>,
        terms: &[&Term],
        expansions: &HashMap<&str, &[(u32, Hits)]>,
    ) -> Abouts {
        let w = &c.weights;
        let texts: Vec<&str> = about_texts(terms).collect();
        let mut matches = HashMap::new();
        if !texts.is_empty() {
            let mut words_index = WordIndex::default();
            for (i, [title, keywords, abs]) in c.texts.iter().enumerate() {
                words_index.add(i as u32, title, keywords, abs);
            }
            words_index.score(c.abstract_lens, &c.corpus, w);
            let found = crate::selection::parallel::map_with(
                &texts,
                similarity::Scratch::default,
                |scratch, a| {
                    let written: Vec<&str> = written(a).collect();
                    let words: Vec<AboutWord<'_>> = similarity::content_words(a)
                        .into_iter()
                        .map(|(word, stem)| {
                            let extra = written
                                .iter()
                                .find(|w| w.to_lowercase() == word)
                                .and_then(|w| expansions.get(w))
                                .copied()
                                .unwrap_or(&[]);
                            AboutWord { word, stem, extra }
                        })
                        .collect();
                    let papers = similarity::similar_papers(
                        &words,
                        &words_index,
                        c.abstract_lens,
                        &c.corpus,
                        w,
                        scratch,
                    );
                    AboutMatches {
                        words: words.into_iter().map(|w| w.word).collect(),
                        papers,
                    }
                },
            );
            matches = texts.iter().map(|a| a.to_string()).zip(found).collect();
        }
        let mut abouts = Abouts {
            matches,
            fused: FusedLists::default(),
            score: w.about_score,
        };
        let to_fuse = abouts
            .matches
            .keys()
            .map(|a| ToFuse {
                key: a.clone(),
                text: a.clone(),
                words: abouts.words_scores(a),
            })
            .collect();
        abouts.fused = FusedLists::build(c.meaning, w, to_fuse);
        abouts
    }

    /// The papers similar enough to `about`, scored, by paper.
    fn words_scores(&self, about: &str) -> Vec<(u32, f64)> {
        self.similar(about)
            .iter()
            .map(|m| (m.paper, self.score * m.similarity))
            .collect()
    }

    fn similar(&self, about: &str) -> &[Similar] {
        self.matches.get(about).map_or(&[], |m| m.papers.as_slice())
    }
}

/// The `about:` text of `term`.
fn text(term: &Term) -> &str {
    match term {
        Term::About(a) => a,
        _ => "",
    }
}

impl Matcher for Abouts {
    fn covers(&self, term: &Term) -> bool {
        matches!(term, Term::About(a) if self.matches.contains_key(a))
    }

    #[inline]
    fn add_scores(&self, term: &Term, s: &mut Scratch) {
        let a = text(term);
        if let Some(list) = self.fused.get(a) {
            for f in list {
                s.add(f.paper, f.score);
            }
            return;
        }
        for m in self.similar(a) {
            s.add(m.paper, self.score * m.similarity);
        }
    }

    fn scores(&self, term: &Term) -> Vec<(u32, f64)> {
        self.words_scores(text(term))
    }

    /// "about: equivariance · symmetry", the words that weighed most.
    fn why_by_words(&self, term: &Term, papers: &[u32], _: &Matchers, out: &mut [Vec<String>]) {
        let Some(m) = self.matches.get(text(term)) else {
            return;
        };
        for (&paper, out) in papers.iter().zip(out) {
            m.why(paper, out);
        }
    }

    fn why(&self, term: &Term, papers: &[u32], _: &Matchers, out: &mut [Vec<String>]) {
        let a = text(term);
        let m = self.matches.get(a);
        self.fused.why(
            a,
            papers,
            out,
            |paper, out| {
                if let Some(m) = m {
                    m.why(paper, out);
                }
            },
            || format!("close in meaning to your interest “{a}”"),
        );
    }

    #[cfg(test)]
    fn score_of(&self, term: &Term, paper: u32, add: &mut dyn FnMut(f64)) {
        let a = text(term);
        if let Some(list) = self.fused.get(a) {
            if let Some(f) = list.iter().find(|f| f.paper == paper) {
                add(f.score);
            }
            return;
        }
        if let Some(m) = self.similar(a).iter().find(|m| m.paper == paper) {
            add(self.score * m.similarity);
        }
    }
}
