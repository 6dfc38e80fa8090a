//! STORE: the one handle on the database. Every SQL statement of paperpost lives in this
//! folder, behind methods named for domain operations, so another backend (PostgreSQL for
//! several senders) can be added without touching the pipeline.
//!
//! The boundary has three parts:
//! - [`Store`], a cheap `Clone` handle (as mini-redis's `Db`) whose methods are the store's
//!   operations; each returns `Result<T, StoreError>` naming the operation, and no backend
//!   type (no `rusqlite` type, no connection, no open transaction) appears in their
//!   signatures: a transaction is one operation.
//! - [`StoreError`] (`error.rs`): what failed, in kinds a caller can act on, with what the
//!   database said kept whole as a [`Cause`] (the driver's error, typed, not text). Inside
//!   the store every statement returns `error::DbError`; the kind is chosen once, by
//!   matching it, where an operation returns.
//! - Each operation is written once, in its concern file (`papers.rs`, `deliveries.rs`,
//!   `subscribers.rs`, …), with one statement text for both databases over the thin layer
//!   in `db.rs` (`Store::read` / `write` / `transaction` lend it a connection of either
//!   database); where the databases mean different things (row locks, advisory locks) the
//!   operation keeps a small named branch. `sqlite.rs` and `postgres/` only open, migrate
//!   and pool connections. Adding an operation touches its concern file (and `mod.rs` for a
//!   new concern).
//!
//! Every operation blocks its thread (SQLite is a library call; a PostgreSQL operation waits
//! for its answer, see `postgres/pool.rs`). Async code runs them on tokio's blocking pool
//! through [`Store::blocking`], never on an async worker.
mod attempts;
mod bounces;
mod confirmations;
mod db;
mod deliveries;
mod delivery_reports;
mod edition_admin;
mod editions;
mod editorial;
mod error;
mod feedback;
mod guard;
mod meta;
mod migrations;
mod newsletters;
mod operators;
mod papers;
mod postgres;
mod reader_admin;
mod reader_digests;
mod readers;
mod runs;
mod seeds;
mod send_runs;
mod sqlite;
mod subscriber_pages;
mod subscribers;
mod transfer;
mod vectors;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

pub use error::{Cause, StoreError};
pub use newsletters::NewsletterRows;
use postgres::Postgres;
#[cfg(any(test, feature = "test-support"))]
pub use postgres::test_server;
pub use postgres::{PostgresOptions, PostgresTls};
use sqlite::Sqlite;
pub use transfer::{CopyProgress, CopyReport, TABLES as COPIED_TABLES, TableCopy};

#[cfg(test)]
pub(crate) use deliveries::plan_readers;
pub(crate) use readers::READERS;
pub use subscribers::check_storable_topics;

/// The handle every stage holds: open it once, then clone it into the web state, the
/// scheduler and the delivery engine.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// The newsletter whose readers, editions and pauses this handle's operations see (its
    /// slug): [`Store::for_newsletter`]. Papers, suppressions, bounces, operators and runs
    /// are the instance's, whichever newsletter.
    newsletter: Arc<str>,
}

/// The backend a [`Store`] dispatches to.
#[derive(Clone)]
enum Backend {
    /// An SQLite file (or an in-memory database in tests).
    Sqlite(Arc<Sqlite>),
    /// A PostgreSQL database, shared by any number of processes and hosts.
    Postgres(Arc<Postgres>),
}

/// Which backend a store runs on and its schema version, for `check-config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaInfo {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The version the store is at.
    pub version: i64,
    /// The version this binary expects (it migrates older stores on open).
    pub expected: i64,
}

impl SchemaInfo {
    /// `current`, `older: …` or `newer: …`, for a status line.
    pub fn state(&self) -> &'static str {
        match self.version.cmp(&self.expected) {
            std::cmp::Ordering::Equal => "current",
            std::cmp::Ordering::Less => "older than this paperpost expects",
            std::cmp::Ordering::Greater => "newer than this paperpost knows",
        }
    }
}

/// Where a store is: the store's own options, which `config` builds from `[store]`.
#[derive(Debug, Clone)]
pub enum StoreOptions {
    /// The SQLite file (created when missing): the embedded default.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database, for several senders.
    Postgres(PostgresOptions),
}

impl Store {
    /// A handle on `backend` seeing the default newsletter.
    fn on(backend: Backend) -> Store {
        Store {
            backend,
            newsletter: Arc::from(crate::domain::DEFAULT_NEWSLETTER),
        }
    }

    /// The same store seeing newsletter `slug`'s readers, editions, notes, pins and pauses
    /// (cheap: the connections are shared).
    pub fn for_newsletter(&self, slug: &str) -> Store {
        Store {
            backend: self.backend.clone(),
            newsletter: Arc::from(slug),
        }
    }

    /// The slug of the newsletter this handle sees.
    pub fn newsletter(&self) -> &str {
        &self.newsletter
    }

