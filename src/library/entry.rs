//! One paper of a library file, and the rules every format shares for turning what a
//! reference manager wrote into it: where the arXiv id and the DOI may hide, how text is
//! cleaned, what makes an entry bad.
use crate::domain::{Doi, NewSeed, PaperId, SeedKey, collapse_whitespace};

use super::ids;

/// Titles longer than this are not titles (a field swallowed the rest of the file).
pub const MAX_TITLE_CHARS: usize = 1_000;
/// Abstracts are kept up to this many characters (enough for any real abstract).
pub const MAX_ABSTRACT_CHARS: usize = 10_000;
/// The first this many authors are kept.
pub const MAX_AUTHORS: usize = 50;

/// One paper read from a library file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryEntry {
    /// The line of the file the entry starts on (1-based).
    pub line: usize,
    pub arxiv: Option<PaperId>,
    pub doi: Option<Doi>,
    pub title: String,
    pub abstract_text: String,
    pub authors: Vec<String>,
    pub year: Option<i32>,
}

impl LibraryEntry {
    /// The key the reader's seed of this paper is stored under.
    pub fn key(&self) -> SeedKey {
        SeedKey::of(self.arxiv.as_ref(), self.doi.as_ref(), &self.title)
    }

    /// The seed to store (not yet matched to a stored paper).
    pub fn to_seed(&self) -> NewSeed {
        NewSeed {
            key: self.key(),
            arxiv: self.arxiv.clone(),
            doi: self.doi.clone(),
            title: self.title.clone(),
            abstract_text: self.abstract_text.clone(),
            authors: self.authors.clone(),
            year: self.year,
            line: self.line,
            paper: None,
        }
    }
}

/// An entry that cannot seed a profile, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEntry {
    /// The line the entry starts on (1-based).
    pub line: usize,
    pub reason: String,
}

/// What a format read about one entry, before the shared rules decide what it is.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub title: Option<String>,
    pub abstract_text: Option<String>,
    pub authors: Vec<String>,
    /// Any date or year text; the first plausible year in it counts.
    pub dates: Vec<String>,
    /// `eprint`-like values and whether the file said they are arXiv's (`None`: it did not
    /// say, which in practice means arXiv).
    pub eprints: Vec<(String, Option<bool>)>,
    pub dois: Vec<String>,
    pub urls: Vec<String>,
    /// Free text that may mention `arXiv:ID` (note, journal, number, archive location…).
    pub texts: Vec<String>,
}

impl Fields {
    /// Nothing was read at all (an empty record).
    pub(crate) fn is_empty(&self) -> bool {
        self.is_bare() && self.texts.is_empty()
    }

    /// No bibliographic field: no title, abstract, author, date, id or link (free text
    /// aside) — a container or a note, not a paper.
    pub(crate) fn is_bare(&self) -> bool {
        self.title.is_none()
            && self.abstract_text.is_none()
            && self.authors.is_empty()
            && self.dates.is_empty()
            && self.eprints.is_empty()
            && self.dois.is_empty()
            && self.urls.is_empty()
    }

    pub(crate) fn set_title(&mut self, v: &str) {
        if self.title.as_deref().is_none_or(str::is_empty) {
            self.title = Some(v.to_string());
        }
    }

    pub(crate) fn set_abstract(&mut self, v: &str) {
        if self.abstract_text.as_deref().is_none_or(str::is_empty) {
            self.abstract_text = Some(v.to_string());
        }
    }

