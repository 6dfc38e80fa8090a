use chrono::Utc;
use clap::{Args, Subcommand};

use crate::domain::DeliveryState;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    #[command(subcommand)]
    command: Option<DeliveriesCommand>,
    /// How many failures to list.
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Debug, Subcommand)]
enum DeliveriesCommand {
    /// Put failed and/or unknown deliveries back in the queue (the next send delivers them).
    Retry {
        /// Re-queue `failed` ones.
        #[arg(long)]
        failed: bool,
        /// Re-queue `unknown` ones (they may have been delivered already).
        #[arg(long)]
        unknown: bool,
        /// Only this edition (e.g. 2026-W48).
        #[arg(long)]
        edition: Option<String>,
    },
    /// The suppression list (addresses that hard-bounced, soft-bounced too often or
    /// complained), with the reason.
    Suppressed,
    /// Take an address off the suppression list (e.g. a mailbox that works again): later
    /// sends mail it again. Failed deliveries stay failed (`retry --failed` re-queues them).
    Unsuppress {
        /// The address (any letter case).
        email: String,
    },
}

pub(super) fn run(store: &Store, args: DeliveriesArgs) -> anyhow::Result<i32> {
    match args.command {
        None => show(store, args.limit),
        Some(DeliveriesCommand::Retry {
            failed,
            unknown,
            edition,
        }) => {
            let mut states = Vec::new();
            if failed || !unknown {
                states.push(DeliveryState::Failed);
            }
            if unknown {
                states.push(DeliveryState::Unknown);
            }
            let n = store.requeue_deliveries(&states, edition.as_deref(), Utc::now())?;
            println!("re-queued {n} deliveries; run `paperpost send` to deliver them");
            Ok(0)
        }
        Some(DeliveriesCommand::Unsuppress { email }) => {
            let Some(was) = store.suppression(&email)? else {
                eprintln!("{email} is not suppressed; nothing changed");
                return Ok(1);
            };
            store.unsuppress(&email, chrono::Utc::now())?;
            println!("{email} is no longer suppressed (was: {})", was.reason);
            Ok(0)
        }
        Some(DeliveriesCommand::Suppressed) => {
            for (email, reason) in store.suppressions()? {
                println!("{email}\t{reason}");
            }
            Ok(0)
        }
    }
}

fn show(store: &Store, limit: usize) -> anyhow::Result<i32> {
    let counts = store.delivery_counts()?;
    if counts.is_empty() {
        println!("no editions yet");
        return Ok(0);
    }
    println!(
        "{:<12} {}",
        "edition",
        DeliveryState::ALL
            .map(|s| format!("{:>8}", s.as_str()))
            .join("")
    );
    for c in &counts {
        let row: Vec<String> = DeliveryState::ALL
            .iter()
            .map(|st| {
                format!(
                    "{:>8}",
                    c.counts
                        .iter()
                        .find(|(s, _)| s == st)
                        .map_or(0, |(_, n)| *n)
                )
            })
            .collect();
        let reclaimed = if c.reclaimed > 0 {
            format!(
                "  ({} taken over from a run that crashed or stopped on an error)",
                c.reclaimed
            )
        } else {
            String::new()
        };
        println!("{:<12} {}{reclaimed}", c.period_key, row.join(""));
    }
    let bounces = store.edition_bounces()?;
    if !bounces.is_empty() {
        println!("\nbounces and complaints (rates of the digests sent):");
        println!(
            "{:<12} {:>8} {:>14} {:>14} {:>14}",
            "edition", "sent", "hard", "soft", "complaints"
        );
        for b in &bounces {
            let cell = |n: i64| format!("{n} ({})", b.rate(n));
            println!(
                "{:<12} {:>8} {:>14} {:>14} {:>14}",
                b.period_key,
                b.sent,
                cell(b.hard),
                cell(b.soft),
                cell(b.complaints)
            );
        }
        println!("\nlatest bounces and complaints:");
        for r in store.recent_bounces(limit)? {
            println!(
                "  {} {:<9} {} ({}): {}",
                r.period_key.as_deref().unwrap_or("-"),
                r.kind,
                r.email,
                r.at.format("%Y-%m-%d %H:%M UTC"),
                r.reason
            );
        }
    }
    let unverified = store.unverified_bounces(limit)?;
    if unverified.total > 0 {
        println!(
            "\nbounce reports not believed: {} (unverified: no VERP token or Message-ID of ours; nothing changed)",
            unverified.total
        );
        for r in &unverified.latest {
            println!(
                "  {:<9} {} ({}): {}; {}",
                r.kind,
                r.email,
                r.at.format("%Y-%m-%d %H:%M UTC"),
                r.reason,
                r.why
            );
        }
    }
    let failures = store.delivery_failures(limit)?;
    if !failures.is_empty() {
        println!("\nfailed, unknown and retrying deliveries:");
        for f in failures {
            println!(
                "  {} {:<8} {} (attempts {}): {}",
                f.period_key,
                f.state.as_str(),
                f.email,
                f.attempts,
                f.last_error.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(0)
}
