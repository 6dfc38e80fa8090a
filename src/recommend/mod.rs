//! RECOMMEND: pure — "more like what you liked". From a reader's liked and disliked papers
//! it trains a linear model over the tf-idf vectors of every stored paper ([`Corpus`],
//! built once per run), then:
//! - picks up to [`RecommendLimits::more_like_max`] papers of the period for a "More like
//!   what you liked" section, ranked by the model, each naming the liked paper it resembles
//!   most (cosine similarity) in its why line;
//! - drops disliked papers from the main picks and moves papers very close to a disliked
//!   one to the end.
//!
//! Readers without feedback cost nothing: [`personalise`] returns their picks untouched.
//! Deterministic, offline, no I/O: the planner passes in what the store holds.
mod corpus;
mod model;
mod terms;

use std::collections::HashSet;

use crate::domain::{PaperId, Pick, ReaderFeedback, shorten};

pub use corpus::Corpus;

/// How far recommendations go.
#[derive(Debug, Clone, Copy)]
pub struct RecommendLimits {
    /// At most this many papers in the "More like what you liked" section.
    pub more_like_max: usize,
    /// A recommended paper shares at least this cosine similarity with a liked paper: the
    /// model ranks, this keeps a paper that only shares a common word out.
    pub min_similarity: f32,
    /// Main picks at least this similar to a disliked paper are moved to the end.
    pub dislike_similarity: f32,
}

impl Default for RecommendLimits {
    fn default() -> Self {
        RecommendLimits {
            more_like_max: 5,
            min_similarity: 0.15,
            dislike_similarity: 0.5,
        }
    }
}

/// A reader's picks after feedback: the main picks re-ranked, and the "More like what you
/// liked" section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Personalised {
    pub picks: Vec<Pick>,
    pub more_like: Vec<Pick>,
}

/// The why line of a paper recommended for its likeness to `title`.
pub fn like_reason(title: &str) -> String {
    format!(
        "like “{}” you liked",
        shorten(&crate::domain::collapse_whitespace(title), 90)
    )
}

/// Applies one reader's feedback to their `picks`, choosing the "More like what you liked"
/// papers among `candidates` (the period's papers this reader may still get; ids not in
/// the corpus are ignored). Papers already in `picks`, liked or disliked are never
/// recommended. Without feedback, `picks` come back as they are and nothing is computed.
pub fn personalise(
    corpus: &Corpus,
    feedback: &ReaderFeedback,
    picks: Vec<Pick>,
    candidates: &[PaperId],
    limits: RecommendLimits,
) -> Personalised {
    if feedback.is_empty() {
        return Personalised {
            picks,
            more_like: Vec::new(),
        };
    }
    let docs = |ids: &[PaperId]| -> Vec<usize> {
        let mut d: Vec<usize> = ids.iter().filter_map(|id| corpus.doc(id)).collect();
        d.sort_unstable();
        d.dedup();
        d
    };
    let likes = docs(&feedback.likes);
    let dislikes = docs(&feedback.dislikes);
    let disliked: HashSet<&PaperId> = feedback.dislikes.iter().collect();
    let near_disliked = |doc: usize| {
        dislikes
            .iter()
            .any(|&d| corpus.cosine(doc, d) >= limits.dislike_similarity)
    };

    // Main picks: disliked ones out, near-disliked ones last (order otherwise kept).
    let (mut keep, mut demoted) = (Vec::new(), Vec::new());
    for pick in picks {
        let Some(id) = &pick.paper.id else {
            keep.push(pick);
            continue;
        };
        if disliked.contains(id) {
            continue;
        }
        match corpus.doc(id) {
            Some(doc) if near_disliked(doc) => demoted.push(pick),
            _ => keep.push(pick),
        }
    }
    keep.extend(demoted);

    let mut more_like = Vec::new();
    if let Some(model) = model::train(corpus, &likes, &dislikes) {
        let taken: HashSet<&PaperId> = keep.iter().filter_map(|p| p.paper.id.as_ref()).collect();
        let mut scored: Vec<(f32, usize, usize)> = Vec::new();
        let mut seen = HashSet::new();
        for id in candidates {
            let Some(doc) = corpus.doc(id) else { continue };
            if taken.contains(id)
                || !seen.insert(doc)
                || likes.binary_search(&doc).is_ok()
                || dislikes.binary_search(&doc).is_ok()
                || near_disliked(doc)
            {
                continue;
            }
            let Some((similarity, liked)) = closest(corpus, doc, &likes) else {
                continue;
            };
            if similarity < limits.min_similarity {
                continue;
            }
            scored.push((model.score(corpus.vector(doc)), doc, liked));
        }
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| corpus.paper(a.1).id.cmp(&corpus.paper(b.1).id))
        });
        more_like = scored
            .into_iter()
            .take(limits.more_like_max)
            .map(|(_, doc, liked)| Pick {
                paper: corpus.paper(doc).clone(),
                reasons: vec![like_reason(&corpus.paper(liked).title)],
            })
            .collect();
    }
    Personalised {
        picks: keep,
        more_like,
    }
}

/// The liked document most similar to `doc`, with the similarity.
fn closest(corpus: &Corpus, doc: usize, likes: &[usize]) -> Option<(f32, usize)> {
    likes
        .iter()
        .map(|&l| (corpus.cosine(doc, l), l))
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
}

/// Every paper of `corpus` except the liked and disliked ones, ranked by the model of a
/// reader with this feedback: (id, score), best first. Empty without a liked paper in the
/// corpus. For the relevance benchmark and for tests.
pub fn rank_for_profile(
    corpus: &Corpus,
    liked: &[PaperId],
    disliked: &[PaperId],
) -> Vec<(PaperId, f32)> {
    let docs =
        |ids: &[PaperId]| -> Vec<usize> { ids.iter().filter_map(|id| corpus.doc(id)).collect() };
    let (likes, dislikes) = (docs(liked), docs(disliked));
    let Some(model) = model::train(corpus, &likes, &dislikes) else {
        return Vec::new();
    };
    let mut out: Vec<(PaperId, f32)> = (0..corpus.len())
        .filter(|d| !likes.contains(d) && !dislikes.contains(d))
        .filter_map(|d| Some((corpus.paper(d).id.clone()?, model.score(corpus.vector(d)))))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests;
