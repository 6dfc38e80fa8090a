//! BOUNCES: bounce reports and complaints back into the store.
//! - [`mailbox`]: read messages from a Maildir, an mbox, one file or standard input, bounded;
//! - [`report`]: pure — one message to what it reports (RFC 3464 DSN, RFC 5965 ARF
//!   complaint, autoreply), parsed with mail-parser;
//! - [`ingest`]: find the delivery (VERP token, Message-ID, address) and apply the policy:
//!   hard bounce → suppressed; soft bounces → suppressed after `[bounces] soft_limit` within
//!   `soft_window_days`; complaint → unsubscribed and suppressed.
pub mod ingest;
pub mod mailbox;
pub mod report;

pub use ingest::{Summary, ingest};
pub use mailbox::Input;
