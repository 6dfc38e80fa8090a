//! Send every due delivery through the configured transport.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::{Composer, NewsletterOptions, SendOptions};
use crate::delivery::{EngineReport, EngineSettings, Progress, deliver};
use crate::store::Store;

/// Delivers what is due (pending, retries whose time came, rows of a crashed run whose lease
/// expired) through `send`'s transport with `engine`'s tuning and lease owner. Stops claiming
/// when `stop` turns true. Each claimed batch is rendered as it goes: no more than the
/// engine's queue of messages is held at once, and the papers they show are loaded once and
/// shared. `clock` is the time of claims, outcomes and leases.
#[tracing::instrument(name = "Sending digests", skip_all)]
pub async fn send_with(
    newsletter: &NewsletterOptions,
    send: &SendOptions,
    store: &Store,
    engine: EngineSettings,
    clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    progress: Arc<Progress>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<EngineReport> {
    // The key of readers' link tokens: the one `serve` checks them with.
    let key = crate::security::Secret::load_async(store).await?;
    let composer = Arc::new(Composer::new(
        newsletter,
        send.bounce_address.clone(),
        store.clone(),
        send.dkim.clone(),
        key,
    ));
    deliver(
        store.clone(),
        send.transport.clone(),
        engine,
        Box::new(move |c| composer.compose(c)),
        clock,
        progress,
        stop,
    )
    .await
}
