use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use clap::Args;
use tokio::sync::watch;

use crate::app::Runtime;
use crate::config::Settings;
use crate::delivery::{Progress, Transport};
use crate::domain::SendRunEnd;
use crate::domain::{SubscriberEmail, Topics, count};
use crate::pipeline::{self, Due, EditionRun, FetchWhen, RunEvent, RunOptions};
use crate::store::Store;

#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// Show what would be planned for this period; create no edition and send nothing.
    #[arg(long, conflicts_with = "to")]
    dry_run: bool,
    /// Send a test digest to this address now instead of the edition: subject "[test] …"
    /// and a banner in both parts. Nothing is planned or marked sent, so the real edition
    /// still goes to every reader. Shows the trending digest unless --as or --topics says
    /// whose.
    #[arg(long, value_name = "EMAIL")]
    pub(super) to: Option<String>,
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

/// Exit status of a `send` that sent nothing more because the reputation guard paused
/// sending (`[delivery.guard]`): the deliveries stay queued until `paperpost deliveries
/// resume`. Not 1: nothing failed, and a scheduler or script can tell "paused" apart.
pub const EXIT_PAUSED: i32 = 4;

/// Set once a stop signal came: `send_each` starts no further newsletter.
static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `send` / `run` for every newsletter of the config, one after the other (a `run` fetches
/// every source once first); the exit code is the highest of theirs.
pub(super) async fn send_each(
    all: &Settings,
    root: &Store,
    args: SendArgs,
    with_fetch: bool,
) -> anyhow::Result<i32> {
    let mut code = 0;
    if with_fetch {
        code = super::fetch::fetch(&all.with_all_sources(), root).await?;
    }
    for (view, store) in super::each_newsletter(all, root) {
        if STOPPING.load(Ordering::SeqCst) {
            break;
        }
        let n = &view.newsletter;
        println!("newsletter {} ({}):", n.slug, n.name);
        code = code.max(send(&view, &store, args.clone(), false).await?);
    }
    Ok(code)
}

pub(super) async fn send(
    settings: &Settings,
    store: &Store,
    args: SendArgs,
    with_fetch: bool,
) -> anyhow::Result<i32> {
    // The relays' secrets and the DKIM key first: a missing password or a key file that went
    // bad fails before anything is planned.
    let settings = Arc::new(settings.clone());
    let rt = if args.dry_run {
        Runtime::with_transport(settings.clone(), None)?
    } else {
        Runtime::for_sending(settings.clone())?
    };
    // Listen for SIGTERM/Ctrl-C from the start: a signal during fetching or planning lets
    // that step finish, then nothing is sent.
    let (stop_tx, stop_rx) = watch::channel(false);
    let signals = tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("stopping: finishing messages in flight…");
        STOPPING.store(true, Ordering::SeqCst);
        let _ = stop_tx.send(true);
    });
    tokio::task::yield_now().await;
    if let Some(to) = &args.to {
        let mut code = 0;
        if with_fetch {
            code = super::fetch::fetch(&settings, store).await?;
        }
        return Ok(code.max(test_send(&rt, store, &args, to).await?));
    }
    let fetch_bars = with_fetch.then(|| super::fetch::FetchBars::new(&settings));
    let sending = Sending::default();
    let dry_run = args.dry_run;
    let on_event = |e: RunEvent<'_>| match e {
        RunEvent::Fetch(p) => {
            if let Some(bars) = &fetch_bars {
                bars.update(p)
            }
        }
        RunEvent::Fetched(summary) => {
            if let Some(bars) = &fetch_bars {
                bars.clear();
            }
            super::fetch::print_fetch_summary(summary);
        }
        RunEvent::Planned(run) => print_edition(run, dry_run),
        RunEvent::Delivering { outstanding } => sending.start(outstanding),
        RunEvent::Waiting { until, deliveries } => sending.suspend(|| {
            println!(
                "waiting until {} for {deliveries} deliveries leased to another run",
                until.to_rfc3339()
            )
        }),
    };
    let mut opts = RunOptions::new(
        Due::Everyone,
        if with_fetch {
            FetchWhen::Now
        } else {
            FetchWhen::Never
        },
        stop_rx,
    );
    opts.dry_run = args.dry_run;
    opts.wait_for_leases = args.wait;
    opts.on_event = &on_event;
    if let Some(t) = args.now {
        let ahead = t - Utc::now();
        opts.clock = Arc::new(move || Utc::now() + ahead);
    }
    let progress = opts.progress.clone();
    *sending.progress.lock().unwrap_or_else(|e| e.into_inner()) = Some(progress);
    let out = pipeline::run_due(&rt.run, store, (opts.clock)(), &opts).await;
    sending.finish();
    signals.abort();
    let out = out?;
    let mut code = out.fetch.as_ref().map_or(0, super::fetch::exit_code);
    if args.dry_run {
        return Ok(code);
    }
    let Some(report) = &out.delivery else {
        if let Some(why) = &out.paused {
            eprintln!(
                "{why}\nnothing was sent: {} stay queued; `{}` lifts the pause (see \
                 `paperpost status`)",
                count(out.outstanding, "delivery", "deliveries"),
                crate::domain::resume_command(store.newsletter())
            );
            return Ok(EXIT_PAUSED);
        }
        println!("nothing to send");
        return Ok(code);
    };
    let done = match rt.transport() {
        // Nothing left the machine: say so, and where the files are.
        Some(Transport::File(dir)) => format!(
            "written {} to {} (nothing was mailed: no relay is configured)",
            count(report.sent, ".eml file", ".eml files"),
            dir.display()
        ),
        _ => format!("sent {}", report.sent),
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
    for (holder_owner, n, until) in &out.leased_elsewhere {
        println!(
            "{n} deliveries were not sent: they are leased until {} to {}; \
             `paperpost send --wait` waits for the lease and sends them",
            until.to_rfc3339(),
            holder(store, holder_owner)
        );
    }
    if let Some(why) = &report.warmup_capped {
        println!("{why}");
    }
    if let Some(next) = store.next_retry_at()? {
        println!("next retry due at {}", next.to_rfc3339());
    }
    if let Some(why) = &report.aborted {
        eprintln!("send stopped early: {why}");
        return Ok(1);
    }
    if let Some(why) = &out.paused {
        eprintln!(
            "send stopped: {why}\nthe deliveries not sent stay queued; `paperpost deliveries \
             resume` lifts the pause"
        );
        return Ok(EXIT_PAUSED);
    }
    if report.workers_failed > 0
        && let Some(problem) = report.problem()
    {
        eprintln!("{problem}");
        code = code.max(1);
    }
    if !out.leased_elsewhere.is_empty() {
        return Ok(EXIT_LEASED_ELSEWHERE);
    }
    if report.failed + report.unknown > 0 {
        eprintln!("see `paperpost deliveries` for the SMTP replies");
        code = code.max(1);
    }
    Ok(code)
}

