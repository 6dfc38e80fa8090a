//! The PostgreSQL backend, for operators who run several senders or web instances on
//! different hosts against one database. Every operation of `../operations.rs` has its
//! PostgreSQL SQL here, in a file named like its SQLite twin (`deliveries.rs`, …).
//!
//! Several processes share one database safely because every decision is made by the
//! database: deliveries are claimed with `FOR UPDATE SKIP LOCKED` under leases, an edition
//! and each reader's delivery in it have unique keys (planning twice plans once), named
//! leases (`locks`) keep one scheduler run at a time, and the suppression list, rate-limit
//! attempts and web tokens are rows every instance reads.
use crate::store::error::{Context, DbResult, bail};
pub(super) mod pool;
pub(super) mod schema;
#[cfg(any(test, feature = "test-support"))]
pub mod test_server;

use std::path::PathBuf;
use std::str::FromStr;

use pool::{Conn, Pool, Tls};

/// How to reach a PostgreSQL store (`[store] url` and friends).
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// `postgres://user@host:port/dbname?…` (key=value strings work too).
    pub url: String,
    /// The password, when it is not in the URL (read from the environment by the caller).
    pub password: Option<String>,
    /// Whether to encrypt: `disable`, `prefer` or `require`. With TLS the server's
    /// certificate is always verified (the system's roots, or `ca_file`).
    pub tls: PostgresTls,
    /// A PEM file of the CA that signed the server's certificate (a private CA).
    pub ca_file: Option<PathBuf>,
    /// At most this many connections from this process.
    pub max_connections: usize,
}

impl PostgresOptions {
    /// A test server's database: no TLS, a few connections.
    #[cfg(any(test, feature = "test-support"))]
    pub fn for_tests(url: String) -> PostgresOptions {
        PostgresOptions {
            url,
            password: None,
            tls: PostgresTls::Disable,
            ca_file: None,
            max_connections: 8,
        }
    }
}

/// `[store] tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostgresTls {
    /// Plain TCP (a database on the same host or a private network).
    Disable,
    /// TLS when the server offers it (then verified), else plain.
    Prefer,
    /// TLS or no connection.
    Require,
}

/// The PostgreSQL backend: a pool of connections.
pub(super) struct Postgres {
    pool: Pool,
    describe: String,
}

impl Postgres {
    /// Connects, checks the database is usable, and applies pending migrations.
    pub(super) fn open(options: &PostgresOptions) -> DbResult<Postgres> {
        Self::open_at(options, schema::VERSIONS)
    }

    /// [`Postgres::open`], migrating no further than `version` (tests make older stores).
    pub(super) fn open_at(options: &PostgresOptions, version: usize) -> DbResult<Postgres> {
        let mut config = tokio_postgres::Config::from_str(&options.url)
            .context("[store] url is not a PostgreSQL connection URL")?;
        if let Some(password) = &options.password {
            config.password(password.as_bytes());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        config.application_name("paperpost");
        let tls = match options.tls {
            PostgresTls::Disable => {
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                Tls::Off
            }
            mode => {
                config.ssl_mode(if mode == PostgresTls::Require {
                    tokio_postgres::config::SslMode::Require
                } else {
                    tokio_postgres::config::SslMode::Prefer
                });
                Tls::Rustls(tls_connector(options.ca_file.as_deref())?)
            }
        };
        let describe = pool::describe(&config);
        let pool = Pool::new(config, tls, options.max_connections);
        let db = Postgres { pool, describe };
        let mut conn = db.conn()?;
        schema::migrate_to(&mut conn, version).with_context(|| {
            format!("Failed to prepare the PostgreSQL store at {}", db.describe)
        })?;
        drop(conn);
        Ok(db)
    }

    /// `user@host:port/dbname`, for messages and `check-config`.
    pub(super) fn describe(&self) -> &str {
        &self.describe
    }

    /// A connection from the pool.
    pub(super) fn conn(&self) -> DbResult<Conn<'_>> {
        self.pool.get()
    }
}

