//! Planning benchmark: selection for many readers with distinct topics over a window of
//! papers with abstracts of realistic length, as `plan_edition` runs it (one `Selector` per
//! run, then `select_refs` per reader, pages of 1,000 readers split over the threads).
//!
//! `cargo bench --bench plan -- [READERS] [PAPERS] [ABOUT_PERCENT] [THREADS]` (defaults
//! 100000 2000 10, and as many threads as cores). It prints the index build, the selection,
//! readers per second, the CPU time and the peak RSS of the process (VmHWM).
//! The corpus is generated from a fixed seed: titles of 6–12 words, abstracts of 150–250
//! words in sentences, drawn from a research vocabulary with a Zipf-like skew, with acronym
//! definitions ("vision transformer (ViT)"), 2–8 authors from a pool of 20,000 names, 1–3
//! arXiv categories, HF keywords for a third. Each reader follows 1–4 items: keywords,
//! two-word phrases, categories, authors (written as "G. Surname" for some), acronyms, an
//! exclusion for some, and `ABOUT_PERCENT` % of readers an `about:` interest of 5–8 words.
//! Every reader's topic line is distinct. Only the public selection API is used; with
//! `select` for `select_refs` the same file runs against older code (with `ABOUT_PERCENT`
//! 0) for a before/after figure.
use std::collections::HashSet;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use paperpost::domain::StoredPaper;
use paperpost::domain::{Paper, PaperId, Topics};
use paperpost::embed::Embedder;
use paperpost::selection::{Meaning, SelectionLimits, SelectionWeights, Selector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

// The allocator of the `paperpost` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    // `--words-only`: keywords and `about:` lines read by their words alone
    // (`meaning_weight = 0`), the baseline of reading them by meaning too.
    let words_only = args.iter().any(|a| a == "--words-only");
    args.retain(|a| a != "--words-only");
    match args.first().map(String::as_str) {
        Some("--plan-only") => return plan_only(&args[1..]),
        Some("--store") => {
            args.remove(0);
            return store_bench(&args, words_only);
        }
        _ => {}
    }
    let arg =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (n_readers, n_papers, about) = (arg(0, 100_000), arg(1, 2_000), arg(2, 10) as u32);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = arg(3, cores).max(1);
    let now = fixed_now();
    let t = Instant::now();
    let (papers, topics) = corpus(n_readers, n_papers, about, now);
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
    let cpu_start = cpu_seconds();
    let limits = SelectionLimits {
        weights: SelectionWeights {
            meaning_weight: if words_only { 0.0 } else { 1.0 },
            ..SelectionWeights::default()
        },
        ..SelectionLimits::default()
    };
    // As planning does: the candidates embedded once (the shipped model), every distinct
    // keyword and `about:` line embedded and fused once.
    let meaning =
        (!words_only).then(|| Meaning::embed(std::sync::Arc::new(Embedder::shipped()), &papers));
    let selector = Selector::with_meaning(papers, topics.iter(), limits, meaning);
    let indexed = start.elapsed();
    let index_cpu = cpu_seconds() - cpu_start;
    let since = now - Duration::days(7);
    let sent = HashSet::new();
    // As `plan_edition` runs it: pages of 1,000 readers, each page split over the threads,
    // picks kept as stored references.
    let mut picks = 0usize;
    let mut empty = 0usize;
    for (page, batch) in topics.chunks(1000).enumerate() {
        let per_thread = batch.len().div_ceil(threads);
        let counts: Vec<(usize, usize)> = std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .chunks(per_thread.max(1))
                .map(|part| {
                    let (selector, sent) = (&selector, &sent);
                    scope.spawn(move || {
                        let mut n = (0, 0);
                        for t in part {
                            let p = selector.select_refs(t, since, sent);
                            n.0 += p.len();
                            n.1 += p.is_empty() as usize;
                        }
                        n
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a selection thread panicked"))
                .collect()
        });
        for (p, e) in counts {
            picks += p;
            empty += e;
        }
        if page % 20 == 19 {
            eprintln!("  {} readers…", (page + 1) * 1000);
        }
    }
    let total = start.elapsed();
    let cpu = cpu_seconds() - cpu_start;
    let per_reader = (total - indexed).as_secs_f64();
    println!(
        "plan bench: {n_readers} readers × {n_papers} papers, {threads} threads, {}: index {:.2} s, \
         select {:.2} s, total {:.2} s = {:.0} readers/s (CPU: index {:.2} s, select {:.2} s); \
         {:.1} picks a reader, {empty} empty; peak RSS {}",
        if words_only {
            "words only"
        } else {
            "words and meaning"
        },
        indexed.as_secs_f64(),
        per_reader,
        total.as_secs_f64(),
        n_readers as f64 / total.as_secs_f64(),
        index_cpu,
        cpu - index_cpu,
        picks as f64 / n_readers as f64,
        peak_rss().map_or_else(|| "unknown".to_string(), |kb| format!("{} MB", kb / 1024)),
    );
}

/// The process's peak resident memory (VmHWM) in KiB, where `/proc` says it.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU time of the process so far, in seconds (0 where `/proc` is missing).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command's closing parenthesis; utime and stime are the 14th and
    // 15th of the whole line, in clock ticks (100 a second on Linux).
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / 100.0
}

fn fixed_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
        .expect("fixed date")
        .to_utc()
}

