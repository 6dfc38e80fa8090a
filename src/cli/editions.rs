//! `paperpost editions`: the editions planned so far, and what can be done to one.
use clap::{Args, Subcommand};

use crate::config::Settings;
use crate::domain::count;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct EditionsArgs {
    #[command(subcommand)]
    command: Option<EditionsCommand>,
    /// How many editions to list, newest first.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

/// What can be done to one edition (one variant per subcommand).
#[derive(Debug, Subcommand)]
enum EditionsCommand {
    /// Withdraw what an edition has not delivered yet — pending, retrying and empty
    /// (skipped) digests, and digests only written as .eml files — and forget that their
    /// papers were sent to those readers, so the next `send` plans them again (with the
    /// papers fetched since). Digests already delivered (or maybe delivered: unknown),
    /// failed ones and those being sent right now stay.
    Cancel {
        /// The edition's id or key (as `paperpost editions` lists them, e.g. 2026-W48).
        edition: String,
    },
    #[command(flatten)]
    Editorial(super::editorial::EditorialCommand),
}

pub(super) fn run(settings: &Settings, store: &Store, args: EditionsArgs) -> anyhow::Result<i32> {
    match args.command {
        None => list(store, args.limit),
        Some(EditionsCommand::Cancel { edition }) => cancel(store, &edition),
        Some(EditionsCommand::Editorial(cmd)) => super::editorial::run(settings, store, cmd),
    }
}

fn list(store: &Store, limit: usize) -> anyhow::Result<i32> {
    let editions = store.edition_summaries(limit)?;
    if editions.is_empty() {
        println!("no editions yet; `paperpost send` plans this period's");
        return Ok(0);
    }
    println!(
        "{:>4}  {:<12} {:<17} deliveries",
        "id", "edition", "planned at (UTC)"
    );
    for e in editions {
        let mut counts: Vec<String> = e
            .counts
            .iter()
            .map(|(state, n)| format!("{n} {state}"))
            .collect();
        if counts.is_empty() {
            counts.push("none".into());
        }
        let files = if e.written_to_files > 0 {
            format!(" ({} only written as .eml files)", e.written_to_files)
        } else {
            String::new()
        };
        println!(
            "{:>4}  {:<12} {:<17} {}{files}",
            e.id,
            e.period_key,
            e.planned_at.format("%Y-%m-%d %H:%M"),
            counts.join(", ")
        );
    }
    Ok(0)
}

fn cancel(store: &Store, edition: &str) -> anyhow::Result<i32> {
    let Some((id, _)) = store.find_edition(edition)? else {
        eprintln!("no edition {edition}; `paperpost editions` lists them");
        return Ok(1);
    };
    let out = store.cancel_edition(id)?;
    println!(
        "edition {}: withdrew {}, {} kept (delivered, failed or in flight)",
        out.period_key,
        count(out.withdrawn, "undelivered digest", "undelivered digests"),
        out.kept
    );
    if out.withdrawn > 0 {
        println!("`paperpost send` plans this period again for those readers");
    }
    tracing::info!(
        edition = %out.period_key,
        withdrawn = out.withdrawn,
        papers_unmarked = out.papers_unmarked,
        removed = out.edition_removed,
        "cancelled an edition's undelivered digests"
    );
    Ok(0)
}
