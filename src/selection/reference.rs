//! The straightforward selection the optimised one is tested against
//! (`tests::same_as_reference`): every candidate scored term by term, each matcher looking
//! the paper up in its index ([`Matcher::score_of`], not the scan of
//! [`Matcher::add_scores`]), each exclusion decided for each paper alone
//! ([`Matcher::excludes`]), the window checked on the paper itself, a full blend and a full
//! sort.
//!
//! [`Matcher::score_of`]: super::matchers::Matcher::score_of
//! [`Matcher::add_scores`]: super::matchers::Matcher::add_scores
//! [`Matcher::excludes`]: super::matchers::Matcher::excludes
use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::score;
use super::{Selector, date};
use crate::domain::{PaperId, Pick, Topics};

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
                self.kinds.score_of(term, paper, &mut add);
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
        // Each paper's why line on its own.
        ranked
            .into_iter()
            .map(|(_, paper)| Pick {
                paper: self.papers[paper as usize].paper.clone(),
                reasons: self.why(topics, &[paper]).pop().unwrap_or_default(),
            })
            .collect()
    }

    /// Whether an exclusion of `topics` leaves `paper` out, decided for this paper alone
    /// (the reference of [`Selector::block_excluded`]).
    fn excluded_reference(&self, topics: &Topics, paper: u32) -> bool {
        topics.exclude.iter().any(|x| self.kinds.excludes(x, paper))
            || topics
                .exclude_strict
                .iter()
                .any(|x| self.kinds.phrases.mentions(x, paper))
    }
}
