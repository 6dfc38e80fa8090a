//! `[store]`'s PostgreSQL keys checked at load (issue 10): a `url` that is a PostgreSQL URL,
//! no password both in it and in `password_env`, a `ca_file` that holds a certificate, a
//! sane `max_connections`. Whether the server answers is `check-config`'s job.
use std::path::Path;
use std::str::FromStr;

use super::StoreSettings;

/// The largest `max_connections`: PostgreSQL's own default limit is 100 for the whole server.
pub(crate) const MAX_CONNECTIONS: usize = 1000;

impl StoreSettings {
    /// The first bad key and what is wrong with it. `ca_file` is read from `base_dir` when
    /// relative.
    pub(super) fn check(&self, base_dir: &Path) -> Result<(), (&'static str, String)> {
        if !(1..=MAX_CONNECTIONS).contains(&self.max_connections) {
            return Err((
                "max_connections",
                format!(
                    "must be between 1 and {MAX_CONNECTIONS} (it is {})",
                    self.max_connections
                ),
            ));
        }
        if let Some(var) = &self.password_env
            && (var.is_empty() || var.contains(|c: char| c.is_whitespace() || c == '='))
        {
            return Err((
                "password_env",
                "must be the name of an environment variable, like PAPERPOST_DB_PASSWORD".into(),
            ));
        }
        let Some(url) = &self.url else {
            for (key, set) in [
                ("password_env", self.password_env.is_some()),
                ("ca_file", self.ca_file.is_some()),
            ] {
                if set {
                    return Err((key, "only applies to PostgreSQL: set `url` too".into()));
                }
            }
            return Ok(());
        };
        let config = parse_url(url).map_err(|m| ("url", m))?;
        if config.get_password().is_some() && self.password_env.is_some() {
            return Err((
                "url",
                "carries a password and `password_env` is set too: keep the password only \
                 in the environment variable"
                    .into(),
            ));
        }
        if let Some(ca) = &self.ca_file {
            let path = base_dir.join(ca);
            let pem = std::fs::read(&path)
                .map_err(|e| ("ca_file", format!("cannot read {}: {e}", path.display())))?;
            if !pem
                .windows(b"-----BEGIN CERTIFICATE-----".len())
                .any(|w| w == b"-----BEGIN CERTIFICATE-----")
            {
                return Err((
                    "ca_file",
                    format!(
                        "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                        path.display()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether `url` itself holds a password (`check-config` warns: the file is then a
    /// secret; `password_env` keeps it out).
    pub fn url_has_password(&self) -> bool {
        self.url
            .as_deref()
            .and_then(|u| parse_url(u).ok())
            .is_some_and(|c| c.get_password().is_some())
    }
}

/// `postgres://` or `postgresql://` URL, as libpq and tokio-postgres read it, naming a host.
fn parse_url(url: &str) -> Result<tokio_postgres::Config, String> {
    const EXAMPLE: &str = "postgres://paperpost@db.example.org:5432/paperpost";
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(format!(
            "must be a PostgreSQL URL starting with postgres://, like {EXAMPLE}"
        ));
    }
    let config = tokio_postgres::Config::from_str(url)
        .map_err(|e| format!("is not a valid PostgreSQL URL ({e}); like {EXAMPLE}"))?;
    if config.get_hosts().is_empty() {
        return Err(format!("names no host; like {EXAMPLE}"));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Settings;

    const MINIMAL: &str = "[newsletter]\nbase_url = \"https://papers.example.org/\"\n\
                           from = \"paperpost <digest@example.org>\"\n\n[store]\n";

    fn error(store_keys: &str, base: &Path) -> String {
        let text = format!("{MINIMAL}{store_keys}");
        Settings::parse(&text, Path::new("config.toml"), base)
            .expect_err(&text)
            .to_string()
    }

    #[test]
    fn bad_postgres_keys_fail_with_the_file_the_key_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("not-a-cert.pem"), "hello").unwrap();
        let cases = [
            (
                "url = \"mysql://db.example.org/pp\"\n",
                "config.toml:6: `store.url`: must be a PostgreSQL URL",
            ),
            (
                "url = \"postgres://db.example.org:notaport/pp\"\n",
                "config.toml:6: `store.url`: is not a valid PostgreSQL URL",
            ),
            (
                "url = \"postgres:///pp\"\n",
                "config.toml:6: `store.url`: names no host",
            ),
            (
                "path = \"x.sqlite3\"\nurl = \"postgres://pp:secret@db.example.org/pp\"\npassword_env = \"PP_DB\"\n",
                "config.toml:7: `store.url`: carries a password and `password_env` is set too",
            ),
            (
                "url = \"postgres://pp@db.example.org/pp\"\npassword_env = \"PP DB\"\n",
                "config.toml:7: `store.password_env`: must be the name of an environment variable",
            ),
            (
                "password_env = \"PP_DB\"\n",
                "config.toml:6: `store.password_env`: only applies to PostgreSQL",
            ),
            (
                "url = \"postgres://pp@db.example.org/pp\"\nmax_connections = 0\n",
                "config.toml:7: `store.max_connections`: must be between 1 and 1000 (it is 0)",
            ),
            (
                "url = \"postgres://pp@db.example.org/pp\"\nmax_connections = 1001\n",
                "config.toml:7: `store.max_connections`: must be between 1 and 1000",
            ),
            (
                "url = \"postgres://pp@db.example.org/pp\"\nca_file = \"missing.pem\"\n",
                "config.toml:7: `store.ca_file`: cannot read",
            ),
            (
                "url = \"postgres://pp@db.example.org/pp\"\nca_file = \"not-a-cert.pem\"\n",
                "config.toml:7: `store.ca_file`: ",
            ),
            ("tls = \"sometimes\"\n", "line 6"),
        ];
        for (keys, expected) in cases {
            let err = error(keys, dir.path());
            assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
        }
        let tls = error("tls = \"sometimes\"\n", dir.path());
        assert!(
            tls.contains("disable") && tls.contains("prefer") && tls.contains("require"),
            "{tls}"
        );
        assert!(
            error(
                "url = \"postgres://pp@db.example.org/pp\"\nca_file = \"not-a-cert.pem\"\n",
                dir.path()
            )
            .contains("holds no PEM certificate")
        );
    }

    #[test]
    fn good_postgres_keys_load_with_the_ca_file_beside_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ca.pem"),
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let text = format!(
            "{MINIMAL}url = \"postgresql://pp@db.example.org:5433/papers\"\n\
             password_env = \"PP_DB\"\ntls = \"require\"\nca_file = \"ca.pem\"\nmax_connections = 1000\n"
        );
        let s = Settings::parse(&text, Path::new("config.toml"), dir.path()).unwrap();
        assert_eq!(s.store.ca_file, Some(dir.path().join("ca.pem")));
        assert_eq!(s.store.tls, crate::store::PostgresTls::Require);
        assert!(!s.store.url_has_password());
        let with_password =
            format!("{MINIMAL}url = \"postgres://pp:secret@db.example.org/papers\"\n");
        let s = Settings::parse(&with_password, Path::new("config.toml"), dir.path()).unwrap();
        assert!(s.store.url_has_password());
    }
}
