//! The editor's word on an edition as a digest carries it: a note and pinned papers
//! ("Editor's picks"), plus the checks the CLI and the status page share for what an
//! editor types.
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{Frequency, Paper, PaperId, Period};

/// Longest editor's note (characters): a sentence or two, not an essay.
pub const NOTE_MAX_CHARS: usize = 500;
/// Longest note on one pinned paper.
pub const PIN_NOTE_MAX_CHARS: usize = 200;

/// A pinned paper as a digest shows it: the paper and the editor's note on it.
#[derive(Debug, Clone, PartialEq)]
pub struct EditorsPick {
    pub paper: Paper,
    pub note: Option<String>,
}

/// The editor's part of a digest: shown above the reader's own picks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EditorsSection {
    pub note: Option<String>,
    pub picks: Vec<EditorsPick>,
}

impl EditorsSection {
    pub fn is_empty(&self) -> bool {
        self.note.is_none() && self.picks.is_empty()
    }
}

/// An edition as an editor names it (`2026-W48`, `2026-11-28`) to its period key.
pub fn parse_edition(raw: &str) -> Result<String, String> {
    Period::parse_key(raw.trim())
        .map(|p| p.key())
        .ok_or_else(|| {
            format!("`{raw}` is not an edition: use a week like 2026-W48 or a day like 2026-11-28")
        })
}

/// The words that name the edition `send` plans now rather than a key: `next` (the weekly
/// edition) and `next-day` (the daily one).
pub const NEXT_EDITION_WORDS: [(&str, Frequency); 2] =
    [("next", Frequency::Weekly), ("next-day", Frequency::Daily)];

/// An edition as an editor names it on the command line: a key (`2026-W48`, `2026-11-28`),
/// or `next` / `next-day`: the weekly or daily edition a `send` plans at `now` for a reader
/// in `zone` (the newsletter's time zone). Returns the key and, for those words, the
/// frequency they resolved by, so the caller can say which key that was. Reading the
/// clock in the newsletter's zone is the point: on a Sunday evening in UTC, Europe/Berlin
/// is already in the next week, and so is the edition its readers get.
pub fn resolve_edition(
    raw: &str,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<(String, Option<Frequency>), String> {
    let word = raw.trim();
    match NEXT_EDITION_WORDS
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(word))
    {
        Some(&(_, frequency)) => Ok((Period::at(frequency, now, zone).key(), Some(frequency))),
        None => parse_edition(raw)
            .map(|key| (key, None))
            .map_err(|e| format!("{e}, or `next` (this week's) or `next-day` (today's)")),
    }
}

/// A paper to pin: an arXiv id, a DOI or a link, in any spelling ([`PaperId::parse_any`]).
pub fn parse_pin_id(raw: &str) -> Result<PaperId, String> {
    PaperId::parse_any(raw).ok_or_else(|| {
        format!("`{raw}` is not an arXiv identifier, a DOI or a link (e.g. 2410.18975)")
    })
}

/// A note as stored: trimmed, `None` when empty; refused when longer than `max` characters
/// or when it carries control characters other than new lines.
pub fn parse_note(raw: &str, max: usize) -> Result<Option<String>, String> {
    let note = raw.trim();
    let chars = note.chars().count();
    if chars > max {
        return Err(format!(
            "the note is {chars} characters long; at most {max} fit"
        ));
    }
    if note
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("the note contains control characters".into());
    }
    Ok((!note.is_empty()).then(|| note.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_the_edition_of_now_in_the_newsletters_zone() {
        use chrono::TimeZone;
        // Sunday 6 December 2026, 23:30 UTC: Monday 00:30 in Berlin, week 50 there.
        let sunday_night = Utc.with_ymd_and_hms(2026, 12, 6, 23, 30, 0).unwrap();
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let week = |raw: &str, zone| resolve_edition(raw, zone, sunday_night).unwrap();
        assert_eq!(
            week("next", berlin),
            ("2026-W50".into(), Some(Frequency::Weekly))
        );
        assert_eq!(week(" NEXT ", Tz::UTC).0, "2026-W49");
        assert_eq!(
            week("next-day", berlin),
            ("2026-12-07".into(), Some(Frequency::Daily))
        );
        assert_eq!(week("next-day", Tz::UTC).0, "2026-12-06");
        assert_eq!(week("2026-W48", berlin), ("2026-W48".into(), None));
        let bad = resolve_edition("nxt", berlin, sunday_night).unwrap_err();
        assert!(bad.contains("`nxt`") && bad.contains("`next`"), "{bad}");
    }

    #[test]
    fn editions_ids_and_notes_are_checked_with_a_message() {
        assert_eq!(parse_edition(" 2026-W48 ").unwrap(), "2026-W48");
        assert_eq!(parse_edition("2026-11-28").unwrap(), "2026-11-28");
        assert!(parse_edition("W48").unwrap_err().contains("2026-W48"));
        assert_eq!(
            parse_pin_id("arXiv:2410.18975v2").unwrap().as_str(),
            "2410.18975"
        );
        assert!(parse_pin_id("nope").unwrap_err().contains("`nope`"));
        assert_eq!(parse_note("  hi ", 10).unwrap().as_deref(), Some("hi"));
        assert_eq!(parse_note("   ", 10).unwrap(), None);
        assert!(parse_note(&"é".repeat(11), 10).unwrap_err().contains("11"));
        assert!(parse_note("a\u{7}b", 10).is_err());
    }
}
