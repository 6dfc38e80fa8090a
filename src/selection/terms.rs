//! The terms a run indexes, and the list arithmetic that field restrictions (`ti:`, `abs:`),
//! conjunctions (`A AND B`) and exclusions by where it matters need. Every list here is a
//! posting list sorted by candidate index, as the rest of selection keeps them.
use std::collections::HashSet;

use super::score::Hits;
use crate::domain::{EXCLUDE_ABSTRACT_MENTIONS, Term};

/// Where a keyword or phrase is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    /// Title, HF keywords or abstract.
    Anywhere = 0,
    Title = 1,
    Abstract = 2,
}

impl Scope {
    /// The phrase and its field of a keyword-like term.
    pub(crate) fn of(term: &Term) -> Option<(Scope, &str)> {
        match term {
            Term::Phrase(p) => Some((Scope::Anywhere, p)),
            Term::Title(p) => Some((Scope::Title, p)),
            Term::Abstract(p) => Some((Scope::Abstract, p)),
            _ => None,
        }
    }

    /// The hits this scope counts.
    pub(crate) fn restrict(self, h: Hits) -> Hits {
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
pub(crate) fn is_about(h: Hits) -> bool {
    h.title > 0 || h.keywords > 0 || h.abstract_text >= EXCLUDE_ABSTRACT_MENTIONS
}

/// The distinct terms of a run, by kind; the parts of `A AND B` count as terms of their own.
/// Phrases and conjunctions are borrowed from the readers' terms, not copied twice over (a
/// set to tell them apart and a list in first-seen order) for every distinct phrase.
#[derive(Debug, Default)]
pub(crate) struct Wanted<'a> {
    /// Phrases to compile (whatever their scope), in first-seen order.
    pub phrases: Vec<&'a str>,
    /// Phrases wanted anywhere on their own (not only as a part of `A AND B` or in one
    /// field): the ones read by meaning too.
    pub plain: Vec<&'a str>,
    /// Phrases wanted in one field only.
    pub scoped: Vec<(Scope, &'a str)>,
    pub authors: HashSet<String>,
    pub abouts: HashSet<String>,
    pub conjunctions: Vec<&'a [Term]>,
    seen_phrases: HashSet<&'a str>,
    seen_plain: HashSet<&'a str>,
    seen_scoped: HashSet<(Scope, &'a str)>,
    seen_conjunctions: HashSet<&'a [Term]>,
}

impl<'a> Wanted<'a> {
    pub(crate) fn note(&mut self, term: &'a Term) {
        if let Term::Phrase(p) = term
            && self.seen_plain.insert(p)
        {
            self.plain.push(p);
        }
        self.note_part(term);
    }

    fn note_part(&mut self, term: &'a Term) {
        match term {
            Term::Phrase(_) | Term::Title(_) | Term::Abstract(_) => {
                let Some((scope, p)) = Scope::of(term) else {
                    return;
                };
                if self.seen_phrases.insert(p) {
                    self.phrases.push(p);
                }
                if scope != Scope::Anywhere && self.seen_scoped.insert((scope, p)) {
                    self.scoped.push((scope, p));
                }
            }
            Term::Author(a) => {
                if !self.authors.contains(a) {
                    self.authors.insert(a.clone());
                }
            }
            Term::About(a) => {
                if !self.abouts.contains(a) {
                    self.abouts.insert(a.clone());
                }
            }
            Term::Category(_) => {}
            Term::All(parts) => {
                if self.seen_conjunctions.insert(parts) {
                    self.conjunctions.push(parts);
                    for p in parts {
                        self.note_part(p);
                    }
                }
            }
        }
    }
}

/// `a` and `b` as one list, the scores of a paper in both added.
pub(crate) fn union_sum(a: &[(u32, f64)], b: &[(u32, f64)]) -> Vec<(u32, f64)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                out.push((x.0, x.1 + y.1));
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                out.push(*x);
                i += 1;
            }
            (Some(_) | None, Some(y)) => {
                out.push(*y);
                j += 1;
            }
            (Some(x), None) => {
                out.push(*x);
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// The papers in both `a` and `b`, their scores added.
pub(crate) fn intersect_sum(a: &[(u32, f64)], b: &[(u32, f64)]) -> Vec<(u32, f64)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.0.cmp(&y.0) {
            std::cmp::Ordering::Equal => {
                out.push((x.0, x.1 + y.1));
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_combine_by_paper() {
        let a = [(1, 1.0), (3, 2.0), (5, 4.0)];
        let b = [(3, 0.5), (4, 1.0), (5, 1.0)];
        assert_eq!(union_sum(&a, &b), [(1, 1.0), (3, 2.5), (4, 1.0), (5, 5.0)]);
        assert_eq!(intersect_sum(&a, &b), [(3, 2.5), (5, 5.0)]);
        assert_eq!(intersect_sum(&a, &[]), []);
    }

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
