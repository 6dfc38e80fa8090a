//! `[selection]` of `config.toml`: selection's own settings and their checks (config reads
//! the file and reports key and line).
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionSettings {
    #[serde(default = "default_max_papers")]
    pub max_papers: usize,
    /// A digest covers at most this many days (and at least since the reader's last one).
    #[serde(default = "default_window_days")]
    pub window_days: u32,
    /// Send a "nothing new this time" mail instead of skipping empty digests.
    #[serde(default)]
    pub send_empty: bool,
    /// `[selection.ranking]`: the weights of the relevance score (see `selection::score`).
    #[serde(default)]
    pub ranking: crate::selection::SelectionWeights,
    /// A static embedding model's folder (relative to the config file), checked at load;
    /// none: the model compiled in ([`crate::embed::Embedder::shipped`]).
    #[serde(default)]
    pub model: Option<PathBuf>,
}

impl Default for SelectionSettings {
    fn default() -> Self {
        SelectionSettings {
            max_papers: default_max_papers(),
            window_days: default_window_days(),
            send_empty: false,
            ranking: Default::default(),
            model: None,
        }
    }
}

impl SelectionSettings {
    /// What selection refuses: an empty or huge digest, a window of no days or of more than a
    /// year, ranking weights that do not add up, a model folder that does not load
    /// (`model` resolved by `resolve`, against the config file's folder).
    pub fn check(
        &self,
        resolve: impl Fn(&std::path::Path) -> PathBuf,
    ) -> Result<(), crate::domain::BadSetting> {
        use crate::domain::BadSetting;
        if self.max_papers == 0 || self.max_papers > 200 {
            return Err(BadSetting::new(
                "selection",
                "max_papers",
                "must be between 1 and 200",
            ));
        }
        if self.window_days == 0 || self.window_days > 366 {
            return Err(BadSetting::new(
                "selection",
                "window_days",
                "must be between 1 and 366",
            ));
        }
        if let Err((key, message)) = self.ranking.check() {
            return Err(BadSetting::new("selection.ranking", key, message));
        }
        if let Some(folder) = &self.model
            && let Err(e) = crate::embed::Embedder::load(&resolve(folder))
        {
            return Err(BadSetting::new("selection", "model", e.to_string()));
        }
        Ok(())
    }

    /// The embedding model `model` names (the shipped one when none): loaded from its
    /// files once per process and shared (reloaded when its files change) — the folder was
    /// already checked when the config loaded.
    pub fn embedder(
        &self,
    ) -> Result<std::sync::Arc<crate::embed::Embedder>, crate::embed::ModelError> {
        crate::embed::Embedder::shared(self.model.as_deref())
    }
}

fn default_max_papers() -> usize {
    20
}

fn default_window_days() -> u32 {
    7
}
