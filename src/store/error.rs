//! What a store operation can fail with, in terms a caller can act on (as lettre's SMTP
//! errors answer "retry or give up?"): the delivery engine stops sending on any failed
//! write, the web answers 409 to a conflict, `check-config` names a schema mismatch.
//!
//! Every variant names the operation (the [`Store`](super::Store) method) that failed. What
//! the database reported is kept whole, as a [`Cause`] (the driver's own error, with the
//! context the operation added), never rebuilt from text: the kind is chosen by matching
//! it (SQLite's result code, PostgreSQL's SQLSTATE), and `{}` alone shows it, so the
//! operator reads what happened.
//!
//! Inside the store, every statement and operation returns [`DbError`] (no `anyhow`):
//! [`StoreError::from_db`] turns it into the variant at the operation's edge.
use std::fmt;

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
    #[error("{op}: the database is busy (locked by another writer past the busy timeout): {cause}")]
    Busy { op: &'static str, cause: Cause },
    /// The disk or the database is full: nothing more can be written until room is made.
    #[error("{op}: the disk or the database is full: {cause}")]
    Full { op: &'static str, cause: Cause },
    /// A stored row (or the file itself) cannot be read.
    #[error("{op}: unreadable data in {table} ({key}): {reason}")]
    Corrupt {
        op: &'static str,
        table: String,
        key: String,
        reason: String,
    },
    /// Reading or writing the database's files (or reaching its server) failed.
    #[error("{op}: I/O error: {cause}")]
    Io { op: &'static str, cause: Cause },
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
    #[error("{op}: {cause}")]
    Backend { op: &'static str, cause: Cause },
}

/// What the database (or the disk or network under it) reported, kept whole: its text is
/// the context the operation added followed by the driver's message, and
/// [`std::error::Error::source`] is the driver's own error (`rusqlite::Error`,
/// `tokio_postgres::Error`, `std::io::Error`) for a caller that wants more than the kind.
#[derive(Debug)]
pub struct Cause(Box<DbError>);

impl Cause {
    /// A cause that is only words (a task that failed, a pool that stayed full).
    pub fn message(text: impl Into<String>) -> Cause {
        Cause(Box::new(DbError::Message(text.into())))
    }

    /// SQLite's (primary) result code, when SQLite reported this.
    pub fn sqlite_code(&self) -> Option<rusqlite::ErrorCode> {
        match self.0.root() {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => Some(f.code),
            _ => None,
        }
    }

    /// PostgreSQL's SQLSTATE, when the server answered with one.
    pub fn sqlstate(&self) -> Option<&tokio_postgres::error::SqlState> {
        match self.0.root() {
            DbError::Postgres(e) => e.code(),
            _ => None,
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.0.root() {
            DbError::Sqlite(e) => Some(e),
            DbError::Postgres(e) => Some(e),
            DbError::Io(e) => Some(e),
            DbError::Json(e) => Some(e),
            DbError::Range(e) => Some(e),
            DbError::Tls(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<String> for Cause {
    fn from(text: String) -> Cause {
        Cause::message(text)
    }
}

impl From<&str> for Cause {
    fn from(text: &str) -> Cause {
        Cause::message(text)
    }
}

/// What a statement or an operation inside the store fails with, before
/// [`StoreError::from_db`] names its kind: the driver's error, an operation's own verdict
/// (a [`StoreError`] it raised: a conflict, an unreadable row), or words, each possibly
/// wrapped in the context an operation added ([`Context`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored JSON value that does not read back (or a value that does not serialise).
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A stored number out of its type's range.
    #[error(transparent)]
    Range(#[from] std::num::TryFromIntError),
    #[error("{context}: {source}")]
    Context {
        context: String,
        source: Box<DbError>,
    },
    /// Setting up TLS to the PostgreSQL server failed (a CA file, the platform's verifier).
    #[error(transparent)]
    Tls(Box<dyn std::error::Error + Send + Sync>),
    #[error("{0}")]
    Message(String),
}

impl From<rustls::Error> for DbError {
    fn from(e: rustls::Error) -> DbError {
        DbError::Tls(Box::new(e))
    }
}

impl From<rustls_pki_types::pem::Error> for DbError {
    fn from(e: rustls_pki_types::pem::Error) -> DbError {
        DbError::Tls(Box::new(e))
    }
}

/// What a store statement or operation returns inside the store.
pub(crate) type DbResult<T> = Result<T, DbError>;

impl DbError {
    /// Words as an error (what `anyhow::anyhow!` was).
    pub(super) fn msg(text: impl Into<String>) -> DbError {
        DbError::Message(text.into())
    }

    /// The error under every context.
    fn root(&self) -> &DbError {
        let mut e = self;
        while let DbError::Context { source, .. } = e {
            e = source;
        }
        e
    }

    /// The [`StoreError`] an operation raised, under whatever context was added to it.
    fn into_store_error(self) -> Result<StoreError, DbError> {
        match self {
            DbError::Store(e) => Ok(e),
            DbError::Context { context, source } => {
                source
                    .into_store_error()
                    .map_err(|source| DbError::Context {
                        context,
                        source: Box::new(source),
                    })
            }
            other => Err(other),
        }
    }
}

/// `.context(…)` / `.with_context(|| …)` on a store result or option, as anyhow's: the words
/// go in front of the error, which is kept.
pub(super) trait Context<T> {
    fn context(self, context: impl Into<String>) -> DbResult<T>;
    fn with_context<C: Into<String>>(self, context: impl FnOnce() -> C) -> DbResult<T>;
}

impl<T, E: Into<DbError>> Context<T> for Result<T, E> {
    fn context(self, context: impl Into<String>) -> DbResult<T> {
        self.map_err(|e| DbError::Context {
            context: context.into(),
            source: Box::new(e.into()),
        })
    }
    fn with_context<C: Into<String>>(self, context: impl FnOnce() -> C) -> DbResult<T> {
        self.map_err(|e| DbError::Context {
            context: context().into(),
            source: Box::new(e.into()),
        })
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl Into<String>) -> DbResult<T> {
        self.ok_or_else(|| DbError::Message(context.into()))
    }
    fn with_context<C: Into<String>>(self, context: impl FnOnce() -> C) -> DbResult<T> {
        self.ok_or_else(|| DbError::Message(context().into()))
    }
}

/// `return Err(DbError::msg(format!(…)))`, as anyhow's `bail!`.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::store::error::DbError::msg(format!($($arg)*)))
    };
}
pub(super) use bail;

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

    /// What the database reported, for the kinds that carry it.
    pub fn cause(&self) -> Option<&Cause> {
        match self {
            StoreError::Busy { cause, .. }
            | StoreError::Full { cause, .. }
            | StoreError::Io { cause, .. }
            | StoreError::Backend { cause, .. } => Some(cause),
            _ => None,
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

    /// Names the kind of a failure of operation `op`: a `StoreError` the operation raised
    /// itself (a conflict, an unreadable row) is kept as it is; the driver's error is
    /// classified by SQLite's result code or PostgreSQL's SQLSTATE.
    pub(super) fn from_db(op: &'static str, e: DbError) -> StoreError {
        let e = match e.into_store_error() {
            Ok(store_error) => return store_error,
            Err(e) => e,
        };
        let kind = match e.root() {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => sqlite_kind(f.code),
            DbError::Sqlite(_)
            | DbError::Message(_)
            | DbError::Json(_)
            | DbError::Range(_)
            | DbError::Tls(_) => Kind::Backend,
            DbError::Postgres(pg) => postgres_kind(pg),
            DbError::Io(_) => Kind::Io,
            DbError::Store(_) | DbError::Context { .. } => unreachable!("the root is neither"),
        };
        let cause = Cause(Box::new(e));
        match kind {
            Kind::Busy => StoreError::Busy { op, cause },
            Kind::Full => StoreError::Full { op, cause },
            Kind::Io => StoreError::Io { op, cause },
            Kind::Backend => StoreError::Backend { op, cause },
            Kind::Conflict => StoreError::Conflict {
                op,
                what: format!("a row ({cause})"),
            },
            Kind::Corrupt(table) => StoreError::Corrupt {
                op,
                table: table.into(),
                key: "-".into(),
                reason: cause.to_string(),
            },
        }
    }
}

/// The kinds a driver's error maps to.
enum Kind {
    Busy,
    Full,
    Io,
    Conflict,
    Corrupt(&'static str),
    Backend,
}

fn sqlite_kind(code: rusqlite::ErrorCode) -> Kind {
    use rusqlite::ErrorCode as C;
    match code {
        C::DatabaseBusy | C::DatabaseLocked => Kind::Busy,
        C::DiskFull => Kind::Full,
        C::SystemIoFailure | C::CannotOpen => Kind::Io,
        C::DatabaseCorrupt | C::NotADatabase => Kind::Corrupt("the database file"),
        C::ConstraintViolation => Kind::Conflict,
        _ => Kind::Backend,
    }
}

fn postgres_kind(pg: &tokio_postgres::Error) -> Kind {
    use tokio_postgres::error::SqlState as S;
    let Some(code) = pg.code() else {
        // No SQLSTATE: the connection failed or closed (network, server down).
        return Kind::Io;
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
        Kind::Busy
    } else if *code == S::DISK_FULL || class == "53" {
        Kind::Full
    } else if class == "23" {
        Kind::Conflict
    } else if class == "08" || class == "58" {
        Kind::Io
    } else if class == "XX" {
        Kind::Corrupt("the database")
    } else {
        Kind::Backend
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_failure(code: std::os::raw::c_int, msg: &str) -> DbError {
        Err::<(), _>(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            Some(msg.into()),
        ))
        .context("Failed to record the outcome")
        .unwrap_err()
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
            let e = StoreError::from_db("finish_deliveries", sqlite_failure(code, "boom"));
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
    fn the_drivers_error_is_kept_whole_under_the_operations_context() {
        let e = StoreError::from_db("finish_deliveries", sqlite_failure(5, "locked up"));
        let StoreError::Busy { cause, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(cause.sqlite_code(), Some(rusqlite::ErrorCode::DatabaseBusy));
        assert_eq!(cause.sqlstate(), None);
        assert_eq!(
            cause.to_string(),
            "Failed to record the outcome: locked up",
            "the context, then the driver's words"
        );
        let source = std::error::Error::source(cause).expect("the driver's error");
        assert!(matches!(
            source.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(..))
        ));
        assert!(e.cause().is_some());
        let other = StoreError::NotFound {
            op: "o",
            what: "x".into(),
        };
        assert!(other.cause().is_none());
    }

    #[test]
    fn a_store_error_raised_inside_the_backend_is_kept_as_it_is() {
        let inner = StoreError::Conflict {
            op: "add_subscriber",
            what: "ada@example.org".into(),
        };
        let e = StoreError::from_db(
            "import",
            Err::<(), _>(inner).context("while importing").unwrap_err(),
        );
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
        let detail = || Cause::message("x");
        let refused = [
            StoreError::Busy {
                op: "o",
                cause: detail(),
            },
            StoreError::Full {
                op: "o",
                cause: detail(),
            },
            StoreError::Io {
                op: "o",
                cause: detail(),
            },
        ];
        assert!(refused.iter().all(StoreError::is_write_refused));
        let other = StoreError::Backend {
            op: "o",
            cause: detail(),
        };
        assert!(!other.is_write_refused());
        assert!(refused[0].is_transient() && !refused[1].is_transient());
    }
}
