//! The profile model on recorded papers: a liked paper about X ranks other X papers above Y
//! papers; dislikes push down; a reader who follows only papers gets them ranked by it.
use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::*;
use crate::domain::{Digest, Paper, Period, ProfileDocument, ProfileSource};
use crate::embed::tests::SHIPPED;

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

use crate::test_support::arxiv_id as id;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
        .unwrap()
        .to_utc()
}

/// Every paper of `corpus` is a candidate of the period.
fn index(corpus: &Corpus) -> ProfileIndex<'_> {
    let period: Vec<(PaperId, DateTime<Utc>)> = (0..corpus.len())
        .filter_map(|d| Some((corpus.paper(d).id.clone()?, now())))
        .collect();
    let vectors = ProfileIndex::embed_candidates(corpus, &SHIPPED, &period);
    ProfileIndex::build(
        corpus,
        &SHIPPED,
        &period,
        &vectors,
        ProfileWeights::default(),
    )
}

fn rank_for_profile(
    corpus: &Corpus,
    likes: &[PaperId],
    dislikes: &[PaperId],
) -> Vec<(PaperId, f32)> {
    let feedback = ReaderFeedback {
        likes: likes.to_vec(),
        dislikes: dislikes.to_vec(),
    };
    let index = index(corpus);
    let profile = index.profile(&feedback, &[]).expect("a liked paper");
    index.rank_all(&profile)
}

