//! A per-reader linear SVM over the corpus' tf-idf vectors, as arxiv-sanity-lite trains one
//! (liked papers positive, every other paper negative, classes balanced), with two changes:
//! disliked papers are negatives that weigh [`DISLIKE_WEIGHT`] times more, and the
//! solver is liblinear's dual coordinate descent for the L1-loss SVM (Hsieh et al. 2008),
//! written out here (~60 lines) because no lean crate offers a sparse linear SVM.
//! Updates run in a fixed pseudo-random order, so training is deterministic.
use super::corpus::{Corpus, SparseVec, sparse_dot};

/// Regularisation: arxiv-sanity-lite uses 0.01 on its far larger corpus; with a few
/// hundred to a few thousand papers a little less regularisation ranks better.
const C: f32 = 0.1;
/// How much more a disliked paper counts than an ordinary negative.
const DISLIKE_WEIGHT: f32 = 4.0;
/// The bias is learned as the weight of a constant feature of this value (liblinear's `-B 1`).
const BIAS: f32 = 1.0;
const MAX_EPOCHS: usize = 50;
/// Stop once the projected gradients of an epoch span less than this (liblinear's default
/// stopping rule and value for the dual solvers).
const TOLERANCE: f32 = 0.1;
/// At most this many ordinary negatives are trained on (an even stride through the
/// corpus): training cost stays bounded however large the store grows.
const MAX_NEGATIVES: usize = 4000;

/// Weights over the corpus' terms and a bias: `score(x) = w·x + b`.
pub(crate) struct LinearModel {
    w: Vec<f32>,
    b: f32,
}

impl LinearModel {
    pub(crate) fn score(&self, x: &SparseVec) -> f32 {
        x.iter().map(|&(t, v)| self.w[t as usize] * v).sum::<f32>() + self.b
    }
}

/// Trains on documents `likes` (positive) and `dislikes` (strong negatives), every other
/// document a negative. `None` without a liked document.
pub(crate) fn train(corpus: &Corpus, likes: &[usize], dislikes: &[usize]) -> Option<LinearModel> {
    if likes.is_empty() {
        return None;
    }
    let n = corpus.len();
    let others: Vec<usize> = (0..n)
        .filter(|d| !likes.contains(d) && !dislikes.contains(d))
        .collect();
    let stride = others.len().div_ceil(MAX_NEGATIVES).max(1);
    let negatives: Vec<usize> = others.into_iter().step_by(stride).collect();
    let total = (likes.len() + negatives.len() + dislikes.len()) as f32;
    // Balanced classes: each class weighs as much as the other in total.
    let neg_count = negatives.len() as f32 + dislikes.len() as f32 * DISLIKE_WEIGHT;
    let pos_bound = C * total / (2.0 * likes.len() as f32);
    let neg_bound = C * total / (2.0 * neg_count.max(1.0));
    // (document, label, upper bound of its dual variable)
    let mut samples: Vec<(usize, f32, f32)> = likes.iter().map(|&d| (d, 1.0, pos_bound)).collect();
    samples.extend(
        dislikes
            .iter()
            .map(|&d| (d, -1.0, neg_bound * DISLIKE_WEIGHT)),
    );
    samples.extend(negatives.iter().map(|&d| (d, -1.0, neg_bound)));

    let mut w = vec![0f32; corpus.dims()];
    let mut b = 0f32;
    let mut alpha = vec![0f32; samples.len()];
    // The diagonal of the dual's matrix, x·x + bias², once per sample (not per update).
    let diag: Vec<f32> = samples
        .iter()
        .map(|&(doc, _, _)| {
            let x = corpus.vector(doc);
            sparse_dot(x, x) + BIAS * BIAS
        })
        .collect();
    let mut order: Vec<usize> = (0..samples.len()).collect();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..MAX_EPOCHS {
        shuffle(&mut order, &mut rng);
        let (mut max_pg, mut min_pg) = (f32::MIN, f32::MAX);
        for &i in &order {
            let (doc, y, upper) = samples[i];
            let x = corpus.vector(doc);
            let q = diag[i];
            let margin = x.iter().map(|&(t, v)| w[t as usize] * v).sum::<f32>() + b * BIAS;
            let g = y * margin - 1.0;
            let pg = if alpha[i] <= 0.0 {
                g.min(0.0)
            } else if alpha[i] >= upper {
                g.max(0.0)
            } else {
                g
            };
            max_pg = max_pg.max(pg);
            min_pg = min_pg.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / q).clamp(0.0, upper);
                let step = (alpha[i] - old) * y;
                for &(t, v) in x {
                    w[t as usize] += step * v;
                }
                b += step * BIAS;
            }
        }
        if max_pg - min_pg < TOLERANCE {
            break;
        }
    }
    Some(LinearModel { w, b: b * BIAS })
}

/// Fisher–Yates with a xorshift generator: a fixed, well-mixed order per epoch.
fn shuffle(v: &mut [usize], state: &mut u64) {
    for i in (1..v.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let j = (*state % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}
