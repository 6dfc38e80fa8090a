//! BibTeX and BibLaTeX (`.bib`: Zotero, JabRef, Google Scholar, DBLP, Mendeley exports).
//!
//! Two steps. Our own splitter finds where each `@type{…}` block starts and ends (an
//! iterative brace count, so nesting depth costs no stack), which is what lets one broken
//! entry be reported by its line while the others are still read — the `biblatex` crate
//! stops at the first error of a file. Then `biblatex` parses each entry block alone: fields,
//! `#` concatenation, month macros and LaTeX accents (`{\"u}` → ü). `@string` macros are
//! expanded by us before that (bounded in depth and size: a macro that refers to itself is
//! a bad entry, not a stack overflow). `@comment` (JabRef's `jabref-meta`), `@preamble`,
//! and `@set`/`@xdata` containers are not papers and are skipped.
use std::collections::HashMap;

use biblatex::{Bibliography, ChunksExt, Person, RawBibliography, RawChunk, Spanned};

use super::entry::{BadEntry, Fields};
use super::{LineIndex, Reading};

/// The fields read from an entry; the others (files, keywords, abstracts of other
/// languages…) are left unparsed, so a quirk in one of them does not spoil the entry.
const WANTED: &[&str] = &[
    "title",
    "abstract",
    "author",
    "year",
    "date",
    "doi",
    "eprint",
    "eprinttype",
    "archiveprefix",
    "arxivid",
    "url",
    "note",
    "journal",
    "journaltitle",
    "howpublished",
    "number",
    "volume",
];

/// How deep `@string` macros may refer to each other, and how many pieces one field may
/// expand to.
const MAX_MACRO_DEPTH: usize = 16;
const MAX_FIELD_PIECES: usize = 1_000;
/// Braces nested deeper than this are no bibliography (real entries nest a few levels);
/// such an entry is bad, and the entry parser never sees it.
const MAX_BRACE_DEPTH: usize = 64;

/// One `@type{…}` or `@type(…)` block of the file.
struct Block {
    kind: String,
    start: usize,
    end: usize,
    /// The block's closing delimiter was found (else it runs to the next entry or the end).
    complete: bool,
    /// `(` instead of `{`.
    parenthesised: bool,
    /// Its braces nest deeper than [`MAX_BRACE_DEPTH`].
    too_deep: bool,
}

pub(super) fn read(text: &str, lines: &LineIndex, out: &mut Reading) {
    let mut macros: HashMap<String, Vec<Spanned<RawChunk<'_>>>> = HashMap::new();
    for block in split(text) {
        let line = lines.line_of(block.start);
        if !block.complete {
            out.bad.push(BadEntry {
                line,
                reason: format!(
                    "the @{} entry does not end: a closing {} is missing before line {}",
                    block.kind,
                    if block.parenthesised { "`)`" } else { "`}`" },
                    lines.line_of(block.end.saturating_sub(1)).max(line)
                ),
            });
            continue;
        }
        if block.too_deep {
            out.bad.push(BadEntry {
                line,
                reason: format!("its braces nest deeper than {MAX_BRACE_DEPTH} levels"),
            });
            continue;
        }
        let body = &text[block.start..block.end];
        match block.kind.as_str() {
            "comment" | "preamble" => {}
            "set" | "xdata" => out.skipped += 1,
            "string" => match RawBibliography::parse(body) {
                Ok(raw) => {
                    for pair in raw.abbreviations {
                        macros.insert(pair.key.v.to_ascii_lowercase(), pair.value.v);
                    }
                }
                Err(e) => out.bad.push(BadEntry {
                    line,
                    reason: format!(
                        "@string: {} at line {}",
                        e.kind,
                        lines.line_of(block.start + e.span.start)
                    ),
                }),
            },
            _ => match entry(body, &block, &macros, lines) {
                Ok(fields) => match fields.finish(line) {
                    Ok(e) => out.entries.push(e),
                    Err(bad) => out.bad.push(bad),
                },
                Err(reason) => out.bad.push(BadEntry { line, reason }),
            },
        }
    }
}

