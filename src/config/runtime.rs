//! `config.toml` made ready to run, once per process: the cron expressions parsed into a
//! [`Schedule`], the relays' passwords read from the environment into a [`Transport`], the
//! DKIM key read and parsed. The scheduler's ticks, `send` and `serve --once` take these
//! from here instead of parsing them again on every run.
use std::sync::Arc;

use lettre::message::dkim::DkimConfig;

use crate::delivery::{EngineSettings, Transport};
use crate::schedule::Schedule;

use super::Settings;

/// The settings and what they parse into, shared (cheap to clone) by every run of a process.
#[derive(Clone)]
pub struct Runtime {
    pub settings: Arc<Settings>,
    /// What planning reads (`[selection]`, the Message-ID domain).
    pub plan: Arc<super::PlanSettings>,
    /// What a fetch reads (sources, HTTP options, the newsletter's zone).
    pub fetch: Arc<super::FetchJob>,
    /// `[schedule]`: cron expressions in their zones.
    pub schedule: Schedule,
    /// Where messages go, with the relays' secrets; `None` for a process that only plans
    /// (`send --dry-run`): delivering then is an error.
    pub transport: Option<Transport>,
    /// The DKIM signer, parsed once. lettre's `DkimConfig` is not `Clone`, so it is shared.
    pub dkim: Option<Arc<DkimConfig>>,
    /// `[delivery]`'s engine tuning; each delivery run gets its own lease owner from
    /// [`Runtime::engine`].
    engine: EngineSettings,
    /// Who holds this process's named locks (`fetch`, `edition:{period}`).
    pub owner: String,
}

impl Runtime {
    /// Everything a sending process needs: a relay password that is not set, or a DKIM key
    /// that no longer reads, fails here, before anything is planned.
    pub fn for_sending(settings: Arc<Settings>) -> anyhow::Result<Runtime> {
        let transport = settings.transport()?;
        Runtime::with_transport(settings, Some(transport))
    }

    /// With a transport of the caller's (tests; `None`: plan only, no secrets read).
    pub fn with_transport(
        settings: Arc<Settings>,
        transport: Option<Transport>,
    ) -> anyhow::Result<Runtime> {
        let schedule = settings.schedule().map_err(anyhow::Error::msg)?;
        let dkim = match &transport {
            Some(_) => settings.dkim_config()?.map(Arc::new),
            None => None,
        };
        Ok(Runtime {
            engine: settings.engine_settings(),
            plan: Arc::new(settings.plan_settings()),
            fetch: Arc::new(settings.fetch_job()),
            owner: crate::store::lease_owner(),
            settings,
            schedule,
            transport,
            dkim,
        })
    }

    /// The engine settings of one delivery run, with a lease owner of its own: rows a
    /// run of this process left in `sending` are taken over by a later one once their
    /// lease expires, as a crashed process's would be.
    pub fn engine(&self) -> EngineSettings {
        EngineSettings {
            owner: crate::store::lease_owner(),
            ..self.engine.clone()
        }
    }
}
