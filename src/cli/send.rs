use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use clap::Args;
use tokio::sync::watch;

use crate::config::Settings;
use crate::delivery::{Progress, Transport};
use crate::domain::{Frequency, SubscriberEmail, SubscriberStatus, Topics, count};
use crate::pipeline;
use crate::store::{SendRunEnd, Store};

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Show what would be planned for this period; create no edition and send nothing.
    #[arg(long, conflicts_with = "to")]
    dry_run: bool,
    /// Send a test digest to this address now instead of the edition: subject "[test] …"
    /// and a banner in both parts. Nothing is planned or marked sent, so the real edition
    /// still goes to every reader. Shows the trending digest unless --as or --topics says
    /// whose.
    #[arg(long, value_name = "EMAIL")]
    to: Option<String>,
    /// With --to: the digest this reader would get now (their topics, papers since their
    /// last digest, none they already had).
    #[arg(
        long = "as",
        value_name = "EMAIL",
        requires = "to",
        conflicts_with = "topics"
    )]
    as_reader: Option<String>,
    /// With --to: the digest of these topics, e.g. `"diffusion model", cat:cs.CL`.
    #[arg(long, requires = "to")]
    topics: Option<String>,
    /// When deliveries are still leased to another run (one that is sending, or died
    /// holding them), wait until the lease runs out and send them too, instead of exiting
    /// with status 3.
    #[arg(long)]
    wait: bool,
    /// Tests only, hidden from --help (see the README's "Testing"): run as if the clock read
    /// this RFC 3339 instant when the command started; it then advances with real time. A
    /// test reaches a retry or an expired lease this way instead of sleeping until it.
    #[arg(long, hide = true, value_name = "RFC3339")]
    now: Option<DateTime<Utc>>,
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
    // The relays' secrets first: a missing password fails before anything is planned.
    let transport = if args.dry_run {
        None
    } else {
        Some(settings.transport()?)
    };
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
    if let Some(to) = &args.to {
        let transport =
            transport.ok_or_else(|| anyhow::anyhow!("--to and --dry-run exclude each other"))?;
        return Ok(code.max(test_send(settings, store, &args, to, transport).await?));
    }
    let shift = args.now.map(|t| t - Utc::now()).unwrap_or_default();
    let clock = move || Utc::now() + shift;
    let now = clock();
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
    let Some(transport) = transport else {
        return Ok(code); // --dry-run
    };
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
    let outbox = match &transport {
        Transport::File(dir) => Some(dir.clone()),
        Transport::Smtp(_) => None,
    };
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
                Box::new(clock),
                settings.dkim_config()?,
                progress.clone(),
                stop_rx.clone(),
            )
            .await?;
            total.absorb(report);
            leased = store.leases_elsewhere(&owner, clock())?;
            if total.aborted.is_some() || leased.is_empty() || !args.wait || *stop_rx.borrow() {
                return Ok(());
            }
            // `--wait`: sleep until the first of those leases runs out, then take over.
            let until = leased.iter().map(|l| l.2).min().unwrap_or_else(clock);
            pb.suspend(|| {
                println!(
                    "waiting until {} for {} deliveries leased to another run",
                    until.to_rfc3339(),
                    leased.iter().map(|l| l.1).sum::<i64>()
                )
            });
            let pause =
                (until - clock()).to_std().unwrap_or_default() + std::time::Duration::from_secs(1);
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
    let done = match &outbox {
        // Nothing left the machine: say so, and where the files are.
        Some(dir) => format!(
            "written {} to {} (nothing was mailed: no relay is configured)",
            count(report.sent, ".eml file", ".eml files"),
            dir.display()
        ),
        None => format!("sent {}", report.sent),
    };
    println!(
        "{done}, retry later {}, failed {}, unknown {}, suppressed {}, left queued {}",
        report.retry, report.failed, report.unknown, report.suppressed, report.released
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

/// `send --to`: one test digest, planned and recorded nowhere.
async fn test_send(
    settings: &Settings,
    store: &Store,
    args: &SendArgs,
    to: &str,
    transport: Transport,
) -> anyhow::Result<i32> {
    let to = SubscriberEmail::parse(to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    let target = match (&args.as_reader, &args.topics) {
        (Some(email), _) => pipeline::TestTarget::Reader(
            store
                .subscriber_by_email(email)?
                .ok_or_else(|| anyhow::anyhow!("--as: no subscriber {email}"))?,
        ),
        (None, Some(t)) => pipeline::TestTarget::Topics(Topics::parse(t)?),
        (None, None) => pipeline::TestTarget::Topics(Topics::default()),
    };
    let now = Utc::now();
    let Some(digest) = pipeline::test_digest(settings, store, &target, now)? else {
        let why = match &target {
            pipeline::TestTarget::Reader(r) => format!(
                "no stored paper of the last {} days matches {}'s topics that they have not had \
                 already (their digest of this period may be planned or sent)",
                settings.selection.window_days, r.email
            ),
            pipeline::TestTarget::Topics(_) => format!(
                "no stored paper of the last {} days matches (run `paperpost fetch`?)",
                settings.selection.window_days
            ),
        };
        eprintln!("{} is empty: {why}; nothing sent", target.describe());
        return Ok(1);
    };
    let dkim = settings.dkim_config()?;
    let message = pipeline::compose_test(settings, &digest, &target, &to, dkim.as_ref(), now)?;
    let papers = count(message.papers, "paper", "papers");
    crate::delivery::send_one(&transport, message.composed)
        .await
        .map_err(|e| anyhow::anyhow!("the test digest to {to} was not sent: {e}"))?;
    match &transport {
        Transport::File(dir) => println!(
            "written 1 .eml file to {}: {} ({papers}) for {to}; nothing was mailed (no relay is configured)",
            dir.display(),
            message.subject
        ),
        Transport::Smtp(_) => println!("test digest sent to {to}: {} ({papers})", message.subject),
    }
    println!("nothing was planned or marked sent; `paperpost send` still sends the edition");
    Ok(0)
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
