//! What planning an edition reads: the pipeline's own options, which `config` builds from
//! `[selection]` and the newsletter (its Message-ID domain, sources and default topics).
/// What planning an edition reads from `config.toml`: the `[selection]` section and the
/// domain of the Message-IDs it assigns; part of a newsletter's options
/// ([`super::NewsletterOptions`]).
#[derive(Debug, Clone)]
pub struct PlanSettings {
    pub selection: crate::selection::SelectionSettings,
    pub message_id_domain: String,
    /// The newsletter's sources (their names): its editions pick only papers one of them
    /// saw; `None`: every stored paper.
    pub sources: Option<Vec<String>>,
    /// What a reader who follows nothing at all gets (the newsletter's `default_topics`);
    /// `None`: the trending papers.
    pub default_topics: Option<crate::domain::Topics>,
}

impl PlanSettings {
    /// Planning with `selection` over every paper, no default topics (previews of a topic
    /// line, tests).
    pub fn for_selection(selection: crate::selection::SelectionSettings) -> PlanSettings {
        PlanSettings {
            selection,
            message_id_domain: String::new(),
            sources: None,
            default_topics: None,
        }
    }

    /// The topics a reader is planned by: their own, or the newsletter's default topics
    /// when they wrote none at all.
    pub fn topics_of<'a>(&'a self, own: &'a crate::domain::Topics) -> &'a crate::domain::Topics {
        match &self.default_topics {
            Some(d) if *own == crate::domain::Topics::default() => d,
            _ => own,
        }
    }

    /// Whether a stored paper is one of this newsletter's: seen by one of its sources (a
    /// paper no source is recorded for belongs to every newsletter).
    pub fn takes(&self, paper: &crate::domain::Paper) -> bool {
        match &self.sources {
            None => true,
            Some(mine) => {
                paper.sources.is_empty() || paper.sources.iter().any(|s| mine.contains(s))
            }
        }
    }
}
