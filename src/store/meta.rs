//! The store's own facts: its schema version and the key/value `meta` table (the store
//! marker, secrets made on first use).
use super::db::Conn;
use super::error::DbResult;
use super::{Store, StoreError};

/// The schema version, on a connection already lent (inside another operation).
pub(super) fn schema_version_of(c: &mut Conn) -> DbResult<i64> {
    if c.is_postgres() {
        c.value("SELECT version FROM paperpost_schema", &[])
    } else {
        c.value("PRAGMA user_version", &[])
    }
}

impl Store {
    /// The schema version the store is at (`check-config`, `/healthz`, tests). Read where
    /// reads never wait, so a health check never queues behind a long write. Where each
    /// database keeps it differs: SQLite's file header (`user_version`), PostgreSQL's
    /// `paperpost_schema` row (see `postgres/schema.rs`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.read("schema_version", schema_version_of)
    }

    /// A value from the key/value `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read("meta", |c| {
            c.query_opt("SELECT value FROM meta WHERE key = $1", &[&key], |r| {
                r.get(0)
            })
        })
    }

    /// The `meta` value of `key`, storing `init()` first when there is none. Two processes
    /// racing on the first call both get the value that won. On SQLite `init` runs while
    /// this process's writer is held, so two threads never both compute a value (the web
    /// test of reads beside a long write relies on it to hold the writer).
    pub fn meta_or_init(
        &self,
        key: &str,
        init: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        self.write("meta_or_init", |c| {
            let get = "SELECT value FROM meta WHERE key = $1";
            if let Some(value) = c.query_opt(get, &[&key], |r| r.get(0))? {
                return Ok(value);
            }
            c.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                &[&key, &init()],
            )?;
            c.value(get, &[&key])
        })
    }

    /// Sets a `meta` value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.write("set_meta", |c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )?;
            Ok(())
        })
    }
}
