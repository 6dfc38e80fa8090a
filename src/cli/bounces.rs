//! `paperpost bounces ingest PATH|-`: bounce reports and complaints into suppressions.
use std::path::PathBuf;

use chrono::Utc;
use clap::Subcommand;

use crate::bounces::{Input, Policy, ingest};
use crate::config::Settings;
use crate::domain::SoftPolicy;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum BouncesCommand {
    /// Read bounce reports (DSNs, RFC 3464) and spam complaints (ARF, RFC 5965) and apply them:
    /// a hard bounce suppresses the address, soft bounces suppress it after `[bounces]
    /// soft_limit` within `soft_window_days`, a complaint unsubscribes and suppresses the
    /// reader. Autoreplies are counted and ignored. A report acts only when it proves which
    /// delivery it is about: the VERP envelope sender's check verifies (`[delivery]
    /// bounce_address`), or it quotes the Message-ID of a delivery to the address it
    /// reports; any other report about a reader is counted as unverified and changes nothing
    /// (`[bounces] trust_unverified` widens this). A message ingested before changes
    /// nothing, so a Maildir can be read again and again; a Maildir message that cannot be
    /// read (malformed, nested too deep, too big) is moved to its `.paperpost-rejected/`
    /// folder. Prints what every message came to.
    Ingest {
        /// A Maildir (its new/ and cur/), an mbox file, one message file, or `-` for one
        /// message on standard input (what an MTA's pipe delivery gives, e.g. a Postfix alias
        /// `bounces: "|paperpost -c /etc/paperpost/config.toml bounces ingest -"`).
        path: PathBuf,
    },
}

pub(super) fn run(settings: &Settings, store: &Store, cmd: BouncesCommand) -> anyhow::Result<i32> {
    match cmd {
        BouncesCommand::Ingest { path } => {
            let input = Input::detect(&path)?;
            let policy = Policy {
                soft: SoftPolicy {
                    limit: settings.bounces.soft_limit,
                    window: chrono::Duration::days(i64::from(settings.bounces.soft_window_days)),
                },
                trust_unverified: settings.bounces.trust_unverified,
                guard: settings.delivery.guard.limits(),
            };
            let pb = super::progress_bar(None, "ingesting bounces");
            let summary = ingest(store, &input, policy, Utc::now(), |s| {
                pb.set_message(format!(
                    "ingesting bounces: {} read, {} matched",
                    s.read, s.matched
                ));
                pb.tick();
            })?;
            pb.finish_and_clear();
            print!("{}", summary.render());
            Ok(0)
        }
    }
}
