use super::*;

fn phrase(s: &str) -> Term {
    Term::Phrase(s.into())
}

#[test]
fn every_kind_of_item_is_parsed() {
    let t = Topics::parse(
        "Transformers, \"diffusion model\"; cat:cs.CL, large language models, author:\"Yann LeCun\", \
         about:\"equivariance in deep learning\", -survey, -cat:stat.ML, -author:\"X Y\", min_upvotes:10",
    )
    .unwrap();
    assert_eq!(
        t.terms,
        vec![
            phrase("transformers"),
            phrase("diffusion model"),
            Term::Category("cs.CL".into()),
            phrase("large language models"),
            Term::Author("Yann LeCun".into()),
            Term::About("equivariance in deep learning".into()),
        ]
    );
    assert_eq!(
        t.exclude,
        vec![
            phrase("survey"),
            Term::Category("stat.ML".into()),
            Term::Author("X Y".into())
        ]
    );
    assert_eq!(t.min_upvotes, Some(10));
}

#[test]
fn bare_codes_are_categories_only_when_arxiv_has_them() {
    let t = Topics::parse("cs.LG, astro-ph.CO, CS.cv, hep-th, node.js, -stat.ML, math").unwrap();
    assert_eq!(
        t.terms,
        vec![
            Term::Category("cs.LG".into()),
            Term::Category("astro-ph.CO".into()),
            Term::Category("cs.CV".into()),
            Term::Category("hep-th".into()),
            phrase("node.js"),
            phrase("math"),
        ]
    );
    assert_eq!(t.exclude, vec![Term::Category("stat.ML".into())]);
}

#[test]
fn the_canonical_spelling_round_trips() {
    for raw in [
        "a, \"b c\", cat:cs, author:x y, -\"d e\", -f, upvotes>=3",
        "\"hep-th\", \"a:b\", \"-x\", node.js, about:\"groups, symmetry\"",
        "SAM, ViT, TRANSFORMERS, like:2410.12345, -author:Łukasz, -cat:cs.CL",
    ] {
        let t = Topics::parse(raw).unwrap();
        assert_eq!(Topics::parse(&t.to_string()).unwrap(), t, "{raw} → {t}");
    }
}

#[test]
fn acronyms_keep_their_capitals_and_other_words_are_lower_cased() {
    let t = Topics::parse("SAM, ViT, Diffusion Models, TRANSFORMERS, LLaMA").unwrap();
    assert_eq!(
        t.terms,
        vec![
            phrase("SAM"),
            phrase("ViT"),
            phrase("diffusion models"),
            phrase("transformers"),
            phrase("LLaMA")
        ]
    );
}

#[test]
fn long_physics_subject_codes_are_categories() {
    let t = Topics::parse("cat:cond-mat.quant-gas, cond-mat.stat-mech").unwrap();
    assert_eq!(
        t.categories().collect::<Vec<_>>(),
        ["cond-mat.quant-gas", "cond-mat.stat-mech"]
    );
}

#[test]
fn empty_topics_mean_trending() {
    assert!(Topics::parse("").unwrap().is_trending());
    assert!(Topics::parse(" ,").unwrap().is_trending());
    assert!(Topics::parse("a,\n\nb").is_ok());
    assert!(Topics::parse("min_upvotes:5").unwrap().is_trending());
}

