use super::*;
use crate::domain::Paper;
use chrono::Duration;

fn paper(id: &str, title: &str, abs: &str, upvotes: Option<u32>, cats: &[&str]) -> StoredPaper {
    StoredPaper {
        paper: Paper {
            id: PaperId::parse_arxiv(id).map(|p| p.0),
            title: title.into(),
            abstract_text: abs.into(),
            upvotes,
            categories: cats.iter().map(|c| c.to_string()).collect(),
            authors: vec!["Ada Lovelace".into(), "Alan M. Turing".into()],
            ..Paper::default()
        },
        first_seen: now(),
        replacement: false,
    }
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
        .unwrap()
        .to_utc()
}

fn corpus() -> Vec<StoredPaper> {
    vec![
        paper(
            "2411.00001",
            "Transformers for Graphs",
            "We study attention.",
            Some(5),
            &["cs.LG"],
        ),
        paper(
            "2411.00002",
            "A Diffusion Model for Audio",
            "Sound.",
            Some(50),
            &["cs.SD", "eess.AS"],
        ),
        paper(
            "2411.00003",
            "Transformer-free RNNs",
            "A survey of studies.",
            None,
            &["cs.CL"],
        ),
        paper(
            "2411.00004",
            "Untransformed data",
            "Nothing relevant.",
            Some(1),
            &["math.ST"],
        ),
    ]
}

fn select_from(papers: Vec<StoredPaper>, topics: &str) -> Vec<String> {
    let topics = Topics::parse(topics).unwrap();
    let sel = Selector::new(papers, [&topics], SelectionLimits::default());
    sel.select(&topics, now() - Duration::days(7), &HashSet::new())
        .into_iter()
        .map(|p| p.paper.id.unwrap().to_string())
        .collect()
}

fn select(topics: &str) -> Vec<String> {
    select_from(corpus(), topics)
}

#[test]
fn keywords_match_whole_words_with_forward_plurals_in_any_case() {
    assert_eq!(select("transformer"), ["2411.00001", "2411.00003"]);
    assert_eq!(select("Transformer"), ["2411.00001", "2411.00003"]);
    assert_eq!(select("TRANSFORMERS"), ["2411.00001"]);
    assert_eq!(select("study"), ["2411.00001", "2411.00003"]);
    assert_eq!(select("\"diffusion models\""), Vec::<String>::new());
    assert_eq!(select("\"diffusion model\""), ["2411.00002"]);
    assert!(select("form").is_empty());
}

#[test]
fn categories_authors_and_upvotes_combine_as_documented() {
    assert_eq!(select("cat:cs.CL"), ["2411.00003"]);
    assert_eq!(select("cat:cs").len(), 3);
    assert_eq!(select("author:turing").len(), 4);
    assert!(select("author:ring").is_empty());
    assert_eq!(select("transformer, min_upvotes:2"), ["2411.00001"]);
    // "A survey of studies." says it once in the abstract: a passing mention stays.
    assert_eq!(select("cat:cs, -survey").len(), 3);
    assert_eq!(select("cat:cs, -strict:survey").len(), 2);
}

#[test]
fn exclusions_of_every_kind_really_exclude() {
    assert_eq!(select("cat:cs, -cat:cs.CL").len(), 2);
    assert!(!select("cat:cs, -cat:cs.CL").contains(&"2411.00003".to_string()));
    assert!(select("cat:cs, -author:\"A. Lovelace\"").is_empty());
    assert_eq!(select("transformer, -\"transformer free\""), ["2411.00001"]);
    // Exclusions alone leave the trending digest minus what they exclude.
    assert_eq!(
        select("-cat:cs.SD"),
        ["2411.00001", "2411.00004", "2411.00003"]
    );
}

#[test]
fn no_topics_means_the_trending_digest_by_upvotes() {
    assert_eq!(
        select(""),
        ["2411.00002", "2411.00001", "2411.00004", "2411.00003"]
    );
    assert_eq!(select("min_upvotes:5"), ["2411.00002", "2411.00001"]);
}

