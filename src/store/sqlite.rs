//! The SQLite backend (the default): a file in WAL mode, opened and migrated here, with its
//! one writer and its read-only connections; the operations, written once for both
//! databases, lend them through `db.rs`.
use super::error::{Context, DbError, DbResult, bail};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use super::{migrations, readers};

/// The SQLite backend: one connection that writes, behind a `std::sync::Mutex` (as in
/// mini-redis's `Db`: every critical section is a short statement or transaction that never
/// awaits, and SQLite serialises writers anyway), and in a file store a few read-only
/// connections that read operations use, so in WAL mode a read never queues behind a write.
pub(super) struct Sqlite {
    /// The one connection that writes (and reads in an in-memory store).
    conn: Mutex<Connection>,
    /// Read-only connections for [`Sqlite::reader`]; `None` in memory, where a second
    /// connection would see another database.
    readers: Option<readers::Readers>,
    /// The file, or `:memory:`.
    location: String,
}

impl Sqlite {
    /// Opens (creating if needed) the SQLite file at `path`, switches it to WAL and applies
    /// pending migrations.
    #[tracing::instrument(name = "Opening the SQLite store", skip_all, fields(path = %path.display()))]
    pub(super) fn open(path: &Path) -> DbResult<Sqlite> {
        Self::open_at(path, migrations::LATEST)
    }

    /// [`Sqlite::open`], migrating no further than `version` (tests make older stores).
    pub(super) fn open_at(path: &Path, version: usize) -> DbResult<Sqlite> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("Failed to create the store's folder {}", dir.display())
            })?;
        }
        let existed = check_store_file(path)?;
        let conn = Connection::open(path)
            .with_context(|| format!("Failed to open the store at {}", path.display()))?;
        if existed {
            check_is_paperpost(&conn, path)?;
        }
        let mut store = Self::setup(conn, version)
            .with_context(|| format!("Failed to prepare the store at {}", path.display()))?;
        store.readers = Some(readers::Readers::open(path)?);
        store.location = path.display().to_string();
        Ok(store)
    }

    /// An in-memory store, for unit tests and benchmarks.
    pub(super) fn open_in_memory() -> DbResult<Sqlite> {
        Self::setup(Connection::open_in_memory()?, migrations::LATEST)
    }

    fn setup(mut conn: Connection, version: usize) -> DbResult<Sqlite> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        stable_plans(&conn)?;
        // Every operation's statements stay prepared (rusqlite keeps 16 by default).
        conn.set_prepared_statement_cache_capacity(256);
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode: durable across process crashes (SIGKILL), only an OS crash can
        // lose the last commits; every send is recorded before the next is claimed.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate_to(&mut conn, version)?;
        Ok(Sqlite {
            conn: Mutex::new(conn),
            readers: None,
            location: ":memory:".into(),
        })
    }

    /// The file, for messages.
    pub(super) fn location(&self) -> String {
        self.location.clone()
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back on
        // drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A read-only connection for a read that may take long or must not wait on the
    /// writer (the writer itself for an in-memory store).
    pub(super) fn reader(&self) -> MutexGuard<'_, Connection> {
        match &self.readers {
            Some(readers) => readers.get(),
            None => self.conn(),
        }
    }
}

/// Plans that do not depend on the values bound (SQLite's query planner stability
/// guarantee). Without it SQLite marks some parameters (a `LIMIT $n`, values it could
/// compare at planning time) so that binding a different value expires the statement and
/// the next step parses and plans it again: a profile of `send` found a fifth of the
/// outcome-recording time in that re-preparing. Our statements are planned for any value.
pub(super) fn stable_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// The `meta` key (and value) that marks an SQLite file as a paperpost store; written by a
/// migration, so a new store has it from its creation and an older store gets it on upgrade.
pub(crate) const STORE_MARKER: (&str, &str) = ("paperpost_store", "1");

/// What an existing store file must start with.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Refuses a file at `path` that cannot be a paperpost store: empty (a truncated store must
/// not silently become a fresh one, losing every reader) or not SQLite at all. Returns
/// whether the file exists; a path with no file is a new store.
fn check_store_file(path: &Path) -> DbResult<bool> {
    use std::io::Read;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => bail!("cannot read the store file {}: {e}", path.display()),
    };
    if !meta.is_file() {
        bail!(
            "the store path {} is not a file, so it is not a paperpost store",
            path.display()
        );
    }
    if meta.len() == 0 {
        bail!(
            "the store file {} is empty (0 bytes): it is not a paperpost store (a truncated \
             store? restore it from a backup, or delete the file to start a new store)",
            path.display()
        );
    }
    let mut head = [0u8; 16];
    let read = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .with_context(|| format!("cannot read the store file {}", path.display()))?;
    if read < head.len() || &head != SQLITE_MAGIC {
        bail!(
            "the store file {} is not an SQLite database ({} bytes, starting {:?}): it is not a \
             paperpost store; point [store] path at paperpost's database",
            path.display(),
            meta.len(),
            String::from_utf8_lossy(&head[..read]),
        );
    }
    Ok(true)
}

