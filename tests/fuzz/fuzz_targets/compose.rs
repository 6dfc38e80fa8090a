//! Fuzz target `compose`: see `paperpost::fuzzing::compose`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::compose(data));
