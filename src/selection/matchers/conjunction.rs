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
    fn why_by_words(&self, term: &Term, papers: &[u32], kinds: &Matchers, out: &mut [Vec<String>]) {
        let Term::All(parts) = term else {
            return;
        };
        let list = self.papers(term);
        // The papers the conjunction picked, and where each is in `papers`.
        let (at, picked): (Vec<usize>, Vec<u32>) = papers
            .iter()
            .enumerate()
            .filter(|(_, paper)| list.binary_search_by_key(*paper, |(p, _)| *p).is_ok())
            .map(|(i, &paper)| (i, paper))
            .unzip();
        if picked.is_empty() {
            return;
        }
        // Per picked paper, each part's line.
        let mut lines: Vec<Vec<String>> = vec![Vec::with_capacity(parts.len()); picked.len()];
        for part in parts {
            let mut pieces = vec![Vec::new(); picked.len()];
            kinds.why_by_words(part, &picked, &mut pieces);
            for (line, pieces) in lines.iter_mut().zip(pieces) {
                line.push(pieces.join(", "));
            }
        }
        for (i, line) in at.into_iter().zip(lines) {
            out[i].push(line.join(" AND "));
        }
    }

    #[cfg(test)]
    fn score_of(&self, term: &Term, paper: u32, add: &mut dyn FnMut(f64)) {
        let list = self.papers(term);
        if let Ok(i) = list.binary_search_by_key(&paper, |(p, _)| *p) {
            add(list[i].1);
        }
    }
}
