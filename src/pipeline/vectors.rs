//! Paper vectors, computed once: a paper is embedded when it is stored (`fetch`), its
//! vector kept in the store under the model's identity with a hash of the text embedded
//! ([`embed::paper_text`]), and read back by planning instead of embedding the period's
//! papers again. A vector the store lacks, or one made from another text (a merge changed
//! the title or abstract) or by another model, is computed again and stored.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::domain::{Paper, PaperId};
use crate::embed::{self, Embedder};
use crate::recommend::Corpus;
use crate::store::Store;

/// The vector of each of `papers`, in their order: the stored ones made by `embedder`'s
/// model from the same text, the others embedded (in one batch) and stored. A paper with
/// no id is embedded but not stored.
pub fn paper_vectors(
    store: &Store,
    embedder: &Embedder,
    papers: &[&Paper],
) -> anyhow::Result<Vec<Vec<f32>>> {
    Ok(vectors_and_count(store, embedder, papers, Write::Store)?.0)
}

/// [`paper_vectors`], storing those computed now only when `write` says so.
pub(crate) fn paper_vectors_writing(
    store: &Store,
    embedder: &Embedder,
    papers: &[&Paper],
    write: Write,
) -> anyhow::Result<Vec<Vec<f32>>> {
    Ok(vectors_and_count(store, embedder, papers, write)?.0)
}

/// Whether vectors computed now are stored: not by a dry run or a preview, which write
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    Store,
    Nothing,
}

/// Computes and stores the vectors of the stored papers `ids` that have none for
/// `embedder`'s model and their current text (unknown ids are left out); returns how many
/// were embedded. Called where papers are stored, so planning finds them.
#[tracing::instrument(name = "Embedding stored papers", skip_all, fields(papers = ids.len()))]
pub fn embed_stored_papers(
    store: &Store,
    embedder: &Embedder,
    ids: &[PaperId],
) -> anyhow::Result<usize> {
    let stored = store.papers_by_id(ids)?;
    let mut papers: Vec<&Paper> = stored.values().collect();
    papers.sort_by(|a, b| a.id.cmp(&b.id));
    // Two of the ids may be keys of one stored paper (its DOI and a preprint's, say).
    papers.dedup_by(|a, b| a.id == b.id);
    Ok(vectors_and_count(store, embedder, &papers, Write::Store)?.1)
}

/// The vectors of planning's candidates (`(id, first stored)`), in their order, as
/// [`paper_vectors`] makes them (storing those computed now unless `write` says not to); a
/// candidate missing from `corpus` (which [`crate::recommend::ProfileIndex`] skips too)
/// gets an empty one.
pub(crate) fn candidate_vectors(
    store: &Store,
    embedder: &Embedder,
    corpus: &Corpus,
    candidates: &[(PaperId, DateTime<Utc>)],
    write: Write,
) -> anyhow::Result<Vec<Vec<f32>>> {
    let found: Vec<Option<&Paper>> = candidates
        .iter()
        .map(|(id, _)| corpus.paper_by_id(id))
        .collect();
    let papers: Vec<&Paper> = found.iter().flatten().copied().collect();
    let mut vectors = paper_vectors_writing(store, embedder, &papers, write)?.into_iter();
    Ok(found
        .iter()
        .map(|p| match p {
            Some(_) => vectors.next().unwrap_or_default(),
            None => Vec::new(),
        })
        .collect())
}

