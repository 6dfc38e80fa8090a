//! CSRF fields of the preferences and confirmation forms: `HMAC(secret, form name, token)`,
//! the token being the subscriber's or the confirmation link's. (Operator forms carry their
//! session's own random secret instead: `operator/session.rs`.)
//!
//! The token in the URL is already the capability; the field adds that a post
//! must come from a page this server rendered for that token and form. Stateless (nothing
//! stored), checked in constant time. The one-click unsubscribe POST carries none on
//! purpose: mail clients send it (RFC 8058), and it only ever unsubscribes.
use maud::{Markup, html};

use super::errors::WebError;
use crate::security::Secret;
use crate::security::constant_time_eq;

/// The hidden field's name.
pub(crate) const FIELD: &str = "csrf";

pub(crate) fn token(secret: &Secret, subscriber_token: &str, form: &str) -> String {
    secret.mac_hex(&[b"csrf", form.as_bytes(), subscriber_token.as_bytes()])
}

/// The hidden input for `form`.
pub(crate) fn field(secret: &Secret, subscriber_token: &str, form: &str) -> Markup {
    html! { input type="hidden" name=(FIELD) value=(token(secret, subscriber_token, form)); }
}

/// `Ok` when `presented` is the field this server made for the token and form.
pub(crate) fn check(
    secret: &Secret,
    subscriber_token: &str,
    form: &str,
    presented: Option<&str>,
) -> Result<(), WebError> {
    let expected = token(secret, subscriber_token, form);
    match presented {
        Some(p) if constant_time_eq(expected.as_bytes(), p.as_bytes()) => Ok(()),
        _ => Err(WebError::Csrf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_good_for_its_token_and_form_only() {
        let s = Secret::from_bytes(&[7; 32]);
        let t = token(&s, "1.abc", "preferences");
        assert!(check(&s, "1.abc", "preferences", Some(&t)).is_ok());
        assert!(check(&s, "2.abc", "preferences", Some(&t)).is_err());
        assert!(check(&s, "1.abc", "other", Some(&t)).is_err());
        assert!(check(&s, "1.abc", "preferences", None).is_err());
        assert!(check(&s, "1.abc", "preferences", Some("")).is_err());
        let other = Secret::from_bytes(&[8; 32]);
        assert!(check(&other, "1.abc", "preferences", Some(&t)).is_err());
    }
}
