//! Planning benchmark: selection for many readers with distinct topics over a window of
//! papers with abstracts of realistic length, as `plan_edition` runs it (one `Selector` per
//! run, then `select` per reader).
//!
//! `cargo bench --bench plan -- [READERS] [PAPERS] [ABOUT_PERCENT]` (defaults 100000 2000 10).
//! The corpus is generated from a fixed seed: titles of 6–12 words, abstracts of 150–250
//! words in sentences, drawn from a research vocabulary with a Zipf-like skew, with acronym
//! definitions ("vision transformer (ViT)"), 2–8 authors from a pool of 20,000 names, 1–3
//! arXiv categories, HF keywords for a third. Each reader follows 1–4 items: keywords,
//! two-word phrases, categories, authors (written as "G. Surname" for some), acronyms, an
//! exclusion for some, and `ABOUT_PERCENT` % of readers an `about:` interest of 5–8 words.
//! Every reader's topic line is distinct. Only the public selection API is used, so the
//! same file runs against older code (with `ABOUT_PERCENT` 0) for a before/after figure.
use std::collections::HashSet;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use paperpost::domain::StoredPaper;
use paperpost::domain::{Paper, PaperId, Topics};
use paperpost::selection::{SelectionLimits, Selector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const WORDS: &str = "model models learning network networks neural deep training data dataset \
    datasets language vision image images video text speech audio graph graphs transformer \
    transformers attention diffusion generative generation reinforcement policy reward agent \
    agents robot robotics control optimization optimisation gradient stochastic convex \
    inference bayesian probabilistic variational latent representation representations \
    embedding embeddings retrieval reasoning planning benchmark evaluation alignment safety \
    privacy federated distributed parallel efficient efficiency scaling compression \
    quantization pruning distillation sparse sparsity mixture experts routing token tokens \
    context memory recurrent convolutional kernel kernels spectral matrix matrices tensor \
    equivariance equivariant symmetry invariance geometric manifold topology physics quantum \
    molecular protein proteins chemistry materials climate weather forecasting time series \
    anomaly detection segmentation classification regression clustering contrastive \
    supervised unsupervised self-supervised semi-supervised few-shot zero-shot transfer \
    adaptation domain robustness adversarial attack attacks defense fairness bias causal \
    causality counterfactual explanation interpretability uncertainty calibration \
    hallucination instruction tuning fine-tuning pretraining prompt prompting chain thought \
    multimodal cross-modal 3d point cloud rendering radiance fields nerf gaussian splatting \
    pose estimation tracking navigation manipulation grasping simulation sim-to-real \
    theorem proof mathematical program synthesis code compiler software verification \
    hardware accelerator gpu memory-efficient latency throughput serving inference-time \
    search tree sampling decoding speculative beam autoregressive masked denoising score \
    flow matching ode sde energy-based hopfield spiking neuromorphic brain neuroscience \
    medical clinical biomedical genomics single-cell drug discovery docking catalyst \
    galaxy cosmology gravitational waves dark matter black holes lattice gauge string \
    theory superconductivity spin topological phases entanglement qubits circuits";

const FUNCTION: &str = "we the a of and to in for on with that is are this our by from as \
    which an be can these their it at show propose present results method approach new \
    both while than using based over into across two three more most also however";

const ACRONYMS: &[(&str, &str)] = &[
    ("vision transformer", "ViT"),
    ("neural architecture search", "NAS"),
    ("large language model", "LLM"),
    ("reinforcement learning", "RL"),
    ("graph neural network", "GNN"),
    ("low-rank adaptation", "LoRA"),
    ("retrieval-augmented generation", "RAG"),
    ("mixture of experts", "MoE"),
    ("neural radiance fields", "NeRF"),
    ("chain of thought", "CoT"),
    ("direct preference optimization", "DPO"),
    ("variational autoencoder", "VAE"),
    ("generative adversarial network", "GAN"),
    ("state space model", "SSM"),
    ("knowledge distillation", "KD"),
    ("optical character recognition", "OCR"),
];

const CATEGORIES: &[&str] = &[
    "cs.LG",
    "cs.CL",
    "cs.CV",
    "cs.AI",
    "cs.RO",
    "cs.CR",
    "cs.DC",
    "cs.IR",
    "cs.NE",
    "cs.SE",
    "stat.ML",
    "eess.AS",
    "eess.IV",
    "eess.SP",
    "math.OC",
    "math.ST",
    "q-bio.BM",
    "q-bio.NC",
    "physics.comp-ph",
    "quant-ph",
    "hep-th",
    "astro-ph.CO",
    "cond-mat.str-el",
    "gr-qc",
];

const GIVEN: &str = "Ada Alan Grace Yann Geoffrey Yoshua Fei-Fei Andrew Daphne Judea Michael \
    Emily Sofia Lukasz Emile Chen Wei Li Hiroshi Aiko Priya Rahul Olga Ivan Fatima Omar Lucas \
    Marie Pierre Hans Greta Sven Ingrid Diego Lucia Kwame Amara Tomas Eva Noah Mia Liam Zoe";

const SURNAMES: &str = "Lovelace Turing Hopper LeCun Hinton Bengio Li Ng Koller Pearl Jordan \
    Bender Kovalenko Kaiser Borel Zhang Wang Liu Tanaka Suzuki Sharma Gupta Petrova Ivanov \
    Haddad Farouk Silva Curie Dubois Muller Schmidt Larsen Berg Garcia Rossi Mensah Okafor \
    Novak Horvat Nguyen Tran Kim Park Choi Smith Jones Brown Taylor Wilson Scholkopf Maaten";

fn zipf<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    // Skewed toward the front: the square of a uniform number.
    let u: f64 = rng.random();
    items[((u * u) * items.len() as f64) as usize % items.len()]
}

