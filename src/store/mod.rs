//! STORE: the one handle on the database. Every SQL statement of paperpost lives in this
//! folder, behind methods named for domain operations, so another backend (PostgreSQL for
//! several senders) can be added without touching the pipeline.
//!
//! [`Store`] is a cheap `Clone` handle over one SQLite connection behind a `std::sync::Mutex`
//! (as in mini-redis's `Db`): every critical section is a short statement or transaction and
//! never awaits, so a blocking mutex is cheaper than an async one, and SQLite serialises
//! writers anyway. WAL mode lets the CLI read while `serve` writes.
mod attempts;
mod confirmations;
mod deliveries;
mod delivery_reports;
mod editions;
mod feedback;
mod migrations;
mod papers;
mod runs;
mod subscribers;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;

pub use attempts::{AttemptLimits, AttemptVerdict};
pub use confirmations::Confirmation;
pub use deliveries::{Claimed, DeliveryState, Finish, NewDelivery};
pub use delivery_reports::{DeliveryCounts, DeliveryFailure, DeliveryRow};
pub use editions::Edition;
pub use feedback::FeedbackRow;
pub use papers::{StoredPaper, UpsertCounts};
pub use runs::{RunRecord, SourceRunRecord};
pub use subscribers::{AddSubscriberError, NewSubscriber, SubscriberUpdate};

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path`, switches it to WAL and applies
    /// pending migrations.
    #[tracing::instrument(name = "Opening the store", skip_all, fields(path = %path.display()))]
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("Failed to create the store's folder {}", dir.display())
            })?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("Failed to open the store at {}", path.display()))?;
        Self::setup(conn)
            .with_context(|| format!("Failed to prepare the store at {}", path.display()))
    }

    /// An in-memory store, for unit tests and benchmarks.
    pub fn open_in_memory() -> anyhow::Result<Store> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> anyhow::Result<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode: durable across process crashes (SIGKILL), only an OS crash can
        // lose the last commits; every send is recorded before the next is claimed.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate(&mut conn)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back on
        // drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The schema version, for `check-config` and tests.
    pub fn schema_version(&self) -> anyhow::Result<i64> {
        Ok(self
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// A value from the key/value `meta` table.
    pub fn meta(&self, key: &str) -> anyhow::Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// The `meta` value of `key`, storing `init()` first when there is none. Two processes
    /// racing on the first call both get the value that won.
    pub fn meta_or_init(&self, key: &str, init: impl FnOnce() -> String) -> anyhow::Result<String> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            [key, &init()],
        )?;
        Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> anyhow::Result<()> {
        self.conn().execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
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

/// Compares two secrets in time that depends only on their length.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A short random tag that makes lease owners unique across processes and restarts.
pub fn lease_nonce() -> String {
    random_token()[..8].to_string()
}
