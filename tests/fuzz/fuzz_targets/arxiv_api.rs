//! Fuzz target `arxiv_api`: see `paperpost::fuzzing::arxiv_api`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::arxiv_api(data));
