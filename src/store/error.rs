//! What a store operation can fail with, in terms a caller can act on (as lettre's SMTP
//! errors answer "retry or give up?"): the delivery engine stops sending on any failed
//! write, the web answers 409 to a conflict, `check-config` names a schema mismatch.
//!
//! Every variant names the operation (the [`Store`](super::Store) method) that failed. The
//! backend's own message (SQLite's or PostgreSQL's) is kept as text in `detail`, whole
//! cause chain included, so `{}` alone already tells the operator what happened.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row the operation needs does not exist.
    #[error("{op}: {what} not found")]
    NotFound { op: &'static str, what: String },
    /// The row already exists (a unique key: an address already subscribed, …).
    #[error("{op}: {what} already exists")]
    Conflict { op: &'static str, what: String },
    /// A value the store refuses to write, because it would not read back the same.
    #[error("{op}: {reason}")]
    Invalid { op: &'static str, reason: String },
    /// Another writer held the database past the busy timeout: retry later.
    #[error(
        "{op}: the database is busy (locked by another writer past the busy timeout): {detail}"
    )]
    Busy { op: &'static str, detail: String },
    /// The disk or the database is full: nothing more can be written until room is made.
    #[error("{op}: the disk or the database is full: {detail}")]
    Full { op: &'static str, detail: String },
    /// A stored row (or the file itself) cannot be read.
    #[error("{op}: unreadable data in {table} ({key}): {reason}")]
    Corrupt {
        op: &'static str,
        table: String,
        key: String,
        reason: String,
    },
    /// Reading or writing the database's files failed.
    #[error("{op}: I/O error: {detail}")]
    Io { op: &'static str, detail: String },
    /// The store's schema is not the one this binary expects.
    #[error(
        "{op}: the store has schema version {found}, {}",
        if found > expected {
            format!("newer than this paperpost knows ({expected}); upgrade paperpost")
        } else {
            format!("older than this paperpost expects ({expected})")
        }
    )]
    Schema {
        op: &'static str,
        found: i64,
        expected: i64,
    },
    /// Anything else the backend reported.
    #[error("{op}: {detail}")]
    Backend { op: &'static str, detail: String },
}

impl StoreError {
    /// The operation that failed.
    pub fn op(&self) -> &'static str {
        match self {
            StoreError::NotFound { op, .. }
            | StoreError::Conflict { op, .. }
            | StoreError::Invalid { op, .. }
            | StoreError::Busy { op, .. }
            | StoreError::Full { op, .. }
            | StoreError::Corrupt { op, .. }
            | StoreError::Io { op, .. }
            | StoreError::Schema { op, .. }
            | StoreError::Backend { op, .. } => op,
        }
    }

    /// Whether the same call may succeed later without anyone changing anything (a busy
    /// database); a full disk or a failing device needs an operator first.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Busy { .. })
    }

    /// Whether the database could not take a write at all (busy, full, I/O): what makes the
    /// delivery engine stop sending, since an outcome it cannot record would be sent again.
    pub fn is_write_refused(&self) -> bool {
        matches!(
            self,
            StoreError::Busy { .. } | StoreError::Full { .. } | StoreError::Io { .. }
        )
    }

    /// Classifies a failure of the SQLite backend in `op`. A `StoreError` already made
    /// inside the backend (a conflict, an unreadable row) is kept as it is.
    pub(super) fn from_sqlite(op: &'static str, e: anyhow::Error) -> StoreError {
        let e = match e.downcast::<StoreError>() {
            Ok(store_error) => return store_error,
            Err(e) => e,
        };
        let detail = format!("{e:#}");
        let code = e
            .chain()
            .find_map(|c| match c.downcast_ref::<rusqlite::Error>() {
                Some(rusqlite::Error::SqliteFailure(f, _)) => Some(f.code),
                _ => None,
            });
        use rusqlite::ErrorCode as C;
        match code {
            Some(C::DatabaseBusy | C::DatabaseLocked) => StoreError::Busy { op, detail },
            Some(C::DiskFull) => StoreError::Full { op, detail },
            Some(C::SystemIoFailure | C::CannotOpen) => StoreError::Io { op, detail },
            Some(C::DatabaseCorrupt | C::NotADatabase) => StoreError::Corrupt {
                op,
                table: "the database file".into(),
                key: "-".into(),
                reason: detail,
            },
            Some(C::ConstraintViolation) => StoreError::Conflict {
                op,
                what: format!("a row ({detail})"),
            },
            _ if e.chain().any(|c| c.is::<std::io::Error>()) => StoreError::Io { op, detail },
            _ => StoreError::Backend { op, detail },
        }
    }
}

