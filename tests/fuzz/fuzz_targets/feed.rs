//! Fuzz target `feed`: see `paperpost::fuzzing::feed`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::feed(data));
