//! The digest's HTML against the caniemail data (`@jsx-email/doiuse-email`, installed by
//! tests/run.sh into tests/lint/node_modules): at most 20 distinct unsupported
//! feature × client pairs over Gmail, Outlook and Apple Mail. Each remaining one is a
//! progressive enhancement with an inline fallback (dark mode and phone tweaks in `<style>`,
//! rounded corners, the hidden preheader).
use std::path::Path;
use std::process::Command;

use paperpost::domain::{Digest, EditorsPick, EditorsSection};
use paperpost::render::{render_digest, sample_context, sample_digest};

const MAX_PAIRS: usize = 20;

#[test]
fn a_realistic_digest_has_at_most_20_unsupported_feature_client_pairs() {
    // Arrange: a 20-paper digest with every field (thumbnails, AI summaries, keywords, links),
    // the editor's note and two pinned papers with notes.
    let base = url::Url::parse("https://papers.example.org/").unwrap();
    let ctx = sample_context(&base);
    let sample = sample_digest(20);
    let editors = EditorsSection {
        note: Some("A week of long contexts. Notes at https://example.org/notes.".into()),
        picks: sample.picks()[..2]
            .iter()
            .map(|p| EditorsPick {
                paper: p.paper.clone(),
                note: Some("Read this one first.".into()),
            })
            .collect(),
    };
    let digest = Digest::with_editors(
        sample.period(),
        editors,
        sample.picks()[2..].to_vec(),
        Vec::new(),
        false,
        sample.generated_at(),
    )
    .unwrap();
    let html = render_digest(&digest, &ctx).html;
    assert!(html.contains("From the editor") && html.contains("Read this one first."));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("digest.html");
    std::fs::write(&file, &html).unwrap();
    let lint_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint");
    assert!(
        lint_dir
            .join("node_modules/@jsx-email/doiuse-email")
            .is_dir(),
        "run tests/run.sh (or `npm ci` in tests/lint) to install the caniemail linter"
    );

    // Act
    let out = Command::new("node")
        .arg(lint_dir.join("lint.mjs"))
        .arg(&file)
        .current_dir(&lint_dir)
        .output()
        .expect("node runs");

    // Assert
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pairs: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("pairs: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `pairs:` line in:\n{stdout}"));
    println!(
        "caniemail: {pairs} unsupported feature × client pairs (Gmail, Outlook, Apple Mail)\n{stdout}"
    );
    assert!(
        pairs <= MAX_PAIRS,
        "{pairs} pairs (at most {MAX_PAIRS}):\n{stdout}"
    );
}
