//! Word forms: plurals generated forward from the reader's word (never by stripping it, so
//! `news`, `NAS` and `bias` stay themselves), irregular plurals both ways, and British
//! spellings mapped to US ones on both sides (`optimisation` = `optimization`).
//!
//! Hand-written tables rather than a stemmer: a stemmer strips the query too (`news` → `new`,
//! `bias` → `bia`), which is exactly the surprise this module exists to avoid.
use std::borrow::Cow;

/// Singular → plural forms that do not follow the rules.
const IRREGULAR: &[(&str, &[&str])] = &[
    ("matrix", &["matrices", "matrixes"]),
    ("index", &["indices", "indexes"]),
    ("vertex", &["vertices", "vertexes"]),
    ("appendix", &["appendices", "appendixes"]),
    ("simplex", &["simplices", "simplexes"]),
    ("criterion", &["criteria"]),
    ("phenomenon", &["phenomena"]),
    ("datum", &["data"]),
    ("medium", &["media", "mediums"]),
    ("spectrum", &["spectra", "spectrums"]),
    ("curriculum", &["curricula", "curriculums"]),
    ("maximum", &["maxima", "maximums"]),
    ("minimum", &["minima", "minimums"]),
    ("optimum", &["optima"]),
    ("quantum", &["quanta"]),
    ("formula", &["formulae", "formulas"]),
    ("corpus", &["corpora", "corpuses"]),
    ("genus", &["genera"]),
    ("radius", &["radii", "radiuses"]),
    ("nucleus", &["nuclei"]),
    ("focus", &["foci", "focuses"]),
    ("stimulus", &["stimuli"]),
    ("locus", &["loci"]),
    ("fungus", &["fungi"]),
    ("alga", &["algae"]),
    ("antenna", &["antennas", "antennae"]),
    ("schema", &["schemas", "schemata"]),
    ("child", &["children"]),
    ("mouse", &["mice"]),
    ("man", &["men"]),
    ("woman", &["women"]),
    ("person", &["people", "persons"]),
    ("foot", &["feet"]),
    ("tooth", &["teeth"]),
    ("goose", &["geese"]),
    ("leaf", &["leaves"]),
    ("half", &["halves"]),
    ("life", &["lives"]),
    ("self", &["selves"]),
    ("shelf", &["shelves"]),
    ("wolf", &["wolves"]),
    ("knife", &["knives"]),
    ("wife", &["wives"]),
];

/// Words ending in `s` that are singular and take `-es` (`bias` → `biases`); other words
/// ending in `s` (not `-ss`, `-us`, `-is`) are taken as plurals already.
const SINGULAR_S: &[&str] = &[
    "bias", "gas", "atlas", "canvas", "alias", "lens", "bonus", "iris", "plus", "minus",
];

/// Words the same in the singular and the plural, or with no plural.
const INVARIANT: &[&str] = &[
    "news", "series", "species", "means", "chaos", "cosmos", "ethos", "kudos", "thanks",
];

