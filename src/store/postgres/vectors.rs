//! PostgreSQL operations of paper vectors (the SQLite ones, and the rules both share, are
//! in `../vectors.rs`).
use std::collections::HashMap;

use super::Postgres;
use super::pool::Sql;
use crate::domain::PaperId;
use crate::store::vectors::{decode, encode, upsert_sql_postgres};

impl Postgres {
    pub(in crate::store) fn paper_vectors(
        &self,
        model: &str,
        wanted: &[(PaperId, String)],
    ) -> anyhow::Result<HashMap<PaperId, Vec<f32>>> {
        let by_id: HashMap<&str, (&PaperId, &str)> = wanted
            .iter()
            .map(|(id, hash)| (id.as_str(), (id, hash.as_str())))
            .collect();
        let ids: Vec<&str> = by_id.keys().copied().collect();
        let rows = self.conn()?.query(
            "SELECT paper_id, text_hash, vector FROM paper_vectors
             WHERE model = $1 AND paper_id = ANY($2)",
            &[&model, &ids],
        )?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let (paper, hash): (&str, &str) = (row.get(0), row.get(1));
            let Some(&(id, wanted_hash)) = by_id.get(paper) else {
                continue;
            };
            if hash == wanted_hash {
                out.insert(id.clone(), decode(id, row.get::<_, &[u8]>(2))?);
            }
        }
        Ok(out)
    }

    pub(in crate::store) fn put_paper_vectors(
        &self,
        model: &str,
        rows: &[(PaperId, String, Vec<f32>)],
    ) -> anyhow::Result<usize> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let upsert = upsert_sql_postgres();
        let mut written = 0;
        for (id, hash, vector) in rows {
            let n = tx.execute(&upsert, &[&id.as_str(), &model, hash, &encode(vector)])?;
            if n > 0 {
                tx.execute(
                    "DELETE FROM paper_vectors WHERE paper_id = $1 AND model <> $2",
                    &[&id.as_str(), &model],
                )?;
            }
            written += n as usize;
        }
        tx.commit()?;
        Ok(written)
    }
}
