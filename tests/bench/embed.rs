//! The embedding model measured: `cargo bench --bench embed -- [--model DIR]...
//! [--vectors NAME=FILE]... [--text VARIANT] [--dump FILE]`.
//!
//! For the shipped model (potion-base-8M, compiled in) and every `--model` folder:
//! - throughput: papers embedded per second (title + abstract of the recorded papers, one
//!   thread) and the model's memory (resident set size before and after loading);
//! - relevance on `tests/relevance/labels.toml`: nDCG@10 of ranking by cosine alone, and of
//!   a reciprocal-rank fusion (RRF) with the lexical ranking, for queries (the topic line's
//!   words) and liked-paper profiles (the centroid of the liked papers' vectors, minus half
//!   the disliked ones'), beside the lexical selection and the tf-idf SVM recommender.
//!
//! Models run outside paperpost (all-MiniLM-L6-v2 with candle, in a scratch crate) are
//! scored the same way: `--dump texts.jsonl` writes the texts (papers first, then queries,
//! one JSON string per line) and `--vectors NAME=FILE` reads their vectors back (u32 LE
//! dimension, u32 LE count, then count × dimension f32 LE).
#[path = "../relevance/eval.rs"]
mod eval;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use eval::{Ranker, Recommender};
use paperpost::domain::PaperId;
use paperpost::embed::{Embedder, cosine, paper_text_variant};

/// Reciprocal-rank fusion constants compared (a smaller k trusts the top ranks more).
const RRF_K: [f64; 2] = [10.0, 60.0];

struct Args {
    models: Vec<PathBuf>,
    vectors: Vec<(String, PathBuf)>,
    text: String,
    dump: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        models: Vec::new(),
        vectors: Vec::new(),
        text: "paper_text".into(),
        dump: None,
    };
    let mut it = std::env::args().skip(1).filter(|s| s != "--bench");
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--model" => a.models.push(value().into()),
            "--text" => a.text = value(),
            "--dump" => a.dump = Some(value().into()),
            "--vectors" => {
                let v = value();
                let (name, file) = v.split_once('=').expect("--vectors NAME=FILE");
                a.vectors.push((name.into(), file.into()));
            }
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// Resident memory in KiB: (private — the heap — and file-backed — the binary's pages).
fn resident_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    };
    (field("RssAnon:"), field("RssFile:"))
}

/// Vectors of the papers, then of the queries, by one model.
struct Vectors {
    name: String,
    papers: Vec<Vec<f32>>,
    queries: Vec<Vec<f32>>,
}

/// CPU time of this process in seconds (user + system; Linux counts it in 1/100 s), which a
/// busy machine does not inflate the way it does wall time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let field = |i: usize| -> f64 {
        after_name
            .split_whitespace()
            .nth(i)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of proc(5), counted from the state (field 3) after the name.
    (field(11) + field(12)) / 100.0
}

/// Papers per second of wall time and per second of CPU time, embedding `texts` for ≥ 2 s
/// of CPU.
fn measure(embedder: &Embedder, texts: &[String]) -> (f64, f64) {
    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    let mut rounds = 0;
    while rounds == 0 || cpu_seconds() - cpu_start < 2.0 {
        std::hint::black_box(embedder.embed(texts));
        rounds += 1;
    }
    let papers = (rounds * texts.len()) as f64;
    (
        papers / start.elapsed().as_secs_f64(),
        papers / (cpu_seconds() - cpu_start),
    )
}

fn read_vectors(name: &str, file: &Path, papers: usize, queries: usize) -> Vectors {
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let word = |i: usize| u32::from_le_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap());
    let (dim, n) = (word(0) as usize, word(1) as usize);
    assert_eq!(
        n,
        papers + queries,
        "{}: one vector per dumped text",
        file.display()
    );
    let all: Vec<Vec<f32>> = (0..n)
        .map(|i| {
            (0..dim)
                .map(|j| f32::from_bits(word(2 + i * dim + j)))
                .collect()
        })
        .collect();
    Vectors {
        name: name.into(),
        papers: all[..papers].to_vec(),
        queries: all[papers..].to_vec(),
    }
}

fn by_cosine(papers: &[Vec<f32>], ids: &[PaperId], query: &[f32]) -> Vec<PaperId> {
    let mut scored: Vec<(f32, usize)> = papers
        .iter()
        .enumerate()
        .map(|(i, v)| (cosine(v, query), i))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| ids[i].clone()).collect()
}