/// Every silent acceptance listed under **Why** in issue 9 is now an error that names the
/// item, its position and its column.
#[test]
fn bad_items_are_refused_with_the_item_and_its_position_named() {
    let cases = [
        ("min_upvotes:many", "min_upvotes:many", 1, 1, "whole number"),
        ("cat:CS CL", "cat:CS CL", 1, 1, "not an arXiv category"),
        ("llm, cat:cs.ZZ", "cat:cs.ZZ", 2, 6, "not an arXiv category"),
        ("author:", "author:", 1, 1, "names no author"),
        ("llm, foo:bar", "foo:bar", 2, 6, "not a known prefix"),
        (
            "\"diffusion model, cat:cs.CV",
            "\"diffusion model, cat:cs.CV",
            1,
            1,
            "never closed",
        ),
        ("a, b,, c", "", 3, 6, "empty"),
        ("a, -", "-", 2, 4, "excludes nothing"),
        ("\"\"", "\"\"", 1, 1, "no letters"),
        (
            "x, like:banana",
            "like:banana",
            2,
            4,
            "not an arXiv identifier",
        ),
        ("-about:x", "-about:x", 1, 1, "cannot be excluded"),
    ];
    for (raw, item, position, column, reason) in cases {
        let e = Topics::parse(raw).unwrap_err();
        assert_eq!(
            (e.item.as_str(), e.position, e.column),
            (item, position, column),
            "{raw}: {e}"
        );
        assert!(e.reason.contains(reason), "{raw}: {e}");
    }
    let long = "x".repeat(101);
    assert!(Topics::parse(&long).is_err());
    let e = Topics::parse("llm, foo:bar").unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "topic 2 `foo:bar` (column 6): `foo:` is not a known prefix (known: {PREFIXES}); put a keyword with a colon in quotes"
        )
    );
}

#[test]
fn liked_and_disliked_papers_are_parsed_and_round_trip() {
    let t = Topics::parse("llm, like:2410.12345, dislike:2411.00001v2, -like:arXiv:2411.00002")
        .unwrap();
    assert_eq!(
        t.likes().iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        ["2410.12345"]
    );
    assert_eq!(
        t.dislikes().iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        ["2411.00001", "2411.00002"]
    );
    assert_eq!(Topics::parse(&t.to_string()).unwrap(), t);
    assert!(!Topics::parse("like:2410.12345").unwrap().is_trending());
}

#[test]
fn non_ascii_items_parse_and_round_trip() {
    for raw in [
        "au: Łukasz",
        "author:\"łukasz\"",
        "café",
        "日本語",
        "author:\"Łukasz Kaiser\", author:\"Émile Borel\"",
        "-ł, cat:ł",
        "“diffusion model”",
    ] {
        if let Ok(t) = Topics::parse(raw) {
            assert_eq!(Topics::parse(&t.to_string()).unwrap(), t, "{raw}");
        }
    }
    let t = Topics::parse("au: Łukasz").unwrap();
    assert_eq!(t.terms, vec![Term::Author("Łukasz".into())]);
    assert_eq!(
        Topics::parse("“diffusion model”").unwrap().terms,
        vec![phrase("diffusion model")]
    );
}

/// The examples under **Why** in issue 20, as researchers type them.
#[test]
fn the_operators_researchers_type_map_onto_the_topic_language() {
    let t = Topics::parse("diffusion AND video").unwrap();
    assert_eq!(
        t.terms,
        vec![Term::All(vec![phrase("diffusion"), phrase("video")])]
    );
    assert_eq!(t.to_string(), "diffusion AND video");
    let t = Topics::parse("math.AP OR cs.NA").unwrap();
    assert_eq!(
        t.terms,
        vec![
            Term::Category("math.AP".into()),
            Term::Category("cs.NA".into())
        ]
    );
    assert_eq!(t.to_string(), "cat:math.AP, cat:cs.NA");
    let t = Topics::parse("llm, NOT survey").unwrap();
    assert_eq!(
        (t.terms, t.exclude),
        (vec![phrase("llm")], vec![phrase("survey")])
    );
    let t = Topics::parse("research and development, \"diffusion AND video\", not now").unwrap();
    assert_eq!(
        t.terms,
        vec![
            phrase("research and development"),
            phrase("diffusion AND video"),
            phrase("not now")
        ]
    );
    let t = Topics::parse(
        "cat:cs.CV AND author:\"Yann LeCun\" AND ti:diffusion, \"state space\" AND abs:\"long context\"",
    )
    .unwrap();
    assert_eq!(
        t.terms,
        vec![
            Term::All(vec![
                Term::Category("cs.CV".into()),
                Term::Author("Yann LeCun".into()),
                Term::Title("diffusion".into())
            ]),
            Term::All(vec![
                phrase("state space"),
                Term::Abstract("long context".into())
            ]),
        ]
    );
    assert_eq!(
        t.to_string(),
        "cat:cs.CV AND author:\"Yann LeCun\" AND ti:diffusion, \"state space\" AND abs:\"long context\""
    );
    assert_eq!(Topics::parse("a AND a").unwrap().terms, vec![phrase("a")]);
    let t = Topics::parse("a OR b AND c, NOT d OR e").unwrap();
    assert_eq!(
        t.terms,
        vec![
            phrase("a"),
            Term::All(vec![phrase("b"), phrase("c")]),
            phrase("e")
        ]
    );
    assert_eq!(t.exclude, vec![phrase("d")]);
}

