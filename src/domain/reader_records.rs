//! Records about readers beyond [`super::Subscriber`]: a new one, a change, a row that no
//! longer reads, their dates, last digest, suppression and confirmation.
use chrono::{DateTime, Utc};

use super::{
    DeliveryState, DisplayName, Frequency, Subscriber, SubscriberEmail, SubscriberStatus, Topics,
};

/// What is needed to add a subscriber.
#[derive(Debug, Clone)]
pub struct NewSubscriber {
    pub email: SubscriberEmail,
    pub name: Option<DisplayName>,
    pub status: SubscriberStatus,
    pub topics: Topics,
    pub frequency: Frequency,
    pub timezone: Option<chrono_tz::Tz>,
    pub send_hour: Option<u8>,
}

impl NewSubscriber {
    pub fn active(email: SubscriberEmail, topics: Topics) -> NewSubscriber {
        NewSubscriber {
            email,
            name: None,
            status: SubscriberStatus::Active,
            topics,
            frequency: Frequency::Weekly,
            timezone: None,
            send_hour: None,
        }
    }
}

/// A change to a subscriber's preferences; `None` fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SubscriberUpdate {
    pub name: Option<Option<DisplayName>>,
    pub status: Option<SubscriberStatus>,
    pub topics: Option<Topics>,
    pub frequency: Option<Frequency>,
    pub timezone: Option<Option<chrono_tz::Tz>>,
    pub send_hour: Option<Option<u8>>,
}

/// A stored subscriber row that no longer reads as a [`Subscriber`] (a topic line or an
/// address that today's rules refuse, an unknown status…). It is reported for that reader
/// and skipped, never fatal to a send, a page or a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableSubscriber {
    pub id: i64,
    /// The address as stored (it may be the part that does not parse).
    pub email: String,
    /// What does not parse, e.g. `topics: …`.
    pub reason: String,
}

impl std::fmt::Display for UnreadableSubscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "subscriber #{} ({}) skipped: stored {}",
            self.id,
            self.email.escape_debug(),
            self.reason
        )
    }
}

/// A subscriber's dates, beyond what [`crate::domain::Subscriber`] carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberDates {
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
}

/// A reader's newest delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDigest {
    pub period_key: String,
    pub state: DeliveryState,
    pub papers: usize,
    pub planned_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Why and since when an address is on the suppression list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub reason: String,
    pub since: DateTime<Utc>,
}

/// A suppression that was lifted: why the address had been suppressed, and how it came off
/// the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionLift {
    pub reason: String,
    pub suppressed_at: DateTime<Utc>,
    pub lifted_at: DateTime<Utc>,
    pub lifted_by: LiftedBy,
}

/// How a suppression came off the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiftedBy {
    /// The reader confirmed a new sign-up: the mailbox takes mail again.
    Reconfirmed,
    /// `paperpost deliveries unsuppress`.
    Operator,
}

impl LiftedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            LiftedBy::Reconfirmed => "reconfirmed",
            LiftedBy::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<LiftedBy> {
        match s {
            "reconfirmed" => Some(LiftedBy::Reconfirmed),
            "operator" => Some(LiftedBy::Operator),
            _ => None,
        }
    }
}

/// What following a confirmation link did.
#[derive(Debug, Clone)]
pub enum Confirmation {
    /// The subscriber was pending and is now active (or was confirmed by this very token).
    Confirmed(Subscriber),
    /// Only from [`Store::confirmation_state`](crate::store::Store::confirmation_state): unused and unexpired, so using it would
    /// confirm this subscriber.
    Open(Subscriber),
    /// The token (or a newer one of the same subscriber) was used before: nothing changed.
    AlreadyUsed(Subscriber),
    Expired,
    /// Malformed, unknown or wrong secret.
    Invalid,
}

/// One page of `Store::subscribers_page`.
#[derive(Debug, Default)]
pub struct SubscriberPage {
    /// The readable subscribers of the page, by id.
    pub subscribers: Vec<Subscriber>,
    /// The id to ask the next page after (the last row's, readable or not); `None` when
    /// this page was the last.
    pub next_after: Option<i64>,
}