/// rustls with the platform's certificate verifier, or with only `ca_file`'s CAs.
fn tls_connector(
    ca_file: Option<&std::path::Path>,
) -> DbResult<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls_pki_types::pem::PemObject;
    let config = match ca_file {
        None => {
            use rustls_platform_verifier::ConfigVerifierExt;
            rustls::ClientConfig::with_platform_verifier()
                .context("Failed to set up TLS with the system's certificate verifier")?
        }
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
                .with_context(|| format!("Failed to read [store] ca_file {}", path.display()))?;
            for cert in certs {
                let cert = cert.with_context(|| {
                    format!("[store] ca_file {} is not PEM certificates", path.display())
                })?;
                roots.add(cert).with_context(|| {
                    format!(
                        "[store] ca_file {} holds an unusable certificate",
                        path.display()
                    )
                })?;
            }
            if roots.is_empty() {
                bail!("[store] ca_file {} holds no certificate", path.display());
            }
            rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth()
        }
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use crate::store::{PostgresOptions, Store, test_server};

    fn store() -> Store {
        let url = test_server::shared()
            .unwrap()
            .fresh_database("pgmod")
            .unwrap();
        Store::open_postgres(&PostgresOptions::for_tests(url)).unwrap()
    }

    #[test]
    fn a_new_database_is_migrated_marked_and_opens_again() {
        let url = test_server::shared()
            .unwrap()
            .fresh_database("pgmod")
            .unwrap();
        let store = Store::open_postgres(&PostgresOptions::for_tests(url.clone())).unwrap();
        let info = store.schema_info().unwrap();
        assert_eq!(info.backend, "postgres");
        assert_eq!(info.version, Store::expected_schema_version());
        assert_eq!(store.meta("paperpost_store").unwrap().as_deref(), Some("1"));
        drop(store);
        // Several processes opening at once migrate once.
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                std::thread::spawn(move || {
                    Store::open_postgres(&PostgresOptions::for_tests(url)).map(|_| ())
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
    }

    #[test]
    fn a_store_made_before_version_14_gets_text_in_byte_order() {
        use std::sync::Arc;
        let url = test_server::shared()
            .unwrap()
            .fresh_database("pgmod")
            .unwrap();
        let options = PostgresOptions::for_tests(url);
        let old = Store::on(crate::store::Backend::Postgres(Arc::new(
            super::Postgres::open_at(&options, 13).unwrap(),
        )));
        // As a store made by an older paperpost: the database's own collation.
        old.raw_execute(
            r#"ALTER TABLE feedback ALTER COLUMN paper_id TYPE text COLLATE "default""#,
        );
        drop(old);
        let store = Store::open_postgres(&options).unwrap();
        assert_eq!(
            store.schema_info().unwrap().version,
            Store::expected_schema_version()
        );
        let collations: Vec<String> = store
            .read("test", |c| {
                c.query(
                    "SELECT DISTINCT COALESCE(collation_name, 'default')
                       FROM information_schema.columns
                      WHERE table_schema = current_schema() AND data_type = 'text'",
                    &[],
                    |r| r.get(0),
                )
            })
            .unwrap();
        assert_eq!(collations, ["C"], "every text column orders byte by byte");
    }

    #[test]
    fn meta_values_are_kept_and_the_first_init_wins() {
        let store = store();
        assert_eq!(store.meta("k").unwrap(), None);
        assert_eq!(store.meta_or_init("k", || "a".into()).unwrap(), "a");
        assert_eq!(store.meta_or_init("k", || "b".into()).unwrap(), "a");
        store.set_meta("k", "c").unwrap();
        assert_eq!(store.meta("k").unwrap().as_deref(), Some("c"));
    }

    #[test]
    fn a_store_call_inside_async_code_works() {
        let store = store();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            store.set_meta("x", "1").unwrap();
            let s = store.clone();
            let v = store.blocking(move |_| s.meta("x")).await.unwrap();
            assert_eq!(v.as_deref(), Some("1"));
        });
    }

    #[test]
    fn an_unreachable_server_is_an_error_naming_it() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = Store::open_postgres(&PostgresOptions::for_tests(format!(
            "postgres://someone:secret@127.0.0.1:{port}/nowhere"
        )))
        .err()
        .expect("no server");
        let msg = format!("{err}");
        assert!(
            msg.contains(&format!("someone@127.0.0.1:{port}/nowhere")),
            "{msg}"
        );
        assert!(!msg.contains("secret"), "{msg}");
        assert!(
            matches!(err, crate::store::StoreError::Io { .. }),
            "{err:?}"
        );
    }
}