/// Refuses an SQLite database that paperpost did not make: it has neither the
/// [`STORE_MARKER`] nor the tables of a store made before the marker existed.
fn check_is_paperpost(conn: &Connection, path: &Path) -> DbResult<()> {
    use rusqlite::OptionalExtension;
    let not_ours = |what: String| {
        DbError::msg(format!(
            "the store file {} is an SQLite database but not a paperpost store ({what}); \
             point [store] path at paperpost's database",
            path.display()
        ))
    };
    let tables: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .map_err(|e| not_ours(format!("cannot read its schema: {e}")))?;
        stmt.query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect::<Result<_, _>>())
            .map_err(|e| not_ours(format!("cannot read its schema: {e}")))?
    };
    let has = |t: &str| tables.iter().any(|n| n == t);
    if !has("meta") {
        return Err(not_ours(if tables.is_empty() {
            "it has no tables".into()
        } else {
            format!("its tables are {}", tables.join(", "))
        }));
    }
    let marker: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [STORE_MARKER.0],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| not_ours(format!("cannot read its meta table: {e}")))?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap_or(0);
    // Stores made before the marker: migrated, with paperpost's own tables.
    let legacy = marker.is_none()
        && version >= 1
        && ["papers", "subscribers", "editions", "deliveries"]
            .iter()
            .all(|t| has(t));
    if marker.is_some() || legacy {
        Ok(())
    } else {
        Err(not_ours(format!(
            "its meta table has no `{}` marker",
            STORE_MARKER.0
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_new_path_becomes_a_marked_store_and_opens_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/pp.sqlite3");
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.meta(STORE_MARKER.0).unwrap().as_deref(),
            Some(STORE_MARKER.1)
        );
        drop(store);
        Store::open(&path).unwrap();
    }

    #[test]
    fn an_empty_or_foreign_file_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("other.sqlite3");
        {
            let c = Connection::open(&foreign).unwrap();
            c.execute_batch("CREATE TABLE meta (key TEXT, value TEXT); CREATE TABLE t (x);")
                .unwrap();
        }
        let no_meta = dir.path().join("nometa.sqlite3");
        Connection::open(&no_meta)
            .unwrap()
            .execute_batch("CREATE TABLE notes (x)")
            .unwrap();
        let cases = [
            ("empty.sqlite3", Some(b"".as_slice()), "is empty (0 bytes)"),
            (
                "text.sqlite3",
                Some(b"hello, world, this is text".as_slice()),
                "not an SQLite database",
            ),
            (
                "short.sqlite3",
                Some(b"SQLite".as_slice()),
                "not an SQLite database",
            ),
            ("other.sqlite3", None, "no `paperpost_store` marker"),
            ("nometa.sqlite3", None, "its tables are notes"),
        ];
        for (name, content, want) in cases {
            let path = dir.path().join(name);
            if let Some(c) = content {
                std::fs::write(&path, c).unwrap();
            }
            let before = std::fs::read(&path).unwrap();
            let err = format!("{:#}", Store::open(&path).err().expect(name));
            assert!(err.contains(want), "{name}: {err}");
            assert!(err.contains("not a paperpost store"), "{name}: {err}");
            assert!(err.contains(name), "{name}: {err}");
            assert_eq!(
                std::fs::read(&path).unwrap(),
                before,
                "{name} is left as it was"
            );
        }
    }

    #[test]
    fn a_store_made_before_the_marker_is_accepted_and_marked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        {
            let mut c = Connection::open(&path).unwrap();
            migrations::migrate_to(&mut c, 2).unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.meta(STORE_MARKER.0).unwrap().as_deref(),
            Some(STORE_MARKER.1)
        );
    }

    #[test]
    fn a_store_newer_than_the_binary_is_refused_with_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite3");
        let store = Store::open(&path).unwrap();
        let info = store.schema_info().unwrap();
        assert_eq!(info.backend, "sqlite");
        assert_eq!(info.version, Store::expected_schema_version());
        assert_eq!(info.state(), "current");
        drop(store);
        let newer = Store::expected_schema_version() + 1;
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", newer)
            .unwrap();
        let err = Store::open(&path).err().expect("a newer store is refused");
        assert!(
            matches!(err, crate::store::StoreError::Schema { found, expected, .. }
                if found == newer && expected == newer - 1),
            "{err:?}"
        );
        assert!(err.to_string().contains("upgrade paperpost"), "{err}");
    }
}
