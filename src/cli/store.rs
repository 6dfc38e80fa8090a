//! `paperpost store copy`: parse the target, call [`Store::copy_to`], print the report.
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::store::{CopyProgress, PostgresOptions, PostgresTls, Store};

/// `paperpost store …`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy this store (the SQLite file the config's `[store]` points at) into an empty
    /// PostgreSQL database, every table with its ids, so links already mailed keep working.
    ///
    /// Stop `serve`/`send` first (a store with a lease still held is refused). The target must be new and empty, or an earlier copy of
    /// this same store: running the copy again copies nothing twice and finishes a copy
    /// that was interrupted. Every table's rows are counted on both sides afterwards; the
    /// command fails (exit 2) naming each table that differs. Not copied: `locks`, the old
    /// host's scheduler leases. Only SQLite to PostgreSQL is supported.
    ///
    /// Afterwards set `[store] url` (and `password_env`, `tls`, `ca_file`) in the config to
    /// the copy and run `paperpost check-config`.
    Copy(CopyArgs),
    /// The newsletters the store holds readers or editions of, by slug, with their counts,
    /// and whether the config has each (a slug the config lacks: its readers get nothing).
    Newsletters,
    /// Give newsletter FROM's rows (readers, editions and their deliveries, the editor's
    /// notes and picks, guard pauses) the slug TO, after its slug changed in the config —
    /// e.g. `main`, the slug of a lone `[newsletter]`, when it becomes one of several
    /// `[[newsletters]]`. One transaction; refused when TO already has rows. Stop
    /// `serve`/`send` first.
    RenameNewsletter { from: String, to: String },
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The PostgreSQL database to copy into: `postgres://user@host:5432/dbname` (create the
    /// database first; paperpost creates its tables). Keep the password out of it: use
    /// --password-env.
    #[arg(long, value_name = "URL")]
    to: String,
    /// The environment variable holding the target's password.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// TLS to the target: disable, prefer or require (the certificate is always verified
    /// when TLS is used).
    #[arg(long, value_enum, default_value = "prefer")]
    tls: TlsArg,
    /// A PEM file of the CA that signed the target server's certificate (a private CA).
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum TlsArg {
    Disable,
    Prefer,
    Require,
}

pub(super) fn run(
    settings: &crate::config::Settings,
    store: &Store,
    cmd: StoreCommand,
) -> anyhow::Result<i32> {
    match cmd {
        StoreCommand::Copy(args) => copy(store, args),
        StoreCommand::Newsletters => {
            let known = settings.slugs();
            for n in store.newsletters_in_store()? {
                let note = if known.contains(&n.slug.as_str()) {
                    ""
                } else {
                    "  NOT IN THE CONFIG: nothing is sent to these readers"
                };
                println!(
                    "{}\t{} subscribers\t{} editions{note}",
                    n.slug, n.subscribers, n.editions
                );
            }
            Ok(0)
        }
        StoreCommand::RenameNewsletter { from, to } => {
            if let Err(e) = crate::config::check_slug(&to) {
                anyhow::bail!("{e}");
            }
            let moved = store.rename_newsletter(&from, &to)?;
            let total: u64 = moved.iter().map(|(_, n)| n).sum();
            let parts: Vec<String> = moved.iter().map(|(t, n)| format!("{t} {n}")).collect();
            println!(
                "moved {total} rows from `{from}` to `{to}` ({})",
                parts.join(", ")
            );
            if !settings.slugs().contains(&to.as_str()) {
                eprintln!("warning: the config has no newsletter with the slug `{to}`");
            }
            Ok(0)
        }
    }
}

fn copy(store: &Store, args: CopyArgs) -> anyhow::Result<i32> {
    if store.is_postgres() {
        anyhow::bail!(
            "the config's [store] is already PostgreSQL ({}); store copy copies an SQLite \
             store into PostgreSQL: point [store] at the SQLite file to copy (remove `url`)",
            store.location()
        );
    }
    let password = match &args.password_env {
        None => None,
        Some(var) => Some(std::env::var(var).with_context(|| {
            format!("--password-env names the environment variable {var}, which is not set")
        })?),
    };
    let options = PostgresOptions {
        url: args.to,
        password,
        tls: match args.tls {
            TlsArg::Disable => PostgresTls::Disable,
            TlsArg::Prefer => PostgresTls::Prefer,
            TlsArg::Require => PostgresTls::Require,
        },
        ca_file: args.ca_file,
        max_connections: 2,
    };
    let target = Store::open_postgres(&options)
        .with_context(|| format!("Failed to open the target --to {}", redact(&options.url)))?;
    println!("copying {} into {}", store.location(), target.location());
    let mut bar: Option<(&'static str, indicatif::ProgressBar)> = None;
    let mut progress = |p: CopyProgress| {
        if bar.as_ref().is_none_or(|(t, _)| *t != p.table) {
            if let Some((_, b)) = bar.take() {
                b.finish_and_clear();
            }
            bar = Some((p.table, super::progress_bar(Some(p.total), p.table)));
        }
        if let Some((_, b)) = &bar {
            b.set_position(p.done);
        }
    };
    let result = store.copy_to(&target, &mut progress);
    if let Some((_, b)) = bar.take() {
        b.finish_and_clear();
    }
    let report = result?;
    println!(
        "{:<20} {:>10} {:>10} {:>10}",
        "table", "source", "copy", "new"
    );
    for t in &report.tables {
        println!(
            "{:<20} {:>10} {:>10} {:>10}",
            t.table, t.source_rows, t.target_rows, t.inserted
        );
    }
    println!(
        "copied: every table has as many rows in the copy as in the source ({} new rows this \
         run; not copied: {})",
        report.inserted(),
        report.left_out.join(", ")
    );
    println!(
        "next: set [store] url = \"{}\" (with password_env/tls/ca_file as needed) in the \
         config, then run `paperpost check-config`",
        redact(&options.url)
    );
    Ok(0)
}

/// The URL without a password in it, for printing.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}
