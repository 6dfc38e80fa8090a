//! The relevance benchmark: the labelled set of `labels.toml` over the recorded papers of
//! `tests/relevance/corpus/` and `tests/fixtures/`, scored for every ranker and recommender
//! plugged in below. Shared by `cargo bench --bench relevance` (prints the tables) and
//! `tests/single_pass/relevance.rs` (keeps the figures from falling).
//!
//! Plugging in a ranker: implement [`Ranker`] (queries) or [`Recommender`] (liked-paper
//! profiles) and add it to [`rankers`] / [`recommenders`]; the per-query tables and the one
//! ablation table then carry it. A ranker sees the labelled [`Query`] (its topic line and
//! the words a search box would get) and the [`Corpus`] it was built with, never the labels.

// Shared by a bench and a test binary, each using a part of it.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use paperpost::domain::{Paper, PaperId, StoredPaper};
use paperpost::sources::{FileFormat, arxiv_api, arxiv_feed, hf, local};
use serde::Deserialize;

#[path = "baselines.rs"]
pub mod baselines;
#[path = "product.rs"]
pub mod product;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    pub query: Vec<Query>,
    pub profile: Vec<Profile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    pub name: String,
    pub kind: String,
    pub topics: String,
    /// Grade 2: squarely about the query.
    pub relevant: Vec<String>,
    /// Grade 1: relevant, not squarely about it.
    #[serde(default)]
    pub related: Vec<String>,
    /// What a plain search box gets; by default the words of `topics` (see [`Query::words`]).
    #[serde(default)]
    pub bm25: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub likes: Vec<String>,
    #[serde(default)]
    pub dislikes: Vec<String>,
    pub relevant: Vec<String>,
    #[serde(default)]
    pub related: Vec<String>,
}

impl Query {
    /// The words a plain search engine gets for this query: `bm25` when the label gives it,
    /// else the topic line without its syntax — prefixes (`about:`, `author:`, `cat:`,
    /// `ti:`…), quotes, `AND`/`OR`, and without what it excludes (`-x`, `NOT x`) or names
    /// by id (`like:`).
    pub fn words(&self) -> String {
        if let Some(w) = &self.bm25 {
            return w.clone();
        }
        let mut out = Vec::new();
        for item in self.topics.split([',', ';', '\n']) {
            let item = item.trim();
            if item.starts_with('-')
                || ["like:", "dislike:", "min_upvotes:", "upvotes"]
                    .iter()
                    .any(|p| item.starts_with(p))
            {
                continue;
            }
            let item = item
                .split_once(':')
                .filter(|(p, _)| p.chars().all(|c| c.is_ascii_alphabetic()) && p.len() <= 6)
                .map_or(item, |(_, rest)| rest);
            let mut skip_next = false;
            for w in item.split_whitespace() {
                match w {
                    "AND" | "OR" => {}
                    "NOT" => skip_next = true,
                    _ if skip_next => skip_next = false,
                    _ => out.push(w.trim_matches(['"', '“', '”']).to_string()),
                }
            }
        }
        out.join(" ")
    }

    fn grades(&self) -> HashMap<PaperId, u8> {
        grades(&self.relevant, &self.related)
    }
}

impl Profile {
    pub fn like_ids(&self) -> Vec<PaperId> {
        self.likes.iter().map(|s| id(s)).collect()
    }

    pub fn dislike_ids(&self) -> Vec<PaperId> {
        self.dislikes.iter().map(|s| id(s)).collect()
    }
}

/// Ranks the corpus for a labelled query, best first. `None` when the ranker refuses the
/// query (paperpost refuses a topic line it cannot read): scored as an empty list, marked.
pub trait Ranker {
    fn name(&self) -> &str;
    fn rank(&self, query: &Query) -> Option<Vec<PaperId>>;
}

/// Ranks the corpus for a reader who liked (and disliked) the profile's papers, best first.
/// Liked and disliked papers in the answer are dropped by the scorer.
pub trait Recommender {
    fn name(&self) -> &str;
    fn recommend(&self, profile: &Profile) -> Vec<PaperId>;
}

