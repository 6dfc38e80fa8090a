//! Subscribers: a validated address, a status, what they want to read and when.
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use lettre::Address;

use super::{ReaderTokens, StoredName, Topics};

/// A subscriber's address, validated to what an SMTP relay can deliver. The only way to get
/// one is [`SubscriberEmail::parse`], so every stored address can be mailed:
/// - an ASCII dot-atom before the `@`: quoted local parts (`"a b"@x.org`) are refused, and so
///   is Unicode there, because sending it needs SMTPUTF8 end to end, which paperpost's SMTP
///   client (lettre) does not offer;
/// - a public-looking domain after it: no address literal (`[127.0.0.1]`), no bare IP, no
///   dotless name (`a@b`), no `localhost`; an internationalised domain is kept in its ASCII
///   (punycode, IDNA) form, so the `To:` header is plain ASCII;
/// - no control characters, no U+FFFD (what an invalid byte decodes to), at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberEmail(Address);

impl SubscriberEmail {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("the email address is empty".into());
        }
        let shown = trimmed.escape_debug();
        let invalid = |why: &str| format!("`{shown}` is not a valid email address ({why})");
        if trimmed.chars().any(char::is_control) {
            return Err(invalid("it contains control characters"));
        }
        if trimmed.contains('\u{fffd}') {
            return Err(invalid("it contains an invalid byte (U+FFFD)"));
        }
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(invalid("it has no @"));
        };
        if local.starts_with('"') {
            return Err(invalid("quoted local parts are not accepted"));
        }
        if local.is_empty() {
            return Err(invalid("nothing before the @"));
        }
        if !local.is_ascii() {
            return Err(invalid(
                "non-ASCII characters before the @ are not accepted: they need SMTPUTF8, which paperpost does not use",
            ));
        }
        let domain = ascii_domain(domain).map_err(|why| invalid(&why))?;
        let address = Address::new(local, &domain).map_err(|e| invalid(&e.to_string()))?;
        if AsRef::<str>::as_ref(&address).len() > 254 {
            return Err("the email address is longer than 254 characters".into());
        }
        Ok(SubscriberEmail(address))
    }

    pub fn address(&self) -> &Address {
        &self.0
    }
}

impl AsRef<str> for SubscriberEmail {
    fn as_ref(&self) -> &str {
        self.0.as_ref()
    }
}

impl fmt::Display for SubscriberEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

/// The domain of an address in its ASCII (IDNA) form, refused when no public relay can
/// deliver to it.
fn ascii_domain(domain: &str) -> Result<String, String> {
    if domain.is_empty() {
        return Err("nothing after the @".into());
    }
    if domain.starts_with('[') {
        return Err("address literals like user@[127.0.0.1] are not accepted".into());
    }
    let ascii = idna::domain_to_ascii(domain)
        .map_err(|_| format!("`{domain}` is not a valid domain name"))?;
    let ascii = ascii.strip_suffix('.').unwrap_or(&ascii).to_string();
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.last().is_some_and(|l| *l == "localhost") {
        return Err("addresses at localhost are not accepted".into());
    }
    if labels.len() < 2 {
        return Err(format!(
            "the domain `{domain}` has no dot; a public domain like example.org is needed"
        ));
    }
    if ascii.parse::<std::net::Ipv4Addr>().is_ok()
        || labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("an IP address is not accepted as the domain".into());
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!("`{domain}` is not a valid domain name"));
        }
    }
    if ascii.len() > 253 {
        return Err("the domain is longer than 253 characters".into());
    }
    Ok(ascii)
}

/// Where a subscriber is in their life cycle. Only `Active` ones get digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriberStatus {
    /// Signed up on the web, confirmation link not yet followed.
    Pending,
    Active,
    /// Asked to pause; keeps topics, gets nothing until resumed.
    Paused,
    Unsubscribed,
}

