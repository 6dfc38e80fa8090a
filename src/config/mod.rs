//! `config.toml` parsed into typed settings once, at start-up. A bad file fails here with
//! the key and the line; after this no code holds raw config strings.
//!
//! Secrets never live in the file: the SMTP password is read from the environment variable
//! named by `password_env`.
mod build;
mod newsletters;
mod sections;
mod store_keys;
mod validate;

use std::path::{Path, PathBuf};

pub use crate::pipeline::{FetchJob, PlanSettings};
pub use build::MissingSecret;
#[cfg(any(test, feature = "test-support"))]
pub(crate) use build::dkim_signing;
pub use newsletters::{UnknownNewsletter, check_slug};
pub use sections::*;

/// A config error that names the file, the key and (when found) the line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "there is no config file {path}: `paperpost init` writes a commented one \
         (or pass --config PATH, or set PAPERPOST_CONFIG)"
    )]
    Missing { path: PathBuf },
    /// `error` is not a `#[source]`: the message already says it, once.
    #[error("cannot read config file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}:{line}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
}

impl Settings {
    /// Reads and validates the config file.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                ConfigError::Missing {
                    path: path.to_path_buf(),
                }
            } else {
                ConfigError::Read {
                    path: path.to_path_buf(),
                    error,
                }
            }
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Settings::parse(&text, path, &base)
    }

    /// Parses config text; `path` is only used in messages, `base_dir` resolves relative paths.
    pub fn parse(text: &str, path: &Path, base_dir: &Path) -> Result<Settings, ConfigError> {
        let mut s: Settings = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        s.base_dir = base_dir.to_path_buf();
        s.read_newsletters(text, path)?;
        s.validate(text, path)?;
        s.store.path = s.resolve(&s.store.path);
        s.store.ca_file = s.store.ca_file.as_ref().map(|p| s.resolve(p));
        s.delivery.outbox = s.resolve(&s.delivery.outbox);
        s.selection.model = s.selection.model.as_ref().map(|p| s.resolve(p));
        if let Some(key_file) = s.delivery.dkim.as_ref().map(|d| s.resolve(&d.key_file))
            && let Some(d) = s.delivery.dkim.as_mut()
        {
            d.key_file = key_file;
        }
        for src in &mut s.sources {
            src.resolve_paths(base_dir);
        }
        Ok(s)
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::Transport;

    const MINIMAL: &str = r#"
[newsletter]
base_url = "https://papers.example.org/"
from = "paperpost <digest@example.org>"
"#;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse(text, Path::new("config.toml"), Path::new("/srv/pp"))
    }

    #[test]
    fn a_minimal_config_gets_every_default() {
        let s = parse(MINIMAL).unwrap();
        assert_eq!(s.selection.max_papers, 20);
        assert_eq!(s.store.path, PathBuf::from("/srv/pp/paperpost.sqlite3"));
        assert!(
            matches!(s.transport().unwrap(), Transport::File(p) if p == Path::new("/srv/pp/outbox"))
        );
        let m = s.message_settings();
        assert_eq!(m.list_id, "paperpost.papers.example.org");
        assert_eq!(m.message_id_domain, "example.org");
    }

    #[test]
    fn bad_configs_name_the_key_and_line() {
        let cases = [
            (
                format!("{MINIMAL}\n[selection]\nmax_papers = \"many\"\n"),
                "line 7",
            ),
            (
                format!("{MINIMAL}\n[selection]\nmax_papers = 0\n"),
                "config.toml:7: `selection.max_papers`",
            ),
            (
                MINIMAL.replace("digest@example.org", "not an address"),
                "line 4",
            ),
            (
                MINIMAL.replace("https://papers.example.org/", "ftp://x"),
                "line 3",
            ),
            (format!("{MINIMAL}\n[newsletter2]\n"), "newsletter2"),
            (
                format!("{MINIMAL}timezone = \"Mars/Olympus\"\n"),
                "Mars/Olympus",
            ),
            (
                format!("{MINIMAL}\n[schedule]\ntick_secs = 5\nsend = \"0 25 * * MON\"\n"),
                "config.toml:8: `schedule.send`",
            ),
            (
                format!("{MINIMAL}\n[schedule]\ntimezone = \"Berlin\"\n"),
                "line 7",
            ),
            (
                format!("{MINIMAL}\n[delivery]\ntransport = \"smtp\"\n"),
                "config.toml:7: `delivery.transport`",
            ),
            (
                format!(
                    "{MINIMAL}\n[[delivery.relays]]\nhost = \"smtp.example.org\"\nusername = \"u\"\n"
                ),
                "config.toml:8: `delivery.relays.username`",
            ),
            (
                format!(
                    "{MINIMAL}\n[[sources]]\nname = \"ai\"\nkind = \"arxiv_feed\"\n\
                     categories = [\"cs.AI\"]\nallow_redirect_hosts = [\"x.org/feed\"]\n"
                ),
                "line 10",
            ),
            (
                format!(
                    "{MINIMAL}\n[[sources]]\nname = \"list\"\nkind = \"file\"\npath = \"p.json\"\n\
                     allow_redirect_hosts = [\"x.org\"]\n"
                ),
                "config.toml:10: `sources.allow_redirect_hosts`: applies to HTTP sources only",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(&text).expect_err(&text).to_string();
            assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
        }
    }

    #[test]
    fn control_characters_and_absurd_numbers_are_refused_with_key_and_line() {
        let header = |key: &str, value: &str| {
            MINIMAL.replace(
                "[newsletter]\n",
                &format!("[newsletter]\n{key} = \"{value}\"\n"),
            )
        };
        let cases = [
            (
                header("name", "News\\r\\nBcc: all@example.org"),
                "config.toml:3: `newsletter.name`: must not contain control characters",
            ),
            (
                header("list_id", "list\\n.example.org"),
                "config.toml:3: `newsletter.list_id`: must not contain control",
            ),
            (
                header("message_id_domain", "example.org\\r"),
                "config.toml:3: `newsletter.message_id_domain`",
            ),
            (
                header("message_id_domain", "ex ample.org"),
                "`newsletter.message_id_domain`: must be one word",
            ),
            (
                MINIMAL.replace("paperpost <digest", "\\\"pp\\u0007\\\" <digest"),
                "`newsletter.from`",
            ),
            (
                format!("{MINIMAL}\n[fetch]\ntimeout_secs = 0\n"),
                "config.toml:7: `fetch.timeout_secs`: must be between 1 and 3600 (it is 0)",
            ),
            (
                format!("{MINIMAL}\n[fetch]\nmax_body_bytes = 0\n"),
                "config.toml:7: `fetch.max_body_bytes`: must be between 1024",
            ),
            (
                format!("{MINIMAL}\n[web]\nmax_body_bytes = 0\n"),
                "config.toml:7: `web.max_body_bytes`",
            ),
            (
                format!("{MINIMAL}\n[web]\nmax_upload_bytes = 17000000\n"),
                "config.toml:7: `web.max_upload_bytes`: must be between 1024 and 16777216",
            ),
            (
                format!("{MINIMAL}\n[web]\nconfirm_ttl_hours = 4294967295\n"),
                "config.toml:7: `web.confirm_ttl_hours`: must be between 1 and 720",
            ),
            (
                format!(
                    "{MINIMAL}\n[[sources]]\nname = \"x\"\nkind = \"file\"\npath = \"a.json\"\nmax_body_bytes = 10\n"
                ),
                "config.toml:10: `sources.max_body_bytes`",
            ),
            (
                format!(
                    "{MINIMAL}\n[[sources]]\nname = \"x\\ty\"\nkind = \"file\"\npath = \"a.json\"\n"
                ),
                "config.toml:7: `sources.name`: must not contain control",
            ),
            (
                format!("{MINIMAL}\n[[delivery.relays]]\nhost = \"smtp.example.org\\r\\nRSET\"\n"),
                "config.toml:7: `delivery.relays.host`",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(&text).expect_err(&text).to_string();
            assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
        }
        let fine = format!("{MINIMAL}\n[fetch]\nmax_body_bytes = 1048576\n");
        assert_eq!(parse(&fine).unwrap().fetch.max_body_bytes, 1_048_576);
        assert_eq!(
            parse(MINIMAL).unwrap().fetch.max_body_bytes,
            50 * 1024 * 1024
        );
    }

    #[test]
    fn web_timeouts_and_connection_caps_are_range_checked() {
        let cases = [
            (
                "header_timeout_secs = 0",
                "config.toml:7: `web.header_timeout_secs`",
            ),
            (
                "body_timeout_secs = 7200",
                "config.toml:7: `web.body_timeout_secs`",
            ),
            (
                "request_timeout_secs = 0",
                "config.toml:7: `web.request_timeout_secs`",
            ),
            (
                "max_connections = 0",
                "config.toml:7: `web.max_connections`",
            ),
            (
                "max_connections = 10\nmax_connections_per_ip = 11",
                "config.toml:8: `web.max_connections_per_ip`",
            ),
            (
                "max_connections = 100\nmax_connections_per_network = 101",
                "config.toml:8: `web.max_connections_per_network`: must be between",
            ),
            (
                "max_connections_per_ip = 64\nmax_connections_per_network = 32",
                "config.toml:8: `web.max_connections_per_network`: must be between max_connections_per_ip (64)",
            ),
        ];
        for (keys, expected) in cases {
            let text = format!("{MINIMAL}\n[web]\n{keys}\n");
            let err = parse(&text).expect_err(&text).to_string();
            assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
        }
        let web = parse(&format!(
            "{MINIMAL}\n[web]\nmax_connections_per_ip = 0\nstatus_loopback = true\n"
        ))
        .unwrap()
        .web;
        assert_eq!((web.max_connections_per_ip, web.status_loopback), (0, true));
        assert_eq!(
            web.per_network_cap(),
            0,
            "no per-IP cap: no per-network one either"
        );
        let defaults = parse(MINIMAL).unwrap().web;
        assert_eq!(defaults.header_timeout_secs, 10);
        assert_eq!(defaults.per_network_cap(), 128, "twice the per-IP cap");
        let off = parse(&format!(
            "{MINIMAL}\n[web]\nmax_connections_per_network = 0\n"
        ));
        assert_eq!(off.unwrap().web.per_network_cap(), 0);
    }

    #[test]
    fn sign_in_keys_are_range_checked_and_the_status_token_says_what_replaced_it() {
        let cases = [
            (
                "status_token = \"a-token-of-sixteen-chars\"",
                "config.toml:7: `web.status_token`: is no longer read: /status needs an operator's sign-in",
            ),
            (
                "trust_forwarded_for = true\nstatus_loopback = true",
                "config.toml:8: `web.status_loopback`: cannot be true with trust_forwarded_for",
            ),
            (
                "operator_idle_minutes = 0",
                "config.toml:7: `web.operator_idle_minutes`: must be between 1 and 1440",
            ),
            (
                "operator_session_hours = 1\noperator_idle_minutes = 61",
                "config.toml:8: `web.operator_idle_minutes`: must be at most operator_session_hours × 60 (60)",
            ),
            (
                "operator_session_hours = 721",
                "config.toml:7: `web.operator_session_hours`",
            ),
            (
                "max_login_failures_per_ip = 0",
                "config.toml:7: `web.max_login_failures_per_ip`",
            ),
            (
                "max_login_failures_per_account = 0",
                "config.toml:7: `web.max_login_failures_per_account`",
            ),
            (
                "login_window_minutes = 100000",
                "config.toml:7: `web.login_window_minutes`",
            ),
        ];
        for (keys, expected) in cases {
            let text = format!("{MINIMAL}\n[web]\n{keys}\n");
            let err = parse(&text).expect_err(&text).to_string();
            assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
        }
        let web = parse(MINIMAL).unwrap().web;
        assert_eq!(
            (
                web.operator_idle_minutes,
                web.operator_session_hours,
                web.max_login_failures_per_ip,
                web.max_login_failures_per_account,
                web.login_window_minutes,
                web.status_loopback,
            ),
            (30, 12, 20, 10, 15, false)
        );
    }

    #[test]
    fn the_guard_has_the_bulk_sender_defaults_and_its_keys_are_checked_with_key_and_line() {
        let g = parse(MINIMAL).unwrap().delivery.guard;
        assert!(g.enabled);
        assert_eq!(
            (
                g.complaint_rate,
                g.hard_bounce_rate,
                g.window_days,
                g.min_sample
            ),
            (0.003, 0.05, 30, 1000)
        );
        let set = parse(&format!(
            "{MINIMAL}\n[delivery]\nconnections = 2\n\n[delivery.guard]\ncomplaint_rate = 0.001\n\
             min_sample = 5\nwindow_days = 7\n"
        ))
        .unwrap()
        .delivery
        .guard;
        let limits = set.limits().unwrap();
        assert_eq!(
            (
                limits.complaint_rate,
                limits.hard_bounce_rate,
                limits.min_sample,
                limits.window_days
            ),
            (0.001, 0.05, 5, 7)
        );
        assert!(g.warmup.is_none(), "no warm-up unless asked");
        let warm = parse(&format!(
            "{MINIMAL}\n[delivery.guard]\nwarmup = {{ start = 500, growth = 1.5 }}\n"
        ))
        .unwrap();
        let plan = warm.engine_settings().warmup.unwrap();
        assert_eq!((plan.warmup.start, plan.warmup.growth), (500, 1.5));
        assert_eq!(plan.domain, "example.org", "the From address's domain");
        let off = parse(&format!("{MINIMAL}\n[delivery.guard]\nenabled = false\n")).unwrap();
        assert_eq!(off.delivery.guard.limits(), None);
        let cases = [
            (
                "complaint_rate = 0.3\nhard_bounce_rate = 5",
                "config.toml:8: `delivery.guard.hard_bounce_rate`: must be a fraction between 0 and 1",
            ),
            (
                "complaint_rate = 0",
                "config.toml:7: `delivery.guard.complaint_rate`: must be a fraction",
            ),
            (
                "window_days = 0",
                "config.toml:7: `delivery.guard.window_days`: must be between 1 and 365 (it is 0)",
            ),
            (
                "min_sample = 0",
                "config.toml:7: `delivery.guard.min_sample`: must be between 1",
            ),
            ("complaint_rate = \"high\"", "line 7"),
            ("complaint_rates = 0.1", "unknown field `complaint_rates`"),
            (
                "warmup = { start = 0, growth = 1.5 }",
                "config.toml:7: `delivery.guard.warmup`: start must be between 1 and 10000000",
            ),
            (
                "warmup = { start = 500, growth = 0.5 }",
                "config.toml:7: `delivery.guard.warmup`: growth must be between 1 and 10",
            ),
            (
                "warmup = { start = 500, growth = 1.5, days = 3 }",
                "unknown field `days`",
            ),
        ];
        for (keys, expected) in cases {
            let text = format!("{MINIMAL}\n[delivery.guard]\n{keys}\n");
            let err = parse(&text).expect_err(&text).to_string();
            assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
        }
    }

    #[test]
    fn the_embedding_model_folder_is_resolved_from_the_config_file_and_checked_at_load() {
        let (tmp, dir) = crate::embed::tests::model_copy("small-model");
        let with = |folder: &str| format!("{MINIMAL}\n[selection]\nmodel = \"{folder}\"\n");
        let ok = Settings::parse(&with("small-model"), Path::new("config.toml"), tmp.path())
            .expect("a valid model folder");
        assert_eq!(ok.selection.model, Some(dir.clone()));
        assert_eq!(
            ok.selection.embedder().unwrap().identity().name,
            "small-model"
        );
        assert!(parse(MINIMAL).unwrap().selection.model.is_none());

        let err = parse(&with("models/none")).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "config.toml:7: `selection.model`: model folder /srv/pp/models/none has no tokenizer.json"
            ),
            "{err}"
        );
        std::fs::write(
            dir.join("SHA256SUMS"),
            format!("{}  model.safetensors\n", "0".repeat(64)),
        )
        .unwrap();
        let err = Settings::parse(&with("small-model"), Path::new("config.toml"), tmp.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("config.toml:7: `selection.model`: ")
                && err.contains("model.safetensors does not match its SHA-256 in SHA256SUMS"),
            "{err}"
        );
    }

    #[test]
    fn the_profile_models_weights_are_read_from_selection_ranking_and_checked_at_load() {
        let text = format!(
            "{MINIMAL}\n[selection.ranking]\nprofile_meaning_weight = 0.3\nprofile_min_score = 0.2\n"
        );
        let w = parse(&text).unwrap().selection.ranking.profile_weights();
        assert_eq!(
            (w.meaning, w.words, w.dislike, w.min_score),
            (0.3, 1.0, 0.5, 0.2)
        );
        let bad = format!("{MINIMAL}\n[selection.ranking]\nprofile_dislike_weight = -1\n");
        let err = parse(&bad).unwrap_err().to_string();
        assert!(
            err.contains("selection.ranking") && err.contains("profile_dislike_weight"),
            "{err}"
        );
    }
}