fn sentence(rng: &mut StdRng, words: &[&str], function: &[&str], len: usize) -> String {
    let mut s = Vec::with_capacity(len);
    for _ in 0..len {
        if rng.random_bool(0.45) {
            s.push(function[rng.random_range(0..function.len())]);
        } else {
            s.push(zipf(rng, words));
        }
    }
    let mut out = s.join(" ");
    if let Some(first) = out.get(..1) {
        out = first.to_uppercase() + out.get(1..).unwrap_or("");
    }
    out + "."
}

fn papers(rng: &mut StdRng, n: usize, names: &[String], now: DateTime<Utc>) -> Vec<StoredPaper> {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let function: Vec<&str> = FUNCTION.split_whitespace().collect();
    (0..n)
        .map(|i| {
            let title_len = rng.random_range(6..=12);
            let title: Vec<&str> = (0..title_len).map(|_| zipf(rng, &words)).collect();
            let mut abs = Vec::new();
            let target = rng.random_range(150..=250);
            let mut count = 0;
            while count < target {
                let len = rng.random_range(15..=28);
                if rng.random_bool(0.15) {
                    let (long, short) = ACRONYMS[rng.random_range(0..ACRONYMS.len())];
                    abs.push(format!("We build on {long} ({short}) methods."));
                }
                abs.push(sentence(rng, &words, &function, len));
                count += len;
            }
            let authors = (0..rng.random_range(2..=8))
                .map(|_| names[rng.random_range(0..names.len())].clone())
                .collect();
            let categories = (0..rng.random_range(1..=3))
                .map(|_| CATEGORIES[rng.random_range(0..CATEGORIES.len())].to_string())
                .collect();
            let ai_keywords = if i % 3 == 0 {
                (0..5).map(|_| zipf(rng, &words).to_string()).collect()
            } else {
                Vec::new()
            };
            StoredPaper {
                paper: Paper {
                    id: PaperId::parse_arxiv(&format!("2411.{:05}", i + 1)).map(|p| p.0),
                    title: title.join(" "),
                    abstract_text: abs.join(" "),
                    authors,
                    categories,
                    ai_keywords,
                    upvotes: rng.random_bool(0.6).then(|| rng.random_range(0..300)),
                    ..Paper::default()
                },
                first_seen: now - Duration::minutes(rng.random_range(0..7 * 24 * 60)),
                replacement: false,
            }
        })
        .collect()
}

