//! Fuzz target `csv_import`: see `paperpost::fuzzing::csv_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::csv_import(data));
