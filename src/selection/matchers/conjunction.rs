//! `A AND B` (two to six keywords, phrases, `ti:`/`abs:` phrases, categories or authors):
//! the papers every part picks by its words, scored the sum of the parts' scores, with a
//! why line naming each part's ("diffusion: title AND cs.CV"). Never excluded.
use std::collections::HashMap;

use super::{Matcher, Matchers};
use crate::domain::Term;
use crate::selection::lists::intersect_sum;
use crate::selection::scratch::Scratch;

/// Each conjunction of the run (its parts) → the papers every part picks, with the parts'
/// scores added, by paper.
#[derive(Debug, Default)]
pub(crate) struct Conjunctions {
    papers: HashMap<Vec<Term>, Vec<(u32, f64)>>,
}

impl Conjunctions {
    /// Intersects the parts of every conjunction among `terms`, each part scored by the
    /// matcher of its kind among `kinds`.
    pub(crate) fn build(terms: &[&Term], kinds: &Matchers) -> Conjunctions {
        let papers = terms
            .iter()
            .filter_map(|t| match t {
                Term::All(parts) => Some((parts.clone(), every_part(parts, kinds))),
                _ => None,
            })
            .collect();
        Conjunctions { papers }
    }

    fn papers(&self, term: &Term) -> &[(u32, f64)] {
        match term {
            Term::All(parts) => self.papers.get(parts.as_slice()),
            _ => None,
        }
        .map_or(&[], Vec::as_slice)
    }
}

/// The papers matching every part, the parts' scores added.
fn every_part(parts: &[Term], kinds: &Matchers) -> Vec<(u32, f64)> {
    let mut acc: Option<Vec<(u32, f64)>> = None;
    for part in parts {
        let list = kinds.scores(part);
        let next = match &acc {
            None => list,
            Some(prev) => intersect_sum(prev, &list),
        };
        let empty = next.is_empty();
        acc = Some(next);
        if empty {
            break;
        }
    }
    acc.unwrap_or_default()
}

impl Matcher for Conjunctions {
    fn covers(&self, term: &Term) -> bool {
        matches!(term, Term::All(parts) if self.papers.contains_key(parts.as_slice()))
    }

    #[inline]
    fn add_scores(&self, term: &Term, s: &mut Scratch) {
        for &(paper, score) in self.papers(term) {
            s.add(paper, score);
        }
    }

    fn scores(&self, term: &Term) -> Vec<(u32, f64)> {
        self.papers(term).to_vec()
    }

    /// Each part's why line by its words, joined with "AND".
    fn why_by_words(&self, term: &Term, paper: u32, kinds: &Matchers, out: &mut Vec<String>) {
        let Term::All(parts) = term else {
            return;
        };
        if self
            .papers(term)
            .binary_search_by_key(&paper, |(p, _)| *p)
            .is_err()
        {
            return;
        }
        let parts: Vec<String> = parts
            .iter()
            .map(|part| {
                let mut lines = Vec::new();
                kinds.why_by_words(part, paper, &mut lines);
                lines.join(", ")
            })
            .collect();
        out.push(parts.join(" AND "));
    }

    #[cfg(test)]
    fn score_of(&self, term: &Term, paper: u32, add: &mut dyn FnMut(f64)) {
        let list = self.papers(term);
        if let Ok(i) = list.binary_search_by_key(&paper, |(p, _)| *p) {
            add(list[i].1);
        }
    }
}
