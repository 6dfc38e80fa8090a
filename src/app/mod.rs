//! The application level, above the pipeline, the schedule and the web: what runs them
//! together in one process.
//!
//! - [`runtime`]: `config.toml` made ready to run once per process ([`Runtime`]): the
//!   schedule, the transport with the relays' secrets, the DKIM signer, the lease owner,
//!   wired into the pipeline's [`crate::pipeline::RunContext`].
//! - [`scheduler`]: the loop of `paperpost serve` — ask [`crate::schedule`] (pure: what is
//!   due when) and run [`crate::pipeline::run_due`] at each wake-up, until stopped.
pub mod runtime;
pub mod scheduler;

pub use runtime::Runtime;
pub use scheduler::{next_wake, run_due, run_until_stopped};
