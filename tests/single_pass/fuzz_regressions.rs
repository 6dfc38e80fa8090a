//! Every input the fuzzers found a crash with (`tests/fuzz/regressions/<target>/`), every
//! hand-written seed (`tests/fuzz/seeds/<target>/`) and the recorded fixtures that seed the
//! fuzzers go through the same wrapper as the fuzz target (`paperpost::fuzzing`): none may
//! panic, and each holds the target's properties (round trips and the like). The fuzzers
//! themselves run only from `tests/fuzz/run.sh` (too long for the suite).
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use paperpost::fuzzing::TARGETS;

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// The recorded fixtures that seed a target (the same choice as `tests/fuzz/run.sh`).
fn fixture_seeds(target: &str) -> Vec<PathBuf> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    if target == "library" {
        return files_in(&fixtures.join("library"));
    }
    let prefixes: &[&str] = match target {
        "hf_json" => &["hf_daily_papers_"],
        "arxiv_feed" => &["arxiv_rss_"],
        "feed" => &["feed_", "biorxiv_"],
        "arxiv_api" => &["arxiv_api_"],
        "paperpost_json" => &["paperpost_list_", "hf_daily_papers_item_"],
        _ => &[],
    };
    files_in(&fixtures)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            prefixes.iter().any(|pre| name.starts_with(pre)) && !name.ends_with(".md")
        })
        .collect()
}

/// Runs every input of `kind` (`regressions` or `seeds`) through its target; returns how
/// many ran and the failures, each with its file and panic message.
fn replay(kind: &str) -> (usize, Vec<String>) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut ran = 0;
    let mut failures = Vec::new();
    for (target, run) in TARGETS {
        let mut inputs = files_in(&fuzz.join(kind).join(target));
        if kind == "seeds" {
            inputs.extend(fixture_seeds(target));
        }
        for path in inputs {
            let data = std::fs::read(&path).unwrap();
            ran += 1;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(&data))) {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                failures.push(format!("{target} {}: {message}", path.display()));
            }
        }
    }
    (ran, failures)
}

#[test]
fn no_input_a_fuzzer_crashed_on_panics_any_more() {
    let (ran, failures) = replay("regressions");
    assert!(
        ran > 0,
        "no regression inputs found under tests/fuzz/regressions"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_seed_and_recorded_fixture_goes_through_its_target_without_a_panic() {
    let (ran, failures) = replay("seeds");
    assert!(ran >= 30, "only {ran} seeds found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fuzz_target_has_seeds() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    for (target, _) in TARGETS {
        let n = files_in(&fuzz.join("seeds").join(target)).len() + fixture_seeds(target).len();
        assert!(n > 0, "fuzz target {target} has no seeds");
        assert!(
            fuzz.join("fuzz_targets")
                .join(format!("{target}.rs"))
                .is_file(),
            "fuzz target {target} has no tests/fuzz/fuzz_targets/{target}.rs"
        );
    }
}
