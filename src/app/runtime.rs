//! `config.toml` made ready to run, once per process: the cron expressions parsed into a
//! [`Schedule`](crate::schedule::Schedule), the relays' passwords read from the environment
//! into a [`Transport`], the DKIM key read and parsed, a lease owner picked. The scheduler's
//! ticks, `send` and `serve --once` take these from here instead of parsing them again on
//! every run.
use std::sync::Arc;

use crate::config::Settings;
use crate::delivery::Transport;
use crate::pipeline::RunContext;

/// The settings and what they parse into, shared (cheap to clone) by every run of a process.
#[derive(Clone)]
pub struct Runtime {
    pub settings: Arc<Settings>,
    /// What each run of the pipeline reads: the newsletter's options, the fetch, the
    /// schedule, the transport and DKIM signer (`None`: plan only), the lease owner.
    pub run: RunContext,
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
        let send = match transport {
            Some(transport) => {
                let dkim = settings.dkim_config()?.map(Arc::new);
                Some(settings.send_options(transport, dkim))
            }
            None => None,
        };
        Ok(Runtime {
            run: RunContext {
                newsletter: Arc::new(settings.newsletter_options()),
                fetch: Arc::new(settings.fetch_job()),
                schedule,
                send,
                owner: crate::store::lease_owner(),
            },
            settings,
        })
    }

    /// Where this process's messages go; `None` when it only plans.
    pub fn transport(&self) -> Option<&Transport> {
        self.run.send.as_ref().map(|s| &s.transport)
    }
}
