//! SECURITY: the server's key ([`Secret`]) and what is made with it — HMAC-SHA256 for CSRF
//! fields and the rate limits' keys, and readers' link tokens, one per purpose
//! ([`reader_tokens`]). Shared by the web (checks tokens), the pipeline (puts them into
//! digests) and the CLI (`subscribers show --links`); it reads nothing but the store's
//! `meta` table.
pub mod reader_tokens;
mod secret;

pub use reader_tokens::{
    TokenMatch, check_reader_token, legacy_hash, reader_token, token_reader_id,
};
pub use secret::Secret;

/// Compares two secrets in time that depends only on their length (`subtle`).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}
