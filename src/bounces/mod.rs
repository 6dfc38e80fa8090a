//! BOUNCES: bounce reports and complaints back into the store.
//! - [`mailbox`]: read messages from a Maildir, an mbox, one file or standard input, bounded;
//! - [`nesting`]: pure — how deep a message nests, walked before it is parsed (deep nesting
//!   is refused: the parsed tree would overflow the stack);
//! - [`report`]: pure — one message to what it reports (RFC 3464 DSN, RFC 5965 ARF
//!   complaint, autoreply), parsed with mail-parser;
//! - [`ingest`]: find the delivery a report proves it is about (a VERP token whose check
//!   verifies, or a Message-ID of a delivery to the reported address; anything else is
//!   unverified and changes nothing) and apply the policy: hard bounce → suppressed; soft
//!   bounces → suppressed after `[bounces] soft_limit` within `soft_window_days`; complaint
//!   → unsubscribed (token changed) and suppressed.
pub mod ingest;
pub mod mailbox;
pub(crate) mod nesting;
pub mod report;
mod settings;

pub use ingest::{Policy, Summary, ingest};
pub use mailbox::Input;
pub use settings::BounceSettings;