/// Reciprocal-rank fusion of two rankings (best first).
fn fuse(a: &[PaperId], b: &[PaperId], k: f64) -> Vec<PaperId> {
    let mut score: HashMap<&PaperId, f64> = HashMap::new();
    for list in [a, b] {
        for (rank, id) in list.iter().enumerate() {
            *score.entry(id).or_default() += 1.0 / (k + rank as f64 + 1.0);
        }
    }
    let mut ranked: Vec<(&PaperId, f64)> = score.into_iter().collect();
    ranked.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(y.0)));
    ranked.into_iter().map(|(id, _)| id.clone()).collect()
}

fn centroid(vectors: &[&Vec<f32>], dim: usize) -> Vec<f32> {
    let mut c = vec![0f32; dim];
    for v in vectors {
        c.iter_mut().zip(v.iter()).for_each(|(c, x)| *c += x);
    }
    c.iter_mut().for_each(|x| *x /= vectors.len().max(1) as f32);
    c
}

fn main() {
    let args = args();
    let labels = eval::labels();
    let corpus = eval::corpus();
    let ids: Vec<PaperId> = corpus
        .papers
        .iter()
        .filter_map(|p| p.paper.id.clone())
        .collect();
    let texts: Vec<String> = corpus
        .papers
        .iter()
        .map(|p| paper_text_variant(&p.paper, &args.text))
        .collect();
    let queries: Vec<String> = labels.query.iter().map(eval::Query::words).collect();
    if let Some(dump) = &args.dump {
        let lines: Vec<String> = texts
            .iter()
            .chain(&queries)
            .map(|t| serde_json::to_string(t).unwrap())
            .collect();
        std::fs::write(dump, lines.join("\n") + "\n").unwrap();
        println!("wrote {} texts to {}", lines.len(), dump.display());
        return;
    }
    println!(
        "{} papers of the relevance corpus, {} queries, {} profiles; text: {}\n",
        corpus.papers.len(),
        labels.query.len(),
        labels.profile.len(),
        args.text
    );

    let mut models: Vec<Vectors> = Vec::new();
    // paperpost's hybrid selection (words and meaning fused as planning fuses them) with each
    // model.
    let mut hybrids: Vec<Box<dyn eval::Ranker>> = Vec::new();
    println!(
        "| model | dim | load | memory added: heap + binary pages | papers/s, wall | papers per CPU-second |"
    );
    println!("|---|---|---|---|---|---|");
    let loads = std::iter::once(None).chain(args.models.iter().map(Some));
    for folder in loads {
        let before = resident_kib();
        let start = Instant::now();
        let embedder = std::sync::Arc::new(match folder {
            None => Embedder::shipped(),
            Some(f) => Embedder::load(f).unwrap_or_else(|e| panic!("{e}")),
        });
        let load = start.elapsed();
        let after = resident_kib();
        let mib = |a: u64, b: u64| a.saturating_sub(b) as f64 / 1024.0;
        let added = format!(
            "{:.1} + {:.1} MiB",
            mib(after.0, before.0),
            mib(after.1, before.1)
        );
        let (wall, cpu) = measure(&embedder, &texts);
        let id = embedder.identity();
        println!(
            "| {} | {} | {:.0} ms | {added} | {wall:.0} | {cpu:.0} |",
            id,
            embedder.dim(),
            load.as_secs_f64() * 1000.0,
        );
        let mut hybrid = eval::product::Selection::with_model(
            &corpus,
            &labels,
            eval::CAP,
            paperpost::selection::SelectionWeights::default(),
            std::sync::Arc::clone(&embedder),
        );
        hybrid.rename(Box::leak(
            format!("paperpost selection (hybrid) with {}", id.name).into_boxed_str(),
        ));
        hybrids.push(Box::new(hybrid));
        models.push(Vectors {
            name: id.name.clone(),
            papers: embedder.embed(&texts),
            queries: embedder.embed(&queries),
        });
    }
    for (name, file) in &args.vectors {
        models.push(read_vectors(name, file, texts.len(), queries.len()));
    }

    let mut rankers = eval::rankers(&corpus, &labels);
    rankers.extend(hybrids);
    let mut recommenders = eval::recommenders(&corpus);
    // The product's selection reading words alone and the tf-idf + linear SVM, each fused
    // with every model by plain RRF over the whole lists.
    let selection = rankers
        .iter()
        .position(|r| r.name().contains("words only"))
        .expect("the words-only selection is a ranker");
    let svm = recommenders.len() - 1;
    for m in &models {
        let cosine = Cosine::new(m, &ids, &labels);
        for k in RRF_K {
            let fused_q = Fixed {
                name: format!("{}: RRF(k={k}) with words-only selection", m.name),
                lists: labels
                    .query
                    .iter()
                    .map(|q| {
                        let lexical = rankers[selection].rank(q).unwrap_or_default();
                        let meaning = cosine.rank(q).unwrap_or_default();
                        (q.name.clone(), fuse(&lexical, &meaning, k))
                    })
                    .collect(),
            };
            let fused_p = Fixed {
                name: format!("{}: RRF(k={k}) with the SVM", m.name),
                lists: labels
                    .profile
                    .iter()
                    .map(|p| {
                        let lexical = recommenders[svm].recommend(p);
                        (p.name.clone(), fuse(&lexical, &cosine.recommend(p), k))
                    })
                    .collect(),
            };
            rankers.push(Box::new(fused_q.clone()));
            recommenders.push(Box::new(fused_p));
        }
        rankers.push(Box::new(cosine.clone()));
        recommenders.push(Box::new(cosine));
    }
    let (queries, profiles) = eval::score_all(&labels, &rankers, &recommenders);
    println!("\nAblation: mean nDCG@10 per query kind; profiles nDCG@5 and @10\n");
    print!("{}", eval::ablation(&labels, &queries, &profiles));
}

