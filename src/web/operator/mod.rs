//! Operator sign-in (issue 19): the base every operator page stands on (`/status` and its
//! forms today). Accounts are made with `paperpost operators add NAME`; their passwords are
//! Argon2id hashes ([`password`]); a signed-in browser holds a session cookie
//! ([`session`]); every operator POST needs that session, its CSRF field and a same-origin
//! request ([`origin`]); sign-ins are throttled per IP and per account ([`login`]). No
//! secret ever travels in a URL.
mod login;
mod origin;
mod password;
mod session;

pub(crate) use login::{show, sign_in, sign_out};
pub use password::hash_password;
pub(crate) use session::{Operator, OperatorForm};
