//! Connections to PostgreSQL for a store whose operations are blocking calls.
//!
//! The client is `tokio-postgres` (maintained, async, pure Rust, TLS through rustls: no
//! second SQLite next to rusqlite as sqlx would bring). The store's operations are
//! synchronous (they run on tokio's blocking pool, or in a CLI command), so each connection's
//! socket is driven by a task on one small background runtime owned by this module, and an
//! operation waits for its query's answer with `futures_executor::block_on`: the query
//! futures of `tokio-postgres` only talk to that task over channels, so waiting on them
//! works on any thread, inside tokio or not, and never nests one runtime in another (which
//! is what the synchronous `postgres` crate would do, and panics inside `#[tokio::main]`).
//!
//! The pool is a few lines rather than a crate (deadpool/r2d2 would each need the runtime
//! or a second abstraction layer): idle connections in a `Mutex<Vec>`, at most
//! `max_connections` open, a caller waits on a `Condvar` for a free one and gets
//! [`StoreError::Busy`] after 30 s. Each connection keeps its prepared statements, so a
//! hot statement (claiming, recording outcomes) is parsed once per connection.
use crate::store::error::{Context, DbError, DbResult};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use futures_executor::block_on;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement};

use crate::store::StoreError;

/// A query parameter.
pub(in crate::store) type Param<'a> = &'a (dyn ToSql + Sync);

/// How long a caller waits for a free connection before the operation fails as busy.
const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(30);

/// The runtime that drives every connection's socket (one thread: it only moves bytes).
/// Process-wide and never dropped, so dropping a store inside async code is harmless.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("paperpost-postgres")
            .enable_all()
            .build()
            .expect("the PostgreSQL connection runtime starts")
    })
}

/// How connections are encrypted.
#[derive(Clone)]
pub(in crate::store) enum Tls {
    Off,
    Rustls(tokio_postgres_rustls::MakeRustlsConnect),
}

pub(in crate::store) struct Pool {
    config: tokio_postgres::Config,
    tls: Tls,
    max: usize,
    state: Mutex<State>,
    freed: Condvar,
}

struct State {
    idle: Vec<PgConn>,
    open: usize,
}

impl Pool {
    pub(in crate::store) fn new(config: tokio_postgres::Config, tls: Tls, max: usize) -> Pool {
        Pool {
            config,
            tls,
            max: max.max(1),
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection: an idle one, a new one while fewer than `max` are open, else the first
    /// one freed within [`WAIT_FOR_CONNECTION`].
    pub(in crate::store) fn get(&self) -> DbResult<Conn<'_>> {
        let deadline = std::time::Instant::now() + WAIT_FOR_CONNECTION;
        let mut state = self.state();
        loop {
            while let Some(conn) = state.idle.pop() {
                if conn.client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Conn {
                    conn: Some(conn),
                    pool: self,
                });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(conn) => Ok(Conn {
                        conn: Some(conn),
                        pool: self,
                    }),
                    Err(e) => {
                        self.state().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(StoreError::Busy {
                    op: "connect",
                    cause: format!(
                        "all {} PostgreSQL connections stayed in use for {} s \
                         (raise [store] max_connections?)",
                        self.max,
                        WAIT_FOR_CONNECTION.as_secs()
                    )
                    .into(),
                }
                .into());
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn connect(&self) -> DbResult<PgConn> {
        let config = self.config.clone();
        let tls = self.tls.clone();
        let task = runtime().spawn(async move {
            let client = match tls {
                Tls::Off => {
                    let (client, connection) = config.connect(NoTls).await?;
                    tokio::spawn(drive(connection));
                    client
                }
                Tls::Rustls(tls) => {
                    let (client, connection) = config.connect(tls).await?;
                    tokio::spawn(drive(connection));
                    client
                }
            };
            Ok::<_, tokio_postgres::Error>(client)
        });
        // `unconstrained`: a caller on a tokio worker (a CLI command) would otherwise poll
        // the handle against its own task's coop budget, and once that is spent the handle
        // answers "not yet" forever and `block_on` spins.
        let client = block_on(tokio::task::unconstrained(task))
            .map_err(|e| DbError::msg(format!("the PostgreSQL connection task failed: {e}")))?
            .with_context(|| {
                format!(
                    "Failed to connect to PostgreSQL at {}",
                    describe(&self.config)
                )
            })?;
        Ok(PgConn {
            client,
            cache: HashMap::new(),
        })
    }

    fn give_back(&self, conn: PgConn) {
        let mut state = self.state();
        if conn.client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(conn);
        }
        drop(state);
        self.freed.notify_one();
    }
}

/// Runs one connection's socket until it closes.
async fn drive<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Err(e) = connection.await {
        tracing::warn!(error = %e, "PostgreSQL connection closed");
    }
}

/// `user@host:port/dbname` of a config, never its password (for messages).
pub(in crate::store) fn describe(config: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or("?")
    )
}

/// A connection on loan from the pool; goes back when dropped (a broken one is closed).
pub(in crate::store) struct Conn<'a> {
    conn: Option<PgConn>,
    pool: &'a Pool,
}

