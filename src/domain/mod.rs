//! Domain types: values that cannot be built invalid ("parse, don't validate").
mod paper;
mod subscriber;
mod text;
mod topics;

pub use paper::{Paper, PaperId, SourceKind};
pub use subscriber::{Frequency, Subscriber, SubscriberEmail, SubscriberStatus};
pub use text::{collapse_whitespace, count, shorten};
pub use topics::{Term, Topics, TopicsError};
mod digest;
pub use digest::{Digest, Period, PeriodKind, Pick, PickRef};
