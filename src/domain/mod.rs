//! Domain types: values that cannot be built invalid ("parse, don't validate").
mod attempts;
mod bounce;
mod categories;
mod delivery;
mod display_name;
mod edition;
mod guard;
mod reader_records;
mod runs;
mod seeds;
mod setting;
mod status;
mod stored_paper;
pub(crate) use categories::canonical_category;
mod feedback;
mod merge;
mod paper;
mod subscriber;
mod text;
mod tokens;
mod topics;

/// The slug of a lone `[newsletter]`, and of every reader and edition a store held before
/// it knew several newsletters.
pub const DEFAULT_NEWSLETTER: &str = "main";

/// The command that lifts newsletter `slug`'s guard pause, as messages spell it.
pub fn resume_command(slug: &str) -> String {
    if slug == DEFAULT_NEWSLETTER {
        "paperpost deliveries resume".into()
    } else {
        format!("paperpost deliveries resume --newsletter {slug}")
    }
}

pub use attempts::{AttemptLimits, AttemptVerdict};
pub use bounce::{
    BounceApplied, BounceEvent, BounceKind, BounceRecord, BounceTarget, EditionBounces, SoftPolicy,
    UnverifiedReport, UnverifiedReports,
};
pub use delivery::{
    Claimed, DeliveryCounts, DeliveryFailure, DeliveryRow, DeliveryState, Finish, NewDelivery,
    SentDigest,
};
pub use display_name::{DisplayName, MAX_NAME_CHARS, NameError, StoredName};
pub use edition::{CancelledEdition, Edition, EditionSummary, Editorial, Pin};
pub use feedback::{Feedback, FeedbackRow, ReaderFeedback};
pub use guard::{
    Breach, GuardCounts, GuardKind, GuardLimits, GuardState, GuardWatch, ResumedPause,
    SendingPause, Since, Tally, Warmup, WarmupDay, judge, percent, thousands,
};
#[cfg(test)]
pub(crate) use merge::tests as merge_tests;
pub use merge::{Provenance, Rank, merge, normalize};
pub use paper::{Paper, PaperId, SourceKind, arxiv_link, canonical_doi, canonical_url};
pub use reader_records::{
    Confirmation, LastDigest, LiftedBy, NewSubscriber, SubscriberDates, SubscriberPage,
    SubscriberUpdate, Suppression, SuppressionLift, UnreadableSubscriber,
};
pub use runs::{RunRecord, SendRunEnd, SourceRunRecord};
pub use seeds::{
    Doi, MAX_SEEDS_PER_READER, NewSeed, ProfileDocument, ProfileSource, SeedFile, SeedImport,
    SeedKey, SeedMode, SeedSource, SeedSummary, SeedTally, normalise_title,
};
pub use setting::{BadSetting, in_range};
pub use status::{NextRun, QueueStatus, StatusReport};
pub use stored_paper::{StoredPaper, UpsertCounts, ValidatorRow};
pub use subscriber::{Frequency, Subscriber, SubscriberEmail, SubscriberStatus};
pub use text::{collapse_whitespace, count, html_to_text, shorten};
pub use tokens::{ReaderTokens, TokenGeneration, TokenPurpose};
pub(crate) use topics::is_acronym_word;
pub use topics::{EXCLUDE_ABSTRACT_MENTIONS, MAX_ALL_PARTS, Term, Topics, TopicsError, TopicsHint};
mod digest;
pub use digest::{Digest, Period, PeriodKind, Pick, PickRef, Picked};
mod editorial;
pub use editorial::{
    EditorsPick, EditorsSection, NOTE_MAX_CHARS, PIN_NOTE_MAX_CHARS, parse_edition, parse_note,
    parse_pin_id, resolve_edition,
};
mod operator;
pub use operator::{
    LoginLimits, LoginVerdict, NewSession, OPERATOR_NAME_MAX, Operator, OperatorName,
    OperatorPassword, OperatorSession, PASSWORD_MIN_CHARS, SessionKind,
};
