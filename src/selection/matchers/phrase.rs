//! Keywords and phrases (`diffusion`, `"diffusion model"`), anywhere (title, HF keywords,
//! abstract) or in one field (`ti:`, `abs:`): found by the automaton of
//! [`crate::selection::index`] with their word forms and learned acronyms, scored by BM25F
//! ([`crate::selection::score`]), and, anywhere on their own, read by meaning too
//! ([`crate::selection::meaning`]). Excluded where it matters ([`is_about`]) or, strictly,
//! at any mention.
use std::collections::{HashMap, HashSet};

use super::{Candidates, Distinct, Matcher, Matchers};
use crate::domain::{EXCLUDE_ABSTRACT_MENTIONS, Term};
use crate::selection::acronyms::Acronyms;
use crate::selection::index::PatternSet;
use crate::selection::lists::union_sum;
use crate::selection::meaning::{Fused, FusedLists, ToFuse};
use crate::selection::normalise;
use crate::selection::score::{self, Hits};
use crate::selection::scratch::Scratch;

/// Where a keyword or phrase is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scope {
    /// Title, HF keywords or abstract.
    Anywhere = 0,
    Title = 1,
    Abstract = 2,
}

impl Scope {
    /// The phrase and its field of a keyword-like term.
    fn of(term: &Term) -> Option<(Scope, &str)> {
        match term {
            Term::Phrase(p) => Some((Scope::Anywhere, p)),
            Term::Title(p) => Some((Scope::Title, p)),
            Term::Abstract(p) => Some((Scope::Abstract, p)),
            _ => None,
        }
    }

    /// The hits this scope counts.
    fn restrict(self, h: Hits) -> Hits {
        match self {
            Scope::Anywhere => h,
            Scope::Title => Hits {
                title: h.title,
                ..Hits::default()
            },
            Scope::Abstract => Hits {
                abstract_text: h.abstract_text,
                ..Hits::default()
            },
        }
    }
}

/// Whether a paper with these hits (of a phrase and its learned expansion, summed) is about
/// the phrase, for an exclusion by where it matters: in the title or keywords, or said at
/// least [`EXCLUDE_ABSTRACT_MENTIONS`] times in the abstract.
fn is_about(h: Hits) -> bool {
    h.title > 0 || h.keywords > 0 || h.abstract_text >= EXCLUDE_ABSTRACT_MENTIONS
}

/// One paper's contribution from one term, for ranking and the why line.
type Posting = (u32, f64, Hits);

/// Where a phrase's postings are: its own and its learned acronym's.
#[derive(Debug, Clone)]
struct Compiled {
    direct: u32,
    /// The expansion's term and the why line's "ViT = vision transformer".
    expansion: Option<(u32, String)>,
}

/// Every keyword and phrase of the run, compiled once and matched over the candidates.
#[derive(Debug)]
pub(crate) struct Phrases {
    /// Per [`Scope`] (anywhere, title only, abstract only): phrase → its postings.
    compiled: [HashMap<String, Compiled>; 3],
    /// Term id → (paper, BM25 score, hits), by paper.
    postings: Vec<Vec<Posting>>,
    /// Phrases with nothing to match (no letters or digits): known, never matching.
    unmatchable: HashSet<String>,
    /// Keywords and phrases read anywhere on their own → their words and meaning fused.
    fused: FusedLists,
    /// How many terms the automaton looked for.
    patterns: usize,
}

