//! paperpost as it is, plugged into the benchmark: selection for queries, and for profiles
//! the digest's "More like what you liked" section, the whole digest of a like-only reader,
//! and the per-reader model alone (tf-idf + linear SVM, arxiv-sanity-lite's method).
use std::collections::{HashMap, HashSet};

use paperpost::domain::{PaperId, ReaderFeedback, StoredPaper, Topics};
use paperpost::recommend::{self, RecommendLimits};
use paperpost::selection::{SelectionLimits, Selector};

use super::{Corpus, Labels, Profile, Query, Ranker, Recommender, since};

/// Each query's topic line through the real topic parser and selection, picks capped at
/// `cap`. A line the parser refuses is a refusal.
pub struct Selection {
    selector: Selector,
    topics: HashMap<String, Option<Topics>>,
}

impl Selection {
    pub fn new(corpus: &Corpus, labels: &Labels, cap: usize) -> Selection {
        let topics: HashMap<String, Option<Topics>> = labels
            .query
            .iter()
            .map(|q| (q.name.clone(), Topics::parse(&q.topics).ok()))
            .collect();
        let limits = SelectionLimits {
            max_papers: cap,
            ..SelectionLimits::default()
        };
        let selector = Selector::new(corpus.papers.clone(), topics.values().flatten(), limits);
        Selection { selector, topics }
    }
}

impl Ranker for Selection {
    fn name(&self) -> &str {
        "paperpost selection"
    }

    fn rank(&self, query: &Query) -> Option<Vec<PaperId>> {
        let topics = self.topics.get(&query.name)?.as_ref()?;
        Some(ids(self.selector.select(topics, since(), &HashSet::new())))
    }
}

fn ids(picks: Vec<paperpost::domain::Pick>) -> Vec<PaperId> {
    picks.into_iter().filter_map(|p| p.paper.id).collect()
}

/// A reader whose topics are only liked and disliked papers (`like:` / `dislike:`), planned as the digest plans
/// them (selection with the default digest size, then [`recommend::personalise`] over every
/// paper of the period): either the "More like what you liked" section alone, or the whole
/// digest in its order (picks, then that section).
pub struct MoreLike {
    papers: Vec<StoredPaper>,
    index: recommend::Corpus,
    whole_digest: bool,
}

impl MoreLike {
    pub fn section(corpus: &Corpus) -> MoreLike {
        MoreLike::new(corpus, false)
    }

    pub fn feed(corpus: &Corpus) -> MoreLike {
        MoreLike::new(corpus, true)
    }

    fn new(corpus: &Corpus, whole_digest: bool) -> MoreLike {
        MoreLike {
            papers: corpus.papers.clone(),
            index: recommend::Corpus::build(corpus.papers.iter().map(|p| p.paper.clone())),
            whole_digest,
        }
    }
}

impl Recommender for MoreLike {
    fn name(&self) -> &str {
        if self.whole_digest {
            "paperpost digest of a like-only reader"
        } else {
            "paperpost \"More like\" section"
        }
    }

    fn recommend(&self, profile: &Profile) -> Vec<PaperId> {
        // What `like:ID, dislike:ID` parses to, built directly: the topic line names arXiv
        // papers only, and some profiles like PubMed or DOI papers (as a reader's 👍 or
        // library would).
        let topics = Topics {
            likes: profile.like_ids(),
            dislikes: profile.dislike_ids(),
            ..Topics::default()
        };
        let selector = Selector::new(self.papers.clone(), [&topics], SelectionLimits::default());
        let picks = selector.select(&topics, since(), &HashSet::new());
        let feedback = ReaderFeedback {
            likes: profile.like_ids(),
            dislikes: profile.dislike_ids(),
        };
        let period: Vec<PaperId> = self
            .papers
            .iter()
            .filter_map(|p| p.paper.id.clone())
            .collect();
        let p = recommend::personalise(
            &self.index,
            &feedback,
            picks,
            &period,
            RecommendLimits::default(),
        );
        let section = ids(p.more_like);
        if self.whole_digest {
            ids(p.picks).into_iter().chain(section).collect()
        } else {
            section
        }
    }
}

/// The per-reader model behind "More like" ranking every paper: a linear SVM over tf-idf of
/// title + abstract, classes balanced, C = 0.1 (`paperpost::recommend`), which is
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
        recommend::rank_for_profile(&self.index, &profile.like_ids(), &profile.dislike_ids())
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }
}
