//! Closeness in meaning for the words a reader types (issue 20 item 4): keywords, phrases,
//! acronyms and `about:` lines are scored by their words (BM25F, [`super::score`] and the
//! `about:` matcher of [`super::matchers`]) **and** by the cosine between the term's
//! embedding and each candidate's ([`crate::embed`]), the two fused by a weighted
//! reciprocal-rank rule:
//!
//! ```text
//! fused(p) = words_weight / (fusion_k + rank_words(p)) + meaning_weight / (fusion_k + rank_meaning(p))
//! score(p) = scale · fused(p) / fused_max          fused_max = (words_weight + meaning_weight) / (fusion_k + 1)
//! ```
//!
//! `rank_words` is the paper's rank among the papers the term's words pick (absent: no
//! part), `rank_meaning` its rank by cosine among the candidates (absent beyond
//! [`KEEP`]); `scale` is the term's best words score (so a rare term still weighs more
//! than a common one in a topic line of several), or `about_score` for a term whose words
//! pick nothing. A paper the words do not pick is picked by meaning alone when it is among
//! the `meaning_depth` closest candidates **and** its cosine reaches `meaning_min_similarity`
//! (a week with nothing on a reader's subject gives them nothing, not its nearest papers).
//!
//! Everything here is per distinct term, once per planning run; a reader then only adds
//! up the fused lists of their terms, as before. Literal guarantees stay: authors,
//! categories, `ti:`/`abs:` and `AND` are matched literally, exclusions and already sent
//! papers are taken out before anything is scored, an acronym's words still count only
//! in capitals (its meaning is read from the acronym and its learned expansion).
use std::collections::HashMap;
use std::sync::Arc;

use super::SelectionWeights;
use crate::domain::StoredPaper;
use crate::embed::{Embedder, paper_text};

/// How many of the closest candidates per term get a meaning rank.
pub(crate) const KEEP: usize = 200;

/// The candidates' embedding vectors and the model that made them (to embed the terms).
#[derive(Clone)]
pub struct Meaning {
    embedder: Arc<Embedder>,
    /// Row-major, one row of `dim` per candidate, in the selector's order.
    matrix: Vec<f32>,
    dim: usize,
}

impl std::fmt::Debug for Meaning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meaning")
            .field("model", &self.embedder.identity())
            .field("rows", &self.rows())
            .finish()
    }
}

impl Meaning {
    /// `vectors` are the papers' vectors by `embedder`, in the order of the papers given to
    /// the selector.
    pub fn new(embedder: Arc<Embedder>, vectors: &[Vec<f32>]) -> Meaning {
        let dim = embedder.dim();
        let mut matrix = Vec::with_capacity(vectors.len() * dim);
        for v in vectors {
            if v.len() == dim {
                matrix.extend_from_slice(v);
            } else {
                // A vector of another model never reaches here (vectors are kept with
                // their model); a zero row is close to nothing.
                matrix.extend(std::iter::repeat_n(0.0, dim));
            }
        }
        Meaning {
            embedder,
            matrix,
            dim,
        }
    }

    /// Embeds `papers` (title and abstract, [`paper_text`]) with `embedder`.
    pub fn embed(embedder: Arc<Embedder>, papers: &[StoredPaper]) -> Meaning {
        let texts: Vec<String> = papers.iter().map(|p| paper_text(&p.paper)).collect();
        let vectors: Vec<Vec<f32>> = super::parallel_map(&texts, |t| embedder.embed_one(t));
        Meaning::new(embedder, &vectors)
    }

    pub fn embedder(&self) -> &Arc<Embedder> {
        &self.embedder
    }

    fn rows(&self) -> usize {
        self.matrix.len() / self.dim.max(1)
    }

    /// The rows reordered: row `i` becomes the old row `order[i]`.
    pub(crate) fn permuted(&self, order: &[usize]) -> Meaning {
        let mut matrix = Vec::with_capacity(order.len() * self.dim);
        for &i in order {
            matrix.extend_from_slice(&self.matrix[i * self.dim..(i + 1) * self.dim]);
        }
        Meaning {
            embedder: Arc::clone(&self.embedder),
            matrix,
            dim: self.dim,
        }
    }

