//! The profile model: what a reader's liked papers (👍, `like:`, their library) and disliked
//! papers say they want, as one closed-form score per paper — a Rocchio centroid in two
//! spaces at once, fused:
//!
//! ```text
//! profile_m = mean(liked vectors) − dislike · mean(disliked vectors)   (embedding model)
//! profile_w = the same over tf-idf vectors                               (shared words)
//! score(p)  = meaning · cos(p, profile_m) + words · cos(p, profile_w)
//! ```
//!
//! Nothing is trained per reader. What is costly is computed once per run and shared by
//! every reader ([`ProfileIndex`]): the candidates' embedding vectors (one row each, scored
//! against a profile with one pass of dot products; made when each paper was stored and
//! read from the store, see `pipeline::vectors`), an inverted index of the candidates'
//! tf-idf terms (a profile's terms walk only their postings), and the vectors of stored
//! papers readers liked or disliked. A reader's own library papers that are not stored are
//! embedded from their title and abstract when the reader is planned.
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::corpus::{Corpus, SparseVec};
use crate::domain::{Paper, PaperId, ProfileDocument, ReaderFeedback};
use crate::embed::{Embedder, paper_text};

/// How the profile's two spaces and its dislikes weigh (`[selection.ranking]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfileWeights {
    /// Closeness in meaning: the embedding model's cosine with the profile.
    pub meaning: f32,
    /// Shared words: the tf-idf cosine with the profile.
    pub words: f32,
    /// How far a disliked paper pushes the profile away, against a liked one's pull.
    pub dislike: f32,
    /// A paper is recommended only at this fused score or above: the profile ranks, this
    /// keeps a paper that is merely the least far away out of a short period's digest.
    pub min_score: f32,
}

impl ProfileWeights {
    /// The shipped `config.toml`'s values (measured on the relevance benchmark's profiles).
    pub const DEFAULT: ProfileWeights = ProfileWeights {
        meaning: 0.1,
        words: 1.0,
        dislike: 0.5,
        min_score: 0.12,
    };
}

impl Default for ProfileWeights {
    fn default() -> Self {
        ProfileWeights::DEFAULT
    }
}

/// A candidate paper: where it is in the corpus and when it was first stored.
#[derive(Debug, Clone, Copy)]
struct Slot {
    doc: usize,
    first_seen: DateTime<Utc>,
}

/// What every reader's profile is scored against, computed once per run.
pub struct ProfileIndex<'a> {
    corpus: &'a Corpus,
    embedder: &'a Embedder,
    weights: ProfileWeights,
    slots: Vec<Slot>,
    /// The candidates' embedding vectors, one row of `dim` per slot.
    matrix: Vec<f32>,
    dim: usize,
    /// Corpus document → slot.
    slot_of: HashMap<usize, u32>,
    /// Term id → (slot, weight) of the candidates' tf-idf vectors.
    postings: HashMap<u32, Vec<(u32, f32)>>,
    /// Embedding vectors of stored profile papers that are not candidates.
    others: HashMap<usize, Vec<f32>>,
    /// Per stored profile paper, its dot products with every candidate (embedding, tf-idf),
    /// shared by every reader who liked or disliked it: a profile of such papers is scored
    /// by adding a few of these rows (the centroid's cosine is linear in its members).
    rows: HashMap<usize, Rows>,
}

/// A profile paper's dot products with every candidate, by slot.
struct Rows {
    meaning: Box<[f32]>,
    words: Box<[f32]>,
}

/// Profiles of at most this many stored papers are scored from shared rows; larger ones
/// (a library) from their centroid, one pass over the candidates whatever their size.
const MAX_ROW_MEMBERS: usize = 16;
/// At most this many papers' rows are kept (each is 8 bytes per candidate).
const MAX_ROWS: usize = 8192;

/// One paper of a profile: its vectors and the title the why line names.
#[derive(Debug, Clone)]
struct Member {
    doc: Option<usize>,
    title: String,
    meaning: Vec<f32>,
}

