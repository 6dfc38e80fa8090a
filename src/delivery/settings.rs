//! `[delivery]` of `config.toml` (relays, DKIM, the reputation guard): delivery's own
//! settings and their checks (config reads the file, reports key and line, and builds the
//! transport from them).
use std::path::PathBuf;

use serde::{Deserialize, Deserializer};

use super::RelayTls;
use crate::domain::{BadSetting, in_range};

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

impl DeliverySettings {
    /// What delivery refuses, key by key: numbers out of their ranges, SMTP without a relay,
    /// a DKIM selector or domain that cannot be one, a VERP base with its own `+`, guard
    /// thresholds that are not fractions, a relay without a host. (The DKIM key file is read
    /// by `config`, which resolves its path.)
    pub fn check(&self) -> Result<(), BadSetting> {
        const D: &str = "delivery";
        if self.transport == TransportKind::Smtp && self.relays.is_empty() {
            return Err(BadSetting::new(
                D,
                "transport",
                "is \"smtp\" but no [[delivery.relays]] is configured",
            ));
        }
        if self.connections == 0 || self.connections > 64 {
            return Err(BadSetting::new(
                D,
                "connections",
                "must be between 1 and 64",
            ));
        }
        in_range(D, "max_attempts", self.max_attempts.into(), 1, 100)?;
        in_range(
            D,
            "max_messages_per_connection",
            self.max_messages_per_connection as u64,
            1,
            1_000_000,
        )?;
        if !(self.rate_limit >= 0.0 && self.rate_limit.is_finite()) {
            return Err(BadSetting::new(
                D,
                "rate_limit",
                "must be 0 (unlimited) or a positive number",
            ));
        }
        for (key, v) in [
            ("retry_base_secs", self.retry_base_secs),
            ("retry_max_secs", self.retry_max_secs),
            ("slow_down_secs", self.slow_down_secs),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(BadSetting::new(D, key, "must be a number of at least 0"));
            }
        }
        if !(self.max_age_hours > 0.0 && self.max_age_hours.is_finite()) {
            return Err(BadSetting::new(
                D,
                "max_age_hours",
                "must be a positive number of hours",
            ));
        }
        if self.lease_secs < 2 {
            return Err(BadSetting::new(
                D,
                "lease_secs",
                "must be at least 2 (the lease is renewed every third of it)",
            ));
        }
        in_range(D, "lease_secs", self.lease_secs, 2, 24 * 3600)?;
        if let Some(dkim) = &self.dkim {
            if dkim.selector.trim().is_empty() || dkim.selector.contains(char::is_whitespace) {
                return Err(BadSetting::new(
                    "delivery.dkim",
                    "selector",
                    "must be one word, e.g. \"mail2026\"",
                ));
            }
            if dkim.domain.trim().is_empty() || !dkim.domain.contains('.') {
                return Err(BadSetting::new(
                    "delivery.dkim",
                    "domain",
                    "must be a domain like \"example.org\"",
                ));
            }
        }
        if let Some(b) = &self.bounce_address
            && b.user().contains('+')
        {
            return Err(BadSetting::new(
                D,
                "bounce_address",
                "must not contain `+`: paperpost adds `+TOKEN` to it for each message",
            ));
        }
        self.guard.check()?;
        for (i, r) in self.relays.iter().enumerate() {
            if !(r.timeout_secs > 0.0 && r.timeout_secs <= 3600.0) {
                return Err(BadSetting::at(
                    "delivery.relays",
                    i,
                    "timeout_secs",
                    "must be a positive number of seconds, at most 3600",
                ));
            }
            if r.host.trim().is_empty() {
                return Err(BadSetting::at(
                    "delivery.relays",
                    i,
                    "host",
                    "must not be empty",
                ));
            }
            // Whether the variable is set is checked only by the commands that talk SMTP
            // (`Settings::transport`): listing readers must not need the password.
            if r.username.is_some() != r.password_env.is_some() {
                return Err(BadSetting::at(
                    "delivery.relays",
                    i,
                    "username",
                    "username and password_env must be set together",
                ));
            }
        }
        Ok(())
    }
}

impl GuardSettings {
    /// Thresholds that are fractions, a window and sample that make sense, a warm-up that
    /// starts and grows.
    fn check(&self) -> Result<(), BadSetting> {
        const G: &str = "delivery.guard";
        for (key, rate) in [
            ("complaint_rate", self.complaint_rate),
            ("hard_bounce_rate", self.hard_bounce_rate),
        ] {
            if !(rate > 0.0 && rate < 1.0) {
                return Err(BadSetting::new(
                    G,
                    key,
                    format!(
                        "must be a fraction between 0 and 1, e.g. 0.003 for 0.3 % (it is {rate})"
                    ),
                ));
            }
        }
        in_range(G, "window_days", self.window_days.into(), 1, 365)?;
        in_range(G, "min_sample", self.min_sample, 1, 100_000_000)?;
        if let Some(w) = &self.warmup {
            if w.start == 0 || w.start > 10_000_000 {
                return Err(BadSetting::new(
                    G,
                    "warmup",
                    format!("start must be between 1 and 10000000 (it is {})", w.start),
                ));
            }
            if !(w.growth >= 1.0 && w.growth <= 10.0) {
                return Err(BadSetting::new(
                    G,
                    "warmup",
                    format!(
                        "growth must be between 1 and 10, e.g. 1.5 for half as many again each \
                         day (it is {})",
                        w.growth
                    ),
                ));
            }
        }
        Ok(())
    }
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

fn de_opt_address<'de, D: Deserializer<'de>>(d: D) -> Result<Option<lettre::Address>, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map(Some).map_err(|e| {
        serde::de::Error::custom(format!(
            "`{s}` is not a bare address like `bounces@example.org` ({e})"
        ))
    })
}
