//! PIPELINE: the steps of a run — fetch, plan an edition, send — each callable alone (the
//! CLI commands) or together (`run`, the scheduler). This is the only module that calls
//! every stage; the stages themselves know nothing of each other.
mod compose;
mod editorial;
mod fetch;
mod options;
mod plan;
mod plan_settings;
mod preview;
mod run;
mod seed;
mod send;
mod status;
mod test_send;
mod vectors;

pub use compose::{
    Composer, DigestRenderer, MessageComposer, StoredDigest, links_for, recipient, render_sent,
};
pub use fetch::{FetchJob, FetchSummary, fetch};
pub use options::{NewsletterOptions, RunContext, SendOptions};
pub use plan::{PlanSummary, plan_edition};
pub use plan_settings::PlanSettings;
pub use preview::{
    digest_for_topics, preview_digest, preview_page, preview_reader_digest, reader_digest,
};
pub(crate) use run::readers_blocking;
pub use run::{
    Due, EDITION_LEASE, EditionRun, FETCH_LEASE, FetchWhen, LAST_FETCH, LAST_TICK, RunEvent,
    RunOptions, RunOutcome, per_newsletter, period_for, reader_period_for, readers, run_due,
};
pub use seed::{SeedError, SeedOutcome, SeedReport, SeedRequest, base_name, seed_profile};
pub use send::send_with;
pub use status::status_report;
pub use test_send::{TestMessage, TestSent, TestTarget, compose_test, send_test, test_digest};
pub use vectors::{embed_stored_papers, paper_vectors};
