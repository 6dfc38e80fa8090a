//! Preview: the digest some topics (or a reader) would get right now, without sending.
use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use crate::config::Settings;
use crate::domain::{Digest, Frequency, Period, Topics};
use crate::render::{EmailContext, render_preview_page};
use crate::selection::{SelectionLimits, Selector};
use crate::store::Store;

/// The digest `topics` would get now (papers of the last `window_days`), if not empty.
pub fn preview_digest(
    settings: &Settings,
    store: &Store,
    topics: &Topics,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Digest>> {
    let period = super::period_for(settings, Frequency::Weekly, now);
    let window = Duration::days(settings.selection.window_days as i64);
    digest_for_topics(
        store,
        topics,
        period,
        window,
        settings.selection_limits(),
        now,
    )
}

/// The digest `reader` would get now, as a reader never sent anything would: their topics'
/// picks and, when they liked or disliked papers, the "More like what you liked" section.
pub fn preview_reader_digest(
    settings: &Settings,
    store: &Store,
    reader: &crate::domain::Subscriber,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Digest>> {
    let period = super::reader_period_for(settings, reader, now);
    let oldest = now - Duration::days(settings.selection.window_days as i64);
    let candidates = store.papers_seen_since(oldest)?;
    let eligible: Vec<crate::domain::PaperId> = candidates
        .iter()
        .filter_map(|p| p.paper.id.clone())
        .collect();
    let selector = Selector::new(candidates, [&reader.topics], settings.selection_limits());
    let picks = selector.select(&reader.topics, oldest, &HashSet::new());
    let feedback = store
        .feedback_by_subscriber()?
        .remove(&reader.id)
        .unwrap_or_default();
    if feedback.is_empty() {
        return Ok(Digest::new(period, picks, reader.topics.is_trending(), now));
    }
    let corpus = crate::recommend::Corpus::build(store.all_papers()?);
    let p = crate::recommend::personalise(
        &corpus,
        &feedback,
        picks,
        &eligible,
        crate::recommend::RecommendLimits::default(),
    );
    Ok(Digest::with_more_like(
        period,
        p.picks,
        p.more_like,
        reader.topics.is_trending(),
        now,
    ))
}

/// The digest `topics` would get at `now` from the papers of the last `window`, as a reader
/// never sent anything would: what `preview` and the web's `/preview` both show.
pub fn digest_for_topics(
    store: &Store,
    topics: &Topics,
    period: Period,
    window: Duration,
    limits: SelectionLimits,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Digest>> {
    let oldest = now - window;
    let selector = Selector::new(store.papers_seen_since(oldest)?, [topics], limits);
    let picks = selector.select(topics, oldest, &HashSet::new());
    Ok(Digest::new(period, picks, topics.is_trending(), now))
}

/// A standalone HTML page of that digest, as `preview --out` writes it.
pub fn preview_page(settings: &Settings, digest: Option<&Digest>, topics: &Topics) -> String {
    let base = &settings.newsletter.base_url;
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
        newsletter_name: &settings.newsletter.name,
        base_url: base,
        unsubscribe_url: &unsubscribe,
        preferences_url: None,
        archive_url: None,
        feedback_url: None,
        why_line: &why,
        full_abstract: settings.render.abstract_mode == crate::config::AbstractMode::Full,
        web_copy_url: None,
        feed_url: None,
    };
    render_preview_page(
        digest,
        &ctx,
        &format!("{} preview", settings.newsletter.name),
    )
    .into_string()
}
