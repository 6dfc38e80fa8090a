//! Rate limits of the sign-up form, so it cannot be used to bomb an inbox with
//! confirmation mails: a few mails per address per day whoever asks, and a cap on posts per
//! client IP per hour. Both are counted in the store (they survive restarts), keyed by HMACs
//! of the canonical mailbox ([`canonical_mailbox`]) and of the IP (IPv6 by /64, what one
//! host usually gets). The operators' sign-in form is throttled the same way: failed
//! sign-ins per IP and per account name ([`login_limits`], [`account_key`]).
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use chrono::Duration;

use super::{Shared, WebSettings};
use crate::domain::SubscriberEmail;
use crate::domain::{AttemptLimits, LoginLimits};
use crate::security::Secret;

/// The client's IP: the socket peer, or the last `X-Forwarded-For` entry (the one our own
/// proxy appended) when `trust_forwarded_for` is set. `None` when neither is known.
pub(crate) struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<Shared> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .settings
            .trust_forwarded_for
            .then(|| {
                parts
                    .headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .next_back()
                    .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
            })
            .flatten();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(forwarded.or(peer)))
    }
}

/// What counts as one client: an IPv4 address, or an IPv6 /64 (what one host usually
/// gets; an IPv4-mapped address counts as the IPv4 one).
pub(crate) fn ip_bucket(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// What counts as one network for the connection caps: an IPv4 /24, an IPv6 /64 (for
/// IPv6 the same as one client: a /64 is what one site's subnet is).
pub(crate) fn network_bucket(ip: IpAddr) -> IpAddr {
    match ip_bucket(ip) {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, 0))
        }
        v6 => v6,
    }
}

pub(crate) fn ip_key(secret: &Secret, ip: Option<IpAddr>) -> String {
    let text = match ip.map(ip_bucket) {
        Some(IpAddr::V6(v6)) => format!("{v6}/64"),
        Some(v4) => v4.to_string(),
        None => "unknown".to_string(),
    };
    secret.mac_hex(&[b"ip", text.as_bytes()])
}

pub(crate) fn address_key(secret: &Secret, email: &SubscriberEmail) -> String {
    secret.mac_hex(&[b"address", canonical_mailbox(email.as_ref()).as_bytes()])
}

/// The mailbox an address reaches, as far as the per-address limit is concerned, so its
/// spellings share one count: the local part in Unicode NFC and lower case with any
/// `+tag` cut off, and the domain in its IDNA ASCII form (`bücher.example`, its NFD
/// spelling and `xn--bcher-kva.example` are one domain) without a trailing dot. For the
/// limit only: the address is stored and mailed as typed.
pub(crate) fn canonical_mailbox(address: &str) -> String {
    let address = address.trim();
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    let nfc = icu_normalizer::ComposingNormalizerBorrowed::new_nfc();
    let local = nfc.normalize(local).to_lowercase();
    let local = local.split('+').next().unwrap_or_default();
    let domain = domain.trim_end_matches('.');
    let domain =
        idna::domain_to_ascii(domain).unwrap_or_else(|_| nfc.normalize(domain).to_lowercase());
    format!("{local}@{domain}")
}

/// The key failed sign-ins for a typed account name are counted under: the name as
/// [`crate::domain::OperatorName`] would store it (trimmed, lower case), whether or not such
/// an operator exists, so the count says nothing about which names do.
pub(crate) fn account_key(secret: &Secret, typed: &str) -> String {
    secret.mac_hex(&[b"operator", typed.trim().to_lowercase().as_bytes()])
}

pub(crate) fn login_limits(settings: &WebSettings) -> LoginLimits {
    LoginLimits {
        per_ip: settings.max_login_failures_per_ip,
        per_account: settings.max_login_failures_per_account,
        window: Duration::minutes(settings.login_window_minutes.into()),
    }
}

pub(crate) fn attempt_limits(settings: &WebSettings) -> AttemptLimits {
    AttemptLimits {
        per_ip: settings.max_subscribes_per_ip_per_hour,
        ip_window: Duration::hours(1),
        per_address: settings.max_confirmations_per_address_per_day,
        address_window: Duration::days(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_group_ipv6_by_64() {
        let s = Secret::from_bytes(&[1; 32]);
        let a = SubscriberEmail::parse("Ada@Example.org").unwrap();
        let b = SubscriberEmail::parse("ada@example.org").unwrap();
        assert_eq!(address_key(&s, &a), address_key(&s, &b));
        let ip = |t: &str| Some(t.parse::<IpAddr>().unwrap());
        assert_eq!(
            ip_key(&s, ip("2001:db8:1:2::1")),
            ip_key(&s, ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            ip_key(&s, ip("2001:db8:1:2::1")),
            ip_key(&s, ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            ip_key(&s, ip("::ffff:10.0.0.1")),
            ip_key(&s, ip("10.0.0.1"))
        );
        assert_ne!(ip_key(&s, ip("10.0.0.1")), ip_key(&s, ip("10.0.0.2")));
    }

    #[test]
    fn networks_are_ipv4_24s_and_ipv6_64s() {
        let net = |t: &str| network_bucket(t.parse().unwrap()).to_string();
        assert_eq!(net("127.0.1.2"), "127.0.1.0");
        assert_eq!(net("127.0.1.255"), net("127.0.1.2"));
        assert_ne!(net("127.0.0.2"), net("127.0.1.2"));
        assert_eq!(net("::ffff:10.1.2.3"), "10.1.2.0");
        assert_eq!(net("2001:db8:1:2:ffff::9"), "2001:db8:1:2::");
    }

    #[test]
    fn spellings_of_one_mailbox_share_a_canonical_form() {
        let same = [
            ("ada@example.org", "ada@example.org"),
            ("ADA@Example.ORG", "ada@example.org"),
            ("ada+news@example.org", "ada@example.org"),
            ("Ada+a+b@example.org.", "ada@example.org"),
            ("ada@bücher.example", "ada@xn--bcher-kva.example"),
            ("ada@BÜCHER.example", "ada@xn--bcher-kva.example"),
            ("ada@bu\u{308}cher.example", "ada@xn--bcher-kva.example"),
            ("ada@XN--BCHER-KVA.example", "ada@xn--bcher-kva.example"),
            ("jose\u{301}@example.org", "jos\u{e9}@example.org"),
            ("JOSÉ+x@example.org", "jos\u{e9}@example.org"),
        ];
        for (typed, canonical) in same {
            assert_eq!(canonical_mailbox(typed), canonical, "{typed}");
        }
        assert_ne!(
            canonical_mailbox("ada@example.org"),
            canonical_mailbox("ada.l@example.org"),
            "dots are the provider's business: not folded"
        );
    }
}
