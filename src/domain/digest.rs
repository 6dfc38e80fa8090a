//! A digest: the papers picked for one reader for one period, each with why it was picked.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{EditorsSection, Paper};

/// The period an edition covers, e.g. the week starting Monday 2026-11-23.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    pub kind: PeriodKind,
    /// First day of the period (a Monday for weeks).
    pub start: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Day,
    Week,
}

impl Period {
    /// The week (Monday-based) that contains `day`.
    pub fn week_of(day: NaiveDate) -> Period {
        use chrono::Datelike;
        let start = day - chrono::Duration::days(day.weekday().num_days_from_monday() as i64);
        Period {
            kind: PeriodKind::Week,
            start,
        }
    }

    pub fn day(day: NaiveDate) -> Period {
        Period {
            kind: PeriodKind::Day,
            start: day,
        }
    }

    /// The period of a reader with this frequency that contains `day`: its ISO week or the day.
    pub fn containing(frequency: super::Frequency, day: NaiveDate) -> Period {
        match frequency {
            super::Frequency::Weekly => Period::week_of(day),
            super::Frequency::Daily => Period::day(day),
        }
    }

    /// The period of a reader with this frequency at `instant`, by the local date in `tz`.
    pub fn at(frequency: super::Frequency, instant: DateTime<Utc>, tz: chrono_tz::Tz) -> Period {
        Period::containing(frequency, instant.with_timezone(&tz).date_naive())
    }

    /// A stable key, unique per period: `2026-W48` or `2026-11-26`.
    pub fn key(&self) -> String {
        use chrono::Datelike;
        match self.kind {
            PeriodKind::Week => {
                let w = self.start.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            PeriodKind::Day => self.start.format("%Y-%m-%d").to_string(),
        }
    }

    /// Human label: "week of 2026-11-23" or "2026-11-26".
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Week => format!("week of {}", self.start.format("%Y-%m-%d")),
            PeriodKind::Day => self.start.format("%A, %Y-%m-%d").to_string(),
        }
    }

    /// Parses a key written by [`Period::key`].
    pub fn parse_key(key: &str) -> Option<Period> {
        if let Some((y, w)) = key.split_once("-W") {
            let d =
                NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, chrono::Weekday::Mon)?;
            return Some(Period::week_of(d));
        }
        NaiveDate::parse_from_str(key, "%Y-%m-%d")
            .ok()
            .map(Period::day)
    }
}

/// One picked paper and the reasons it was picked ("diffusion model", "cs.CL", "trending").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pick {
    pub paper: Paper,
    pub reasons: Vec<String>,
}

/// A non-empty list of picks for one reader and one period. Build it with [`Digest::new`],
/// which refuses an empty list: an empty digest is never rendered or sent by accident.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    period: Period,
    picks: Vec<Pick>,
    /// The "More like what you liked" section, after the picks (often empty).
    more_like: Vec<Pick>,
    /// The editor's note and pinned papers, above the reader's own picks (often empty).
    editors: EditorsSection,
    /// True for the trending (non-personalised) digest.
    trending: bool,
    generated_at: DateTime<Utc>,
}

impl Digest {
    pub fn new(
        period: Period,
        picks: Vec<Pick>,
        trending: bool,
        generated_at: DateTime<Utc>,
    ) -> Option<Digest> {
        Digest::with_more_like(period, picks, Vec::new(), trending, generated_at)
    }

    /// A digest with a "More like what you liked" section; `None` when both are empty.
    pub fn with_more_like(
        period: Period,
        picks: Vec<Pick>,
        more_like: Vec<Pick>,
        trending: bool,
        generated_at: DateTime<Utc>,
    ) -> Option<Digest> {
        Digest::with_editors(
            period,
            EditorsSection::default(),
            picks,
            more_like,
            trending,
            generated_at,
        )
    }

    /// A digest headed by the editor's note and picks; `None` when it has no paper at all
    /// (a note alone is not a digest).
    pub fn with_editors(
        period: Period,
        editors: EditorsSection,
        picks: Vec<Pick>,
        more_like: Vec<Pick>,
        trending: bool,
        generated_at: DateTime<Utc>,
    ) -> Option<Digest> {
        (!picks.is_empty() || !more_like.is_empty() || !editors.picks.is_empty()).then_some(
            Digest {
                period,
                picks,
                more_like,
                editors,
                trending,
                generated_at,
            },
        )
    }
    /// The digest of planned picks with their papers: pinned ones in the editor's section
    /// (with `note` above them), "More like" ones in theirs, the others the reader's picks,
    /// each in the order planned. What the mail, its web copy and the preview all show.
    pub fn from_planned(
        period: Period,
        note: Option<String>,
        planned: impl IntoIterator<Item = (impl std::borrow::Borrow<PickRef>, Paper)>,
        trending: bool,
        generated_at: DateTime<Utc>,
    ) -> Option<Digest> {
        let (mut picks, mut more_like) = (Vec::new(), Vec::new());
        let mut editors = EditorsSection {
            note,
            picks: Vec::new(),
        };
        for (r, paper) in planned {
            let r = r.borrow();
            if r.pinned {
                editors.picks.push(crate::domain::EditorsPick {
                    paper,
                    note: r.note.clone(),
                });
                continue;
            }
            let pick = Pick {
                paper,
                reasons: r.reasons.clone(),
            };
            if r.more_like {
                more_like.push(pick);
            } else {
                picks.push(pick);
            }
        }
        Digest::with_editors(period, editors, picks, more_like, trending, generated_at)
    }

