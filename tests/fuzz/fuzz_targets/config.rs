//! Fuzz target `config`: see `paperpost::fuzzing::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::config(data));