/// One line per edition planned.
fn print_edition(run: &EditionRun, dry_run: bool) {
    let Some(plan) = &run.plan else {
        println!(
            "{} edition {}: being planned by another process",
            run.frequency, run.period_key
        );
        return;
    };
    println!(
        "{} edition {}: {} candidate papers; {} digests {}, {} empty{}",
        run.frequency,
        plan.period_key,
        plan.candidates,
        plan.planned,
        if dry_run {
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

/// The "sending" progress bar, shown once delivery starts.
#[derive(Default)]
struct Sending {
    progress: std::sync::Mutex<Option<Arc<Progress>>>,
    bar: std::sync::Mutex<Option<(indicatif::ProgressBar, tokio::task::JoinHandle<()>)>>,
}

impl Sending {
    fn start(&self, outstanding: usize) {
        let pb = super::progress_bar(Some(outstanding as u64), "sending");
        let progress = self
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default();
        let ticker = {
            let pb = pb.clone();
            tokio::spawn(async move {
                loop {
                    pb.set_position(progress.done.load(Ordering::Relaxed) as u64);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            })
        };
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some((pb, ticker));
    }

    /// Prints around the bar.
    fn suspend(&self, f: impl FnOnce()) {
        match &*self.bar.lock().unwrap_or_else(|e| e.into_inner()) {
            Some((pb, _)) => pb.suspend(f),
            None => f(),
        }
    }

    fn finish(&self) {
        if let Some((pb, ticker)) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            ticker.abort();
            pb.finish_and_clear();
        }
    }
}

/// `send --to`: one test digest, planned and recorded nowhere.
async fn test_send(rt: &Runtime, store: &Store, args: &SendArgs, to: &str) -> anyhow::Result<i32> {
    let settings = &rt.settings;
    let to = SubscriberEmail::parse(to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    let target = match (&args.as_reader, &args.topics) {
        (Some(email), _) => pipeline::TestTarget::Reader(Box::new(
            store
                .subscriber_by_email(email)?
                .ok_or_else(|| anyhow::anyhow!("--as: no subscriber {email}"))?,
        )),
        (None, Some(t)) => pipeline::TestTarget::Topics(Topics::parse(t)?),
        (None, None) => pipeline::TestTarget::Topics(Topics::default()),
    };
    let (subject, papers) = match pipeline::send_test(&rt.run, store, &target, &to, Utc::now())
        .await?
    {
        pipeline::TestSent::Sent { subject, papers } => (subject, papers),
        pipeline::TestSent::Empty => {
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
        }
    };
    let papers = count(papers, "paper", "papers");
    match rt.transport() {
        Some(Transport::File(dir)) => println!(
            "written 1 .eml file to {}: {subject} ({papers}) for {to}; nothing was mailed (no relay is configured)",
            dir.display(),
        ),
        _ => println!("test digest sent to {to}: {subject} ({papers})"),
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