impl Phrases {
    /// Compiles every keyword and phrase of `terms` and matches them over the candidates,
    /// with `extra` phrases no reader follows as such (the long forms of acronyms in
    /// `about:` lines): their hits come back in the order of `extra`.
    pub(crate) fn build(
        c: &Candidates<'_>,
        terms: &Distinct<'_>,
        extra: &[&str],
    ) -> (Phrases, Vec<Vec<(u32, Hits)>>) {
        let w = &c.weights;
        let mut phrases: Vec<&str> = Vec::new();
        let mut scoped: Vec<(Scope, &str)> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for (scope, p) in terms.all.iter().filter_map(|t| Scope::of(t)) {
            if seen.insert(p) {
                phrases.push(p);
            }
            if scope != Scope::Anywhere {
                scoped.push((scope, p));
            }
        }
        let mut set = PatternSet::default();
        let mut compiled: [HashMap<String, Compiled>; 3] = Default::default();
        let mut unmatchable: HashSet<String> = HashSet::new();
        for p in phrases {
            match compile(p, &mut set, c.acronyms) {
                Some(compiled_phrase) => {
                    compiled[Scope::Anywhere as usize].insert(p.to_string(), compiled_phrase);
                }
                None => {
                    unmatchable.insert(p.to_string());
                }
            }
        }
        let extra_ids: Vec<Option<u32>> = extra.iter().map(|p| set.add(p)).collect();
        let matcher = set.build();
        let mut hits_by_term: Vec<Vec<(u32, Hits)>> = vec![Vec::new(); matcher.terms()];
        let found = crate::selection::parallel::map(c.texts, |[title, keywords, abs]| {
            matcher.find(title, keywords, abs)
        });
        for (i, hits) in found.into_iter().enumerate() {
            for (term, h) in hits {
                hits_by_term[term as usize].push((i as u32, h));
            }
        }
        let extra_hits = extra_ids
            .into_iter()
            .map(|id| {
                id.map_or_else(Vec::new, |id| {
                    std::mem::take(&mut hits_by_term[id as usize])
                })
            })
            .collect();
        // `ti:` and `abs:` phrases: the phrase's hits in that field only, as terms of their
        // own (their idf counts the papers with the phrase in that field).
        for (scope, p) in scoped {
            let Some(base) = compiled[Scope::Anywhere as usize].get(p).cloned() else {
                continue;
            };
            let mut derive = |id: u32| {
                let list: Vec<(u32, Hits)> = hits_by_term[id as usize]
                    .iter()
                    .map(|&(paper, h)| (paper, scope.restrict(h)))
                    .filter(|(_, h)| *h != Hits::default())
                    .collect();
                hits_by_term.push(list);
                (hits_by_term.len() - 1) as u32
            };
            let direct = derive(base.direct);
            let expansion = base.expansion.map(|(id, name)| (derive(id), name));
            compiled[scope as usize].insert(p.to_string(), Compiled { direct, expansion });
        }
        let postings: Vec<Vec<Posting>> = hits_by_term
            .iter()
            .map(|list| {
                let idf = c.corpus.idf(list.len());
                list.iter()
                    .map(|&(p, h)| {
                        let len = c.abstract_lens[p as usize];
                        (p, idf * score::saturation(w, h, len, &c.corpus), h)
                    })
                    .collect()
            })
            .collect();
        let mut out = Phrases {
            compiled,
            postings,
            unmatchable,
            fused: FusedLists::default(),
            patterns: matcher.terms(),
        };
        // Keywords and phrases by meaning too: each distinct one's words and meaning fused
        // once, here.
        let to_fuse = terms
            .top
            .iter()
            .filter_map(|&t| {
                let Term::Phrase(p) = t else {
                    return None;
                };
                out.compiled(t)?;
                // An acronym is read with its learned expansion ("LLM large language model").
                let text = match c.acronyms.long_of(p) {
                    Some(long) => format!("{p} {long}"),
                    None => p.to_string(),
                };
                Some(ToFuse {
                    key: p.clone(),
                    text,
                    words: out.scores(t),
                })
            })
            .collect();
        out.fused = FusedLists::build(c.meaning, w, to_fuse);
        (out, extra_hits)
    }

    /// How many terms (phrases, expansions, `about:` acronyms' long forms) were matched.
    pub(crate) fn patterns(&self) -> usize {
        self.patterns
    }