    /// Opens (creating if needed) the SQLite file at `path`, switches it to WAL and applies
    /// pending migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Sqlite::open(path).map_err(|e| StoreError::from_db("open", e))?;
        let store = Store::on(Backend::Sqlite(Arc::new(db)));
        store.backfill_aliases()?;
        Ok(store)
    }

    /// An in-memory SQLite store, for unit tests and benchmarks.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let db = Sqlite::open_in_memory().map_err(|e| StoreError::from_db("open", e))?;
        Ok(Store::on(Backend::Sqlite(Arc::new(db))))
    }

    /// Connects to a PostgreSQL store and applies pending migrations.
    pub fn open_postgres(options: &PostgresOptions) -> Result<Store, StoreError> {
        let db = Postgres::open(options).map_err(|e| StoreError::from_db("open", e))?;
        let store = Store::on(Backend::Postgres(Arc::new(db)));
        store.backfill_aliases()?;
        Ok(store)
    }

    /// The store `options` name.
    pub fn open_with(options: &StoreOptions) -> Result<Store, StoreError> {
        match options {
            StoreOptions::Sqlite(path) => Store::open(path),
            StoreOptions::Postgres(options) => Store::open_postgres(options),
        }
    }

    /// The store `options` name, migrated only up to schema `version`: tests make a store
    /// as an older paperpost left it, then open it as this one does.
    #[cfg(any(test, feature = "test-support"))]
    pub fn open_at_version(options: &StoreOptions, version: usize) -> Result<Store, StoreError> {
        let version = version.min(migrations::LATEST);
        Ok(Store::on(match options {
            StoreOptions::Postgres(options) => Backend::Postgres(Arc::new(
                Postgres::open_at(options, version).map_err(|e| StoreError::from_db("open", e))?,
            )),
            StoreOptions::Sqlite(path) => Backend::Sqlite(Arc::new(
                Sqlite::open_at(path, version).map_err(|e| StoreError::from_db("open", e))?,
            )),
        }))
    }

    /// Where the store is, for messages: the SQLite file or `user@host:port/db`.
    pub fn location(&self) -> String {
        match &self.backend {
            Backend::Sqlite(db) => db.location(),
            Backend::Postgres(db) => format!("postgres://{}", db.describe()),
        }
    }

    /// A fresh empty store for tests: in-memory SQLite, or a new PostgreSQL database on
    /// the test server when `PAPERPOST_TEST_BACKEND=postgres`.
    #[cfg(any(test, feature = "test-support"))]
    pub fn for_tests() -> Result<Store, StoreError> {
        if test_backend_is_postgres() {
            let url = test_server::shared()
                .and_then(|s| s.fresh_database("unit"))
                .map_err(|e| StoreError::Io {
                    op: "open",
                    cause: format!("{e:#}").into(),
                })?;
            Store::open_postgres(&PostgresOptions::for_tests(url))
        } else {
            Store::open_in_memory()
        }
    }

    /// Whether this store is PostgreSQL (tests that reach into SQLite skip it).
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// The schema version this binary expects: stores are migrated to it on open.
    pub fn expected_schema_version() -> i64 {
        migrations::LATEST as i64
    }

    /// The backend's name and the store's schema version against the expected one.
    pub fn schema_info(&self) -> Result<SchemaInfo, StoreError> {
        let version = self.schema_version()?;
        let backend = match &self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        };
        Ok(SchemaInfo {
            backend,
            version,
            expected: Self::expected_schema_version(),
        })
    }

    /// Runs `f` (one or more store operations) on tokio's blocking pool, so an async task
    /// (a web handler, the delivery engine, the scheduler) never blocks its worker thread
    /// on the database.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .unwrap_or_else(|e| {
                Err(StoreError::Backend {
                    op: "blocking",
                    cause: format!("the store task failed: {e}").into(),
                })
            })
    }
}

#[cfg(test)]
impl Store {
    /// Runs SQL text (no parameters) on whichever backend, for unit tests that corrupt rows
    /// by hand; write SQL both SQLite and PostgreSQL accept.
    pub(crate) fn raw_execute(&self, sql: &str) {
        self.write("raw_execute", |c| c.batch(sql))
            .expect("raw SQL runs");
    }
}

/// Timestamps are stored as Unix seconds (UTC).
pub(crate) fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub(crate) fn from_ts(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0).single().unwrap_or_default()
}

/// 128 random bits as 32 hex characters.
pub(crate) fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Hex SHA-256 of a secret: what the store keeps of confirmation secrets and of readers'
/// legacy tokens (migration 12 calls it from SQL as `sha256_hex`).
pub(crate) fn sha256_hex(secret: &str) -> String {
    use sha2::{Digest as _, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether two spellings name the same mailbox as the store keys addresses (case and
/// surrounding spaces do not count).
pub(crate) fn same_mailbox(a: &str, b: &str) -> bool {
    subscribers::email_key(a) == subscribers::email_key(b)
}

/// A short random tag that makes lease owners unique across processes and restarts.
pub fn lease_nonce() -> String {
    random_token()[..8].to_string()
}

/// A lease owner for this process: `host/pid123-1a2b3c4d`. Unique across processes,
/// restarts and hosts (several senders on one PostgreSQL), and it tells an operator which
/// machine holds a lease.
pub fn lease_owner() -> String {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let host = HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .map(|h| {
                h.trim()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .take(64)
                    .collect()
            })
            .ok()
            .filter(|h: &String| !h.is_empty())
            .unwrap_or_else(|| "host".into())
    });
    format!("{host}/pid{}-{}", std::process::id(), lease_nonce())
}

/// Whether tests should run on PostgreSQL (`PAPERPOST_TEST_BACKEND=postgres`).
#[cfg(any(test, feature = "test-support"))]
pub fn test_backend_is_postgres() -> bool {
    std::env::var("PAPERPOST_TEST_BACKEND").is_ok_and(|v| v == "postgres")
}