impl StoreError {
    /// Classifies a failure of the PostgreSQL backend in `op` by its SQLSTATE. A
    /// `StoreError` already made inside the backend is kept as it is.
    pub(super) fn from_postgres(op: &'static str, e: anyhow::Error) -> StoreError {
        let e = match e.downcast::<StoreError>() {
            Ok(store_error) => return store_error,
            Err(e) => e,
        };
        let detail = format!("{e:#}");
        let pg = e
            .chain()
            .find_map(|c| c.downcast_ref::<tokio_postgres::Error>());
        let Some(pg) = pg else {
            return if e.chain().any(|c| c.is::<std::io::Error>()) {
                StoreError::Io { op, detail }
            } else {
                StoreError::Backend { op, detail }
            };
        };
        use tokio_postgres::error::SqlState as S;
        let Some(code) = pg.code() else {
            // No SQLSTATE: the connection failed or closed (network, server down).
            return StoreError::Io { op, detail };
        };
        let class = &code.code()[..2];
        if [
            S::T_R_SERIALIZATION_FAILURE,
            S::T_R_DEADLOCK_DETECTED,
            S::LOCK_NOT_AVAILABLE,
            S::TOO_MANY_CONNECTIONS,
            S::QUERY_CANCELED,
            S::ADMIN_SHUTDOWN,
            S::CANNOT_CONNECT_NOW,
        ]
        .contains(code)
        {
            StoreError::Busy { op, detail }
        } else if *code == S::DISK_FULL || class == "53" {
            StoreError::Full { op, detail }
        } else if class == "23" {
            StoreError::Conflict {
                op,
                what: format!("a row ({detail})"),
            }
        } else if class == "08" || class == "58" {
            StoreError::Io { op, detail }
        } else if class == "XX" {
            StoreError::Corrupt {
                op,
                table: "the database".into(),
                key: "-".into(),
                reason: detail,
            }
        } else {
            StoreError::Backend { op, detail }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_failure(code: std::os::raw::c_int, msg: &str) -> anyhow::Error {
        anyhow::Error::new(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            Some(msg.into()),
        ))
        .context("Failed to record the outcome")
    }

    #[test]
    fn sqlite_failures_are_classified_by_their_code_and_keep_the_message() {
        use rusqlite::ffi;
        let cases = [
            (ffi::SQLITE_BUSY, "Busy"),
            (ffi::SQLITE_FULL, "Full"),
            (ffi::SQLITE_IOERR, "Io"),
            (ffi::SQLITE_CORRUPT, "Corrupt"),
            (ffi::SQLITE_CONSTRAINT, "Conflict"),
            (ffi::SQLITE_ERROR, "Backend"),
        ];
        for (code, want) in cases {
            let e = StoreError::from_sqlite("finish_deliveries", sqlite_failure(code, "boom"));
            let kind = format!("{e:?}");
            assert!(kind.starts_with(want), "code {code}: {kind}");
            assert_eq!(e.op(), "finish_deliveries");
            let shown = e.to_string();
            assert!(shown.starts_with("finish_deliveries: "), "{shown}");
            assert!(
                shown.contains("boom") || matches!(e, StoreError::Conflict { .. }),
                "{shown}"
            );
        }
    }

    #[test]
    fn a_store_error_raised_inside_the_backend_is_kept_as_it_is() {
        let inner = StoreError::Conflict {
            op: "add_subscriber",
            what: "ada@example.org".into(),
        };
        let e = StoreError::from_sqlite("import", anyhow::Error::new(inner));
        assert!(matches!(
            e,
            StoreError::Conflict {
                op: "add_subscriber",
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "add_subscriber: ada@example.org already exists"
        );
    }

    #[test]
    fn only_busy_full_and_io_count_as_a_refused_write() {
        let detail = || "x".to_string();
        let refused = [
            StoreError::Busy {
                op: "o",
                detail: detail(),
            },
            StoreError::Full {
                op: "o",
                detail: detail(),
            },
            StoreError::Io {
                op: "o",
                detail: detail(),
            },
        ];
        assert!(refused.iter().all(StoreError::is_write_refused));
        let other = StoreError::Backend {
            op: "o",
            detail: detail(),
        };
        assert!(!other.is_write_refused());
        assert!(refused[0].is_transient() && !refused[1].is_transient());
    }
}
