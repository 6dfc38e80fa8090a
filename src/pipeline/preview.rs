//! Preview: the digest some topics (or a reader) would get right now, without sending.
use chrono::{DateTime, Utc};

use super::{NewsletterOptions, PlanSettings};
use crate::domain::{Digest, Frequency, Paper, PaperId, Period, PickRef, Topics};
use crate::render::{EmailContext, render_preview_page};
use crate::store::Store;

/// The digest `topics` would get now (papers of the last `window_days`), if not empty:
/// what planning would store for a reader with these topics, `like:` items and all.
pub fn preview_digest(
    newsletter: &NewsletterOptions,
    store: &Store,
    topics: &Topics,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Digest>> {
    let period = super::period_for(newsletter, Frequency::Weekly, now);
    let (note, refs) =
        super::plan::plan_one_reader(&newsletter.plan, store, &period, topics, None, &[], now)?;
    digest_of_refs(store, period, note, &refs, topics.is_trending(), now)
}

/// The digest `reader` would get now: what planning would store for them at this moment (the
/// editor's picks, their picks, "More like what you liked", or for a reader who follows only
/// papers the papers their profile ranks first), from the papers since their last digest and
/// never one they were sent.
pub fn preview_reader_digest(
    newsletter: &NewsletterOptions,
    store: &Store,
    reader: &crate::domain::Subscriber,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Digest>> {
    let period = super::reader_period_for(newsletter, reader, now);
    reader_digest(store, reader, period, &newsletter.plan, now)
}

/// [`preview_reader_digest`] in a `period` already known, under `plan`'s settings: what the
/// reader's own web preview (`/preferences/{token}/preview`) shows.
pub fn reader_digest(
    store: &Store,
    reader: &crate::domain::Subscriber,
    period: Period,
    plan: &PlanSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Digest>> {
    let (note, refs) = super::plan::plan_reader_now(plan, store, &period, reader, now)?;
    digest_of_refs(store, period, note, &refs, reader.topics.is_trending(), now)
}

/// Planned picks with their papers, in the sections the mail shows them in.
pub(crate) fn digest_of_refs(
    store: &Store,
    period: Period,
    note: Option<String>,
    refs: &[PickRef],
    trending: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Digest>> {
    let ids: Vec<PaperId> = refs.iter().map(|r| r.id.clone()).collect();
    let papers = store.papers_by_id(&ids)?;
    let resolved: Vec<(&PickRef, Paper)> = refs
        .iter()
        .filter_map(|r| Some((r, papers.get(&r.id)?.clone())))
        .collect();
    Ok(Digest::from_planned(period, note, resolved, trending, now))
}

/// The digest `topics` would get at `now` under `selection`, as a reader never sent
/// anything would — what planning would store for them (`like:` items, the editor's picks
/// and all): what `preview` and the web's `/preview` both show.
pub fn digest_for_topics(
    store: &Store,
    topics: &Topics,
    period: Period,
    plan: &PlanSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Digest>> {
    let (note, refs) = super::plan::plan_one_reader(plan, store, &period, topics, None, &[], now)?;
    digest_of_refs(store, period, note, &refs, topics.is_trending(), now)
}

/// A standalone HTML page of that digest, as `preview --out` writes it.
pub fn preview_page(
    newsletter: &NewsletterOptions,
    digest: Option<&Digest>,
    topics: &Topics,
) -> String {
    let base = &newsletter.base_url;
    let unsubscribe = base
        .join("unsubscribe")
        .map(|u| u.to_string())
        .unwrap_or_default();
    let why = if topics.is_trending() {
        "Preview of the trending digest.".to_string()
    } else {
        format!("Preview for the topics: {topics}.")
    };
    let ctx = EmailContext {
        newsletter_name: &newsletter.name,
        base_url: base,
        unsubscribe_url: &unsubscribe,
        preferences_url: None,
        archive_url: None,
        feedback_url: None,
        why_line: &why,
        full_abstract: newsletter.render.abstract_mode == crate::render::AbstractMode::Full,
        web_copy_url: None,
        feed_url: None,
    };
    let page =
        render_preview_page(digest, &ctx, &format!("{} preview", newsletter.name)).into_string();
    crate::render::with_accent(page, newsletter.render.accent.as_ref())
}
