//! The server's key: it keys CSRF fields, the rate limits' address/IP hashes and readers'
//! link tokens, with HMAC-SHA256 (the `hmac` crate).
use std::sync::Arc;

use anyhow::Context;
use hmac::{KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Key material; never printed.
#[derive(Clone)]
pub struct Secret(Arc<[u8]>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

const META_KEY: &str = "web_secret";
/// The `meta` key of the key's fingerprint: the first process to load a key records it,
/// and a process with another key is refused (it would mail links the others reject).
const FINGERPRINT_KEY: &str = "web_secret_fingerprint";

impl Secret {
    /// The environment variable that, when set, holds the secret (at least 32 characters).
    pub const ENV: &'static str = "PAPERPOST_SECRET";

    /// From `PAPERPOST_SECRET` when set; otherwise 32 random bytes kept in the store's
    /// `meta` table (made on first use), so CSRF fields and readers' links survive restarts
    /// and every process on the store (`send`, `serve`, several hosts) makes the same links.
    /// A key other than the one the store's links were first made with is refused, with
    /// what to do: a `send` without the `serve`'s `PAPERPOST_SECRET` would mail dead links.
    pub fn load(store: &crate::store::Store) -> anyhow::Result<Secret> {
        Self::load_with(store, std::env::var(Self::ENV).ok())
    }

    /// [`Secret::load`] with the environment variable's value given.
    fn load_with(store: &crate::store::Store, env: Option<String>) -> anyhow::Result<Secret> {
        let from_env = env.is_some();
        let secret = match env {
            Some(value) => {
                anyhow::ensure!(
                    value.len() >= 32,
                    "{} must be at least 32 characters long",
                    Self::ENV
                );
                Secret::from_bytes(value.as_bytes())
            }
            None => {
                let stored = store.meta_or_init(META_KEY, || {
                    use rand::RngCore;
                    let mut bytes = [0u8; 32];
                    rand::rng().fill_bytes(&mut bytes);
                    hex::encode(bytes)
                })?;
                let bytes = hex::decode(stored).context("the stored web secret is not hex")?;
                Secret::from_bytes(&bytes)
            }
        };
        let fingerprint = secret.mac_hex(&[b"key-fingerprint"])[..16].to_string();
        let recorded = store.meta_or_init(FINGERPRINT_KEY, || fingerprint.clone())?;
        if recorded != fingerprint {
            let this = if from_env {
                format!("${} as set for this process", Self::ENV)
            } else {
                format!("the store's own key, as ${} is not set here", Self::ENV)
            };
            anyhow::bail!(
                "readers' links in this store were made with another key than this process                  has ({this}): every process on one store (send, serve, each host) must use                  the same key, so set ${env} to the same value for all of them, or for none.                  Changing the key on purpose retires every link already mailed: then delete                  the `{FINGERPRINT_KEY}` row of the store's meta table",
                env = Self::ENV
            );
        }
        Ok(secret)
    }

    /// [`Secret::load`] on tokio's blocking pool (it may read the store), for async callers.
    pub async fn load_async(store: &crate::store::Store) -> anyhow::Result<Secret> {
        let store = store.clone();
        tokio::task::spawn_blocking(move || Secret::load(&store)).await?
    }

    pub fn from_bytes(bytes: &[u8]) -> Secret {
        Secret(bytes.into())
    }

    /// The HMAC of several fields, each length-prefixed so no two lists encode alike, not
    /// yet finalised (to compare a truncated tag in constant time).
    pub(crate) fn hmac(&self, fields: &[&[u8]]) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        for f in fields {
            mac.update(&(f.len() as u64).to_be_bytes());
            mac.update(f);
        }
        mac
    }

    /// HMAC of several fields, each length-prefixed so no two lists encode alike.
    pub(crate) fn mac(&self, fields: &[&[u8]]) -> [u8; 32] {
        self.hmac(fields).finalize().into_bytes().into()
    }

    pub(crate) fn mac_hex(&self, fields: &[&[u8]]) -> String {
        hex::encode(self.mac(fields))
    }
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
            let mac = <HmacSha256 as KeyInit>::new_from_slice(key)
                .unwrap()
                .chain_update(msg)
                .finalize()
                .into_bytes();
            assert_eq!(hex::encode(mac), want);
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

    #[test]
    fn a_process_with_another_key_than_the_stores_links_is_refused() {
        let key = |c: char| Some(c.to_string().repeat(32));
        // The store's own key, loaded twice: the same key.
        let store = crate::store::Store::for_tests().unwrap();
        let a = Secret::load_with(&store, None).unwrap();
        let b = Secret::load_with(&store, None).unwrap();
        assert_eq!(a.mac(&[b"x"]), b.mac(&[b"x"]));
        let e = Secret::load_with(&store, key('a')).unwrap_err().to_string();
        assert!(
            e.contains("PAPERPOST_SECRET as set for this process"),
            "{e}"
        );
        // A store first used with $PAPERPOST_SECRET: a process without it, or with another
        // value, is refused; with the same value it goes on.
        let store = crate::store::Store::for_tests().unwrap();
        Secret::load_with(&store, key('a')).unwrap();
        Secret::load_with(&store, key('a')).unwrap();
        let e = Secret::load_with(&store, None).unwrap_err().to_string();
        assert!(e.contains("as $PAPERPOST_SECRET is not set here"), "{e}");
        assert!(Secret::load_with(&store, key('b')).is_err());
        let short = Secret::load_with(&store, Some("short".into())).unwrap_err();
        assert!(
            short.to_string().contains("at least 32 characters"),
            "{short}"
        );
    }
}
