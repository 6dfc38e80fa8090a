//! The tf-idf index of every stored paper: built once per planning run and shared by all
//! readers. Vectors are sparse, sublinear in term frequency (`1 + ln tf`), weighted by a
//! smoothed idf (`ln((1 + n) / (1 + df)) + 1`, as scikit-learn's) and l2-normalised, so the
//! dot product of two papers is their cosine similarity.
use std::collections::HashMap;

use crate::domain::{Paper, PaperId};

use super::terms::{TITLE_WEIGHT, add_terms};

/// A sparse vector: (term id, weight) sorted by term id.
pub(crate) type SparseVec = Vec<(u32, f32)>;

/// Terms in more than this share of papers say nothing about a topic (once there are
/// enough papers for the share to mean something: [`MIN_DOCS_FOR_MAX_DF`]).
const MAX_DF_SHARE: f32 = 0.5;
const MIN_DOCS_FOR_MAX_DF: usize = 20;

/// Every stored paper as a tf-idf vector, in id order.
pub struct Corpus {
    papers: Vec<Paper>,
    by_id: HashMap<PaperId, usize>,
    vectors: Vec<SparseVec>,
    /// Term → (id, idf): texts that are not stored papers (a reader's library) are read
    /// into the same space.
    vocab: HashMap<String, (u32, f32)>,
}

impl Corpus {
    /// Indexes `papers` (those without an id are skipped; a repeated id keeps the first).
    /// A term found in a single paper links no two papers and is left out.
    #[tracing::instrument(name = "Indexing papers for recommendations", skip_all)]
    pub fn build(papers: impl IntoIterator<Item = Paper>) -> Corpus {
        let mut papers: Vec<Paper> = papers.into_iter().filter(|p| p.id.is_some()).collect();
        papers.sort_by(|a, b| a.id.cmp(&b.id));
        papers.dedup_by(|a, b| a.id == b.id);
        let counts: Vec<HashMap<String, f32>> = papers.iter().map(term_counts).collect();
        let mut df: HashMap<&str, u32> = HashMap::new();
        for c in &counts {
            for t in c.keys() {
                *df.entry(t.as_str()).or_default() += 1;
            }
        }
        let n = papers.len();
        let max_df = if n >= MIN_DOCS_FOR_MAX_DF {
            (n as f32 * MAX_DF_SHARE) as u32
        } else {
            u32::MAX
        };
        // Term ids in sorted term order: the same papers always give the same vectors.
        let mut kept: Vec<(&str, u32)> = df
            .iter()
            .filter(|&(_, &d)| d >= 2 && d <= max_df)
            .map(|(t, d)| (*t, *d))
            .collect();
        kept.sort_unstable();
        let vocab: HashMap<String, (u32, f32)> = kept
            .iter()
            .enumerate()
            .map(|(i, &(t, d))| {
                let idf = ((1.0 + n as f32) / (1.0 + d as f32)).ln() + 1.0;
                (t.to_string(), (i as u32, idf))
            })
            .collect();
        let vectors = counts.iter().map(|c| weigh(c, &vocab)).collect();
        let by_id = papers
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((p.id.clone()?, i)))
            .collect();
        Corpus {
            papers,
            by_id,
            vectors,
            vocab,
        }
    }

    /// The tf-idf vector of a text that is not a stored paper (a paper of a reader's
    /// library), in the corpus' terms; terms the corpus does not know are left out.
    pub(crate) fn vectorize(&self, paper: &Paper) -> SparseVec {
        weigh(&term_counts(paper), &self.vocab)
    }

    pub fn len(&self) -> usize {
        self.papers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.papers.is_empty()
    }

    /// Size of the vocabulary (terms kept).
    pub fn dims(&self) -> usize {
        self.vocab.len()
    }

    pub(crate) fn doc(&self, id: &PaperId) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The paper stored under `id`, if the corpus holds it.
    pub(crate) fn paper_by_id(&self, id: &PaperId) -> Option<&Paper> {
        self.doc(id).map(|d| self.paper(d))
    }

    pub(crate) fn paper(&self, doc: usize) -> &Paper {
        &self.papers[doc]
    }

    pub(crate) fn vector(&self, doc: usize) -> &SparseVec {
        &self.vectors[doc]
    }

    /// Cosine similarity of two papers.
    pub(crate) fn cosine(&self, a: usize, b: usize) -> f32 {
        sparse_dot(&self.vectors[a], &self.vectors[b])
    }
}

/// Term counts to an l2-normalised sublinear tf-idf vector sorted by term id.
fn weigh(counts: &HashMap<String, f32>, vocab: &HashMap<String, (u32, f32)>) -> SparseVec {
    let mut v: SparseVec = counts
        .iter()
        .filter_map(|(t, &tf)| {
            let &(id, idf) = vocab.get(t.as_str())?;
            Some((id, (1.0 + tf.ln()) * idf))
        })
        .collect();
    v.sort_unstable_by_key(|&(id, _)| id);
    let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|(_, w)| *w /= norm);
    }
    v
}

fn term_counts(p: &Paper) -> HashMap<String, f32> {
    let mut c = HashMap::new();
    add_terms(&p.title, TITLE_WEIGHT, &mut c);
    add_terms(&p.abstract_text, 1.0, &mut c);
    c
}

/// Dot product of two sparse vectors sorted by term id (a merge join).
pub(crate) fn sparse_dot(a: &SparseVec, b: &SparseVec) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn paper(id: &str, title: &str, abs: &str) -> Paper {
        Paper {
            id: PaperId::parse_arxiv(id).map(|p| p.0),
            title: title.into(),
            abstract_text: abs.into(),
            ..Paper::default()
        }
    }

    #[test]
    fn vectors_are_unit_length_and_similar_papers_are_closer() {
        let c = Corpus::build(vec![
            paper(
                "2401.00003",
                "Graph neural networks",
                "Message passing on graphs.",
            ),
            paper(
                "2401.00001",
                "Diffusion models for images",
                "Denoising diffusion for image synthesis.",
            ),
            paper(
                "2401.00002",
                "Latent diffusion models",
                "Image synthesis with latent denoising.",
            ),
            paper(
                "2401.00004",
                "Graph transformers",
                "Attention over graph nodes and message passing.",
            ),
        ]);
        assert_eq!(c.len(), 4);
        for d in 0..c.len() {
            let norm: f32 = c.vector(d).iter().map(|(_, w)| w * w).sum();
            assert!((norm - 1.0).abs() < 1e-4, "{norm}");
        }
        let id = |s: &str| c.doc(&PaperId::parse_arxiv(s).unwrap().0).unwrap();
        let (d1, d2, g1, g2) = (
            id("2401.00001"),
            id("2401.00002"),
            id("2401.00003"),
            id("2401.00004"),
        );
        assert!(c.cosine(d1, d2) > c.cosine(d1, g1));
        assert!(c.cosine(g1, g2) > c.cosine(g1, d2));
    }

    #[test]
    fn the_same_papers_in_any_order_give_the_same_index() {
        let ps = vec![
            paper("2401.00001", "Diffusion models", "Denoising diffusion."),
            paper("2401.00002", "Latent diffusion", "Latent denoising models."),
        ];
        let mut rev = ps.clone();
        rev.reverse();
        let (a, b) = (Corpus::build(ps), Corpus::build(rev));
        assert_eq!(a.vectors, b.vectors);
    }
}
