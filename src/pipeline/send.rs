//! Send every due delivery through the configured transport.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lettre::message::dkim::DkimConfig;
use tokio::sync::watch;

use super::Composer;
use crate::config::Settings;
use crate::delivery::{EngineReport, EngineSettings, Progress, Transport, deliver};
use crate::store::Store;

/// Delivers what is due (pending, retries whose time came, rows of a crashed run whose lease
/// expired) with `engine`'s tuning and lease owner. Stops claiming when `stop` turns true.
/// Each claimed batch is rendered as it goes: no more than the engine's queue of messages
/// is held at once, and the papers they show are loaded once and shared. `clock` is the
/// time of claims, outcomes and leases.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(name = "Sending digests", skip_all)]
pub async fn send_with(
    settings: &Settings,
    store: &Store,
    transport: Transport,
    engine: EngineSettings,
    clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    dkim: Option<Arc<DkimConfig>>,
    progress: Arc<Progress>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<EngineReport> {
    // The key of readers' link tokens: the one `serve` checks them with.
    let key = crate::security::Secret::load_async(store).await?;
    let composer = Arc::new(Composer::new(
        &settings.newsletter,
        &settings.render,
        &settings.delivery,
        store.clone(),
        dkim,
        key,
    ));
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
