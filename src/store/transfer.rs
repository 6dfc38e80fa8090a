//! `paperpost store copy`: moving an SQLite store into PostgreSQL, ids kept, so every link
//! already mailed (unsubscribe, preferences, web copies) keeps working on the new store.
//!
//! The copy is generic over the schema: for each table it reads the column list from the
//! source, checks PostgreSQL has the same columns, then walks the source in primary-key
//! order in batches of [`BATCH`] rows (keyset pagination, so 100,000 deliveries with their
//! picks are never in memory at once) and inserts each batch in one PostgreSQL transaction
//! with `ON CONFLICT DO NOTHING`: a second run copies nothing new, and a run stopped halfway
//! is finished by running it again. Tables go in foreign-key order ([`TABLES`]).
//!
//! Refused up front: a target that holds another store (copying into it would mix two
//! newsletters), a target at another schema version, and any direction but SQLite to
//! PostgreSQL. Checked afterwards: every table has as many rows in the copy as in the source.

use super::error::{Context, DbResult, bail};
use rusqlite::types::Value;
use tokio_postgres::types::ToSql;

use super::postgres::Postgres;
use super::postgres::pool::Sql;
use super::sqlite::Sqlite;
use super::{Backend, Store, StoreError, random_token};

/// Every table copied, parents before the tables whose foreign keys point at them.
pub const TABLES: &[&str] = &[
    "meta",
    "papers",
    "paper_aliases",
    "paper_vectors",
    "subscribers",
    "editions",
    "deliveries",
    "sent_papers",
    "suppressions",
    "http_validators",
    "runs",
    "confirmations",
    "subscribe_attempts",
    "bounce_messages",
    "bounces",
    "send_runs",
    "feedback",
    "edition_notes",
    "edition_pins",
    "operators",
    "operator_sessions",
    "login_attempts",
    "seed_imports",
    "seeds",
    "unverified_reports",
    "suppression_lifts",
    "sending_pauses",
];

/// Tables deliberately not copied: `locks` holds the old host's leases (a scheduler run in
/// progress there), which mean nothing on the new store and would only block it.
pub const LEFT_OUT: &[&str] = &["locks"];

/// Rows read and inserted at a time.
const BATCH: usize = 1000;

/// The `meta` key naming a store: a copy carries its source's, which is how a second run
/// recognises its own earlier copy (and refuses someone else's database).
const STORE_ID_KEY: &str = "store_id";

/// Where a copy is, for a progress bar: `done` of `total` rows of `table` read.
#[derive(Debug, Clone, Copy)]
pub struct CopyProgress {
    pub table: &'static str,
    pub done: u64,
    pub total: u64,
}

/// One table's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: &'static str,
    /// Rows in the source.
    pub source_rows: u64,
    /// Rows this run inserted (0 for a table copied before).
    pub inserted: u64,
    /// Rows in the copy afterwards (equal to `source_rows`, or the copy fails).
    pub target_rows: u64,
}

/// What a successful copy did, table by table in copy order.
#[derive(Debug, Clone)]
pub struct CopyReport {
    pub tables: Vec<TableCopy>,
    /// The tables not copied (see [`LEFT_OUT`]).
    pub left_out: &'static [&'static str],
}

impl CopyReport {
    /// Rows this run inserted, over all tables.
    pub fn inserted(&self) -> u64 {
        self.tables.iter().map(|t| t.inserted).sum()
    }
}

