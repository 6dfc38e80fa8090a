//! The model on recorded papers: a liked paper about X ranks other X papers above Y papers.
use chrono::{NaiveDate, Utc};

use super::*;
use crate::domain::{Digest, Paper, Period};

fn recorded() -> Vec<Paper> {
    let root = env!("CARGO_MANIFEST_DIR");
    let hf = std::fs::read_to_string(format!(
        "{root}/tests/fixtures/hf_daily_papers_2024-10-25_full.json"
    ))
    .unwrap();
    let mut papers = crate::sources::hf::parse(&hf).unwrap().papers;
    let feed = std::fs::read_to_string(format!(
        "{root}/tests/fixtures/arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml"
    ))
    .unwrap();
    papers.extend(crate::sources::arxiv_feed::parse(&feed).unwrap());
    papers
}

fn id(s: &str) -> PaperId {
    PaperId::parse_arxiv(s).unwrap().0
}

fn rank_of(ranking: &[(PaperId, f32)], s: &str) -> usize {
    ranking
        .iter()
        .position(|(p, _)| *p == id(s))
        .unwrap_or_else(|| panic!("{s} not ranked"))
}

#[test]
fn a_liked_paper_about_knowledge_editing_ranks_editing_and_hallucination_papers_first() {
    let corpus = Corpus::build(recorded());
    // Liked: "Can Knowledge Editing Really Correct Hallucinations?"
    let ranking = rank_for_profile(&corpus, &[id("2410.16251")], &[]);
    let on_topic = [
        "2410.18785", // Should We Really Edit Language Models? On the Evaluation of Edited LMs
        "2410.18860", // DeCoRe: ... to Mitigate Hallucinations
    ];
    let off_topic = [
        "2410.18978", // Framer: Interactive Frame Interpolation
        "2410.18647", // Data Scaling Laws in Imitation Learning for Robotic Manipulation
        "2410.18975", // Unbounded: A Generative Infinite Game
        "2410.18538", // SMITE: Segment Me In TimE
    ];
    for x in on_topic {
        assert!(
            rank_of(&ranking, x) < 3,
            "{x} at {}: {ranking:?}",
            rank_of(&ranking, x)
        );
        for y in off_topic {
            assert!(rank_of(&ranking, x) < rank_of(&ranking, y), "{x} vs {y}");
        }
    }
}

#[test]
fn a_liked_video_paper_ranks_video_papers_above_language_model_papers() {
    let corpus = Corpus::build(recorded());
    // Liked: "Framer: Interactive Frame Interpolation"
    let ranking = rank_for_profile(&corpus, &[id("2410.18978")], &[]);
    let video = ["2410.18538", "2410.18977"]; // SMITE (video segmentation), MotionCLR
    let language = ["2410.18451", "2410.18745", "2410.15580"]; // reward models, context length, arithmetic
    for x in video {
        for y in language {
            assert!(
                rank_of(&ranking, x) < rank_of(&ranking, y),
                "{x} vs {y}: {ranking:?}"
            );
        }
    }
}

#[test]
fn a_disliked_paper_pushes_its_kind_down() {
    let corpus = Corpus::build(recorded());
    let likes = [id("2410.16251")];
    let plain = rank_for_profile(&corpus, &likes, &[]);
    // Disliking DeCoRe (hallucination decoding) lowers the other hallucination-decoding papers.
    let with = rank_for_profile(&corpus, &likes, &[id("2410.18860")]);
    assert!(with.iter().all(|(p, _)| *p != id("2410.18860")));
    let score = |r: &[(PaperId, f32)], s: &str| r.iter().find(|(p, _)| *p == id(s)).unwrap().1;
    let edited = "2410.18785";
    assert!(rank_of(&with, edited) <= rank_of(&plain, edited));
    assert!(score(&with, edited).is_finite());
}

#[test]
fn training_is_deterministic() {
    let a = rank_for_profile(
        &Corpus::build(recorded()),
        &[id("2410.18978")],
        &[id("2410.16251")],
    );
    let mut shuffled = recorded();
    shuffled.reverse();
    let b = rank_for_profile(
        &Corpus::build(shuffled),
        &[id("2410.18978")],
        &[id("2410.16251")],
    );
    assert_eq!(a, b);
}

