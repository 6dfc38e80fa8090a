//! Categories (`cat:cs.CL`) and archives (`cat:cs`, every `cs.*` category): a paper
//! listing one, in any case. Included and excluded literally, with the same score for
//! every paper (`category_score`).
use std::collections::HashMap;

use super::{Matcher, Matchers};
use crate::domain::{StoredPaper, Term};
use crate::selection::scratch::Scratch;

/// Lower-case category code or archive → the candidates listing it, by candidate. Every
/// candidate's categories are indexed: any category can be selected for.
#[derive(Debug)]
pub(crate) struct Categories {
    papers: HashMap<String, Vec<u32>>,
    score: f64,
}

impl Categories {
    pub(crate) fn build(papers: &[StoredPaper], score: f64) -> Categories {
        let mut index: HashMap<String, Vec<u32>> = HashMap::new();
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
                index.entry(k).or_default().push(i as u32);
            }
        }
        Categories {
            papers: index,
            score,
        }
    }

    /// The candidates listing the category of `term`.
    fn papers(&self, term: &Term) -> &[u32] {
        let Term::Category(code) = term else {
            return &[];
        };
        self.papers
            .get(&code.to_lowercase())
            .map_or(&[], Vec::as_slice)
    }
}

impl Matcher for Categories {
    fn covers(&self, _term: &Term) -> bool {
        true
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

    /// The category as the reader wrote it.
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