#[test]
fn each_pick_says_where_and_how_strongly_it_matched() {
    let papers = vec![paper(
        "2411.00009",
        "Diffusion for audio",
        "Diffusion models, diffusion steps; a diffusion sampler and diffusion guidance.",
        Some(3),
        &["eess.AS"],
    )];
    let topics = Topics::parse("diffusion, cat:eess.AS, author:\"Ada Lovelace\"").unwrap();
    let sel = Selector::new(papers, [&topics], SelectionLimits::default());
    let picks = sel.select(&topics, now() - Duration::days(7), &HashSet::new());
    assert_eq!(
        picks[0].reasons,
        [
            "diffusion: title · abstract ×4",
            "eess.AS",
            "author Ada Lovelace"
        ]
    );
    let trending = sel.trending(now() - Duration::days(7));
    assert_eq!(trending[0].reasons, ["trending"]);
}

#[test]
fn sent_papers_old_papers_and_the_cap_are_respected() {
    let topics = Topics::default();
    let mut papers = corpus();
    papers[1].first_seen = now() - Duration::days(8);
    let limits = SelectionLimits {
        max_papers: 2,
        ..SelectionLimits::default()
    };
    let sel = Selector::new(papers, [&topics], limits);
    let sent: HashSet<PaperId> = [PaperId::parse_arxiv("2411.00001").unwrap().0].into();
    let got: Vec<_> = sel
        .select(&topics, now() - Duration::days(7), &sent)
        .into_iter()
        .map(|p| p.paper.id.unwrap().to_string())
        .collect();
    assert_eq!(got, ["2411.00004", "2411.00003"]);
}

/// **Why** in issue 9: "For `transformer`, the first picks are papers that list
/// transformers in passing, because they have more upvotes."
#[test]
fn a_paper_centred_on_the_topic_comes_before_a_popular_passing_mention() {
    let mut papers = vec![
        paper(
            "2411.00011",
            "Scaling laws for data mixtures",
            "We fit scaling laws for mixtures of web text and code across model sizes, from \
             small recurrent models to a transformer, and find that mixtures matter.",
            Some(250),
            &["cs.CL"],
        ),
        paper(
            "2411.00012",
            "Linear-time transformers",
            "We make the transformer linear in sequence length. Our transformers keep the \
             quality of softmax attention; transformer layers train faster.",
            Some(4),
            &["cs.LG"],
        ),
    ];
    for i in 0..20 {
        papers.push(paper(
            &format!("2411.{:05}", 100 + i),
            "Something else",
            "Unrelated words about proteins.",
            Some(1),
            &["q-bio.BM"],
        ));
    }
    assert_eq!(
        select_from(papers, "transformer"),
        ["2411.00012", "2411.00011"]
    );
}

/// **Why**: `author:"Y. LeCun"` found nothing even with that exact name stored;
/// `author:"Yann LeCun"` missed "Y. LeCun" and "LeCun, Yann"; an NFD name was found by
/// neither spelling.
#[test]
fn authors_are_found_however_their_names_are_written() {
    let with_author = |id: &str, name: &str| {
        let mut p = paper(id, "A paper", "Text.", Some(1), &["cs.LG"]);
        p.paper.authors = vec![name.to_string()];
        p
    };
    let papers = || {
        vec![
            with_author("2411.00021", "Y. LeCun"),
            with_author("2411.00022", "LeCun, Yann"),
            with_author("2411.00023", "Yann A. LeCun"),
            with_author("2411.00024", "Bernhard Scho\u{308}lkopf"),
            with_author("2411.00025", "Yves Smith"),
        ]
    };
    let cases: &[(&str, &[&str])] = &[
        (
            "author:\"Yann LeCun\"",
            &["2411.00021", "2411.00022", "2411.00023"],
        ),
        (
            "author:\"Y. LeCun\"",
            &["2411.00021", "2411.00022", "2411.00023"],
        ),
        ("author:Schölkopf", &["2411.00024"]),
        ("author:Scholkopf", &["2411.00024"]),
        ("author:\"Bernhard Schölkopf\"", &["2411.00024"]),
        ("author:Yves", &[]),
    ];
    for (topics, expected) in cases {
        let mut got = select_from(papers(), topics);
        got.sort();
        assert_eq!(&got, expected, "{topics}");
    }
}

