//! Fuzz target `web_form`: see `paperpost::fuzzing::web_form`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::web_form(data));
