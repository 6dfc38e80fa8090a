//! `paperpost serve` (the scheduler, and the web server once it is added) and
//! `paperpost status`.
use std::sync::Arc;

use chrono::Utc;
use clap::Args;
use tokio::sync::watch;

use crate::config::Settings;
use crate::schedule::{self, SystemClock};
use crate::store::Store;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Run one scheduler tick (fetch if due, plan and send what is due, catch up a missed
    /// edition) and exit, instead of running until stopped: for a cron job or a systemd
    /// timer in place of the long-running service.
    #[arg(long)]
    once: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// How many of the last runs to show.
    #[arg(long, default_value_t = 10)]
    runs: usize,
}

pub(super) async fn serve(
    settings: &Settings,
    store: &Store,
    args: ServeArgs,
) -> anyhow::Result<i32> {
    let settings = Arc::new(settings.clone());
    let transport = settings.transport();
    if args.once {
        let out = schedule::run_due(&settings, store, transport, Utc::now()).await?;
        if let Some(f) = &out.fetch {
            super::fetch::print_fetch_summary(f);
        }
        for e in &out.editions {
            match &e.plan {
                Some(p) => println!(
                    "{} edition {}: {} digests planned, {} empty",
                    e.frequency, e.period_key, p.planned, p.empty
                ),
                None => println!(
                    "{} edition {}: being planned by another process",
                    e.frequency, e.period_key
                ),
            }
        }
        for m in &out.missed {
            println!(
                "{} edition {}: missed (past the grace window), skipped",
                m.frequency, m.period_key
            );
        }
        let d = out.delivery.clone().unwrap_or_default();
        println!(
            "sent {}, retry later {}, failed {}, unknown {}",
            d.sent, d.retry, d.failed, d.unknown
        );
        let failed_source = out
            .fetch
            .as_ref()
            .is_some_and(|f| f.failed().next().is_some());
        return Ok(
            if d.aborted.is_some() || d.failed + d.unknown > 0 || failed_source {
                1
            } else {
                0
            },
        );
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        super::send::shutdown_signal().await;
        tracing::info!("stopping: finishing the messages in flight (signal again to quit at once)");
        let _ = stop_tx.send(true);
        super::send::shutdown_signal().await;
        eprintln!("quitting at once; unsent messages stay queued for the next start");
        std::process::exit(130);
    });
    let report = schedule::status_report(&settings, store, Utc::now(), 0)?;
    for n in &report.next {
        tracing::info!(
            "next {}: {} ({})",
            n.what,
            n.at.map_or("never".into(), |t| t
                .with_timezone(&report.timezone)
                .format("%a %Y-%m-%d %H:%M %Z")
                .to_string()),
            n.detail
        );
    }
    let scheduler = schedule::run_until_stopped(
        settings.clone(),
        store.clone(),
        transport,
        Arc::new(SystemClock),
        stop_rx.clone(),
    );
    // The web server runs beside the scheduler and stops on the same signal (`stop_rx`):
    //     tokio::try_join!(scheduler, web_server(settings, store, stop_rx))?;
    scheduler.await?;
    Ok(0)
}

pub(super) fn status(settings: &Settings, store: &Store, args: StatusArgs) -> anyhow::Result<i32> {
    let report = schedule::status_report(settings, store, Utc::now(), args.runs)?;
    print!("{}", schedule::render_status_text(&report));
    Ok(0)
}