/// **Why**: `ViT` missed papers that only say "Vision Transformer"; `NAS` missed "neural
/// architecture search".
#[test]
fn acronyms_learned_from_abstracts_match_both_ways_and_say_so() {
    let papers = || {
        vec![
            paper(
                "2411.00031",
                "Scaling ViT to a billion parameters",
                "The Vision Transformer (ViT) is scaled up.",
                Some(10),
                &["cs.CV"],
            ),
            paper(
                "2411.00032",
                "Patch sizes in vision transformers",
                "We study patches in vision transformers for images.",
                Some(5),
                &["cs.CV"],
            ),
            paper(
                "2411.00033",
                "Cheap neural architecture search",
                "Neural architecture search (NAS) finds networks.",
                Some(2),
                &["cs.LG"],
            ),
            paper(
                "2411.00034",
                "A survey",
                "We survey neural architecture search methods.",
                Some(1),
                &["cs.LG"],
            ),
        ]
    };
    let mut vit = select_from(papers(), "ViT");
    vit.sort();
    assert_eq!(vit, ["2411.00031", "2411.00032"]);
    let mut long = select_from(papers(), "\"vision transformer\"");
    long.sort();
    assert_eq!(long, ["2411.00031", "2411.00032"]);
    let mut nas = select_from(papers(), "NAS");
    nas.sort();
    assert_eq!(nas, ["2411.00033", "2411.00034"]);
    let topics = Topics::parse("ViT").unwrap();
    let sel = Selector::new(papers(), [&topics], SelectionLimits::default());
    let picks = sel.select(&topics, now() - Duration::days(7), &HashSet::new());
    let patch = picks
        .iter()
        .find(|p| p.paper.title.starts_with("Patch"))
        .unwrap();
    assert_eq!(
        patch.reasons,
        ["ViT = vision transformer: title · abstract"]
    );
}

#[test]
fn hf_keywords_are_matched_as_a_field_of_their_own() {
    let mut p = paper("2411.00041", "A model", "Text.", Some(1), &["cs.LG"]);
    p.paper.ai_keywords = vec!["mixture of experts".into(), "routing".into()];
    let topics = Topics::parse("\"mixture of experts\"").unwrap();
    let sel = Selector::new(vec![p], [&topics], SelectionLimits::default());
    let picks = sel.select(&topics, now() - Duration::days(7), &HashSet::new());
    assert_eq!(picks[0].reasons, ["mixture of experts: keywords"]);
    assert!(
        select_from(
            {
                let mut p = paper("2411.00042", "A model", "Text.", Some(1), &["cs.LG"]);
                p.paper.ai_keywords = vec!["experts".into(), "routing".into()];
                vec![p]
            },
            "\"experts routing\""
        )
        .is_empty()
    );
}

