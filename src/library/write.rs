//! Entries written back in each format — what the fuzzer's round trip checks (every entry
//! read, written and read again keeps its arXiv id and DOI), and a way to make library
//! files for tests and demos. Text is written so that it cannot break the file's syntax:
//! BibTeX values lose the braces and backslashes that would unbalance them, every value
//! is on one line.
use serde_json::json;

use super::{Format, LibraryEntry};

/// `entries` as a file of `format`.
pub fn write(entries: &[LibraryEntry], format: Format) -> String {
    match format {
        Format::Bibtex => bibtex(entries),
        Format::Ris => ris(entries),
        Format::CslJson => csl_json(entries),
        Format::Csv => csv(entries),
    }
}

fn bibtex(entries: &[LibraryEntry]) -> String {
    let mut out = String::new();
    for (i, e) in entries.iter().enumerate() {
        out.push_str(&format!("@article{{seed{},\n", i + 1));
        let mut field = |name: &str, value: &str| {
            if !value.is_empty() {
                out.push_str(&format!("  {name} = {{{value}}},\n"));
            }
        };
        field("title", &bib_text(&e.title));
        field("author", &bib_text(&e.authors.join(" and ")));
        field("year", &e.year.map(|y| y.to_string()).unwrap_or_default());
        field("doi", e.doi.as_ref().map_or("", |d| d.as_str()));
        if let Some(id) = &e.arxiv {
            field("eprint", id.as_str());
            field("archiveprefix", "arXiv");
        }
        field("abstract", &bib_text(&e.abstract_text));
        out.push_str("}\n\n");
    }
    out
}

/// Text as a braced BibTeX value: braces and backslashes (which would unbalance or escape
/// the delimiters) become brackets and slashes, `$` (math) is escaped, one line.
fn bib_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '{' => out.push('('),
            '}' => out.push(')'),
            '\\' => out.push('/'),
            '$' => out.push_str("\\$"),
            c if c.is_whitespace() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn ris(entries: &[LibraryEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        out.push_str("TY  - GEN\n");
        let mut tag = |t: &str, v: &str| {
            let v = one_line(v);
            if !v.is_empty() {
                out.push_str(&format!("{t}  - {v}\n"));
            }
        };
        tag("TI", &e.title);
        for a in &e.authors {
            tag("AU", a);
        }
        tag("PY", &e.year.map(|y| y.to_string()).unwrap_or_default());
        tag("DO", e.doi.as_ref().map_or("", |d| d.as_str()));
        if let Some(id) = &e.arxiv {
            tag("UR", &format!("https://arxiv.org/abs/{id}"));
        }
        tag("AB", &e.abstract_text);
        out.push_str("ER  - \n\n");
    }
    out
}

fn csl_json(entries: &[LibraryEntry]) -> String {
    let items: Vec<_> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut item = json!({
                "id": format!("seed{}", i + 1),
                "type": "article",
                "title": e.title,
                "author": e.authors.iter().map(|a| json!({"literal": a})).collect::<Vec<_>>(),
            });
            if !e.abstract_text.is_empty() {
                item["abstract"] = json!(e.abstract_text);
            }
            if let Some(d) = &e.doi {
                item["DOI"] = json!(d.as_str());
            }
            if let Some(id) = &e.arxiv {
                item["URL"] = json!(format!("https://arxiv.org/abs/{id}"));
                item["number"] = json!(format!("arXiv:{id}"));
            }
            if let Some(y) = e.year {
                item["issued"] = json!({"date-parts": [[y]]});
            }
            item
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}

fn csv(entries: &[LibraryEntry]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["arxiv", "doi", "title", "authors", "year", "abstract"]);
    for e in entries {
        let _ = w.write_record([
            e.arxiv.as_ref().map_or("", |i| i.as_str()),
            e.doi.as_ref().map_or("", |d| d.as_str()),
            &one_line(&e.title),
            &one_line(&e.authors.join("; ")),
            &e.year.map(|y| y.to_string()).unwrap_or_default(),
            &one_line(&e.abstract_text),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::{Format, read_text};
    use super::*;

    #[test]
    fn every_format_reads_back_what_it_wrote() {
        let lib = read_text(
            "arxiv,doi,title,abstract\n2410.18975,,\"A {braced} $x$ \\\\ title\",\"An abstract\"\n,10.1000/ABC,,\n,,Only a title,\n",
            Format::Csv,
        )
        .unwrap();
        assert_eq!(lib.entries.len(), 3);
        for format in Format::ALL {
            let text = write(&lib.entries, format);
            let back = read_text(&text, format).unwrap();
            assert!(back.bad.is_empty(), "{format}: {:?}\n{text}", back.bad);
            let keys =
                |l: &super::super::Library| l.entries.iter().map(|e| e.key()).collect::<Vec<_>>();
            assert_eq!(keys(&back), keys(&lib), "{format}:\n{text}");
        }
    }
}
