//! `[bounces]` of `config.toml`: what `paperpost bounces ingest` does with soft bounces and
//! reports that prove nothing.
use serde::Deserialize;

/// `[bounces]`: what `paperpost bounces ingest` does with soft bounces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BounceSettings {
    /// Soft bounces (4.x.x) of one address within `soft_window_days` that suppress it.
    #[serde(default = "default_soft_limit")]
    pub soft_limit: u32,
    #[serde(default = "default_soft_window_days")]
    pub soft_window_days: u32,
    /// Act on reports that prove nothing (no VERP token whose check verifies, no Message-ID
    /// of a delivery to the reported address): the reported address alone then suppresses
    /// or unsubscribes. Off: anyone can mail the public bounce address. Only for a relay
    /// that strips VERP and the returned message.
    #[serde(default)]
    pub trust_unverified: bool,
}

impl BounceSettings {
    /// A soft-bounce limit and window that make sense.
    pub fn check(&self) -> Result<(), crate::domain::BadSetting> {
        use crate::domain::BadSetting;
        if self.soft_limit == 0 || self.soft_limit > 100 {
            return Err(BadSetting::new(
                "bounces",
                "soft_limit",
                "must be between 1 and 100",
            ));
        }
        if self.soft_window_days == 0 || self.soft_window_days > 365 {
            return Err(BadSetting::new(
                "bounces",
                "soft_window_days",
                "must be between 1 and 365",
            ));
        }
        Ok(())
    }
}

impl Default for BounceSettings {
    fn default() -> Self {
        BounceSettings {
            soft_limit: default_soft_limit(),
            soft_window_days: default_soft_window_days(),
            trust_unverified: false,
        }
    }
}

fn default_soft_limit() -> u32 {
    3
}

fn default_soft_window_days() -> u32 {
    14
}
