//! Relevance benchmark: `cargo bench --bench relevance` prints, over the labelled set of
//! `tests/relevance/labels.toml`, the product's precision, recall and nDCG@10 per query next
//! to plain BM25's, the liked-paper profiles' nDCG@5 for every recommender, and one ablation
//! table with every ranker of `tests/relevance/eval.rs`. With `-- --candidates` it lists,
//! for labelling, the papers any ranker puts in its top 10 that carry no label yet.
#[path = "../relevance/eval.rs"]
mod eval;

fn main() {
    let labels = eval::labels();
    let corpus = eval::corpus();
    let rankers = eval::rankers(&corpus, &labels);
    let recommenders = eval::recommenders(&corpus);
    if std::env::args().any(|a| a == "--candidates") {
        print!(
            "{}",
            eval::unlabelled(&labels, &corpus, &rankers, &recommenders, 10)
        );
        return;
    }
    let (queries, profiles) = eval::score_all(&labels, &rankers, &recommenders);
    let about = labels.query.iter().filter(|q| q.kind == "about").count();
    println!(
        "{} papers, {} queries ({about} in plain words), {} liked-paper profiles\n",
        corpus.papers.len(),
        labels.query.len(),
        labels.profile.len()
    );
    println!(
        "Queries: {} (picks capped at {})\n",
        queries[0].0,
        eval::CAP
    );
    print!(
        "{}",
        eval::query_report(&labels, &queries[0].1, &queries[1].1, "BM25")
    );
    println!("\nProfiles, nDCG@5 of each recommender\n");
    let names: Vec<&str> = profiles.iter().map(|(n, _)| *n).collect();
    let scores: Vec<Vec<eval::Score>> = profiles.iter().map(|(_, s)| s.clone()).collect();
    print!("{}", eval::profile_report(&labels, &names, &scores));
    println!("\nAblation: mean nDCG@10 per query kind; profiles nDCG@5 and @10\n");
    print!("{}", eval::ablation(&labels, &queries, &profiles));
}