/// [`paper_vectors`] and how many of them were embedded now.
fn vectors_and_count(
    store: &Store,
    embedder: &Embedder,
    papers: &[&Paper],
    write: Write,
) -> anyhow::Result<(Vec<Vec<f32>>, usize)> {
    let model = embedder.identity().key();
    let texts: Vec<String> = papers.iter().map(|p| embed::paper_text(p)).collect();
    let hashes: Vec<String> = texts.iter().map(|t| text_hash(t)).collect();
    let wanted: Vec<(PaperId, String)> = papers
        .iter()
        .zip(&hashes)
        .filter_map(|(p, h)| Some((p.id.clone()?, h.clone())))
        .collect();
    let mut stored = if wanted.is_empty() {
        HashMap::new()
    } else {
        store.paper_vectors(&model, &wanted)?
    };
    // A vector of another length cannot be this model's, whatever its row says.
    stored.retain(|_, v| v.len() == embedder.dim());
    let missing: Vec<usize> = papers
        .iter()
        .enumerate()
        .filter(|(_, p)| p.id.as_ref().is_none_or(|id| !stored.contains_key(id)))
        .map(|(i, _)| i)
        .collect();
    let fresh = embedder.embed(&missing.iter().map(|&i| &texts[i]).collect::<Vec<_>>());
    let mut seen = HashSet::new();
    let rows: Vec<(PaperId, String, Vec<f32>)> = missing
        .iter()
        .zip(&fresh)
        .filter_map(|(&i, v)| {
            let id = papers[i].id.clone()?;
            seen.insert(id.clone())
                .then(|| (id, hashes[i].clone(), v.clone()))
        })
        .collect();
    if !rows.is_empty() && write == Write::Store {
        store.put_paper_vectors(&model, &rows)?;
        tracing::debug!(embedded = rows.len(), "stored new paper vectors");
    }
    let embedded = missing.len();
    let mut fresh = missing.into_iter().zip(fresh).peekable();
    let vectors = papers
        .iter()
        .enumerate()
        .map(|(i, p)| match fresh.next_if(|(j, _)| *j == i) {
            Some((_, v)) => v,
            None => {
                p.id.as_ref()
                    .and_then(|id| stored.get(id))
                    .cloned()
                    .unwrap_or_default()
            }
        })
        .collect();
    Ok((vectors, embedded))
}