impl Store {
    /// Copies every table of this (SQLite) store into `target` (PostgreSQL), keeping ids,
    /// then moves the target's id sequences past the copied ids and checks the row counts.
    /// Safe to run again: nothing already copied is copied twice. `progress` is called after
    /// each batch.
    #[tracing::instrument(name = "Copying the store", skip_all, fields(from = %self.location(), to = %target.location()))]
    pub fn copy_to(
        &self,
        target: &Store,
        progress: &mut dyn FnMut(CopyProgress),
    ) -> Result<CopyReport, StoreError> {
        const OP: &str = "copy_to";
        let (Backend::Sqlite(src), Backend::Postgres(dst)) = (&self.backend, &target.backend)
        else {
            return Err(StoreError::Invalid {
                op: OP,
                reason: format!(
                    "store copy copies an SQLite store into PostgreSQL only; copying {} into \
                     {} is not supported",
                    self.location(),
                    target.location()
                ),
            });
        };
        // Both stores were migrated when opened, so they are at this binary's version unless
        // one is newer than it knows (opening refuses that) — checked anyway, since copying
        // between two schemas would drop or misplace columns.
        let (from, to) = (self.schema_version()?, target.schema_version()?);
        if from != to {
            return Err(StoreError::Invalid {
                op: OP,
                reason: format!(
                    "the source is at schema version {from} and the target at {to}; both must \
                     be at the same version (open both with the same paperpost)"
                ),
            });
        }
        let store_id = self.meta_or_init(STORE_ID_KEY, random_token)?;
        copy(src, dst, &store_id, &target.location(), progress)
            .map_err(|e| StoreError::from_db(OP, e))
    }
}

fn copy(
    src: &Sqlite,
    dst: &Postgres,
    store_id: &str,
    target: &str,
    progress: &mut dyn FnMut(CopyProgress),
) -> DbResult<CopyReport> {
    check_every_table_is_listed(src)?;
    check_source_is_not_empty(src)?;
    check_source_is_idle(src, super::ts(chrono::Utc::now()))?;
    check_target_is_empty_or_ours(dst, store_id, target)?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for &table in TABLES {
        let columns = columns(src, dst, table)?;
        let source_rows = count_source(src, table)?;
        tracing::info!(table, rows = source_rows, "copying");
        let inserted = copy_table(src, dst, table, &columns, source_rows, progress)
            .with_context(|| format!("Failed to copy table {table}"))?;
        if columns.iter().any(|c| c.identity) {
            advance_sequence(dst, table)?;
        }
        let target_rows = count_target(dst, table)?;
        tracing::info!(table, inserted, target_rows, "copied");
        tables.push(TableCopy {
            table,
            source_rows,
            inserted,
            target_rows,
        });
    }
    let differ: Vec<String> = tables
        .iter()
        .filter(|t| t.source_rows != t.target_rows)
        .map(|t| {
            format!(
                "{} ({} in the source, {} in the copy)",
                t.table, t.source_rows, t.target_rows
            )
        })
        .collect();
    if !differ.is_empty() {
        bail!(
            "the copy at {target} does not match the source: {}; was a paperpost still \
             writing to either store? Stop it and run the copy again",
            differ.join(", ")
        );
    }
    Ok(CopyReport {
        tables,
        left_out: LEFT_OUT,
    })
}

/// A table added by a later migration but missing from [`TABLES`] would silently not be
/// copied: refuse instead.
fn check_every_table_is_listed(src: &Sqlite) -> DbResult<()> {
    let conn = src.reader();
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let unknown: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !TABLES.contains(n) && !LEFT_OUT.contains(n))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "the source has tables store copy does not know: {} (a paperpost bug: add them to \
             store::transfer::TABLES)",
            unknown.join(", ")
        );
    }
    Ok(())
}

/// A source with nothing but `meta` is most likely a mistyped `[store] path` (opening a
/// missing file creates an empty store): copying it would only mark the target as its copy.
fn check_source_is_not_empty(src: &Sqlite) -> DbResult<()> {
    for &table in TABLES.iter().filter(|t| **t != "meta") {
        if count_source(src, table)? > 0 {
            return Ok(());
        }
    }
    bail!(
        "the store at {} is empty (no papers, readers or editions): nothing to copy; is \
         [store] path the newsletter's SQLite file?",
        src.location()
    )
}