#[test]
fn plain_word_interests_pick_close_papers_and_name_the_carrying_words() {
    let mut papers = vec![
        paper(
            "2411.00051",
            "Equivariant networks for molecular symmetry",
            "We build rotation equivariant neural networks that respect the symmetry group of \
             molecules; equivariance improves sample efficiency in deep learning.",
            Some(2),
            &["cs.LG"],
        ),
        paper(
            "2411.00052",
            "Deep learning for weather",
            "A deep learning model forecasts rain.",
            Some(90),
            &["cs.LG"],
        ),
    ];
    for i in 0..10 {
        papers.push(paper(
            &format!("2411.{:05}", 200 + i),
            "Sorting",
            "We sort integers quickly.",
            Some(1),
            &["cs.DS"],
        ));
    }
    let topics = Topics::parse("about:\"equivariance and symmetry in deep learning\"").unwrap();
    let sel = Selector::new(papers, [&topics], SelectionLimits::default());
    let picks = sel.select(&topics, now() - Duration::days(7), &HashSet::new());
    assert_eq!(picks.len(), 1, "{picks:?}");
    assert_eq!(picks[0].reasons, ["about: equivariance · symmetry · deep"]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(300))]

        /// Query and text are normalised alike: a phrase is always found in a title that is
        /// that very phrase.
        #[test]
        fn a_phrase_is_found_in_a_title_that_says_it(s in "[\\PC&&[^\"“”„«»＂,;:!?.()\\[\\]{}。、，；：！？（）¿¡$\\\\\\-]]{1,30}") {
            let Ok(topics) = Topics::parse(&format!("\"{s}\"")) else { return Ok(()) };
            let Some(Term::Phrase(p)) = topics.terms.first().cloned() else { return Ok(()) };
            // Clause punctuation (also after NFKC: `﹇` is `[`) is a break in the phrase too.
            if Field::new(&s).joined.contains(normalise::BREAK) || Field::new(&s).tokens.is_empty() {
                return Ok(());
            }
            let papers = vec![paper("2411.00001", &s, "", Some(1), &["cs.LG"])];
            let sel = Selector::new(papers, [&topics], SelectionLimits::default());
            let picks = sel.select(&topics, now() - Duration::days(7), &HashSet::new());
            prop_assert_eq!(picks.len(), 1, "{} as {}", s, p);
        }
    }
}

/// A candidate with HF keywords.
fn stored(id: &str, title: &str, abs: &str, keywords: &[&str], cats: &[&str]) -> StoredPaper {
    let mut p = paper(id, title, abs, Some(1), cats);
    p.paper.ai_keywords = keywords.iter().map(|k| k.to_string()).collect();
    p
}

/// Issue 20: `-survey` (the sign-up form's own example) left a cs.CL reader with an empty
/// digest because the only cs.CL paper mentions "World-Values-Survey" once.
#[test]
fn an_exclusion_leaves_out_papers_about_it_and_keeps_a_passing_mention() {
    let papers = || {
        vec![
            stored(
                "2411.00011",
                "Cultural alignment of language models",
                "We compare model answers with the World-Values-Survey across countries.",
                &[],
                &["cs.CL"],
            ),
            stored(
                "2411.00012",
                "A Survey of Large Language Models",
                "We review recent models.",
                &[],
                &["cs.CL"],
            ),
            stored(
                "2411.00013",
                "Large language models in medicine",
                "This survey covers clinical uses; our survey ends with open problems.",
                &[],
                &["cs.CL"],
            ),
            stored(
                "2411.00014",
                "Evaluating chatbots",
                "We evaluate chatbots.",
                &["survey", "chatbots"],
                &["cs.CL"],
            ),
        ]
    };
    let got = |topics: &str| {
        let mut ids = select_from(papers(), topics);
        ids.sort();
        ids
    };
    assert_eq!(got("cat:cs.CL, -survey"), ["2411.00011"]);
    assert_eq!(got("cat:cs.CL, NOT survey"), ["2411.00011"]);
    assert!(got("cat:cs.CL, -strict:survey").is_empty());
    assert_eq!(
        got("cat:cs.CL, -ti:survey"),
        ["2411.00011", "2411.00013", "2411.00014"]
    );
    assert_eq!(
        got("cat:cs.CL, -abs:survey"),
        ["2411.00011", "2411.00012", "2411.00014"]
    );
    assert_eq!(
        got("cat:cs.CL, -strict:abs:survey"),
        ["2411.00012", "2411.00014"]
    );
    // Categories and authors stay literal.
    assert!(got("cat:cs.CL, -cat:cs.CL").is_empty());
    assert!(got("cat:cs.CL, -author:\"Ada Lovelace\"").is_empty());
}

