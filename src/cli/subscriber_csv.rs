//! The subscribers CSV: `email,name,topics,status[,frequency,timezone,send_hour]`.
//!
//! Import keeps every good row whatever a bad row holds: bytes that are not UTF-8, a wrong
//! number of fields, a bad address or topic line, an unclosed quote. Each bad row is reported
//! by its line and the reading goes on at the next line. Export escapes cells a spreadsheet
//! would run as a formula (see [`escape`]) and import reads them back, so an export
//! re-imports to the same subscribers.
use std::io::Write;

use crate::domain::NewSubscriber;
use crate::domain::{DisplayName, StoredName, Subscriber, SubscriberEmail};

/// The columns, in the order export writes them.
pub(super) const COLUMNS: [&str; 7] = [
    "email",
    "name",
    "topics",
    "status",
    "frequency",
    "timezone",
    "send_hour",
];

/// One data row of a file: its 1-based line and the subscriber, or what is wrong with it.
pub(super) type Row = (u64, Result<NewSubscriber, String>);

/// Reads a whole CSV file's data rows. Only a file whose header row cannot be used is an
/// error; everything wrong with a data row is that row's `Err`.
pub(crate) fn read_rows(data: &[u8]) -> Result<Vec<Row>, String> {
    let mut header_reader = builder().from_reader(data);
    let mut header = csv::ByteRecord::new();
    match header_reader.read_byte_record(&mut header) {
        Ok(true) => {}
        Ok(false) => return Err("the file is empty; it needs a header row".into()),
        Err(e) => return Err(format!("cannot read the header row: {e}")),
    }
    let names: Vec<String> = header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    if !names.iter().any(|h| h == "email") {
        return Err(format!(
            "the header row must name an `email` column ({})",
            COLUMNS.join(",")
        ));
    }
    let mut rows = Vec::new();
    // Line numbers are counted here from the bytes: the csv crate counts a skipped blank
    // line into the record after it.
    let mut lines = LineCounter::default();
    let mut offset = header_reader.position().byte() as usize;
    'restart: while offset < data.len() {
        let mut reader = builder().from_reader(&data[offset..]);
        let mut record = csv::ByteRecord::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break 'restart,
                Ok(true) => {}
                // Reading from memory: only a broken record can fail; skip its line.
                Err(e) => {
                    let at = offset + e.position().map_or(0, |p| p.byte() as usize);
                    let (start, line) = lines.record_start(data, at);
                    rows.push((line, Err(format!("cannot read the row: {e}"))));
                    offset = next_line(data, start);
                    continue 'restart;
                }
            }
            let at = offset + record.position().map_or(0, |p| p.byte() as usize);
            let (start, line) = lines.record_start(data, at);
            // The record's own bytes, without its line break: another break inside means
            // a quoted field ran over lines (fields are trimmed, so look at the raw bytes).
            let end = (offset + reader.position().byte() as usize).clamp(start, data.len());
            let mut raw = &data[start..end];
            while let [rest @ .., b'\n' | b'\r'] = raw {
                raw = rest;
            }
            if raw.contains(&b'\n') || raw.contains(&b'\r') {
                // A quoted field running over lines is, in this file, an unclosed quote that
                // swallowed the rows after it: report this line and read the next one anew.
                rows.push((
                    line,
                    Err("a quoted field runs over several lines (an unclosed quote?)".into()),
                ));
                offset = next_line(data, start);
                continue 'restart;
            }
            if record.iter().all(|f| f.trim_ascii().is_empty()) {
                continue; // a blank line
            }
            rows.push((line, to_new_subscriber(&names, &record)));
        }
    }
    Ok(rows)
}

/// 1-based line numbers of byte offsets, counted forward (offsets only grow).
#[derive(Default)]
struct LineCounter {
    byte: usize,
    line: u64,
}