/// One model's vectors as a ranker (cosine with the query's words) and a recommender (cosine
/// with the liked papers' mean vector minus half the disliked ones').
#[derive(Clone)]
struct Cosine {
    name: String,
    ids: Vec<PaperId>,
    papers: Vec<Vec<f32>>,
    queries: HashMap<String, Vec<f32>>,
}

impl Cosine {
    fn new(m: &Vectors, ids: &[PaperId], labels: &eval::Labels) -> Cosine {
        Cosine {
            name: format!("{}: cosine only", m.name),
            ids: ids.to_vec(),
            papers: m.papers.clone(),
            queries: labels
                .query
                .iter()
                .zip(&m.queries)
                .map(|(q, v)| (q.name.clone(), v.clone()))
                .collect(),
        }
    }

    fn mean_of(&self, list: &[PaperId]) -> Vec<f32> {
        let picked: Vec<&Vec<f32>> = list
            .iter()
            .filter_map(|s| self.ids.iter().position(|x| x == s))
            .map(|i| &self.papers[i])
            .collect();
        centroid(&picked, self.papers.first().map_or(0, Vec::len))
    }
}

impl eval::Ranker for Cosine {
    fn name(&self) -> &str {
        &self.name
    }

    fn rank(&self, query: &eval::Query) -> Option<Vec<PaperId>> {
        let q = self.queries.get(&query.name)?;
        Some(
            by_cosine(&self.papers, &self.ids, q)
                .into_iter()
                .take(eval::CAP)
                .collect(),
        )
    }
}

impl eval::Recommender for Cosine {
    fn name(&self) -> &str {
        &self.name
    }

    fn recommend(&self, profile: &eval::Profile) -> Vec<PaperId> {
        let liked = self.mean_of(&profile.like_ids());
        let disliked = self.mean_of(&profile.dislike_ids());
        let v: Vec<f32> = liked
            .iter()
            .zip(&disliked)
            .map(|(l, d)| l - 0.5 * d)
            .collect();
        by_cosine(&self.papers, &self.ids, &v)
    }
}

/// Rankings computed beforehand, by query or profile name.
#[derive(Clone)]
struct Fixed {
    name: String,
    lists: HashMap<String, Vec<PaperId>>,
}

impl eval::Ranker for Fixed {
    fn name(&self) -> &str {
        &self.name
    }

    fn rank(&self, query: &eval::Query) -> Option<Vec<PaperId>> {
        let list = self.lists.get(&query.name)?;
        Some(list.iter().take(eval::CAP).cloned().collect())
    }
}

impl eval::Recommender for Fixed {
    fn name(&self) -> &str {
        &self.name
    }

    fn recommend(&self, profile: &eval::Profile) -> Vec<PaperId> {
        self.lists.get(&profile.name).cloned().unwrap_or_default()
    }
}