#[test]
fn field_prefixes_look_in_that_field_only_and_say_so() {
    let papers = || {
        vec![
            stored(
                "2411.00021",
                "Transformers for tables",
                "We propose a model.",
                &[],
                &["cs.LG"],
            ),
            stored(
                "2411.00022",
                "Tabular learning",
                "A transformer and another transformer.",
                &[],
                &["cs.LG"],
            ),
        ]
    };
    assert_eq!(select_from(papers(), "ti:transformer"), ["2411.00021"]);
    assert_eq!(select_from(papers(), "abs:transformer"), ["2411.00022"]);
    assert_eq!(select_from(papers(), "all:transformer").len(), 2);
    let topics = Topics::parse("ti:transformer, abs:transformer").unwrap();
    let sel = Selector::new(papers(), [&topics], SelectionLimits::default());
    let picks = sel.select(&topics, now() - Duration::days(7), &HashSet::new());
    let why: Vec<(String, Vec<String>)> = picks
        .into_iter()
        .map(|p| (p.paper.id.unwrap().to_string(), p.reasons))
        .collect();
    assert!(
        why.contains(&("2411.00021".into(), vec!["transformer: title".into()])),
        "{why:?}"
    );
    assert!(
        why.contains(&("2411.00022".into(), vec!["transformer: abstract ×2".into()])),
        "{why:?}"
    );
}

#[test]
fn and_requires_every_part_and_the_why_line_names_each() {
    let papers = || {
        vec![
            stored(
                "2411.00031",
                "Video diffusion models",
                "We generate video with diffusion.",
                &[],
                &["cs.CV"],
            ),
            stored(
                "2411.00032",
                "Diffusion for audio",
                "Sound with diffusion.",
                &[],
                &["cs.SD"],
            ),
            stored(
                "2411.00033",
                "Video understanding",
                "We caption video.",
                &[],
                &["cs.CV"],
            ),
        ]
    };
    assert_eq!(select_from(papers(), "diffusion AND video"), ["2411.00031"]);
    assert_eq!(
        select_from(papers(), "cat:cs.CV AND diffusion"),
        ["2411.00031"]
    );
    assert_eq!(select_from(papers(), "diffusion OR video").len(), 3);
    assert!(select_from(papers(), "diffusion AND cat:cs.SD AND video").is_empty());
    let topics = Topics::parse("diffusion AND video, cat:cs.CV").unwrap();
    let sel = Selector::new(papers(), [&topics], SelectionLimits::default());
    let picks = sel.select(&topics, now() - Duration::days(7), &HashSet::new());
    assert_eq!(picks[0].paper.id.as_ref().unwrap().as_str(), "2411.00031");
    assert_eq!(
        picks[0].reasons,
        [
            "diffusion: title · abstract AND video: title · abstract",
            "cs.CV"
        ]
    );
    // Both parts count: the conjunction outranks the category alone.
    assert_eq!(picks.len(), 2);
}

/// The optimised selection (one index shared by every reader, dense reused buffers, sent
/// and excluded papers marked first, top-k) picks exactly what the straightforward
/// algorithm picks (every paper scored, a full sort), on a generated corpus with every
/// kind of term, and so does an index built for one reader alone.
mod same_as_reference {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const WORDS: &[&str] = &[
        "model",
        "models",
        "learning",
        "network",
        "diffusion",
        "graph",
        "graphs",
        "attention",
        "transformer",
        "vision",
        "language",
        "policy",
        "reward",
        "robot",
        "matrix",
        "matrices",
        "optimisation",
        "optimization",
        "self-supervised",
        "equivariance",
        "symmetry",
        "noise",
        "sampling",
        "kernel",
        "latent",
        "bias",
        "news",
        "index",
        "indices",
        "quantum",
    ];
    const FUNCTION: &[&str] = &["we", "the", "a", "of", "and", "to", "in", "for", "with"];
    const ACRONYMS: &[(&str, &str)] = &[
        ("vision transformer", "ViT"),
        ("graph neural network", "GNN"),
        ("large language model", "LLM"),
        ("neural architecture search", "NAS"),
    ];
    const CATEGORIES: &[&str] = &["cs.LG", "cs.CL", "cs.CV", "stat.ML", "math.OC", "hep-th"];
    const NAMES: &[&str] = &["Ada Lovelace", "Alan Turing", "Grace Hopper", "Yann LeCun"];

