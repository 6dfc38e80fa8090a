//! Pure rendering: a [`crate::domain::Digest`] to an email (subject, HTML, plain text) with
//! maud. No I/O. Wording lives in `templates/wording.toml`, dark-mode/phone CSS in
//! `templates/email.css`; light-theme styles are inline (see `style`).
//!
//! - `view`: what a paper shows, decided once for both parts (safe URLs, shortening);
//! - `layout`: the email shell, header, footer; `components`: the paper card;
//! - `text`: the plain-text part; `digest`: the public entry points;
//! - `notice`: short transactional mails (confirmations) and cards for web pages.
mod components;
mod digest;
mod layout;
pub(crate) mod math;
mod notice;
#[cfg(any(test, feature = "test-support"))]
mod sample;
mod settings;
mod status;
mod style;
mod text;
mod view;
mod wording;

pub use digest::{
    EmailContext, RenderedDigest, digest_subject, render_digest, render_digest_cached,
    render_preview_page, render_test_digest,
};
pub use notice::{Notice, RenderedNotice, render_cards, render_notice};
#[cfg(any(test, feature = "test-support"))]
pub use sample::{sample_context, sample_digest};
pub use settings::{AbstractMode, Accent, DEFAULT_ACCENT, RenderSettings, with_accent};
pub use status::{describe_run, render_status_page, render_status_text};
pub use view::{EntryText, ViewCache, entry_text, pinned_entry_text, readable_text};
