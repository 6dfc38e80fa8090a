//! The relevance benchmark: the labelled set of `labels.toml` scored against selection (and
//! a recommender for the liked-paper profiles). Shared by `cargo bench --bench relevance`
//! (prints the tables) and `tests/relevance.rs` (keeps the figures from falling).
use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use paperpost::domain::StoredPaper;
use paperpost::domain::{Paper, PaperId, Topics};
use paperpost::selection::{SelectionLimits, Selector};
use paperpost::sources::{arxiv_api, arxiv_feed, hf};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Labels {
    pub query: Vec<Query>,
    pub profile: Vec<Profile>,
}

#[derive(Debug, Deserialize)]
pub struct Query {
    pub name: String,
    pub kind: String,
    pub topics: String,
    pub relevant: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Profile {
    pub name: String,
    pub likes: Vec<String>,
    pub dislikes: Vec<String>,
    pub relevant: Vec<String>,
}

/// Ranks the corpus for a reader who liked `likes` and disliked `dislikes` (best first;
/// the liked papers themselves are dropped by the scorer).
pub type Recommender = fn(&[StoredPaper], &[PaperId], &[PaperId]) -> Vec<PaperId>;

/// Scores of one query or profile.
#[derive(Debug, Clone)]
pub struct Score {
    pub name: String,
    pub kind: String,
    pub retrieved: usize,
    pub relevant: usize,
    pub precision: f64,
    pub recall: f64,
    pub ndcg10: f64,
}

/// Means over a group of scores.
#[derive(Debug, Clone, Copy)]
pub struct Mean {
    pub precision: f64,
    pub recall: f64,
    pub ndcg10: f64,
}

pub fn mean(scores: &[Score]) -> Mean {
    let n = scores.len().max(1) as f64;
    Mean {
        precision: scores.iter().map(|s| s.precision).sum::<f64>() / n + 0.0,
        recall: scores.iter().map(|s| s.recall).sum::<f64>() / n + 0.0,
        ndcg10: scores.iter().map(|s| s.ndcg10).sum::<f64>() / n + 0.0,
    }
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
        .expect("fixed date")
        .to_utc()
}

pub fn labels() -> Labels {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/relevance/labels.toml");
    let text = std::fs::read_to_string(&path).expect("tests/relevance/labels.toml");
    toml::from_str(&text).expect("labels.toml follows its documented format")
}

/// Every recorded paper, parsed by paperpost's own parsers, one per id (the first seen).
pub fn corpus() -> Vec<StoredPaper> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect(name);
    let mut papers: Vec<Paper> = Vec::new();
    papers.extend(
        hf::parse(&read("hf_daily_papers_2024-10-25_full.json"))
            .expect("hf")
            .papers,
    );
    for f in [
        "arxiv_api_2026_query_testing_max10.xml",
        "arxiv_api_legacy2016_au_del_maestro.xml",
        "arxiv_api_2026_id_list_1605.08386.xml",
        "arxiv_api_2026_old_style_id_astro-ph_0601001.xml",
        "arxiv_api_legacy2016_au_del_maestro_AND_ti_checkerboard.xml",
    ] {
        papers.extend(arxiv_api::parse(&read(f)).expect(f).papers);
    }
    for f in [
        "arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml",
        "arxiv_rss_cs.AI_handmade.xml",
    ] {
        papers.extend(arxiv_feed::parse(&read(f)).expect(f));
    }
    let mut seen = HashSet::new();
    papers
        .into_iter()
        .filter(|p| p.id.as_ref().is_some_and(|id| seen.insert(id.clone())))
        .map(|paper| StoredPaper {
            paper,
            first_seen: now(),
            replacement: false,
        })
        .collect()
}

pub fn id(s: &str) -> PaperId {
    PaperId::parse_arxiv(s)
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("labels.toml: `{s}` is not an arXiv id"))
}

pub fn score(name: &str, kind: &str, ranked: &[PaperId], relevant: &[String]) -> Score {
    let relevant: HashSet<PaperId> = relevant.iter().map(|s| id(s)).collect();
    let hits = ranked.iter().filter(|p| relevant.contains(p)).count();
    let dcg: f64 = ranked
        .iter()
        .take(10)
        .enumerate()
        .filter(|(_, p)| relevant.contains(p))
        .map(|(i, _)| 1.0 / (i as f64 + 2.0).log2())
        .sum();
    let idcg: f64 = (0..relevant.len().min(10))
        .map(|i| 1.0 / (i as f64 + 2.0).log2())
        .sum();
    Score {
        name: name.to_string(),
        kind: kind.to_string(),
        retrieved: ranked.len(),
        relevant: relevant.len(),
        precision: if ranked.is_empty() {
            0.0
        } else {
            hits as f64 / ranked.len() as f64
        },
        recall: hits as f64 / relevant.len().max(1) as f64,
        ndcg10: if idcg > 0.0 { dcg / idcg + 0.0 } else { 0.0 },
    }
}

fn limits() -> SelectionLimits {
    SelectionLimits {
        max_papers: 100,
        ..SelectionLimits::default()
    }
}

