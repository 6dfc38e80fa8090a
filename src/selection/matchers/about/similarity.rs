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
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

use crate::selection::normalise::Field;
use crate::selection::score::{Corpus, Hits, SelectionWeights, saturation};

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
    /// Stem → its id in `postings`.
    stems: HashMap<String, u32>,
    /// Token key → its stem's id, `None` for a stop word: each distinct word of the papers
    /// is stemmed once, not at every occurrence.
    keys: HashMap<String, Option<u32>>,
    postings: Vec<Vec<(u32, Hits)>>,
    /// Per stem id, the saturation of each posting ÷ (k1 + 1) ([`WordIndex::score`]): the
    /// same for every description using the word, so computed once.
    saturations: Vec<Vec<f64>>,
    /// One paper's hits per stem id, reused from paper to paper.
    local: Vec<(u32, Hits)>,
}

impl WordIndex {
    /// Adds a paper; papers must be added in increasing order (postings stay by paper).
    pub(crate) fn add(&mut self, paper: u32, title: &Field, keywords: &Field, abs: &Field) {
        let mut local = std::mem::take(&mut self.local);
        local.clear();
        for (which, field) in [(0, title), (1, keywords), (2, abs)] {
            for t in &field.tokens {
                let key = field.key(t);
                let Some(id) = self.stem_id(key) else {
                    continue;
                };
                local.push((id, Hits::default()));
                let Some((_, h)) = local.last_mut() else {
                    continue;
                };
                match which {
                    0 => h.title = 1,
                    1 => h.keywords = 1,
                    _ => h.abstract_text = 1,
                }
            }
        }
        local.sort_unstable_by_key(|(id, _)| *id);
        let mut i = 0;
        while i < local.len() {
            let id = local[i].0;
            let mut h = Hits::default();
            while let Some((_, x)) = local.get(i).filter(|(other, _)| *other == id) {
                h.title = h.title.saturating_add(x.title);
                h.keywords = h.keywords.saturating_add(x.keywords);
                h.abstract_text = h.abstract_text.saturating_add(x.abstract_text);
                i += 1;
            }
            self.postings[id as usize].push((paper, h));
        }
        self.local = local;
    }

    fn stem_id(&mut self, key: &str) -> Option<u32> {
        if let Some(id) = self.keys.get(key) {
            return *id;
        }
        let id = (!is_stop_word(key)).then(|| {
            let next = self.postings.len() as u32;
            let id = *self.stems.entry(stem(key)).or_insert(next);
            if id == next {
                self.postings.push(Vec::new());
            }
            id
        });
        self.keys.insert(key.to_string(), id);
        id
    }

    fn get(&self, stem: &str) -> &[(u32, Hits)] {
        self.stems
            .get(stem)
            .and_then(|id| self.postings.get(*id as usize))
            .map_or(&[], Vec::as_slice)
    }

    /// Computes every posting's saturation once all papers are added.
    pub(crate) fn score(&mut self, abstract_lens: &[usize], corpus: &Corpus, w: &SelectionWeights) {
        self.saturations = self
            .postings
            .iter()
            .map(|list| {
                list.iter()
                    .map(|&(p, h)| posting_saturation(h, p, abstract_lens, corpus, w))
                    .collect()
            })
            .collect();
    }

    /// The saturations of [`WordIndex::get`]'s postings, when [`WordIndex::score`] ran.
    fn saturations(&self, stem: &str) -> Option<&[f64]> {
        let id = *self.stems.get(stem)?;
        self.saturations.get(id as usize).map(Vec::as_slice)
    }
}

fn posting_saturation(
    h: Hits,
    paper: u32,
    abstract_lens: &[usize],
    corpus: &Corpus,
    w: &SelectionWeights,
) -> f64 {
    let len = abstract_lens.get(paper as usize).copied().unwrap_or(0);
    saturation(w, h, len, corpus) / (w.k1 + 1.0)
}

static STOP_SET: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| STOP_WORDS.iter().copied().collect());

fn is_stop_word(key: &str) -> bool {
    STOP_SET.contains(key)
}

