//! The server secret that keys CSRF fields and the rate limits' address/IP hashes, and
//! HMAC-SHA256 over it.
//!
//! HMAC is written out here by RFC 2104 on top of the `sha2` crate we already have, rather
//! than adding the `hmac` crate: it is a dozen lines, and the RFC 4231 vectors below pin it.
use std::sync::Arc;

use anyhow::Context;
use sha2::{Digest as _, Sha256};

/// Key material; never printed.
#[derive(Clone)]
pub struct Secret(Arc<[u8]>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

const META_KEY: &str = "web_secret";

impl Secret {
    /// The environment variable that, when set, holds the secret (at least 32 characters).
    pub const ENV: &'static str = "PAPERPOST_SECRET";

    /// From `PAPERPOST_SECRET` when set; otherwise 32 random bytes kept in the store's
    /// `meta` table (made on first use), so CSRF fields survive restarts.
    pub fn load(store: &crate::store::Store) -> anyhow::Result<Secret> {
        if let Ok(value) = std::env::var(Self::ENV) {
            anyhow::ensure!(
                value.len() >= 32,
                "{} must be at least 32 characters long",
                Self::ENV
            );
            return Ok(Secret::from_bytes(value.as_bytes()));
        }
        let stored = store.meta_or_init(META_KEY, || {
            use rand::RngCore;
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            hex::encode(bytes)
        })?;
        let bytes = hex::decode(stored).context("the stored web secret is not hex")?;
        Ok(Secret::from_bytes(&bytes))
    }

    pub fn from_bytes(bytes: &[u8]) -> Secret {
        Secret(bytes.into())
    }

    /// HMAC of several fields, each length-prefixed so no two lists encode alike.
    pub(crate) fn mac(&self, fields: &[&[u8]]) -> [u8; 32] {
        let mut message = Vec::new();
        for f in fields {
            message.extend_from_slice(&(f.len() as u64).to_be_bytes());
            message.extend_from_slice(f);
        }
        hmac_sha256(&self.0, &message)
    }

    pub(crate) fn mac_hex(&self, fields: &[&[u8]]) -> String {
        hex::encode(self.mac(fields))
    }
}

/// HMAC-SHA256 (RFC 2104): `H((K ^ opad) || H((K ^ ipad) || m))`, keys longer than the
/// 64-byte block hashed first.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, msg, want) in cases {
            assert_eq!(hex::encode(hmac_sha256(key, msg)), want);
        }
    }

    #[test]
    fn the_secret_is_made_once_and_kept_in_the_store() {
        let store = crate::store::Store::for_tests().unwrap();
        // The test process may have PAPERPOST_SECRET set; compare through the store only.
        let a = store.meta_or_init(META_KEY, || "first".into()).unwrap();
        let b = store.meta_or_init(META_KEY, || "second".into()).unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("first", "first"));
        let s = Secret::from_bytes(b"k");
        assert_ne!(s.mac(&[b"ab", b"c"]), s.mac(&[b"a", b"bc"]));
        assert_eq!(format!("{s:?}"), "Secret(…)");
    }
}
