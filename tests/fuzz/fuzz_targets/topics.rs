//! Fuzz target `topics`: see `paperpost::fuzzing::topics`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::topics(data));
