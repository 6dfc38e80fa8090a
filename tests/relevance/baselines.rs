//! The baselines every ranker is compared with, computed on the same papers: plain Okapi
//! BM25 over title + abstract for queries, and a tf-idf centroid of the liked papers for
//! profiles. Both read text the textbook way (lower case, English stop words dropped,
//! Snowball English stems), nothing of paperpost's own normalisation, so they stay a fixed
//! yardstick while selection changes.
use std::collections::HashMap;

use paperpost::domain::PaperId;
use rust_stemmers::{Algorithm, Stemmer};

use super::{Corpus, Profile, Query, Ranker, Recommender};

/// English stop words (the common function words; scikit-learn's list trimmed to the
/// words that occur in abstracts).
const STOP: &[&str] = &[
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
    "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few",
    "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him",
    "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "may", "me",
    "might", "more", "most", "must", "my", "no", "nor", "not", "now", "of", "off", "on", "once",
    "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so",
    "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these",
    "they", "this", "those", "through", "to", "too", "under", "until", "up", "us", "very", "via",
    "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will",
    "with", "would", "you", "your",
];

/// Lower-cased alphanumeric tokens, stop words and single letters dropped, stemmed.
pub fn analyse(text: &str) -> Vec<String> {
    let stemmer = Stemmer::create(Algorithm::English);
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|t| t.chars().count() > 1 && !STOP.contains(&t.as_str()))
        .map(|t| stemmer.stem(&t).into_owned())
        .collect()
}

fn paper_text(p: &paperpost::domain::Paper) -> String {
    format!("{} {}", p.title, p.abstract_text)
}

/// Okapi BM25 over title + abstract (one field), k1 = 1.2, b = 0.75, Lucene's idf
/// `ln(1 + (N − df + 0.5) / (df + 0.5))`; each distinct query term counts once.
pub struct Bm25 {
    ids: Vec<PaperId>,
    docs: Vec<HashMap<String, f64>>,
    lengths: Vec<f64>,
    avg_length: f64,
    df: HashMap<String, f64>,
    cap: usize,
}

const K1: f64 = 1.2;
const B: f64 = 0.75;

impl Bm25 {
    pub fn new(corpus: &Corpus, cap: usize) -> Bm25 {
        let mut ids = Vec::new();
        let mut docs = Vec::new();
        let mut lengths = Vec::new();
        let mut df: HashMap<String, f64> = HashMap::new();
        for p in &corpus.papers {
            let Some(id) = &p.paper.id else { continue };
            let tokens = analyse(&paper_text(&p.paper));
            let mut tf: HashMap<String, f64> = HashMap::new();
            for t in &tokens {
                *tf.entry(t.clone()).or_default() += 1.0;
            }
            for t in tf.keys() {
                *df.entry(t.clone()).or_default() += 1.0;
            }
            ids.push(id.clone());
            lengths.push(tokens.len() as f64);
            docs.push(tf);
        }
        let avg_length = lengths.iter().sum::<f64>() / lengths.len().max(1) as f64;
        Bm25 {
            ids,
            docs,
            lengths,
            avg_length,
            df,
            cap,
        }
    }

    /// Papers with a positive score for `text`, best first (ties by id), at most `cap`.
    pub fn search(&self, text: &str) -> Vec<PaperId> {
        let mut terms = analyse(text);
        terms.sort();
        terms.dedup();
        let n = self.docs.len() as f64;
        let mut scored: Vec<(f64, &PaperId)> = self
            .docs
            .iter()
            .enumerate()
            .filter_map(|(d, tf)| {
                let s: f64 = terms
                    .iter()
                    .filter_map(|t| {
                        let f = *tf.get(t)?;
                        let df = self.df[t];
                        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                        let norm = K1 * (1.0 - B + B * self.lengths[d] / self.avg_length);
                        Some(idf * f * (K1 + 1.0) / (f + norm))
                    })
                    .sum();
                (s > 0.0).then_some((s, &self.ids[d]))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        scored
            .into_iter()
            .take(self.cap)
            .map(|(_, id)| id.clone())
            .collect()
    }
}

impl Ranker for Bm25 {
    fn name(&self) -> &str {
        "BM25 (title + abstract)"
    }

    fn rank(&self, query: &Query) -> Option<Vec<PaperId>> {
        Some(self.search(&query.words()))
    }
}

/// "More like these" as the mean of the liked papers' tf-idf vectors (sublinear tf,
/// smoothed idf, l2-normalised, over title + abstract), every other paper ranked by its
/// cosine with that centroid. Dislikes are ignored, as in the plain method.
pub struct Centroid {
    ids: Vec<PaperId>,
    vectors: Vec<HashMap<String, f64>>,
}

impl Centroid {
    pub fn new(corpus: &Corpus) -> Centroid {
        let mut ids = Vec::new();
        let mut counts = Vec::new();
        let mut df: HashMap<String, f64> = HashMap::new();
        for p in &corpus.papers {
            let Some(id) = &p.paper.id else { continue };
            let mut tf: HashMap<String, f64> = HashMap::new();
            for t in analyse(&paper_text(&p.paper)) {
                *tf.entry(t).or_default() += 1.0;
            }
            for t in tf.keys() {
                *df.entry(t.clone()).or_default() += 1.0;
            }
            ids.push(id.clone());
            counts.push(tf);
        }
        let n = ids.len() as f64;
        let vectors = counts
            .into_iter()
            .map(|tf| {
                let mut v: HashMap<String, f64> = tf
                    .into_iter()
                    .map(|(t, f)| {
                        let idf = ((1.0 + n) / (1.0 + df[&t])).ln() + 1.0;
                        (t, (1.0 + f.ln()) * idf)
                    })
                    .collect();
                let norm = v.values().map(|w| w * w).sum::<f64>().sqrt();
                v.values_mut()
                    .for_each(|w| *w /= norm.max(f64::MIN_POSITIVE));
                v
            })
            .collect();
        Centroid { ids, vectors }
    }
}

impl Recommender for Centroid {
    fn name(&self) -> &str {
        "tf-idf centroid"
    }

    fn recommend(&self, profile: &Profile) -> Vec<PaperId> {
        let likes = profile.like_ids();
        let liked: Vec<usize> = (0..self.ids.len())
            .filter(|&d| likes.contains(&self.ids[d]))
            .collect();
        let mut centroid: HashMap<&str, f64> = HashMap::new();
        for &d in &liked {
            for (t, w) in &self.vectors[d] {
                *centroid.entry(t.as_str()).or_default() += w / liked.len() as f64;
            }
        }
        let mut scored: Vec<(f64, &PaperId)> = self
            .vectors
            .iter()
            .zip(&self.ids)
            .map(|(v, id)| {
                let s: f64 = v
                    .iter()
                    .filter_map(|(t, w)| Some(w * centroid.get(t.as_str())?))
                    .sum();
                (s, id)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        scored.into_iter().map(|(_, id)| id.clone()).collect()
    }
}
