//! A reader's link tokens on the command line: what `subscribers show` says about them (per
//! purpose: generation and last revocation; the reader's current links only with `--links`,
//! for support), and `subscribers revoke`.
use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::{Subscriber, TokenPurpose};
use crate::pipeline::{DigestRenderer, links_for};
use crate::security::Secret;
use crate::store::Store;

/// Which tokens `subscribers revoke --token` revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenChoice {
    /// The web copies' links (read-only).
    Copy,
    /// The private Atom feed's address (read-only).
    Feed,
    /// Preferences, 👍/👎 and unsubscribe links (also List-Unsubscribe).
    Manage,
    /// All three, and a legacy link from before tokens per purpose.
    All,
}

impl TokenChoice {
    fn purposes(self) -> &'static [TokenPurpose] {
        match self {
            TokenChoice::Copy => &[TokenPurpose::Copy],
            TokenChoice::Feed => &[TokenPurpose::Feed],
            TokenChoice::Manage => &[TokenPurpose::Manage],
            TokenChoice::All => &TokenPurpose::ALL,
        }
    }
}

fn at(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The `tokens:` lines of `subscribers show`: no token value, only their state.
pub(super) fn print_tokens(s: &Subscriber) {
    for (i, purpose) in TokenPurpose::ALL.into_iter().enumerate() {
        let g = s.tokens.get(purpose);
        let revoked = g.revoked_at.map_or_else(
            || "never revoked".to_string(),
            |t| format!("revoked {}", at(t)),
        );
        println!(
            "  {:<14}{:<6} generation {}, {revoked} — {}",
            if i == 0 { "tokens:" } else { "" },
            purpose.as_str(),
            g.generation,
            purpose.describe()
        );
    }
    if s.tokens.legacy_hash.is_some() {
        println!(
            "  {:<14}a link from before tokens per purpose still works (web copies, feed, \
             feedback, unsubscribe; not preferences) until any token is revoked",
            ""
        );
    }
}

/// The reader's current links, as their next digest carries them (`show --links`).
pub(super) fn print_links(
    settings: &Settings,
    store: &Store,
    s: &Subscriber,
) -> anyhow::Result<()> {
    let key = Secret::load(store)?;
    let renderer = DigestRenderer::new(&settings.newsletter_options(), key);
    let links = links_for(&renderer.base_url, &renderer.key, s);
    let edition = store
        .last_digest(s.id)?
        .map_or_else(|| "EDITION".to_string(), |d| d.period_key);
    println!("  links (private: each opens the reader's pages for its purpose):");
    for (label, url) in [
        ("web copy:", links.web_copy(&edition)),
        ("feed:", links.feed),
        ("preferences:", links.preferences),
        ("unsubscribe:", links.unsubscribe),
    ] {
        println!("    {label:<14}{url}");
    }
    Ok(())
}

/// `subscribers revoke EMAIL --token …`.
pub(super) fn revoke(store: &Store, email: &str, which: TokenChoice) -> anyhow::Result<i32> {
    let Some(s) = store.subscriber_by_email(email)? else {
        eprintln!("no subscriber {email}");
        return Ok(1);
    };
    let purposes = which.purposes();
    let Some(now) = store.revoke_tokens(s.id, purposes, Utc::now())? else {
        anyhow::bail!("{email} was removed meanwhile");
    };
    for p in purposes {
        println!(
            "revoked the {p} token of {}: its earlier links no longer work (now generation {})",
            now.email,
            now.tokens.get(*p).generation
        );
    }
    if s.tokens.legacy_hash.is_some() {
        println!("revoked their link from before tokens per purpose too");
    }
    println!("their next digest carries the new links");
    Ok(0)
}