    /// The compiled postings of a keyword-like term (phrase, `ti:`, `abs:`).
    fn compiled(&self, term: &Term) -> Option<&Compiled> {
        let (scope, p) = Scope::of(term)?;
        self.compiled[scope as usize].get(p)
    }

    /// The postings of a compiled phrase: its own, then its learned expansion's.
    fn lists<'a>(&'a self, c: &Compiled) -> impl Iterator<Item = &'a [Posting]> + 'a {
        std::iter::once(c.direct)
            .chain(c.expansion.as_ref().map(|e| e.0))
            .map(|t| self.postings[t as usize].as_slice())
    }

    /// The fused list of a keyword or phrase read anywhere, when read by meaning too.
    fn fused_list(&self, term: &Term) -> Option<&[Fused]> {
        match term {
            Term::Phrase(p) => self.fused.get(p),
            _ => None,
        }
    }

    /// Blocks every paper that mentions `term` at all (`-strict:`).
    pub(crate) fn block_mentions(&self, term: &Term, s: &mut Scratch) {
        if let Some(c) = self.compiled(term) {
            for list in self.lists(c) {
                list.iter().for_each(|&(p, _, _)| s.block(p));
            }
        }
    }

    /// Whether `paper` mentions `term` at all, decided for this paper alone (the reference
    /// of [`Phrases::block_mentions`]).
    #[cfg(test)]
    pub(crate) fn mentions(&self, term: &Term, paper: u32) -> bool {
        self.hits_of(term, paper).is_some()
    }

    /// The hits of `term` and its expansion in `paper`, summed, looked up one by one.
    #[cfg(test)]
    fn hits_of(&self, term: &Term, paper: u32) -> Option<Hits> {
        let c = self.compiled(term)?;
        let mut sum: Option<Hits> = None;
        for list in self.lists(c) {
            if let Some(&(_, _, h)) = list.iter().find(|(p, _, _)| *p == paper) {
                let s = sum.get_or_insert_with(Hits::default);
                s.title += h.title;
                s.keywords += h.keywords;
                s.abstract_text += h.abstract_text;
            }
        }
        sum
    }
}

/// A phrase and, when the papers define it as an acronym or it is one, its other spelling.
fn compile(p: &str, set: &mut PatternSet, acronyms: &Acronyms) -> Option<Compiled> {
    let direct = set.add(p)?;
    let expansion = if let Some(long) = acronyms.long_of(p) {
        set.add(long).map(|id| (id, format!("{p} = {long}")))
    } else {
        let norm = normalise::normalise(p);
        acronyms
            .short_of(&norm)
            .and_then(|short| set.add(short).map(|id| (id, format!("{p} = {short}"))))
    };
    Some(Compiled { direct, expansion })
}

/// The why line's pieces of `term` by its words for `paper`, `c` its compiled postings:
/// "diffusion: title · abstract ×4", then "ViT = vision transformer: abstract ×2".
fn why_of(postings: &[Vec<Posting>], term: &Term, c: &Compiled, paper: u32, out: &mut Vec<String>) {
    if let Some(hits) = hits_in(&postings[c.direct as usize], paper) {
        out.push(match term.phrase() {
            Some(name) => format!("{name}: {}", hits.describe()),
            None => format!("{term}: {}", hits.describe()),
        });
    }
    if let Some((x, name)) = &c.expansion
        && let Some(hits) = hits_in(&postings[*x as usize], paper)
    {
        out.push(format!("{name}: {}", hits.describe()));
    }
}

/// The hits of `paper` in a posting list (by paper).
fn hits_in(list: &[Posting], paper: u32) -> Option<Hits> {
    list.binary_search_by_key(&paper, |(p, _, _)| *p)
        .ok()
        .map(|i| list[i].2)
}

impl Matcher for Phrases {
    fn covers(&self, term: &Term) -> bool {
        self.compiled(term).is_some() || term.phrase().is_some_and(|p| self.unmatchable.contains(p))
    }

