//! `config.toml` parsed into typed settings once, at start-up. A bad file fails here with
//! the key and the line; after this no code holds raw config strings.
//!
//! Secrets never live in the file: the SMTP password is read from the environment variable
//! named by `password_env`.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::delivery::{EngineSettings, MessageSettings, Relay, TlsMode, Transport};
use crate::selection::SelectionLimits;
use crate::sources::{FetchOptions, SourceConfig};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub newsletter: NewsletterSettings,
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
    /// The folder of the config file; relative paths are resolved against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewsletterSettings {
    /// Shown in subjects, headers and pages.
    #[serde(default = "default_name")]
    pub name: String,
    /// Public address of the web pages (unsubscribe, preferences, archive).
    #[serde(deserialize_with = "de_http_url")]
    pub base_url: Url,
    #[serde(deserialize_with = "de_mailbox")]
    pub from: Mailbox,
    #[serde(default, deserialize_with = "de_opt_mailbox")]
    pub reply_to: Option<Mailbox>,
    /// `List-Id`; default `{name}.{base_url host}`.
    #[serde(default)]
    pub list_id: Option<String>,
    /// Domain of generated Message-IDs; default the From address's domain.
    #[serde(default)]
    pub message_id_domain: Option<String>,
    /// The newsletter's time zone (IANA name): periods and schedules are in it.
    #[serde(default = "default_tz", deserialize_with = "de_tz")]
    pub timezone: chrono_tz::Tz,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            path: default_store_path(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchSettings {
    #[serde(default = "default_fetch_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// First backoff delay after a 5xx/429/connection error; doubles per retry.
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout_secs: default_fetch_timeout(),
            retries: default_retries(),
            backoff_ms: default_backoff_ms(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionSettings {
    #[serde(default = "default_max_papers")]
    pub max_papers: usize,
    /// A digest covers at most this many days (and at least since the reader's last one).
    #[serde(default = "default_window_days")]
    pub window_days: u32,
    /// Send a "nothing new this time" mail instead of skipping empty digests.
    #[serde(default)]
    pub send_empty: bool,
}

impl Default for SelectionSettings {
    fn default() -> Self {
        SelectionSettings {
            max_papers: default_max_papers(),
            window_days: default_window_days(),
            send_empty: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// SMTP when a relay is configured, else the file outbox.
    #[default]
    Auto,
    File,
    Smtp,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    #[serde(default)]
    pub transport: TransportKind,
    /// Folder of the `file` transport.
    #[serde(default = "default_outbox")]
    pub outbox: PathBuf,
    #[serde(default)]
    pub relays: Vec<RelaySettings>,
    #[serde(default = "default_connections")]
    pub connections: usize,
    #[serde(default = "default_per_connection")]
    pub max_messages_per_connection: usize,
    /// Messages per second over all connections; 0 = unlimited.
    #[serde(default)]
    pub rate_limit: f64,
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Seconds; fractions allowed (tests use sub-second bases).
    #[serde(default = "default_retry_base")]
    pub retry_base_secs: f64,
    #[serde(default = "default_retry_max")]
    pub retry_max_secs: f64,
    /// Hours; fractions allowed.
    #[serde(default = "default_max_age")]
    pub max_age_hours: f64,
    #[serde(default = "default_lease")]
    pub lease_secs: u64,
    #[serde(default = "default_slow_down")]
    pub slow_down_secs: f64,
    #[serde(default)]
    pub resend_unknown: bool,
    /// Optional DKIM signing of every message.
    #[serde(default)]
    pub dkim: Option<DkimSettings>,
}

/// `[delivery.dkim]`: sign every message with this key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimSettings {
    /// The selector: the public key is published at `{selector}._domainkey.{domain}`.
    pub selector: String,
    /// The signing domain (`d=`), normally the From address's domain.
    pub domain: String,
    /// The private key: PEM (PKCS#1 or PKCS#8) for RSA; PKCS#8 PEM or base64 of the 32-byte
    /// seed for Ed25519.
    pub key_file: PathBuf,
    #[serde(default)]
    pub algorithm: DkimAlgorithm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DkimAlgorithm {
    #[default]
    Rsa,
    Ed25519,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        toml::from_str("").expect("every delivery setting has a default")
    }
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaySettings {
    #[serde(default)]
    pub name: Option<String>,
    pub host: String,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default = "default_tls")]
    pub tls: TlsMode,
    #[serde(default)]
    pub username: Option<String>,
    /// Name of the environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Timeout of each SMTP step, in seconds (fractions allowed).
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: f64,
    /// EHLO name; default this host's name.
    #[serde(default)]
    pub hello_name: Option<String>,
}

impl std::fmt::Debug for RelaySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelaySettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish()
    }
}

fn default_name() -> String {
    "paperpost".into()
}
fn default_tz() -> chrono_tz::Tz {
    chrono_tz::UTC
}
fn default_store_path() -> PathBuf {
    "paperpost.sqlite3".into()
}
fn default_fetch_timeout() -> u64 {
    30
}
fn default_retries() -> u32 {
    3
}
fn default_backoff_ms() -> u64 {
    1000
}
fn default_max_papers() -> usize {
    20
}
fn default_window_days() -> u32 {
    7
}
fn default_outbox() -> PathBuf {
    "outbox".into()
}
fn default_connections() -> usize {
    4
}
fn default_per_connection() -> usize {
    1000
}
fn default_max_attempts() -> u32 {
    6
}
fn default_retry_base() -> f64 {
    60.0
}
fn default_retry_max() -> f64 {
    3600.0
}
fn default_max_age() -> f64 {
    48.0
}
fn default_lease() -> u64 {
    300
}
fn default_slow_down() -> f64 {
    30.0
}
fn default_tls() -> TlsMode {
    TlsMode::Starttls
}
fn default_smtp_timeout() -> f64 {
    30.0
}

fn de_mailbox<'de, D: Deserializer<'de>>(d: D) -> Result<Mailbox, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|e| {
        serde::de::Error::custom(format!(
            "`{s}` is not a valid sender like `Name <address@example.org>` ({e})"
        ))
    })
}

