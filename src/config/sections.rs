//! The sections of `config.toml`, one serde struct each, with their defaults.
use std::path::PathBuf;

use lettre::message::Mailbox;
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::delivery::RelayTls;
use crate::sources::SourceConfig;

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
    #[serde(default)]
    pub render: RenderSettings,
    #[serde(default)]
    pub bounces: BounceSettings,
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
    /// Largest body (HTTP response or local file) one source may read; `[[sources]]` can
    /// set its own `max_body_bytes`.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            timeout_secs: default_fetch_timeout(),
            retries: default_retries(),
            backoff_ms: default_backoff_ms(),
            max_body_bytes: default_max_body_bytes(),
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
    /// `[selection.ranking]`: the weights of the relevance score (see `selection::score`).
    #[serde(default)]
    pub ranking: crate::selection::SelectionWeights,
    /// A static embedding model's folder (relative to the config file), checked at load;
    /// none: the model compiled in ([`crate::embed::Embedder::shipped`]).
    #[serde(default)]
    pub model: Option<PathBuf>,
}

impl Default for SelectionSettings {
    fn default() -> Self {
        SelectionSettings {
            max_papers: default_max_papers(),
            window_days: default_window_days(),
            send_empty: false,
            ranking: Default::default(),
            model: None,
        }
    }
}

impl SelectionSettings {
    /// The embedding model `model` names (the shipped one when none): loaded from its
    /// files once per process and shared (reloaded when its files change) — the folder was
    /// already checked when the config loaded.
    pub fn embedder(
        &self,
    ) -> Result<std::sync::Arc<crate::embed::Embedder>, crate::embed::ModelError> {
        crate::embed::Embedder::shared(self.model.as_deref())
    }
}

/// `[render]`: how the digest shows each paper.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderSettings {
    /// `summary` (default): the source's AI summary or the abstract's first sentences, the
    /// full abstract one click away; `full`: the (shortened) abstract under the summary too.
    #[serde(default, rename = "abstract")]
    pub abstract_mode: AbstractMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AbstractMode {
    #[default]
    Summary,
    Full,
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
    /// Envelope sender base for VERP: `bounces@example.org` makes each message's MAIL FROM
    /// `bounces+TOKEN@example.org`, the token naming its delivery. Unset: MAIL FROM is the
    /// From address and bounces land in the editors' inbox.
    #[serde(default, deserialize_with = "de_opt_address")]
    pub bounce_address: Option<lettre::Address>,
    /// `[delivery.guard]`: pause sending when hard bounces or complaints pass a threshold.
    #[serde(default)]
    pub guard: GuardSettings,
}

/// `[delivery.guard]`: the reputation guard. Hard-bounce and complaint rates (reports per
/// message delivered) are computed per edition and over a rolling window as reports are
/// ingested and before every send; over a threshold, sending pauses until `paperpost
/// deliveries resume`. The defaults follow the bulk-sender rules: Gmail and Yahoo refuse
/// senders whose complaint rate passes 0.3 % (and ask for under 0.1 %); ESPs review or pause
/// a sender at about 5 % hard bounces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardSettings {
    /// Off: nothing trips, and a pause tripped earlier does not hold sending back.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Complaints per delivered message above which sending pauses (0.003 = 0.3 %).
    #[serde(default = "default_complaint_rate")]
    pub complaint_rate: f64,
    /// Hard bounces per delivered message above which sending pauses (0.05 = 5 %).
    #[serde(default = "default_hard_bounce_rate")]
    pub hard_bounce_rate: f64,
    /// The rolling window, in days (messages delivered in it, and their reports).
    #[serde(default = "default_guard_window_days")]
    pub window_days: u32,
    /// An edition or the window is judged only once this many messages were delivered in it.
    #[serde(default = "default_min_sample")]
    pub min_sample: u64,
    /// A new sending domain's daily cap: `{ start = 500, growth = 1.5 }`. None: no cap.
    #[serde(default)]
    pub warmup: Option<WarmupSettings>,
}

/// `[delivery.guard] warmup`: at most `start` messages on the first day (UTC) the From
/// address's domain sends, `growth` times as many each day after.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarmupSettings {
    pub start: u64,
    pub growth: f64,
}

impl Default for GuardSettings {
    fn default() -> Self {
        GuardSettings {
            enabled: true,
            complaint_rate: default_complaint_rate(),
            hard_bounce_rate: default_hard_bounce_rate(),
            window_days: default_guard_window_days(),
            min_sample: default_min_sample(),
            warmup: None,
        }
    }
}

impl GuardSettings {
    /// The thresholds, when the guard is on.
    pub fn limits(&self) -> Option<crate::domain::GuardLimits> {
        self.enabled.then_some(crate::domain::GuardLimits {
            complaint_rate: self.complaint_rate,
            hard_bounce_rate: self.hard_bounce_rate,
            window_days: self.window_days,
            min_sample: self.min_sample,
        })
    }
}

/// `[bounces]`: what `paperpost bounces ingest` does with soft bounces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BounceSettings {
    /// Soft bounces (4.x.x) of one address within `soft_window_days` that suppress it.
    #[serde(default = "default_soft_limit")]
    pub soft_limit: u32,
    #[serde(default = "default_soft_window_days")]
    pub soft_window_days: u32,
    /// Act on reports that prove nothing (no VERP token whose check verifies, no Message-ID
    /// of a delivery to the reported address): the reported address alone then suppresses
    /// or unsubscribes. Off: anyone can mail the public bounce address. Only for a relay
    /// that strips VERP and the returned message.
    #[serde(default)]
    pub trust_unverified: bool,
}

impl Default for BounceSettings {
    fn default() -> Self {
        BounceSettings {
            soft_limit: default_soft_limit(),
            soft_window_days: default_soft_window_days(),
            trust_unverified: false,
        }
    }
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
    pub tls: RelayTls,
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
fn default_store_tls() -> crate::store::PostgresTls {
    crate::store::PostgresTls::Prefer
}
fn default_max_connections() -> usize {
    10
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
fn default_max_body_bytes() -> u64 {
    crate::sources::http::DEFAULT_MAX_BODY_BYTES
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
fn default_tls() -> RelayTls {
    RelayTls::Starttls
}
fn default_smtp_timeout() -> f64 {
    30.0
}

fn default_true() -> bool {
    true
}
/// Gmail's and Yahoo's line: above 0.3 % complaints a bulk sender's mail is refused.
fn default_complaint_rate() -> f64 {
    0.003
}
/// Where ESPs commonly review or pause a sender (Amazon SES reviews at 5 %).
fn default_hard_bounce_rate() -> f64 {
    0.05
}
fn default_guard_window_days() -> u32 {
    30
}
/// Enough that one or two complaints (0.1–0.2 %) never trip the default 0.3 % alone.
fn default_min_sample() -> u64 {
    1000
}

fn default_soft_limit() -> u32 {
    3
}
fn default_soft_window_days() -> u32 {
    14
}

fn de_opt_address<'de, D: Deserializer<'de>>(d: D) -> Result<Option<lettre::Address>, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map(Some).map_err(|e| {
        serde::de::Error::custom(format!(
            "`{s}` is not a bare address like `bounces@example.org` ({e})"
        ))
    })
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
