//! Readers' link tokens, one per purpose ([`TokenPurpose`]): `{id}.{generation}.{mac}`,
//! where `mac` is the first 128 bits (32 hex characters) of
//! HMAC-SHA256(server key, "reader-token" | purpose | id | salt | generation).
//!
//! No token is stored: the store keeps each purpose's generation (and a random salt per
//! reader); checking a token recomputes its MAC and compares in constant time. The purpose
//! is inside the MAC, so a feed token never opens preferences; revoking a purpose adds one
//! to its generation, so every link made for an earlier one stops working.
//!
//! Links mailed before tokens per purpose carry the one token readers had then,
//! `{id}.{secret}` (128 random bits in hex). The store keeps only a SHA-256 of that secret;
//! such a *legacy* token still matches (what old digests and feed readers use) until any
//! of the reader's purposes is revoked. What it may still open is the caller's choice:
//! the web lets it read copies and the feed, record feedback and unsubscribe, not see or
//! change preferences.
use hmac::Mac as _;
use sha2::Sha256;

use super::Secret;
use crate::domain::{Subscriber, TokenPurpose};

/// Bytes of the HMAC a token carries (128 bits).
const MAC_BYTES: usize = 16;

/// The reader's current token for `purpose`.
pub fn reader_token(secret: &Secret, purpose: TokenPurpose, reader: &Subscriber) -> String {
    let generation = reader.tokens.get(purpose).generation;
    let mac = mac_of(secret, purpose, reader, generation)
        .finalize()
        .into_bytes();
    format!(
        "{}.{generation}.{}",
        reader.id,
        hex::encode(&mac[..MAC_BYTES])
    )
}

/// How a presented token matched its reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMatch {
    /// The reader's current token for this purpose.
    Current(TokenPurpose),
    /// The one token of links mailed before tokens per purpose.
    Legacy,
}

/// The reader id a token names, if it has the shape of a token at all; only
/// [`check_reader_token`] says whether it is that reader's.
pub fn token_reader_id(token: &str) -> Option<i64> {
    match parse(token)? {
        Presented::Current { id, .. } | Presented::Legacy { id, .. } => Some(id),
    }
}

/// Whether `token` is `reader`'s current token for one of `purposes` (the first that
/// matches), or their legacy token. Every comparison of secret material is constant-time.
pub fn check_reader_token(
    secret: &Secret,
    token: &str,
    reader: &Subscriber,
    purposes: &[TokenPurpose],
) -> Option<TokenMatch> {
    match parse(token)? {
        Presented::Current {
            id,
            generation,
            mac,
        } => {
            if id != reader.id {
                return None;
            }
            purposes.iter().copied().find_map(|purpose| {
                let current = reader.tokens.get(purpose).generation == generation;
                let genuine = current
                    && mac_of(secret, purpose, reader, generation)
                        .verify_truncated_left(&mac)
                        .is_ok();
                genuine.then_some(TokenMatch::Current(purpose))
            })
        }
        Presented::Legacy { id, secret: legacy } => {
            let stored = reader.tokens.legacy_hash.as_deref()?;
            let presented = legacy_hash(legacy);
            (id == reader.id
                && crate::security::constant_time_eq(stored.as_bytes(), presented.as_bytes()))
            .then_some(TokenMatch::Legacy)
        }
    }
}

/// Hex SHA-256 of a legacy token's secret half: what the store keeps of it (migration 12
/// computes the same in SQL).
pub fn legacy_hash(secret: &str) -> String {
    crate::store::sha256_hex(secret)
}

/// A token split into its parts; `None` for anything else.
enum Presented<'a> {
    Current {
        id: i64,
        generation: i64,
        mac: [u8; MAC_BYTES],
    },
    Legacy {
        id: i64,
        secret: &'a str,
    },
}

fn parse(token: &str) -> Option<Presented<'_>> {
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
    };
    let mut parts = token.split('.');
    let id = number(parts.next()?)?;
    match (parts.next(), parts.next(), parts.next()) {
        (Some(generation), Some(mac), None) => {
            let mut bytes = [0u8; MAC_BYTES];
            // Exactly 128 bits: a shorter tag must never be compared as a prefix.
            hex::decode_to_slice(mac, &mut bytes).ok()?;
            Some(Presented::Current {
                id,
                generation: number(generation)?,
                mac: bytes,
            })
        }
        (Some(secret), None, None)
            if secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Some(Presented::Legacy { id, secret })
        }
        _ => None,
    }
}

