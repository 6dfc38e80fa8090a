//! The relevance score and how it is blended with upvotes and recency.
//!
//! **Term relevance** is BM25F (Robertson & Zaragoza, "The probabilistic relevance framework:
//! BM25 and beyond"): for each term a reader follows and each paper, the hits in each field
//! are weighted (title `title_weight`, HF keywords `keywords_weight`, abstract
//! `abstract_weight`), the abstract's count normalised by its length (`b`), and the sum
//! saturated with `k1`:
//!
//! ```text
//! tf'   = title_weight·title + keywords_weight·keywords + abstract_weight·abstract / (1 − b + b·len/avg_len)
//! term  = idf · tf'·(k1 + 1) / (tf' + k1)         idf = ln(1 + (N − df + ½)/(df + ½))
//! ```
//!
//! so a paper centred on a topic (in its title, said again and again) outranks one that
//! names it in passing, and rare terms weigh more than common ones. A category match adds
//! `category_score`, an author match `author_score`, an `about:` interest
//! `about_score × similarity` (see the `about:` matcher of [`super::matchers`]). The
//! relevance `r` is then blended:
//!
//! ```text
//! score = relevance_weight · r/(r + relevance_half)
//!       + upvotes_weight   · ln(1 + upvotes)/ln(1 + most upvotes among the candidates)
//!       + recency_weight   · 0.5^(age in days / recency_half_life_days)
//! ```
//!
//! Every weight is in `[selection]` of `config.toml`.
use serde::Deserialize;

use crate::recommend::ProfileWeights;

/// The weights of the score; defaults are the shipped `config.toml`'s.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectionWeights {
    pub title_weight: f64,
    pub abstract_weight: f64,
    pub keywords_weight: f64,
    pub k1: f64,
    pub b: f64,
    pub category_score: f64,
    pub author_score: f64,
    pub about_score: f64,
    /// Similarity (0–1) a paper needs to an `about:` interest to be picked.
    pub about_threshold: f64,
    pub relevance_half: f64,
    pub relevance_weight: f64,
    pub upvotes_weight: f64,
    pub recency_weight: f64,
    pub recency_half_life_days: f64,
    /// The profile model (liked papers): weight of closeness in meaning (embedding cosine).
    pub profile_meaning_weight: f64,
    /// The profile model: weight of shared words (tf-idf cosine).
    pub profile_words_weight: f64,
    /// The profile model: how far disliked papers push the profile, against likes' pull.
    pub profile_dislike_weight: f64,
    /// The profile model: the fused score a paper needs to be recommended.
    pub profile_min_score: f64,
    /// Keywords, phrases, acronyms and `about:` lines ([`super::meaning`]): weight of the
    /// words' ranking in the fusion.
    pub words_weight: f64,
    /// Weight of the ranking by closeness in meaning (0: words alone, no model loaded).
    pub meaning_weight: f64,
    /// The reciprocal-rank fusion's `k` (larger: ranks further down still count).
    pub fusion_k: f64,
    /// Meaning alone picks a paper only among this many closest candidates per term...
    pub meaning_depth: usize,
    /// ...and only when its cosine to the term reaches this.
    pub meaning_min_similarity: f64,
}

impl Default for SelectionWeights {
    fn default() -> Self {
        SelectionWeights {
            title_weight: 3.0,
            abstract_weight: 1.0,
            keywords_weight: 2.0,
            k1: 2.0,
            b: 0.75,
            category_score: 1.0,
            author_score: 6.0,
            about_score: 6.0,
            about_threshold: 0.3,
            relevance_half: 3.0,
            relevance_weight: 1.0,
            upvotes_weight: 0.15,
            recency_weight: 0.1,
            recency_half_life_days: 3.0,
            profile_meaning_weight: PROFILE.meaning as f64,
            profile_words_weight: PROFILE.words as f64,
            profile_dislike_weight: PROFILE.dislike as f64,
            profile_min_score: PROFILE.min_score as f64,
            words_weight: 1.0,
            meaning_weight: 1.0,
            fusion_k: 10.0,
            meaning_depth: 10,
            meaning_min_similarity: 0.4,
        }
    }
}

const PROFILE: ProfileWeights = ProfileWeights::DEFAULT;

impl SelectionWeights {
    /// Whether keywords, phrases and `about:` lines are read by meaning too.
    pub fn uses_meaning(&self) -> bool {
        self.meaning_weight > 0.0
    }

    /// The profile model's weights.
    pub fn profile_weights(&self) -> ProfileWeights {
        ProfileWeights {
            meaning: self.profile_meaning_weight as f32,
            words: self.profile_words_weight as f32,
            dislike: self.profile_dislike_weight as f32,
            min_score: self.profile_min_score as f32,
        }
    }

