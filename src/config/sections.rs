//! The sections of `config.toml`, one serde struct each, with their defaults.
use std::path::PathBuf;

use lettre::message::Mailbox;
use serde::{Deserialize, Deserializer};
use url::Url;

pub use crate::bounces::BounceSettings;
pub use crate::delivery::{
    DeliverySettings, DkimAlgorithm, DkimSettings, GuardSettings, RelaySettings, TransportKind,
    WarmupSettings,
};
pub use crate::render::{AbstractMode, RenderSettings};
pub use crate::selection::SelectionSettings;
pub use crate::sources::FetchSettings;
use crate::sources::SourceConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// One newsletter: `[newsletter]` (read into `newsletters` at load).
    #[serde(default, rename = "newsletter")]
    pub(super) single: Option<super::newsletters::NewsletterTable>,
    /// Several newsletters: `[[newsletters]]` tables, each with a slug.
    #[serde(default, rename = "newsletters")]
    pub(super) several: Vec<super::newsletters::NewsletterTable>,
    /// Every newsletter of the instance, in the file's order (one for `[newsletter]`).
    #[serde(skip)]
    pub newsletters: Vec<NewsletterSettings>,
    /// The newsletter this process works on: settings are a view of one newsletter
    /// ([`Settings::view`]); loading gives the first.
    #[serde(skip)]
    pub newsletter: NewsletterSettings,
    /// What the views are made from: every source, and the top-level `[schedule]` and
    /// `[render]` (a newsletter may have its own).
    #[serde(skip)]
    pub(super) shared: super::newsletters::Shared,
    #[serde(default)]
    pub store: StoreSettings,
    #[serde(default)]
    pub fetch: FetchSettings,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    #[serde(default)]
    pub selection: SelectionSettings,
    #[serde(default)]
    pub delivery: DeliverySettings,
    #[serde(default)]
    pub schedule: crate::schedule::ScheduleSettings,
    #[serde(default)]
    pub web: crate::web::WebSettings,
    #[serde(default)]
    pub render: RenderSettings,
    #[serde(default)]
    pub bounces: BounceSettings,
    /// The folder of the config file; relative paths are resolved against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// One newsletter of the instance: `[newsletter]`, or one of the `[[newsletters]]` tables
/// with what it inherits filled in (see `newsletters.rs`).
#[derive(Debug, Clone)]
pub struct NewsletterSettings {
    /// Its short name in web addresses (`/n/{slug}/`), `--newsletter` and the store: `main`
    /// for a lone `[newsletter]` unless it says otherwise.
    pub slug: String,
    /// Shown in subjects, headers and pages.
    pub name: String,
    /// Public address of the web pages (unsubscribe, preferences, archive).
    pub base_url: Url,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    /// `List-Id`; default `{name}.{base_url host}`.
    pub list_id: Option<String>,
    /// Domain of generated Message-IDs; default the From address's domain.
    pub message_id_domain: Option<String>,
    /// The newsletter's time zone (IANA name): periods and schedules are in it.
    pub timezone: chrono_tz::Tz,
    /// The sources whose papers it picks from (their names); `None`: every source.
    pub sources: Option<Vec<String>>,
    /// What a reader who has no topics of their own gets: a topic line; `None`: the
    /// trending papers.
    pub default_topics: Option<String>,
}

impl Default for NewsletterSettings {
    fn default() -> Self {
        NewsletterSettings {
            slug: crate::domain::DEFAULT_NEWSLETTER.into(),
            name: default_name(),
            base_url: Url::parse("http://127.0.0.1:8080/").expect("a valid URL"),
            from: "paperpost <digest@paperpost.invalid>"
                .parse()
                .expect("a valid mailbox"),
            reply_to: None,
            list_id: None,
            message_id_domain: None,
            timezone: default_tz(),
            sources: None,
            default_topics: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// The SQLite file (the default store), relative to the config file.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
    /// A PostgreSQL URL (`postgres://user@host:5432/paperpost`): when set, the store is
    /// that database instead of the SQLite file.
    #[serde(default)]
    pub url: Option<String>,
    /// The environment variable holding the PostgreSQL password (keep it out of the file).
    #[serde(default)]
    pub password_env: Option<String>,
    /// `disable`, `prefer` (default) or `require`: TLS to PostgreSQL, certificate verified.
    #[serde(default = "default_store_tls")]
    pub tls: crate::store::PostgresTls,
    /// A PEM file of the CA that signed the PostgreSQL server's certificate.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// At most this many PostgreSQL connections per process.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            path: default_store_path(),
            url: None,
            password_env: None,
            tls: default_store_tls(),
            ca_file: None,
            max_connections: default_max_connections(),
        }
    }
}

impl StoreSettings {
    /// The store `[store]` names: PostgreSQL when `url` is set (the password read from
    /// `password_env`), else the SQLite file.
    pub fn options(&self) -> Result<crate::store::StoreOptions, crate::store::StoreError> {
        let Some(url) = self.url.clone() else {
            return Ok(crate::store::StoreOptions::Sqlite(self.path.clone()));
        };
        let password = match &self.password_env {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(p) => Some(p),
                Err(_) => {
                    return Err(crate::store::StoreError::Invalid {
                        op: "open",
                        reason: format!(
                            "[store] password_env names the environment variable {var}, \
                             which is not set"
                        ),
                    });
                }
            },
        };
        Ok(crate::store::StoreOptions::Postgres(
            crate::store::PostgresOptions {
                url,
                password,
                tls: self.tls,
                ca_file: self.ca_file.clone(),
                max_connections: self.max_connections,
            },
        ))
    }

    /// Opens the store `[store]` names (see [`StoreSettings::options`]).
    pub fn open(&self) -> Result<crate::store::Store, crate::store::StoreError> {
        crate::store::Store::open_with(&self.options()?)
    }
}

pub(super) fn default_name() -> String {
    "paperpost".into()
}
pub(super) fn default_tz() -> chrono_tz::Tz {
    chrono_tz::UTC
}
fn default_store_tls() -> crate::store::PostgresTls {
    crate::store::PostgresTls::Prefer
}
fn default_max_connections() -> usize {
    10
}
fn default_store_path() -> PathBuf {
    "paperpost.sqlite3".into()
}

fn de_mailbox<'de, D: Deserializer<'de>>(d: D) -> Result<Mailbox, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|e| {
        serde::de::Error::custom(format!(
            "`{s}` is not a valid sender like `Name <address@example.org>` ({e})"
        ))
    })
}

pub(super) fn de_opt_mailbox<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Mailbox>, D::Error> {
    de_mailbox(d).map(Some)
}

pub(super) fn de_http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
    let s = String::deserialize(d)?;
    let url = Url::parse(&s)
        .map_err(|e| serde::de::Error::custom(format!("`{s}` is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(serde::de::Error::custom(format!(
            "`{s}` must be an http(s) URL with a host"
        )));
    }
    Ok(url)
}

pub(super) fn de_tz<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "`{s}` is not an IANA time zone like `Europe/Berlin`"
        ))
    })
}

pub(super) fn de_opt_http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    de_http_url(d).map(Some)
}

pub(super) fn de_opt_tz<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<chrono_tz::Tz>, D::Error> {
    de_tz(d).map(Some)
}
