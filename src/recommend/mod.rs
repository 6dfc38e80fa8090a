//! RECOMMEND: pure — "more like what you liked" and feeds seeded from papers. A reader's
//! liked papers (👍, `like:`, their library) and disliked ones form a profile
//! ([`profile`]: a closed-form Rocchio centroid in an embedding model's space and in tf-idf
//! space, fused; the costly parts computed once per run in a [`ProfileIndex`]), then:
//! - a reader who follows no words gets the period's papers ranked by that profile as
//!   their picks (not the trending list);
//! - a reader with words gets their picks and a "More like what you liked" section of up
//!   to [`RecommendLimits::more_like_max`] papers the picks did not take;
//! - each recommended paper's why line names the liked paper it is closest to in meaning;
//! - disliked papers leave the picks, and picks very close to a disliked one go last.
//!
//! Readers without feedback cost nothing: [`personalise`] returns their picks untouched.
//! Deterministic, offline, no I/O: the planner passes in what the store holds.
mod corpus;
#[cfg(any(test, feature = "test-support"))]
mod model;
mod profile;
mod terms;

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::domain::{PaperId, Pick, Picked, ReaderFeedback, shorten};

pub use corpus::Corpus;
pub use profile::{ProfileIndex, ProfileWeights, ReaderProfile, Recommended};

/// How far recommendations go.
#[derive(Debug, Clone, Copy)]
pub struct RecommendLimits {
    /// At most this many papers in the "More like what you liked" section.
    pub more_like_max: usize,
    /// At most this many picks for a reader who follows only papers (the digest's size).
    pub feed_max: usize,
    /// Papers at least this similar (tf-idf cosine) to a disliked paper are never
    /// recommended, and such picks are moved to the end.
    pub dislike_similarity: f32,
}

impl Default for RecommendLimits {
    fn default() -> Self {
        RecommendLimits {
            more_like_max: 5,
            feed_max: 20,
            dislike_similarity: 0.5,
        }
    }
}

/// A reader's picks after feedback: the main picks re-ranked, and the "More like what you
/// liked" section.
#[derive(Debug, Clone, PartialEq)]
pub struct Personalised<P = Pick> {
    pub picks: Vec<P>,
    pub more_like: Vec<P>,
}

/// How a recommended paper's why line starts (the renderer sets it apart from "Matched").
pub const LIKE_REASON_START: &str = "close to papers you liked: ";

/// The why line of a paper recommended for its closeness to the liked paper `title`.
pub fn like_reason(title: &str) -> String {
    format!(
        "{LIKE_REASON_START}“{}”",
        shorten(&crate::domain::collapse_whitespace(title), 90)
    )
}

/// What one reader brings to [`personalise`].
#[derive(Debug, Clone, Copy)]
pub struct ReaderInput<'r> {
    pub feedback: &'r ReaderFeedback,
    /// Their profile ([`ProfileIndex::profile`]); `None` when they like nothing.
    pub profile: Option<&'r ReaderProfile>,
    /// True when they follow no words (no keyword, phrase, author, category, `about:`):
    /// the profile ranks their whole digest, and `picks` (the trending list) are ignored.
    pub follows_only_papers: bool,
    /// Papers first stored before this are not recommended.
    pub since: DateTime<Utc>,
    pub already_sent: &'r HashSet<PaperId>,
}

/// Applies one reader's feedback to their `picks`, choosing recommended papers among the
/// index's candidates. Papers already in `picks`, sent, liked or disliked are never
/// recommended. Without feedback, `picks` come back as they are and nothing is computed.
/// Picks are papers ([`Pick`]) or, as planning passes them, stored references
/// ([`crate::domain::PickRef`]): only their ids are read.
pub fn personalise<P: Picked>(
    index: &ProfileIndex,
    reader: ReaderInput,
    picks: Vec<P>,
    limits: RecommendLimits,
) -> Personalised<P> {
    let feedback = reader.feedback;
    if feedback.is_empty() && reader.profile.is_none() {
        return Personalised {
            picks,
            more_like: Vec::new(),
        };
    }
    let recommend = |skip: &HashSet<&PaperId>, k: usize, more_like: bool| -> Vec<P> {
        let Some(profile) = reader.profile else {
            return Vec::new();
        };
        index
            .recommend(profile, reader.since, skip, k, limits.dislike_similarity)
            .into_iter()
            .filter_map(|r| P::recommended(r.paper, vec![like_reason(&r.closest_liked)], more_like))
            .collect()
    };
    if reader.follows_only_papers && reader.profile.is_some() {
        let skip: HashSet<&PaperId> = reader.already_sent.iter().collect();
        return Personalised {
            picks: recommend(&skip, limits.feed_max, false),
            more_like: Vec::new(),
        };
    }
    let corpus = index.corpus();
    let dislikes: Vec<usize> = feedback
        .dislikes
        .iter()
        .filter_map(|id| corpus.doc(id))
        .collect();
    let disliked: HashSet<&PaperId> = feedback.dislikes.iter().collect();
    let near_disliked = |doc: usize| {
        dislikes
            .iter()
            .any(|&d| corpus.cosine(doc, d) >= limits.dislike_similarity)
    };
    // Main picks: disliked ones out, near-disliked ones last (order otherwise kept).
    let (mut keep, mut demoted) = (Vec::new(), Vec::new());
    for pick in picks {
        let Some(id) = pick.paper_id() else {
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
    let skip: HashSet<&PaperId> = reader
        .already_sent
        .iter()
        .chain(keep.iter().filter_map(P::paper_id))
        .collect();
    let more_like = recommend(&skip, limits.more_like_max, true);
    Personalised {
        picks: keep,
        more_like,
    }
}

/// Every paper of `corpus` except the liked and disliked ones, ranked by a per-reader
/// linear SVM over tf-idf (arxiv-sanity-lite's method): (id, score), best first. Empty
/// without a liked paper in the corpus. Planning does not use it (the profile model is
/// closed-form); it stays as the relevance benchmark's yardstick.
#[cfg(any(test, feature = "test-support"))]
pub fn rank_by_svm(
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
