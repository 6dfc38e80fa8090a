//! What previews, test sends, composing and a run read: the pipeline's own options.
//! `config` builds [`NewsletterOptions`] and [`SendOptions`] from a newsletter's view; the
//! application (`app::Runtime`) wires them, with the schedule, the fetch and the lease
//! owner, into a [`RunContext`] once per process.
use std::sync::Arc;

use lettre::message::dkim::DkimConfig;

use super::{FetchJob, PlanSettings};
use crate::delivery::{EngineSettings, MessageSettings, Transport};
use crate::domain::GuardLimits;
use crate::render::RenderSettings;
use crate::schedule::Schedule;

/// One newsletter as its digests are planned, rendered and addressed: its name and public
/// address, the zone of its periods, the headers of its messages, its look and what
/// planning reads.
#[derive(Debug, Clone)]
pub struct NewsletterOptions {
    /// Shown in subjects, headers and pages.
    pub name: String,
    /// Public address of the web pages (unsubscribe, preferences, archive).
    pub base_url: url::Url,
    /// The zone of the period a reader without a zone of their own is in: `[schedule]
    /// timezone`, else the newsletter's.
    pub timezone: chrono_tz::Tz,
    /// The headers every message carries (sender, reply-to, List-Id, Message-ID domain).
    pub message: MessageSettings,
    /// `[render]`: the newsletter's own, else the top-level one.
    pub render: RenderSettings,
    /// What planning an edition reads.
    pub plan: PlanSettings,
}

/// What delivering reads: where messages go, how they are signed, the VERP bounce address,
/// the reputation guard's thresholds and the engine's tuning.
#[derive(Clone)]
pub struct SendOptions {
    /// Where messages go, with the relays' secrets.
    pub transport: Transport,
    /// The DKIM signer, parsed once. lettre's `DkimConfig` is not `Clone`, so it is shared.
    pub dkim: Option<Arc<DkimConfig>>,
    /// `[delivery] bounce_address`: the base of each message's VERP envelope sender.
    pub bounce_address: Option<lettre::Address>,
    /// `[delivery.guard]`'s thresholds; `None`: the guard is off.
    pub guard: Option<GuardLimits>,
    /// `[delivery]`'s engine tuning; each delivery run gets its own lease owner from
    /// [`SendOptions::engine_for_run`].
    pub engine: EngineSettings,
}

impl SendOptions {
    /// The engine settings of one delivery run, with a lease owner of its own: rows a
    /// run of this process left in `sending` are taken over by a later one once their
    /// lease expires, as a crashed process's would be.
    pub fn engine_for_run(&self) -> EngineSettings {
        EngineSettings {
            owner: crate::store::lease_owner(),
            ..self.engine.clone()
        }
    }
}

/// Everything a run of one newsletter reads, made ready once per process (the cron
/// expressions parsed, the relays' passwords read, the DKIM key parsed) and shared, cheap
/// to clone, by every run of it: the scheduler's ticks, `send` and `serve --once`.
#[derive(Clone)]
pub struct RunContext {
    pub newsletter: Arc<NewsletterOptions>,
    /// What a fetch reads (sources, HTTP options, the newsletter's zone).
    pub fetch: Arc<FetchJob>,
    /// `[schedule]`: cron expressions in their zones.
    pub schedule: Schedule,
    /// How to deliver; `None` for a process that only plans (`send --dry-run`): delivering
    /// then is an error.
    pub send: Option<SendOptions>,
    /// Who holds this process's named locks (`fetch`, `edition:{period}`).
    pub owner: String,
}
