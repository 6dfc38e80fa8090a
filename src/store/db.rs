//! One statement text for both databases: the thin connection layer every store operation
//! is written against, once.
//!
//! Why our own layer rather than a crate: sqlx covers both databases but links its own
//! SQLite, which cannot sit beside rusqlite ≥ 0.40 (cargo refuses); diesel and sea-query
//! would bring a query builder, migrations and a second type system for ~100 statements
//! that are plain SQL both databases accept. What the two drivers differ in is small:
//! placeholders, how a value is bound and read, and where a connection comes from. This
//! file covers exactly that:
//! - SQL is written PostgreSQL-style with `$1, $2, …`; SQLite reads `$N` as a named
//!   parameter numbered by first appearance, so each number must first appear in order
//!   (debug builds check it on every statement);
//! - a parameter is anything both drivers can bind ([`Param`]: `i64`, `&str`, `String`,
//!   `f64`, byte slices and `Option`s of those; no `bool`, since every column is an integer);
//! - a column is read with [`Row::get`] into anything both drivers can read ([`Column`]);
//! - text orders byte by byte in both (PostgreSQL's text columns are `COLLATE "C"`, see
//!   `postgres/schema.rs`), so `ORDER BY` needs no dialect.
//!
//! Where the databases mean different things (row locks with `SKIP LOCKED`, advisory
//! locks), an operation asks [`Conn::is_postgres`] and keeps the branch small and named.

use super::error::{Context, DbResult};
use super::postgres::pool::Sql;

/// A value both drivers can bind.
pub(super) trait Param: rusqlite::ToSql + tokio_postgres::types::ToSql + Sync {}
impl<T: rusqlite::ToSql + tokio_postgres::types::ToSql + Sync> Param for T {}

/// A value both drivers can read from a column.
pub(super) trait Column: Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self>;
    fn from_postgres(row: &tokio_postgres::Row, i: usize) -> Result<Self, tokio_postgres::Error>;
}

impl<T> Column for T
where
    T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a>,
{
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<T> {
        row.get(i)
    }
    fn from_postgres(row: &tokio_postgres::Row, i: usize) -> Result<T, tokio_postgres::Error> {
        row.try_get(i)
    }
}

/// One row of a result.
pub(super) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `i` (from 0) as a `T`; an error names the column when the type does not fit.
    pub(super) fn get<T: Column>(&self, i: usize) -> DbResult<T> {
        match self {
            Row::Sqlite(r) => T::from_sqlite(r, i).with_context(|| format!("column {i}")),
            Row::Postgres(r) => T::from_postgres(r, i).with_context(|| format!("column {i}")),
        }
    }
}

/// A connection (or an open transaction) of either database, lent to one operation.
pub(super) enum Conn<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a mut dyn Sql),
}

