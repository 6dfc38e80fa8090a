//! The straightforward selection the optimised one is tested against
//! (`tests::same_as_reference`): every candidate scored term by term from the index, each
//! exclusion decided for each paper alone, a full blend and a full sort.
use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::matchers::Matcher;
use super::score::{self, Hits};
use super::terms;
use super::{Posting, Selector, date};
use crate::domain::{PaperId, Pick, Term, Topics};

impl Selector {
    /// The picks of the straightforward algorithm: every candidate scored from its
    /// postings, sets for exclusions, a full blend and a full sort. The reference the
    /// optimised [`Selector::select`] is tested against.
    pub(super) fn select_reference(
        &self,
        topics: &Topics,
        window_start: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> Vec<Pick> {
        if topics.terms.is_empty() {
            return self.select(topics, window_start, already_sent);
        }
        let w = &self.limits.weights;
        let find = |list: &[Posting], paper: u32| {
            list.binary_search_by_key(&paper, |(p, _, _)| *p)
                .ok()
                .map(|i| list[i].1)
        };
        let excluded: HashSet<u32> = (0..self.papers.len() as u32)
            .filter(|&paper| self.excluded_reference(topics, paper))
            .collect();
        let max_upvotes = self.papers.iter().filter_map(|p| p.paper.upvotes).max();
        let newest = self.papers.iter().map(date).max().unwrap_or_default();
        let mut ranked: Vec<(f64, u32)> = Vec::new();
        for paper in 0..self.papers.len() as u32 {
            let mut rel = 0.0;
            let mut matched = false;
            for term in &topics.terms {
                let mut add = |s: f64| {
                    rel += s;
                    matched = true;
                };
                if let Some(list) = self.fused(term) {
                    if let Some(f) = list.iter().find(|f| f.paper == paper) {
                        add(f.score);
                    }
                    continue;
                }
                match term {
                    Term::Phrase(_) | Term::Title(_) | Term::Abstract(_) => {
                        let Some(c) = self.compiled(term) else {
                            continue;
                        };
                        for list in self.lists(c) {
                            if let Some(s) = find(list, paper) {
                                add(s);
                            }
                        }
                    }
                    Term::All(parts) => {
                        let list = self
                            .all
                            .get(parts.as_slice())
                            .map_or(&[][..], Vec::as_slice);
                        if let Ok(i) = list.binary_search_by_key(&paper, |(p, _)| *p) {
                            add(list[i].1);
                        }
                    }
                    Term::Category(_) => self.kinds.categories.score_of(term, paper, &mut add),
                    Term::Author(_) => self.kinds.authors.score_of(term, paper, &mut add),
                    Term::About(_) => self.kinds.about.score_of(term, paper, &mut add),
                }
            }
            let p = &self.papers[paper as usize];
            let eligible = p.first_seen >= window_start
                && p.paper
                    .id
                    .as_ref()
                    .is_some_and(|id| !already_sent.contains(id))
                && topics
                    .min_upvotes
                    .is_none_or(|min| p.paper.upvotes.unwrap_or(0) >= min);
            if !matched || excluded.contains(&paper) || !eligible {
                continue;
            }
            let age = (newest - date(p)).num_minutes() as f64 / 1440.0;
            let up = p.paper.upvotes.unwrap_or(0);
            let score = score::blend(w, rel, up, max_upvotes.unwrap_or(0), age);
            ranked.push((score, paper));
        }
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.truncate(self.limits.max_papers);
        ranked
            .into_iter()
            .map(|(_, paper)| Pick {
                paper: self.papers[paper as usize].paper.clone(),
                reasons: self.describe(topics, self.reasons_for(topics, paper)),
            })
            .collect()
    }

    /// Whether an exclusion of `topics` leaves `paper` out, decided for this paper alone
    /// (the reference of [`Selector::block_excluded`]).
    fn excluded_reference(&self, topics: &Topics, paper: u32) -> bool {
        let hits = |term: &Term| -> Option<Hits> {
            let c = self.compiled(term)?;
            let mut sum: Option<Hits> = None;
            for list in self.lists(c) {
                if let Some(&(_, _, h)) = list.iter().find(|(p, _, _)| *p == paper) {
                    let s = sum.get_or_insert_with(Hits::default);
                    s.title += h.title;
                    s.keywords += h.keywords;
                    s.abstract_text += h.abstract_text;
                }
            }
            sum
        };
        let soft = topics.exclude.iter().any(|x| match x {
            Term::Phrase(_) | Term::Title(_) | Term::Abstract(_) => {
                hits(x).is_some_and(terms::is_about)
            }
            Term::Category(_) => self.kinds.categories.excludes(x, paper),
            Term::Author(_) => self.kinds.authors.excludes(x, paper),
            Term::About(_) | Term::All(_) => false,
        });
        soft || topics.exclude_strict.iter().any(|x| hits(x).is_some())
    }
}
