//! CSV: a header naming any of `arxiv`/`arxiv_id`, `doi`, `title`, `abstract`, `url`,
//! `authors`, `year` (and the column names Zotero, IEEE Xplore, Springer and PubMed exports
//! use for them: `Abstract Note`, `Document Title`, `Item DOI`, `Publication Year`…), or,
//! without a header, one column of arXiv ids, DOIs or links. Read with the `csv` crate.
use super::entry::{BadEntry, Fields};
use super::{Format, LineIndex, ReadError, Reading};
use crate::domain::{Doi, PaperId};

/// The columns read, by what they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Arxiv,
    Doi,
    Title,
    Abstract,
    Url,
    Authors,
    Year,
    /// Free text that may name an arXiv id (Zotero's `Extra`).
    Note,
}

fn column(name: &str) -> Option<Column> {
    let n = name
        .trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .replace(['_', '-'], " ");
    Some(match n.as_str() {
        "arxiv" | "arxiv id" | "arxivid" | "eprint" => Column::Arxiv,
        "doi" | "item doi" => Column::Doi,
        "title" | "document title" | "item title" | "article title" | "paper title" => {
            Column::Title
        }
        "abstract" | "abstract note" | "summary" => Column::Abstract,
        "url" | "link" | "pdf link" | "urls" => Column::Url,
        "author" | "authors" => Column::Authors,
        "year" | "publication year" | "date" => Column::Year,
        "extra" | "note" | "notes" => Column::Note,
        _ => return None,
    })
}

pub(super) fn read(text: &str, lines: &LineIndex, out: &mut Reading) -> Result<(), ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let malformed = |line: u64, e: &csv::Error| ReadError::Malformed {
        format: Format::Csv,
        line: line.max(1) as usize,
        reason: e.to_string(),
    };
    let Some(first) = records.next() else {
        return Ok(());
    };
    let first = first.map_err(|e| malformed(1, &e))?;
    // Lines from byte offsets (the csv crate's own count skips blank lines, and a record's
    // offset is where the blank lines before it begin).
    let line_of = |r: &csv::StringRecord| {
        r.position().map_or(1, |p| {
            let from = p.byte() as usize;
            let skip = text.as_bytes()[from.min(text.len())..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            lines.line_of(from + skip)
        })
    };
    let header: Vec<Option<Column>> = first.iter().map(column).collect();
    let has_header = header.iter().any(Option::is_some);
    if !has_header {
        row_without_header(&first, line_of(&first), out);
    }
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(1, |p| lines.line_of(p.byte() as usize));
                out.bad.push(BadEntry {
                    line,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let line = line_of(&record);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if has_header {
            row_with_header(&header, &record, line, out);
        } else {
            row_without_header(&record, line, out);
        }
    }
    Ok(())
}

fn row_with_header(
    header: &[Option<Column>],
    record: &csv::StringRecord,
    line: usize,
    out: &mut Reading,
) {
    let mut f = Fields::default();
    for (col, value) in header.iter().zip(record.iter()) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match col {
            Some(Column::Arxiv) => f.eprints.push((value.to_string(), Some(true))),
            Some(Column::Doi) => f.dois.push(value.to_string()),
            Some(Column::Title) => f.set_title(value),
            Some(Column::Abstract) => f.set_abstract(value),
            Some(Column::Url) => f.urls.extend(value.split_whitespace().map(str::to_string)),
            Some(Column::Authors) => f.authors.extend(authors(value)),
            Some(Column::Year) => f.dates.push(value.to_string()),
            Some(Column::Note) => f.texts.push(value.to_string()),
            None => {}
        }
    }
    match f.finish(line) {
        Ok(e) => out.entries.push(e),
        Err(bad) => out.bad.push(bad),
    }
}

/// One id per row: an arXiv id (any spelling), a DOI, or an arXiv or DOI link.
fn row_without_header(record: &csv::StringRecord, line: usize, out: &mut Reading) {
    let value = record.get(0).unwrap_or_default().trim();
    if value.is_empty() && record.len() <= 1 {
        return;
    }
    let mut f = Fields::default();
    if PaperId::parse_arxiv(value).is_some() {
        f.eprints.push((value.to_string(), Some(true)));
    } else if Doi::parse(value).is_some() {
        f.dois.push(value.to_string());
    } else if value.contains("://") {
        f.urls.push(value.to_string());
    } else {
        f.texts.push(value.to_string());
    }
    let found = f
        .finish(line)
        .ok()
        .filter(|e| e.arxiv.is_some() || e.doi.is_some());
    match found {
        Some(e) if record.len() <= 1 => out.entries.push(e),
        _ => out.bad.push(BadEntry {
            line,
            reason: format!(
                "`{}` is not an arXiv id, a DOI or a link to one (a file without a header \
                 row lists one per line; with a header, name the columns: arxiv, doi, \
                 title, abstract, url)",
                crate::domain::shorten(&record.iter().collect::<Vec<_>>().join(","), 60)
            ),
        }),
    }
}

/// `Smith A, Walter B` (PubMed), `Joseph Rottman, Erran Carmel` (IEEE), `A; B`.
fn authors(value: &str) -> Vec<String> {
    let sep = if value.contains(';') { ';' } else { ',' };
    value
        .split(sep)
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{Format, read_text};

    #[test]
    fn a_header_names_the_columns_in_any_usual_spelling() {
        let lib = read_text(
            "Key,Item Type,Publication Year,Author,Title,DOI,Url,Abstract Note\n\
             K1,journalArticle,2017,\"Vaswani, Ashish; Shazeer, Noam\",Attention,,https://arxiv.org/abs/1706.03762,\"An abstract, with a comma\"\n\
             K2,journalArticle,2020,,,,,\n",
            Format::Csv,
        )
        .unwrap();
        assert_eq!(lib.entries.len(), 1);
        let e = &lib.entries[0];
        assert_eq!(e.arxiv.as_ref().unwrap().as_str(), "1706.03762");
        assert_eq!(e.abstract_text, "An abstract, with a comma");
        assert_eq!(e.authors, ["Vaswani, Ashish", "Shazeer, Noam"]);
        assert_eq!((e.line, e.year), (2, Some(2017)));
        assert_eq!(lib.bad[0].line, 3);
    }

    #[test]
    fn without_a_header_each_line_is_one_id() {
        let lib = read_text(
            "arXiv:2410.18975v2\n10.1103/PhysRevLett.105.040504\nhttps://doi.org/10.1000/xyz\n\nnot an id\n",
            Format::Csv,
        )
        .unwrap();
        assert_eq!(lib.entries.len(), 3);
        assert_eq!(
            lib.entries[1].doi.as_ref().unwrap().as_str(),
            "10.1103/physrevlett.105.040504"
        );
        assert_eq!(lib.bad.len(), 1);
        assert_eq!(lib.bad[0].line, 5);
    }
}