#[test]
fn operators_that_do_not_fit_are_refused_naming_what_works() {
    let cases = [
        ("diffusion AND", "AND` needs an item on each side"),
        ("AND diffusion", "AND` needs an item on each side"),
        ("OR video", "OR` needs an item on each side"),
        ("video OR", "OR` needs an item on each side"),
        ("a OR OR b", "OR` needs an item on each side"),
        ("a AND AND b", "AND` needs an item on each side"),
        ("NOT", "NOT` needs an item after it"),
        ("diffusion AND NOT survey", "`diffusion, -survey`"),
        ("diffusion NOT survey", "`diffusion, -survey`"),
        ("NOT survey AND review", "write each as an item of its own"),
        ("diffusion AND -survey", "(`diffusion AND video, -survey`)"),
        (
            "-diffusion AND video",
            "an exclusion cannot be part of `AND`",
        ),
        (
            "diffusion AND about:x",
            "about: interest cannot be part of `AND`",
        ),
        ("diffusion AND min_upvotes:3", "min_upvotes:10`)"),
        (
            "diffusion AND like:2410.12345",
            "like:ID` as an item of its own",
        ),
        ("a AND b AND c AND d AND e AND f AND g", "more than 6 items"),
        ("NOT -survey", "one is enough"),
        ("-NOT survey", "one is enough"),
    ];
    for (raw, reason) in cases {
        let e = Topics::parse(raw).unwrap_err();
        assert!(e.reason.contains(reason), "{raw}: {e}");
        assert_eq!(e.position, 1, "{raw}: {e}");
    }
    let e = Topics::parse("llm, video OR").unwrap_err();
    assert_eq!((e.item.as_str(), e.column), ("OR", 12), "{e}");
}

#[test]
fn arxiv_field_prefixes_restrict_a_keyword_to_one_field() {
    let t =
        Topics::parse("ti:transformer, abs:\"Diffusion Models\", all:LLM, -ti:survey, au:Łukasz")
            .unwrap();
    assert_eq!(
        t.terms,
        vec![
            Term::Title("transformer".into()),
            Term::Abstract("diffusion models".into()),
            phrase("LLM"),
            Term::Author("Łukasz".into()),
        ]
    );
    assert_eq!(t.exclude, vec![Term::Title("survey".into())]);
    assert_eq!(
        t.to_string(),
        "ti:transformer, abs:\"diffusion models\", LLM, author:\"Łukasz\", -ti:survey"
    );
    assert!(
        Topics::parse("ti:")
            .unwrap_err()
            .reason
            .contains("no letters")
    );
}

