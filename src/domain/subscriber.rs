//! Subscribers: a validated address, a status, what they want to read and when.
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use lettre::Address;

use super::Topics;

/// A subscriber's address, validated by lettre's [`Address`] parser. The only way to get
/// one is [`SubscriberEmail::parse`], so every stored address can be mailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberEmail(Address);

impl SubscriberEmail {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("the email address is empty".into());
        }
        if trimmed.len() > 254 {
            return Err("the email address is longer than 254 characters".into());
        }
        Address::from_str(trimmed)
            .map(SubscriberEmail)
            .map_err(|e| format!("`{trimmed}` is not a valid email address ({e})"))
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
    pub email: SubscriberEmail,
    pub name: Option<String>,
    pub status: SubscriberStatus,
    pub topics: Topics,
    pub frequency: Frequency,
    /// IANA zone for the subscriber's own send hour; `None` = the newsletter's zone.
    pub timezone: Option<chrono_tz::Tz>,
    /// Local hour (0–23) the subscriber wants the digest; `None` = the newsletter's schedule.
    pub send_hour: Option<u8>,
    pub created_at: DateTime<Utc>,
    /// Secret half of the subscriber's capability token (unsubscribe, preferences).
    pub token_secret: String,
}

impl Subscriber {
    /// The token that goes into unsubscribe and preference links: `{id}.{secret}`, where the
    /// secret is 128 random bits. The store compares the secret in constant time.
    pub fn public_token(&self) -> String {
        format!("{}.{}", self.id, self.token_secret)
    }
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
        ] {
            assert!(
                SubscriberEmail::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
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
