//! PostgreSQL operations of `send_runs` (the SQLite ones are in `../send_runs.rs`). Each
//! run writes only its own row (keyed by its unique owner), so no statement here races.
use chrono::{DateTime, Utc};

use super::Postgres;
use super::pool::Sql;
use crate::domain::SendRunEnd;
use crate::store::send_runs::{end_state, stored_end};
use crate::store::ts;

impl Postgres {
    pub(in crate::store) fn begin_send_run(
        &self,
        owner: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        self.conn()?.execute(
            "INSERT INTO send_runs (owner, started_at, end_state) VALUES ($1, $2, 'running')
             ON CONFLICT (owner) DO UPDATE SET started_at = $2, ended_at = NULL,
                 end_state = 'running', error = NULL",
            &[&owner, &ts(now)],
        )?;
        Ok(())
    }

    pub(in crate::store) fn end_send_run(
        &self,
        owner: &str,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        self.conn()?.execute(
            "UPDATE send_runs SET ended_at = $2, end_state = $3, error = $4 WHERE owner = $1",
            &[&owner, &ts(now), &end_state(error), &error],
        )?;
        Ok(())
    }

    pub(in crate::store) fn send_run_end(&self, owner: &str) -> anyhow::Result<Option<SendRunEnd>> {
        let row = self.conn()?.query_opt(
            "SELECT started_at, end_state, error FROM send_runs WHERE owner = $1",
            &[&owner],
        )?;
        Ok(row.map(|r| stored_end(r.get(0), r.get::<_, &str>(1), r.get(2))))
    }
}
