//! The reader a link's token opens, and with what right. Each route names the token
//! purposes it accepts (`security::reader_tokens`): the web copy a `copy` or `feed` token
//! (the feed links to copies with its own), the feed a `feed` token, preferences, feedback
//! and unsubscribe a `manage` token. A legacy token (links mailed before tokens per
//! purpose) opens all of these but the preferences page's address and settings; that page
//! offers to mail a fresh link instead.
use super::Shared;
use super::errors::WebError;
use crate::domain::{Subscriber, TokenPurpose};
use crate::security::{TokenMatch, check_reader_token, reader_token, token_reader_id};

/// A reader reached through a link.
pub(crate) struct ReaderLink {
    pub sub: Subscriber,
    /// The token as presented: the one this page's own links and CSRF fields carry on.
    pub token: String,
    pub matched: TokenMatch,
}

impl ReaderLink {
    /// Whether the link is a legacy one (`{id}.{secret}`, from a mail sent before tokens per
    /// purpose).
    pub fn is_legacy(&self) -> bool {
        self.matched == TokenMatch::Legacy
    }

    /// The reader's current token for `purpose`, for links this page offers.
    pub fn token_for(&self, state: &Shared, purpose: TokenPurpose) -> String {
        reader_token(&state.secret, purpose, &self.sub)
    }
}

/// The reader `token` belongs to when it is their current token for one of `purposes`, or
/// their legacy token; any other token is [`WebError::InvalidLink`], whatever is wrong
/// with it (never which part).
pub(crate) async fn reader_link(
    state: &Shared,
    token: String,
    purposes: &[TokenPurpose],
) -> Result<ReaderLink, WebError> {
    let id = token_reader_id(&token).ok_or(WebError::InvalidLink)?;
    // A link opens its reader only under their own newsletter's pages (`/n/{slug}/…`).
    let sub = state
        .db(move |s| s.subscriber_by_id(id))
        .await?
        .filter(|sub| sub.newsletter == state.store.newsletter())
        .ok_or(WebError::InvalidLink)?;
    let matched =
        check_reader_token(&state.secret, &token, &sub, purposes).ok_or(WebError::InvalidLink)?;
    Ok(ReaderLink {
        sub,
        token,
        matched,
    })
}
