//! Paper text to weighted terms: lower-case words (a light plural fold), stop words
//! dropped, plus the bigrams of adjacent kept words. Hand-written rather than a crate:
//! ~80 lines, no allocation per character, and the exact rules are ours to document.
use std::collections::HashMap;

/// Title words count this many times an abstract word: a title says what a paper is about.
pub(crate) const TITLE_WEIGHT: f32 = 2.0;

/// Common English words and words every abstract uses; they carry no topic.
const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "across", "after", "again", "against", "all", "also", "although",
    "among", "an", "and", "another", "any", "approach", "are", "as", "at", "based", "be",
    "because", "been", "before", "being", "between", "both", "but", "by", "can", "could", "do",
    "does", "done", "due", "during", "each", "either", "et", "etc", "even", "ever", "every", "few",
    "for", "from", "further", "given", "had", "has", "have", "having", "here", "how", "however",
    "i", "if", "in", "into", "is", "it", "its", "itself", "just", "less", "like", "made", "make",
    "many", "may", "method", "more", "most", "much", "must", "new", "no", "nor", "not", "novel",
    "of", "often", "on", "once", "one", "only", "or", "other", "our", "ours", "out", "over",
    "paper", "per", "propose", "proposed", "rather", "result", "same", "several", "should", "show",
    "shown", "since", "so", "some", "such", "than", "that", "the", "their", "them", "then",
    "there", "these", "they", "this", "those", "through", "thus", "to", "too", "two", "under",
    "until", "up", "upon", "us", "use", "used", "using", "various", "very", "via", "was", "we",
    "well", "were", "what", "when", "where", "whether", "which", "while", "who", "whose", "why",
    "will", "with", "within", "without", "work", "would", "yet", "you", "your",
];

fn is_stop_word(w: &str) -> bool {
    STOP_WORDS.binary_search(&w).is_ok()
}

/// A light plural fold so "models" and "model" are one term: `-ies` → `-y`, a final `s`
/// dropped unless the word ends in `ss`, `us` or `is` (class, corpus, analysis).
fn fold(word: &str) -> String {
    if word.len() > 4
        && let Some(stem) = word.strip_suffix("ies")
    {
        return format!("{stem}y");
    }
    if word.len() > 3
        && word.ends_with('s')
        && !(word.ends_with("ss") || word.ends_with("us") || word.ends_with("is"))
    {
        return word[..word.len() - 1].to_string();
    }
    word.to_string()
}

/// Adds the terms of `text` to `counts`, each occurrence weighing `weight`. Words are runs
/// of letters and digits; hyphens, spaces and apostrophes keep a phrase going, any other
/// character (and a stop word) ends it, so bigrams never cross a sentence or a comma.
pub(crate) fn add_terms(text: &str, weight: f32, counts: &mut HashMap<String, f32>) {
    let lower = text.to_lowercase();
    let mut prev: Option<String> = None;
    let mut word = String::new();
    let mut flush = |word: &mut String, prev: &mut Option<String>, breaks: bool| {
        if !word.is_empty() {
            let w = std::mem::take(word);
            let keep = w.chars().count() >= 2
                && !w.chars().all(|c| c.is_ascii_digit())
                && !is_stop_word(&w);
            if keep {
                let w = fold(&w);
                if let Some(p) = prev.as_ref() {
                    *counts.entry(format!("{p} {w}")).or_default() += weight;
                }
                *counts.entry(w.clone()).or_default() += weight;
                *prev = Some(w);
            } else {
                *prev = None;
            }
        }
        if breaks {
            *prev = None;
        }
    };
    for c in lower.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            let joins = c.is_whitespace() || matches!(c, '-' | '‐' | '–' | '\'' | '’' | '$' | '\\');
            flush(&mut word, &mut prev, !joins);
        }
    }
    flush(&mut word, &mut prev, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        let mut c = HashMap::new();
        add_terms(text, 1.0, &mut c);
        let mut v: Vec<String> = c.into_keys().collect();
        v.sort();
        v
    }

    #[test]
    fn the_stop_word_list_is_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn words_are_folded_and_paired_but_not_across_stop_words_or_commas() {
        assert_eq!(
            terms("Self-Supervised Models of the graphs, studies"),
            [
                "graph",
                "model",
                "self",
                "self supervised",
                "study",
                "supervised",
                "supervised model"
            ]
        );
        assert_eq!(
            terms("class corpus analysis 2024"),
            [
                "analysis",
                "class",
                "class corpus",
                "corpus",
                "corpus analysis"
            ]
        );
    }

    #[test]
    fn title_words_weigh_more() {
        let mut c = HashMap::new();
        add_terms("diffusion", TITLE_WEIGHT, &mut c);
        add_terms("diffusion", 1.0, &mut c);
        assert_eq!(c["diffusion"], 3.0);
    }
}
