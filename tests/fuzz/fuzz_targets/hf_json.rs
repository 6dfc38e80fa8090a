//! Fuzz target `hf_json`: see `paperpost::fuzzing::hf_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::hf_json(data));