impl SubscriberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Unsubscribed => "unsubscribed",
        }
    }
}

impl FromStr for SubscriberStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pending" => Ok(Self::Pending),
            "active" | "" => Ok(Self::Active),
            "paused" => Ok(Self::Paused),
            "unsubscribed" => Ok(Self::Unsubscribed),
            other => Err(format!(
                "unknown status `{other}` (expected active, pending, paused or unsubscribed)"
            )),
        }
    }
}

impl fmt::Display for SubscriberStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How often a subscriber wants a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Frequency {
    Daily,
    #[default]
    Weekly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }
}

impl FromStr for Frequency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "daily" => Ok(Self::Daily),
            "weekly" | "" => Ok(Self::Weekly),
            other => Err(format!(
                "unknown frequency `{other}` (expected daily or weekly)"
            )),
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A subscriber as stored.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub id: i64,
    /// The slug of the newsletter this subscription is to: a reader of several
    /// newsletters has one row in each, with its own topics, frequency and links.
    pub newsletter: String,
    pub email: SubscriberEmail,
    /// Their display name as stored; one that today's rules refuse is kept and shown, and
    /// their deliveries fail naming it (see [`StoredName`]).
    pub name: Option<StoredName>,
    pub status: SubscriberStatus,
    pub topics: Topics,
    pub frequency: Frequency,
    /// IANA zone for the subscriber's own send hour; `None` = the newsletter's zone.
    pub timezone: Option<chrono_tz::Tz>,
    /// Local hour (0–23) the subscriber wants the digest; `None` = the newsletter's schedule.
    pub send_hour: Option<u8>,
    pub created_at: DateTime<Utc>,
    /// What the reader's link tokens are made from (see `security::reader_tokens`).
    pub tokens: ReaderTokens,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_parse_and_garbage_is_refused() {
        assert!(SubscriberEmail::parse(" ada@example.org ").is_ok());
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "a b@example.org",
            "ada@@example.org",
            "\"a b\"@example.org",
            "\"ada\"@example.org",
            "user@[127.0.0.1]",
            "user@[IPv6:::1]",
            "user@127.0.0.1",
            "a@b",
            "user@localhost",
            "user@mail.localhost",
            "a\u{fffd}@example.org",
            "a\r\nBcc: x@example.org@example.org",
            "ad\u{0}a@example.org",
            "łukasz@example.org",
            "ada@exa mple.org",
            "ada@-example.org",
            "ada@example..org",
        ] {
            assert!(
                SubscriberEmail::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn refusals_say_why() {
        for (bad, why) in [
            ("\"a b\"@example.org", "quoted"),
            ("user@[127.0.0.1]", "address literal"),
            ("a@b", "no dot"),
            ("user@localhost", "localhost"),
            ("łukasz@example.org", "SMTPUTF8"),
            ("a\u{fffd}@example.org", "invalid byte"),
            ("a\n@example.org", "control"),
        ] {
            let e = SubscriberEmail::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn unicode_domains_are_kept_in_their_ascii_form() {
        let e = SubscriberEmail::parse("Ada@Bücher.Example").unwrap();
        assert_eq!(e.as_ref(), "Ada@xn--bcher-kva.example");
        assert!(e.as_ref().is_ascii());
        let same = SubscriberEmail::parse("Ada@xn--bcher-kva.example").unwrap();
        assert_eq!(e, same);
        assert_eq!(
            SubscriberEmail::parse("ada@example.org.").unwrap().as_ref(),
            "ada@example.org"
        );
    }

    #[test]
    fn status_and_frequency_round_trip() {
        for s in ["pending", "active", "paused", "unsubscribed"] {
            assert_eq!(s.parse::<SubscriberStatus>().unwrap().as_str(), s);
        }
        assert_eq!("Daily".parse::<Frequency>().unwrap(), Frequency::Daily);
        assert!("hourly".parse::<Frequency>().is_err());
    }
}