fn readers(rng: &mut StdRng, n: usize, names: &[String], about_percent: u32) -> Vec<Topics> {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut items: Vec<String> = Vec::new();
        for _ in 0..rng.random_range(1..=4) {
            let item = match rng.random_range(0..100) {
                0..40 => words[rng.random_range(0..words.len())].to_string(),
                40..65 => format!(
                    "\"{} {}\"",
                    zipf(rng, &words),
                    words[rng.random_range(0..words.len())]
                ),
                65..80 => format!("cat:{}", CATEGORIES[rng.random_range(0..CATEGORIES.len())]),
                80..90 => {
                    let name = &names[rng.random_range(0..names.len())];
                    if rng.random_bool(0.3) {
                        let (given, surname) = name.split_once(' ').unwrap_or(("A", name));
                        format!("author:\"{}. {surname}\"", given.get(..1).unwrap_or("A"))
                    } else {
                        format!("author:\"{name}\"")
                    }
                }
                _ => ACRONYMS[rng.random_range(0..ACRONYMS.len())].1.to_string(),
            };
            items.push(item);
        }
        if rng.random_bool(0.1) {
            items.push(format!("-{}", words[rng.random_range(0..words.len())]));
        }
        if rng.random_range(0..100) < about_percent {
            let about: Vec<&str> = (0..rng.random_range(5..=8))
                .map(|_| words[rng.random_range(0..words.len())])
                .collect();
            items.push(format!("about:\"{}\"", about.join(" ")));
        }
        let line = items.join(", ");
        if !seen.insert(line.clone()) {
            continue;
        }
        match Topics::parse(&line) {
            Ok(t) => out.push(t),
            Err(e) => panic!("generated topics `{line}` do not parse: {e}"),
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let arg =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (n_readers, n_papers, about) = (arg(0, 100_000), arg(1, 2_000), arg(2, 10) as u32);
    let now = DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
        .expect("fixed date")
        .to_utc();
    let mut rng = StdRng::seed_from_u64(9);
    let given: Vec<&str> = GIVEN.split_whitespace().collect();
    let surnames: Vec<&str> = SURNAMES.split_whitespace().collect();
    let names: Vec<String> = (0..20_000)
        .map(|i| {
            format!(
                "{} {}{}",
                given[i % given.len()],
                surnames[(i / given.len()) % surnames.len()],
                if i >= given.len() * surnames.len() {
                    format!("-{}", i / (given.len() * surnames.len()))
                } else {
                    String::new()
                }
            )
        })
        .collect();
    let t = Instant::now();
    let papers = papers(&mut rng, n_papers, &names, now);
    let topics = readers(&mut rng, n_readers, &names, about);
    let abstract_words: usize = papers
        .iter()
        .map(|p| p.paper.abstract_text.split_whitespace().count())
        .sum();
    eprintln!(
        "generated {n_readers} readers ({about}% with about:) and {n_papers} papers \
         ({} abstract words on average) in {:.1} s",
        abstract_words / n_papers.max(1),
        t.elapsed().as_secs_f64()
    );

    let start = Instant::now();
    let selector = Selector::new(papers, topics.iter(), SelectionLimits::default());
    let indexed = start.elapsed();
    let since = now - Duration::days(7);
    let sent = HashSet::new();
    let mut picks = 0usize;
    let mut empty = 0usize;
    for (i, t) in topics.iter().enumerate() {
        let p = selector.select(t, since, &sent);
        picks += p.len();
        empty += p.is_empty() as usize;
        if i % 20_000 == 19_999 {
            eprintln!("  {} readers…", i + 1);
        }
    }
    let total = start.elapsed();
    let per_reader = (total - indexed).as_secs_f64();
    println!(
        "plan bench: {n_readers} readers × {n_papers} papers: index {:.2} s, select {:.2} s, \
         total {:.2} s = {:.0} readers/s; {:.1} picks a reader, {empty} empty",
        indexed.as_secs_f64(),
        per_reader,
        total.as_secs_f64(),
        n_readers as f64 / total.as_secs_f64(),
        picks as f64 / n_readers as f64
    );
}