fn input<'r>(
    feedback: &'r ReaderFeedback,
    profile: Option<&'r ReaderProfile>,
    follows_only_papers: bool,
    sent: &'r HashSet<PaperId>,
) -> ReaderInput<'r> {
    ReaderInput {
        feedback,
        profile,
        follows_only_papers,
        since: now() - Duration::days(7),
        already_sent: sent,
    }
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
fn the_ranking_is_deterministic_whatever_the_order_of_the_papers() {
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
    let (feedback, sent) = (ReaderFeedback::default(), HashSet::new());
    let out = personalise(
        &index(&corpus),
        input(&feedback, None, false, &sent),
        main.clone(),
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
    let (index, sent) = (index(&corpus), HashSet::new());
    let profile = index.profile(&feedback, &[]);
    let out = personalise(
        &index,
        input(&feedback, profile.as_ref(), false, &sent),
        main,
        RecommendLimits::default(),
    );
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
    assert_eq!(out.more_like.len(), 5, "the section fills its slots");
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
        Some("close to papers you liked: “Can Knowledge Editing Really Correct Hallucinations?”")
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
    let (index, sent) = (index(&corpus), HashSet::new());
    assert!(
        index.profile(&feedback, &[]).is_none(),
        "nothing liked, no profile"
    );
    let out = personalise(
        &index,
        input(&feedback, None, false, &sent),
        main,
        RecommendLimits::default(),
    );
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

#[test]
fn a_reader_who_follows_only_papers_gets_the_period_ranked_by_their_profile_not_the_trending_list()
{
    let corpus = Corpus::build(recorded());
    let feedback = ReaderFeedback {
        likes: vec![id("2410.16251")],
        dislikes: vec![],
    };
    let (index, sent) = (index(&corpus), HashSet::new());
    let profile = index.profile(&feedback, &[]);
    let trending = picks(&["2410.18978", "2410.18647", "2410.18975"], &corpus);
    let out = personalise(
        &index,
        input(&feedback, profile.as_ref(), true, &sent),
        trending,
        RecommendLimits::default(),
    );
    assert!(out.more_like.is_empty(), "the picks are the profile's");
    let got: Vec<PaperId> = out
        .picks
        .iter()
        .filter_map(|p| p.paper.id.clone())
        .collect();
    let ranking: Vec<PaperId> = rank_for_profile(&corpus, &feedback.likes, &[])
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert!(!got.is_empty() && got.len() <= 20, "{got:?}");
    assert_eq!(got, ranking[..got.len()], "in the profile's order");
    assert!(got.contains(&id("2410.18785")) && got.contains(&id("2410.18860")));
    assert!(
        !got.contains(&id("2410.18978")),
        "an off-topic trending paper"
    );
    assert!(out.picks.iter().all(|p| p.reasons
        == [like_reason(
            "Can Knowledge Editing Really Correct Hallucinations?"
        )]));
    // Papers already sent are not picked again.
    let sent: HashSet<PaperId> = got[..2].iter().cloned().collect();
    let again = personalise(
        &index,
        input(&feedback, profile.as_ref(), true, &sent),
        Vec::<Pick>::new(),
        RecommendLimits::default(),
    );
    let again: Vec<PaperId> = again
        .picks
        .iter()
        .filter_map(|p| p.paper.id.clone())
        .collect();
    assert_eq!(
        again[..got.len() - 2],
        got[2..],
        "the same order, less what was sent"
    );
    assert!(again.iter().all(|p| !sent.contains(p)));
}

#[test]
fn a_library_paper_that_is_not_stored_seeds_the_profile_from_its_title_and_abstract() {
    let corpus = Corpus::build(recorded());
    let index = index(&corpus);
    let seed = ProfileDocument {
        source: ProfileSource::Seed {
            file_name: "library.bib".into(),
        },
        paper: None,
        title: "Interactive frame interpolation between two images".into(),
        abstract_text: "We generate the in-between frames of a video from a start and an \
                        end image, with motion guided by the user's drag trajectories."
            .into(),
        authors: Vec::new(),
    };
    let profile = index
        .profile(&ReaderFeedback::default(), std::slice::from_ref(&seed))
        .expect("a seed is a liked paper");
    let ranking = index.rank_all(&profile);
    // Framer (frame interpolation) itself is stored: it comes first.
    assert_eq!(rank_of(&ranking, "2410.18978"), 0, "{ranking:?}");
    let sent = HashSet::new();
    let out = personalise(
        &index,
        input(&ReaderFeedback::default(), Some(&profile), true, &sent),
        Vec::<Pick>::new(),
        RecommendLimits::default(),
    );
    assert_eq!(
        out.picks[0].reasons,
        [like_reason(
            "Interactive frame interpolation between two images"
        )]
    );
}

#[test]
fn profiles_scored_from_shared_rows_rank_as_their_centroid_does() {
    let corpus = Corpus::build(recorded());
    let feedback = ReaderFeedback {
        likes: vec![id("2410.16251"), id("2410.18978")],
        dislikes: vec![id("2410.18451")],
    };
    let mut index = index(&corpus);
    let alone = index.profile(&feedback, &[]).unwrap();
    let by_centroid = index.rank_all(&alone);
    // Planning prepares each page of readers: their papers' rows are computed once.
    index.prepare([&feedback]);
    let shared = index.profile(&feedback, &[]).unwrap();
    let by_rows = index.rank_all(&shared);
    assert_eq!(by_rows.len(), by_centroid.len());
    for ((a, x), (b, y)) in by_rows.iter().zip(&by_centroid) {
        assert!((x - y).abs() < 1e-4, "{a} {x} vs {b} {y}");
    }
    let ids = |r: &[(PaperId, f32)]| {
        r.iter()
            .take(10)
            .map(|(p, _)| p.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&by_rows), ids(&by_centroid));
}

#[test]
fn preparing_asks_once_for_the_vectors_of_profile_papers_outside_the_period_only() {
    let corpus = Corpus::build(recorded());
    let (liked, disliked) = (id("2410.16251"), id("2410.18451"));
    let period: Vec<(PaperId, DateTime<Utc>)> = (0..corpus.len())
        .filter_map(|d| corpus.paper(d).id.clone())
        .filter(|p| *p != liked && *p != disliked)
        .map(|p| (p, now()))
        .collect();
    let vectors = ProfileIndex::embed_candidates(&corpus, &SHIPPED, &period);
    let mut index = ProfileIndex::build(
        &corpus,
        &SHIPPED,
        &period,
        &vectors,
        ProfileWeights::default(),
    );
    let feedback = ReaderFeedback {
        likes: vec![liked.clone(), period[0].0.clone()],
        dislikes: vec![disliked.clone()],
    };
    let mut asked: Vec<Vec<PaperId>> = Vec::new();
    let mut prepare = |index: &mut ProfileIndex| {
        index
            .prepare_with([&feedback], |papers| {
                asked.push(papers.iter().filter_map(|p| p.id.clone()).collect());
                Ok(papers
                    .iter()
                    .map(|p| SHIPPED.embed_one(&crate::embed::paper_text(p)))
                    .collect())
            })
            .unwrap();
    };
    prepare(&mut index);
    prepare(&mut index);

    let mut first = asked[0].clone();
    first.sort();
    let mut expected = vec![liked, disliked];
    expected.sort();
    assert_eq!(
        asked.len(),
        1,
        "the second page found them prepared: {asked:?}"
    );
    assert_eq!(first, expected, "the candidate liked is not asked for");
    assert!(index.profile(&feedback, &[]).is_some());
}
