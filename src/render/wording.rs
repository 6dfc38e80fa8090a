//! Newsletter wording from `templates/wording.toml`, parsed once. The file is compiled in, so a
//! broken or incomplete file fails the unit test below, never a send.
use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Wording {
    pub heading: Heading,
    pub paper: PaperWording,
    pub footer: Footer,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Heading {
    pub personal_one: String,
    pub personal_many: String,
    pub trending_one: String,
    pub trending_many: String,
    pub intro_personal: String,
    pub intro_trending: String,
    pub empty: String,
    pub more_like: String,
    pub more_like_intro: String,
    pub glance: String,
    pub editors_note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaperWording {
    pub r#abstract: String,
    pub pdf: String,
    pub hugging_face: String,
    pub code: String,
    pub project: String,
    pub ai_summary: String,
    pub matched: String,
    pub trending: String,
    pub upvotes_one: String,
    pub upvotes_many: String,
    pub comments_one: String,
    pub comments_many: String,
    pub et_al: String,
    pub untitled: String,
    pub like: String,
    pub dislike: String,
    pub editors_pick: String,
    pub editors_pick_note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Footer {
    pub preferences: String,
    pub archive: String,
    pub unsubscribe: String,
    pub sent_by: String,
    pub view_in_browser: String,
    pub feed: String,
}

pub(crate) static WORDING: LazyLock<Wording> = LazyLock::new(|| {
    toml::from_str(include_str!("../../templates/wording.toml"))
        .expect("templates/wording.toml is valid (checked by render::wording tests)")
});

/// `one` for 1, otherwise `many` with `{n}` replaced by the count.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        one.to_string()
    } else {
        many.replace("{n}", &n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_file_parses_and_counts_are_filled_in() {
        let c = &*WORDING;
        assert_eq!(
            plural(1, &c.heading.personal_one, &c.heading.personal_many),
            "1 new paper for you"
        );
        assert_eq!(
            plural(12, &c.heading.personal_one, &c.heading.personal_many),
            "12 new papers for you"
        );
        assert!(c.footer.sent_by.contains("{name}"));
        assert!(c.paper.et_al.contains("{n}"));
    }
}
