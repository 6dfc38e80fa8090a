//! Acronyms learned from the papers themselves: an abstract that writes "Vision Transformer
//! (ViT)" or "neural architecture search (NAS)" teaches that the two mean the same, so a
//! reader following `ViT` also gets papers that only say "vision transformer", and the other
//! way round. No hand-made list: a new field's acronyms are learned as its papers arrive.
//!
//! The long form is found with the algorithm of Schwartz and Hearst (2003, "A simple
//! algorithm for identifying abbreviation definitions in biomedical text"): walking the
//! short form's letters backwards through the words before the parenthesis, the first
//! letter at the start of a word. Learned once per run over all candidate papers; when
//! papers disagree, the long form most of them use wins.
use std::collections::HashMap;

use super::normalise::normalise;

/// Short form (as written, `ViT`) ⇄ long form (normal form, `vision transformer`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Acronyms {
    long_of: HashMap<String, String>,
    short_of: HashMap<String, String>,
}

impl Acronyms {
    /// Learns from the abstracts (and titles) of `texts`.
    pub(crate) fn learn<'a>(texts: impl IntoIterator<Item = &'a str>) -> Acronyms {
        let mut votes: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for text in texts {
            for (short, long) in definitions(text) {
                *votes.entry(short).or_default().entry(long).or_default() += 1;
            }
        }
        let mut acronyms = Acronyms::default();
        let mut shorts: Vec<_> = votes.into_iter().collect();
        shorts.sort_by(|a, b| a.0.cmp(&b.0));
        for (short, longs) in shorts {
            let Some((long, _)) = longs
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            else {
                continue;
            };
            acronyms
                .short_of
                .entry(long.clone())
                .or_insert(short.clone());
            acronyms.long_of.insert(short, long);
        }
        acronyms
    }

    /// The long form (normal form) of a short form as written (`ViT`).
    pub(crate) fn long_of(&self, short: &str) -> Option<&str> {
        self.long_of.get(short).map(String::as_str)
    }

    /// The short form of a long form given in normal form (`vision transformer`).
    pub(crate) fn short_of(&self, long: &str) -> Option<&str> {
        self.short_of.get(long).map(String::as_str)
    }

    pub(crate) fn len(&self) -> usize {
        self.long_of.len()
    }
}

/// `(short, long)` pairs defined in `text` as "long form (SF)".
fn definitions(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    let mut before_len = 0;
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(')') else { break };
        let inside = after[..close].trim();
        let before = &text[..before_len + open];
        if let Some(short) = short_form(inside)
            && let Some(long) = long_form(before, &short)
        {
            found.push((short, long));
        }
        before_len += open + 1;
        rest = after;
    }
    found
}

/// `ViT`, `NAS`, `LLMs` (→ `LLM`), `GPT-4`: 2 to 10 characters, starting with a letter, with
/// at least two capitals. Plain words in parentheses are not short forms.
fn short_form(s: &str) -> Option<String> {
    let n = s.chars().count();
    if !(2..=10).contains(&n)
        || !s.chars().next().is_some_and(char::is_alphabetic)
        || !s.chars().all(|c| c.is_alphanumeric() || c == '-')
        || s.chars().filter(|c| c.is_uppercase()).count() < 2
    {
        return None;
    }
    let s = match s.strip_suffix('s') {
        Some(stem) if stem.chars().last().is_some_and(char::is_uppercase) => stem,
        _ => s,
    };
    Some(s.to_string())
}

/// Schwartz–Hearst: the shortest run of words before the parenthesis that spells `short`.
fn long_form(before: &str, short: &str) -> Option<String> {
    // The clause before the parenthesis: not across a sentence or another bracket.
    let clause = before
        .rsplit(['.', ';', ':', '(', ')', '[', ']', '\n'])
        .next()
        .unwrap_or(before);
    let letters: Vec<char> = short
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let max_words = (letters.len() + 5).min(letters.len() * 2);
    let words: Vec<&str> = clause.split_whitespace().collect();
    let words = &words[words.len().saturating_sub(max_words)..];
    let candidate: Vec<char> = words
        .join(" ")
        .chars()
        .flat_map(char::to_lowercase)
        .collect();
    let mut l = candidate.len() as isize - 1;
    let mut s = letters.len() as isize - 1;
    while s >= 0 {
        let c = letters[s as usize];
        loop {
            if l < 0 {
                return None;
            }
            let at_word_start = l == 0 || !candidate[(l - 1) as usize].is_alphanumeric();
            if candidate[l as usize] == c && (s > 0 || at_word_start) {
                break;
            }
            l -= 1;
        }
        l -= 1;
        s -= 1;
    }
    let start = (l + 1).max(0) as usize;
    let long: String = candidate[start..].iter().collect();
    let mut norm = normalise(&long);
    // "large language models (LLMs)": singular on both sides.
    if let Some(stem) = norm.strip_suffix('s')
        && !stem.ends_with('s')
    {
        norm = stem.to_string();
    }
    let words = norm.split(' ').count();
    (words >= 2 && norm.len() > short.len() && words <= letters.len() + 1).then_some(norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_in_abstracts_are_learned_both_ways() {
        let a = Acronyms::learn([
            "We scale the Vision Transformer (ViT) to billions of parameters.",
            "Neural architecture search (NAS) is costly. Large language models (LLMs) help.",
            "Results (see Table 2) and a plain word (here) teach nothing.",
            "Low-Rank Adaptation (LoRA) adapts weights.",
        ]);
        assert_eq!(a.long_of("ViT"), Some("vision transformer"));
        assert_eq!(a.long_of("NAS"), Some("neural architecture search"));
        assert_eq!(a.long_of("LLM"), Some("large language model"));
        assert_eq!(a.long_of("LoRA"), Some("low rank adaptation"));
        assert_eq!(a.short_of("vision transformer"), Some("ViT"));
        assert_eq!(a.len(), 4);
    }

    #[test]
    fn the_most_common_expansion_wins() {
        let a = Acronyms::learn([
            "reinforcement learning (RL)",
            "representation learning (RL)",
            "reinforcement learning (RL) again",
        ]);
        assert_eq!(a.long_of("RL"), Some("reinforcement learning"));
    }
}
