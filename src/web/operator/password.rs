//! Operators' passwords, stored as Argon2id PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$
//! salt$hash`) by RustCrypto's `argon2`: 19 MiB of memory, 2 passes, 1 lane — the first of
//! OWASP's recommended Argon2id settings (Password Storage Cheat Sheet), about 40 ms of one
//! core here. The parameters travel in each string, so a hash made with other ones still
//! verifies.
//!
//! A sign-in always runs one hash: with no account of that name a dummy hash of the same
//! cost is checked, so how long the answer takes does not tell which names exist. At most
//! [`AT_ONCE`] hashes run at once per process (each holds 19 MiB), so a flood of sign-ins
//! from many addresses queues instead of exhausting memory; they run on the blocking pool.
use std::sync::OnceLock;

use anyhow::anyhow;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::domain::OperatorPassword;

/// Memory (KiB), passes and lanes of a new hash.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Hashes checked at once by this process.
const AT_ONCE: usize = 2;
static CHECKS: Semaphore = Semaphore::const_new(AT_ONCE);

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string to store for `password`, with a fresh random salt.
pub fn hash_password(password: &OperatorPassword) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow!("Failed to hash the password: {e}"))
}

/// A hash of a random password with today's parameters: what an unknown name is checked
/// against.
fn dummy() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut random = [0u8; 32];
        OsRng.fill_bytes(&mut random);
        let password = OperatorPassword::parse(hex::encode(random)).expect("64 hex characters");
        hash_password(&password).expect("hashing works")
    })
}

/// Whether `password` matches `stored` (an operator's PHC string; `None` for an unknown
/// name). Always runs one full hash.
pub(crate) fn verify(stored: Option<&str>, password: &str) -> bool {
    let parsed = stored.and_then(|s| match PasswordHash::new(s) {
        Ok(hash) => Some(hash),
        Err(e) => {
            tracing::error!(error = %e, "an operator's stored password hash cannot be read; set it again with `paperpost operators passwd`");
            None
        }
    });
    match parsed {
        Some(hash) => argon2().verify_password(password.as_bytes(), &hash).is_ok(),
        None => {
            let dummy = PasswordHash::new(dummy()).expect("our own hash parses");
            let _ = argon2().verify_password(password.as_bytes(), &dummy);
            false
        }
    }
}

/// [`verify`] on the blocking pool, at most [`AT_ONCE`] at a time.
pub(crate) async fn check(stored: Option<String>, password: String) -> anyhow::Result<bool> {
    let _permit = CHECKS.acquire().await?;
    Ok(tokio::task::spawn_blocking(move || verify(stored.as_deref(), &password)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_with_owasp_parameters_and_verifies_only_its_password() {
        let password = OperatorPassword::parse("correct horse battery".into()).unwrap();
        let hash = hash_password(&password).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!hash.contains("correct"));
        assert!(verify(Some(&hash), "correct horse battery"));
        assert!(!verify(Some(&hash), "correct horse batterY"));
        assert_ne!(hash, hash_password(&password).unwrap(), "salted");
        // Unknown accounts and unreadable hashes never verify (and still cost a hash).
        assert!(!verify(None, "correct horse battery"));
        assert!(!verify(Some("not a PHC string"), "correct horse battery"));
        assert!(dummy().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    #[test]
    fn a_hash_made_with_other_parameters_still_verifies() {
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).unwrap(),
        )
        .hash_password(b"an older password", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(verify(Some(&old), "an older password"));
    }
}
