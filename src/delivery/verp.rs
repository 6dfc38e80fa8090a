//! VERP (variable envelope return path): each message's envelope sender names its delivery,
//! `bounces+{id}-{check}@example.org`, so a bounce report sent back to it says which reader
//! and edition it is about without parsing anything the remote server wrote.
//!
//! `check` is the first 10 hex digits of SHA-256 over the delivery's Message-ID, which holds
//! 128 random bits and is stored on the row: nobody who has not seen the message can forge a
//! token for another reader's delivery (and suppress them), and no extra secret or column is
//! needed. Lower-case letters and digits only, since some servers fold the local part's case.
use lettre::Address;
use sha2::{Digest, Sha256};

/// Hex digits of the check part.
const CHECK_LEN: usize = 10;

/// The token of delivery `id` whose stored Message-ID is `message_id`.
pub fn token(id: i64, message_id: &str) -> String {
    format!("{id}-{}", check(message_id))
}

fn check(message_id: &str) -> String {
    let digest = Sha256::digest(message_id.as_bytes());
    let mut hex = hex::encode(digest);
    hex.truncate(CHECK_LEN);
    hex
}

/// `bounces+TOKEN@domain` for the base address `bounces@domain`.
pub fn envelope_sender(base: &Address, id: i64, message_id: &str) -> Address {
    let local = format!("{}+{}", base.user(), token(id, message_id));
    Address::new(local, base.domain()).unwrap_or_else(|_| base.clone())
}

/// A token found in an address or a local part: `…+{id}-{check}@…`. Returns the delivery id
/// and the check, to be compared with [`token_matches`]; `None` when there is no token.
pub fn parse_token(address: &str) -> Option<(i64, String)> {
    let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
    let (_, tag) = local.rsplit_once('+')?;
    let (id, check) = tag.split_once('-')?;
    let id: i64 = id.parse().ok().filter(|n| *n > 0)?;
    let check = check.to_ascii_lowercase();
    if check.len() != CHECK_LEN || !check.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((id, check))
}

/// Whether `check` (from [`parse_token`]) belongs to the delivery with `message_id`.
pub fn token_matches(check: &str, message_id: &str) -> bool {
    crate::security::constant_time_eq(check.as_bytes(), self::check(message_id).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_through_the_envelope_sender_and_checks_its_message_id() {
        let base: Address = "bounces@example.org".parse().unwrap();
        let mid = "<e1.s2.0123456789abcdef@example.org>";
        let from = envelope_sender(&base, 42, mid);
        assert!(from.to_string().starts_with("bounces+42-"), "{from}");
        assert_eq!(from.domain(), "example.org");
        let (id, check) = parse_token(&from.to_string().to_uppercase()).unwrap();
        assert_eq!(id, 42);
        assert!(token_matches(&check, mid));
        assert!(!token_matches(&check, "<e1.s2.other@example.org>"));
        // The forgery: the right delivery id with a made-up check.
        let (_, forged) = parse_token("bounces+42-0000000000@example.org").unwrap();
        assert!(!token_matches(&forged, mid));
    }

    #[test]
    fn addresses_without_a_well_formed_token_have_none() {
        for bad in [
            "bounces@example.org",
            "bounces+@example.org",
            "bounces+42@example.org",
            "bounces+x-0123456789@example.org",
            "bounces+42-01234@example.org",
            "bounces+42-0123456789ab@example.org",
            "bounces+42-zzzzzzzzzz@example.org",
            "bounces+-1-0123456789@example.org",
            "bounces+0-0123456789@example.org",
            "",
            "+",
            "é+ü-ö@x",
        ] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
    }
}