/// The forms a query word also matches, itself first. `word` is a normalised key (lower
/// case, US spelling); `acronym` when the reader wrote it in capitals (`NAS` also matches
/// `NASs`, never `NASes`).
///
/// A word that is a plural already (`transformers`, `agents`, `LLMs`) or has none (`news`,
/// `series`, `physics`, `autonomous`) is matched as itself: a plural of a plural
/// ("transformerses") is no paper's word.
pub(crate) fn word_forms(word: &str, acronym: bool) -> Vec<String> {
    let mut forms = vec![word.to_string()];
    let mut push = |f: String| {
        let f = us_spelling(&f).into_owned();
        if !forms.contains(&f) {
            forms.push(f);
        }
    };
    if acronym {
        if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric()) {
            push(format!("{word}s"));
        }
        return forms;
    }
    for (singular, plurals) in IRREGULAR {
        if *singular == word {
            plurals.iter().for_each(|p| push(p.to_string()));
        }
        if plurals.contains(&word) {
            push(singular.to_string());
        }
    }
    let letters = word.chars().count();
    if letters < 2 || !word.chars().all(|c| c.is_ascii_alphabetic()) {
        return forms;
    }
    if IRREGULAR.iter().any(|(_, plurals)| plurals.contains(&word)) || INVARIANT.contains(&word) {
        return forms;
    }
    // Participles and adverbs have no plural (`supervised`, `learning` as in "deep learning"
    // does, but "learnings" is no paper's word), nor have adjectives in `-ous` and `-less`,
    // or the `-ics` sciences (`physics`, `robotics`; `metrics` is a plural already).
    let no_plural = ["ous", "less", "ics"].iter().any(|e| word.ends_with(e))
        || (letters > 4 && (word.ends_with("ed") || word.ends_with("ing") || word.ends_with("ly")));
    if no_plural {
        return forms;
    }
    if let Some(stem) = word.strip_suffix("sis") {
        push(format!("{stem}ses"));
    } else if word.ends_with('s') {
        let singular = word.ends_with("ss")
            || word.ends_with("us")
            || word.ends_with("is")
            || SINGULAR_S.contains(&word);
        if singular {
            push(format!("{word}es"));
        } else if let Some(stem) = word.strip_suffix("yzes") {
            // `analyses` (spelled `analyzes` once normalised) is the plural of `analysis`.
            push(format!("{stem}ysis"));
        } else if let Some(stem) = word.strip_suffix("eses").filter(|s| s.len() >= 2) {
            // `hypotheses`, `theses`, `syntheses`.
            push(format!("{stem}esis"));
        }
    } else if let Some(stem) = word.strip_suffix('y')
        && stem.len() >= 2
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        push(format!("{stem}ies"));
    } else if word.ends_with(['x', 'z']) || word.ends_with("ch") || word.ends_with("sh") {
        push(format!("{word}es"));
    } else {
        push(format!("{word}s"));
    }
    forms
}

/// British spellings whose `-our` becomes `-or` (with every ending: `behavioural`).
const OUR_STEMS: &[&str] = &[
    "colour",
    "behaviour",
    "favour",
    "flavour",
    "honour",
    "humour",
    "labour",
    "neighbour",
    "rumour",
    "savour",
    "vapour",
    "vigour",
    "harbour",
    "armour",
    "endeavour",
    "odour",
    "tumour",
    "valour",
    "parlour",
    "rigour",
    "splendour",
    "clamour",
];

/// Words that double their `l` in British spelling (`modelling`, `labelled`, `travelled`).
const DOUBLE_L: &[&str] = &[
    "model", "label", "travel", "cancel", "signal", "level", "tunnel", "fuel", "channel",
    "counsel", "funnel", "dial", "total", "equal", "pedal", "shovel", "quarrel", "marvel", "rival",
    "libel", "panel", "barrel", "duel", "initial", "kernel", "pixel", "parcel", "jewel", "tunnel",
    "unravel", "snorkel", "marshal",
];

/// Whole words spelled differently.
const WORDS: &[(&str, &str)] = &[
    ("defence", "defense"),
    ("defences", "defenses"),
    ("offence", "offense"),
    ("licence", "license"),
    ("grey", "gray"),
    ("programme", "program"),
    ("programmes", "programs"),
    ("aluminium", "aluminum"),
    ("sulphur", "sulfur"),
    ("mould", "mold"),
    ("judgement", "judgment"),
    ("judgements", "judgments"),
    ("acknowledgement", "acknowledgment"),
    ("ageing", "aging"),
    ("artefact", "artifact"),
    ("artefacts", "artifacts"),
    ("sceptical", "skeptical"),
    ("fulfil", "fulfill"),
    ("enrol", "enroll"),
    ("learnt", "learned"),
    ("catalogue", "catalog"),
    ("catalogues", "catalogs"),
    ("analogue", "analog"),
    ("analogues", "analogs"),
    ("dialogue", "dialog"),
    ("dialogues", "dialogs"),
    ("centre", "center"),
    ("centres", "centers"),
    ("centred", "centered"),
    ("metre", "meter"),
    ("metres", "meters"),
    ("fibre", "fiber"),
    ("fibres", "fibers"),
    ("litre", "liter"),
    ("theatre", "theater"),
    ("calibre", "caliber"),
    ("spectre", "specter"),
    ("manoeuvre", "maneuver"),
    ("oestrogen", "estrogen"),
    ("anaemia", "anemia"),
    ("haemoglobin", "hemoglobin"),
    ("paediatric", "pediatric"),
    ("orthopaedic", "orthopedic"),
    ("leukaemia", "leukemia"),
    ("foetus", "fetus"),
    ("encyclopaedia", "encyclopedia"),
    ("tyre", "tire"),
    ("tyres", "tires"),
];