/// Rows a running paperpost writes while the copy reads would be missed (or make the counts
/// differ): refuse while a scheduler run or a send holds a lease that has not run out.
fn check_source_is_idle(src: &Sqlite, now: i64) -> DbResult<()> {
    use rusqlite::OptionalExtension;
    let held: Option<(String, String, i64)> = src
        .reader()
        .query_row(
            "SELECT what, owner, until FROM (
                 SELECT 'the lease ' || name AS what, owner, until FROM locks WHERE until > ?1
                 UNION ALL
                 SELECT 'digests being sent', lease_owner, lease_until FROM deliveries
                     WHERE state = 'sending' AND lease_until > ?1)
             ORDER BY until DESC LIMIT 1",
            [now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((what, owner, until)) = held {
        bail!(
            "a paperpost is using this store right now ({what}, held by {owner} until {}): \
             stop serve/send and run the copy again (a crashed run's lease runs out by then)",
            super::from_ts(until).format("%Y-%m-%d %H:%M:%S UTC")
        );
    }
    Ok(())
}

/// The target must be a new, empty store, or an earlier (maybe partial) copy of this one.
fn check_target_is_empty_or_ours(dst: &Postgres, store_id: &str, target: &str) -> DbResult<()> {
    let mut conn = dst.conn()?;
    let theirs: Option<String> = conn
        .query_opt("SELECT value FROM meta WHERE key = $1", &[&STORE_ID_KEY])?
        .map(|r| r.get(0));
    match theirs {
        Some(id) if id == store_id => return Ok(()),
        Some(id) => bail!(
            "{target} already holds another paperpost store (store id {id}, this one is \
             {store_id}); copying into it would mix two newsletters. Copy into a new, empty \
             database"
        ),
        None => {}
    }
    let mut holding = Vec::new();
    for &table in TABLES {
        let sql = if table == "meta" {
            // A new store has only the marker that says it is a paperpost store.
            format!(
                "SELECT EXISTS (SELECT 1 FROM meta WHERE key <> '{}')",
                super::sqlite::STORE_MARKER.0
            )
        } else {
            format!("SELECT EXISTS (SELECT 1 FROM {})", quote(table))
        };
        if conn.query_one(&sql, &[])?.get::<_, bool>(0) {
            holding.push(table);
        }
    }
    if !holding.is_empty() {
        bail!(
            "{target} is not empty and not a copy of this store (it has rows in {}); copying \
             into it would mix two newsletters. Copy into a new, empty database",
            holding.join(", ")
        );
    }
    Ok(())
}

/// A column to copy: its name, how PostgreSQL types it, whether it is an identity.
struct Column {
    name: String,
    pg: PgType,
    identity: bool,
    /// Its position in the primary key (1-based), 0 when not part of it.
    pk: usize,
}

#[derive(Clone, Copy)]
enum PgType {
    BigInt,
    Double,
    Text,
    Bytea,
}

/// The source's columns of `table` (in the source's order) with their PostgreSQL types;
/// fails unless both sides have exactly the same columns.
fn columns(src: &Sqlite, dst: &Postgres, table: &str) -> DbResult<Vec<Column>> {
    let source: Vec<(String, usize)> = {
        let conn = src.reader();
        let mut stmt = conn.prepare("SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid")?;
        stmt.query_map([table], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))?
            .collect::<Result<_, _>>()?
    };
    let target: Vec<(String, String, String)> = dst
        .conn()?
        .query(
            "SELECT column_name::text, data_type::text, is_identity::text
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1
             ORDER BY ordinal_position",
            &[&table],
        )?
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let only_source: Vec<&str> = source
        .iter()
        .filter(|(n, _)| !target.iter().any(|(t, _, _)| t == n))
        .map(|(n, _)| n.as_str())
        .collect();
    let only_target: Vec<&str> = target
        .iter()
        .filter(|(t, _, _)| !source.iter().any(|(n, _)| n == t))
        .map(|(t, _, _)| t.as_str())
        .collect();
    if target.is_empty() || !only_source.is_empty() || !only_target.is_empty() {
        bail!(
            "table {table} has different columns in the two stores (only in SQLite: [{}]; only \
             in PostgreSQL: [{}]): a paperpost bug, the two schemas must match",
            only_source.join(", "),
            only_target.join(", ")
        );
    }
    if !source.iter().any(|(_, pk)| *pk > 0) {
        bail!("table {table} has no primary key in the source, so it cannot be copied in order");
    }
    source
        .into_iter()
        .map(|(name, pk)| {
            let (_, ty, identity) = target
                .iter()
                .find(|(t, _, _)| *t == name)
                .expect("checked above");
            let pg = match ty.as_str() {
                "bigint" => PgType::BigInt,
                "double precision" => PgType::Double,
                "text" => PgType::Text,
                "bytea" => PgType::Bytea,
                other => bail!(
                    "column {table}.{name} is {other} in PostgreSQL, which store copy cannot \
                     fill (bigint, double precision, text and bytea only)"
                ),
            };
            Ok(Column {
                identity: identity == "YES",
                name,
                pg,
                pk,
            })
        })
        .collect()
}