impl Conn<'_> {
    /// Whether this is PostgreSQL, for the few statements whose meaning differs.
    pub(super) fn is_postgres(&self) -> bool {
        matches!(self, Conn::Postgres(_))
    }

    /// ` FOR UPDATE` on PostgreSQL, to lock the rows a transaction reads before it changes
    /// them against other processes; nothing on SQLite, whose write transaction already
    /// holds the whole database.
    pub(super) fn for_update(&self) -> &'static str {
        if self.is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub(super) fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> DbResult<u64> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                check_placeholders(&stmt, sql);
                Ok(stmt.execute(sqlite_params(params).as_slice())? as u64)
            }
            Conn::Postgres(c) => Ok(c.execute(sql, &postgres_params(params))?),
        }
    }

    /// Runs a query and maps every row with `f`.
    pub(super) fn query<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<Vec<T>> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                check_placeholders(&stmt, sql);
                let mut rows = stmt.query(sqlite_params(params).as_slice())?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(f(&Row::Sqlite(r))?);
                }
                Ok(out)
            }
            Conn::Postgres(c) => c
                .query(sql, &postgres_params(params))?
                .iter()
                .map(|r| f(&Row::Postgres(r)))
                .collect(),
        }
    }

    /// The first row of a query mapped with `f`, or `None` when there is none.
    pub(super) fn query_opt<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<Option<T>> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                check_placeholders(&stmt, sql);
                let mut rows = stmt.query(sqlite_params(params).as_slice())?;
                // Stepped to the end: a write with RETURNING that is reset after its first
                // row is rolled back, so the rest is read (and dropped) too.
                let (mut f, mut first) = (Some(f), None);
                while let Some(r) = rows.next()? {
                    if let Some(f) = f.take() {
                        first = Some(f(&Row::Sqlite(r))?);
                    }
                }
                Ok(first)
            }
            // The first row, as SQLite's (PostgreSQL's own `query_opt` refuses a second).
            Conn::Postgres(c) => match c.query(sql, &postgres_params(params))?.first() {
                Some(r) => Ok(Some(f(&Row::Postgres(r))?)),
                None => Ok(None),
            },
        }
    }

    /// The one value of a query that always returns a row (`COUNT(*)`, `EXISTS`).
    pub(super) fn value<T: Column>(&mut self, sql: &str, params: &[&dyn Param]) -> DbResult<T> {
        self.query_opt(sql, params, |r| r.get(0))?
            .with_context(|| format!("no row from {sql}"))
    }

    /// Whether a query returns any row.
    pub(super) fn exists(&mut self, sql: &str, params: &[&dyn Param]) -> DbResult<bool> {
        Ok(self.query_opt(sql, params, |_| Ok(()))?.is_some())
    }

    /// Runs `sql` once per chunk of `keys` (see [`lookup_chunks`]), its `{in}` replaced by
    /// the chunk's placeholders, numbered after the `leading` parameters; every row of
    /// every chunk goes to `f`. A key given twice (or padding a chunk) matches its rows once,
    /// as `IN` does.
    pub(super) fn query_in<K: Param>(
        &mut self,
        sql: &str,
        leading: &[&dyn Param],
        keys: &[K],
        mut f: impl FnMut(&Row<'_>) -> DbResult<()>,
    ) -> DbResult<()> {
        for chunk in lookup_chunks(keys) {
            let (sql, params) = in_list(sql, leading, &chunk);
            self.query(&sql, &params, &mut f)?;
        }
        Ok(())
    }

    /// [`Conn::query_in`] for a statement that changes rows: how many it changed in all.
    pub(super) fn execute_in<K: Param>(
        &mut self,
        sql: &str,
        leading: &[&dyn Param],
        keys: &[K],
    ) -> DbResult<u64> {
        let mut changed = 0;
        for chunk in lookup_chunks(keys) {
            let (sql, params) = in_list(sql, leading, &chunk);
            changed += self.execute(&sql, &params)?;
        }
        Ok(changed)
    }

    /// Runs SQL text of several statements, no parameters (tests that damage rows by hand).
    #[cfg(test)]
    pub(super) fn batch(&mut self, sql: &str) -> DbResult<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres(c) => Ok(c.batch(sql)?),
        }
    }
}

/// `sql` with `{in}` replaced by one chunk's placeholders, and its parameters.
fn in_list<'p, K: Param>(
    sql: &str,
    leading: &[&'p dyn Param],
    chunk: &[&'p K],
) -> (String, Vec<&'p dyn Param>) {
    let sql = sql.replace("{in}", &placeholders(leading.len() + 1, chunk.len()));
    let mut params = leading.to_vec();
    params.extend(chunk.iter().map(|k| *k as &dyn Param));
    (sql, params)
}

fn sqlite_params<'p>(params: &[&'p dyn Param]) -> Vec<&'p dyn rusqlite::ToSql> {
    params.iter().map(|p| *p as &dyn rusqlite::ToSql).collect()
}

fn postgres_params<'p>(
    params: &[&'p dyn Param],
) -> Vec<&'p (dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| *p as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