    fn text(rng: &mut StdRng, words: usize) -> String {
        let mut out = Vec::new();
        for i in 0..words {
            if rng.random_bool(0.08) {
                let (long, short) = ACRONYMS[rng.random_range(0..ACRONYMS.len())];
                out.push(format!("{long} ({short})"));
            } else if rng.random_bool(0.4) {
                out.push(FUNCTION[rng.random_range(0..FUNCTION.len())].to_string());
            } else {
                out.push(WORDS[rng.random_range(0..WORDS.len())].to_string());
            }
            if i % 12 == 11 {
                out.push(".".into());
            }
        }
        out.join(" ")
    }

    fn corpus(rng: &mut StdRng) -> Vec<StoredPaper> {
        (0..240)
            .map(|i| {
                let mut p = paper(
                    &format!("2411.{:05}", i + 1),
                    &text(rng, 8),
                    &text(rng, 60),
                    rng.random_bool(0.7).then(|| rng.random_range(0..40)),
                    &[CATEGORIES[rng.random_range(0..CATEGORIES.len())]],
                );
                p.paper.authors = vec![NAMES[rng.random_range(0..NAMES.len())].to_string()];
                p.first_seen = now() - Duration::hours(rng.random_range(0..200));
                p
            })
            .collect()
    }

    fn topics(rng: &mut StdRng) -> Topics {
        let mut items = Vec::new();
        for _ in 0..rng.random_range(1..=4) {
            let word = WORDS[rng.random_range(0..WORDS.len())];
            let other = WORDS[rng.random_range(0..WORDS.len())];
            items.push(match rng.random_range(0..14) {
                0 | 1 => word.to_string(),
                2 => format!("\"{word} {}\"", WORDS[rng.random_range(0..WORDS.len())]),
                3 => format!("cat:{}", CATEGORIES[rng.random_range(0..CATEGORIES.len())]),
                4 => format!("author:\"{}\"", NAMES[rng.random_range(0..NAMES.len())]),
                5 => ACRONYMS[rng.random_range(0..ACRONYMS.len())].1.to_string(),
                6 => format!(
                    "about:\"{word} {} {}\"",
                    WORDS[rng.random_range(0..WORDS.len())],
                    ACRONYMS[rng.random_range(0..ACRONYMS.len())].1
                ),
                7 => format!("ti:{word}"),
                8 => format!("abs:\"{word} {other}\""),
                9 => format!("{word} AND {other}"),
                10 => format!(
                    "cat:{} AND {word}",
                    CATEGORIES[rng.random_range(0..CATEGORIES.len())]
                ),
                11 => format!("-strict:{word}"),
                12 => format!("-ti:{word}"),
                _ => format!("-{word}"),
            });
        }
        if rng.random_bool(0.15) {
            items.push(format!("min_upvotes:{}", rng.random_range(1..20)));
        }
        Topics::parse(&items.join(", ")).unwrap_or_default()
    }

    #[test]
    fn optimised_selection_picks_what_the_straightforward_algorithm_picks() {
        compare_with_reference(None);
    }

    #[test]
    fn optimised_selection_reading_meaning_picks_what_the_straightforward_algorithm_picks() {
        compare_with_reference(Some(crate::embed::Embedder::shipped()));
    }

