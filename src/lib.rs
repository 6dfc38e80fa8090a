//! paperpost: trending research papers in your inbox.
//!
//! # Layout
//! The pipeline runs in one direction, each stage in one place:
//! - [`sources`]: fetch papers (HF Daily Papers, arXiv feeds and API, local files) into [`domain::Paper`].
//! - [`store`]: the one handle on the database (SQLite by default, PostgreSQL for several
//!   senders); every query lives there, each operation written once for both.
//! - [`library`]: pure — a reader's own bibliography (BibTeX, RIS, CSL-JSON, CSV) read into
//!   the papers that seed their profile (`subscribers seed`, the preferences page's upload).
//! - [`selection`]: pure — which stored papers each subscriber gets, and why.
//! - [`embed`]: pure once loaded — a static sentence-embedding model (title + abstract →
//!   vector of length 1), the default compiled in from `templates/models/`.
//! - [`recommend`]: pure — "more like what you liked": a per-reader linear model over the
//!   tf-idf vectors of every stored paper, from the papers each reader liked and disliked.
//! - [`render`]: pure — a [`domain::Digest`] to HTML + text with maud (`templates/` holds the CSS and copy).
//! - [`delivery`]: a rendered digest to a lettre message, sent over SMTP or written as `.eml`.
//! - [`bounces`]: `paperpost bounces ingest` — DSNs and complaints to suppressions.
//! - [`pipeline`]: one run — fetch, store, select, render, deliver; the CLI and scheduler call it.
//! - [`schedule`]: pure — when to fetch and send (cron in a time zone).
//! - [`web`]: `paperpost serve`'s pages (subscribe, confirm, preferences, unsubscribe, archive,
//!   preview, and the operators' sign-in and status page), reusing the store and the renderer.
//! - [`security`]: the server's key (it keys CSRF fields and rate-limit hashes) and readers'
//!   link tokens, one per purpose.
//! - [`config`]: `config.toml` parsed into typed settings once, at start-up.
//!
//! - [`app`]: the application level — the runtime made once per process from the config
//!   ([`app::Runtime`]: the schedule, the transport with the relays' secrets, the DKIM
//!   signer, the lease owner) and the scheduler's loop that runs the pipeline when the
//!   schedule says so.
//!
//! Layers, lowest first; a module imports only from its own layer or those below:
//! 1. [`domain`], [`security`]: the vocabulary, no I/O.
//! 2. The stages — [`sources`], [`store`], [`library`], [`selection`], [`embed`],
//!    [`recommend`], [`render`], [`delivery`], [`bounces`] — each with its own options type
//!    (the store opens from [`store::StoreOptions`], which `config` builds from `[store]`) —
//!    and [`schedule`], pure: what is due when.
//! 3. [`pipeline`]: one run of the stages; then [`web`], which reuses them.
//! 4. [`app`], [`config`] and [`cli`]: read the file, assemble the stages, run them.
//!
//! The status report is a query in [`pipeline`] (`pipeline::status_report`) over the
//! store and the schedule, and two views in [`render`] (text and page) of its
//! [`domain::StatusReport`].
//!
//! Each stage's `config.toml` section is its own type, with its checks, in the stage
//! (`sources::FetchSettings`, `selection::SelectionSettings`, `render::RenderSettings`,
//! `delivery::DeliverySettings`, `bounces::BounceSettings`, `schedule::ScheduleSettings`,
//! `web::WebSettings`); a check names its key as a [`domain::BadSetting`] and `config` adds
//! the file and the line. `config` keeps `[newsletter]` / `[[newsletters]]` and `[store]`
//! (which it turns into [`store::StoreOptions`]). Several newsletters share one store: each
//! is a view of the settings (`config::Settings::view`) and a store handle scoped to its
//! slug ([`store::Store::for_newsletter`]); the rows that belong to one newsletter
//! (subscriptions, editions, notes, pins, guard pauses) carry it.
//!
//! What the pipeline reads are its own options, which `config` builds from a newsletter's
//! view: [`pipeline::PlanSettings`] (planning), [`pipeline::FetchJob`] (fetching),
//! [`pipeline::NewsletterOptions`] (the newsletter's name, address, zone, headers and look:
//! previews, test sends, composing) and [`pipeline::SendOptions`] (the transport, the DKIM
//! signer, `[delivery]`'s bounce address, guard and engine tuning). [`app::Runtime`] wires
//! them once per process, with the schedule and a lease owner, into the
//! [`pipeline::RunContext`] every run reads (`run_due`, `send`, `serve --once`, the
//! scheduler's ticks). So no import runs up a layer: the stages, [`schedule`] and
//! [`pipeline`] import nothing from `config`, `app`, `cli` or `web`, and [`web`] nothing
//! from `config`, `app` or `cli`.
//!
//! Test-only helpers (`store::test_server`, `Store::for_tests`, the fuzzers' entry points
//! in `fuzzing`, the sample digest) compile only with the `test-support` feature, which the
//! test and bench targets turn on through the crate's self dev-dependency.
#![forbid(unsafe_code)]

pub mod app;
pub mod bounces;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod embed;
#[cfg(any(test, feature = "test-support"))]
pub mod fuzzing;
pub mod library;
pub mod pipeline;
pub mod recommend;
pub mod render;
pub mod schedule;
pub mod security;
pub mod selection;
pub mod sources;
pub mod store;
pub mod telemetry;
pub mod web;

/// Shared by the property tests: failing cases are kept beside each test file
/// (`*.regressions`), not in a folder at the top of the repository.
#[cfg(test)]
pub(crate) mod test_support {
    pub(crate) fn proptest_config(cases: u32) -> proptest::prelude::ProptestConfig {
        proptest::prelude::ProptestConfig {
            failure_persistence: Some(Box::new(
                proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
            )),
            ..proptest::prelude::ProptestConfig::with_cases(cases)
        }
    }

    /// A paper id from an arXiv id the test knows is valid.
    pub(crate) fn arxiv_id(s: &str) -> crate::domain::PaperId {
        crate::domain::PaperId::parse_arxiv(s).unwrap().0
    }

    /// Adds an active reader with no topics; returns their id.
    pub(crate) fn add_reader(store: &crate::store::Store, email: &str) -> i64 {
        use crate::domain::{NewSubscriber, SubscriberEmail, Topics};
        store
            .add_subscriber(
                &NewSubscriber::active(SubscriberEmail::parse(email).unwrap(), Topics::default()),
                chrono::Utc::now(),
            )
            .unwrap()
            .id
    }
}
