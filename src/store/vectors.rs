//! Paper vectors: each stored paper's embedding vector under the model that made it (its
//! [`crate::embed::ModelIdentity::key`]), with a hash of the text embedded. A vector is read
//! back only while its text hash still matches, so a paper whose title or abstract changed
//! since is embedded again. Storing a model's vector for a paper drops the paper's vectors
//! of any other model (a store uses one model at a time).
use super::error::{DbResult, bail};
use std::collections::HashMap;

use super::papers::stored_paper_ids;
use super::{Store, StoreError};
use crate::domain::PaperId;

impl Store {
    /// The stored vectors made by `model` ([`crate::embed::ModelIdentity::key`]) of the
    /// wanted papers, each `(id, hash of the text embedded now)`: a paper whose stored vector
    /// was made from another text (its title or abstract changed), or by another model, or
    /// never, is left out, to be embedded again.
    #[tracing::instrument(name = "Reading paper vectors", skip_all, fields(wanted = wanted.len()))]
    pub fn paper_vectors(
        &self,
        model: &str,
        wanted: &[(PaperId, String)],
    ) -> Result<HashMap<PaperId, Vec<f32>>, StoreError> {
        self.read("paper_vectors", |c| {
            let by_id: HashMap<&str, (&PaperId, &str)> = wanted
                .iter()
                .map(|(id, hash)| (id.as_str(), (id, hash.as_str())))
                .collect();
            let ids: Vec<&str> = by_id.keys().copied().collect();
            let mut out = HashMap::with_capacity(ids.len());
            c.query_in(
                "SELECT paper_id, text_hash, vector FROM paper_vectors
                 WHERE model = $1 AND paper_id IN ({in})",
                &[&model],
                &ids,
                |r| {
                    let (paper, hash) = (r.get::<String>(0)?, r.get::<String>(1)?);
                    if let Some(&(id, wanted_hash)) = by_id.get(paper.as_str())
                        && hash == wanted_hash
                    {
                        out.insert(id.clone(), decode(id, &r.get::<Vec<u8>>(2)?)?);
                    }
                    Ok(())
                },
            )?;
            Ok(out)
        })
    }

    /// Stores papers' vectors made by `model`, each `(id, hash of the text embedded,
    /// vector)`, in one transaction, replacing the paper's earlier vector and dropping its
    /// vectors of other models. A paper that is not stored gets none. Returns how many
    /// were written.
    #[tracing::instrument(name = "Storing paper vectors", skip_all, fields(rows = rows.len()))]
    pub fn put_paper_vectors(
        &self,
        model: &str,
        rows: &[(PaperId, String, Vec<f32>)],
    ) -> Result<usize, StoreError> {
        self.transaction("put_paper_vectors", |c| {
            let ids: Vec<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
            let stored = stored_paper_ids(c, &ids)?;
            let mut written = 0;
            for (id, hash, vector) in rows.iter().filter(|(id, _, _)| stored.contains(id)) {
                written += c.execute(
                    "INSERT INTO paper_vectors (paper_id, model, text_hash, vector)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (paper_id, model)
                     DO UPDATE SET text_hash = excluded.text_hash, vector = excluded.vector",
                    &[&id.as_str(), &model, hash, &encode(vector)],
                )? as usize;
                c.execute(
                    "DELETE FROM paper_vectors WHERE paper_id = $1 AND model <> $2",
                    &[&id.as_str(), &model],
                )?;
            }
            Ok(written)
        })
    }
}

