//! Authors (`author:"Yann LeCun"`): a paper one of whose authors is that person, however
//! either name is written ([`names`]). Included and excluded literally, with the same score
//! for every paper (`author_score`).
use std::collections::{HashMap, HashSet};

use super::{Matcher, Matchers};
use crate::domain::{StoredPaper, Term};
use crate::selection::scratch::Scratch;

pub(crate) mod names;

use names::Name;

/// Each author name a reader wrote → the candidates by that person, by candidate.
#[derive(Debug)]
pub(crate) struct Authors {
    papers: HashMap<String, Vec<u32>>,
    score: f64,
}

impl Authors {
    /// Indexes the authors among `terms`, through the candidates' surnames.
    pub(crate) fn build(papers: &[StoredPaper], terms: &[&Term], score: f64) -> Authors {
        let wanted: HashSet<&str> = terms
            .iter()
            .filter_map(|t| match t {
                Term::Author(a) => Some(a.as_str()),
                _ => None,
            })
            .collect();
        Authors {
            papers: index(papers, &wanted),
            score,
        }
    }

    /// The candidates by the author of `term`.
    fn papers(&self, term: &Term) -> &[u32] {
        let Term::Author(name) = term else {
            return &[];
        };
        self.papers.get(name).map_or(&[], Vec::as_slice)
    }
}

/// Each wanted name → the candidates with that author, through a surname index.
fn index(papers: &[StoredPaper], wanted: &HashSet<&str>) -> HashMap<String, Vec<u32>> {
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
    for &w in wanted {
        let q = Name::parse(w);
        let mut found: Vec<u32> = by_full.get(&q.full).cloned().unwrap_or_default();
        if let Some(list) = by_surname.get(&q.surname) {
            found.extend(list.iter().filter(|(_, n)| n.is(&q)).map(|(i, _)| *i));
        }
        found.sort_unstable();
        found.dedup();
        out.insert(w.to_string(), found);
    }
    out
}

impl Matcher for Authors {
    fn covers(&self, term: &Term) -> bool {
        matches!(term, Term::Author(a) if self.papers.contains_key(a))
    }

    #[inline]
    fn add_scores(&self, term: &Term, s: &mut Scratch) {
        for &paper in self.papers(term) {
            s.add(paper, self.score);
        }
    }

    fn scores(&self, term: &Term) -> Vec<(u32, f64)> {
        self.papers(term).iter().map(|&p| (p, self.score)).collect()
    }

    #[inline]
    fn block_excluded(&self, term: &Term, s: &mut Scratch) {
        for &paper in self.papers(term) {
            s.block(paper);
        }
    }

    /// "author Yann LeCun", as the reader wrote the name.
    fn why_by_words(&self, term: &Term, papers: &[u32], _: &Matchers, out: &mut [Vec<String>]) {
        super::why_listed(term, self.papers(term), papers, out);
    }

    #[cfg(test)]
    fn score_of(&self, term: &Term, paper: u32, add: &mut dyn FnMut(f64)) {
        if self.papers(term).contains(&paper) {
            add(self.score);
        }
    }

    #[cfg(test)]
    fn excludes(&self, term: &Term, paper: u32) -> bool {
        self.papers(term).contains(&paper)
    }
}