    #[inline]
    fn add_scores(&self, term: &Term, s: &mut Scratch) {
        if let Some(list) = self.fused_list(term) {
            for f in list {
                s.add(f.paper, f.score);
            }
            return;
        }
        let Some(c) = self.compiled(term) else {
            return;
        };
        for list in self.lists(c) {
            for &(paper, score, _) in list {
                s.add(paper, score);
            }
        }
    }

    fn scores(&self, term: &Term) -> Vec<(u32, f64)> {
        let Some(c) = self.compiled(term) else {
            return Vec::new();
        };
        self.lists(c).fold(Vec::new(), |acc, list| {
            let list: Vec<(u32, f64)> = list.iter().map(|&(p, s, _)| (p, s)).collect();
            union_sum(&acc, &list)
        })
    }

    /// The papers about the phrase ([`is_about`]), its learned expansion counted with it.
    #[inline]
    fn block_excluded(&self, term: &Term, s: &mut Scratch) {
        let Some(c) = self.compiled(term) else {
            return;
        };
        let direct = &self.postings[c.direct as usize];
        let expansion = c
            .expansion
            .as_ref()
            .map_or(&[][..], |e| self.postings[e.0 as usize].as_slice());
        for &(paper, _, h) in direct {
            let mut h = h;
            if let Some(x) = hits_in(expansion, paper) {
                h.abstract_text = h.abstract_text.saturating_add(x.abstract_text);
                h.title = h.title.saturating_add(x.title);
                h.keywords = h.keywords.saturating_add(x.keywords);
            }
            if is_about(h) {
                s.block(paper);
            }
        }
        for &(paper, _, h) in expansion {
            if hits_in(direct, paper).is_none() && is_about(h) {
                s.block(paper);
            }
        }
    }

    /// The phrase's and its expansion's hits ([`why_of`]).
    fn why_by_words(&self, term: &Term, papers: &[u32], _: &Matchers, out: &mut [Vec<String>]) {
        let Some(c) = self.compiled(term) else {
            return;
        };
        for (&paper, out) in papers.iter().zip(out) {
            why_of(&self.postings, term, c, paper, out);
        }
    }

    fn why(&self, term: &Term, papers: &[u32], kinds: &Matchers, out: &mut [Vec<String>]) {
        let Term::Phrase(p) = term else {
            return self.why_by_words(term, papers, kinds, out);
        };
        let c = self.compiled(term);
        self.fused.why(
            p,
            papers,
            out,
            |paper, out| {
                if let Some(c) = c {
                    why_of(&self.postings, term, c, paper, out);
                }
            },
            || format!("close in meaning to “{p}”"),
        );
    }

    #[cfg(test)]
    fn score_of(&self, term: &Term, paper: u32, add: &mut dyn FnMut(f64)) {
        if let Some(list) = self.fused_list(term) {
            if let Some(f) = list.iter().find(|f| f.paper == paper) {
                add(f.score);
            }
            return;
        }
        let Some(c) = self.compiled(term) else {
            return;
        };
        for list in self.lists(c) {
            if let Ok(i) = list.binary_search_by_key(&paper, |(p, _, _)| *p) {
                add(list[i].1);
            }
        }
    }

    #[cfg(test)]
    fn excludes(&self, term: &Term, paper: u32) -> bool {
        self.hits_of(term, paper).is_some_and(is_about)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paper_is_about_a_word_in_its_title_keywords_or_said_twice() {
        let h = |title, keywords, abstract_text| Hits {
            title,
            keywords,
            abstract_text,
        };
        assert!(is_about(h(1, 0, 0)));
        assert!(is_about(h(0, 1, 0)));
        assert!(is_about(h(0, 0, 2)));
        assert!(!is_about(h(0, 0, 1)));
        assert_eq!(
            Scope::Title.restrict(h(1, 2, 3)),
            h(1, 0, 0),
            "ti: counts the title only"
        );
        assert_eq!(Scope::Abstract.restrict(h(1, 2, 3)), h(0, 0, 3));
    }
}