/// Every query ranker, the product first. Later work adds one per embedding model and the
/// hybrid here.
pub fn rankers(corpus: &Corpus, labels: &Labels) -> Vec<Box<dyn Ranker>> {
    let mut all: Vec<Box<dyn Ranker>> = vec![
        Box::new(product::Selection::new(corpus, labels, CAP)),
        Box::new(baselines::Bm25::new(corpus, CAP)),
        Box::new(product::Selection::words_only(corpus, labels, CAP)),
    ];
    // `PAPERPOST_SWEEP="meaning_weight=0.5,fusion_k=20;..."`: more weightings of selection,
    // one row each, for choosing the defaults.
    if let Ok(sweep) = std::env::var("PAPERPOST_SWEEP") {
        for spec in sweep.split(';').filter(|s| !s.trim().is_empty()) {
            let text = spec.replace(',', "\n");
            let weights: paperpost::selection::SelectionWeights =
                toml::from_str(&text).expect("PAPERPOST_SWEEP: key = value pairs");
            let name: &'static str = Box::leak(format!("selection {spec}").into_boxed_str());
            let mut s = product::Selection::weighted(corpus, labels, CAP, weights);
            s.rename(name);
            all.push(Box::new(s));
        }
    }
    all
}

/// Every profile recommender, the product first.
pub fn recommenders(corpus: &Corpus) -> Vec<Box<dyn Recommender>> {
    vec![
        Box::new(product::MoreLike::section(corpus)),
        Box::new(product::MoreLike::feed(corpus)),
        Box::new(product::MoreLike::model(corpus)),
        Box::new(baselines::Centroid::new(corpus)),
        Box::new(product::Svm::new(corpus)),
    ]
}

/// Queries are scored on at most this many picks, so recall is not cut by a digest's size.
pub const CAP: usize = 100;

/// The recorded papers, one per id (the first seen).
pub struct Corpus {
    pub papers: Vec<StoredPaper>,
}

/// Entries of the recorded feed excerpt that are not real papers (one-sentence abstracts,
/// placeholder authors): left out of the benchmark.
const NOT_REAL: [&str; 3] = ["2508.13435", "2508.14001", "2508.14002"];

/// The date the benchmark plans for: every paper was first seen then, inside the window.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
        .expect("fixed date")
        .to_utc()
}

pub fn since() -> DateTime<Utc> {
    now() - Duration::days(7)
}

pub fn labels() -> Labels {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/relevance/labels.toml");
    let text = std::fs::read_to_string(&path).expect("tests/relevance/labels.toml");
    toml::from_str(&text).unwrap_or_else(|e| panic!("tests/relevance/labels.toml: {e}"))
}

/// Every recorded paper of `tests/relevance/corpus/` (arXiv API answers; PubMed records
/// and a BibTeX file converted to paperpost's JSON list format by `convert.py`) and of
/// `tests/fixtures/` (HF Daily Papers, arXiv API answers, the arXiv feed excerpt; not the
/// hand-made files), read with paperpost's own parsers.
pub fn corpus() -> Corpus {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let read =
        |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut files: Vec<_> = std::fs::read_dir(root.join("relevance/corpus"))
        .expect("tests/relevance/corpus")
        .chain(std::fs::read_dir(root.join("fixtures")).expect("tests/fixtures"))
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    let mut papers: Vec<Paper> = Vec::new();
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.contains("handmade") {
            continue;
        }
        if name.starts_with("arxiv_api_") {
            let page = arxiv_api::parse(&read(f)).unwrap_or_else(|e| panic!("{name}: {e}"));
            papers.extend(page.papers);
        } else if name.starts_with("arxiv_rss_") {
            papers.extend(arxiv_feed::parse(&read(f)).unwrap_or_else(|e| panic!("{name}: {e}")));
        } else if name.starts_with("paperpost_list_") {
            papers.extend(
                local::parse(&read(f), FileFormat::PaperpostJson)
                    .unwrap_or_else(|e| panic!("{name}: {e}")),
            );
        } else if name.starts_with("hf_daily_papers_") {
            papers.extend(
                hf::parse(&read(f))
                    .unwrap_or_else(|e| panic!("{name}: {e}"))
                    .papers,
            );
        }
    }
    let not_real: HashSet<PaperId> = NOT_REAL.iter().map(|s| id(s)).collect();
    let mut seen = HashSet::new();
    let papers = papers
        .into_iter()
        .filter(|p| {
            p.id.as_ref()
                .is_some_and(|id| !not_real.contains(id) && seen.insert(id.clone()))
        })
        .map(|paper| StoredPaper {
            paper,
            first_seen: now(),
            replacement: false,
        })
        .collect();
    Corpus { papers }
}