/// The fields of one entry block, or why it cannot be read.
fn entry<'s>(
    body: &'s str,
    block: &Block,
    macros: &HashMap<String, Vec<Spanned<RawChunk<'s>>>>,
    lines: &LineIndex,
) -> Result<Fields, String> {
    let owned;
    let source = if block.parenthesised {
        // biblatex reads `{…}` entries only: the same entry with braces as delimiters.
        owned = braced_copy(body);
        owned.as_str()
    } else {
        body
    };
    let at = |offset: usize| lines.line_of(block.start + offset.min(body.len()));
    let raw = RawBibliography::parse(source)
        .map_err(|e| format!("{} at line {}", e.kind, at(e.span.start)))?;
    let Some(mut raw_entry) = raw.entries.into_iter().next() else {
        return Err("not a BibTeX entry".into());
    };
    raw_entry
        .v
        .fields
        .retain(|p| WANTED.iter().any(|w| p.key.v.eq_ignore_ascii_case(w)));
    for pair in &mut raw_entry.v.fields {
        pair.value.v = expand(&pair.value.v, macros)
            .map_err(|why| format!("field `{}`: {why}", pair.key.v))?;
    }
    let key = raw_entry.v.key.v.to_string();
    let bib = Bibliography::from_raw(RawBibliography {
        preamble: String::new(),
        entries: vec![raw_entry],
        abbreviations: Vec::new(),
    })
    .map_err(|e| format!("{} at line {}", e.kind, at(e.span.start)))?;
    let Some(e) = bib.iter().next() else {
        return Err(format!("entry `{key}` could not be read"));
    };
    let get = |k: &str| e.get(k).map(|c| c.format_verbatim());
    // `~` is TeX's unbreakable space.
    let text = |k: &str| get(k).map(|v| v.replace('~', " "));
    let mut f = Fields::default();
    if let Some(t) = text("title") {
        f.set_title(&t);
    }
    if let Some(a) = text("abstract") {
        f.set_abstract(&a);
    }
    match e.get_as::<Vec<Person>>("author") {
        Ok(people) => f.authors = people.iter().map(|p| person(p).replace('~', " ")).collect(),
        Err(_) => {
            if let Some(a) = text("author") {
                f.authors = a.split(" and ").map(str::to_string).collect();
            }
        }
    }
    f.dates.extend(get("year"));
    f.dates.extend(get("date"));
    let kind = get("eprinttype").or_else(|| get("archiveprefix"));
    if let Some(v) = get("eprint") {
        let is_arxiv = kind
            .as_deref()
            .map(|k| k.trim().eq_ignore_ascii_case("arxiv"));
        f.eprints.push((v, is_arxiv));
    }
    if let Some(v) = get("arxivid") {
        f.eprints.push((v, Some(true)));
    }
    f.dois.extend(get("doi"));
    if let Some(urls) = get("url") {
        f.urls.extend(urls.split_whitespace().map(str::to_string));
    }
    let journal = get("journal").or_else(|| get("journaltitle"));
    // DBLP's arXiv entries: `journal = {CoRR}, volume = {abs/1706.03762}`.
    if journal.as_deref().is_some_and(|j| j.trim() == "CoRR")
        && let Some(id) = get("volume")
            .as_deref()
            .and_then(|v| v.trim().strip_prefix("abs/"))
    {
        f.texts.push(format!("arXiv:{id}"));
    }
    f.texts.extend(journal);
    f.texts.extend(get("note"));
    f.texts.extend(get("howpublished"));
    f.texts.extend(get("number"));
    Ok(f)
}

