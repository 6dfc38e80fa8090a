//! `paperpost serve`: the web server and the scheduler in one process, stopped together by
//! SIGTERM or Ctrl-C; and `paperpost status`.
use std::sync::Arc;

use chrono::Utc;
use clap::Args;
use tokio::sync::watch;

use crate::app::Runtime;
use crate::config::Settings;
use crate::pipeline::{self, Due, FetchWhen, RunOptions};
use crate::schedule::{self, SystemClock};
use crate::store::Store;
use crate::web;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen here instead of `[web] bind` (e.g. 127.0.0.1:0 picks a free port, printed at start).
    #[arg(long)]
    bind: Option<std::net::SocketAddr>,
    /// Run one scheduler tick (fetch if due, plan and send what is due, catch up a missed
    /// edition) and exit, without the web server: for a cron job or a systemd timer in place
    /// of the long-running scheduler.
    #[arg(long)]
    once: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// How many of the last runs to show.
    #[arg(long, default_value_t = 10)]
    runs: usize,
}

/// The web state as the config describes it.
pub(crate) fn web_state(rt: &Runtime, store: Store) -> anyhow::Result<web::AppState> {
    let settings = &rt.settings;
    let transport = match rt.transport() {
        Some(t) => t.clone(),
        None => settings.transport()?,
    };
    let mut state = web::AppState::new(
        store,
        settings.newsletter.base_url.clone(),
        settings.newsletter.name.clone(),
        settings.message_settings(),
        transport,
        settings.web.clone(),
    )?;
    state.plan = settings.plan_settings();
    if settings.has_several_newsletters() {
        state.newsletters = Arc::new(
            settings
                .newsletters
                .iter()
                .map(|n| web::NewsletterLink {
                    slug: n.slug.clone(),
                    name: n.name.clone(),
                    base_url: n.base_url.clone(),
                })
                .collect(),
        );
    }
    // Previews show the period a reader without a zone of their own is in.
    state.timezone = settings.schedule_timezone();
    state.full_abstract = settings.render.abstract_mode == crate::config::AbstractMode::Full;
    state.accent = settings.render.accent.clone();
    Ok(state)
}

pub(super) async fn serve(
    settings: &Settings,
    store: Store,
    args: ServeArgs,
) -> anyhow::Result<i32> {
    serve_views(vec![(settings.clone(), store)], args).await
}

/// `serve` for every newsletter of the config: one scheduler each (its own sources,
/// schedule and editions), one web server with each newsletter's pages under `/n/{slug}/`
/// (the first's also at `/`); `--once` runs one tick of each.
pub(super) async fn serve_each(
    all: &Settings,
    root: Store,
    args: ServeArgs,
) -> anyhow::Result<i32> {
    serve_views(super::each_newsletter(all, &root), args).await
}

async fn serve_views(views: Vec<(Settings, Store)>, args: ServeArgs) -> anyhow::Result<i32> {
    // Secrets, cron expressions and the DKIM key, parsed once for every tick.
    let mut runs = Vec::with_capacity(views.len());
    for (settings, store) in &views {
        runs.push((
            Runtime::for_sending(Arc::new(settings.clone()))?,
            store.clone(),
        ));
    }
    if args.once {
        let mut code = 0;
        for (rt, store) in &runs {
            if runs.len() > 1 {
                println!("newsletter {}:", store.newsletter());
            }
            code = code.max(once(rt, store).await?);
        }
        return Ok(code);
    }
    let (settings, store) = views.first().expect("a newsletter to serve");
    let bind = args.bind.unwrap_or(settings.web.bind);
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    let addr = listener.local_addr()?;
    println!(
        "listening on http://{addr}/ (public address {})",
        settings.newsletter.base_url
    );
    tracing::info!(%addr, "web server started");
    let mut states = Vec::with_capacity(runs.len());
    for (rt, store) in &runs {
        let mut state = web_state(rt, store.clone())?;
        state.status = Some({
            let settings = &rt.settings;
            let (schedule, name) = (rt.run.schedule.clone(), settings.newsletter.name.clone());
            let guard = settings.delivery.guard.limits();
            let store = store.clone();
            std::sync::Arc::new(move |now| {
                let report = crate::pipeline::status_report(
                    &schedule,
                    &name,
                    &store,
                    now,
                    10,
                    guard.as_ref(),
                )?;
                Ok(crate::render::render_status_page(&report))
            })
        });
        states.push(state);
    }

    // One stop signal for both: the first SIGTERM/Ctrl-C stops taking work and lets what is
    // in flight finish; a second one quits at once.
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        super::send::shutdown_signal().await;
        tracing::info!("stopping: finishing the work in flight (signal again to quit at once)");
        let _ = stop_tx.send(true);
        super::send::shutdown_signal().await;
        eprintln!("quitting at once; unsent messages stay queued for the next start");
        std::process::exit(130);
    });
    for (rt, store) in &runs {
        log_next_runs(&rt.run.schedule, &rt.settings.newsletter.name, store);
    }
    log_operator_access(settings, store);
    if let Some(warning) = super::orphaned_newsletters(settings, store) {
        tracing::warn!("{warning}");
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (rt, store) in runs {
        tasks.spawn(crate::app::run_until_stopped(
            rt,
            store,
            Arc::new(SystemClock),
            stop_rx.clone(),
        ));
    }
    let schedulers = async move {
        while let Some(r) = tasks.join_next().await {
            r??;
        }
        anyhow::Ok(())
    };
    let mut web_stop = stop_rx;
    let web = web::run_all(listener, states, async move {
        let _ = web_stop.wait_for(|stop| *stop).await;
    });
    tokio::try_join!(schedulers, web)?;
    tracing::info!("stopped");
    Ok(0)
}