/// Every query of the labelled set, through the real topic parser and selection.
pub fn score_queries(labels: &Labels, papers: &[StoredPaper]) -> Vec<Score> {
    labels
        .query
        .iter()
        .zip(select_queries(labels, papers))
        .map(|(q, ranked)| score(&q.name, &q.kind, &ranked, &q.relevant))
        .collect()
}

/// What selection picks for every query, best first.
pub fn select_queries(labels: &Labels, papers: &[StoredPaper]) -> Vec<Vec<PaperId>> {
    let topics: Vec<Topics> = labels
        .query
        .iter()
        .map(|q| {
            Topics::parse(&q.topics)
                .unwrap_or_else(|e| panic!("labels.toml: query `{}`: {e}", q.name))
        })
        .collect();
    let selector = Selector::new(papers.to_vec(), topics.iter(), limits());
    let since = now() - Duration::days(7);
    topics
        .iter()
        .map(|t| {
            selector
                .select(t, since, &HashSet::new())
                .into_iter()
                .filter_map(|p| p.paper.id)
                .collect()
        })
        .collect()
}

/// Every profile, ranked by `recommend`; the liked and disliked papers are never counted.
pub fn score_profiles(
    labels: &Labels,
    papers: &[StoredPaper],
    recommend: Recommender,
) -> Vec<Score> {
    labels
        .profile
        .iter()
        .map(|p| {
            let likes: Vec<PaperId> = p.likes.iter().map(|s| id(s)).collect();
            let dislikes: Vec<PaperId> = p.dislikes.iter().map(|s| id(s)).collect();
            let ranked: Vec<PaperId> = recommend(papers, &likes, &dislikes)
                .into_iter()
                .filter(|x| !likes.contains(x) && !dislikes.contains(x))
                .collect();
            score(&p.name, "profile", &ranked, &p.relevant)
        })
        .collect()
}

/// The per-reader model of the digest's "More like what you liked" section (a linear SVM
/// over tf-idf of every stored paper, `paperpost::recommend`).
pub fn svm_recommender(
    papers: &[StoredPaper],
    likes: &[PaperId],
    dislikes: &[PaperId],
) -> Vec<PaperId> {
    let corpus = paperpost::recommend::Corpus::build(papers.iter().map(|p| p.paper.clone()));
    paperpost::recommend::rank_for_profile(&corpus, likes, dislikes)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// The baseline the model is compared with: an `about:` interest made of the
/// liked papers' titles (dislikes ignored).
pub fn about_titles_baseline(
    papers: &[StoredPaper],
    likes: &[PaperId],
    _dislikes: &[PaperId],
) -> Vec<PaperId> {
    let by_id: HashMap<&PaperId, &Paper> = papers
        .iter()
        .filter_map(|p| Some((p.paper.id.as_ref()?, &p.paper)))
        .collect();
    let mut text: String = likes
        .iter()
        .filter_map(|id| by_id.get(id))
        .map(|p| p.title.replace(['"', '“', '”'], " "))
        .collect::<Vec<_>>()
        .join(" ");
    text = text.chars().take(380).collect();
    let Ok(topics) = Topics::parse(&format!("about:\"{text}\"")) else {
        return Vec::new();
    };
    let selector = Selector::new(papers.to_vec(), [&topics], limits());
    selector
        .select(&topics, now() - Duration::days(7), &HashSet::new())
        .into_iter()
        .filter_map(|p| p.paper.id)
        .collect()
}

/// The report as Markdown tables.
pub fn report(queries: &[Score], profiles: &[Score], recommender: &str) -> String {
    let mut out = String::new();
    let row = |s: &Score| {
        format!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} |\n",
            s.name, s.kind, s.relevant, s.retrieved, s.precision, s.recall, s.ndcg10
        )
    };
    out += "| query | kind | relevant | picked | precision | recall | nDCG@10 |\n";
    out += "|---|---|---|---|---|---|---|\n";
    for s in queries {
        out += &row(s);
    }
    let mut kinds: Vec<&str> = queries.iter().map(|s| s.kind.as_str()).collect();
    kinds.dedup();
    for kind in kinds {
        let group: Vec<Score> = queries.iter().filter(|s| s.kind == kind).cloned().collect();
        let m = mean(&group);
        out += &format!(
            "| **mean, {kind}** ({}) | | | | {:.2} | {:.2} | {:.2} |\n",
            group.len(),
            m.precision,
            m.recall,
            m.ndcg10
        );
    }
    let m = mean(queries);
    out += &format!(
        "| **mean, all {} queries** | | | | **{:.2}** | **{:.2}** | **{:.2}** |\n\n",
        queries.len(),
        m.precision,
        m.recall,
        m.ndcg10
    );
    out += &format!("Liked-paper profiles, recommender: {recommender}\n\n");
    out += "| profile | | relevant | ranked | precision | recall | nDCG@10 |\n";
    out += "|---|---|---|---|---|---|---|\n";
    for s in profiles {
        out += &row(s);
    }
    let m = mean(profiles);
    out += &format!(
        "| **mean, {} profiles** | | | | **{:.2}** | **{:.2}** | **{:.2}** |\n",
        profiles.len(),
        m.precision,
        m.recall,
        m.ndcg10
    );
    out
}