fn mac_of(
    secret: &Secret,
    purpose: TokenPurpose,
    reader: &Subscriber,
    generation: i64,
) -> hmac::Hmac<Sha256> {
    secret.hmac(&[
        b"reader-token",
        purpose.as_str().as_bytes(),
        &reader.id.to_be_bytes(),
        reader.tokens.salt.as_bytes(),
        &generation.to_be_bytes(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ReaderTokens, SubscriberEmail, TokenGeneration, Topics};
    use TokenPurpose::{Copy, Feed, Manage};

    fn reader(id: i64, salt: &str) -> Subscriber {
        Subscriber {
            id,
            email: SubscriberEmail::parse("ada@example.org").unwrap(),
            newsletter: crate::domain::DEFAULT_NEWSLETTER.into(),
            name: None,
            status: crate::domain::SubscriberStatus::Active,
            topics: Topics::default(),
            frequency: Default::default(),
            timezone: None,
            send_hour: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
            tokens: ReaderTokens {
                salt: salt.into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_token_opens_its_own_purpose_only() {
        let key = Secret::from_bytes(&[7; 32]);
        let ada = reader(42, "salt");
        for purpose in TokenPurpose::ALL {
            let t = reader_token(&key, purpose, &ada);
            assert!(t.starts_with("42.0."), "{t}");
            assert_eq!(t.len(), "42.0.".len() + 32, "{t}");
            assert_eq!(token_reader_id(&t), Some(42));
            for other in TokenPurpose::ALL {
                let want = (other == purpose).then_some(TokenMatch::Current(purpose));
                assert_eq!(
                    check_reader_token(&key, &t, &ada, &[other]),
                    want,
                    "{t} as {other}"
                );
            }
            assert_eq!(
                check_reader_token(&key, &t, &ada, &TokenPurpose::ALL),
                Some(TokenMatch::Current(purpose))
            );
        }
    }

    #[test]
    fn another_key_reader_salt_or_generation_makes_other_tokens() {
        let key = Secret::from_bytes(&[7; 32]);
        let ada = reader(42, "salt");
        let t = reader_token(&key, Feed, &ada);
        let other_key = Secret::from_bytes(&[8; 32]);
        assert_eq!(check_reader_token(&other_key, &t, &ada, &[Feed]), None);
        // A reader who got the id of a deleted one: another salt, other tokens.
        assert_eq!(
            check_reader_token(&key, &t, &reader(42, "pepper"), &[Feed]),
            None
        );
        assert_eq!(
            check_reader_token(&key, &t, &reader(43, "salt"), &[Feed]),
            None
        );
        let mut revoked = ada.clone();
        revoked.tokens.feed = TokenGeneration {
            generation: 1,
            revoked_at: None,
        };
        assert_eq!(check_reader_token(&key, &t, &revoked, &[Feed]), None);
        let fresh = reader_token(&key, Feed, &revoked);
        assert!(fresh.starts_with("42.1."), "{fresh}");
        assert_eq!(
            check_reader_token(&key, &fresh, &revoked, &[Feed]),
            Some(TokenMatch::Current(Feed))
        );
        // The other purposes are untouched by the feed's revocation.
        let copy = reader_token(&key, Copy, &ada);
        assert_eq!(
            check_reader_token(&key, &copy, &revoked, &[Copy]),
            Some(TokenMatch::Current(Copy))
        );
    }

    #[test]
    fn malformed_and_tampered_tokens_match_nothing() {
        let key = Secret::from_bytes(&[7; 32]);
        let ada = reader(42, "salt");
        let good = reader_token(&key, Manage, &ada);
        let mac = &good["42.0.".len()..];
        let flipped = format!(
            "42.0.{}{}",
            &mac[..31],
            if mac.ends_with('0') { '1' } else { '0' }
        );
        for bad in [
            String::new(),
            "42".into(),
            "42.".into(),
            "42..".into(),
            format!("42.0.{}", &mac[..2]),
            format!("42.0.{}", &mac[..31]),
            format!("42.0.{mac}00"),
            format!(
                "42.0.{}",
                mac.to_uppercase()
                    .replace(|c: char| c.is_ascii_digit(), "G")
            ),
            format!("42.-0.{mac}"),
            format!("42.+0.{mac}"),
            format!("042.0.{mac}x"),
            format!("42.0.{mac}.1"),
            format!("43.0.{mac}"),
            flipped,
            "42.0123456789abcdef0123456789abcdef".into(),
        ] {
            assert_eq!(
                check_reader_token(&key, &bad, &ada, &TokenPurpose::ALL),
                None,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_legacy_token_matches_its_hash_until_revoked() {
        let key = Secret::from_bytes(&[7; 32]);
        let secret = "0123456789abcdef0123456789abcdef";
        let mut ada = reader(42, "");
        ada.tokens.legacy_hash = Some(legacy_hash(secret));
        let old = format!("42.{secret}");
        assert_eq!(token_reader_id(&old), Some(42));
        assert_eq!(
            check_reader_token(&key, &old, &ada, &[Copy]),
            Some(TokenMatch::Legacy)
        );
        for bad in [
            format!("43.{secret}"),
            format!("42.{}", secret.replace('0', "1")),
            format!("42.{}", &secret[..31]),
        ] {
            assert_eq!(check_reader_token(&key, &bad, &ada, &[Copy]), None, "{bad}");
        }
        ada.tokens.legacy_hash = None;
        assert_eq!(check_reader_token(&key, &old, &ada, &[Copy]), None);
        assert_eq!(
            legacy_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