impl Corpus {
    fn title(&self, id: &PaperId) -> &str {
        self.papers
            .iter()
            .find(|p| p.paper.id.as_ref() == Some(id))
            .map_or("", |p| p.paper.title.as_str())
    }
}

/// A label's paper: an arXiv id (no version), `pmid:NUMBER` (a PubMed record, known by its
/// PubMed page) or `doi:DOI` (known by its resolver address), as the corpus files name them.
pub fn id(s: &str) -> PaperId {
    if let Some(pmid) = s.strip_prefix("pmid:") {
        return PaperId::external(&format!("https://pubmed.ncbi.nlm.nih.gov/{pmid}/"));
    }
    if let Some(doi) = s.strip_prefix("doi:") {
        return PaperId::external(&format!("https://doi.org/{doi}"));
    }
    PaperId::parse_arxiv(s)
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("labels.toml: `{s}` is neither an arXiv id, pmid: nor doi:"))
}

/// How labels.toml names a paper of the corpus (the inverse of [`id`]).
pub fn label(id: &PaperId) -> String {
    let s = id.as_str();
    if let Some(pmid) = s.strip_prefix("ext:https://pubmed.ncbi.nlm.nih.gov/") {
        return format!("pmid:{}", pmid.trim_end_matches('/'));
    }
    if let Some(doi) = s.strip_prefix("ext:https://doi.org/") {
        return format!("doi:{doi}");
    }
    s.to_string()
}

fn grades(relevant: &[String], related: &[String]) -> HashMap<PaperId, u8> {
    let mut g: HashMap<PaperId, u8> = related.iter().map(|s| (id(s), 1)).collect();
    g.extend(relevant.iter().map(|s| (id(s), 2)));
    g
}

/// Scores of one query or profile for one ranker.
#[derive(Debug, Clone)]
pub struct Score {
    pub name: String,
    pub kind: String,
    pub retrieved: usize,
    /// Papers labelled relevant (either grade).
    pub relevant: usize,
    pub refused: bool,
    pub precision: f64,
    pub recall: f64,
    pub ndcg5: f64,
    pub ndcg10: f64,
}

/// nDCG@k with graded gains (2 squarely about it, 1 relevant): DCG = Σ gain / log2(rank + 1).
fn ndcg(ranked: &[PaperId], grades: &HashMap<PaperId, u8>, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, p)| f64::from(grades.get(p).copied().unwrap_or(0)) / (i as f64 + 2.0).log2())
        .sum();
    let mut ideal: Vec<u8> = grades.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, &g)| f64::from(g) / (i as f64 + 2.0).log2())
        .sum();
    if idcg > 0.0 { dcg / idcg + 0.0 } else { 0.0 }
}

fn score(
    name: &str,
    kind: &str,
    ranked: Option<&[PaperId]>,
    grades: &HashMap<PaperId, u8>,
) -> Score {
    let list = ranked.unwrap_or_default();
    let hits = list.iter().filter(|p| grades.contains_key(p)).count();
    Score {
        name: name.to_string(),
        kind: kind.to_string(),
        retrieved: list.len(),
        relevant: grades.len(),
        refused: ranked.is_none(),
        precision: if list.is_empty() {
            0.0
        } else {
            hits as f64 / list.len() as f64
        },
        recall: hits as f64 / grades.len().max(1) as f64,
        ndcg5: ndcg(list, grades, 5),
        ndcg10: ndcg(list, grades, 10),
    }
}