#[test]
fn arxiv_ids_links_and_dois_typed_as_items_are_liked_papers() {
    let t = Topics::parse(
        "arXiv:2410.18958, 2410.18959v2, https://arxiv.org/abs/2410.18960, \
         https://arxiv.org/pdf/2410.18961v1, doi:10.48550/arXiv.2410.18962, \
         https://doi.org/10.48550/arXiv.2410.18963, like:doi:10.48550/arXiv.2410.18964, \
         -2410.18965, NOT arXiv:2410.18966, dislike:https://arxiv.org/abs/2410.18967",
    )
    .unwrap();
    let ids = |l: &[PaperId]| l.iter().map(|p| p.as_str().to_string()).collect::<Vec<_>>();
    assert_eq!(
        ids(t.likes()),
        [
            "2410.18958",
            "2410.18959",
            "2410.18960",
            "2410.18961",
            "2410.18962",
            "2410.18963",
            "2410.18964"
        ]
    );
    assert_eq!(
        ids(t.dislikes()),
        ["2410.18965", "2410.18966", "2410.18967"]
    );
    assert!(t.terms.is_empty());
    // A DOI not on arXiv names the paper keyed by it (a feed's, a preprint server's).
    let t =
        Topics::parse("llm, doi:10.1038/NATURE14539, -https://doi.org/10.1101/641381v2").unwrap();
    assert_eq!(ids(t.likes()), ["doi:10.1038/nature14539"]);
    assert_eq!(ids(t.dislikes()), ["doi:10.1101/641381"]);
    assert_eq!(Topics::parse(&t.to_string()).unwrap(), t);
    let e = Topics::parse("https://example.org/paper").unwrap_err();
    assert!(e.reason.contains("not to an arXiv paper"), "{e}");
    // Quoted, an id is a phrase, and stays one through the canonical spelling.
    let t = Topics::parse("\"2410.18958\", \"10.1038/x\"").unwrap();
    assert_eq!(t.terms, vec![phrase("2410.18958"), phrase("10.1038/x")]);
    assert_eq!(Topics::parse(&t.to_string()).unwrap(), t);
}

#[test]
fn a_feeds_subject_is_a_category_and_an_arxiv_typo_is_not() {
    let t = Topics::parse("cat:genomics, cat:\"plant biology\", -cat:RESEARCH").unwrap();
    assert_eq!(
        t.terms,
        vec![
            Term::Category("genomics".into()),
            Term::Category("plant biology".into())
        ]
    );
    assert_eq!(t.exclude, vec![Term::Category("RESEARCH".into())]);
    assert_eq!(Topics::parse(&t.to_string()).unwrap(), t);
    assert_eq!(Topics::parse_stored(&t.to_string()).unwrap(), t);
    for typo in ["cat:cs.FAKE", "cat:math.XX"] {
        let e = Topics::parse(typo).unwrap_err();
        assert!(e.reason.contains("is not an arXiv category"), "{typo}: {e}");
    }
}

#[test]
fn strict_exclusions_leave_out_any_mention_and_round_trip() {
    let t = Topics::parse(
        "llm, -strict:survey, NOT strict:\"literature review\", -strict:abs:benchmark, -strict:ti:x",
    )
    .unwrap();
    assert_eq!(
        t.exclude_strict,
        vec![
            phrase("survey"),
            phrase("literature review"),
            Term::Abstract("benchmark".into())
        ]
    );
    assert_eq!(t.exclude, vec![Term::Title("x".into())]);
    assert_eq!(
        t.to_string(),
        "llm, -ti:x, -strict:survey, -strict:\"literature review\", -strict:abs:benchmark"
    );
    assert_eq!(Topics::parse(&t.to_string()).unwrap(), t);
    for (raw, reason) in [
        ("strict:survey", "only changes an exclusion"),
        ("-strict:cat:cs.CL", "applies to keywords and phrases"),
        ("-strict:", "excludes nothing"),
    ] {
        let e = Topics::parse(raw).unwrap_err();
        assert!(e.reason.contains(reason), "{raw}: {e}");
    }
    let explained = Topics::parse("-survey, -strict:review")
        .unwrap()
        .explain()
        .join("\n");
    assert!(
        explained.contains("leave out papers about `survey`: in the title or keywords, or said at least 2 times in the abstract; a passing mention in the abstract stays"),
        "{explained}"
    );
    assert!(
        explained.contains("mention `review` anywhere"),
        "{explained}"
    );
}

#[test]
fn a_bare_persons_name_stays_a_phrase_with_a_hint_naming_author() {
    let (t, hints) = Topics::parse_with_hints(
        "Yann LeCun, Monte Carlo, Transformer Networks, \"Geoffrey Hinton\", -Fei-Fei Li",
    )
    .unwrap();
    assert_eq!(
        t.terms,
        vec![
            phrase("yann LeCun"),
            phrase("monte carlo"),
            phrase("transformer networks"),
            phrase("geoffrey hinton")
        ]
    );
    let got: Vec<(usize, &str)> = hints
        .iter()
        .map(|h| (h.position, h.suggestion.as_str()))
        .collect();
    assert_eq!(
        got,
        [(1, "author:\"Yann LeCun\""), (5, "-author:\"Fei-Fei Li\"")]
    );
    assert!(
        hints[0]
            .to_string()
            .contains("did you mean author:\"Yann LeCun\"?"),
        "{}",
        hints[0]
    );
}