/// One reader's profile, ready to score the candidates with.
#[derive(Debug, Clone)]
pub struct ReaderProfile {
    liked: Vec<Member>,
    disliked_docs: Vec<usize>,
    /// The Rocchio centroid in the embedding space, length 1.
    meaning: Vec<f32>,
    /// The Rocchio centroid over tf-idf terms, length 1.
    words: SparseVec,
    /// When every paper of the profile has shared rows: how to add them up.
    shared: Option<Shared>,
}

/// A profile scored from shared rows: each paper with its weight in the centroid, and the
/// lengths of the two centroids before they were scaled to 1.
#[derive(Debug, Clone)]
struct Shared {
    coefficients: Vec<(usize, f32)>,
    meaning_norm: f32,
    words_norm: f32,
}

/// A candidate the profile recommends: the paper, its fused score and the title of the
/// liked paper it is closest to in meaning.
#[derive(Debug, Clone)]
pub struct Recommended<'c> {
    pub paper: &'c Paper,
    pub score: f32,
    pub closest_liked: String,
}

impl<'a> ProfileIndex<'a> {
    /// Indexes the candidates (`(id, first stored)`; ids not in `corpus` are skipped) with
    /// their embedding vectors, `vectors[i]` being `candidates[i]`'s as `embedder` makes it
    /// (computed once and stored, see `pipeline::vectors`).
    #[tracing::instrument(name = "Indexing the period's papers for profiles", skip_all)]
    pub fn build(
        corpus: &'a Corpus,
        embedder: &'a Embedder,
        candidates: &[(PaperId, DateTime<Utc>)],
        vectors: &[Vec<f32>],
        weights: ProfileWeights,
    ) -> ProfileIndex<'a> {
        assert_eq!(candidates.len(), vectors.len(), "one vector per candidate");
        let dim = embedder.dim();
        let mut slots = Vec::with_capacity(candidates.len());
        let mut slot_of = HashMap::with_capacity(candidates.len());
        let mut matrix: Vec<f32> = Vec::with_capacity(candidates.len() * dim);
        for ((id, first_seen), vector) in candidates.iter().zip(vectors) {
            let Some(doc) = corpus.doc(id) else { continue };
            // A repeated id keeps its first slot.
            if let Entry::Vacant(e) = slot_of.entry(doc) {
                assert_eq!(vector.len(), dim, "the vector of {id} is the model's");
                e.insert(slots.len() as u32);
                slots.push(Slot {
                    doc,
                    first_seen: *first_seen,
                });
                matrix.extend_from_slice(vector);
            }
        }
        let mut postings: HashMap<u32, Vec<(u32, f32)>> = HashMap::new();
        for (i, s) in slots.iter().enumerate() {
            for &(t, w) in corpus.vector(s.doc) {
                postings.entry(t).or_default().push((i as u32, w));
            }
        }
        ProfileIndex {
            corpus,
            embedder,
            weights,
            slots,
            matrix,
            dim,
            slot_of,
            postings,
            others: HashMap::new(),
            rows: HashMap::new(),
        }
    }

    /// The candidates' vectors made here and now, for [`ProfileIndex::build`] where there
    /// is no store to keep them (benchmarks, tests); a candidate not in `corpus` gets an
    /// empty one.
    pub fn embed_candidates(
        corpus: &Corpus,
        embedder: &Embedder,
        candidates: &[(PaperId, DateTime<Utc>)],
    ) -> Vec<Vec<f32>> {
        candidates
            .iter()
            .map(|(id, _)| {
                corpus
                    .paper_by_id(id)
                    .map_or_else(Vec::new, |p| embedder.embed_one(&paper_text(p)))
            })
            .collect()
    }

    /// Embeds, once, the stored papers these readers liked or disliked that are not
    /// candidates (called before a page of readers is scored in parallel).
    pub fn prepare<'f>(&mut self, feedback: impl IntoIterator<Item = &'f ReaderFeedback>) {
        let embedder = self.embedder;
        self.prepare_with(feedback, |papers| {
            let texts: Vec<String> = papers.iter().map(|p| paper_text(p)).collect();
            Ok(embedder.embed(&texts))
        })
        .expect("embedding here cannot fail");
    }

    /// [`ProfileIndex::prepare`] with the vectors of those papers from `vectors` (one per
    /// paper, in their order, as this index's model makes them: planning reads them from the
    /// store).
    pub fn prepare_with<'f>(
        &mut self,
        feedback: impl IntoIterator<Item = &'f ReaderFeedback>,
        vectors: impl FnOnce(&[&Paper]) -> anyhow::Result<Vec<Vec<f32>>>,
    ) -> anyhow::Result<()> {
        let feedback: Vec<&ReaderFeedback> = feedback.into_iter().collect();
        let mut docs: Vec<usize> = feedback
            .iter()
            .flat_map(|f| f.likes.iter().chain(&f.dislikes))
            .filter_map(|id| self.corpus.doc(id))
            .filter(|d| !self.slot_of.contains_key(d) && !self.others.contains_key(d))
            .collect();
        docs.sort_unstable();
        docs.dedup();
        if !docs.is_empty() {
            let papers: Vec<&Paper> = docs.iter().map(|&d| self.corpus.paper(d)).collect();
            let vectors = vectors(&papers)?;
            assert!(
                vectors.len() == docs.len() && vectors.iter().all(|v| v.len() == self.dim),
                "one vector of the model's length per paper"
            );
            self.others.extend(docs.into_iter().zip(vectors));
        }
        // The shared rows of the papers of small profiles.
        let mut wanted: Vec<usize> = feedback
            .iter()
            .filter(|f| f.likes.len() + f.dislikes.len() <= MAX_ROW_MEMBERS)
            .flat_map(|f| f.likes.iter().chain(&f.dislikes))
            .filter_map(|id| self.corpus.doc(id))
            .filter(|d| !self.rows.contains_key(d))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        wanted.truncate(MAX_ROWS.saturating_sub(self.rows.len()));
        let rows: Vec<(usize, Rows)> = crate::selection::parallel_map(&wanted, |&doc| {
            let v = self.meaning_of(doc);
            let meaning: Box<[f32]> = self
                .matrix
                .chunks_exact(self.dim.max(1))
                .map(|row| dot(row, &v))
                .collect();
            let mut words = vec![0f32; self.slots.len()];
            self.walk(self.corpus.vector(doc), &mut words);
            let words = words.into_boxed_slice();
            (doc, Rows { meaning, words })
        });
        self.rows.extend(rows);
        Ok(())
    }

    /// Adds `v`'s dot product with every candidate's tf-idf vector to `out`, by slot.
    fn walk(&self, v: &SparseVec, out: &mut [f32]) {
        for &(t, x) in v {
            for &(slot, y) in self.postings.get(&t).map_or(&[][..], Vec::as_slice) {
                out[slot as usize] += x * y;
            }
        }
    }

    /// The corpus the index reads papers from.
    pub fn corpus(&self) -> &Corpus {
        self.corpus
    }

    fn row(&self, slot: usize) -> &[f32] {
        &self.matrix[slot * self.dim..(slot + 1) * self.dim]
    }

    /// A stored paper's embedding vector (candidate or prepared); computed here otherwise.
    fn meaning_of(&self, doc: usize) -> Vec<f32> {
        if let Some(&slot) = self.slot_of.get(&doc) {
            return self.row(slot as usize).to_vec();
        }
        match self.others.get(&doc) {
            Some(v) => v.clone(),
            None => self.embedder.embed_one(&paper_text(self.corpus.paper(doc))),
        }
    }

    /// The profile of a reader with this feedback and these library papers (seeds naming a
    /// stored paper count as that paper liked; the others are read from their title and
    /// abstract). `None` when nothing is liked.
    pub fn profile(
        &self,
        feedback: &ReaderFeedback,
        library: &[ProfileDocument],
    ) -> Option<ReaderProfile> {
        let docs = |ids: &[PaperId]| -> Vec<usize> {
            let mut d: Vec<usize> = ids.iter().filter_map(|id| self.corpus.doc(id)).collect();
            d.sort_unstable();
            d.dedup();
            d
        };
        let mut liked_docs = docs(&feedback.likes);
        let disliked_docs = docs(&feedback.dislikes);
        let mut external: Vec<&ProfileDocument> = Vec::new();
        for d in library.iter().filter(|d| d.is_positive()) {
            match d.paper.as_ref().and_then(|id| self.corpus.doc(id)) {
                Some(doc) if disliked_docs.binary_search(&doc).is_err() => {
                    if let Err(at) = liked_docs.binary_search(&doc) {
                        liked_docs.insert(at, doc);
                    }
                }
                Some(_) => {}
                None if !d.title.trim().is_empty() => external.push(d),
                None => {}
            }
        }
        if liked_docs.is_empty() && external.is_empty() {
            return None;
        }
        let mut liked: Vec<Member> = liked_docs
            .iter()
            .map(|&doc| Member {
                doc: Some(doc),
                title: self.corpus.paper(doc).title.clone(),
                meaning: self.meaning_of(doc),
            })
            .collect();
        let mut liked_words: Vec<SparseVec> = liked_docs
            .iter()
            .map(|&d| self.corpus.vector(d).clone())
            .collect();
        if !external.is_empty() {
            let papers: Vec<Paper> = external
                .iter()
                .map(|d| Paper {
                    title: d.title.clone(),
                    abstract_text: d.abstract_text.clone(),
                    ..Paper::default()
                })
                .collect();
            let texts: Vec<String> = papers.iter().map(paper_text).collect();
            for (p, v) in papers.iter().zip(self.embedder.embed(&texts)) {
                liked_words.push(self.corpus.vectorize(p));
                liked.push(Member {
                    doc: None,
                    title: p.title.clone(),
                    meaning: v,
                });
            }
        }
        let disliked_meaning: Vec<Vec<f32>> =
            disliked_docs.iter().map(|&d| self.meaning_of(d)).collect();
        let disliked_words: Vec<&SparseVec> = disliked_docs
            .iter()
            .map(|&d| self.corpus.vector(d))
            .collect();

        let mut meaning = vec![0f32; self.dim];
        let pull = 1.0 / liked.len() as f32;
        for m in &liked {
            add(&mut meaning, &m.meaning, pull);
        }
        if !disliked_meaning.is_empty() {
            let push = -self.weights.dislike / disliked_meaning.len() as f32;
            for v in &disliked_meaning {
                add(&mut meaning, v, push);
            }
        }
        let meaning_norm = normalise(&mut meaning);
        let mut words: HashMap<u32, f32> = HashMap::new();
        for v in &liked_words {
            for &(t, w) in v {
                *words.entry(t).or_default() += w * pull;
            }
        }
        if !disliked_words.is_empty() {
            let push = -self.weights.dislike / disliked_words.len() as f32;
            for v in disliked_words {
                for &(t, w) in v {
                    *words.entry(t).or_default() += w * push;
                }
            }
        }
        let mut words: SparseVec = words.into_iter().filter(|(_, w)| *w != 0.0).collect();
        words.sort_unstable_by_key(|&(t, _)| t);
        let words_norm = words.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if words_norm > 0.0 {
            words.iter_mut().for_each(|(_, w)| *w /= words_norm);
        }
        let all_shared = external.is_empty()
            && liked_docs
                .iter()
                .chain(&disliked_docs)
                .all(|d| self.rows.contains_key(d));
        let shared = all_shared.then(|| {
            let push = -self.weights.dislike / disliked_docs.len().max(1) as f32;
            let coefficients = liked_docs
                .iter()
                .map(|&d| (d, pull))
                .chain(disliked_docs.iter().map(|&d| (d, push)))
                .collect();
            Shared {
                coefficients,
                meaning_norm,
                words_norm,
            }
        });
        Some(ReaderProfile {
            liked,
            disliked_docs,
            meaning,
            words,
            shared,
        })
    }

    /// The fused score of every candidate for `profile`, by slot.
    fn scores(&self, profile: &ReaderProfile) -> Vec<f32> {
        let ProfileWeights { meaning, words, .. } = self.weights;
        if let Some(shared) = &profile.shared {
            // cos(c, centroid) = Σ coefficient · (c · member) / |centroid|.
            let (mut m, mut w) = (vec![0f32; self.slots.len()], vec![0f32; self.slots.len()]);
            for &(doc, a) in &shared.coefficients {
                let rows = &self.rows[&doc];
                add(&mut m, &rows.meaning, a);
                add(&mut w, &rows.words, a);
            }
            let scale = |norm: f32| if norm > 1e-12 { 1.0 / norm } else { 0.0 };
            let (a, b) = (
                meaning * scale(shared.meaning_norm),
                words * scale(shared.words_norm),
            );
            return m.iter().zip(&w).map(|(x, y)| a * x + b * y).collect();
        }
        let mut m: Vec<f32> = self
            .matrix
            .chunks_exact(self.dim.max(1))
            .map(|row| dot(row, &profile.meaning))
            .collect();
        m.resize(self.slots.len(), 0.0);
        let mut w = vec![0f32; self.slots.len()];
        self.walk(&profile.words, &mut w);
        m.iter()
            .zip(&w)
            .map(|(a, b)| meaning * a + words * b)
            .collect()
    }

    /// Up to `k` candidates for `profile`, best first: first stored at or after `since`,
    /// not in `skip` (already sent, already picked), not liked or disliked, not nearly the
    /// same as a disliked paper, scoring at least [`ProfileWeights::min_score`].
    pub fn recommend(
        &self,
        profile: &ReaderProfile,
        since: DateTime<Utc>,
        skip: &HashSet<&PaperId>,
        k: usize,
        dislike_similarity: f32,
    ) -> Vec<Recommended<'_>> {
        let scores = self.scores(profile);
        let mut ranked: Vec<(f32, u32)> = scores
            .iter()
            .enumerate()
            .filter(|&(i, &s)| s >= self.weights.min_score && self.slots[i].first_seen >= since)
            .map(|(i, &s)| (s, i as u32))
            .collect();
        let by_score = |a: &(f32, u32), b: &(f32, u32)| {
            b.0.total_cmp(&a.0).then_with(|| {
                let id = |s: u32| &self.corpus.paper(self.slots[s as usize].doc).id;
                id(a.1).cmp(id(b.1))
            })
        };
        ranked.sort_unstable_by(by_score);
        let liked_docs: HashSet<usize> = profile.liked.iter().filter_map(|m| m.doc).collect();
        let mut out = Vec::with_capacity(k);
        for (score, slot) in ranked {
            if out.len() == k {
                break;
            }
            let doc = self.slots[slot as usize].doc;
            let paper = self.corpus.paper(doc);
            if paper.id.as_ref().is_none_or(|id| skip.contains(id))
                || liked_docs.contains(&doc)
                || profile.disliked_docs.binary_search(&doc).is_ok()
                || profile
                    .disliked_docs
                    .iter()
                    .any(|&d| self.corpus.cosine(doc, d) >= dislike_similarity)
            {
                continue;
            }
            let row = self.row(slot as usize);
            let closest = profile
                .liked
                .iter()
                .map(|m| (dot(row, &m.meaning), m.title.as_str()))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map_or(String::new(), |(_, t)| t.to_string());
            out.push(Recommended {
                paper,
                score,
                closest_liked: closest,
            });
        }
        out
    }

    /// Every candidate but the profile's own papers, best first, with its score (no
    /// minimum): for the relevance benchmark.
    pub fn rank_all(&self, profile: &ReaderProfile) -> Vec<(PaperId, f32)> {
        let scores = self.scores(profile);
        let own: HashSet<usize> = profile
            .liked
            .iter()
            .filter_map(|m| m.doc)
            .chain(profile.disliked_docs.iter().copied())
            .collect();
        let mut out: Vec<(PaperId, f32)> = self
            .slots
            .iter()
            .zip(scores)
            .filter(|(s, _)| !own.contains(&s.doc))
            .filter_map(|(s, score)| Some((self.corpus.paper(s.doc).id.clone()?, score)))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

fn add(sum: &mut [f32], v: &[f32], scale: f32) {
    for (s, x) in sum.iter_mut().zip(v) {
        *s += scale * x;
    }
}

/// A dot product in eight independent lanes, which the compiler turns into vector
/// instructions (a plain running sum must keep its order and stays scalar): scoring every
/// candidate is one of these per candidate and reader.
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Scales `v` to length 1; returns its length before.
fn normalise(v: &mut [f32]) -> f32 {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 1e-12 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    norm
}
