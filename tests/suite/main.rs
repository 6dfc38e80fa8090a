//! The integration tests that touch the store, in one test binary: the library and the
//! `paperpost` binary are linked into it once, and on the PostgreSQL pass
//! (`PAPERPOST_TEST_BACKEND=postgres`) one throwaway server serves every test here (started
//! on first use, stopped when this process exits; each test takes fresh databases). A module
//! per area; `tests/run.sh` runs this binary on SQLite, then again on PostgreSQL.
//!
//! One area: `cargo test --test suite bounces::` (a filter matches any part of a test's
//! `module::name`); one test: `cargo test --test suite -- --exact
//! web::every_route_answers_with_the_security_headers`. The tests the PostgreSQL pass does
//! not repeat live in `tests/single_pass/`; a new module goes here when its tests read or
//! write the store a test's config names (SQLite or PostgreSQL alike).
#[path = "../support/mod.rs"]
mod support;

mod bounces;
mod browser;
mod cli;
mod delivery_crash;
mod delivery_dkim;
mod delivery_endings;
mod delivery_faults;
mod delivery_names;
mod digest_delivery;
mod editorial;
mod guard;
mod library;
mod newsletters;
mod operator;
mod reader_tokens;
mod schedule;
mod serve;
mod sign_in;
mod sources_feeds;
mod store_backends;
mod web;
