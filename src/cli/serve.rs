//! `paperpost serve`: the web server (and, with it, the scheduler) in one process.
use clap::Args;

use crate::config::Settings;
use crate::store::Store;
use crate::web;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen here instead of `[web] bind` (e.g. 127.0.0.1:0 picks a free port, printed at start).
    #[arg(long)]
    bind: Option<std::net::SocketAddr>,
}

/// The web state as the config describes it.
pub(crate) fn web_state(settings: &Settings, store: Store) -> anyhow::Result<web::AppState> {
    let mut state = web::AppState::new(
        store,
        settings.newsletter.base_url.clone(),
        settings.newsletter.name.clone(),
        settings.message_settings(),
        settings.transport(),
        settings.web.clone(),
    )?;
    state.selection = settings.selection_limits();
    state.window_days = settings.selection.window_days;
    state.timezone = settings.newsletter.timezone;
    Ok(state)
}

pub(super) async fn serve(
    settings: &Settings,
    store: Store,
    args: ServeArgs,
) -> anyhow::Result<i32> {
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
    let state = web_state(settings, store)?;
    web::run(listener, state, super::send::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(0)
}