/// Every ranker's query scores and every recommender's profile scores, by name.
pub type Scored<'a> = Vec<(&'a str, Vec<Score>)>;

pub fn score_all<'a>(
    labels: &Labels,
    rankers: &'a [Box<dyn Ranker>],
    recommenders: &'a [Box<dyn Recommender>],
) -> (Scored<'a>, Scored<'a>) {
    let queries = rankers
        .iter()
        .map(|r| (r.name(), score_queries(labels, r.as_ref())))
        .collect();
    let profiles = recommenders
        .iter()
        .map(|r| (r.name(), score_profiles(labels, r.as_ref())))
        .collect();
    (queries, profiles)
}

pub fn score_queries(labels: &Labels, ranker: &dyn Ranker) -> Vec<Score> {
    labels
        .query
        .iter()
        .map(|q| {
            let ranked = ranker.rank(q);
            score(&q.name, &q.kind, ranked.as_deref(), &q.grades())
        })
        .collect()
}

/// Every profile, ranked by `recommender`; the liked and disliked papers are never counted.
pub fn score_profiles(labels: &Labels, recommender: &dyn Recommender) -> Vec<Score> {
    labels
        .profile
        .iter()
        .map(|p| {
            let (likes, dislikes) = (p.like_ids(), p.dislike_ids());
            let ranked: Vec<PaperId> = recommender
                .recommend(p)
                .into_iter()
                .filter(|x| !likes.contains(x) && !dislikes.contains(x))
                .collect();
            score(
                &p.name,
                "profile",
                Some(&ranked),
                &grades(&p.relevant, &p.related),
            )
        })
        .collect()
}

/// Means over a group of scores.
#[derive(Debug, Clone, Copy)]
pub struct Mean {
    pub precision: f64,
    pub recall: f64,
    pub ndcg5: f64,
    pub ndcg10: f64,
}

pub fn mean<'a>(scores: impl IntoIterator<Item = &'a Score>) -> Mean {
    let scores: Vec<&Score> = scores.into_iter().collect();
    let n = scores.len().max(1) as f64;
    let avg = |f: fn(&Score) -> f64| scores.iter().map(|s| f(s)).sum::<f64>() / n + 0.0;
    Mean {
        precision: avg(|s| s.precision),
        recall: avg(|s| s.recall),
        ndcg5: avg(|s| s.ndcg5),
        ndcg10: avg(|s| s.ndcg10),
    }
}

/// The kinds of the labelled queries, in the order they first appear.
pub fn kinds(labels: &Labels) -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    for q in &labels.query {
        if !kinds.contains(&q.kind) {
            kinds.push(q.kind.clone());
        }
    }
    kinds
}

pub fn mean_of_kind(scores: &[Score], kind: &str) -> Mean {
    mean(scores.iter().filter(|s| s.kind == kind))
}

/// The per-query table of one ranker, with a baseline's nDCG@10 beside each row.
pub fn query_report(
    labels: &Labels,
    scores: &[Score],
    baseline: &[Score],
    baseline_name: &str,
) -> String {
    let mut out = format!(
        "| query | kind | relevant | picked | precision | recall | nDCG@10 | {baseline_name} nDCG@10 |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    for (s, b) in scores.iter().zip(baseline) {
        let picked = if s.refused {
            "refused".to_string()
        } else {
            s.retrieved.to_string()
        };
        out += &format!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            s.name, s.kind, s.relevant, picked, s.precision, s.recall, s.ndcg10, b.ndcg10
        );
    }
    for kind in kinds(labels) {
        let m = mean_of_kind(scores, &kind);
        let b = mean_of_kind(baseline, &kind);
        let n = scores.iter().filter(|s| s.kind == kind).count();
        out += &format!(
            "| **mean, {kind}** ({n}) | | | | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            m.precision, m.recall, m.ndcg10, b.ndcg10
        );
    }
    let (m, b) = (mean(scores), mean(baseline));
    out += &format!(
        "| **mean, all {} queries** | | | | **{:.2}** | **{:.2}** | **{:.2}** | **{:.2}** |\n",
        scores.len(),
        m.precision,
        m.recall,
        m.ndcg10,
        b.ndcg10
    );
    out
}

