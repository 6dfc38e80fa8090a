use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::Utc;
use clap::Args;
use tokio::sync::watch;

use crate::config::Settings;
use crate::delivery::Progress;
use crate::domain::{Frequency, SubscriberStatus};
use crate::pipeline;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Show what would be planned for this period; create no edition and send nothing.
    #[arg(long)]
    dry_run: bool,
}

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
    let dkim = settings.dkim_config()?;
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
    let report =
        pipeline::send_with(settings, store, transport, engine, dkim, progress, stop_rx).await;
    ticker.abort();
    signals.abort();
    pb.finish_and_clear();
    let report = report?;
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
    if report.reclaimed > 0 {
        println!(
            "{} deliveries were taken over from a run that died holding them; \
             those in flight when it died may arrive twice",
            report.reclaimed
        );
    }
    if report.slowdowns > 0 {
        println!(
            "relays answered 421 {} times: each paused its relay for slow_down_secs = {}",
            report.slowdowns, settings.delivery.slow_down_secs
        );
    }
    let now = Utc::now();
    let (leased, until) = store.leased_elsewhere(&owner, now)?;
    if leased > 0 {
        println!(
            "{leased} deliveries are held by another run (or one that died) until {}; \
             a later send takes them over",
            until.map_or("-".into(), |t| t.to_rfc3339())
        );
    }
    if let Some(next) = store.next_retry_at()? {
        println!("next retry due at {}", next.to_rfc3339());
    }
    if let Some(why) = &report.aborted {
        eprintln!("send stopped early: {why}");
        return Ok(1);
    }
    if report.failed + report.unknown > 0 {
        eprintln!("see `paperpost deliveries` for the SMTP replies");
        code = code.max(1);
    }
    Ok(code)
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