/// The description's content words: (as written, stem), without repeats.
pub(crate) fn content_words(description: &str) -> Vec<(String, String)> {
    let field = Field::new(description);
    let mut words: Vec<(String, String)> = Vec::new();
    for t in &field.tokens {
        let key = field.key(t);
        if is_stop_word(key) || key.chars().count() < 2 {
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

/// Up to three words of a description that carried a paper, as indices into its words,
/// heaviest first: a few bytes per paper instead of a copy of each word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Carrying {
    len: u8,
    words: [u16; 3],
}

impl Carrying {
    /// The carrying words among the description's `words`.
    pub(crate) fn words(&self, words: &[String]) -> Vec<String> {
        self.words[..self.len as usize]
            .iter()
            .filter_map(|&i| words.get(i as usize).cloned())
            .collect()
    }
}

/// A paper similar enough to a description.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Similar {
    pub paper: u32,
    /// 0–1, see the module's formula.
    pub similarity: f64,
    pub carrying: Carrying,
}

/// Dense per-paper sums reused from one description to the next (planning scores
/// thousands of descriptions over the same papers): no map, no allocation per paper.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    sums: Vec<f64>,
    touched: Vec<u32>,
    /// Per word of the description, its (paper, contribution), by paper.
    per_word: Vec<Vec<(u32, f64)>>,
    merged: Vec<(u32, Hits)>,
}

/// Papers similar enough to a description, by paper.
pub(crate) fn similar_papers(
    words: &[AboutWord<'_>],
    index: &WordIndex,
    abstract_lens: &[usize],
    corpus: &Corpus,
    w: &SelectionWeights,
    scratch: &mut Scratch,
) -> Vec<Similar> {
    let Scratch {
        sums,
        touched,
        per_word,
        merged,
    } = scratch;
    if sums.len() < abstract_lens.len() {
        sums.resize(abstract_lens.len(), 0.0);
    }
    per_word.iter_mut().for_each(Vec::clear);
    if per_word.len() < words.len() {
        per_word.resize_with(words.len(), Vec::new);
    }
    let mut idf_sum = 0.0;
    for (i, word) in words.iter().enumerate() {
        // Both lists are by paper: merged keeping the larger count per field.
        let own = index.get(&word.stem);
        let (postings, known): (&[(u32, Hits)], Option<&[f64]>) = if word.extra.is_empty() {
            (own, index.saturations(&word.stem))
        } else {
            merge_max(own, word.extra, merged);
            (merged, None)
        };
        if postings.is_empty() {
            // A word no paper uses says nothing about the papers: it neither helps nor
            // dilutes (`prone` in "less prone to hallucination").
            continue;
        }
        let idf = corpus.idf(postings.len());
        idf_sum += idf;
        for (k, &(p, h)) in postings.iter().enumerate() {
            let s = match known.and_then(|known| known.get(k)) {
                Some(s) => *s,
                None => posting_saturation(h, p, abstract_lens, corpus, w),
            };
            let c = idf * s;
            let Some(sum) = sums.get_mut(p as usize) else {
                continue;
            };
            if *sum == 0.0 {
                // First contribution (or only zeros so far): listed, duplicates dropped below.
                touched.push(p);
            }
            *sum += c;
            per_word[i].push((p, c));
        }
    }
    touched.sort_unstable();
    touched.dedup();
    let mut out = Vec::new();
    for &p in touched.iter() {
        let total = std::mem::take(&mut sums[p as usize]);
        if idf_sum <= 0.0 {
            continue;
        }
        let sim = total / idf_sum;
        if sim + 1e-9 < w.about_threshold {
            continue;
        }
        let mut contributions: Vec<(usize, f64)> = per_word[..words.len()]
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let k = l.binary_search_by_key(&p, |x| x.0).ok()?;
                Some((i, l[k].1))
            })
            .collect();
        contributions.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut carrying = Carrying::default();
        for (slot, (i, _)) in contributions.iter().take(3).enumerate() {
            carrying.words[slot] = u16::try_from(*i).unwrap_or(u16::MAX);
            carrying.len = slot as u8 + 1;
        }
        out.push(Similar {
            paper: p,
            similarity: sim,
            carrying,
        });
    }
    touched.clear();
    out
}

