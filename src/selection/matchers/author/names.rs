//! Author names as people write them: `Yann LeCun`, `Y. LeCun`, `LeCun, Yann`,
//! `Yann A. LeCun`, `Yann Le Cun` are one person; `Schölkopf` = `Scholkopf`, also when the
//! stored name is decomposed (NFD).
//!
//! A name is read into a surname and given names (folded like all text). Two names are the
//! same person when their surnames are equal and their given names agree as far as both go
//! (an initial agrees with any name that starts with it; a missing middle name is no
//! disagreement). A one-word query (`author:Hinton`) matches that surname. The exact stored
//! name always matches itself.
use crate::selection::normalise::fold;

/// Name particles that belong to the surname (`van der Maaten`, `de Freitas`).
const PARTICLES: &[&str] = &[
    "van", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "von", "la", "le",
    "ten", "ter", "bin", "al", "el",
];

const SUFFIXES: &[&str] = &["jr", "sr", "ii", "iii", "iv"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// Folded lower-case surname, particles included and spaces removed (`vandermaaten`).
    pub surname: String,
    /// Folded lower-case given names or initials, in order.
    pub given: Vec<String>,
    /// The whole name folded, words single-spaced: for the exact match.
    pub full: String,
}

impl Name {
    pub(crate) fn parse(raw: &str) -> Name {
        let folded = fold(raw).to_lowercase();
        let words = |s: &str| -> Vec<String> {
            s.split(|c: char| c.is_whitespace() || c == '.' || c == ',')
                .map(|w| {
                    w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
                        .to_string()
                })
                .filter(|w| !w.is_empty() && !SUFFIXES.contains(&w.as_str()))
                .collect()
        };
        let full = words(&folded).join(" ");
        let (surname_words, given) = match folded.split_once(',') {
            Some((last, first)) if !words(first).is_empty() => (words(last), words(first)),
            _ => {
                let mut w = words(&folded);
                let last = w.pop().map(|l| vec![l]).unwrap_or_default();
                let mut surname = last;
                while w.len() > 1 && w.last().is_some_and(|p| PARTICLES.contains(&p.as_str())) {
                    surname.insert(0, w.pop().unwrap_or_default());
                }
                (surname, w)
            }
        };
        let surname: String = surname_words.concat().replace('-', "");
        let given = given
            .into_iter()
            .filter(|g| !PARTICLES.contains(&g.as_str()))
            .collect();
        Name {
            surname,
            given,
            full,
        }
    }

    /// Is the author `self` (a paper's author) the person `query` names?
    pub(crate) fn is(&self, query: &Name) -> bool {
        if !self.full.is_empty() && self.full == query.full {
            return true;
        }
        if query.surname.is_empty() || self.surname != query.surname {
            // "Yann Le Cun" against "LeCun": the surname without spaces is compared already.
            return false;
        }
        query
            .given
            .iter()
            .zip(&self.given)
            .take(1)
            .all(|(q, s)| given_agree(q, s))
            && (query.given.len() < 2 || self.given.len() < 2 || {
                query
                    .given
                    .iter()
                    .zip(&self.given)
                    .all(|(q, s)| given_agree(q, s))
            })
    }
}

/// `yann` agrees with `yann` and `y`; `fei-fei` with `f`; `y` with `yves`.
fn given_agree(a: &str, b: &str) -> bool {
    let initial = |s: &str| s.chars().next();
    if a.chars().count() == 1 || b.chars().count() == 1 {
        return initial(a) == initial(b);
    }
    a == b || a.replace('-', "") == b.replace('-', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_person_written_many_ways_is_one_person() {
        let query = Name::parse("Yann LeCun");
        for stored in [
            "Yann LeCun",
            "Y. LeCun",
            "LeCun, Yann",
            "Yann A. LeCun",
            "Yann Le Cun",
            "LECUN, Y.",
        ] {
            assert!(Name::parse(stored).is(&query), "{stored}");
        }
        for other in ["Yves Lecun", "Yann Smith", "Ann LeCun"] {
            assert!(!Name::parse(other).is(&query), "{other}");
        }
        assert!(Name::parse("Yves LeCun").is(&Name::parse("Y. LeCun")));
        assert!(Name::parse("Y. LeCun").is(&Name::parse("Y. LeCun")));
    }

    #[test]
    fn accents_and_decomposed_names_match_either_spelling() {
        let nfd = "Bernhard Scho\u{308}lkopf";
        for q in [
            "Schölkopf",
            "Scholkopf",
            "Bernhard Schölkopf",
            "B. Scholkopf",
        ] {
            assert!(Name::parse(nfd).is(&Name::parse(q)), "{q}");
        }
        assert!(Name::parse("Łukasz Kaiser").is(&Name::parse("Lukasz Kaiser")));
    }

    #[test]
    fn one_word_queries_name_the_surname_and_particles_stay_with_it() {
        assert!(Name::parse("Alan M. Turing").is(&Name::parse("turing")));
        assert!(!Name::parse("Alan M. Turing").is(&Name::parse("ring")));
        assert!(!Name::parse("Alan M. Turing").is(&Name::parse("alan")));
        let q = Name::parse("Laurens van der Maaten");
        assert!(Name::parse("L. van der Maaten").is(&q));
        assert!(Name::parse("van der Maaten, Laurens").is(&q));
        assert!(Name::parse("Fei-Fei Li").is(&Name::parse("F. Li")));
        assert!(Name::parse("OpenAI").is(&Name::parse("OpenAI")));
    }
}