/// The papers and the readers' topics, from the fixed seed.
fn corpus(
    n_readers: usize,
    n_papers: usize,
    about: u32,
    now: DateTime<Utc>,
) -> (Vec<StoredPaper>, Vec<Topics>) {
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
    let papers = papers(&mut rng, n_papers, &names, now);
    let topics = readers(&mut rng, n_readers, &names, about);
    (papers, topics)
}

/// `--store [--likes] [READERS] [PAPERS] [ABOUT_PERCENT]`: the same corpus in a real SQLite
/// store, then `plan_edition` itself (reading readers page by page, writing every delivery)
/// in a child process of its own, so that its peak RSS is planning's alone. With
/// `--likes`, the same readers each also like 3 papers and dislike 1 (`like:`/`dislike:`
/// items, drawn from the stored papers): their profiles are planned with the rest.
fn store_bench(args: &[String], words_only: bool) {
    let likes = args.iter().any(|a| a == "--likes");
    let args: Vec<String> = args.iter().filter(|a| *a != "--likes").cloned().collect();
    let arg =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (n_readers, n_papers, about) = (arg(0, 100_000), arg(1, 2_000), arg(2, 10) as u32);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[newsletter]\nname = \"plan bench\"\nbase_url = \"https://papers.example.org/\"\n\
         from = \"plan bench <digest@papers.example.org>\"\n\n[store]\npath = \"pp.sqlite3\"\n\
         \n[selection.ranking]\nmeaning_weight = {}\n",
            if words_only { 0 } else { 1 }
        ),
    )
    .expect("config written");
    let t = Instant::now();
    {
        let now = fixed_now();
        let (papers, mut topics) = corpus(n_readers, n_papers, about, now);
        if likes {
            let ids: Vec<PaperId> = papers.iter().filter_map(|p| p.paper.id.clone()).collect();
            let mut rng = StdRng::seed_from_u64(11);
            for t in &mut topics {
                // Four distinct papers: three liked, one disliked.
                let mut chosen: Vec<PaperId> = Vec::new();
                while chosen.len() < 4 {
                    let id = ids[rng.random_range(0..ids.len())].clone();
                    if !chosen.contains(&id) {
                        chosen.push(id);
                    }
                }
                t.dislikes = chosen.split_off(3);
                t.likes = chosen;
            }
        }
        let settings = paperpost::config::Settings::load(&config).expect("config loads");
        let store = paperpost::store::Store::open(&settings.store.path).expect("store opens");
        store
            .upsert_papers(papers.into_iter().map(|p| p.paper).collect(), now)
            .expect("papers stored");
        for (i, t) in topics.into_iter().enumerate() {
            let email = paperpost::domain::SubscriberEmail::parse(&format!("r{i}@example.org"))
                .expect("an address");
            store
                .add_subscriber(&paperpost::domain::NewSubscriber::active(email, t), now)
                .expect("reader stored");
        }
    }
    eprintln!(
        "stored {n_readers} readers{} and {n_papers} papers in {:.1} s",
        if likes {
            " (3 likes, 1 dislike each)"
        } else {
            ""
        },
        t.elapsed().as_secs_f64()
    );
    let status = std::process::Command::new(std::env::current_exe().expect("own path"))
        .arg("--plan-only")
        .arg(&config)
        .status()
        .expect("planning process runs");
    assert!(status.success(), "planning failed: {status}");
}

/// `--plan-only CONFIG`: plans the week's edition of the store of `CONFIG` and prints the
/// time and the process's peak RSS.
fn plan_only(args: &[String]) {
    let config = std::path::PathBuf::from(args.first().expect("a config path"));
    let settings = paperpost::config::Settings::load(&config).expect("config loads");
    let store = paperpost::store::Store::open(&settings.store.path).expect("store opens");
    let now = fixed_now() + Duration::hours(1);
    let frequency = paperpost::domain::Frequency::Weekly;
    let period = paperpost::pipeline::period_for(&settings.newsletter_options(), frequency, now);
    let rss_before = peak_rss();
    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    let summary = paperpost::pipeline::plan_edition(
        &settings.plan_settings(),
        &store,
        period,
        frequency,
        None,
        false,
        now,
    )
    .expect("planning succeeds");
    let took = start.elapsed().as_secs_f64();
    let mb = |kb: Option<u64>| {
        kb.map_or_else(|| "unknown".to_string(), |kb| format!("{} MB", kb / 1024))
    };
    println!(
        "plan bench (store): plan_edition of {} readers ({} empty) × {} papers: {took:.2} s = \
         {:.0} readers/s (CPU {:.2} s), deliveries written; peak RSS {} (store opened: {})",
        summary.planned + summary.empty,
        summary.empty,
        summary.candidates,
        (summary.planned + summary.empty) as f64 / took,
        cpu_seconds() - cpu_start,
        mb(peak_rss()),
        mb(rss_before),
    );
}