/// `"name"`, for identifiers (all come from the schema; quoted so no keyword trips it).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn count_source(src: &Sqlite, table: &str) -> DbResult<u64> {
    let n: i64 =
        src.reader()
            .query_row(&format!("SELECT count(*) FROM {}", quote(table)), [], |r| {
                r.get(0)
            })?;
    Ok(n as u64)
}

fn count_target(dst: &Postgres, table: &str) -> DbResult<u64> {
    let n: i64 = dst
        .conn()?
        .query_one(&format!("SELECT count(*) FROM {}", quote(table)), &[])?
        .get(0);
    Ok(n as u64)
}

/// Copies `table` batch by batch in primary-key order; returns the rows inserted.
fn copy_table(
    src: &Sqlite,
    dst: &Postgres,
    table: &'static str,
    columns: &[Column],
    total: u64,
    progress: &mut dyn FnMut(CopyProgress),
) -> DbResult<u64> {
    let mut key: Vec<&Column> = columns.iter().filter(|c| c.pk > 0).collect();
    key.sort_by_key(|c| c.pk);
    let key_at: Vec<usize> = key
        .iter()
        .map(|k| {
            columns
                .iter()
                .position(|c| c.name == k.name)
                .expect("a column")
        })
        .collect();
    let list = columns
        .iter()
        .map(|c| quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let order = key
        .iter()
        .map(|c| quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let first = format!(
        "SELECT {list} FROM {} ORDER BY {order} LIMIT {BATCH}",
        quote(table)
    );
    // Row values compare lexicographically: the rows after the last one read.
    let marks = (1..=key.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let next = format!(
        "SELECT {list} FROM {} WHERE ({order}) > ({marks}) ORDER BY {order} LIMIT {BATCH}",
        quote(table)
    );
    let mut after: Option<Vec<Value>> = None;
    let (mut done, mut inserted) = (0u64, 0u64);
    loop {
        let rows: Vec<Vec<Value>> = {
            let conn = src.reader();
            let mut stmt = match &after {
                None => conn.prepare_cached(&first)?,
                Some(_) => conn.prepare_cached(&next)?,
            };
            let params = rusqlite::params_from_iter(after.iter().flatten());
            stmt.query_map(params, |r| {
                (0..columns.len())
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<Result<Vec<_>, _>>()
            })?
            .collect::<Result<_, _>>()?
        };
        let Some(last) = rows.last() else { break };
        after = Some(key_at.iter().map(|&i| last[i].clone()).collect());
        let n = rows.len();
        inserted += insert_batch(dst, table, columns, &list, &key_at, rows)?;
        done += n as u64;
        progress(CopyProgress { table, done, total });
        if n < BATCH {
            break;
        }
    }
    Ok(inserted)
}

/// Inserts one batch in one transaction; returns how many rows were new.
fn insert_batch(
    dst: &Postgres,
    table: &str,
    columns: &[Column],
    list: &str,
    key_at: &[usize],
    rows: Vec<Vec<Value>>,
) -> DbResult<u64> {
    let width = columns.len();
    let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(rows.len() * width);
    let mut tuples = Vec::with_capacity(rows.len());
    for (r, row) in rows.into_iter().enumerate() {
        let key = key_at
            .iter()
            .map(|&i| show(&row[i]))
            .collect::<Vec<_>>()
            .join(", ");
        for (value, column) in row.into_iter().zip(columns) {
            params.push(to_pg(value, column.pg).with_context(|| {
                format!("{table}.{} of the row ({key}) in the source", column.name)
            })?);
        }
        let marks = (1..=width)
            .map(|c| format!("${}", r * width + c))
            .collect::<Vec<_>>()
            .join(", ");
        tuples.push(format!("({marks})"));
    }
    let sql = format!(
        "INSERT INTO {} ({list}) VALUES {} ON CONFLICT DO NOTHING",
        quote(table),
        tuples.join(", ")
    );
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
    let mut conn = dst.conn()?;
    let mut tx = conn.transaction()?;
    let n = tx.execute(&sql, &refs)?;
    tx.commit()?;
    Ok(n)
}

/// A source value as the PostgreSQL parameter its column takes.
fn to_pg(value: Value, ty: PgType) -> DbResult<Box<dyn ToSql + Sync>> {
    Ok(match (ty, value) {
        (PgType::BigInt, Value::Null) => Box::new(None::<i64>),
        (PgType::Double, Value::Null) => Box::new(None::<f64>),
        (PgType::Text, Value::Null) => Box::new(None::<String>),
        (PgType::Bytea, Value::Null) => Box::new(None::<Vec<u8>>),
        (PgType::BigInt, Value::Integer(i)) => Box::new(i),
        (PgType::Double, Value::Integer(i)) => Box::new(i as f64),
        (PgType::Double, Value::Real(f)) => Box::new(f),
        (PgType::Text, Value::Text(s)) => Box::new(s),
        (PgType::Bytea, Value::Blob(b)) => Box::new(b),
        (ty, value) => bail!(
            "holds {} where PostgreSQL takes {}",
            show(&value),
            match ty {
                PgType::BigInt => "an integer",
                PgType::Double => "a number",
                PgType::Text => "text",
                PgType::Bytea => "bytes",
            }
        ),
    })
}

/// A value for a message (a key, or what a column wrongly holds), kept short.
fn show(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(s) => {
            let short: String = s.chars().take(40).collect();
            format!("{short:?}")
        }
        Value::Blob(b) => format!("a {}-byte blob", b.len()),
    }
}

/// Moves `table`'s identity sequence past its largest id, so rows the new store creates
/// do not collide with copied ones.
fn advance_sequence(dst: &Postgres, table: &str) -> DbResult<()> {
    dst.conn()?.query_one(
        &format!(
            "SELECT setval(pg_get_serial_sequence($1, 'id'), COALESCE(MAX(id), 0) + 1, false) \
             FROM {}",
            quote(table)
        ),
        &[&table],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{PostgresOptions, test_server};

    fn postgres() -> Store {
        let url = test_server::shared()
            .unwrap()
            .fresh_database("copy")
            .unwrap();
        Store::open_postgres(&PostgresOptions::for_tests(url)).unwrap()
    }

    /// 2,500 readers, one edition with a delivery each, 2,500 sent papers (a two-column
    /// key), a like, a bounce: more than two batches of each big table.
    fn source() -> Store {
        let store = Store::open_in_memory().unwrap();
        store.raw_execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
             INSERT INTO subscribers (id, email, email_key, status, token_salt, created_at, updated_at)
                 SELECT i * 3, 'r' || i || '@example.org', 'r' || i || '@example.org', 'active',
                        'tok' || i, 1700000000 + i, 1700000000 + i FROM n;
             INSERT INTO editions (id, period_key, created_at, public) VALUES
                 (7, '2026-W48', 1700000000, NULL), (9, '2026-W49', 1700600000, '[]');
             INSERT INTO deliveries (edition_id, subscriber_id, state, picks, message_id,
                                     created_at, updated_at, sent_at)
                 SELECT 7, id, 'sent', '[{\"id\":\"arxiv:2410.18975\",\"reasons\":[]}]',
                        '<' || id || '@example.org>', 1700000000, 1700000000, 1700000100
                 FROM subscribers ORDER BY id;
             INSERT INTO sent_papers (subscriber_id, paper_id, edition_id)
                 SELECT id, 'arxiv:2410.1' || (id % 2), 7 FROM subscribers WHERE id <= 3750;
             INSERT INTO feedback (subscriber_id, paper_id, value, at)
                 VALUES (3, 'arxiv:2410.18975', -1, 1700000200);
             INSERT INTO papers (id, data, first_seen, updated_at)
                 VALUES ('arxiv:2410.18975', '{}', 1700000000, 1700000000);
             INSERT INTO paper_vectors (paper_id, model, text_hash, vector)
                 VALUES ('arxiv:2410.18975', 'm@aa', 'h', X'0000803f000000c0');
             INSERT INTO bounce_messages (hash, outcome, ingested_at) VALUES ('h1', 'matched', 5);
             INSERT INTO bounces (message_hash, kind, email_key, delivery_id, edition_id, reason, at)
                 VALUES ('h1', 'hard', 'r1@example.org', 1, 7, 'no such user', 5);
             INSERT INTO sending_pauses (paused_at, kind, edition, reports, delivered, threshold,
                                         reason, tripped_by, in_force)
                 VALUES (6, 'complaint', '2026-W48', 21, 5000, 0.003, 'over', 'send', 1);
             INSERT INTO locks (name, owner, until) VALUES ('schedule', 'oldhost/1-ab', 9);",
        );
        store
    }

    fn pg_i64(store: &Store, sql: &str) -> i64 {
        let Backend::Postgres(db) = &store.backend else {
            panic!("a PostgreSQL store")
        };
        db.conn().unwrap().query_one(sql, &[]).unwrap().get(0)
    }

    fn copied<'a>(report: &'a CopyReport, table: &str) -> &'a TableCopy {
        report.tables.iter().find(|t| t.table == table).unwrap()
    }

    #[test]
    fn every_row_is_copied_with_its_id_and_a_second_run_copies_nothing() {
        // Arrange
        let (src, dst) = (source(), postgres());
        let mut batches = 0;

        // Act
        let first = src.copy_to(&dst, &mut |_| batches += 1).unwrap();
        let second = src.copy_to(&dst, &mut |_| {}).unwrap();

        // Assert: counts, ids and values as in the source, in three batches of 2,500.
        let subs = copied(&first, "subscribers");
        assert_eq!(
            (subs.source_rows, subs.inserted, subs.target_rows),
            (2500, 2500, 2500)
        );
        assert_eq!(copied(&first, "deliveries").target_rows, 2500);
        assert_eq!(copied(&first, "sent_papers").target_rows, 1250);
        assert_eq!(copied(&first, "bounces").target_rows, 1);
        assert_eq!(copied(&first, "sending_pauses").target_rows, 1);
        assert_eq!(
            dst.sending_pause()
                .unwrap()
                .map(|p| (p.threshold, p.reports)),
            Some((0.003, 21)),
            "the pause in force is copied, its threshold a number"
        );
        assert!(batches >= 3 * 2, "{batches} batches");
        assert_eq!(
            pg_i64(&dst, "SELECT sum(id)::bigint FROM subscribers"),
            3 * 2500 * 2501 / 2
        );
        assert_eq!(
            pg_i64(
                &dst,
                "SELECT count(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.message_id = '<' || s.id || '@example.org>'"
            ),
            2500
        );
        assert_eq!(pg_i64(&dst, "SELECT value FROM feedback"), -1);
        assert_eq!(
            pg_i64(
                &dst,
                "SELECT get_byte(vector, 3)::bigint * 1000 + length(vector) FROM paper_vectors"
            ),
            0x3f * 1000 + 8,
            "a vector is copied byte for byte"
        );
        assert_eq!(
            pg_i64(&dst, "SELECT count(*) FROM locks"),
            0,
            "the old host's leases are left out"
        );
        assert_eq!(first.left_out, &["locks"]);
        assert_eq!(
            dst.meta(STORE_ID_KEY).unwrap(),
            src.meta(STORE_ID_KEY).unwrap()
        );
        assert_eq!(second.inserted(), 0);
        assert_eq!(second.tables, {
            let mut t = first.tables.clone();
            t.iter_mut().for_each(|t| t.inserted = 0);
            t
        });
        // New rows on the copy get ids past the copied ones.
        assert_eq!(
            pg_i64(
                &dst,
                "INSERT INTO subscribers (email, email_key, status, token_salt, created_at, updated_at)
                 VALUES ('new@example.org', 'new@example.org', 'active', 't', 1, 1) RETURNING id"
            ),
            7501
        );
    }

    #[test]
    fn an_interrupted_copy_is_finished_by_running_it_again() {
        let (src, dst) = (source(), postgres());
        src.copy_to(&dst, &mut |_| {}).unwrap();
        // As if the copy had stopped after the first batch of deliveries.
        dst.raw_execute("DELETE FROM bounces; DELETE FROM deliveries WHERE id > 1000;");

        let again = src.copy_to(&dst, &mut |_| {}).unwrap();

        assert_eq!(copied(&again, "deliveries").inserted, 1500);
        assert_eq!(copied(&again, "bounces").inserted, 1);
        assert_eq!(again.inserted(), 1501);
        assert_eq!(pg_i64(&dst, "SELECT count(*) FROM deliveries"), 2500);
    }

    #[test]
    fn a_database_holding_another_store_or_other_rows_is_refused_and_left_alone() {
        // Another store's copy.
        let (ours, theirs, dst) = (source(), source(), postgres());
        theirs.copy_to(&dst, &mut |_| {}).unwrap();
        let before = pg_i64(&dst, "SELECT count(*) FROM subscribers");
        let err = ours.copy_to(&dst, &mut |_| {}).unwrap_err().to_string();
        assert!(
            err.contains("already holds another paperpost store"),
            "{err}"
        );
        assert_eq!(pg_i64(&dst, "SELECT count(*) FROM subscribers"), before);

        // A database used as a store without being a copy (no store id).
        let used = postgres();
        used.raw_execute(
            "INSERT INTO suppressions (email_key, reason, created_at) VALUES ('x@y', 'hard', 1)",
        );
        let err = ours.copy_to(&used, &mut |_| {}).unwrap_err().to_string();
        assert!(
            err.contains("not empty") && err.contains("suppressions"),
            "{err}"
        );
        assert_eq!(pg_i64(&used, "SELECT count(*) FROM subscribers"), 0);
    }

    #[test]
    fn an_empty_source_is_refused_as_a_probable_wrong_path_and_nothing_is_written() {
        let (src, dst) = (Store::open_in_memory().unwrap(), postgres());
        let err = src.copy_to(&dst, &mut |_| {}).unwrap_err().to_string();
        assert!(
            err.contains("is empty") && err.contains("[store] path"),
            "{err}"
        );
        assert_eq!(dst.meta(STORE_ID_KEY).unwrap(), None);
    }

    #[test]
    fn a_store_a_paperpost_is_using_is_refused_until_its_leases_run_out() {
        let (src, dst) = (source(), postgres());
        src.raw_execute(
            "INSERT INTO locks (name, owner, until) VALUES ('send', 'host/42-ab', 4102444800)",
        );
        let err = src.copy_to(&dst, &mut |_| {}).unwrap_err().to_string();
        assert!(
            err.contains("using this store")
                && err.contains("host/42-ab")
                && err.contains("2100-01-01"),
            "{err}"
        );
        assert_eq!(dst.meta(STORE_ID_KEY).unwrap(), None);

        src.raw_execute(
            "UPDATE locks SET until = 9; UPDATE deliveries SET state = 'sending', \
             lease_owner = 'host/7-cd', lease_until = 4102444800 WHERE id = 5",
        );
        let err = src.copy_to(&dst, &mut |_| {}).unwrap_err().to_string();
        assert!(
            err.contains("digests being sent") && err.contains("host/7-cd"),
            "{err}"
        );

        src.raw_execute("UPDATE deliveries SET lease_until = 9 WHERE id = 5");
        src.copy_to(&dst, &mut |_| {}).unwrap();
    }

    #[test]
    fn only_sqlite_to_postgresql_is_supported() {
        let (sqlite, pg) = (source(), postgres());
        for (from, to) in [(&pg, &sqlite), (&sqlite, &sqlite), (&pg, &pg)] {
            let err = from.copy_to(to, &mut |_| {}).unwrap_err().to_string();
            assert!(err.contains("SQLite store into PostgreSQL only"), "{err}");
        }
    }

    #[test]
    fn a_value_postgresql_cannot_take_names_its_table_column_and_row() {
        let (src, dst) = (Store::open_in_memory().unwrap(), postgres());
        src.raw_execute(
            "INSERT INTO http_validators (url, etag, last_modified) VALUES ('https://a', x'00ff', NULL)",
        );
        let err = src.copy_to(&dst, &mut |_| {}).unwrap_err().to_string();
        assert!(
            err.contains("http_validators.etag")
                && err.contains("\"https://a\"")
                && err.contains("blob"),
            "{err}"
        );
    }
}