    /// Every weight finite and not negative, `b` in 0–1, halves and `k1` above 0, the
    /// threshold in 0–1: the name of the first key that is not.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let all = [
            ("title_weight", self.title_weight),
            ("abstract_weight", self.abstract_weight),
            ("keywords_weight", self.keywords_weight),
            ("k1", self.k1),
            ("b", self.b),
            ("category_score", self.category_score),
            ("author_score", self.author_score),
            ("about_score", self.about_score),
            ("about_threshold", self.about_threshold),
            ("relevance_half", self.relevance_half),
            ("relevance_weight", self.relevance_weight),
            ("upvotes_weight", self.upvotes_weight),
            ("recency_weight", self.recency_weight),
            ("recency_half_life_days", self.recency_half_life_days),
            ("profile_meaning_weight", self.profile_meaning_weight),
            ("profile_words_weight", self.profile_words_weight),
            ("profile_dislike_weight", self.profile_dislike_weight),
            ("profile_min_score", self.profile_min_score),
            ("words_weight", self.words_weight),
            ("meaning_weight", self.meaning_weight),
            ("fusion_k", self.fusion_k),
            ("meaning_min_similarity", self.meaning_min_similarity),
        ];
        for (key, v) in all {
            if !v.is_finite() || v < 0.0 {
                return Err((key, format!("must be a number ≥ 0, not {v}")));
            }
        }
        for (key, v) in [
            ("k1", self.k1),
            ("relevance_half", self.relevance_half),
            ("recency_half_life_days", self.recency_half_life_days),
        ] {
            if v <= 0.0 {
                return Err((key, "must be above 0".into()));
            }
        }
        if self.words_weight + self.meaning_weight <= 0.0 {
            return Err((
                "meaning_weight",
                "and words_weight cannot both be 0 (nothing would be picked)".into(),
            ));
        }
        for (key, v) in [
            ("b", self.b),
            ("about_threshold", self.about_threshold),
            ("meaning_min_similarity", self.meaning_min_similarity),
        ] {
            if v > 1.0 {
                return Err((key, format!("must be between 0 and 1, not {v}")));
            }
        }
        Ok(())
    }
}

/// Hits of one term in one paper, per field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Hits {
    pub title: u16,
    pub abstract_text: u16,
    pub keywords: u16,
}

impl Hits {
    /// "title · abstract ×4" for the why line.
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut part = |name: &str, n: u16| match n {
            0 => {}
            1 => parts.push(name.to_string()),
            n => parts.push(format!("{name} ×{n}")),
        };
        part("title", self.title);
        part("keywords", self.keywords);
        part("abstract", self.abstract_text);
        parts.join(" · ")
    }
}

/// Corpus statistics BM25 needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Corpus {
    pub papers: usize,
    pub avg_abstract_len: f64,
}

impl Corpus {
    pub(crate) fn idf(&self, df: usize) -> f64 {
        let n = self.papers as f64;
        let df = df as f64;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }
}

/// BM25F saturation of one term's hits (without idf).
pub(crate) fn saturation(w: &SelectionWeights, hits: Hits, abstract_len: usize, c: &Corpus) -> f64 {
    let norm = 1.0 - w.b + w.b * abstract_len as f64 / c.avg_abstract_len.max(1.0);
    let tf = w.title_weight * hits.title as f64
        + w.keywords_weight * hits.keywords as f64
        + w.abstract_weight * hits.abstract_text as f64 / norm.max(0.1);
    tf * (w.k1 + 1.0) / (tf + w.k1)
}

/// The final score of a paper from its relevance, upvotes and age (the formula above;
/// selection uses [`static_parts`] computed once per paper and [`blend_parts`]).
#[cfg(test)]
pub(crate) fn blend(
    w: &SelectionWeights,
    relevance: f64,
    upvotes: u32,
    max_upvotes: u32,
    age_days: f64,
) -> f64 {
    let (up, rec) = static_parts(w, upvotes, max_upvotes, age_days);
    blend_parts(w, relevance, up, rec)
}

/// The upvotes and recency parts of [`blend`] (weighted), which depend on the paper only.
pub(crate) fn static_parts(
    w: &SelectionWeights,
    upvotes: u32,
    max_upvotes: u32,
    age_days: f64,
) -> (f64, f64) {
    let up = if max_upvotes == 0 {
        0.0
    } else {
        (1.0 + upvotes as f64).ln() / (1.0 + max_upvotes as f64).ln()
    };
    let rec = 0.5f64.powf(age_days.max(0.0) / w.recency_half_life_days);
    (w.upvotes_weight * up, w.recency_weight * rec)
}

/// [`blend`] from its precomputed [`static_parts`]: the same number, bit for bit.
pub(crate) fn blend_parts(w: &SelectionWeights, relevance: f64, up: f64, rec: f64) -> f64 {
    let rel = relevance / (relevance + w.relevance_half);
    w.relevance_weight * rel + up + rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paper_centred_on_a_term_outranks_a_passing_mention_with_more_upvotes() {
        let w = SelectionWeights::default();
        let c = Corpus {
            papers: 200,
            avg_abstract_len: 150.0,
        };
        let idf = c.idf(20);
        let passing = idf
            * saturation(
                &w,
                Hits {
                    abstract_text: 1,
                    ..Hits::default()
                },
                150,
                &c,
            );
        let centred = idf
            * saturation(
                &w,
                Hits {
                    title: 1,
                    abstract_text: 4,
                    ..Hits::default()
                },
                150,
                &c,
            );
        assert!(centred > passing);
        let popular_passing = blend(&w, passing, 300, 300, 0.0);
        let quiet_centred = blend(&w, centred, 3, 300, 0.0);
        assert!(
            quiet_centred > popular_passing,
            "{quiet_centred} {popular_passing}"
        );
    }

    #[test]
    fn why_lines_say_where_and_how_often() {
        let h = Hits {
            title: 1,
            abstract_text: 4,
            keywords: 0,
        };
        assert_eq!(h.describe(), "title · abstract ×4");
    }

    #[test]
    fn bad_weights_are_named() {
        let w = SelectionWeights {
            b: 2.0,
            ..SelectionWeights::default()
        };
        assert_eq!(w.check().unwrap_err().0, "b");
        assert!(SelectionWeights::default().check().is_ok());
    }
}
