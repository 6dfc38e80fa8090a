//! The arXiv category taxonomy (`templates/arxiv_categories.json`, a copy of the list in
//! arxiv.py: `{group: {code: CamelCaseName}}`), compiled in. It feeds the forms' category
//! picker and refuses categories arXiv does not have, whether ticked or typed as `cat:xx.YY`.
use std::collections::BTreeMap;
use std::sync::LazyLock;

const RAW: &str = include_str!("../../templates/arxiv_categories.json");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// As arXiv spells it: `cs.CL`, `hep-th`, `cond-mat.quant-gas`.
    pub code: String,
    /// Readable: "Computation and Language".
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct CategoryGroup {
    /// "Computer Science".
    pub name: String,
    pub categories: Vec<Category>,
}

static GROUPS: LazyLock<Vec<CategoryGroup>> = LazyLock::new(|| {
    let raw: BTreeMap<String, BTreeMap<String, String>> =
        serde_json::from_str(RAW).expect("templates/arxiv_categories.json is valid (tested)");
    raw.into_iter()
        .map(|(group, codes)| CategoryGroup {
            name: humanize(&group),
            categories: codes
                .into_iter()
                .map(|(code, name)| Category {
                    code,
                    name: humanize(&name),
                })
                .collect(),
        })
        .collect()
});

/// The taxonomy's groups in order, for the picker.
pub fn category_groups() -> &'static [CategoryGroup] {
    &GROUPS
}

/// The canonical spelling of a category code or archive (any letter case), or `None` when
/// arXiv has no such category.
/// Archives (`cs`, `hep-th`) count, as [`crate::domain::Topics`] defines `cat:cs`; the lookup
/// is the topic parser's own.
pub fn canonical_category(code: &str) -> Option<&'static str> {
    crate::domain::canonical_category(code.trim())
}

/// Is `code` one of the picker's codes (exact spelling)?
pub(crate) fn is_listed(code: &str) -> bool {
    GROUPS
        .iter()
        .flat_map(|g| &g.categories)
        .any(|c| c.code == code)
}

/// Readable name of a listed code.
pub(crate) fn name_of(code: &str) -> Option<&'static str> {
    GROUPS
        .iter()
        .flat_map(|g| &g.categories)
        .find(|c| c.code == code)
        .map(|c| c.name.as_str())
}

/// `AnalysisofPDEs` → `Analysis of PDEs`: split camel case, then the connectors arxiv.py
/// glued to the word before them, then a few spellings arXiv writes otherwise.
fn humanize(camel: &str) -> String {
    let chars: Vec<char> = camel.chars().collect();
    let mut spaced = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let after_lower = prev.is_some_and(char::is_lowercase);
        // "PDEs": an upper-case run followed by a plural s stays one word.
        let ends_run = prev.is_some_and(char::is_uppercase)
            && next.is_some_and(|n| n.is_lowercase() && n != 's');
        if c.is_uppercase() && (after_lower || ends_run) {
            spaced.push(' ');
        }
        spaced.push(c);
    }
    let mut words: Vec<String> = Vec::new();
    for w in spaced.split(' ') {
        let glued = ["and", "of", "in", "for"]
            .iter()
            .find(|c| w.len() > c.len() + 2 && w.ends_with(*c));
        match glued {
            Some(c) => {
                words.push(w[..w.len() - c.len()].to_string());
                words.push(c.to_string());
            }
            None if ["And", "Of", "In", "For"].contains(&w) => words.push(w.to_lowercase()),
            None => words.push(w.to_string()),
        }
    }
    let mut out = words.join(" ");
    for (from, to) in [
        ("Math Information Theory", "Information Theory"),
        ("K Theory", "K-Theory"),
        ("Self Organizing", "Self-Organizing"),
        ("Human Computer", "Human-Computer"),
        ("Engineering Finance", "Engineering, Finance,"),
        ("Distributed Parallel", "Distributed, Parallel,"),
        ("Analysis Statistics", "Analysis, Statistics,"),
    ] {
        out = out.replace(from, to);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Topics;

    #[test]
    fn the_taxonomy_loads_with_readable_names() {
        let codes: usize = category_groups().iter().map(|g| g.categories.len()).sum();
        assert_eq!(codes, 155);
        assert_eq!(category_groups()[0].name, "Computer Science");
        assert_eq!(name_of("cs.CL"), Some("Computation and Language"));
        assert_eq!(name_of("math.AP"), Some("Analysis of PDEs"));
        assert_eq!(name_of("math.KT"), Some("K-Theory and Homology"));
        assert_eq!(name_of("cs.LO"), Some("Logic in Computer Science"));
        assert_eq!(
            name_of("astro-ph.IM"),
            Some("Instrumentation and Methods for Astrophysics")
        );
        assert_eq!(name_of("cs.IT"), Some("Information Theory"));
        for c in category_groups().iter().flat_map(|g| &g.categories) {
            assert!(
                !c.name.contains("  ") && !c.name.ends_with(','),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn codes_and_archives_are_found_in_any_case_and_unknown_ones_are_not() {
        assert_eq!(canonical_category("cs.cl"), Some("cs.CL"));
        assert_eq!(canonical_category("CS"), Some("cs"));
        assert_eq!(canonical_category("hep-th"), Some("hep-th"));
        assert_eq!(canonical_category("astro-ph"), Some("astro-ph"));
        assert_eq!(
            canonical_category("cond-mat.quant-gas"),
            Some("cond-mat.quant-gas")
        );
        for bad in ["cs.XX", "cs.", "", "physics.fake", "quant"] {
            assert_eq!(canonical_category(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_listed_code_parses_as_a_topic_category() {
        for c in category_groups().iter().flat_map(|g| &g.categories) {
            let t = Topics::parse(&format!("cat:{}", c.code)).unwrap();
            assert_eq!(t.categories().collect::<Vec<_>>(), [c.code.as_str()]);
        }
    }
}