/// Says at start-up how the status page can be reached, and warns about what no longer
/// works (`$PAPERPOST_STATUS_TOKEN`).
fn log_operator_access(settings: &Settings, store: &Store) {
    if let Some(warning) = web::status_token_warning() {
        tracing::warn!("{warning}");
    }
    let idle = chrono::Duration::minutes(settings.web.operator_idle_minutes.into());
    match store.operators(Utc::now(), idle) {
        Ok(ops) if ops.is_empty() && !settings.web.status_loopback => tracing::warn!(
            "no operator can sign in to /status: `paperpost operators add NAME` adds one"
        ),
        Ok(ops) => tracing::info!(operators = ops.len(), "operators sign in at /login"),
        Err(e) => tracing::warn!(error = %e, "cannot list the operators"),
    }
}

fn log_next_runs(schedule: &schedule::Schedule, newsletter: &str, store: &Store) {
    match crate::pipeline::status_report(schedule, newsletter, store, Utc::now(), 0, None) {
        Ok(report) => {
            for n in &report.next {
                let at = n.at.map_or("never".into(), |t| {
                    t.with_timezone(&report.timezone)
                        .format("%a %Y-%m-%d %H:%M %Z")
                        .to_string()
                });
                tracing::info!("next {}: {at} ({})", n.what, n.detail);
            }
        }
        Err(e) => tracing::warn!("could not compute the next runs: {e:#}"),
    }
}

/// `serve --once`: one scheduler tick, reported on stdout.
async fn once(rt: &Runtime, store: &Store) -> anyhow::Result<i32> {
    let (_keep, stop) = watch::channel(false);
    let opts = RunOptions::new(Due::Scheduled, FetchWhen::IfDue, stop);
    let out = pipeline::run_due(&rt.run, store, Utc::now(), &opts).await?;
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
    // Each missed edition was logged once by the runner (a warning with the reason); a
    // second line here said the same thing again.
    let d = out.delivery.clone().unwrap_or_default();
    println!(
        "sent {}, retry later {}, failed {}, unknown {}",
        d.sent, d.retry, d.failed, d.unknown
    );
    let failed_source = out
        .fetch
        .as_ref()
        .is_some_and(|f| f.failed().next().is_some());
    Ok(
        if d.aborted.is_some() || d.failed + d.unknown > 0 || failed_source {
            1
        } else {
            0
        },
    )
}

pub(super) fn status(settings: &Settings, store: &Store, args: StatusArgs) -> anyhow::Result<i32> {
    let schedule = settings.schedule().map_err(anyhow::Error::msg)?;
    let report = crate::pipeline::status_report(
        &schedule,
        &settings.newsletter.name,
        store,
        Utc::now(),
        args.runs,
        settings.delivery.guard.limits().as_ref(),
    )?;
    print!("{}", crate::render::render_status_text(&report));
    Ok(0)
}
