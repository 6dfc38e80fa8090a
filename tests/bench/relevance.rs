//! Relevance benchmark: `cargo bench --bench relevance` prints precision, recall and nDCG@10
//! per labelled query and profile of `tests/relevance/labels.toml`, and their means.
#[path = "../relevance/eval.rs"]
mod eval;

fn main() {
    let labels = eval::labels();
    let papers = eval::corpus();
    let queries = eval::score_queries(&labels, &papers);
    let baseline = eval::score_profiles(&labels, &papers, eval::about_titles_baseline);
    let profiles = eval::score_profiles(&labels, &papers, eval::svm_recommender);
    println!(
        "{} papers from tests/fixtures, {} queries, {} profiles\n",
        papers.len(),
        labels.query.len(),
        labels.profile.len()
    );
    print!(
        "{}",
        eval::report(
            &queries,
            &profiles,
            "the per-reader linear SVM over tf-idf (paperpost::recommend)"
        )
    );
    println!();
    print!(
        "{}",
        eval::report(&[], &baseline, "baseline: about: the liked papers' titles")
    );
}