    /// The [`KEEP`] candidates closest in meaning to `text`, best first: (candidate,
    /// cosine); ties by candidate.
    pub(crate) fn closest(&self, text: &str) -> Vec<(u32, f32)> {
        let q = self.embedder.embed_one(text);
        if q.iter().all(|x| *x == 0.0) {
            return Vec::new();
        }
        let mut all: Vec<(u32, f32)> = self
            .matrix
            .chunks_exact(self.dim.max(1))
            .enumerate()
            .map(|(i, row)| (i as u32, crate::embed::cosine(row, &q)))
            .collect();
        let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if all.len() > KEEP {
            all.select_nth_unstable_by(KEEP - 1, order);
            all.truncate(KEEP);
        }
        all.sort_by(order);
        all
    }
}

/// How a term's two rankings are fused (the `[selection.ranking]` keys).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fusion {
    pub words_weight: f64,
    pub meaning_weight: f64,
    pub k: f64,
    pub depth: usize,
    pub min_similarity: f64,
    /// The scale of a term whose words pick nothing.
    pub fallback_scale: f64,
}

impl Fusion {
    pub(crate) fn of(w: &SelectionWeights) -> Fusion {
        Fusion {
            words_weight: w.words_weight,
            meaning_weight: w.meaning_weight,
            k: w.fusion_k,
            depth: w.meaning_depth,
            min_similarity: w.meaning_min_similarity,
            fallback_scale: w.about_score,
        }
    }
}

/// A term to read by meaning too: its key, the text embedded, and the papers its words
/// pick with their words score, by paper.
#[derive(Debug)]
pub(crate) struct ToFuse {
    pub key: String,
    pub text: String,
    pub words: Vec<(u32, f64)>,
}

/// The terms of one kind read by meaning too: each one's fused list ([`fuse`]) under its
/// key, fused once per run.
#[derive(Debug, Default)]
pub(crate) struct FusedLists(HashMap<String, Vec<Fused>>);

impl FusedLists {
    /// Fuses every term of `terms` over the candidates of `meaning`, split over the cores;
    /// none without `meaning`.
    pub(crate) fn build(
        meaning: Option<&Meaning>,
        w: &SelectionWeights,
        terms: Vec<ToFuse>,
    ) -> FusedLists {
        let Some(m) = meaning else {
            return FusedLists::default();
        };
        let fusion = Fusion::of(w);
        let lists = super::parallel_map(&terms, |t| fuse(&t.words, &m.closest(&t.text), &fusion));
        FusedLists(terms.into_iter().map(|t| t.key).zip(lists).collect())
    }

    /// The fused list of the term under `key`, when it is read by meaning too.
    pub(crate) fn get(&self, key: &str) -> Option<&[Fused]> {
        self.0.get(key).map(Vec::as_slice)
    }

    /// The why line's pieces of the term under `key` for each of `papers` (`out[i]` for
    /// `papers[i]`): nothing for a paper its fused list does not have; else what `words`
    /// says of the paper, then `closeness` when meaning carried it. A term not read by
    /// meaning says what `words` says.
    pub(crate) fn why(
        &self,
        key: &str,
        papers: &[u32],
        out: &mut [Vec<String>],
        mut words: impl FnMut(u32, &mut Vec<String>),
        closeness: impl Fn() -> String,
    ) {
        let list = self.get(key);
        for (&paper, out) in papers.iter().zip(out) {
            let by_meaning = match list {
                None => false,
                Some(list) => match list.binary_search_by_key(&paper, |f| f.paper) {
                    Ok(i) => list[i].by_meaning,
                    // Not in the fused list: the term did not pick this paper.
                    Err(_) => continue,
                },
            };
            words(paper, out);
            if by_meaning {
                out.push(closeness());
            }
        }
    }
}

/// One paper of a term's fused list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fused {
    pub paper: u32,
    pub score: f64,
    /// Closeness in meaning carried the paper more than the words did (or alone).
    pub by_meaning: bool,
}