    fn compare_with_reference(model: Option<crate::embed::Embedder>) {
        let mut rng = StdRng::seed_from_u64(20261128);
        let papers = corpus(&mut rng);
        let readers: Vec<Topics> = (0..400).map(|_| topics(&mut rng)).collect();
        let limits = SelectionLimits {
            max_papers: 7,
            ..SelectionLimits::default()
        };
        let meaning = model.map(|m| Meaning::embed(std::sync::Arc::new(m), &papers));
        let shared =
            Selector::with_meaning(papers.clone(), readers.iter(), limits, meaning.clone());
        assert_eq!(shared.reads_meaning(), meaning.is_some());
        let mut compared = 0;
        for (i, t) in readers.iter().enumerate() {
            let since = now() - Duration::hours(rng.random_range(24..220));
            let sent: HashSet<PaperId> = (0..rng.random_range(0..4))
                .filter_map(|_| {
                    shared.papers()[rng.random_range(0..papers.len())]
                        .paper
                        .id
                        .clone()
                })
                .collect();
            let reference = shared.select_reference(t, since, &sent);
            let optimised = shared.select(t, since, &sent);
            assert_eq!(optimised, reference, "reader {i}: {t}");
            let refs: Vec<PickRef> = reference
                .iter()
                .filter_map(Option::<PickRef>::from)
                .collect();
            assert_eq!(shared.select_refs(t, since, &sent), refs, "reader {i}: {t}");
            if i % 8 == 0 {
                // An index built for this reader alone agrees with the shared one.
                let alone = Selector::with_meaning(papers.clone(), [t], limits, meaning.clone());
                assert_eq!(
                    alone.select(t, since, &sent),
                    reference,
                    "reader {i} alone: {t}"
                );
                assert_eq!(
                    shared.for_topics(t).select(t, since, &sent),
                    reference,
                    "reader {i} indexed again: {t}"
                );
            }
            compared += !reference.is_empty() as usize;
        }
        assert!(compared > 300, "only {compared} readers had picks");
    }

    #[test]
    fn a_selector_covers_the_topics_it_was_built_for_and_no_others() {
        let papers = corpus(&mut StdRng::seed_from_u64(1));
        let t =
            Topics::parse("diffusion, author:\"Ada Lovelace\", about:\"graph kernels\"").unwrap();
        let sel = Selector::new(papers, [&t], SelectionLimits::default());
        assert!(sel.covers(&t));
        assert!(sel.covers(&Topics::parse("cat:cs.LG").unwrap()));
        for other in [
            "attention",
            "author:\"Alan Turing\"",
            "about:\"noise\"",
            "-matrix",
        ] {
            assert!(!sel.covers(&Topics::parse(other).unwrap()), "{other}");
        }
    }
}

/// Papers for the meaning tests: two about graph learning that never say the reader's
/// keyword, one that says it in passing, and unrelated ones.
fn meaning_corpus() -> Vec<StoredPaper> {
    vec![
        stored(
            "2411.10001",
            "Message passing over molecules",
            "Node embeddings exchanged along chemical bonds predict the binding affinity of a drug to its protein target.",
            &[],
            &["cs.LG"],
        ),
        stored(
            "2411.10002",
            "Graph neural networks for traffic forecasting",
            "A graph neural network with attention over road sensors forecasts traffic flow on city networks.",
            &[],
            &["cs.LG"],
        ),
        stored(
            "2411.10003",
            "Proton radius from electron scattering",
            "We extract the proton charge radius from elastic electron scattering data at low momentum transfer.",
            &[],
            &["nucl-ex"],
        ),
        stored(
            "2411.10004",
            "Bose-Einstein condensates of polaritons",
            "Exciton polaritons in microcavities condense; we measure coherence and vortices in the condensate.",
            &[],
            &["cond-mat.quant-gas"],
        ),
        stored(
            "2411.10005",
            "Weather radar calibration",
            "Calibration of weather radar reflectivity with rain gauges over a decade of storms.",
            &[],
            &["physics.ao-ph"],
        ),
    ]
}

fn selector_reading_meaning(
    papers: Vec<StoredPaper>,
    topics: &Topics,
    weights: SelectionWeights,
) -> Selector {
    let meaning = Meaning::embed(
        std::sync::Arc::new(crate::embed::Embedder::shipped()),
        &papers,
    );
    Selector::with_meaning(
        papers,
        [topics],
        SelectionLimits {
            max_papers: 20,
            weights,
        },
        Some(meaning),
    )
}