/// The per-profile table: nDCG@5 of every recommender, side by side.
pub fn profile_report(labels: &Labels, names: &[&str], scores: &[Vec<Score>]) -> String {
    let mut out = String::from("| profile | likes | dislikes | relevant |");
    for n in names {
        out += &format!(" {n} |");
    }
    out += "\n|---|---|---|---|";
    out += &"---|".repeat(names.len());
    out += "\n";
    for (i, p) in labels.profile.iter().enumerate() {
        out += &format!(
            "| {} | {} | {} | {} |",
            p.name,
            p.likes.len(),
            p.dislikes.len(),
            scores[0][i].relevant
        );
        for s in scores {
            out += &format!(" {:.2} |", s[i].ndcg5);
        }
        out += "\n";
    }
    out += &format!(
        "| **mean nDCG@5, {} profiles** | | | |",
        labels.profile.len()
    );
    for s in scores {
        out += &format!(" **{:.2}** |", mean(s).ndcg5);
    }
    out += "\n| mean nDCG@10 | | | |";
    for s in scores {
        out += &format!(" {:.2} |", mean(s).ndcg10);
    }
    out += "\n";
    out
}

/// One table, one row per ranker and recommender: mean nDCG@10 per query kind and overall,
/// nDCG@5 and @10 over the profiles.
pub fn ablation(
    labels: &Labels,
    queries: &[(&str, Vec<Score>)],
    profiles: &[(&str, Vec<Score>)],
) -> String {
    let kinds = kinds(labels);
    let mut out = String::from("| ranker |");
    for k in &kinds {
        let n = labels.query.iter().filter(|q| &q.kind == k).count();
        out += &format!(" {k} ({n}) |");
    }
    out += " all queries | profiles nDCG@5 | profiles nDCG@10 |\n|---|";
    out += &"---|".repeat(kinds.len() + 3);
    out += "\n";
    for (name, s) in queries {
        out += &format!("| {name} |");
        for k in &kinds {
            out += &format!(" {:.2} |", mean_of_kind(s, k).ndcg10);
        }
        out += &format!(" **{:.2}** | | |\n", mean(s).ndcg10);
    }
    for (name, s) in profiles {
        out += &format!("| {name} |");
        out += &" |".repeat(kinds.len() + 1);
        let m = mean(s);
        out += &format!(" **{:.2}** | {:.2} |\n", m.ndcg5, m.ndcg10);
    }
    out
}

/// For labelling: per query and profile, the papers in any ranker's top `k` that carry no
/// label yet, with their titles (`cargo bench --bench relevance -- --candidates`). Each
/// must be read and judged before the figures are trusted.
pub fn unlabelled(
    labels: &Labels,
    corpus: &Corpus,
    rankers: &[Box<dyn Ranker>],
    recommenders: &[Box<dyn Recommender>],
    k: usize,
) -> String {
    let mut out = String::new();
    let mut list = |name: &str, judged: HashMap<PaperId, u8>, found: Vec<Vec<PaperId>>| {
        let mut ids: Vec<PaperId> = Vec::new();
        for f in found {
            for id in f.into_iter().take(k) {
                if !judged.contains_key(&id) && !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        if !ids.is_empty() {
            out += &format!("{name}\n");
            for id in ids {
                out += &format!("    {}  {}\n", label(&id), corpus.title(&id));
            }
        }
    };
    for q in &labels.query {
        let found = rankers.iter().filter_map(|r| r.rank(q)).collect();
        list(&format!("query `{}`", q.name), q.grades(), found);
    }
    for p in &labels.profile {
        let mut judged = grades(&p.relevant, &p.related);
        judged.extend(
            p.like_ids()
                .into_iter()
                .chain(p.dislike_ids())
                .map(|id| (id, 0)),
        );
        let found = recommenders.iter().map(|r| r.recommend(p)).collect();
        list(&format!("profile `{}`", p.name), judged, found);
    }
    out
}
