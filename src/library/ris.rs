//! RIS (`.ris`: Zotero, EndNote, Google Scholar, Mendeley, IEEE Xplore, JSTOR exports).
//!
//! A record runs from `TY  - ` to `ER  - `; each line is a two-character tag, two spaces
//! (some writers use one), `-`, a space and the value; a line without a tag continues the
//! value before it. Lines before the first record (JSTOR's `Provider:` header) are not
//! records; a record with nothing between `TY` and `ER` is skipped. Written here rather than taken from a crate: it is a line format of a few tags,
//! and no maintained Rust crate reads it.
use super::Reading;
use super::entry::Fields;

/// A `TY` line: the start of a record.
pub(super) fn is_type_line(line: &str) -> bool {
    matches!(tag_line(line), Some(("TY", _)))
}

/// `(tag, value)` of a tag line: `AB  - text`, `ER  -`, `TI - text`.
fn tag_line(line: &str) -> Option<(&str, &str)> {
    let b = line.as_bytes();
    if b.len() < 4
        || !b[0].is_ascii_uppercase()
        || !(b[1].is_ascii_uppercase() || b[1].is_ascii_digit())
    {
        return None;
    }
    let rest = &line[2..];
    let after_spaces = rest.trim_start_matches(' ');
    let spaces = rest.len() - after_spaces.len();
    if !(1..=2).contains(&spaces) {
        return None;
    }
    let value = after_spaces.strip_prefix('-')?;
    if !(value.is_empty() || value.starts_with(' ')) {
        return None;
    }
    Some((&line[..2], value.trim()))
}

pub(super) fn read(text: &str, out: &mut Reading) {
    let mut record: Option<(usize, Fields)> = None;
    // The field a line without a tag continues.
    let mut last: Option<(&str, usize)> = None;
    let finish = |record: Option<(usize, Fields)>, out: &mut Reading| {
        if let Some((line, fields)) = record {
            if fields.is_empty() {
                // `TY` and `ER` with nothing between: JabRef's export of a set.
                out.skipped += 1;
                return;
            }
            match fields.finish(line) {
                Ok(e) => out.entries.push(e),
                Err(bad) => out.bad.push(bad),
            }
        }
    };
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim_end_matches('\r');
        match tag_line(line.trim_start()) {
            Some(("TY", _)) => {
                // A record that never said `ER` ends where the next one starts.
                finish(record.take(), out);
                record = Some((line_no, Fields::default()));
                last = None;
            }
            Some(("ER", _)) => {
                finish(record.take(), out);
                last = None;
            }
            Some((tag, value)) => {
                if let Some((_, fields)) = record.as_mut() {
                    let index = add(fields, tag, value);
                    last = index.map(|i| (tag, i));
                }
            }
            None => {
                let more = line.trim();
                if more.is_empty() {
                    continue;
                }
                if let (Some((_, fields)), Some((tag, i))) = (record.as_mut(), last) {
                    continue_value(fields, tag, i, more);
                }
            }
        }
    }
    finish(record, out);
}

/// Files a tag's value; returns where it went (for continuation lines), if anywhere.
fn add(f: &mut Fields, tag: &str, value: &str) -> Option<usize> {
    if value.is_empty() {
        return None;
    }
    let push = |list: &mut Vec<String>| {
        list.push(value.to_string());
        Some(list.len() - 1)
    };
    match tag {
        "TI" | "T1" => {
            if f.title.as_deref().is_none_or(str::is_empty) {
                f.title = Some(value.to_string());
                Some(0)
            } else {
                None
            }
        }
        "AB" | "N2" => {
            if f.abstract_text.as_deref().is_none_or(str::is_empty) {
                f.abstract_text = Some(value.to_string());
                Some(0)
            } else {
                None
            }
        }
        "AU" | "A1" => {
            f.authors.push(person(value));
            Some(f.authors.len() - 1)
        }
        "DO" => push(&mut f.dois),
        "UR" | "L1" | "L2" | "LK" => {
            for url in value.split_whitespace() {
                f.urls.push(url.to_string());
            }
            Some(f.urls.len() - 1)
        }
        "PY" | "Y1" | "DA" => push(&mut f.dates),
        "N1" | "JO" | "JF" | "JA" | "T2" | "M1" | "M3" | "AN" | "CN" => push(&mut f.texts),
        _ => None,
    }
}

/// A line without a tag: more of the previous tag's value.
fn continue_value(f: &mut Fields, tag: &str, i: usize, more: &str) {
    let target = match tag {
        "TI" | "T1" => f.title.as_mut(),
        "AB" | "N2" => f.abstract_text.as_mut(),
        "AU" | "A1" => f.authors.get_mut(i),
        "DO" => f.dois.get_mut(i),
        "UR" | "L1" | "L2" | "LK" => {
            f.urls.extend(more.split_whitespace().map(str::to_string));
            return;
        }
        "PY" | "Y1" | "DA" => f.dates.get_mut(i),
        _ => f.texts.get_mut(i),
    };
    if let Some(s) = target {
        s.push(' ');
        s.push_str(more);
    }
}

/// `Last, First` → `First Last` (one comma); anything else as written.
fn person(name: &str) -> String {
    match name.split_once(',') {
        Some((last, first)) if !first.contains(',') && !first.trim().is_empty() => {
            format!("{} {}", first.trim(), last.trim())
        }
        _ => name.trim_end_matches(',').trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Format, read_text};

    #[test]
    fn records_continuation_lines_and_a_missing_er_are_read() {
        let lib = read_text(
            "Provider: JSTOR\nDatabase: JSTOR\n\n\
             TY  - JOUR\nTI  - A title that\n  goes on\nAU  - Lovelace, Ada\nPY  - 2019///\n\
             DO  - https://doi.org/10.1000/ABC\nER  - \n\n\
             TY  - ELEC\nT1  - Second\nUR  - http://arxiv.org/abs/2410.18975v2\n\
             TY - GEN\nN1  - arXiv:1706.03762 [cs]\n",
            Format::Ris,
        )
        .unwrap();
        assert!(lib.bad.is_empty(), "{:?}", lib.bad);
        let e = &lib.entries;
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].title, "A title that goes on");
        assert_eq!(e[0].authors, ["Ada Lovelace"]);
        assert_eq!(e[0].year, Some(2019));
        assert_eq!(e[0].doi.as_ref().unwrap().as_str(), "10.1000/abc");
        assert_eq!(
            (e[1].line, e[1].arxiv.as_ref().unwrap().as_str()),
            (12, "2410.18975")
        );
        assert_eq!(e[2].arxiv.as_ref().unwrap().as_str(), "1706.03762");
    }

    #[test]
    fn a_record_without_title_or_ids_is_bad_at_its_ty_line() {
        let lib = read_text(
            "TY  - JOUR\nTI  - Fine\nER  -\nTY  - JOUR\nPY  - 2020\nER  -\n",
            Format::Ris,
        )
        .unwrap();
        assert_eq!(lib.entries.len(), 1);
        assert_eq!(lib.bad[0].line, 4);
    }
}