impl LineCounter {
    /// Where the record found at `at` really starts (past the blank lines the reader
    /// skipped) and its line.
    fn record_start(&mut self, data: &[u8], at: usize) -> (usize, u64) {
        let mut start = at.min(data.len());
        while start < data.len() && matches!(data[start], b'\n' | b'\r') {
            start += 1;
        }
        if start < self.byte {
            self.byte = 0;
            self.line = 0;
        }
        self.line += memchr::memchr_iter(b'\n', &data[self.byte..start]).count() as u64;
        self.byte = start;
        (start, self.line + 1)
    }
}

fn builder() -> csv::ReaderBuilder {
    let mut b = csv::ReaderBuilder::new();
    b.has_headers(false).flexible(true).trim(csv::Trim::All);
    b
}

/// The byte offset just after the line break that follows `from`.
fn next_line(data: &[u8], from: usize) -> usize {
    let from = from.min(data.len());
    memchr::memchr(b'\n', &data[from..]).map_or(data.len(), |i| from + i + 1)
}

fn to_new_subscriber(names: &[String], record: &csv::ByteRecord) -> Result<NewSubscriber, String> {
    if record.len() != names.len() {
        return Err(format!(
            "the row has {} fields, the header row {}",
            record.len(),
            names.len()
        ));
    }
    let mut cells = std::collections::HashMap::new();
    for (name, raw) in names.iter().zip(record.iter()) {
        let text = std::str::from_utf8(raw)
            .map_err(|_| format!("the `{name}` field is not valid UTF-8"))?;
        cells.insert(name.as_str(), unescape(text).to_string());
    }
    let cell = |name: &str| cells.get(name).map_or("", String::as_str);
    Ok(NewSubscriber {
        email: SubscriberEmail::parse(cell("email"))?,
        name: DisplayName::parse_optional(cell("name")).map_err(|e| e.to_string())?,
        status: cell("status").parse()?,
        topics: {
            let t = crate::domain::Topics::parse(cell("topics")).map_err(|e| e.to_string())?;
            crate::store::check_storable_topics(&t)?;
            t
        },
        frequency: cell("frequency").parse()?,
        timezone: match cell("timezone") {
            "" => None,
            tz => Some(super::subscribers::parse_tz(tz)?),
        },
        send_hour: match cell("send_hour") {
            "" => None,
            h => match h.parse::<u8>() {
                Ok(h) if h <= 23 => Some(h),
                _ => return Err(format!("send_hour `{h}` is not an hour (0-23)")),
            },
        },
    })
}

/// Writes the header and one row per subscriber, every cell [`escape`]d.
pub(super) fn write(subscribers: &[Subscriber], w: &mut dyn Write) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(w);
    writer.write_record(COLUMNS)?;
    for s in subscribers {
        let hour = s.send_hour.map(|h| h.to_string()).unwrap_or_default();
        let cells = [
            s.email.to_string(),
            s.name
                .as_ref()
                .map(StoredName::raw)
                .unwrap_or_default()
                .to_string(),
            s.topics.to_string(),
            s.status.to_string(),
            s.frequency.to_string(),
            s.timezone.map(|t| t.name().to_string()).unwrap_or_default(),
            hour,
        ];
        writer.write_record(cells.iter().map(|c| escape(c).into_owned()))?;
    }
    writer.flush()?;
    Ok(())
}

/// What a spreadsheet treats as the start of a formula (or may strip before one).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `cell` must be escaped: it starts, after any apostrophes, with a formula
/// character. Counting the apostrophes makes [`escape`] and [`unescape`] exact inverses
/// (`'=x` is escaped to `''=x`), while an ordinary `'t Hooft` is left alone.
fn needs_escape(cell: &str) -> bool {
    cell.trim_start_matches('\'')
        .starts_with(|c| FORMULA_START.contains(&c))
}

/// Prefixes a cell a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+1`, `-2`, `@x`,
/// a leading tab or CR) with an apostrophe, which spreadsheets show as text (OWASP's advice
/// against CSV injection).
pub(super) fn escape(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_escape(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The inverse of [`escape`]: drops the apostrophe export added.
pub(super) fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_escape(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
#[path = "subscriber_csv_tests.rs"]
mod tests;