#[test]
fn an_interest_also_finds_papers_close_in_meaning_and_says_meaning_carried_them() {
    // Issue 20: plain-word interests read letters. The graph papers say "graph neural
    // network" and "message passing on molecular graphs", not the reader's words.
    let topics = Topics::parse("about:\"learning on graphs with neural networks\"").unwrap();
    // The bar for meaning alone set for this small corpus (its cosine to the interest is
    // 0.32, the unrelated papers' at most 0.15); the default is calibrated by the benchmark.
    let weights = SelectionWeights {
        meaning_min_similarity: 0.3,
        ..SelectionWeights::default()
    };
    let sel = selector_reading_meaning(meaning_corpus(), &topics, weights);
    let picks = sel.select(&topics, now() - Duration::days(7), &HashSet::new());
    let ids: Vec<String> = picks
        .iter()
        .map(|p| p.paper.id.clone().unwrap().to_string())
        .collect();
    let why: Vec<_> = picks.iter().map(|p| &p.reasons).collect();
    assert!(ids.contains(&"2411.10001".to_string()), "{ids:?} {why:?}");
    assert!(ids.contains(&"2411.10002".to_string()), "{ids:?} {why:?}");
    for unrelated in ["2411.10003", "2411.10004", "2411.10005"] {
        assert!(
            !ids.contains(&unrelated.to_string()),
            "{unrelated} in {ids:?}"
        );
    }
    // The message-passing paper shares no word with the interest: meaning alone found it.
    let mp = picks
        .iter()
        .find(|p| p.paper.id.as_ref().unwrap().to_string() == "2411.10001")
        .unwrap();
    assert!(
        mp.reasons
            .iter()
            .any(|r| r.starts_with("close in meaning to your interest “learning on graphs")),
        "{:?}",
        mp.reasons
    );
    // Words alone (meaning_weight 0) see the same line as before: no meaning reason.
    let words = selector_reading_meaning(
        meaning_corpus(),
        &topics,
        SelectionWeights {
            meaning_weight: 0.0,
            ..weights
        },
    );
    assert!(!words.reads_meaning());
    for p in words.select(&topics, now() - Duration::days(7), &HashSet::new()) {
        assert!(
            p.reasons.iter().all(|r| !r.contains("close in meaning")),
            "{:?}",
            p.reasons
        );
    }
}

#[test]
fn meaning_never_overrides_exclusions_sent_papers_authors_or_field_prefixes() {
    let since = now() - Duration::days(7);
    // Excluded by a word in the title: meaning cannot bring it back.
    let topics = Topics::parse("\"graph neural network\", -traffic").unwrap();
    let sel = selector_reading_meaning(meaning_corpus(), &topics, SelectionWeights::default());
    let ids: Vec<String> = sel
        .select(&topics, since, &HashSet::new())
        .into_iter()
        .map(|p| p.paper.id.unwrap().to_string())
        .collect();
    assert!(!ids.contains(&"2411.10002".to_string()), "{ids:?}");
    // Already sent: never twice.
    let sent: HashSet<PaperId> = [PaperId::parse_arxiv("2411.10001").unwrap().0].into();
    let ids: Vec<String> = sel
        .select(&topics, since, &sent)
        .into_iter()
        .map(|p| p.paper.id.unwrap().to_string())
        .collect();
    assert!(!ids.contains(&"2411.10001".to_string()), "{ids:?}");
    // `ti:`, authors and categories stay literal: one title says "molecules", and
    // no paper has this author.
    for (line, want) in [
        ("ti:molecules", vec!["2411.10001"]),
        ("author:\"Grace Hopper\"", vec![]),
        ("cat:nucl-ex", vec!["2411.10003"]),
    ] {
        let t = Topics::parse(line).unwrap();
        let sel = selector_reading_meaning(meaning_corpus(), &t, SelectionWeights::default());
        let ids: Vec<String> = sel
            .select(&t, since, &HashSet::new())
            .into_iter()
            .map(|p| p.paper.id.unwrap().to_string())
            .collect();
        assert_eq!(ids, want, "{line}");
    }
}
