//! Fuzz target `paperpost_json`: see `paperpost::fuzzing::paperpost_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::paperpost_json(data));
