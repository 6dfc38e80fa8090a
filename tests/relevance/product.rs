//! paperpost as it is, plugged into the benchmark: selection for queries, and for profiles
//! the digest's "More like what you liked" section, the whole digest of a like-only reader,
//! the profile model's whole ranking, and the per-reader tf-idf + linear SVM it replaced.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use paperpost::domain::{PaperId, ReaderFeedback, Topics};
use paperpost::embed::Embedder;
use paperpost::recommend::{self, ProfileIndex, ProfileWeights, ReaderInput, RecommendLimits};
use paperpost::selection::{Meaning, SelectionLimits, SelectionWeights, Selector};

use super::{Corpus, Labels, Profile, Query, Ranker, Recommender, since};

/// Each query's topic line through the real topic parser and selection, picks capped at
/// `cap`. A line the parser refuses is a refusal.
pub struct Selection {
    selector: Selector,
    topics: HashMap<String, Option<Topics>>,
    name: &'static str,
}

impl Selection {
    /// Selection as planning runs it: words and meaning fused.
    pub fn new(corpus: &Corpus, labels: &Labels, cap: usize) -> Selection {
        Selection::weighted(corpus, labels, cap, SelectionWeights::default())
    }

    /// Selection reading words alone (`meaning_weight = 0`): the ablation's lexical row.
    pub fn words_only(corpus: &Corpus, labels: &Labels, cap: usize) -> Selection {
        let weights = SelectionWeights {
            meaning_weight: 0.0,
            ..SelectionWeights::default()
        };
        let mut s = Selection::weighted(corpus, labels, cap, weights);
        s.name = "paperpost selection, words only";
        s
    }

    pub fn rename(&mut self, name: &'static str) {
        self.name = name;
    }

    /// Selection with these `[selection.ranking]` weights.
    pub fn weighted(
        corpus: &Corpus,
        labels: &Labels,
        cap: usize,
        weights: SelectionWeights,
    ) -> Selection {
        // As planning reads them: keywords, phrases and `about:` lines by meaning too, with
        // the shipped model.
        let embedder = std::sync::Arc::new(Embedder::shipped());
        Selection::with_model(corpus, labels, cap, weights, embedder)
    }

    /// Selection with these weights, reading by meaning with `embedder`'s model.
    pub fn with_model(
        corpus: &Corpus,
        labels: &Labels,
        cap: usize,
        weights: SelectionWeights,
        embedder: std::sync::Arc<Embedder>,
    ) -> Selection {
        let topics: HashMap<String, Option<Topics>> = labels
            .query
            .iter()
            .map(|q| (q.name.clone(), Topics::parse(&q.topics).ok()))
            .collect();
        let limits = SelectionLimits {
            max_papers: cap,
            weights,
        };
        let meaning = Meaning::embed(embedder, &corpus.papers);
        let selector = Selector::with_meaning(
            corpus.papers.clone(),
            topics.values().flatten(),
            limits,
            Some(meaning),
        );
        Selection {
            selector,
            topics,
            name: "paperpost selection",
        }
    }
}

impl Ranker for Selection {
    fn name(&self) -> &str {
        self.name
    }

    fn rank(&self, query: &Query) -> Option<Vec<PaperId>> {
        let topics = self.topics.get(&query.name)?.as_ref()?;
        Some(ids(self.selector.select(topics, since(), &HashSet::new())))
    }
}

fn ids(picks: Vec<paperpost::domain::Pick>) -> Vec<PaperId> {
    picks.into_iter().filter_map(|p| p.paper.id).collect()
}

/// A reader who likes (and dislikes) the profile's papers, planned as the digest plans
/// them ([`recommend::personalise`] over the period's papers with the profile model): the
/// whole digest of a reader who follows only papers (their picks, ranked by the profile),
/// the "More like what you liked" section of a reader whose words took no paper, or the
/// profile model's ranking of every paper (no cut-off).
pub struct MoreLike {
    index: recommend::Corpus,
    embedder: Embedder,
    period: Vec<(PaperId, DateTime<Utc>)>,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Section,
    Feed,
    Model,
}

impl MoreLike {
    pub fn section(corpus: &Corpus) -> MoreLike {
        MoreLike::new(corpus, Kind::Section)
    }

    pub fn feed(corpus: &Corpus) -> MoreLike {
        MoreLike::new(corpus, Kind::Feed)
    }

    pub fn model(corpus: &Corpus) -> MoreLike {
        MoreLike::new(corpus, Kind::Model)
    }

    fn new(corpus: &Corpus, kind: Kind) -> MoreLike {
        MoreLike {
            index: recommend::Corpus::build(corpus.papers.iter().map(|p| p.paper.clone())),
            embedder: Embedder::shipped(),
            period: corpus
                .papers
                .iter()
                .filter_map(|p| Some((p.paper.id.clone()?, p.first_seen)))
                .collect(),
            kind,
        }
    }
}

impl Recommender for MoreLike {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Section => "paperpost \"More like\" section",
            Kind::Feed => "paperpost digest of a like-only reader",
            Kind::Model => "paperpost profile model (meaning + words)",
        }
    }

    fn recommend(&self, profile: &Profile) -> Vec<PaperId> {
        // What `like:ID, dislike:ID` (or 👍/👎) gives planning, built directly: the topic
        // line names arXiv papers only, and some profiles like PubMed or DOI papers.
        let feedback = ReaderFeedback {
            likes: profile.like_ids(),
            dislikes: profile.dislike_ids(),
        };
        let vectors = ProfileIndex::embed_candidates(&self.index, &self.embedder, &self.period);
        let index = ProfileIndex::build(
            &self.index,
            &self.embedder,
            &self.period,
            &vectors,
            ProfileWeights::default(),
        );
        let Some(reader) = index.profile(&feedback, &[]) else {
            return Vec::new();
        };
        if self.kind == Kind::Model {
            return index
                .rank_all(&reader)
                .into_iter()
                .map(|(id, _)| id)
                .collect();
        }
        let sent = HashSet::new();
        let input = ReaderInput {
            feedback: &feedback,
            profile: Some(&reader),
            follows_only_papers: self.kind == Kind::Feed,
            since: since(),
            already_sent: &sent,
        };
        let p = recommend::personalise(&index, input, Vec::new(), RecommendLimits::default());
        ids(p.picks).into_iter().chain(ids(p.more_like)).collect()
    }
}

/// The per-reader model "More like" used before the profile model (planning no longer
/// does): a linear SVM over tf-idf of title + abstract, classes balanced, C = 0.1, which is
/// arxiv-sanity-lite's method (LinearSVC, class_weight balanced, C 0.01–0.1).
pub struct Svm {
    index: recommend::Corpus,
}

impl Svm {
    pub fn new(corpus: &Corpus) -> Svm {
        Svm {
            index: recommend::Corpus::build(corpus.papers.iter().map(|p| p.paper.clone())),
        }
    }
}

impl Recommender for Svm {
    fn name(&self) -> &str {
        "tf-idf + linear SVM"
    }

    fn recommend(&self, profile: &Profile) -> Vec<PaperId> {
        recommend::rank_by_svm(&self.index, &profile.like_ids(), &profile.dislike_ids())
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }
}