/// A term's fused list, by paper: `words` are the papers its words pick with their words
/// score (by paper), `closest` the candidates by meaning ([`Meaning::closest`]).
pub(crate) fn fuse(words: &[(u32, f64)], closest: &[(u32, f32)], f: &Fusion) -> Vec<Fused> {
    let mut by_words: Vec<(u32, f64)> = words.to_vec();
    by_words.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let scale = by_words.first().map_or(f.fallback_scale, |w| w.1);
    let max = (f.words_weight + f.meaning_weight) / (f.k + 1.0);
    if max <= 0.0 {
        return Vec::new();
    }
    // (paper, words part, meaning part, picked by meaning alone)
    let mut parts: std::collections::HashMap<u32, (f64, f64, bool)> =
        std::collections::HashMap::with_capacity(by_words.len() + f.depth);
    for (rank, &(paper, _)) in by_words.iter().enumerate() {
        parts.entry(paper).or_default().0 = f.words_weight / (f.k + rank as f64 + 1.0);
    }
    let closest = if f.meaning_weight > 0.0 { closest } else { &[] };
    for (rank, &(paper, cosine)) in closest.iter().enumerate() {
        let part = f.meaning_weight / (f.k + rank as f64 + 1.0);
        match parts.get_mut(&paper) {
            Some(p) => p.1 = part,
            None if rank < f.depth && f64::from(cosine) >= f.min_similarity => {
                parts.insert(paper, (0.0, part, true));
            }
            None => {}
        }
    }
    let mut out: Vec<Fused> = parts
        .into_iter()
        .map(|(paper, (w, m, alone))| Fused {
            paper,
            score: scale * (w + m) / max,
            by_meaning: alone || m > w,
        })
        .collect();
    out.sort_by_key(|x| x.paper);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fusion() -> Fusion {
        Fusion {
            words_weight: 1.0,
            meaning_weight: 1.0,
            k: 60.0,
            depth: 2,
            min_similarity: 0.5,
            fallback_scale: 6.0,
        }
    }

    #[test]
    fn a_paper_both_rankings_put_first_scores_the_term_scale_and_words_alone_less() {
        let words = [(3, 4.0), (1, 2.0)];
        let closest = [(3, 0.9), (7, 0.8), (1, 0.7), (9, 0.6)];
        let fused = fuse(&words, &closest, &fusion());
        let ids: Vec<u32> = fused.iter().map(|f| f.paper).collect();
        // 9 is beyond the depth: meaning alone does not pick it.
        assert_eq!(ids, vec![1, 3, 7]);
        let score = |p: u32| fused.iter().find(|f| f.paper == p).expect("fused").score;
        assert!((score(3) - 4.0).abs() < 1e-9, "{}", score(3));
        assert!(score(1) < score(3) && score(7) < score(3));
        assert!(fused.iter().find(|f| f.paper == 7).expect("7").by_meaning);
        assert!(!fused.iter().find(|f| f.paper == 3).expect("3").by_meaning);
    }

    #[test]
    fn meaning_alone_needs_the_minimum_similarity_and_no_words_use_the_fallback_scale() {
        let closest = [(5, 0.55), (6, 0.45)];
        let fused = fuse(&[], &closest, &fusion());
        assert_eq!(fused.len(), 1);
        assert_eq!(fused[0].paper, 5);
        assert!(fused[0].by_meaning);
        // Alone at rank 1 of one list of two equal weights: half the scale.
        assert!((fused[0].score - 3.0).abs() < 1e-9, "{}", fused[0].score);
    }

    #[test]
    fn a_meaning_weight_of_zero_leaves_the_words_order() {
        let f = Fusion {
            meaning_weight: 0.0,
            ..fusion()
        };
        let fused = fuse(&[(1, 1.0), (2, 3.0)], &[(1, 0.9), (4, 0.9)], &f);
        let ids: Vec<u32> = fused.iter().map(|f| f.paper).collect();
        assert_eq!(ids, vec![1, 2]);
        assert!(fused[1].score > fused[0].score);
    }
}