/// "Given prefix Family suffix", as a reader writes a name.
fn person(p: &Person) -> String {
    [&p.given_name, &p.prefix, &p.name, &p.suffix]
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A field with every `@string` macro replaced by its text (months left for biblatex;
/// a macro nobody defined reads as nothing, as BibTeX does).
fn expand<'s>(
    field: &[Spanned<RawChunk<'s>>],
    macros: &HashMap<String, Vec<Spanned<RawChunk<'s>>>>,
) -> Result<Vec<Spanned<RawChunk<'s>>>, String> {
    // An explicit stack of (chunks, next index, macro name): no recursion, whatever the
    // macros say.
    type Frame<'a, 'b> = (&'a [Spanned<RawChunk<'b>>], usize, Option<String>);
    let mut out = Vec::new();
    let mut stack: Vec<Frame<'_, 's>> = vec![(field, 0, None)];
    while let Some(top) = stack.last_mut() {
        let (chunks, i) = (top.0, top.1);
        let Some(chunk) = chunks.get(i) else {
            stack.pop();
            continue;
        };
        top.1 += 1;
        match &chunk.v {
            RawChunk::Normal(_) => out.push(chunk.clone()),
            RawChunk::Abbreviation(name) => {
                let lower = name.to_ascii_lowercase();
                match macros.get(&lower) {
                    Some(def) => {
                        if stack.iter().any(|(_, _, n)| n.as_deref() == Some(&lower)) {
                            return Err(format!("@string `{name}` refers to itself"));
                        }
                        if stack.len() > MAX_MACRO_DEPTH {
                            return Err(format!(
                                "@string macros nest deeper than {MAX_MACRO_DEPTH} at `{name}`"
                            ));
                        }
                        stack.push((def.as_slice(), 0, Some(lower)));
                    }
                    // Month macros (jan…dec): biblatex knows them.
                    None if is_month(&lower) => out.push(chunk.clone()),
                    None => out.push(Spanned::new(RawChunk::Normal(""), chunk.span.clone())),
                }
            }
        }
        if out.len() > MAX_FIELD_PIECES {
            return Err(format!(
                "@string macros expand to more than {MAX_FIELD_PIECES} pieces"
            ));
        }
    }
    Ok(out)
}

fn is_month(name: &str) -> bool {
    matches!(
        name,
        "jan"
            | "feb"
            | "mar"
            | "apr"
            | "may"
            | "jun"
            | "jul"
            | "aug"
            | "sep"
            | "oct"
            | "nov"
            | "dec"
    )
}

/// The block with its outer `(`…`)` turned into `{`…`}` (same length, so offsets hold).
fn braced_copy(body: &str) -> String {
    let mut s = body.to_string();
    if let Some(open) = s.find('(') {
        s.replace_range(open..=open, "{");
    }
    if s.ends_with(')') {
        let end = s.len() - 1;
        s.replace_range(end.., "}");
    }
    s
}

/// The `@type{…}` blocks of a file, in order. Text outside blocks is a comment (BibTeX's
/// rule), as is a `%` line outside them. A block whose closing delimiter never comes ends
/// where a line starts the next `@type{` (or at the end of the file), marked incomplete.
fn split(text: &str) -> Vec<Block> {
    let b = text.as_bytes();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n + 1),
            b'@' => match head(b, i) {
                Some((kind, open)) => {
                    let parenthesised = b[open] == b'(';
                    let (end, complete, depth) = body_end(b, open + 1, parenthesised);
                    blocks.push(Block {
                        kind,
                        start: i,
                        end,
                        complete,
                        parenthesised,
                        too_deep: depth > MAX_BRACE_DEPTH,
                    });
                    i = end;
                }
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    blocks
}

/// At an `@`: the block's type (lower case) and where its `{` or `(` is, if this is one.
fn head(b: &[u8], at: usize) -> Option<(String, usize)> {
    let mut i = at + 1;
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    let start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
        i += 1;
    }
    if i == start || i - start > 40 {
        return None;
    }
    let kind = String::from_utf8_lossy(&b[start..i]).to_ascii_lowercase();
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    (i < b.len() && (b[i] == b'{' || b[i] == b'(')).then_some((kind, i))
}

/// Where the block whose body starts at `from` ends (one past its closing delimiter),
/// whether it closed, and how deep its braces nest. Braces are counted (a backslash escapes the next character, as the
/// entry parser reads it); a `(`-block also ends at a `)` outside braces and quotes.
fn body_end(b: &[u8], from: usize, parenthesised: bool) -> (usize, bool, usize) {
    let mut depth: usize = usize::from(!parenthesised);
    let mut deepest = depth;
    let mut quoted = false;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 && !parenthesised {
                    return (i + 1, true, deepest);
                }
            }
            b'"' if parenthesised && depth == 0 => quoted = !quoted,
            b')' if parenthesised && depth == 0 && !quoted => return (i + 1, true, deepest),
            b'\n' => {
                // A line that starts another entry: this one never closed.
                let mut j = i + 1;
                while j < b.len() && (b[j] == b' ' || b[j] == b'\t' || b[j] == b'\r') {
                    j += 1;
                }
                if j < b.len() && b[j] == b'@' && head(b, j).is_some() {
                    return (i + 1, false, deepest);
                }
            }
            _ => {}
        }
        i += 1;
    }
    (b.len(), false, deepest)
}

