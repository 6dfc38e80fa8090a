//! Fuzz target `library`: see `paperpost::fuzzing::library`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::library(data));
