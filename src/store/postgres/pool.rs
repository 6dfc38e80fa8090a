//! Connections to PostgreSQL for a store whose operations are blocking calls.
//!
//! The client is `tokio-postgres` (maintained, async, pure Rust, TLS through rustls: no
//! second SQLite next to rusqlite as sqlx would bring), pooled by `deadpool-postgres` (a
//! maintained pool: at most `max_connections` open, a closed connection dropped when it
//! comes back, a statement cache per connection so a hot statement — claiming, recording
//! outcomes — is parsed once per connection, and a wait for a free connection that ends with
//! [`StoreError::Busy`] after 30 s).
//!
//! The store's operations are synchronous (they run on tokio's blocking pool, or in a CLI
//! command), so the pool and each connection's socket live on one small background runtime
//! owned by this module, and an operation waits for its query's answer with
//! `futures_executor::block_on`: the query futures of `tokio-postgres` only talk to the
//! connection's task over channels, so waiting on them works on any thread, inside tokio or
//! not, and never nests one runtime in another (which is what the synchronous `postgres`
//! crate would do, and panics inside `#[tokio::main]`). An async store (issue 21) would drop
//! this runtime and await the pool directly.
use std::sync::OnceLock;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, PoolError, RecyclingMethod};
use futures_executor::block_on;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row, Statement};

use crate::store::StoreError;
use crate::store::error::{Context, DbError, DbResult};

/// A query parameter.
pub(in crate::store) type Param<'a> = &'a (dyn ToSql + Sync);

/// How long an operation waits for a free connection before the store answers "busy".
pub(in crate::store) const WAIT_FOR_CONNECTION: Duration = Duration::from_secs(30);

/// The runtime that drives the pool and every connection's socket.
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

/// The store's connections to one database.
pub(in crate::store) struct Pool {
    pool: deadpool_postgres::Pool,
    max: usize,
    wait: Duration,
    describe: String,
}

impl Pool {
    pub(in crate::store) fn new(
        config: tokio_postgres::Config,
        tls: Tls,
        max: usize,
        wait: Duration,
    ) -> DbResult<Pool> {
        let describe = describe(&config);
        let fast = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match tls {
            Tls::Off => Manager::from_config(config, NoTls, fast),
            Tls::Rustls(tls) => Manager::from_config(config, tls, fast),
        };
        let max = max.max(1);
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(max)
            .wait_timeout(Some(wait))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::msg(format!("cannot set up the PostgreSQL pool: {e}")))?;
        Ok(Pool {
            pool,
            max,
            wait,
            describe,
        })
    }

    /// A connection of the pool (a new one when none is idle and fewer than the most are
    /// open), given back when dropped.
    pub(in crate::store) fn get(&self) -> DbResult<PgConn> {
        // The answer comes back over a std channel, not by waiting on the task's
        // `JoinHandle`: a caller on a tokio worker (a CLI command) would poll that handle
        // against its own task's coop budget, and once the budget is spent the handle
        // answers "not yet" forever and `block_on` spins.
        let pool = self.pool.clone();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        runtime().spawn(async move {
            let _ = tx.send(pool.get().await);
        });
        let got = rx
            .recv()
            .map_err(|_| DbError::msg("the PostgreSQL connection task failed"))?;
        match got {
            Ok(client) => Ok(PgConn { client }),
            Err(PoolError::Timeout(_)) => Err(StoreError::Busy {
                op: "connect",
                cause: format!(
                    "all {} PostgreSQL connections stayed in use for {:.1} s \
                     (raise [store] max_connections?)",
                    self.max,
                    self.wait.as_secs_f64()
                )
                .into(),
            }
            .into()),
            Err(PoolError::Backend(e)) => Err(e)
                .with_context(|| format!("Failed to connect to PostgreSQL at {}", self.describe)),
            Err(e) => Err(DbError::msg(format!(
                "Failed to connect to PostgreSQL at {}: {e}",
                self.describe
            ))),
        }
    }
}

/// `user@host:port/database`, for messages (never the password).
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

/// A pooled connection, with its statement cache.
pub(in crate::store) struct PgConn {
    client: Object,
}

impl PgConn {
    pub(in crate::store) fn transaction(&mut self) -> Result<PgTx<'_>, tokio_postgres::Error> {
        Ok(PgTx {
            tx: block_on(self.client.transaction())?,
        })
    }
}

/// An open transaction: the same calls as a connection, then [`PgTx::commit`].
pub(in crate::store) struct PgTx<'a> {
    tx: deadpool_postgres::Transaction<'a>,
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
                block_on(self.$client.prepare_cached(sql))
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
    use std::time::Instant;

    use super::*;
    use crate::store::test_server;

    /// A CLI command calls the store from inside its tokio task: taking connections there,
    /// far more often than tokio's per-task budget (128), must not spin.
    #[tokio::test]
    async fn connections_are_taken_from_inside_a_tokio_task_again_and_again() {
        let url = test_server::shared()
            .unwrap()
            .fresh_database("pool")
            .unwrap();
        let config = tokio_postgres::Config::from_str(&url).unwrap();
        let pool = Pool::new(config, Tls::Off, 2, Duration::from_secs(5)).unwrap();
        for i in 0..1000 {
            let mut c = pool.get().unwrap();
            let n: i32 = c.query_one("SELECT $1::int", &[&i]).unwrap().get(0);
            assert_eq!(n, i);
        }
    }

    #[test]
    fn a_caller_waits_for_a_free_connection_then_hears_busy_and_a_freed_one_is_reused() {
        let url = test_server::shared()
            .unwrap()
            .fresh_database("pool")
            .unwrap();
        let config = tokio_postgres::Config::from_str(&url).unwrap();
        let wait = Duration::from_millis(300);
        let pool = Pool::new(config, Tls::Off, 2, wait).unwrap();
        let mut first = pool.get().unwrap();
        let _second = pool.get().unwrap();
        let started = Instant::now();
        let Err(e) = pool.get() else {
            panic!("a third connection out of two")
        };
        assert!(started.elapsed() >= wait, "{:?}", started.elapsed());
        match StoreError::from_db("claim_deliveries", e) {
            StoreError::Busy { op, cause } => {
                assert_eq!(op, "connect");
                let said = cause.to_string();
                assert!(said.contains("all 2 PostgreSQL connections"), "{said}");
                assert!(said.contains("max_connections"), "{said}");
            }
            other => panic!("{other:?}"),
        }
        // The first works, then goes back and is what the next caller gets.
        let one: i32 = first.query_one("SELECT 1", &[]).unwrap().get(0);
        assert_eq!(one, 1);
        let pid =
            |c: &mut PgConn| -> i32 { c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0) };
        let first_pid = pid(&mut first);
        drop(first);
        let mut again = pool.get().unwrap();
        assert_eq!(pid(&mut again), first_pid, "the idle connection is reused");
    }
}
