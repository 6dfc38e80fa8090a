//! Seeding a reader's profile from their library file — the one path `subscribers seed`
//! and the preferences page's upload share: read the file ([`crate::library`]), refuse it
//! whole when an entry is bad (unless told to skip bad ones), match the entries to stored
//! papers, then store them in one transaction (or only say what would happen).
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::domain::{MAX_SEEDS_PER_READER, SeedImport, SeedMode, SeedSource, SeedTally};
use crate::library::{self, BadEntry, Format, ReadError};
use crate::store::{Store, StoreError};

/// What to do with a library file.
#[derive(Debug, Clone)]
pub struct SeedRequest<'a> {
    /// The file's name as the reader gave it (its folders are dropped).
    pub file_name: &'a str,
    pub data: &'a [u8],
    /// Forced format; else detected from the content and the name.
    pub format: Option<Format>,
    pub mode: SeedMode,
    /// Read and match, store nothing.
    pub dry_run: bool,
    /// Import the good entries of a file that has bad ones (else nothing is imported).
    pub skip_bad: bool,
}

/// What seeding did, for the CLI's and the web page's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub file_name: String,
    pub format: Format,
    /// Good entries read.
    pub entries: usize,
    /// Distinct papers among them (a paper listed twice counts once).
    pub papers: usize,
    /// Of the distinct papers, those naming a stored paper.
    pub matched: usize,
    /// Of the distinct papers, those kept from the file's own title and abstract.
    pub kept: usize,
    /// Blocks that are not papers (BibLaTeX `@set`, `@xdata`).
    pub skipped: usize,
    pub bad: Vec<BadEntry>,
    pub outcome: SeedOutcome,
}

/// How seeding ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    /// `--dry-run`: nothing stored.
    DryRun,
    /// The file has bad entries: nothing stored.
    RefusedBadEntries,
    /// The file has no paper to seed (only bad entries, skipped, or containers).
    NothingToImport,
    /// The reader would hold more seeds than the cap: nothing stored.
    OverCap {
        would_hold: usize,
        max: usize,
    },
    Imported(SeedTally),
}

impl SeedOutcome {
    /// Whether the file's seeds are stored (or, in a dry run, would be).
    pub fn succeeded(&self) -> bool {
        matches!(self, SeedOutcome::DryRun | SeedOutcome::Imported(_))
    }
}

/// Why a file could not be seeded at all.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{file}: {source}")]
    Read {
        file: String,
        #[source]
        source: ReadError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Seeds reader `subscriber_id`'s profile from a library file (see the module docs).
#[tracing::instrument(name = "Seeding a profile", skip(store, request, now), fields(file = request.file_name))]
pub fn seed_profile(
    store: &Store,
    subscriber_id: i64,
    request: &SeedRequest<'_>,
    now: DateTime<Utc>,
) -> Result<SeedReport, SeedError> {
    let file_name = base_name(request.file_name);
    let lib = library::read(request.data, Some(&file_name), request.format).map_err(|source| {
        SeedError::Read {
            file: file_name.clone(),
            source,
        }
    })?;
    let mut seeds: Vec<_> = lib.entries.iter().map(|e| e.to_seed()).collect();
    let matches = store.match_seeds(&seeds)?;
    for (seed, paper) in seeds.iter_mut().zip(matches) {
        seed.paper = paper;
    }
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<_> = seeds
        .iter()
        .filter(|s| seen.insert(s.key.clone()))
        .collect();
    let matched = distinct.iter().filter(|s| s.paper.is_some()).count();
    let mut report = SeedReport {
        file_name: file_name.clone(),
        format: lib.format,
        entries: lib.entries.len(),
        papers: distinct.len(),
        matched,
        kept: distinct.len() - matched,
        skipped: lib.skipped,
        bad: lib.bad,
        outcome: SeedOutcome::DryRun,
    };
    if !report.bad.is_empty() && !request.skip_bad {
        report.outcome = SeedOutcome::RefusedBadEntries;
        return Ok(report);
    }
    if distinct.is_empty() {
        report.outcome = SeedOutcome::NothingToImport;
        return Ok(report);
    }
    if request.dry_run {
        return Ok(report);
    }
    let source = SeedSource {
        file_name,
        format: lib.format.as_str().to_string(),
        content_hash: hex::encode(Sha256::digest(request.data)),
    };
    report.outcome = match store.import_seeds(
        subscriber_id,
        &source,
        &seeds,
        request.mode,
        MAX_SEEDS_PER_READER,
        now,
    )? {
        SeedImport::Imported(tally) => SeedOutcome::Imported(tally),
        SeedImport::OverCap { would_hold, max } => SeedOutcome::OverCap { would_hold, max },
    };
    tracing::info!(subscriber = subscriber_id, outcome = ?report.outcome, "seeded a profile");
    Ok(report)
}

/// A file name without its folders (a browser may send `C:\Users\…\My Library.bib`), at
/// most 200 characters, never empty.
pub fn base_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    let base: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if base.is_empty() {
        "library".into()
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_keeps_no_folders() {
        assert_eq!(
            base_name("C:\\Users\\ada\\My Library.bib"),
            "My Library.bib"
        );
        assert_eq!(base_name("/home/ada/lib.ris"), "lib.ris");
        assert_eq!(base_name(""), "library");
    }
}
