//! The integration tests `tests/run.sh` runs once, on its first pass, in one test binary:
//! the PostgreSQL pass (`PAPERPOST_TEST_BACKEND=postgres`) would only repeat them, because
//! they touch no store (the sources, the fuzz regressions, the email lint, the relevance
//! floors) or only one they are not about (serve's connection caps, `web_connections`),
//! choose their backend whatever the variable says
//! (`store_copy` and `postgres_senders`: always PostgreSQL, on a throwaway server this
//! process starts on first use), or are about the SQLite file itself (`delivery_full_disk`).
//!
//! One area: `cargo test --test single_pass relevance::`. The store-touching tests, run on
//! both backends, live in `tests/suite/`; `tests/sources_huge_input.rs` is a binary of its
//! own (it measures its process's peak memory).
#[path = "../support/mod.rs"]
mod support;

mod delivery_full_disk;
mod fuzz_regressions;
mod lint;
mod postgres_senders;
mod relevance;
mod sources_bad_input;
mod sources_http;
mod store_copy;
mod web_connections;