/// What the store keeps of the text a vector was made from: its SHA-256, in hex.
fn text_hash(text: &str) -> String {
    crate::store::sha256_hex(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::tests::{SHIPPED, model_copy};
    use crate::test_support::arxiv_id as id;

    fn paper(i: &str, title: &str) -> Paper {
        Paper {
            id: Some(id(i)),
            title: title.into(),
            abstract_text: format!("We study {title} with sparse experts and attention."),
            ..Paper::default()
        }
    }

    fn stored(store: &Store, papers: &[Paper]) {
        store.upsert_papers(papers.to_vec(), Utc::now()).unwrap();
    }

    /// A store holding two papers, and the papers.
    fn two_stored() -> (Store, Paper, Paper) {
        let store = Store::for_tests().unwrap();
        let a = paper("2410.00001", "Mixture of experts");
        let b = paper("2410.00002", "Protein folding");
        stored(&store, &[a.clone(), b.clone()]);
        (store, a, b)
    }

    /// A vector no model makes from these texts: length 1 along the first axis.
    fn forged(dim: usize) -> Vec<f32> {
        let mut v = vec![0.0; dim];
        v[0] = 1.0;
        v
    }

    #[test]
    fn vectors_computed_when_papers_are_stored_are_read_back_not_recomputed() {
        let (store, a, b) = two_stored();
        let ids = [id("2410.00001"), id("2410.00002")];
        assert_eq!(embed_stored_papers(&store, &SHIPPED, &ids).unwrap(), 2);
        assert_eq!(
            embed_stored_papers(&store, &SHIPPED, &ids).unwrap(),
            0,
            "a second pass finds every vector stored"
        );
        // What is stored is what comes back: replace a's vector by one no model made.
        let model = SHIPPED.identity().key();
        let hash = text_hash(&embed::paper_text(&a));
        store
            .put_paper_vectors(&model, &[(ids[0].clone(), hash, forged(SHIPPED.dim()))])
            .unwrap();
        let vectors = paper_vectors(&store, &SHIPPED, &[&b, &a]).unwrap();
        assert_eq!(vectors[1], forged(SHIPPED.dim()));
        assert_eq!(vectors[0], SHIPPED.embed_one(&embed::paper_text(&b)));
    }

    #[test]
    fn a_changed_text_is_embedded_again_and_its_new_vector_stored() {
        let store = Store::for_tests().unwrap();
        let a = paper("2410.00001", "Mixture of experts");
        stored(&store, std::slice::from_ref(&a));
        let model = SHIPPED.identity().key();
        let hash = text_hash(&embed::paper_text(&a));
        store
            .put_paper_vectors(&model, &[(id("2410.00001"), hash, forged(SHIPPED.dim()))])
            .unwrap();
        let mut changed = a.clone();
        changed.abstract_text = "A longer abstract another source gave, about proteins.".into();

        let vectors = paper_vectors(&store, &SHIPPED, &[&changed]).unwrap();

        let expected = SHIPPED.embed_one(&embed::paper_text(&changed));
        assert_eq!(
            vectors,
            std::slice::from_ref(&expected),
            "the old text's vector is not used"
        );
        let new_hash = text_hash(&embed::paper_text(&changed));
        let kept = store
            .paper_vectors(&model, &[(id("2410.00001"), new_hash)])
            .unwrap();
        assert_eq!(
            kept[&id("2410.00001")],
            expected,
            "the new vector is stored"
        );
    }

    #[test]
    fn another_model_embeds_again_and_replaces_the_old_models_vectors() {
        let store = Store::for_tests().unwrap();
        let a = paper("2410.00001", "Mixture of experts");
        stored(&store, std::slice::from_ref(&a));
        assert_eq!(
            embed_stored_papers(&store, &SHIPPED, &[id("2410.00001")]).unwrap(),
            1
        );
        let (_tmp, dir) = model_copy("other-model");
        let other = Embedder::load(&dir).unwrap();

        let vectors = paper_vectors(&store, &other, &[&a]).unwrap();

        assert_eq!(vectors, [other.embed_one(&embed::paper_text(&a))]);
        assert_eq!(vectors[0].len(), other.dim());
        assert_eq!(
            embed_stored_papers(&store, &other, &[id("2410.00001")]).unwrap(),
            0
        );
        assert_eq!(
            embed_stored_papers(&store, &SHIPPED, &[id("2410.00001")]).unwrap(),
            1,
            "the old model's vector was dropped when the new one was stored"
        );
    }

    #[test]
    fn a_paper_without_an_id_or_not_stored_is_embedded_but_not_stored() {
        let store = Store::for_tests().unwrap();
        let mut loose = paper("2410.00001", "Mixture of experts");
        loose.id = None;
        let unstored = paper("2410.00009", "Protein folding");

        let vectors = paper_vectors(&store, &SHIPPED, &[&loose, &unstored]).unwrap();

        assert_eq!(vectors[0], SHIPPED.embed_one(&embed::paper_text(&loose)));
        assert_eq!(vectors[1], SHIPPED.embed_one(&embed::paper_text(&unstored)));
        let hash = text_hash(&embed::paper_text(&unstored));
        assert!(
            store
                .paper_vectors(&SHIPPED.identity().key(), &[(id("2410.00009"), hash)])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn planning_candidates_get_their_stored_vectors_in_order_and_unknown_ones_an_empty_one() {
        let (store, a, b) = two_stored();
        let hash = text_hash(&embed::paper_text(&b));
        store
            .put_paper_vectors(
                &SHIPPED.identity().key(),
                &[(id("2410.00002"), hash, forged(SHIPPED.dim()))],
            )
            .unwrap();
        let corpus = Corpus::build(store.all_papers().unwrap());
        let t = Utc::now();
        let candidates = [
            (id("2410.00002"), t),
            (id("2410.00404"), t),
            (id("2410.00001"), t),
        ];

        let vectors =
            candidate_vectors(&store, &SHIPPED, &corpus, &candidates, Write::Nothing).unwrap();

        assert_eq!(
            vectors[0],
            forged(SHIPPED.dim()),
            "the stored vector, not a new one"
        );
        assert!(vectors[1].is_empty());
        assert_eq!(vectors[2], SHIPPED.embed_one(&embed::paper_text(&a)));
        assert_eq!(
            embed_stored_papers(&store, &SHIPPED, &[id("2410.00001")]).unwrap(),
            1,
            "a dry run or a preview stored nothing"
        );
    }
}