/// `a` and `b` (each by paper) as one list by paper, the larger count per field.
fn merge_max(a: &[(u32, Hits)], b: &[(u32, Hits)], out: &mut Vec<(u32, Hits)>) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                i += 1;
                j += 1;
                let (hx, hy) = (x.1, y.1);
                (
                    x.0,
                    Hits {
                        title: hx.title.max(hy.title),
                        keywords: hx.keywords.max(hy.keywords),
                        abstract_text: hx.abstract_text.max(hy.abstract_text),
                    },
                )
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                i += 1;
                *x
            }
            (Some(_), Some(y)) | (None, Some(y)) => {
                j += 1;
                *y
            }
            (Some(x), None) => {
                i += 1;
                *x
            }
            (None, None) => break,
        };
        out.push(next);
    }
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
        let mut scratch = Scratch::default();
        let w = SelectionWeights::default();
        let got = similar_papers(&words, &index, &lens, &corpus, &w, &mut scratch);
        let ids: Vec<u32> = got.iter().map(|s| s.paper).collect();
        assert_eq!(ids, [0], "{got:?}");
        let written: Vec<String> = words.iter().map(|w| w.word.clone()).collect();
        assert_eq!(got[0].carrying.words(&written)[0], "equivariance");
        // The scratch is clean for the next description: the same answer again.
        let again = similar_papers(&words, &index, &lens, &corpus, &w, &mut scratch);
        assert_eq!(again, got);
    }

    /// The first, straightforward version: maps per word and per paper, every saturation
    /// computed in place. The dense version must give the same papers, similarities (to
    /// the bit) and carrying words.
    fn similar_papers_reference(
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

    #[test]
    fn dense_similarity_equals_the_straightforward_one_on_a_generated_corpus() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        const VOCABULARY: &[&str] = &[
            "equivariant",
            "equivariance",
            "symmetry",
            "deep",
            "learning",
            "graph",
            "graphs",
            "molecule",
            "molecules",
            "diffusion",
            "noise",
            "kernel",
            "the",
            "of",
            "vision",
            "transformer",
            "transformers",
            "policy",
            "reward",
            "sampling",
            "matrices",
        ];
        let mut rng = StdRng::seed_from_u64(11);
        let mut text = |n: usize| -> String {
            (0..n)
                .map(|_| VOCABULARY[rng.random_range(0..VOCABULARY.len())])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let texts: Vec<(String, String)> = (0..150).map(|_| (text(6), text(50))).collect();
        let borrowed: Vec<(&str, &str)> = texts
            .iter()
            .map(|(t, a)| (t.as_str(), a.as_str()))
            .collect();
        let (mut index, lens, corpus) = corpus_of(&borrowed);
        // An expansion's postings (as a learned acronym brings): every third paper.
        let extra: Vec<(u32, Hits)> = (0..150)
            .step_by(3)
            .map(|p| {
                (
                    p,
                    Hits {
                        title: 0,
                        keywords: 0,
                        abstract_text: 2,
                    },
                )
            })
            .collect();
        let descriptions: Vec<String> = (0..60).map(|_| text(5)).collect();
        for threshold in [0.0, 0.3] {
            let w = SelectionWeights {
                about_threshold: threshold,
                ..SelectionWeights::default()
            };
            index.score(&lens, &corpus, &w);
            let mut scratch = Scratch::default();
            let mut compared = 0;
            for (d, description) in descriptions.iter().enumerate() {
                let words: Vec<AboutWord<'_>> = content_words(description)
                    .into_iter()
                    .enumerate()
                    .map(|(i, (word, stem))| AboutWord {
                        word,
                        stem,
                        extra: if (i + d) % 4 == 0 { &extra } else { &[] },
                    })
                    .collect();
                let written: Vec<String> = words.iter().map(|w| w.word.clone()).collect();
                let dense: Vec<(u32, f64, Vec<String>)> =
                    similar_papers(&words, &index, &lens, &corpus, &w, &mut scratch)
                        .into_iter()
                        .map(|s| (s.paper, s.similarity, s.carrying.words(&written)))
                        .collect();
                let reference = similar_papers_reference(&words, &index, &lens, &corpus, &w);
                assert_eq!(dense.len(), reference.len(), "{description}");
                for (a, b) in dense.iter().zip(&reference) {
                    assert_eq!((a.0, a.1.to_bits(), &a.2), (b.0, b.1.to_bits(), &b.2));
                }
                compared += dense.len();
            }
            assert!(compared > 100, "only {compared} papers compared");
        }
    }
}
