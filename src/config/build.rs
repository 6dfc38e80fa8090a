//! Settings turned into the working objects the stages use.
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;

use crate::delivery::{EngineSettings, MessageSettings, Relay, RelayTls, Transport};
use crate::pipeline::{NewsletterOptions, SendOptions};
use crate::selection::SelectionLimits;
use crate::sources::FetchOptions;

use super::*;

/// A relay's password variable (`password_env`) is not set in the environment.
#[derive(Debug, thiserror::Error)]
#[error(
    "the SMTP password of relay {host} (`delivery.relays` #{n}) is read from the environment \
     variable {variable}, which is not set; export {variable}=… before running this command",
    n = .relay + 1
)]
pub struct MissingSecret {
    pub variable: String,
    pub relay: usize,
    pub host: String,
}

impl Settings {
    pub fn selection_limits(&self) -> SelectionLimits {
        self.selection.limits()
    }

    /// What a fetch reads (the sources, the HTTP client's options, the newsletter's zone).
    pub fn fetch_job(&self) -> FetchJob {
        FetchJob {
            sources: self.sources.clone(),
            options: self.fetch_options(),
            timezone: self.newsletter.timezone,
            model: self.selection.model.clone(),
        }
    }

    /// What planning an edition reads (`[selection]`, the Message-ID domain).
    pub fn plan_settings(&self) -> PlanSettings {
        PlanSettings {
            selection: self.selection.clone(),
            message_id_domain: self.message_settings().message_id_domain,
            sources: self.newsletter.sources.clone(),
            default_topics: self
                .newsletter
                .default_topics
                .as_deref()
                .and_then(|t| crate::domain::Topics::parse(t).ok()),
        }
    }

    /// What previews, test sends and composing read of this newsletter (its name, address,
    /// zone, headers, `[render]` and planning).
    pub fn newsletter_options(&self) -> NewsletterOptions {
        NewsletterOptions {
            name: self.newsletter.name.clone(),
            base_url: self.newsletter.base_url.clone(),
            timezone: self.schedule_timezone(),
            message: self.message_settings(),
            render: self.render.clone(),
            plan: self.plan_settings(),
        }
    }

    /// What delivering reads, through `transport` and signed by `dkim`: `[delivery]`'s
    /// bounce address, guard and engine tuning.
    pub fn send_options(&self, transport: Transport, dkim: Option<Arc<DkimConfig>>) -> SendOptions {
        SendOptions {
            transport,
            dkim,
            bounce_address: self.delivery.bounce_address.clone(),
            guard: self.delivery.guard.limits(),
            engine: self.engine_settings(),
        }
    }

    pub fn fetch_options(&self) -> FetchOptions {
        let mut o = FetchOptions::new(crate::sources::user_agent(
            self.newsletter.base_url.as_str(),
        ));
        o.timeout = Duration::from_secs(self.fetch.timeout_secs);
        o.max_retries = self.fetch.retries;
        o.backoff_base = Duration::from_millis(self.fetch.backoff_ms);
        o.max_body_bytes = self.fetch.max_body_bytes;
        o
    }

    pub fn message_settings(&self) -> MessageSettings {
        self.newsletter.message_settings()
    }

    /// The zone of the schedule: `[schedule] timezone`, else the newsletter's.
    /// The schedule `[schedule]` describes, in the newsletter's zone unless it names one.
    pub fn schedule(&self) -> Result<crate::schedule::Schedule, String> {
        crate::schedule::Schedule::new(&self.schedule, self.newsletter.timezone)
    }

    pub fn schedule_timezone(&self) -> chrono_tz::Tz {
        self.schedule.timezone.unwrap_or(self.newsletter.timezone)
    }

    /// The transport the settings ask for, with relay passwords read from the environment.
    /// Only the commands that send call this, so only they need the secrets; a variable
    /// that is not set is an error naming it.
    pub fn transport(&self) -> Result<Transport, MissingSecret> {
        let d = &self.delivery;
        let smtp = match d.transport {
            TransportKind::Auto => !d.relays.is_empty(),
            TransportKind::File => false,
            TransportKind::Smtp => true,
        };
        if !smtp {
            return Ok(Transport::File(d.outbox.clone()));
        }
        let relays = d
            .relays
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let port = r.port.unwrap_or(match r.tls {
                    RelayTls::None => 25,
                    RelayTls::Starttls => 587,
                    RelayTls::Tls => 465,
                });
                let credentials = match (&r.username, &r.password_env) {
                    (Some(u), Some(var)) => {
                        let password = std::env::var(var).map_err(|_| MissingSecret {
                            variable: var.clone(),
                            relay: i,
                            host: r.host.clone(),
                        })?;
                        Some(Credentials::new(u.clone(), password))
                    }
                    _ => None,
                };
                Ok(Arc::new(Relay {
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
                }))
            })
            .collect::<Result<_, _>>()?;
        Ok(Transport::Smtp(relays))
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
            hold_when_paused: d.guard.enabled,
            warmup: d.guard.warmup.map(|w| crate::delivery::engine::WarmupPlan {
                warmup: crate::domain::Warmup {
                    start: w.start,
                    growth: w.growth,
                },
                domain: self.newsletter.from.email.domain().to_ascii_lowercase(),
            }),
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
        Ok(Some(dkim_signing(&d.selector, &d.domain, key)))
    }
}

/// How paperpost signs with `key` as `selector` of `domain`: the [`DKIM_HEADERS`], relaxed
/// canonicalization of headers and body.
pub(crate) fn dkim_signing(selector: &str, domain: &str, key: DkimSigningKey) -> DkimConfig {
    let headers = DKIM_HEADERS
        .iter()
        .map(|h| HeaderName::new_from_ascii_str(h))
        .collect();
    DkimConfig::new(
        selector.to_string(),
        domain.to_string(),
        key,
        headers,
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    )
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
pub(super) fn load_dkim_key(
    path: &Path,
    algorithm: DkimAlgorithm,
) -> Result<DkimSigningKey, String> {
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

impl NewsletterSettings {
    /// The headers every message of the newsletter carries.
    pub fn message_settings(&self) -> MessageSettings {
        let n = self;
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
}

impl super::SelectionSettings {
    /// How many papers a digest holds and how they rank.
    pub fn limits(&self) -> SelectionLimits {
        SelectionLimits {
            max_papers: self.max_papers,
            weights: self.ranking,
        }
    }
}