/// Lines stored before operators and paper references were read keep their meaning: the
/// canonical spelling then left these phrases bare.
#[test]
fn stored_lines_keep_the_meaning_they_were_written_with() {
    let stored = Topics::parse_stored(
        "NOT, AND, -OR, -NOT, 2410.18958, 10.1038/nature14539, arxiv.org/abs/2410.18958, -survey",
    )
    .unwrap();
    assert_eq!(
        stored.terms,
        [
            phrase("NOT"),
            phrase("AND"),
            phrase("2410.18958"),
            phrase("10.1038/nature14539"),
            phrase("arxiv.org/abs/2410.18958"),
        ]
    );
    assert_eq!(
        stored.exclude,
        [phrase("OR"), phrase("NOT"), phrase("survey")]
    );
    assert!(stored.likes.is_empty());
    // Written again, they are quoted, and read the same typed or stored.
    let line = stored.to_string();
    assert_eq!(
        line,
        "\"NOT\", \"AND\", \"2410.18958\", \"10.1038/nature14539\", \
         \"arxiv.org/abs/2410.18958\", -\"OR\", -\"NOT\", -survey"
    );
    assert_eq!(Topics::parse(&line).unwrap(), stored);
    assert_eq!(Topics::parse_stored(&line).unwrap(), stored);
    // Typed now, the same items are operators and papers.
    assert!(Topics::parse("NOT").is_err());
    assert_eq!(Topics::parse("2410.18958").unwrap().likes.len(), 1);
    // Today's canonical lines read the same stored.
    let now = "diffusion AND video, ti:transformer, -strict:survey, like:2410.18958";
    assert_eq!(
        Topics::parse_stored(now).unwrap(),
        Topics::parse(now).unwrap()
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(2000))]

        /// Any Unicode at all: an answer, never a panic; what parses reads back the same.
        #[test]
        fn any_line_parses_or_is_refused_and_round_trips(raw in "\\PC{0,80}") {
            if let Ok(t) = Topics::parse(&raw) {
                let canonical = t.to_string();
                let back = Topics::parse(&canonical).unwrap();
                prop_assert_eq!(&back, &t);
                prop_assert_eq!(back.to_string(), canonical.clone());
                // What is stored reads back the same as a stored line too.
                prop_assert_eq!(Topics::parse_stored(&canonical).unwrap(), t);
            }
            if let Ok(t) = Topics::parse_stored(&raw) {
                prop_assert_eq!(Topics::parse_stored(&t.to_string()).unwrap(), t);
            }
        }

        /// Lines built from the syntax's own pieces and arbitrary text.
        #[test]
        fn lines_of_syntax_pieces_never_panic_and_round_trip(
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just("cat:".to_string()), Just("author:".to_string()),
                    Just("about:".to_string()), Just("-".to_string()),
                    Just("\"".to_string()), Just(", ".to_string()),
                    Just("like:".to_string()), Just("min_upvotes:".to_string()),
                    Just(" AND ".to_string()), Just(" OR ".to_string()),
                    Just("NOT ".to_string()), Just("ti:".to_string()),
                    Just("abs:".to_string()), Just("strict:".to_string()),
                    Just("arXiv:2410.18958".to_string()),
                    Just("doi:10.48550/arXiv.2410.1895".to_string()),
                    "\\PC{0,6}", "[a-zA-Z.\\-]{1,8}",
                ],
                0..12,
            )
        ) {
            let raw = pieces.concat();
            if let Ok(t) = Topics::parse(&raw) {
                prop_assert_eq!(Topics::parse(&t.to_string()).unwrap(), t.clone());
                prop_assert_eq!(Topics::parse_stored(&t.to_string()).unwrap(), t);
            }
        }
    }
}