/// `-ise` words that are not British spellings of `-ize` (kept as written).
const ISE_WORDS: &[&str] = &[
    "noise",
    "denoise",
    "precise",
    "imprecise",
    "concise",
    "wise",
    "otherwise",
    "likewise",
    "clockwise",
    "pairwise",
    "elementwise",
    "stepwise",
    "pointwise",
    "layerwise",
    "expertise",
    "exercise",
    "enterprise",
    "promise",
    "compromise",
    "premise",
    "surprise",
    "advise",
    "devise",
    "revise",
    "comprise",
    "supervise",
    "franchise",
    "raise",
    "praise",
    "paradise",
    "merchandise",
    "treatise",
    "disguise",
    "excise",
    "incise",
    "chastise",
    "despise",
    "improvise",
    "televise",
    "apprise",
    "arise",
    "rise",
    "sunrise",
    "demise",
    "poise",
    "tortoise",
    "turquoise",
    "reprise",
    "guise",
    "bruise",
    "cruise",
    "cerise",
    "valise",
    "prise",
    "vise",
    "mise",
    "anise",
    "porpoise",
    "circumcise",
    "upraise",
    "appraise",
];

/// An `-ise` word that stays, also inside a compound (`selfsupervise`, `denoise`): short
/// ones only whole (`rise` must not keep `categorise` British).
fn is_ise_word(word: &str) -> bool {
    ISE_WORDS
        .iter()
        .any(|w| word == *w || (w.len() >= 7 && word.ends_with(w)))
}

const ISE_ENDINGS: &[(&str, &str)] = &[
    ("isations", "izations"),
    ("isation", "ization"),
    ("isers", "izers"),
    ("iser", "izer"),
    ("ising", "izing"),
    ("ised", "ized"),
    ("ises", "izes"),
    ("ise", "ize"),
    ("isable", "izable"),
];

const YSE_ENDINGS: &[(&str, &str)] = &[
    ("yse", "yze"),
    ("ysed", "yzed"),
    ("yses", "yzes"),
    ("ysing", "yzing"),
    ("yser", "yzer"),
    ("ysers", "yzers"),
];

