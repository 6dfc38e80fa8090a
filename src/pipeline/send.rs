//! Send every due delivery through the configured transport.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::Composer;
use crate::config::Settings;
use crate::delivery::{EngineReport, EngineSettings, Progress, Transport, deliver};
use crate::store::Store;

/// Delivers what is due (pending, retries whose time came, rows of a crashed run whose lease
/// expired), with the engine settings of `[delivery]`. Stops claiming when `stop` turns true.
pub async fn send(
    settings: &Settings,
    store: &Store,
    transport: Transport,
    dkim: Option<lettre::message::dkim::DkimConfig>,
    progress: Arc<Progress>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<EngineReport> {
    let engine = settings.engine_settings();
    let clock = Box::new(Utc::now);
    send_with(
        settings, store, transport, engine, clock, dkim, progress, stop,
    )
    .await
}

/// [`send`] with explicit engine settings (the caller wants to know the lease owner) and
/// clock (`send --now` runs on a shifted one).
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(name = "Sending digests", skip_all)]
pub async fn send_with(
    settings: &Settings,
    store: &Store,
    transport: Transport,
    engine: EngineSettings,
    clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    dkim: Option<lettre::message::dkim::DkimConfig>,
    progress: Arc<Progress>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<EngineReport> {
    let composer = Arc::new(Composer::new(settings, store.clone(), dkim));
    deliver(
        store.clone(),
        transport,
        engine,
        Box::new(move |c| composer.compose(c)),
        clock,
        progress,
        stop,
    )
    .await
}