fn de_opt_mailbox<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Mailbox>, D::Error> {
    de_mailbox(d).map(Some)
}

fn de_http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
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

fn de_tz<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "`{s}` is not an IANA time zone like `Europe/Berlin`"
        ))
    })
}

/// A config error that names the file, the key and (when found) the line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
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
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
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
        s.validate(text, path)?;
        s.store.path = s.resolve(&s.store.path);
        s.delivery.outbox = s.resolve(&s.delivery.outbox);
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

    fn validate(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let invalid = |section: &str, index: Option<usize>, key: &str, message: String| {
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line: find_key_line(text, section, index, key),
                key: if section.is_empty() {
                    key.to_string()
                } else {
                    format!("{section}.{key}")
                },
                message,
            }
        };
        if self.newsletter.name.trim().is_empty() {
            return Err(invalid(
                "newsletter",
                None,
                "name",
                "must not be empty".into(),
            ));
        }
        if self.selection.max_papers == 0 || self.selection.max_papers > 200 {
            return Err(invalid(
                "selection",
                None,
                "max_papers",
                "must be between 1 and 200".into(),
            ));
        }
        if self.selection.window_days == 0 || self.selection.window_days > 366 {
            return Err(invalid(
                "selection",
                None,
                "window_days",
                "must be between 1 and 366".into(),
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (i, src) in self.sources.iter().enumerate() {
            if let Err(m) = src.validate() {
                return Err(invalid("sources", Some(i), "name", m));
            }
            if !names.insert(src.name.as_str()) {
                return Err(invalid(
                    "sources",
                    Some(i),
                    "name",
                    format!("source name `{}` is used twice", src.name),
                ));
            }
        }
        let d = &self.delivery;
        if d.transport == TransportKind::Smtp && d.relays.is_empty() {
            return Err(invalid(
                "delivery",
                None,
                "transport",
                "is \"smtp\" but no [[delivery.relays]] is configured".into(),
            ));
        }
        if d.connections == 0 || d.connections > 64 {
            return Err(invalid(
                "delivery",
                None,
                "connections",
                "must be between 1 and 64".into(),
            ));
        }
        if d.max_attempts == 0 {
            return Err(invalid(
                "delivery",
                None,
                "max_attempts",
                "must be at least 1".into(),
            ));
        }
        if !(d.rate_limit >= 0.0 && d.rate_limit.is_finite()) {
            return Err(invalid(
                "delivery",
                None,
                "rate_limit",
                "must be 0 (unlimited) or a positive number".into(),
            ));
        }
        let non_negative = |key: &str, v: f64| {
            if v >= 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(invalid(
                    "delivery",
                    None,
                    key,
                    "must be a number of at least 0".into(),
                ))
            }
        };
        non_negative("retry_base_secs", d.retry_base_secs)?;
        non_negative("retry_max_secs", d.retry_max_secs)?;
        non_negative("slow_down_secs", d.slow_down_secs)?;
        if !(d.max_age_hours > 0.0 && d.max_age_hours.is_finite()) {
            return Err(invalid(
                "delivery",
                None,
                "max_age_hours",
                "must be a positive number of hours".into(),
            ));
        }
        if d.lease_secs < 2 {
            return Err(invalid(
                "delivery",
                None,
                "lease_secs",
                "must be at least 2 (the lease is renewed every third of it)".into(),
            ));
        }
        if let Some(dkim) = &d.dkim {
            let key = |k: &str, m: String| invalid("delivery.dkim", None, k, m);
            if dkim.selector.trim().is_empty() || dkim.selector.contains(char::is_whitespace) {
                return Err(key(
                    "selector",
                    "must be one word, e.g. \"mail2026\"".into(),
                ));
            }
            if dkim.domain.trim().is_empty() || !dkim.domain.contains('.') {
                return Err(key(
                    "domain",
                    "must be a domain like \"example.org\"".into(),
                ));
            }
            if let Err(m) = load_dkim_key(&self.resolve(&dkim.key_file), dkim.algorithm) {
                return Err(key("key_file", m));
            }
        }
        if let Err((key, message)) = self.schedule.validate() {
            return Err(invalid("schedule", None, key, message));
        }
        for (i, r) in d.relays.iter().enumerate() {
            if !(r.timeout_secs > 0.0 && r.timeout_secs.is_finite()) {
                return Err(invalid(
                    "delivery.relays",
                    Some(i),
                    "timeout_secs",
                    "must be a positive number of seconds".into(),
                ));
            }
            if r.host.trim().is_empty() {
                return Err(invalid(
                    "delivery.relays",
                    Some(i),
                    "host",
                    "must not be empty".into(),
                ));
            }
            if r.username.is_some() != r.password_env.is_some() {
                return Err(invalid(
                    "delivery.relays",
                    Some(i),
                    "username",
                    "username and password_env must be set together".into(),
                ));
            }
            if let Some(var) = &r.password_env
                && std::env::var_os(var).is_none()
            {
                return Err(invalid(
                    "delivery.relays",
                    Some(i),
                    "password_env",
                    format!("environment variable {var} is not set"),
                ));
            }
        }
        Ok(())
    }

    pub fn selection_limits(&self) -> SelectionLimits {
        SelectionLimits {
            max_papers: self.selection.max_papers,
        }
    }

    pub fn fetch_options(&self) -> FetchOptions {
        let mut o = FetchOptions::new(crate::sources::user_agent(
            self.newsletter.base_url.as_str(),
        ));
        o.timeout = Duration::from_secs(self.fetch.timeout_secs);
        o.max_retries = self.fetch.retries;
        o.backoff_base = Duration::from_millis(self.fetch.backoff_ms);
        o
    }

    pub fn message_settings(&self) -> MessageSettings {
        let n = &self.newsletter;
        let host = n.base_url.host_str().unwrap_or("localhost").to_string();
        let slug: String = n
            .name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        MessageSettings {
            from: n.from.clone(),
            reply_to: n.reply_to.clone(),
            list_id: n
                .list_id
                .clone()
                .unwrap_or_else(|| format!("{}.{host}", slug.trim_matches('-'))),
            list_name: n.name.clone(),
            message_id_domain: n
                .message_id_domain
                .clone()
                .unwrap_or_else(|| n.from.email.domain().to_string()),
        }
    }

    /// The transport the settings ask for, with relay passwords read from the environment.
    pub fn transport(&self) -> Transport {
        let d = &self.delivery;
        let smtp = match d.transport {
            TransportKind::Auto => !d.relays.is_empty(),
            TransportKind::File => false,
            TransportKind::Smtp => true,
        };
        if !smtp {
            return Transport::File(d.outbox.clone());
        }
        let relays = d
            .relays
            .iter()
            .map(|r| {
                let port = r.port.unwrap_or(match r.tls {
                    TlsMode::None => 25,
                    TlsMode::Starttls => 587,
                    TlsMode::Tls => 465,
                });
                let credentials = match (&r.username, &r.password_env) {
                    (Some(u), Some(var)) => Some(Credentials::new(
                        u.clone(),
                        std::env::var(var).unwrap_or_default(),
                    )),
                    _ => None,
                };
                Arc::new(Relay {
                    name: r
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("{}:{port}", r.host)),
                    host: r.host.clone(),
                    port,
                    tls: r.tls,
                    credentials,
                    timeout: Duration::from_secs_f64(r.timeout_secs),
                    hello_name: r
                        .hello_name
                        .clone()
                        .map(ClientId::Domain)
                        .unwrap_or_default(),
                })
            })
            .collect();
        Transport::Smtp(relays)
    }

    pub fn engine_settings(&self) -> EngineSettings {
        let d = &self.delivery;
        EngineSettings {
            connections: d.connections,
            max_messages_per_connection: d.max_messages_per_connection.max(1),
            rate_limit: d.rate_limit,
            max_attempts: d.max_attempts,
            retry_base: Duration::from_secs_f64(d.retry_base_secs),
            retry_max: Duration::from_secs_f64(d.retry_max_secs),
            max_age: chrono::Duration::milliseconds((d.max_age_hours * 3_600_000.0) as i64),
            lease: chrono::Duration::seconds(d.lease_secs.max(2) as i64),
            slow_down: Duration::from_secs_f64(d.slow_down_secs),
            resend_unknown: d.resend_unknown,
            ..EngineSettings::default()
        }
    }
}

