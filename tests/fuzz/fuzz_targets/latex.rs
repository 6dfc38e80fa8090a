//! Fuzz target `latex`: see `paperpost::fuzzing::latex`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::latex(data));
