//! The application level, above the pipeline, the schedule and the web: what runs them
//! together in one process.
//!
//! - [`scheduler`]: the loop of `paperpost serve` — ask [`crate::schedule`] (pure: what is
//!   due when) and run [`crate::pipeline::run_due`] at each wake-up, until stopped.
pub mod scheduler;

pub use scheduler::{next_wake, run_due, run_until_stopped};