    pub fn period(&self) -> Period {
        self.period
    }
    pub fn picks(&self) -> &[Pick] {
        &self.picks
    }
    /// The "More like what you liked" section's papers.
    pub fn more_like(&self) -> &[Pick] {
        &self.more_like
    }
    /// The editor's note and pinned papers of the edition.
    pub fn editors(&self) -> &EditorsSection {
        &self.editors
    }
    /// Papers in the whole digest (editor's picks, picks and the "more like" section).
    pub fn len(&self) -> usize {
        self.editors.picks.len() + self.picks.len() + self.more_like.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn is_trending(&self) -> bool {
        self.trending
    }
    pub fn generated_at(&self) -> DateTime<Utc> {
        self.generated_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_and_keys_round_trip() {
        let p = Period::week_of(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
        assert_eq!(p.start, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(p.key(), "2026-W48");
        assert_eq!(p.label(), "week of 2026-11-23");
        assert_eq!(Period::parse_key(&p.key()), Some(p));
        let d = Period::day(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
        assert_eq!(Period::parse_key(&d.key()), Some(d));
    }

    #[test]
    fn an_empty_digest_cannot_be_built() {
        let p = Period::day(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
        assert!(Digest::new(p, vec![], false, Utc::now()).is_none());
        assert!(Digest::with_more_like(p, vec![], vec![], false, Utc::now()).is_none());
    }

    #[test]
    fn stored_picks_without_the_section_flag_are_main_picks() {
        let old: PickRef = serde_json::from_str(r#"{"id":"2410.18975","reasons":["x"]}"#).unwrap();
        assert!(!old.more_like);
        let json = serde_json::to_string(&old).unwrap();
        assert!(!json.contains("more_like"), "{json}");
        let new = PickRef {
            more_like: true,
            ..old.clone()
        };
        let back: PickRef = serde_json::from_str(&serde_json::to_string(&new).unwrap()).unwrap();
        assert!(back.more_like);
        // An editor's pick keeps its flag and its note; older rows read as not pinned.
        assert!(!old.pinned && old.note.is_none());
        let pin = PickRef::pinned(old.id.clone(), Some("Read first".into()));
        let json = serde_json::to_string(&pin).unwrap();
        assert_eq!(
            json,
            r#"{"id":"2410.18975","pinned":true,"note":"Read first"}"#
        );
        assert_eq!(serde_json::from_str::<PickRef>(&json).unwrap(), pin);
    }
}

/// What is stored of a pick: the paper's id and the reasons, so a delivery can be rendered
/// again (after a crash, on retry) exactly as it was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickRef {
    pub id: super::PaperId,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// In the "More like what you liked" section rather than the main picks.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub more_like: bool,
    /// Pinned by the editor ("Editor's picks"), resolved when the edition was planned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
    /// The editor's note on a pinned paper, as it was when the edition was planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A pick as selection, recommendation and planning pass it on: the paper itself
/// ([`Pick`], for a preview or a test) or its stored reference ([`PickRef`], planning,
/// which copies no paper).
pub trait Picked: Sized {
    fn paper_id(&self) -> Option<&super::PaperId>;
    /// A recommended `paper` with its why line; `more_like` when it goes to the "More like
    /// what you liked" section (a [`Pick`] is put in that section's list by the caller).
    fn recommended(paper: &super::Paper, reasons: Vec<String>, more_like: bool) -> Option<Self>;
}

impl Picked for Pick {
    fn paper_id(&self) -> Option<&super::PaperId> {
        self.paper.id.as_ref()
    }

    fn recommended(paper: &super::Paper, reasons: Vec<String>, _: bool) -> Option<Pick> {
        Some(Pick {
            paper: paper.clone(),
            reasons,
        })
    }
}

impl Picked for PickRef {
    fn paper_id(&self) -> Option<&super::PaperId> {
        Some(&self.id)
    }

    fn recommended(paper: &super::Paper, reasons: Vec<String>, more_like: bool) -> Option<PickRef> {
        Some(PickRef {
            id: paper.id.clone()?,
            reasons,
            more_like,
            pinned: false,
            note: None,
        })
    }
}

impl From<&Pick> for Option<PickRef> {
    fn from(p: &Pick) -> Option<PickRef> {
        Some(PickRef {
            id: p.paper.id.clone()?,
            reasons: p.reasons.clone(),
            more_like: false,
            pinned: false,
            note: None,
        })
    }
}

impl PickRef {
    /// The stored form of a pick of the "More like what you liked" section.
    pub fn more_like(p: &Pick) -> Option<PickRef> {
        Some(PickRef {
            more_like: true,
            ..Option::<PickRef>::from(p)?
        })
    }

    /// The stored form of a paper the editor pinned, with the pin's note.
    pub fn pinned(id: super::PaperId, note: Option<String>) -> PickRef {
        PickRef {
            id,
            reasons: Vec::new(),
            more_like: false,
            pinned: true,
            note,
        }
    }
}
