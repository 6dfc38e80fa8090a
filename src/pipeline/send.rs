//! Send every due delivery through the configured transport.
use std::sync::Arc;

use chrono::Utc;
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
    send_with(settings, store, transport, engine, dkim, progress, stop).await
}

/// [`send`] with explicit engine settings (the caller wants to know the lease owner).
#[tracing::instrument(name = "Sending digests", skip_all)]
pub async fn send_with(
    settings: &Settings,
    store: &Store,
    transport: Transport,
    engine: EngineSettings,
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
        Box::new(Utc::now),
        progress,
        stop,
    )
    .await
}
