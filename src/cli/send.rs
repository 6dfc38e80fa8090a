use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::Utc;
use clap::Args;
use tokio::sync::watch;

use crate::config::Settings;
use crate::delivery::Progress;
use crate::domain::{Frequency, SubscriberStatus};
use crate::pipeline;
use crate::store::{SendRunEnd, Store};

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Show what would be planned for this period; create no edition and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// When deliveries are still leased to another run (one that is sending, or died
    /// holding them), wait until the lease runs out and send them too, instead of exiting
    /// with status 3.
    #[arg(long)]
    wait: bool,
}

/// Exit status of a `send` that left deliveries leased to another run, maybe a dead one
/// (0: all done; 1: failures, or the run stopped on an error).
pub const EXIT_LEASED_ELSEWHERE: i32 = 3;

pub(super) async fn send(
    settings: &Settings,
    store: &Store,
    args: SendArgs,
    with_fetch: bool,
) -> anyhow::Result<i32> {
    // Listen for SIGTERM/Ctrl-C from the start: a signal during fetching or planning lets
    // that step finish, then nothing is sent.
    let (stop_tx, stop_rx) = watch::channel(false);
    let signals = tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("stopping: finishing messages in flight…");
        let _ = stop_tx.send(true);
    });
    tokio::task::yield_now().await;
    let mut code = 0;
    if with_fetch && !args.dry_run {
        code = super::fetch::fetch(settings, store).await?;
    }
    let now = Utc::now();
    let active = store.subscribers(Some(SubscriberStatus::Active))?;
    for freq in [Frequency::Weekly, Frequency::Daily] {
        if !active.iter().any(|s| s.frequency == freq) {
            continue;
        }
        let period = pipeline::period_for(settings, freq, now);
        let plan = pipeline::plan_edition(settings, store, period, freq, None, args.dry_run, now)?;
        println!(
            "{} edition {}: {} candidate papers; {} digests {}, {} empty{}",
            freq,
            plan.period_key,
            plan.candidates,
            plan.planned,
            if args.dry_run {
                "would be planned"
            } else {
                "planned"
            },
            plan.empty,
            if plan.already_planned > 0 {
                format!(", {} planned before", plan.already_planned)
            } else {
                String::new()
            }
        );
    }
    if args.dry_run {
        return Ok(code);
    }
    let outstanding = store.outstanding_deliveries()?;
    if outstanding == 0 {
        println!("nothing to send");
        return Ok(code);
    }
    settings.dkim_config()?; // a key file that went bad fails before anything is sent
    let progress = Arc::new(Progress::default());
    let pb = super::progress_bar(Some(outstanding as u64), "sending");
    let ticker = {
        let pb = pb.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            loop {
                pb.set_position(progress.done.load(Ordering::Relaxed) as u64);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
    };
    let transport = settings.transport();
    let engine = settings.engine_settings();
    let owner = engine.owner.clone();
    let mut total = crate::delivery::EngineReport::default();
    let mut leased = Vec::new();
    let result: anyhow::Result<()> = async {
        loop {
            let report = pipeline::send_with(
                settings,
                store,
                transport.clone(),
                engine.clone(),
                settings.dkim_config()?,
                progress.clone(),
                stop_rx.clone(),
            )
            .await?;
            total.absorb(report);
            leased = store.leases_elsewhere(&owner, Utc::now())?;
            if total.aborted.is_some() || leased.is_empty() || !args.wait || *stop_rx.borrow() {
                return Ok(());
            }
            // `--wait`: sleep until the first of those leases runs out, then take over.
            let until = leased.iter().map(|l| l.2).min().unwrap_or_else(Utc::now);
            pb.suspend(|| {
                println!(
                    "waiting until {} for {} deliveries leased to another run",
                    until.to_rfc3339(),
                    leased.iter().map(|l| l.1).sum::<i64>()
                )
            });
            let pause = (until - Utc::now()).to_std().unwrap_or_default()
                + std::time::Duration::from_secs(1);
            let mut stop = stop_rx.clone();
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => return Ok(()),
            }
        }
    }
    .await;
    ticker.abort();
    signals.abort();
    pb.finish_and_clear();
    result?;
    let report = total;
    println!(
        "sent {}, retry later {}, failed {}, unknown {}, suppressed {}, left queued {}",
        report.sent,
        report.retry,
        report.failed,
        report.unknown,
        report.suppressed,
        report.released
    );
    if report.newly_suppressed > 0 {
        println!(
            "{} addresses refused the mail permanently (5xx) and are now suppressed",
            report.newly_suppressed
        );
    }
    for (from, n) in &report.reclaimed_from {
        println!(
            "{n} deliveries were taken over from {}; those in flight when it stopped may \
             arrive twice",
            holder(store, from)
        );
    }
    if report.slowdowns > 0 {
        println!(
            "relays answered 421 {} times: each paused its relay for slow_down_secs = {}",
            report.slowdowns, settings.delivery.slow_down_secs
        );
    }
    for (holder_owner, n, until) in &leased {
        println!(
            "{n} deliveries were not sent: they are leased until {} to {}; \
             `paperpost send --wait` waits for the lease and sends them",
            until.to_rfc3339(),
            holder(store, holder_owner)
        );
    }
    if let Some(next) = store.next_retry_at()? {
        println!("next retry due at {}", next.to_rfc3339());
    }
    if let Some(why) = &report.aborted {
        eprintln!("send stopped early: {why}");
        return Ok(1);
    }
    if !leased.is_empty() {
        return Ok(EXIT_LEASED_ELSEWHERE);
    }
    if report.failed + report.unknown > 0 {
        eprintln!("see `paperpost deliveries` for the SMTP replies");
        code = code.max(1);
    }
    Ok(code)
}

/// Who holds (or held) a lease, in words: how that send run ended, as far as the store knows.
fn holder(store: &Store, owner: &str) -> String {
    match store.send_run_end(owner) {
        Ok(Some(SendRunEnd::Running { started_at })) => format!(
            "run {owner} (started {}), which is still sending or never recorded its end \
             (killed, crashed, or unable to write to the store)",
            started_at.to_rfc3339()
        ),
        Ok(Some(end)) => format!("run {owner}, {}", end.describe()),
        Ok(None) | Err(_) => format!("run {owner}, which died holding them"),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
