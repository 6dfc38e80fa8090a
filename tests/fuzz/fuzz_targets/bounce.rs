//! Fuzz target `bounce`: see `paperpost::fuzzing::bounce`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::bounce(data));
