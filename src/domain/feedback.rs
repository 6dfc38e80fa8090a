//! A reader's opinion of papers: 👍 "more like this" or 👎 "less like this".
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::PaperId;

/// One reader's verdict on one paper. The store keeps the latest per reader and paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feedback {
    Like,
    Dislike,
}

impl Feedback {
    /// `+1` or `-1`, as stored.
    pub fn value(self) -> i64 {
        match self {
            Feedback::Like => 1,
            Feedback::Dislike => -1,
        }
    }

    pub fn from_value(v: i64) -> Option<Feedback> {
        match v {
            1 => Some(Feedback::Like),
            -1 => Some(Feedback::Dislike),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Feedback::Like => "like",
            Feedback::Dislike => "dislike",
        }
    }
}

impl fmt::Display for Feedback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Feedback {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "like" | "up" | "+1" => Ok(Feedback::Like),
            "dislike" | "down" | "-1" => Ok(Feedback::Dislike),
            other => Err(format!("`{other}` is neither `like` nor `dislike`")),
        }
    }
}

/// The papers one reader liked and disliked (from the store and from `like:`/`dislike:`
/// topic items), the input of [`crate::recommend::personalise`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderFeedback {
    pub likes: Vec<PaperId>,
    pub dislikes: Vec<PaperId>,
}

impl ReaderFeedback {
    pub fn is_empty(&self) -> bool {
        self.likes.is_empty() && self.dislikes.is_empty()
    }

    /// Adds a verdict unless the paper already has one here (the first one wins, so the
    /// caller adds the most authoritative source first).
    pub fn add(&mut self, paper: PaperId, feedback: Feedback) {
        if self.likes.contains(&paper) || self.dislikes.contains(&paper) {
            return;
        }
        match feedback {
            Feedback::Like => self.likes.push(paper),
            Feedback::Dislike => self.dislikes.push(paper),
        }
    }
}

/// One verdict as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackRow {
    pub paper_id: PaperId,
    pub feedback: Feedback,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_names_round_trip() {
        for f in [Feedback::Like, Feedback::Dislike] {
            assert_eq!(Feedback::from_value(f.value()), Some(f));
            assert_eq!(f.as_str().parse::<Feedback>(), Ok(f));
        }
        assert_eq!(Feedback::from_value(0), None);
        assert!("meh".parse::<Feedback>().is_err());
    }

    #[test]
    fn the_first_verdict_on_a_paper_wins() {
        let id = PaperId::parse_arxiv("2410.18975").unwrap().0;
        let mut f = ReaderFeedback::default();
        f.add(id.clone(), Feedback::Like);
        f.add(id.clone(), Feedback::Dislike);
        assert_eq!(f.likes, [id]);
        assert!(f.dislikes.is_empty());
    }
}
