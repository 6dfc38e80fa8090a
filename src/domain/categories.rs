//! The arXiv category taxonomy (`templates/arxiv_categories.json`), as the topic parser and the
//! web forms need it: is a code real, and how does arXiv spell it. (The web's picker reads the
//! same file for its groups and names.)
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

const RAW: &str = include_str!("../../templates/arxiv_categories.json");

/// Lower-case code or archive → arXiv's spelling (`cs.cl` → `cs.CL`, `cs` → `cs`).
static CANONICAL: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let raw: BTreeMap<String, BTreeMap<String, String>> =
        serde_json::from_str(RAW).expect("templates/arxiv_categories.json is valid (tested)");
    let mut map = HashMap::new();
    for code in raw.values().flat_map(|g| g.keys()) {
        map.insert(code.to_lowercase(), code.clone());
        let archive = code.split('.').next().unwrap_or(code);
        map.entry(archive.to_lowercase())
            .or_insert_with(|| archive.to_string());
    }
    map
});

/// arXiv's spelling of a category code or archive given in any letter case, or `None` when
/// arXiv has no such category (`cs.ZZ`, `node.js`).
pub(crate) fn canonical_category(code: &str) -> Option<&'static str> {
    if code.is_empty() || code.len() > 32 {
        return None;
    }
    CANONICAL.get(&code.to_lowercase()).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_in_any_case_are_found_and_others_are_not() {
        assert_eq!(canonical_category("CS.LG"), Some("cs.LG"));
        assert_eq!(canonical_category("hep-th"), Some("hep-th"));
        assert_eq!(canonical_category("astro-ph"), Some("astro-ph"));
        assert_eq!(canonical_category("cs"), Some("cs"));
        assert_eq!(canonical_category("cs.ZZ"), None);
        assert_eq!(canonical_category("node.js"), None);
    }
}
