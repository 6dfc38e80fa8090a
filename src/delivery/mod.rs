//! DELIVERY: digests to lettre messages, and the engine that sends them durably.
//! - [`message`]: build a `multipart/alternative` message with the list headers;
//! - [`smtp`]: one hand-driven SMTP session (TCP_NODELAY, a timeout on every step);
//! - [`outcome`]: what a failure means (retry, permanent, unknown);
//! - [`engine`]: claim → compose → send → record, with bounded connections, a rate limit,
//!   retries with backoff, suppression, relay failover and clean shutdown;
//! - [`outbox`]: the `file` transport, which writes `.eml` files instead of sending;
//! - [`verp`]: the per-message envelope sender `bounces+TOKEN@domain` and its token.
pub mod engine;
pub mod message;
pub mod outbox;
pub mod outcome;
mod settings;
pub mod smtp;
pub mod verp;

pub use engine::{
    ComposeError, Composed, EngineReport, EngineSettings, Progress, Transport, deliver, send_one,
};
pub use message::{MessageError, MessageSettings, Outgoing, build_message, new_message_id};
pub use outcome::{SendError, Step, Verdict};
pub use settings::{
    DeliverySettings, DkimAlgorithm, DkimSettings, GuardSettings, RelaySettings, TransportKind,
    WarmupSettings,
};
pub use smtp::{Relay, RelayTls, Session};
