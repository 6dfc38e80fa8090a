//! A reader's link tokens, one per purpose: what each may do and how far each was revoked.
//! The tokens themselves are never stored; `security::reader_tokens` derives them from the
//! server's key and the state kept here.
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

/// What a reader's token opens. Each purpose has its own token, revoked on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// Read-only: the reader's web copies of their digests (`/d/{token}/{edition}`).
    Copy,
    /// Read-only: the reader's private Atom feed (`/feed/{token}.xml`), and the web copies
    /// the feed links to.
    Feed,
    /// Preferences, 👍/👎 feedback and unsubscribe (also RFC 8058 one-click).
    Manage,
}

impl TokenPurpose {
    /// Every purpose, in the order listings show them.
    pub const ALL: [TokenPurpose; 3] = [Self::Copy, Self::Feed, Self::Manage];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Copy => "copy",
            Self::Feed => "feed",
            Self::Manage => "manage",
        }
    }

    /// What the token opens, for listings.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Copy => "web copies of digests (read-only)",
            Self::Feed => "private Atom feed (read-only)",
            Self::Manage => "preferences, feedback, unsubscribe",
        }
    }
}

impl FromStr for TokenPurpose {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "copy" => Ok(Self::Copy),
            "feed" => Ok(Self::Feed),
            "manage" => Ok(Self::Manage),
            other => Err(format!(
                "unknown token purpose `{other}` (expected copy, feed or manage)"
            )),
        }
    }
}

impl fmt::Display for TokenPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One purpose's state: its generation (revoking adds one, so every token made for an
/// earlier generation stops working) and when it was last revoked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenGeneration {
    pub generation: i64,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Everything the store keeps about a reader's tokens; none of it is a token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderTokens {
    /// Random per reader (hex), so a reader who gets the id of a deleted one (SQLite can
    /// reuse the highest id) gets other tokens; empty for readers made before tokens per
    /// purpose (their ids were never handed out in such tokens).
    pub salt: String,
    pub copy: TokenGeneration,
    pub feed: TokenGeneration,
    pub manage: TokenGeneration,
    /// Hex SHA-256 of the secret half of the one token (`{id}.{secret}`) links carried
    /// before tokens per purpose; `None` once any purpose was revoked, or for readers made
    /// since.
    pub legacy_hash: Option<String>,
}

impl ReaderTokens {
    pub fn get(&self, purpose: TokenPurpose) -> TokenGeneration {
        match purpose {
            TokenPurpose::Copy => self.copy,
            TokenPurpose::Feed => self.feed,
            TokenPurpose::Manage => self.manage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip_and_unknown_ones_are_named() {
        for p in TokenPurpose::ALL {
            assert_eq!(p.as_str().parse::<TokenPurpose>().unwrap(), p);
        }
        assert_eq!(
            " Feed ".parse::<TokenPurpose>().unwrap(),
            TokenPurpose::Feed
        );
        let e = "preferences".parse::<TokenPurpose>().unwrap_err();
        assert!(
            e.contains("`preferences`") && e.contains("copy, feed or manage"),
            "{e}"
        );
    }
}
