//! The relevance benchmark's figures may not fall below what the README reports (rounded
//! down): a change to normalisation, forms or ranking that loses relevant papers fails here.
#[path = "relevance/eval.rs"]
mod eval;

// Floors: the README's figures rounded down.
const PRECISION: f64 = 0.85;
const RECALL: f64 = 0.70;
const NDCG: f64 = 0.75;
const NDCG_PROFILES: f64 = 0.25;

#[test]
fn the_labelled_queries_keep_their_precision_recall_and_ndcg() {
    let labels = eval::labels();
    let papers = eval::corpus();
    assert!(papers.len() >= 50, "{} papers", papers.len());
    let queries = eval::score_queries(&labels, &papers);
    assert!(queries.len() >= 12);
    let m = eval::mean(&queries);
    let report = eval::report(&queries, &[], "none");
    println!("{report}");
    assert!(m.recall >= RECALL, "recall {:.2}\n{report}", m.recall);
    assert!(
        m.precision >= PRECISION,
        "precision {:.2}\n{report}",
        m.precision
    );
    assert!(m.ndcg10 >= NDCG, "nDCG@10 {:.2}\n{report}", m.ndcg10);
}

#[test]
fn the_baseline_recommender_finds_some_of_each_profiles_papers() {
    let labels = eval::labels();
    let papers = eval::corpus();
    let profiles = eval::score_profiles(&labels, &papers, eval::about_titles_baseline);
    let m = eval::mean(&profiles);
    let report = eval::report(&[], &profiles, "baseline");
    println!("{report}");
    assert!(
        m.ndcg10 >= NDCG_PROFILES,
        "nDCG@10 {:.2}\n{report}",
        m.ndcg10
    );
}

#[test]
fn the_per_reader_model_ranks_each_profiles_papers_above_the_baseline() {
    let labels = eval::labels();
    let papers = eval::corpus();
    let model = eval::mean(&eval::score_profiles(
        &labels,
        &papers,
        eval::svm_recommender,
    ));
    let baseline = eval::mean(&eval::score_profiles(
        &labels,
        &papers,
        eval::about_titles_baseline,
    ));
    let report = eval::report(
        &[],
        &eval::score_profiles(&labels, &papers, eval::svm_recommender),
        "svm",
    );
    println!("{report}");
    assert!(
        model.ndcg10 >= baseline.ndcg10,
        "model nDCG@10 {:.2} < baseline {:.2}\n{report}",
        model.ndcg10,
        baseline.ndcg10
    );
}

#[test]
fn the_liked_paper_profiles_are_labelled_over_papers_of_the_corpus() {
    let labels = eval::labels();
    let papers = eval::corpus();
    assert!(labels.profile.len() >= 5);
    let ids: std::collections::HashSet<String> = papers
        .iter()
        .filter_map(|p| p.paper.id.as_ref().map(|i| i.to_string()))
        .collect();
    for p in &labels.profile {
        for id in p.likes.iter().chain(&p.dislikes).chain(&p.relevant) {
            assert!(
                ids.contains(id),
                "profile `{}`: {id} is not in the corpus",
                p.name
            );
        }
        assert!(
            !p.relevant.iter().any(|r| p.likes.contains(r)),
            "{}",
            p.name
        );
    }
    for q in &labels.query {
        for id in &q.relevant {
            assert!(
                ids.contains(id),
                "query `{}`: {id} is not in the corpus",
                q.name
            );
        }
    }
}
