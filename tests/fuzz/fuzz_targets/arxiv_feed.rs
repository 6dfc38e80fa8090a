//! Fuzz target `arxiv_feed`: see `paperpost::fuzzing::arxiv_feed`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paperpost::fuzzing::arxiv_feed(data));
