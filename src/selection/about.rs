//! Interests in plain words (`about:"equivariance and symmetry in deep learning"`): papers
//! ranked by BM25 similarity between the description and their text, over the run's papers.
//!
//! The description's words, stop words dropped, are stemmed (Snowball English, so
//! `equivariance` meets `equivariant`: fuzzy on purpose, unlike keywords); a word that is a
//! learned acronym (`ViT`) also counts its expansion. For each paper:
//!
//! ```text
//! similarity = Σ_w idf(w)·s_w / Σ_w idf(w)      s_w = BM25F saturation of w's hits / (k1 + 1)
//! ```
//!
//! (sums over the description's words that at least one paper uses).
//!
//! which is 0 with no word and tends to 1 with every word said often, in the title too. A
//! paper is picked when its similarity reaches `about_threshold` (default 0.3): one shared
//! common word is not enough, the words that carry the description must be there. The why
//! line names the words that weighed most.
use std::collections::HashMap;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

use super::normalise::Field;
use super::score::{Corpus, Hits, SelectionWeights, saturation};

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "etc",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "like",
    "me",
    "more",
    "most",
    "my",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "especially",
    "mainly",
    "mostly",
    "particularly",
    "interested",
    "interest",
    "interests",
    "work",
    "working",
    "papers",
    "paper",
    "research",
    "field",
    "topics",
    "topic",
    "things",
    "stuff",
    "new",
    "recent",
    "using",
    "use",
    "via",
    "toward",
    "towards",
    "e",
    "g",
];

/// The stem a word is indexed under.
pub(crate) fn stem(key: &str) -> String {
    STEMMER.stem(key).into_owned()
}

/// Stem → per paper, the hits of words with that stem.
#[derive(Debug, Default)]
pub(crate) struct WordIndex {
    postings: HashMap<String, Vec<(u32, Hits)>>,
}

impl WordIndex {
    pub(crate) fn add(&mut self, paper: u32, title: &Field, keywords: &Field, abs: &Field) {
        let mut local: HashMap<String, Hits> = HashMap::new();
        for (which, field) in [(0, title), (1, keywords), (2, abs)] {
            for t in &field.tokens {
                let key = field.key(t);
                if STOP_WORDS.contains(&key) {
                    continue;
                }
                let h = local.entry(stem(key)).or_default();
                let n = match which {
                    0 => &mut h.title,
                    1 => &mut h.keywords,
                    _ => &mut h.abstract_text,
                };
                *n = n.saturating_add(1);
            }
        }
        for (s, h) in local {
            self.postings.entry(s).or_default().push((paper, h));
        }
    }

    fn get(&self, stem: &str) -> &[(u32, Hits)] {
        self.postings.get(stem).map_or(&[], Vec::as_slice)
    }
}

/// The description's content words: (as written, stem), without repeats.
pub(crate) fn content_words(description: &str) -> Vec<(String, String)> {
    let field = Field::new(description);
    let mut words: Vec<(String, String)> = Vec::new();
    for t in &field.tokens {
        let key = field.key(t);
        if STOP_WORDS.contains(&key) || key.chars().count() < 2 {
            continue;
        }
        let s = stem(key);
        if !words.iter().any(|(_, w)| *w == s) {
            words.push((key.to_string(), s));
        }
    }
    words
}

/// One word of a description with where it occurs.
pub(crate) struct AboutWord<'a> {
    pub word: String,
    pub stem: String,
    /// Extra postings (a learned acronym's expansion), merged into the word's own.
    pub extra: &'a [(u32, Hits)],
}

/// Papers similar enough to a description: (paper, similarity 0–1, carrying words).
pub(crate) fn similar_papers(
    words: &[AboutWord<'_>],
    index: &WordIndex,
    abstract_lens: &[usize],
    corpus: &Corpus,
    w: &SelectionWeights,
) -> Vec<(u32, f64, Vec<String>)> {
    let mut per_paper: HashMap<u32, Vec<(usize, f64)>> = HashMap::new();
    let mut idf_sum = 0.0;
    for (i, word) in words.iter().enumerate() {
        let mut postings: HashMap<u32, Hits> = HashMap::new();
        for (p, h) in index.get(&word.stem).iter().chain(word.extra) {
            let e = postings.entry(*p).or_default();
            e.title = e.title.max(h.title);
            e.keywords = e.keywords.max(h.keywords);
            e.abstract_text = e.abstract_text.max(h.abstract_text);
        }
        if postings.is_empty() {
            // A word no paper uses says nothing about the papers: it neither helps nor
            // dilutes (`prone` in "less prone to hallucination").
            continue;
        }
        let idf = corpus.idf(postings.len());
        idf_sum += idf;
        for (p, h) in postings {
            let len = abstract_lens.get(p as usize).copied().unwrap_or(0);
            let s = saturation(w, h, len, corpus) / (w.k1 + 1.0);
            per_paper.entry(p).or_default().push((i, idf * s));
        }
    }
    if idf_sum <= 0.0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (p, mut contributions) in per_paper {
        let sim: f64 = contributions.iter().map(|(_, c)| c).sum::<f64>() / idf_sum;
        if sim + 1e-9 < w.about_threshold {
            continue;
        }
        contributions.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let carrying = contributions
            .iter()
            .take(3)
            .map(|(i, _)| words[*i].word.clone())
            .collect();
        out.push((p, sim, carrying));
    }
    out.sort_by_key(|(p, _, _)| *p);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus_of(texts: &[(&str, &str)]) -> (WordIndex, Vec<usize>, Corpus) {
        let mut index = WordIndex::default();
        let mut lens = Vec::new();
        for (i, (title, abs)) in texts.iter().enumerate() {
            let abs = Field::new(abs);
            lens.push(abs.tokens.len());
            index.add(i as u32, &Field::new(title), &Field::default(), &abs);
        }
        let avg = lens.iter().sum::<usize>() as f64 / lens.len() as f64;
        (
            index,
            lens,
            Corpus {
                papers: texts.len(),
                avg_abstract_len: avg,
            },
        )
    }

    #[test]
    fn a_description_picks_papers_about_it_and_not_those_sharing_one_word() {
        let papers = [
            (
                "Equivariant networks for molecular symmetry",
                "We build rotation equivariant neural networks that respect the symmetry group of molecules; equivariance improves sample efficiency in deep learning.",
            ),
            (
                "Deep learning for weather",
                "A deep learning model forecasts rain with deep networks.",
            ),
            (
                "Symmetry breaking in magnets",
                "We measure spontaneous symmetry breaking in a ferromagnet.",
            ),
            ("Fast sorting", "We sort integers quickly."),
        ];
        let (index, lens, corpus) = corpus_of(&papers);
        let words: Vec<AboutWord<'_>> = content_words("equivariance and symmetry in deep learning")
            .into_iter()
            .map(|(word, stem)| AboutWord {
                word,
                stem,
                extra: &[],
            })
            .collect();
        assert_eq!(
            words.iter().map(|w| w.word.as_str()).collect::<Vec<_>>(),
            ["equivariance", "symmetry", "deep", "learning"]
        );
        let got = similar_papers(&words, &index, &lens, &corpus, &SelectionWeights::default());
        let ids: Vec<u32> = got.iter().map(|(p, _, _)| *p).collect();
        assert_eq!(ids, [0], "{got:?}");
        assert_eq!(got[0].2[0], "equivariance");
    }
}
