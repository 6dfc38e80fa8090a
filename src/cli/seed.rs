//! `paperpost subscribers seed EMAIL FILE`: a reader's library file seeds their profile.
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::domain::{SeedMode, count};
use crate::library::{Format, MAX_LIBRARY_BYTES};
use crate::pipeline::{SeedError, SeedOutcome, SeedReport, SeedRequest, seed_profile};
use crate::store::Store;

// `--help` text: the doc comment of `SubscribersCommand::Seed`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["file", "clear"])))]
pub struct SeedArgs {
    /// The reader's address (any letter case).
    email: String,
    /// The library file (at most 16 MiB).
    file: Option<PathBuf>,
    /// The file's format; default: detected from the content, then the file name
    /// (`.bib`, `.ris`, `.json`, `.csv`).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Drop the reader's earlier seeds first (default: add to them).
    #[arg(long, conflicts_with = "clear")]
    replace: bool,
    /// Read the file and match it to stored papers; store nothing.
    #[arg(long, conflicts_with = "clear")]
    dry_run: bool,
    /// Import the good entries of a file that has bad ones (each still reported).
    #[arg(long, conflicts_with = "clear")]
    skip_bad: bool,
    /// Forget every seed of the reader (no FILE).
    #[arg(long, conflicts_with = "file")]
    clear: bool,
}

pub(super) fn run(store: &Store, args: SeedArgs) -> anyhow::Result<i32> {
    let Some(sub) = store.subscriber_by_email(&args.email)? else {
        eprintln!("no subscriber {}", args.email);
        return Ok(1);
    };
    if args.clear {
        let n = store.clear_seeds(sub.id)?;
        println!("cleared {} of {}", count(n, "seed", "seeds"), sub.email);
        return Ok(0);
    }
    let Some(path) = args.file else {
        anyhow::bail!("name the library FILE (or --clear)");
    };
    let data = read_bounded(&path)?;
    let request = SeedRequest {
        file_name: &path.to_string_lossy(),
        data: &data,
        format: args.format,
        mode: if args.replace {
            SeedMode::Replace
        } else {
            SeedMode::Merge
        },
        dry_run: args.dry_run,
        skip_bad: args.skip_bad,
    };
    let report = match seed_profile(store, sub.id, &request, Utc::now()) {
        Ok(r) => r,
        Err(SeedError::Read { source, .. }) => {
            eprintln!("{}: {source}; nothing imported", path.display());
            return Ok(1);
        }
        Err(e) => return Err(e.into()),
    };
    print_report(&path, sub.email.as_ref(), &report);
    Ok(if report.outcome.succeeded() { 0 } else { 1 })
}

/// The file's bytes, refusing one larger than a library file may be without reading it all.
fn read_bounded(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let mut data = Vec::new();
    file.take(MAX_LIBRARY_BYTES as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    Ok(data)
}

fn print_report(path: &Path, email: &str, r: &SeedReport) {
    let file = path.display();
    for bad in &r.bad {
        eprintln!("{file}:{}: bad entry: {}", bad.line, bad.reason);
    }
    let mut read = format!(
        "read {} from {file} ({})",
        count(r.entries, "entry", "entries"),
        r.format
    );
    if r.papers != r.entries {
        read.push_str(&format!(
            ", {} distinct",
            count(r.papers, "paper", "papers")
        ));
    }
    if r.skipped > 0 {
        read.push_str(&format!(
            "; {} skipped (sets, not papers)",
            count(r.skipped, "block", "blocks")
        ));
    }
    if !r.bad.is_empty() {
        read.push_str(&format!(
            "; {}",
            count(r.bad.len(), "bad entry", "bad entries")
        ));
    }
    println!("{read}");
    println!(
        "  {} matched stored papers (they count as liked), {} kept as profile documents \
         from the file's title and abstract",
        r.matched, r.kept
    );
    match r.outcome {
        SeedOutcome::DryRun => println!("dry run: nothing stored"),
        SeedOutcome::RefusedBadEntries => eprintln!(
            "nothing imported: fix the {} above, or import the {} with --skip-bad",
            count(r.bad.len(), "bad entry", "bad entries"),
            count(r.entries, "good one", "good ones")
        ),
        SeedOutcome::NothingToImport => {
            eprintln!("nothing imported: the file has no paper to seed")
        }
        SeedOutcome::OverCap { would_hold, max } => eprintln!(
            "nothing imported: {email} would hold {would_hold} seeds, and a reader keeps at \
             most {max} (import a smaller collection, or --replace the earlier seeds)"
        ),
        SeedOutcome::Imported(t) => {
            let mut what = format!(
                "seeded {email}'s profile: {} added, {} updated, {} unchanged",
                t.added, t.updated, t.unchanged
            );
            if t.removed > 0 {
                what.push_str(&format!(" ({} removed first)", t.removed));
            }
            println!("{what}; {} in all", count(t.total, "seed", "seeds"));
        }
    }
}