#[cfg(test)]
mod tests {
    use super::super::{Format, read_text};

    fn read(text: &str) -> super::super::Library {
        read_text(text, Format::Bibtex).unwrap()
    }

    #[test]
    fn a_broken_entry_is_reported_by_its_line_and_the_others_are_read() {
        let lib = read(
            "@article{a,\n  title = {First},\n  doi = {10.1000/A}\n}\n\n\
             @article{b,\n  title = {Second}\n  year = {2020}\n}\n\n\
             @article{c, title = {Third}, eprint = {2410.18975}, archivePrefix = {arXiv}}\n",
        );
        assert_eq!(lib.entries.len(), 2);
        assert_eq!(lib.bad.len(), 1);
        assert_eq!(lib.bad[0].line, 6);
        assert!(
            lib.bad[0].reason.contains("line 8"),
            "{}",
            lib.bad[0].reason
        );
        assert_eq!(
            lib.entries[1].arxiv.as_ref().unwrap().as_str(),
            "2410.18975"
        );
        assert_eq!(lib.entries[1].line, 11);
    }

    #[test]
    fn an_entry_that_never_closes_ends_where_the_next_entry_begins() {
        let lib = read("@article{a,\n  title = {Open\n\n@article{b, title = {Closed}}\n");
        assert_eq!(lib.bad.len(), 1);
        assert_eq!(lib.bad[0].line, 1);
        assert!(
            lib.bad[0].reason.contains("does not end"),
            "{}",
            lib.bad[0].reason
        );
        assert_eq!(lib.entries.len(), 1);
        assert_eq!(lib.entries[0].title, "Closed");
    }

    #[test]
    fn string_macros_accents_and_parenthesised_entries_are_read() {
        let lib = read(
            "@string{jn = \"Journal of \" # tests}\n@STRING{tests = {Tests}}\n\
             @article(k, title = \"{\\\"U}ber (alles)\", journal = jn, month = sep, \
             author = {M{\\\"u}ller, J{\\'a}n and others})\n",
        );
        assert!(lib.bad.is_empty(), "{:?}", lib.bad);
        assert_eq!(lib.entries[0].title, "Über (alles)");
        assert_eq!(lib.entries[0].authors, ["Ján Müller"]);
    }

    #[test]
    fn a_macro_that_refers_to_itself_is_a_bad_entry_not_a_crash() {
        let lib = read("@string{a = b}\n@string{b = a}\n@article{k, title = a}\n");
        assert_eq!(lib.bad.len(), 1);
        assert!(
            lib.bad[0].reason.contains("refers to itself"),
            "{:?}",
            lib.bad
        );
    }

    #[test]
    fn deeply_nested_braces_are_a_bad_entry_read_without_recursion() {
        let deep = format!(
            "@article{{k, title = {}x{}}}\n@article{{j, title = {{Fine}}}}\n",
            "{".repeat(200_000),
            "}".repeat(200_000)
        );
        let lib = read(&deep);
        assert_eq!(lib.entries.len(), 1);
        assert_eq!(lib.bad.len(), 1);
        assert!(
            lib.bad[0].reason.contains("nest deeper than 64"),
            "{:?}",
            lib.bad
        );
    }

    #[test]
    fn comments_sets_and_preambles_are_not_papers() {
        let lib = read(
            "% Encoding: UTF-8\n@preamble{\"\\newcommand{\\noop}[1]{}\"}\n\
             @Set{, entryset = {a,b}}\n@article{a, title={A}}\n\
             @Comment{jabref-meta: databaseType:bibtex;}\n",
        );
        assert_eq!(lib.entries.len(), 1);
        assert!(lib.bad.is_empty());
        assert_eq!(lib.skipped, 1);
    }
}
