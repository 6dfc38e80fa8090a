//! LIBRARY: pure — a reader's own bibliography file (BibTeX/BibLaTeX, RIS, CSL-JSON or CSV,
//! as Zotero, JabRef, Google Scholar, EndNote, Mendeley or a database export it) read into
//! [`LibraryEntry`]s that seed their profile, each with its arXiv id, DOI, title, abstract,
//! authors, year and the line it starts on — or into [`BadEntry`]s, by line.
//!
//! One file per format (`bibtex.rs`, `ris.rs`, `csl_json.rs`, `table.rs` for CSV); the rules
//! they share (where ids hide, what makes an entry bad) are in `entry.rs` and `ids.rs`;
//! `write.rs` writes entries back in each format (the fuzzer's round trip). Input is bounded
//! ([`MAX_LIBRARY_BYTES`]) and every parser is iterative or depth-limited: no input can
//! overflow the stack.
mod bibtex;
mod csl_json;
mod entry;
mod ids;
mod ris;
mod table;
pub mod write;

use std::fmt;

pub use entry::{BadEntry, LibraryEntry, MAX_ABSTRACT_CHARS, MAX_AUTHORS, MAX_TITLE_CHARS};

/// The largest library file read (16 MiB: some 20,000 entries with abstracts).
pub const MAX_LIBRARY_BYTES: usize = 16 * 1024 * 1024;

/// The formats a library file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// BibTeX or BibLaTeX (`.bib`).
    #[value(alias = "biblatex", alias = "bib")]
    Bibtex,
    /// RIS (`.ris`: `TY  - ` … `ER  - `).
    Ris,
    /// CSL-JSON (Zotero's "CSL JSON" export: an array of items).
    #[value(name = "csl-json", alias = "json")]
    CslJson,
    /// CSV: a header naming `arxiv`, `doi`, `title`, `abstract`, `url`…, or one column of
    /// arXiv ids, DOIs or links.
    Csv,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Bibtex, Format::Ris, Format::CslJson, Format::Csv];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Bibtex => "bibtex",
            Format::Ris => "ris",
            Format::CslJson => "csl-json",
            Format::Csv => "csv",
        }
    }

    /// The format a file name's extension suggests.
    pub fn from_file_name(name: &str) -> Option<Format> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "bib" | "bibtex" | "biblatex" => Some(Format::Bibtex),
            "ris" => Some(Format::Ris),
            "json" | "csljson" => Some(Format::CslJson),
            "csv" | "txt" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The format the content shows: JSON starts with `[` or `{`; RIS has a `TY  - ` line
    /// near the top; BibTeX an `@type{` line. `None` when nothing shows (then the file
    /// name decides, else CSV).
    pub fn sniff(text: &str) -> Option<Format> {
        let t = text.trim_start();
        if t.starts_with('[') || t.starts_with('{') {
            return Some(Format::CslJson);
        }
        for line in t.lines().take(200) {
            let l = line.trim_start();
            if ris::is_type_line(l) {
                return Some(Format::Ris);
            }
            if l.starts_with('@')
                && let Some(brace) = l.find(['{', '('])
                && l[1..brace].trim().chars().all(|c| c.is_ascii_alphabetic())
                && brace > 1
            {
                return Some(Format::Bibtex);
            }
        }
        None
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A library file read: its good entries and its bad ones, by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    pub format: Format,
    pub entries: Vec<LibraryEntry>,
    pub bad: Vec<BadEntry>,
    /// Blocks that are not papers and were passed over (BibLaTeX `@set`/`@xdata`, empty
    /// RIS records).
    pub skipped: usize,
}

/// Why a file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error(
        "the file is {size} bytes; a library file may be at most {max} bytes (16 MiB): \
         export a smaller collection"
    )]
    TooLarge { size: usize, max: usize },
    #[error("line {line} is not UTF-8 text: export the library as UTF-8")]
    NotUtf8 { line: usize },
    #[error("the file is empty")]
    Empty,
    #[error("{format} at line {line}: {reason}")]
    Malformed {
        format: Format,
        line: usize,
        reason: String,
    },
    #[error("no entries found: the file is not a {0} library (is --format right?)")]
    NoEntries(Format),
}

/// Reads a library file's bytes. `format` forces a format; else it is sniffed from the
/// content, then guessed from `file_name`'s extension, else CSV.
pub fn read(
    data: &[u8],
    file_name: Option<&str>,
    format: Option<Format>,
) -> Result<Library, ReadError> {
    if data.len() > MAX_LIBRARY_BYTES {
        return Err(ReadError::TooLarge {
            size: data.len(),
            max: MAX_LIBRARY_BYTES,
        });
    }
    let text = std::str::from_utf8(data).map_err(|e| ReadError::NotUtf8 {
        line: 1 + data[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ReadError::Empty);
    }
    let format = format
        .or_else(|| Format::sniff(text))
        .or_else(|| file_name.and_then(Format::from_file_name))
        .unwrap_or(Format::Csv);
    read_text(text, format)
}

/// Reads library text in a known format.
pub fn read_text(text: &str, format: Format) -> Result<Library, ReadError> {
    let lines = LineIndex::new(text);
    let mut out = Reading::default();
    match format {
        Format::Bibtex => bibtex::read(text, &lines, &mut out),
        Format::Ris => ris::read(text, &mut out),
        Format::CslJson => csl_json::read(text, &lines, &mut out)?,
        Format::Csv => table::read(text, &lines, &mut out)?,
    }
    if out.entries.is_empty() && out.bad.is_empty() && out.skipped == 0 {
        return Err(ReadError::NoEntries(format));
    }
    out.bad.sort_by_key(|b| b.line);
    Ok(Library {
        format,
        entries: out.entries,
        bad: out.bad,
        skipped: out.skipped,
    })
}

/// What a format's reader collects.
#[derive(Debug, Default)]
struct Reading {
    entries: Vec<LibraryEntry>,
    bad: Vec<BadEntry>,
    skipped: usize,
}

/// Byte offsets to 1-based line numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_sniffed_from_the_content_before_the_file_name() {
        let cases = [
            (
                "% Encoding: UTF-8\n\n@Article{k, title={T}}",
                Format::Bibtex,
            ),
            (
                "Provider: JSTOR\n\nTY  - JOUR\nTI  - T\nER  - \n",
                Format::Ris,
            ),
            ("  [{\"title\": \"T\"}]", Format::CslJson),
            ("doi\n10.1000/x\n", Format::Csv),
        ];
        for (text, format) in cases {
            let lib = read(text.as_bytes(), Some("library.txt"), None).unwrap();
            assert_eq!(lib.format, format, "{text}");
        }
        assert_eq!(
            Format::from_file_name("My Library.BIB"),
            Some(Format::Bibtex)
        );
        assert_eq!(Format::sniff("2410.18975\n"), None);
    }

    #[test]
    fn oversized_empty_and_non_utf8_files_are_refused_naming_why() {
        let big = vec![b' '; MAX_LIBRARY_BYTES + 1];
        let e = read(&big, None, None).unwrap_err();
        assert!(e.to_string().contains("at most 16777216 bytes"), "{e}");
        assert_eq!(read(b"  \n", None, None).unwrap_err(), ReadError::Empty);
        assert_eq!(
            read(b"title\nok\n\xff\n", None, None).unwrap_err(),
            ReadError::NotUtf8 { line: 3 }
        );
    }

    #[test]
    fn lines_are_counted_from_one() {
        let idx = LineIndex::new("a\nb\n\nc");
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(2), 2);
        assert_eq!(idx.line_of(4), 3);
        assert_eq!(idx.line_of(5), 4);
    }
}