    /// Applies the shared rules: an entry needs an arXiv id, a DOI or a title. The arXiv id
    /// comes from an arXiv `eprint`, else an arxiv.org link, else an arXiv DOI, else an
    /// `arXiv:ID` in free text; the DOI is the first valid one given, else a doi.org link.
    pub(crate) fn finish(self, line: usize) -> Result<LibraryEntry, BadEntry> {
        let bad = |reason: String| BadEntry { line, reason };
        let arxiv = self
            .eprints
            .iter()
            .filter(|(_, is_arxiv)| is_arxiv.unwrap_or(true))
            .find_map(|(v, _)| ids::arxiv_eprint(v))
            .or_else(|| self.urls.iter().find_map(|u| ids::arxiv_from_url(u)))
            .or_else(|| {
                self.dois
                    .iter()
                    .filter_map(|d| Doi::parse(d))
                    .find_map(|d| d.arxiv_id())
            })
            .or_else(|| self.texts.iter().find_map(|t| ids::arxiv_in_text(t)));
        let doi = self
            .dois
            .iter()
            .find_map(|d| Doi::parse(d))
            .or_else(|| self.urls.iter().find_map(|u| ids::doi_from_url(u)));
        let title = clean(self.title.as_deref().unwrap_or_default());
        let chars = title.chars().count();
        if chars > MAX_TITLE_CHARS {
            return Err(bad(format!(
                "the title is {chars} characters long (at most {MAX_TITLE_CHARS}): is a \
                 closing brace or quote missing?"
            )));
        }
        if arxiv.is_none() && doi.is_none() && title.is_empty() {
            let said = self
                .dois
                .iter()
                .map(|d| format!("`{}` is not a DOI", shorten(d)))
                .collect::<Vec<_>>();
            let mut reason = "no arXiv id, DOI or title".to_string();
            if !said.is_empty() {
                reason = format!("{reason} ({})", said.join("; "));
            }
            return Err(bad(reason));
        }
        let mut abstract_text = clean(self.abstract_text.as_deref().unwrap_or_default());
        if let Some((cut, _)) = abstract_text.char_indices().nth(MAX_ABSTRACT_CHARS) {
            abstract_text.truncate(cut);
        }
        let authors = self
            .authors
            .iter()
            .map(|a| clean(a))
            .filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case("others"))
            .take(MAX_AUTHORS)
            .collect();
        let year = self.dates.iter().find_map(|d| year_in(d));
        Ok(LibraryEntry {
            line,
            arxiv,
            doi,
            title,
            abstract_text,
            authors,
            year,
        })
    }
}

/// Whitespace collapsed, control characters dropped, and the braces reference managers
/// leave around protected words removed.
pub(crate) fn clean(s: &str) -> String {
    let s: String = s
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .filter(|c| !matches!(c, '{' | '}'))
        .collect();
    collapse_whitespace(&s)
}

/// The first year (1000-2999) in a date text: `2013-03`, `2014//`, `Mar. 2017`, `2019/05/17`.
pub(crate) fn year_in(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 4 {
                let year: i32 = text[start..i].parse().ok()?;
                if (1000..3000).contains(&year) {
                    return Some(year);
                }
            }
        } else {
            i += 1;
        }
    }
    None
}

fn shorten(s: &str) -> String {
    crate::domain::shorten(&collapse_whitespace(s), 60).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_needs_an_arxiv_id_a_doi_or_a_title() {
        let e = Fields {
            dois: vec!["not a doi".into()],
            ..Fields::default()
        }
        .finish(7)
        .unwrap_err();
        assert_eq!(e.line, 7);
        assert!(
            e.reason.contains("no arXiv id, DOI or title"),
            "{}",
            e.reason
        );
        assert!(
            e.reason.contains("`not a doi` is not a DOI"),
            "{}",
            e.reason
        );
        let ok = Fields {
            title: Some("  A {Title}\n with  braces ".into()),
            ..Fields::default()
        }
        .finish(1)
        .unwrap();
        assert_eq!(ok.title, "A Title with braces");
    }

    #[test]
    fn the_arxiv_id_comes_from_eprint_then_links_then_doi_then_notes() {
        let f = |fields: Fields| fields.finish(1).unwrap().arxiv.map(|i| i.to_string());
        assert_eq!(
            f(Fields {
                eprints: vec![("2410.18975".into(), Some(true))],
                texts: vec!["arXiv:1706.03762".into()],
                ..Fields::default()
            })
            .as_deref(),
            Some("2410.18975")
        );
        assert_eq!(
            f(Fields {
                eprints: vec![("12345".into(), Some(false))],
                dois: vec!["10.48550/arXiv.2301.00001".into()],
                ..Fields::default()
            })
            .as_deref(),
            Some("2301.00001")
        );
        assert_eq!(
            f(Fields {
                title: Some("t".into()),
                eprints: vec![("2410.18975".into(), Some(false))],
                ..Fields::default()
            }),
            None,
            "a PubMed or JSTOR eprint is not arXiv's"
        );
    }

    #[test]
    fn years_are_read_from_any_date_spelling() {
        for (text, year) in [
            ("2013-03", Some(2013)),
            ("2014//", Some(2014)),
            ("Mar. 2017", Some(2017)),
            ("4-8 Aug. 2020", Some(2020)),
            ("12345", None),
            ("", None),
        ] {
            assert_eq!(year_in(text), year, "{text}");
        }
    }
}