/// The US spelling of a normalised (lower-case) word; any other word unchanged. Idempotent.
pub(crate) fn us_spelling(word: &str) -> Cow<'_, str> {
    if word.len() < 4 || !word.is_ascii() {
        return Cow::Borrowed(word);
    }
    if let Some((_, us)) = WORDS.iter().find(|(uk, _)| *uk == word) {
        return Cow::Owned(us.to_string());
    }
    for stem in OUR_STEMS {
        if let Some(rest) = word.strip_prefix(stem) {
            let us = &stem[..stem.len() - 2];
            return Cow::Owned(format!("{us}r{rest}"));
        }
    }
    for stem in DOUBLE_L {
        if let Some(rest) = word.strip_prefix(stem)
            && let Some(ending) = rest.strip_prefix('l')
            && matches!(ending, "ing" | "ed" | "er" | "ers" | "ings")
        {
            return Cow::Owned(format!("{stem}{ending}"));
        }
    }
    for (uk, us) in ISE_ENDINGS {
        if let Some(stem) = word.strip_suffix(uk)
            && stem.len() >= 2
            && !is_ise_word(&format!("{stem}ise"))
        {
            return Cow::Owned(format!("{stem}{us}"));
        }
    }
    for (uk, us) in YSE_ENDINGS {
        if let Some(stem) = word.strip_suffix(uk)
            && stem.ends_with("al")
        {
            return Cow::Owned(format!("{stem}{us}"));
        }
    }
    Cow::Borrowed(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_go_forward_from_the_query_and_never_strip_it() {
        let cases: &[(&str, &[&str])] = &[
            ("news", &["news"]),
            ("bias", &["bias", "biases"]),
            ("transformer", &["transformer", "transformers"]),
            ("study", &["study", "studies"]),
            ("hypothesis", &["hypothesis", "hypotheses"]),
            ("analysis", &["analysis", "analyzes"]),
            ("matrix", &["matrix", "matrices", "matrixes", "matrixes"]),
            ("index", &["index", "indices", "indexes"]),
            ("criterion", &["criterion", "criteria", "criterions"]),
            ("criteria", &["criteria", "criterion"]),
            ("key", &["key", "keys"]),
        ];
        for (word, expected) in cases {
            let forms = word_forms(word, false);
            for e in *expected {
                assert!(
                    forms.contains(&e.to_string()),
                    "{word}: {forms:?} lacks {e}"
                );
            }
            assert_eq!(forms[0], *word);
        }
        assert_eq!(word_forms("news", false), ["news"]);
        assert_eq!(word_forms("criteria", false), ["criteria", "criterion"]);
        assert!(!word_forms("bias", false).contains(&"bia".to_string()));
    }

    /// What `topics check` prints for each word (normalised keys, so `analyses` is
    /// `analyzes`): a plural is matched as itself, never as a plural of a plural.
    #[test]
    fn every_form_is_a_word_spelled_right() {
        let table: &[(&str, bool, &[&str])] = &[
            ("transformers", false, &["transformers"]),
            ("agents", false, &["agents"]),
            ("analyzes", false, &["analyzes", "analysis"]),
            ("hypotheses", false, &["hypotheses", "hypothesis"]),
            ("theses", false, &["theses", "thesis"]),
            ("series", false, &["series"]),
            ("species", false, &["species"]),
            ("news", false, &["news"]),
            ("means", false, &["means"]),
            ("bias", false, &["bias", "biases"]),
            ("gas", false, &["gas", "gases"]),
            ("lens", false, &["lens", "lenses"]),
            ("class", false, &["class", "classes"]),
            ("loss", false, &["loss", "losses"]),
            ("virus", false, &["virus", "viruses"]),
            ("physics", false, &["physics"]),
            ("robotics", false, &["robotics"]),
            ("metrics", false, &["metrics"]),
            ("autonomous", false, &["autonomous"]),
            ("lossless", false, &["lossless"]),
            ("ideas", false, &["ideas"]),
            ("images", false, &["images"]),
            ("matrices", false, &["matrices", "matrix"]),
            ("data", false, &["data", "datum"]),
            ("agent", false, &["agent", "agents"]),
            ("policy", false, &["policy", "policies"]),
            ("patch", false, &["patch", "patches"]),
            ("nas", true, &["nas", "nass"]),
            ("nas", false, &["nas"]),
            ("llm", true, &["llm", "llms"]),
            ("llms", false, &["llms"]),
            ("vits", false, &["vits"]),
            ("gans", false, &["gans"]),
            ("gan", true, &["gan", "gans"]),
        ];
        for (word, acronym, expected) in table {
            assert_eq!(word_forms(word, *acronym), *expected, "{word}");
        }
    }

    #[test]
    fn british_spellings_become_us_spellings() {
        let cases = [
            ("optimisation", "optimization"),
            ("optimise", "optimize"),
            ("generalise", "generalize"),
            ("generalisation", "generalization"),
            ("modelling", "modeling"),
            ("labelled", "labeled"),
            ("colour", "color"),
            ("behavioural", "behavioral"),
            ("analyse", "analyze"),
            ("centre", "center"),
            ("noise", "noise"),
            ("supervised", "supervised"),
            ("calling", "calling"),
            ("four", "four"),
            ("optimization", "optimization"),
        ];
        for (uk, us) in cases {
            assert_eq!(us_spelling(uk), us, "{uk}");
            assert_eq!(us_spelling(us), us, "{us} is already US");
        }
    }
}