fn picks(ids: &[&str], corpus: &Corpus) -> Vec<Pick> {
    ids.iter()
        .map(|s| Pick {
            paper: corpus.paper(corpus.doc(&id(s)).unwrap()).clone(),
            reasons: vec!["trending".into()],
        })
        .collect()
}

#[test]
fn readers_without_feedback_get_their_picks_untouched() {
    let corpus = Corpus::build(recorded());
    let main = picks(&["2410.18978", "2410.16251"], &corpus);
    let all: Vec<PaperId> = recorded().iter().filter_map(|p| p.id.clone()).collect();
    let out = personalise(
        &corpus,
        &ReaderFeedback::default(),
        main.clone(),
        &all,
        RecommendLimits::default(),
    );
    assert_eq!(out.picks, main);
    assert!(out.more_like.is_empty());
}

#[test]
fn more_like_names_the_liked_paper_and_skips_picks_likes_and_dislikes() {
    let corpus = Corpus::build(recorded());
    let feedback = ReaderFeedback {
        likes: vec![id("2410.16251"), id("2410.18978")],
        dislikes: vec![id("2410.18451")],
    };
    let main = picks(&["2410.18451", "2410.18785", "2410.17243"], &corpus);
    let all: Vec<PaperId> = recorded().iter().filter_map(|p| p.id.clone()).collect();
    let out = personalise(&corpus, &feedback, main, &all, RecommendLimits::default());
    let main_ids: Vec<String> = out
        .picks
        .iter()
        .map(|p| p.paper.id.clone().unwrap().to_string())
        .collect();
    assert_eq!(
        main_ids,
        ["2410.18785", "2410.17243"],
        "the disliked pick is gone"
    );
    assert!(!out.more_like.is_empty() && out.more_like.len() <= 5);
    for p in &out.more_like {
        let pid = p.paper.id.clone().unwrap();
        assert!(!feedback.likes.contains(&pid) && !feedback.dislikes.contains(&pid));
        assert!(!main_ids.contains(&pid.to_string()));
        assert_eq!(p.reasons.len(), 1);
        assert!(
            p.reasons[0] == like_reason("Can Knowledge Editing Really Correct Hallucinations?")
                || p.reasons[0] == like_reason("Framer: Interactive Frame Interpolation"),
            "{:?}",
            p.reasons
        );
    }
    let decore = out
        .more_like
        .iter()
        .find(|p| p.paper.id == Some(id("2410.18860")));
    assert_eq!(
        decore.map(|p| p.reasons[0].as_str()),
        Some("like “Can Knowledge Editing Really Correct Hallucinations?” you liked")
    );
    // The section renders in a digest like any other picks.
    let period = Period::week_of(NaiveDate::from_ymd_opt(2024, 10, 21).unwrap());
    assert!(Digest::new(period, out.picks, false, Utc::now()).is_some());
}

#[test]
fn picks_close_to_a_disliked_paper_move_to_the_end() {
    let corpus = Corpus::build(vec![
        paper(
            "2401.00001",
            "Diffusion models for images",
            "Denoising diffusion for image synthesis with latent models.",
        ),
        paper(
            "2401.00002",
            "Latent diffusion models for images",
            "Image synthesis with latent denoising diffusion models.",
        ),
        paper(
            "2401.00003",
            "Graph neural networks",
            "Message passing on graphs.",
        ),
        paper(
            "2401.00004",
            "Graph transformers",
            "Attention over graph nodes and message passing.",
        ),
    ]);
    let feedback = ReaderFeedback {
        likes: vec![],
        dislikes: vec![id("2401.00001")],
    };
    let main = picks(&["2401.00002", "2401.00003"], &corpus);
    let out = personalise(&corpus, &feedback, main, &[], RecommendLimits::default());
    let got: Vec<String> = out
        .picks
        .iter()
        .map(|p| p.paper.id.clone().unwrap().to_string())
        .collect();
    assert_eq!(got, ["2401.00003", "2401.00002"]);
    assert!(out.more_like.is_empty(), "no likes, no section");
}

fn paper(i: &str, title: &str, abs: &str) -> Paper {
    Paper {
        id: Some(id(i)),
        title: title.into(),
        abstract_text: abs.into(),
        ..Paper::default()
    }
}