impl Deref for Conn<'_> {
    type Target = PgConn;
    fn deref(&self) -> &PgConn {
        self.conn.as_ref().expect("a loaned connection")
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut PgConn {
        self.conn.as_mut().expect("a loaned connection")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.give_back(conn);
        }
    }
}

/// One open connection and the statements prepared on it.
pub(in crate::store) struct PgConn {
    client: Client,
    cache: HashMap<String, Statement>,
}

impl PgConn {
    /// Starts a transaction (READ COMMITTED); it rolls back when dropped uncommitted.
    pub(in crate::store) fn transaction(&mut self) -> Result<PgTx<'_>, tokio_postgres::Error> {
        let tx = block_on(self.client.transaction())?;
        Ok(PgTx {
            tx,
            cache: &mut self.cache,
        })
    }
}

/// An open transaction: the same calls as a connection, then [`PgTx::commit`].
pub(in crate::store) struct PgTx<'a> {
    tx: tokio_postgres::Transaction<'a>,
    cache: &'a mut HashMap<String, Statement>,
}

impl PgTx<'_> {
    pub(in crate::store) fn commit(self) -> Result<(), tokio_postgres::Error> {
        block_on(self.tx.commit())
    }
}

/// The blocking calls an operation makes, on a connection or inside a transaction.
/// Statements are prepared once per connection and reused; `batch` runs text with no
/// parameters (several statements allowed) unprepared.
pub(in crate::store) trait Sql {
    fn prepared(&mut self, sql: &str) -> Result<Statement, tokio_postgres::Error>;
    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, tokio_postgres::Error>;
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, tokio_postgres::Error>;
    fn batch(&mut self, sql: &str) -> Result<(), tokio_postgres::Error>;

    /// The one row a statement returns, or `None`; more than one row is an error.
    fn query_opt(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> Result<Option<Row>, tokio_postgres::Error>;

    /// The one row a statement must return.
    fn query_one(&mut self, sql: &str, params: &[Param]) -> Result<Row, tokio_postgres::Error>;
}

macro_rules! impl_sql {
    ($ty:ty, $client:ident) => {
        impl Sql for $ty {
            fn prepared(&mut self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
                if let Some(s) = self.cache.get(sql) {
                    return Ok(s.clone());
                }
                let s = block_on(self.$client.prepare(sql))?;
                self.cache.insert(sql.to_string(), s.clone());
                Ok(s)
            }
            fn query(
                &mut self,
                sql: &str,
                params: &[Param],
            ) -> Result<Vec<Row>, tokio_postgres::Error> {
                let s = self.prepared(sql)?;
                block_on(self.$client.query(&s, params))
            }
            fn execute(
                &mut self,
                sql: &str,
                params: &[Param],
            ) -> Result<u64, tokio_postgres::Error> {
                let s = self.prepared(sql)?;
                block_on(self.$client.execute(&s, params))
            }
            fn batch(&mut self, sql: &str) -> Result<(), tokio_postgres::Error> {
                block_on(self.$client.batch_execute(sql))
            }
            fn query_opt(
                &mut self,
                sql: &str,
                params: &[Param],
            ) -> Result<Option<Row>, tokio_postgres::Error> {
                let s = self.prepared(sql)?;
                block_on(self.$client.query_opt(&s, params))
            }
            fn query_one(
                &mut self,
                sql: &str,
                params: &[Param],
            ) -> Result<Row, tokio_postgres::Error> {
                let s = self.prepared(sql)?;
                block_on(self.$client.query_one(&s, params))
            }
        }
    };
}

impl_sql!(PgConn, client);
impl_sql!(PgTx<'_>, tx);

impl<T: Sql + ?Sized> Sql for &mut T {
    fn prepared(&mut self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        (**self).prepared(sql)
    }
    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, tokio_postgres::Error> {
        (**self).query(sql, params)
    }
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, tokio_postgres::Error> {
        (**self).execute(sql, params)
    }
    fn batch(&mut self, sql: &str) -> Result<(), tokio_postgres::Error> {
        (**self).batch(sql)
    }
    fn query_opt(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> Result<Option<Row>, tokio_postgres::Error> {
        (**self).query_opt(sql, params)
    }
    fn query_one(&mut self, sql: &str, params: &[Param]) -> Result<Row, tokio_postgres::Error> {
        (**self).query_one(sql, params)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::store::test_server;

    /// A CLI command calls the store from inside its tokio task: connecting there more
    /// often than tokio's per-task budget (128) allows must not spin.
    #[tokio::test]
    async fn connections_are_opened_from_inside_a_tokio_task_again_and_again() {
        let url = test_server::shared()
            .unwrap()
            .fresh_database("pool")
            .unwrap();
        let config = tokio_postgres::Config::from_str(&url).unwrap();
        for i in 0..200 {
            let pool = Pool::new(config.clone(), Tls::Off, 1);
            let mut conn = pool.get().unwrap();
            let n: i32 = conn.query_one("SELECT $1::int", &[&i]).unwrap().get(0);
            assert_eq!(n, i);
        }
    }
}
