//! What "More like what you liked" costs a planning run: `cargo bench --bench recommend --
//! [PAPERS] [READERS]` (default 2000 papers, 1000 readers, each with 3 likes and 1 dislike).
//!
//! The corpus is generated from the recorded papers (`tests/fixtures/`): each synthetic
//! paper takes the title of one recorded paper and an abstract of ~170 words drawn from the
//! sentences of two or three recorded abstracts, so vocabulary, lengths and overlaps look
//! like real ones. Prints the time to build the shared index (tf-idf of every paper, the
//! candidates' embedding vectors), the time per reader and readers per second.
use std::collections::HashSet;
use std::time::Instant;

use paperpost::domain::{Paper, PaperId, Pick, ReaderFeedback};
use paperpost::embed::Embedder;
use paperpost::recommend::{
    Corpus, ProfileIndex, ProfileWeights, ReaderInput, RecommendLimits, personalise,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn recorded() -> Vec<Paper> {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |f: &str| std::fs::read_to_string(format!("{root}/tests/fixtures/{f}")).unwrap();
    let mut papers = paperpost::sources::hf::parse(&read("hf_daily_papers_2024-10-25_full.json"))
        .unwrap()
        .papers;
    papers.extend(
        paperpost::sources::arxiv_feed::parse(&read("arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml"))
            .unwrap(),
    );
    papers
}

fn corpus(n: usize, rng: &mut StdRng) -> Vec<Paper> {
    let base = recorded();
    let sentences: Vec<Vec<String>> = base
        .iter()
        .map(|p| {
            p.abstract_text
                .split(". ")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .collect();
    (0..n)
        .map(|i| {
            let main = rng.random_range(0..base.len());
            let mut abstract_text = String::new();
            while abstract_text.split_whitespace().count() < 170 {
                let from = if rng.random_bool(0.6) {
                    main
                } else {
                    rng.random_range(0..base.len())
                };
                let s = &sentences[from];
                if s.is_empty() {
                    continue;
                }
                abstract_text.push_str(&s[rng.random_range(0..s.len())]);
                abstract_text.push_str(". ");
            }
            Paper {
                id: PaperId::parse_arxiv(&format!("2611.{:05}", i)).map(|p| p.0),
                title: base[main].title.clone(),
                abstract_text,
                ..Paper::default()
            }
        })
        .collect()
}

fn main() {
    let args: Vec<usize> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let papers_n = args.first().copied().unwrap_or(2000);
    let readers = args.get(1).copied().unwrap_or(1000);
    let mut rng = StdRng::seed_from_u64(9);
    let papers = corpus(papers_n, &mut rng);
    let ids: Vec<PaperId> = papers.iter().filter_map(|p| p.id.clone()).collect();
    // The period's candidates: the newest fifth of the store.
    let now = chrono::Utc::now();
    let candidates: Vec<(PaperId, chrono::DateTime<chrono::Utc>)> = ids
        [ids.len() - ids.len() / 5..]
        .iter()
        .map(|id| (id.clone(), now))
        .collect();
    let since = now - chrono::Duration::days(7);
    let sent = HashSet::new();

    let t = Instant::now();
    let corpus = Corpus::build(papers.clone());
    let embedder = Embedder::shipped();
    // Planning reads the vectors stored when the papers were fetched; a first run (or a
    // new model) embeds them as here.
    let vectors = ProfileIndex::embed_candidates(&corpus, &embedder, &candidates);
    let index = ProfileIndex::build(
        &corpus,
        &embedder,
        &candidates,
        &vectors,
        ProfileWeights::default(),
    );
    let build = t.elapsed();
    println!(
        "index: {} papers, {} terms, {} candidates embedded, built in {:.0} ms (once per planning run)",
        corpus.len(),
        corpus.dims(),
        candidates.len(),
        build.as_secs_f64() * 1e3
    );

    let t = Instant::now();
    let mut recommended = 0;
    for _ in 0..readers {
        let pick = |rng: &mut StdRng| ids[rng.random_range(0..ids.len())].clone();
        let feedback = ReaderFeedback {
            likes: (0..3).map(|_| pick(&mut rng)).collect(),
            dislikes: vec![pick(&mut rng)],
        };
        let picks: Vec<Pick> = (0..10)
            .map(|_| Pick {
                paper: papers[rng.random_range(0..papers.len())].clone(),
                reasons: vec!["x".into()],
            })
            .collect();
        let profile = index.profile(&feedback, &[]);
        let input = ReaderInput {
            feedback: &feedback,
            profile: profile.as_ref(),
            follows_only_papers: false,
            since,
            already_sent: &sent,
        };
        let out = personalise(&index, input, picks, RecommendLimits::default());
        recommended += out.more_like.len();
    }
    let per = t.elapsed().as_secs_f64() / readers as f64;
    println!(
        "readers with likes: {readers} personalised in {:.2} s: {:.3} ms each, {:.0} readers/s ({:.1} recommendations each)",
        t.elapsed().as_secs_f64(),
        per * 1e3,
        1.0 / per,
        recommended as f64 / readers as f64
    );
}
