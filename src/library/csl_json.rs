//! CSL-JSON (Zotero's "CSL JSON" export, citation-js, pandoc): an array of items with
//! `title`, `abstract`, `author` (`family`/`given`/`literal`), `DOI`, `URL`, `issued`,
//! and arXiv ids where Zotero leaves them (`number: "arXiv:…"`, `note`,
//! `archive_location`, an `arxiv.org` `URL`, an arXiv DOI).
//!
//! The document is parsed by serde_json (its nesting limit keeps deep input off the stack);
//! a syntax error refuses the file at its line. Where each item starts is found by a small
//! iterative scan of the top-level array, so a bad item is reported by its line. An item
//! with no bibliographic field at all (only an id, a type, notes) is skipped.
use serde_json::Value;

use super::entry::{BadEntry, Fields};
use super::{Format, LineIndex, ReadError, Reading};

pub(super) fn read(text: &str, lines: &LineIndex, out: &mut Reading) -> Result<(), ReadError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| ReadError::Malformed {
        format: Format::CslJson,
        line: e.line().max(1),
        reason: e.to_string(),
    })?;
    let first = text.len() - text.trim_start().len();
    let (items, starts) = match doc {
        Value::Array(items) => {
            let starts = element_starts(text, first);
            (items, starts)
        }
        Value::Object(mut map) => match map.remove("items") {
            Some(Value::Array(items)) => (items, Vec::new()),
            _ => (vec![Value::Object(map)], vec![first]),
        },
        _ => {
            return Err(ReadError::Malformed {
                format: Format::CslJson,
                line: 1,
                reason: "a CSL-JSON library is an array of items".into(),
            });
        }
    };
    for (i, item) in items.iter().enumerate() {
        let line = starts.get(i).map_or(1, |&at| lines.line_of(at));
        let Value::Object(_) = item else {
            out.bad.push(BadEntry {
                line,
                reason: format!("item {} is not an object", i + 1),
            });
            continue;
        };
        let fields = fields(item);
        let bare = fields.is_bare();
        match fields.finish(line) {
            Ok(e) => out.entries.push(e),
            // An item with only an id, a type and notes (pandoc writes BibLaTeX's sets so).
            Err(_) if bare => out.skipped += 1,
            Err(bad) => out.bad.push(bad),
        }
    }
    Ok(())
}

fn fields(item: &Value) -> Fields {
    let text = |k: &str| item.get(k).and_then(scalar);
    let mut f = Fields::default();
    if let Some(t) = text("title") {
        f.set_title(&t);
    }
    if let Some(a) = text("abstract") {
        f.set_abstract(&a);
    }
    if let Some(Value::Array(people)) = item.get("author") {
        f.authors = people.iter().filter_map(person).collect();
    }
    if let Some(issued) = item.get("issued") {
        f.dates.extend(date(issued));
    }
    f.dois.extend(text("DOI").or_else(|| text("doi")));
    for k in ["URL", "url"] {
        if let Some(u) = text(k) {
            f.urls.extend(u.split_whitespace().map(str::to_string));
        }
    }
    for k in ["arxiv", "arXiv", "eprint"] {
        if let Some(v) = text(k) {
            f.eprints.push((v, None));
        }
    }
    for k in [
        "number",
        "note",
        "archive_location",
        "container-title",
        "publisher",
        "source",
        "id",
    ] {
        f.texts.extend(text(k));
    }
    f
}

/// A string or a number as text.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `{"family": "Vaswani", "given": "Ashish"}` → `Ashish Vaswani`; `{"literal": "…"}`.
fn person(p: &Value) -> Option<String> {
    if let Some(l) = p.get("literal").and_then(scalar) {
        return Some(l);
    }
    let part = |k: &str| p.get(k).and_then(scalar).unwrap_or_default();
    let name = [
        part("given"),
        part("dropping-particle"),
        part("non-dropping-particle"),
        part("family"),
        part("suffix"),
    ]
    .iter()
    .filter(|s| !s.trim().is_empty())
    .map(|s| s.trim().to_string())
    .collect::<Vec<_>>()
    .join(" ");
    (!name.is_empty()).then_some(name)
}

/// The text a CSL date holds: `date-parts`' first number, `raw` or `literal`.
fn date(d: &Value) -> Option<String> {
    d.get("date-parts")
        .and_then(|p| p.get(0))
        .and_then(|p| p.get(0))
        .and_then(scalar)
        .or_else(|| d.get("raw").and_then(scalar))
        .or_else(|| d.get("literal").and_then(scalar))
        .or_else(|| scalar(d))
}

/// Byte offsets where the elements of the top-level array (opening at `open`) start:
/// brackets counted outside strings, iteratively.
fn element_starts(text: &str, open: usize) -> Vec<usize> {
    let b = text.as_bytes();
    let mut starts = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut expect_element = false;
    let mut i = open;
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            if expect_element && !c.is_ascii_whitespace() && c != b']' {
                starts.push(i);
                expect_element = false;
            }
            match c {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth == 1 {
                        expect_element = true;
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                b',' if depth == 1 => expect_element = true,
                _ => {}
            }
        }
        i += 1;
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::super::{Format, ReadError, read_text};

    #[test]
    fn zotero_items_give_their_arxiv_ids_dois_and_lines() {
        let lib = read_text(
            r#"[
  {
    "id": "http://zotero.org/users/local/abc/items/XYZ",
    "type": "article",
    "title": "Attention Is All You Need",
    "author": [{"family": "Vaswani", "given": "Ashish"}, {"literal": "Google Brain"}],
    "number": "arXiv:1706.03762",
    "issued": {"date-parts": [["2017", 6, 12]]}
  },
  {"type": "article-journal", "title": "Published", "DOI": "10.1000/XY", "issued": {"raw": "2020-01"}},
  {"type": "article-journal", "author": [{"family": "Nobody"}], "note": "no key"},
  {"id": "set", "type": "", "annote": "a set, not a paper"}
]"#,
            Format::CslJson,
        )
        .unwrap();
        assert_eq!(lib.entries.len(), 2);
        let e = &lib.entries[0];
        assert_eq!(e.arxiv.as_ref().unwrap().as_str(), "1706.03762");
        assert_eq!(e.authors, ["Ashish Vaswani", "Google Brain"]);
        assert_eq!((e.line, e.year), (2, Some(2017)));
        assert_eq!(lib.entries[1].line, 10);
        assert_eq!(lib.entries[1].year, Some(2020));
        assert_eq!(lib.bad[0].line, 11);
        assert_eq!(lib.skipped, 1);
    }

    #[test]
    fn a_syntax_error_refuses_the_file_at_its_line() {
        let e = read_text(
            "[\n {\"title\": \"a\"},\n {\"title\": }\n]",
            Format::CslJson,
        )
        .unwrap_err();
        assert!(matches!(e, ReadError::Malformed { line: 3, .. }), "{e:?}");
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(
            read_text(&deep, Format::CslJson).is_err(),
            "deep nesting is refused, not a crash"
        );
    }
}
