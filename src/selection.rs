//! SELECTION: which stored papers each reader gets, and why. Pure: no I/O, no clock.
//!
//! How topics combine (see [`crate::domain::Topics`] for the syntax): a paper is picked when
//! it matches **any** keyword/phrase (whole words in title + abstract, case-insensitive,
//! simple plurals either way), **any** category or **any** author; **and** it has at least
//! `min_upvotes` HF upvotes when that is set; **and** it matches no excluded term. Readers with
//! no terms get the trending digest: the window's papers by upvotes.
//!
//! Picks are ranked by HF upvotes (trending), then recency, and capped. Only papers first
//! stored inside the reader's window and never sent to them before are candidates.
//!
//! Matching is built for many readers: one Aho-Corasick automaton over every phrase that any
//! reader follows runs once per paper; each reader then only looks up ids.
use std::collections::{HashMap, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use chrono::{DateTime, Utc};

use crate::domain::{PaperId, Pick, Term, Topics};
use crate::store::StoredPaper;

/// Limits applied to every digest.
#[derive(Debug, Clone, Copy)]
pub struct SelectionLimits {
    /// At most this many papers in a digest (default 20).
    pub max_papers: usize,
}

impl Default for SelectionLimits {
    fn default() -> Self {
        SelectionLimits { max_papers: 20 }
    }
}

/// The candidate papers of a run, indexed for matching.
pub struct Selector {
    limits: SelectionLimits,
    /// Candidates in rank order: upvotes desc, then most recent first.
    papers: Vec<StoredPaper>,
    /// Phrase text → id in `phrase_hits`.
    phrase_ids: HashMap<String, usize>,
    /// For each paper (same order as `papers`), the ids of the phrases it contains.
    phrase_hits: Vec<HashSet<usize>>,
    /// For each paper, its lower-case author names.
    authors: Vec<Vec<String>>,
}

impl Selector {
    /// Indexes `papers` for every phrase used by `topics` (terms and exclusions).
    pub fn new<'a>(
        mut papers: Vec<StoredPaper>,
        topics: impl IntoIterator<Item = &'a Topics>,
        limits: SelectionLimits,
    ) -> Selector {
        papers.sort_by(|a, b| {
            let up = |p: &StoredPaper| p.paper.upvotes.unwrap_or(0);
            let recent =
                |p: &StoredPaper| p.paper.listed.or(p.paper.published).unwrap_or(p.first_seen);
            up(b)
                .cmp(&up(a))
                .then(recent(b).cmp(&recent(a)))
                .then(b.first_seen.cmp(&a.first_seen))
                .then(a.paper.id.cmp(&b.paper.id))
        });
        let mut phrase_ids: HashMap<String, usize> = HashMap::new();
        for t in topics {
            let phrases = t
                .terms
                .iter()
                .filter_map(|t| match t {
                    Term::Phrase(p) => Some(p),
                    _ => None,
                })
                .chain(t.exclude.iter());
            for p in phrases {
                let next = phrase_ids.len();
                phrase_ids.entry(p.clone()).or_insert(next);
            }
        }
        let matcher = PhraseMatcher::new(&phrase_ids);
        let phrase_hits = papers
            .iter()
            .map(|p| matcher.find(&format!("{} \n {}", p.paper.title, p.paper.abstract_text)))
            .collect();
        let authors = papers
            .iter()
            .map(|p| p.paper.authors.iter().map(|a| normalise(a)).collect())
            .collect();
        Selector {
            limits,
            papers,
            phrase_ids,
            phrase_hits,
            authors,
        }
    }

    pub fn candidate_count(&self) -> usize {
        self.papers.len()
    }

    /// Candidate ids (for looking up what was already sent).
    pub fn candidate_ids(&self) -> Vec<PaperId> {
        self.papers
            .iter()
            .filter_map(|p| p.paper.id.clone())
            .collect()
    }

    /// The digest picks for one reader: papers first stored at or after `window_start`,
    /// not in `already_sent`, matching `topics`, ranked and capped. Empty when nothing matches.
    pub fn select(
        &self,
        topics: &Topics,
        window_start: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> Vec<Pick> {
        let mut picks = Vec::new();
        for (i, stored) in self.papers.iter().enumerate() {
            if picks.len() >= self.limits.max_papers {
                break;
            }
            if stored.first_seen < window_start {
                continue;
            }
            let Some(id) = &stored.paper.id else { continue };
            if already_sent.contains(id) {
                continue;
            }
            if let Some(min) = topics.min_upvotes
                && stored.paper.upvotes.unwrap_or(0) < min
            {
                continue;
            }
            if topics.exclude.iter().any(|x| self.has_phrase(i, x)) {
                continue;
            }
            let reasons = if topics.is_trending() {
                trending_reason(stored)
            } else {
                let r = self.reasons(i, topics);
                if r.is_empty() {
                    continue;
                }
                r
            };
            picks.push(Pick {
                paper: stored.paper.clone(),
                reasons,
            });
        }
        picks
    }

    /// The public (non-personalised) digest of the window: the top papers by upvotes.
    pub fn trending(&self, window_start: DateTime<Utc>) -> Vec<Pick> {
        self.select(&Topics::default(), window_start, &HashSet::new())
    }

    fn has_phrase(&self, paper: usize, phrase: &str) -> bool {
        self.phrase_ids
            .get(phrase)
            .is_some_and(|id| self.phrase_hits[paper].contains(id))
    }

    fn reasons(&self, i: usize, topics: &Topics) -> Vec<String> {
        let paper = &self.papers[i].paper;
        let mut reasons = Vec::new();
        for term in &topics.terms {
            let hit = match term {
                Term::Phrase(p) => self.has_phrase(i, p),
                Term::Category(c) => paper.categories.iter().any(|pc| category_matches(c, pc)),
                Term::Author(a) => self.authors[i].iter().any(|name| contains_words(name, a)),
            };
            if hit {
                reasons.push(term.to_string());
            }
        }
        reasons
    }
}

/// In the trending digest, a paper with upvotes is there because it trends; one without
/// (no HF source saw it) only because it is recent, which needs no "why" line.
fn trending_reason(p: &StoredPaper) -> Vec<String> {
    match p.paper.upvotes {
        Some(n) if n > 0 => vec!["trending".to_string()],
        _ => Vec::new(),
    }
}

/// `cs` matches `cs.CL`; `cs.CL` matches `cs.CL` (case-insensitively).
fn category_matches(wanted: &str, paper_cat: &str) -> bool {
    paper_cat.eq_ignore_ascii_case(wanted)
        || (!wanted.contains('.')
            && paper_cat
                .get(..wanted.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(wanted))
            && paper_cat.as_bytes().get(wanted.len()) == Some(&b'.'))
}

fn normalise(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether `words` occurs in `text` at word boundaries.
fn contains_words(text: &str, words: &str) -> bool {
    text.match_indices(words)
        .any(|(at, m)| is_word_boundary(text, at, at + m.len()))
}

fn is_word_boundary(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

/// Finds whole-word, case-insensitive occurrences of phrases, with simple plural forms of
/// each phrase's last word ("transformer" ⇄ "transformers", "study" ⇄ "studies").
struct PhraseMatcher {
    automaton: Option<AhoCorasick>,
    /// Pattern index → phrase id.
    owners: Vec<usize>,
}

impl PhraseMatcher {
    fn new(phrases: &HashMap<String, usize>) -> PhraseMatcher {
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        for (phrase, &id) in phrases {
            for form in word_forms(phrase) {
                patterns.push(form);
                owners.push(id);
            }
        }
        let automaton = (!patterns.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .expect("phrase patterns are short literals")
        });
        PhraseMatcher { automaton, owners }
    }

    fn find(&self, text: &str) -> HashSet<usize> {
        let mut hits = HashSet::new();
        let Some(ac) = &self.automaton else {
            return hits;
        };
        let lower = text.to_lowercase();
        let normalised = normalise(&lower);
        for m in ac.find_overlapping_iter(&normalised) {
            if is_word_boundary(&normalised, m.start(), m.end()) {
                hits.insert(self.owners[m.pattern().as_usize()]);
            }
        }
        hits
    }
}

/// The phrase with its last word in singular and plural forms.
fn word_forms(phrase: &str) -> Vec<String> {
    let (head, last) = match phrase.rsplit_once(' ') {
        Some((h, l)) => (format!("{h} "), l),
        None => (String::new(), phrase),
    };
    let mut forms = vec![last.to_string()];
    let mut push = |f: String| {
        if f.len() >= 2 && !forms.contains(&f) {
            forms.push(f);
        }
    };
    if last.len() > 2 && last.chars().all(|c| c.is_alphabetic()) {
        push(format!("{last}s"));
        push(format!("{last}es"));
        if let Some(stem) = last.strip_suffix('y') {
            push(format!("{stem}ies"));
        }
        if let Some(stem) = last.strip_suffix("ies") {
            push(format!("{stem}y"));
        }
        if let Some(stem) = last.strip_suffix("es") {
            push(stem.to_string());
        }
        if let Some(stem) = last.strip_suffix('s')
            && !stem.ends_with('s')
        {
            push(stem.to_string());
        }
    }
    forms.into_iter().map(|f| format!("{head}{f}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Paper;
    use chrono::Duration;

    fn stored(
        id: &str,
        title: &str,
        abs: &str,
        upvotes: Option<u32>,
        cats: &[&str],
    ) -> StoredPaper {
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
            stored(
                "2411.00001",
                "Transformers for Graphs",
                "We study attention.",
                Some(5),
                &["cs.LG"],
            ),
            stored(
                "2411.00002",
                "A Diffusion Model for Audio",
                "Sound.",
                Some(50),
                &["cs.SD", "eess.AS"],
            ),
            stored(
                "2411.00003",
                "Transformer-free RNNs",
                "A survey of studies.",
                None,
                &["cs.CL"],
            ),
            stored(
                "2411.00004",
                "Untransformed data",
                "Nothing relevant.",
                Some(1),
                &["math.ST"],
            ),
        ]
    }

    fn select(topics: &str) -> Vec<String> {
        let topics = Topics::parse(topics).unwrap();
        let sel = Selector::new(corpus(), [&topics], SelectionLimits::default());
        sel.select(&topics, now() - Duration::days(7), &HashSet::new())
            .into_iter()
            .map(|p| p.paper.id.unwrap().to_string())
            .collect()
    }

    #[test]
    fn keywords_match_whole_words_with_plurals_case_insensitively() {
        assert_eq!(select("transformer"), ["2411.00001", "2411.00003"]);
        assert_eq!(select("TRANSFORMERS"), ["2411.00001", "2411.00003"]);
        assert_eq!(select("study"), ["2411.00001", "2411.00003"]);
        assert_eq!(select("\"diffusion models\""), ["2411.00002"]);
        assert!(select("form").is_empty());
    }

    #[test]
    fn categories_authors_and_upvotes_combine_as_documented() {
        assert_eq!(select("cat:cs.CL"), ["2411.00003"]);
        assert_eq!(select("cat:cs"), ["2411.00002", "2411.00001", "2411.00003"]);
        assert_eq!(
            select("author:turing"),
            ["2411.00002", "2411.00001", "2411.00004", "2411.00003"]
        );
        assert!(select("author:ring").is_empty());
        assert_eq!(select("transformer, min_upvotes:2"), ["2411.00001"]);
        assert_eq!(select("cat:cs, -survey"), ["2411.00002", "2411.00001"]);
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
    fn each_pick_says_why_it_was_picked() {
        let topics = Topics::parse("audio, cat:eess.AS, author:\"ada lovelace\"").unwrap();
        let sel = Selector::new(corpus(), [&topics], SelectionLimits::default());
        let picks = sel.select(&topics, now() - Duration::days(7), &HashSet::new());
        assert_eq!(
            picks[0].reasons,
            ["audio", "eess.AS", "author ada lovelace"]
        );
        let trending = sel.trending(now() - Duration::days(7));
        assert_eq!(trending[0].reasons, ["trending"]);
    }

    #[test]
    fn sent_papers_old_papers_and_the_cap_are_respected() {
        let topics = Topics::default();
        let mut papers = corpus();
        papers[1].first_seen = now() - Duration::days(8);
        let sel = Selector::new(papers, [&topics], SelectionLimits { max_papers: 2 });
        let sent: HashSet<PaperId> = [PaperId::parse_arxiv("2411.00001").unwrap().0].into();
        let got: Vec<_> = sel
            .select(&topics, now() - Duration::days(7), &sent)
            .into_iter()
            .map(|p| p.paper.id.unwrap().to_string())
            .collect();
        assert_eq!(got, ["2411.00004", "2411.00003"]);
    }
}
