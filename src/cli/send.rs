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
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("stopping: finishing messages in flight…");
        let _ = stop_tx.send(true);
    });
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
    let report = pipeline::send(settings, store, transport, None, progress, stop_rx).await?;
    ticker.abort();
    pb.finish_and_clear();
    println!(
        "sent {}, retry later {}, failed {}, unknown {}, suppressed {}, left queued {}",
        report.sent,
        report.retry,
        report.failed,
        report.unknown,
        report.suppressed,
        report.released
    );
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
