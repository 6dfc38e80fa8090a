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
    /// Lift the pause of the reputation guard: when the hard-bounce or complaint rate of an
    /// edition or of the rolling window passed its `[delivery.guard]` threshold, sending
    /// paused itself (`paperpost status` says why, since when, with the numbers) and every
    /// delivery stayed queued. Resume once the cause is dealt with (a bad list imported, a
    /// broken template, …): the next `send` delivers what is queued, each message once.
    /// From the resume on the guard counts only messages sent after it, so the reports
    /// that tripped it do not trip it again; new reports about new sends can. Records who
    /// resumed and when.
    Resume {
        /// Who resumes, for the record (default: the `USER` environment variable).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
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
        Some(DeliveriesCommand::Resume { by }) => resume(store, by),
        Some(DeliveriesCommand::Suppressed) => {
            for (email, reason) in store.suppressions()? {
                println!("{email}\t{reason}");
            }
            Ok(0)
        }
    }
}

/// `deliveries resume`: lifts the pause in force, if any (exit 1 when there is none).
fn resume(store: &Store, by: Option<String>) -> anyhow::Result<i32> {
    let who = by
        .or_else(|| std::env::var("USER").ok())
        .filter(|w| !w.trim().is_empty())
        .unwrap_or_else(|| "unknown".into());
    let by = format!("cli:{}", crate::domain::collapse_whitespace(&who));
    let Some(r) = store.resume_sending(&by, Utc::now())? else {
        eprintln!("sending is not paused; nothing changed");
        return Ok(1);
    };
    tracing::info!(
        by,
        paused_since = %r.pause.since,
        "sending resumed (was paused: {})",
        r.pause.reason
    );
    println!(
        "sending resumed by {by} at {}; it had been paused since {}: {}",
        r.resumed_at.format("%Y-%m-%d %H:%M UTC"),
        r.pause.since.format("%Y-%m-%d %H:%M UTC"),
        r.pause.reason
    );
    println!(
        "the guard now counts only messages sent from now on; {} queued: `paperpost send` \
         delivers them",
        crate::domain::count(
            usize::try_from(store.outstanding_deliveries()?).unwrap_or(0),
            "delivery is",
            "deliveries are"
        )
    );
    Ok(0)
}

fn show(store: &Store, limit: usize) -> anyhow::Result<i32> {
    if let Some(p) = store.sending_pause()? {
        let resume = crate::domain::resume_command(store.newsletter());
        println!("{}\n`{resume}` lifts it\n", p.describe());
    }
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
