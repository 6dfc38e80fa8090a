//! `[render]` of `config.toml`: the renderer's own settings (config reads the file and
//! reports key and line; the type and its meaning live here).
use serde::Deserialize;

/// `[render]`: how the digest shows each paper.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderSettings {
    /// `summary` (default): the source's AI summary or the abstract's first sentences, the
    /// full abstract one click away; `full`: the (shortened) abstract under the summary too.
    #[serde(default, rename = "abstract")]
    pub abstract_mode: AbstractMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AbstractMode {
    #[default]
    Summary,
    Full,
}