impl Settings {
    /// The DKIM signer of `[delivery.dkim]`, if configured. The key was checked at load; a
    /// file changed since is reported here.
    pub fn dkim_config(&self) -> anyhow::Result<Option<DkimConfig>> {
        let Some(d) = &self.delivery.dkim else {
            return Ok(None);
        };
        let key = load_dkim_key(&self.resolve(&d.key_file), d.algorithm)
            .map_err(|m| anyhow::anyhow!("delivery.dkim.key_file: {m}"))?;
        let headers = DKIM_HEADERS
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect();
        Ok(Some(DkimConfig::new(
            d.selector.clone(),
            d.domain.clone(),
            key,
            headers,
            DkimCanonicalization {
                header: DkimCanonicalizationType::Relaxed,
                body: DkimCanonicalizationType::Relaxed,
            },
        )))
    }
}

/// Headers every DKIM signature covers (`h=`), in this order: the ones a reader sees, the
/// list headers that unsubscribe buttons act on, and the MIME structure.
pub const DKIM_HEADERS: [&str; 10] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Id",
    "MIME-Version",
    "Content-Type",
];

/// Reads and parses a DKIM private key. RSA: PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8
/// (`BEGIN PRIVATE KEY`, what `openssl genpkey` writes) PEM. Ed25519: PKCS#8 PEM or the
/// base64 of the 32-byte seed (what lettre takes).
fn load_dkim_key(path: &Path, algorithm: DkimAlgorithm) -> Result<DkimSigningKey, String> {
    use base64::Engine;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = text.trim();
    let bad = |what: &str| format!("{} is not {what}", path.display());
    match algorithm {
        DkimAlgorithm::Rsa => {
            let pkcs1 = if text.contains("BEGIN RSA PRIVATE KEY") {
                text.to_string()
            } else {
                let key = rsa::RsaPrivateKey::from_pkcs8_pem(text)
                    .map_err(|e| format!("{} ({e})", bad("an RSA private key in PEM")))?;
                key.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
                    .map_err(|e| e.to_string())?
                    .to_string()
            };
            DkimSigningKey::new(&pkcs1, DkimSigningAlgorithm::Rsa)
                .map_err(|e| format!("{} ({e})", bad("an RSA private key in PEM")))
        }
        DkimAlgorithm::Ed25519 => {
            let b64: String = if text.contains("-----BEGIN") {
                text.lines().filter(|l| !l.starts_with("-----")).collect()
            } else {
                text.to_string()
            };
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| format!("{} ({e})", bad("an Ed25519 key (PEM or base64)")))?;
            // PKCS#8 of an Ed25519 key: a fixed 16-byte prefix, then the 32-byte seed.
            const PKCS8_PREFIX: [u8; 16] = [
                0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
                0x04, 0x20,
            ];
            let seed = match raw.len() {
                32 => raw,
                48 if raw[..16] == PKCS8_PREFIX => raw[16..].to_vec(),
                _ => return Err(bad("an Ed25519 private key (PKCS#8 PEM or 32-byte seed)")),
            };
            let b64 = base64::engine::general_purpose::STANDARD.encode(seed);
            DkimSigningKey::new(&b64, DkimSigningAlgorithm::Ed25519)
                .map_err(|e| format!("{} ({e})", bad("an Ed25519 private key")))
        }
    }
}

/// The 1-based line of `key` in `[section]` (or the `index`-th `[[section]]`), else of the
/// section header, else 1.
fn find_key_line(text: &str, section: &str, index: Option<usize>, key: &str) -> usize {
    let mut in_section = section.is_empty();
    let mut seen = 0usize;
    let mut section_line = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            let name = t
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim();
            in_section = false;
            if name == section {
                let wanted = index.is_none_or(|n| n == seen);
                if t.starts_with("[[") {
                    seen += 1;
                }
                if wanted {
                    in_section = true;
                    section_line.get_or_insert(i + 1);
                }
            }
            continue;
        }
        if in_section
            && let Some((k, _)) = t.split_once('=')
            && k.trim() == key
        {
            return i + 1;
        }
    }
    section_line.unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(matches!(s.transport(), Transport::File(p) if p == Path::new("/srv/pp/outbox")));
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
        ];
        for (text, expected) in cases {
            let err = parse(&text).expect_err(&text).to_string();
            assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
        }
    }
}
