//! Read-only connections beside the one writer, used by the read operations (pages, the
//! papers scan of a `/preview`, listings, health checks): in WAL mode SQLite readers see the
//! last commit and never wait on the writer, so a read holds up neither sign-ups nor the
//! scheduler, and a long write never holds up `/healthz` or an archive page. Reads that
//! decide what the delivery engine does (leases, planned readers) stay on the writer.
//!
//! A handful of connections, each behind its own `std::sync::Mutex` (a read is one
//! statement that never awaits, as for the writer). A caller takes the first free one, or
//! queues on one in turn when all are busy.
use super::error::{Context, DbResult};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags};

/// How many read-only connections a file store opens. The web server lets fewer previews
/// scan at once (`web::preview`), so one is always left for `/healthz`.
pub(crate) const READERS: usize = 4;

pub(super) struct Readers {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    /// Opens `READERS` read-only connections to the (already migrated) file at `path`.
    pub(super) fn open(path: &Path) -> DbResult<Readers> {
        let conns = (0..READERS)
            .map(|_| {
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .with_context(|| {
                    format!(
                        "Failed to open a read-only connection to {}",
                        path.display()
                    )
                })?;
                conn.busy_timeout(std::time::Duration::from_secs(10))?;
                super::sqlite::stable_plans(&conn)?;
                conn.set_prepared_statement_cache_capacity(256);
                Ok(Mutex::new(conn))
            })
            .collect::<DbResult<_>>()?;
        Ok(Readers {
            conns,
            next: AtomicUsize::new(0),
        })
    }

    /// A free connection, else the next one in turn (waiting for it).
    pub(super) fn get(&self) -> MutexGuard<'_, Connection> {
        for conn in &self.conns {
            if let Ok(guard) = conn.try_lock() {
                return guard;
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        // As for the writer: a panic mid-read leaves nothing half-done.
        self.conns[i].lock().unwrap_or_else(|e| e.into_inner())
    }
}