/// In debug builds (the tests), that parameter `i` of an SQLite statement is `$i`: SQLite
/// numbers `$N` by first appearance, so a statement that used `$2` before `$1` would bind
/// the wrong values without this check.
fn check_placeholders(stmt: &rusqlite::Statement<'_>, sql: &str) {
    if cfg!(debug_assertions) {
        for i in 1..=stmt.parameter_count() {
            let name = stmt.parameter_name(i);
            assert_eq!(
                name,
                Some(format!("${i}").as_str()),
                "placeholders must first appear in order $1, $2, …: {sql}"
            );
        }
    }
}

use super::{Backend, Store, StoreError};

impl Store {
    /// Runs read-only `f` where reads never wait on a write: one of SQLite's read-only
    /// connections (the writer in memory), a pooled PostgreSQL connection.
    pub(super) fn read<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut Conn<'_>) -> DbResult<T>,
    ) -> Result<T, StoreError> {
        self.on_connection(op, false, f)
    }

    /// Runs `f` on the connection that writes (SQLite's one writer), each statement
    /// committed on its own: for single statements and for reads that must see the last
    /// write (leases, planned readers).
    pub(super) fn write<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut Conn<'_>) -> DbResult<T>,
    ) -> Result<T, StoreError> {
        self.on_connection(op, true, f)
    }

    /// [`Store::read`] and [`Store::write`]: on PostgreSQL every connection both reads and
    /// writes; SQLite has one writer beside its read-only connections.
    fn on_connection<T>(
        &self,
        op: &'static str,
        writer: bool,
        f: impl FnOnce(&mut Conn<'_>) -> DbResult<T>,
    ) -> Result<T, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => {
                let conn = if writer { db.conn() } else { db.reader() };
                f(&mut Conn::Sqlite(&conn)).map_err(|e| StoreError::from_db(op, e))
            }
            Backend::Postgres(db) => db
                .conn()
                .and_then(|mut conn| f(&mut Conn::Postgres(&mut *conn)))
                .map_err(|e| StoreError::from_db(op, e)),
        }
    }

    /// Runs `f` in one transaction, committed when it returns `Ok` and rolled back
    /// otherwise. SQLite's starts IMMEDIATE (it takes the write lock at once, so it never
    /// fails half-way on a lock upgrade); PostgreSQL's is READ COMMITTED.
    pub(super) fn transaction<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut Conn<'_>) -> DbResult<T>,
    ) -> Result<T, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => {
                let mut conn = db.conn();
                (|| {
                    let tx =
                        conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    let out = f(&mut Conn::Sqlite(&tx))?;
                    tx.commit()?;
                    Ok(out)
                })()
                .map_err(|e| StoreError::from_db(op, e))
            }
            Backend::Postgres(db) => (|| {
                let mut conn = db.conn()?;
                let mut tx = conn.transaction()?;
                let out = f(&mut Conn::Postgres(&mut tx))?;
                tx.commit()?;
                Ok(out)
            })()
            .map_err(|e| StoreError::from_db(op, e)),
        }
    }
}

/// `$first, $first+1, …` for `n` values: an `IN (…)` list or a `VALUES (…)` row of an
/// operation that reads or writes many rows in one statement on both databases (instead of
/// PostgreSQL's array parameters, which SQLite has not).
pub(super) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of one multi-row statement at most; SQLite takes 32,766 parameters.
pub(super) const ROWS_PER_STATEMENT: usize = 256;

/// `keys` in chunks for `IN (…)` lookups, each padded (with its last key again) to a power
/// of two, so a lookup of any size uses one of a few statement texts and each is prepared
/// once per connection.
fn lookup_chunks<T>(keys: &[T]) -> impl Iterator<Item = Vec<&T>> {
    keys.chunks(ROWS_PER_STATEMENT).map(|chunk| {
        let mut out: Vec<&T> = chunk.iter().collect();
        let last = out[out.len() - 1];
        out.resize(chunk.len().next_power_of_two(), last);
        out
    })
}