/// A vector as stored: its f32s one after the other, little-endian.
fn encode(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A stored vector read back; a length that is no whole number of f32s is a damaged row.
fn decode(id: &PaperId, bytes: &[u8]) -> DbResult<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        bail!(
            "the stored vector of paper {id} is {} bytes long, not a whole number of 4-byte \
             floats: the row is damaged",
            bytes.len()
        );
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use crate::domain::Paper;
    use crate::store::Store;
    use crate::test_support::arxiv_id as id;

    fn stored(store: &Store, ids: &[&str]) {
        let papers = ids
            .iter()
            .map(|i| Paper {
                id: Some(id(i)),
                title: format!("Paper {i}"),
                abstract_text: "An abstract.".into(),
                ..Paper::default()
            })
            .collect();
        store.upsert_papers(papers, Utc::now()).unwrap();
    }

    /// `(id, text hash)` pairs to ask for.
    fn wanted(pairs: &[(&str, &str)]) -> Vec<(crate::domain::PaperId, String)> {
        pairs.iter().map(|(i, h)| (id(i), h.to_string())).collect()
    }

    #[test]
    fn a_stored_vector_comes_back_bit_for_bit_only_for_its_model_and_text_hash() {
        let store = Store::for_tests().unwrap();
        stored(&store, &["2410.00001", "2410.00002"]);
        let v = vec![0.25f32, -1.5, f32::MIN_POSITIVE, 3.0e-8];
        let written = store
            .put_paper_vectors("m@aa", &[(id("2410.00001"), "h1".into(), v.clone())])
            .unwrap();
        assert_eq!(written, 1);
        let got = store
            .paper_vectors(
                "m@aa",
                &wanted(&[("2410.00001", "h1"), ("2410.00002", "h2")]),
            )
            .unwrap();
        assert_eq!(got.len(), 1, "the paper never embedded has no vector");
        assert_eq!(got[&id("2410.00001")], v);
        let stale = store
            .paper_vectors("m@aa", &[(id("2410.00001"), "changed text".into())])
            .unwrap();
        assert!(stale.is_empty(), "another text's vector is not returned");
        let other_model = store
            .paper_vectors("m@bb", &[(id("2410.00001"), "h1".into())])
            .unwrap();
        assert!(
            other_model.is_empty(),
            "another model's vector is not returned"
        );
    }

    #[test]
    fn storing_a_vector_again_replaces_it_and_drops_other_models_vectors_of_the_paper() {
        let store = Store::for_tests().unwrap();
        stored(&store, &["2410.00001", "2410.00002"]);
        let (a, b) = (id("2410.00001"), id("2410.00002"));
        store
            .put_paper_vectors(
                "old@11",
                &[
                    (a.clone(), "h".into(), vec![1.0, 0.0]),
                    (b.clone(), "h".into(), vec![0.0, 1.0]),
                ],
            )
            .unwrap();
        store
            .put_paper_vectors("new@22", &[(a.clone(), "h".into(), vec![0.5, 0.5, 0.5])])
            .unwrap();
        store
            .put_paper_vectors("new@22", &[(a.clone(), "h2".into(), vec![0.1, 0.2, 0.3])])
            .unwrap();
        let new = store
            .paper_vectors("new@22", &[(a.clone(), "h2".into())])
            .unwrap();
        assert_eq!(new[&a], [0.1, 0.2, 0.3]);
        let old = store
            .paper_vectors(
                "old@11",
                &[(a.clone(), "h".into()), (b.clone(), "h".into())],
            )
            .unwrap();
        assert_eq!(
            old.keys().collect::<Vec<_>>(),
            [&b],
            "the paper embedded by the new model lost its old vector, the other kept it"
        );
    }

    #[test]
    fn a_vector_for_a_paper_that_is_not_stored_is_not_written() {
        let store = Store::for_tests().unwrap();
        stored(&store, &["2410.00001"]);
        let written = store
            .put_paper_vectors(
                "m@aa",
                &[
                    (id("2410.00001"), "h".into(), vec![1.0]),
                    (id("2410.09999"), "h".into(), vec![1.0]),
                ],
            )
            .unwrap();
        assert_eq!(written, 1);
        let got = store
            .paper_vectors("m@aa", &wanted(&[("2410.00001", "h"), ("2410.09999", "h")]))
            .unwrap();
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn a_damaged_stored_vector_is_an_error_naming_the_paper() {
        let store = Store::for_tests().unwrap();
        stored(&store, &["2410.00001"]);
        let three_bytes = if store.is_postgres() {
            r"'\x010203'::BYTEA"
        } else {
            "X'010203'"
        };
        store.raw_execute(&format!(
            "INSERT INTO paper_vectors (paper_id, model, text_hash, vector)
             VALUES ('2410.00001', 'm@aa', 'h', {three_bytes})"
        ));
        let err = store
            .paper_vectors("m@aa", &[(id("2410.00001"), "h".into())])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("2410.00001") && err.contains("3 bytes"),
            "{err}"
        );
    }
}
