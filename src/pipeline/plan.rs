//! Plan an edition: decide, once per period, which papers each active reader gets.
use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use crate::config::Settings;
use crate::delivery::new_message_id;
use crate::domain::NewDelivery;
use crate::domain::{
    Feedback, Frequency, PaperId, Period, PickRef, ReaderFeedback, Subscriber, SubscriberStatus,
};
use crate::recommend::{Corpus, RecommendLimits, personalise};
use crate::selection::Selector;
use crate::store::Store;

/// How many readers are planned per store transaction (bounds memory with many readers).
const BATCH: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanSummary {
    pub period_key: String,
    pub edition_created: bool,
    pub candidates: usize,
    /// Digests planned this time (non-empty).
    pub planned: usize,
    /// Readers whose digest would have been empty.
    pub empty: usize,
    /// Readers already planned in this edition before (a repeated run).
    pub already_planned: usize,
}

/// Creates the edition of `period` (once) and plans a delivery for every active reader of
/// that frequency who has none in it yet. `only` limits planning to some readers (the
/// scheduler plans readers at their local hour). Planning twice plans nothing new.
/// `dry_run` computes the same summary and writes nothing.
#[tracing::instrument(name = "Planning an edition", skip_all, fields(period = %period.key()))]
pub fn plan_edition(
    settings: &Settings,
    store: &Store,
    period: Period,
    frequency: Frequency,
    only: Option<&HashSet<i64>>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<PlanSummary> {
    let window = Duration::days(settings.selection.window_days as i64);
    let oldest = now - window;
    let readers: Vec<Subscriber> = store
        .subscribers(Some(SubscriberStatus::Active))?
        .into_iter()
        .filter(|s| s.frequency == frequency)
        .filter(|s| only.is_none_or(|o| o.contains(&s.id)))
        .collect();
    let candidates = store.papers_seen_since(oldest)?;
    // When each candidate was first stored: the "more like" section picks from the same
    // window of papers as the main picks.
    let recent: Vec<(PaperId, DateTime<Utc>)> = candidates
        .iter()
        .filter_map(|p| Some((p.paper.id.clone()?, p.first_seen)))
        .collect();
    let selector = Selector::new(
        candidates,
        readers.iter().map(|s| &s.topics),
        settings.selection_limits(),
    );
    let public: Vec<PickRef> = selector
        .trending(oldest)
        .iter()
        .filter_map(Option::<PickRef>::from)
        .collect();
    let (edition_id, created) = if dry_run {
        (store.edition(&period.key())?.map(|e| e.id), false)
    } else {
        let (e, created) = store.edition_for_period(&period.key(), &public, now)?;
        (Some(e.id), created)
    };
    let mut summary = PlanSummary {
        period_key: period.key(),
        edition_created: created,
        candidates: selector.candidate_count(),
        ..PlanSummary::default()
    };
    let already = match edition_id {
        Some(id) => store.planned_subscribers(id)?,
        None => HashSet::new(),
    };
    let last_digest = store.last_digest_times()?;
    let mut candidate_ids = selector.candidate_ids();
    // The editor's picks (issue 12) are resolved here, into each reader's stored picks, so
    // the mail and its web copy agree forever; pins made after a reader was planned reach
    // only the readers planned after them.
    let (editor_note, pins) = super::editorial::edition_pins(store, &period)?;
    candidate_ids.extend(pins.iter().map(|p| p.id.clone()));
    let max_papers = settings.selection.max_papers;
    let domain = settings.message_settings().message_id_domain;
    let todo: Vec<&Subscriber> = readers
        .iter()
        .filter(|s| {
            let planned = already.contains(&s.id);
            summary.already_planned += planned as usize;
            !planned
        })
        .collect();
    // Likes and dislikes; the tf-idf index of every stored paper is built only when some
    // reader to plan has feedback, so readers without any cost nothing.
    let feedback = store.feedback_by_subscriber()?;
    let corpus = if todo
        .iter()
        .any(|s| !reader_feedback(feedback.get(&s.id), s).is_empty())
    {
        Some(Corpus::build(store.all_papers()?))
    } else {
        None
    };
    for batch in todo.chunks(BATCH) {
        let ids: Vec<i64> = batch.iter().map(|s| s.id).collect();
        let sent = store.sent_papers_among(&ids, &candidate_ids)?;
        let empty = HashSet::new();
        let mut deliveries = Vec::with_capacity(batch.len());
        for s in batch {
            let since = last_digest.get(&s.id).map_or(oldest, |t| (*t).max(oldest));
            let already_sent = sent.get(&s.id).unwrap_or(&empty);
            let mut picks = selector.select(&s.topics, since, already_sent);
            let mut more_like = Vec::new();
            let fb = reader_feedback(feedback.get(&s.id), s);
            if let Some(corpus) = corpus.as_ref().filter(|_| !fb.is_empty()) {
                let eligible: Vec<PaperId> = recent
                    .iter()
                    .filter(|(id, seen)| *seen >= since && !already_sent.contains(id))
                    .map(|(id, _)| id.clone())
                    .collect();
                let p = personalise(corpus, &fb, picks, &eligible, RecommendLimits::default());
                (picks, more_like) = (p.picks, p.more_like);
            }
            // Pinned papers the reader has not had take the first `max_papers` slots.
            let pinned = super::editorial::make_room(
                &pins,
                already_sent,
                &mut picks,
                &mut more_like,
                max_papers,
            );
            if picks.is_empty()
                && more_like.is_empty()
                && pinned.is_empty()
                && settings.selection.send_empty
            {
                // Configured to always mail: fall back to the period's trending papers.
                picks = selector.select(&Default::default(), since, already_sent);
            }
            let picks: Vec<PickRef> = pinned
                .into_iter()
                .cloned()
                .chain(picks.iter().filter_map(Option::<PickRef>::from))
                .chain(more_like.iter().filter_map(PickRef::more_like))
                .collect();
            if picks.is_empty() {
                summary.empty += 1;
            } else {
                summary.planned += 1;
            }
            deliveries.push(NewDelivery {
                subscriber_id: s.id,
                message_id: new_message_id(&format!("{}.{}", period.key(), s.id), &domain),
                editor_note: (!picks.is_empty()).then(|| editor_note.clone()).flatten(),
                picks,
            });
        }
        if let (Some(id), false) = (edition_id, dry_run) {
            store.plan_deliveries(id, &deliveries, now)?;
        }
    }
    Ok(summary)
}

/// A reader's likes and dislikes: those recorded in the store (👍/👎, `paperpost like`),
/// then the papers named in the reader's topics (`like:ID`, `dislike:ID`); the store's
/// verdict wins over the topics'.
fn reader_feedback(stored: Option<&ReaderFeedback>, reader: &Subscriber) -> ReaderFeedback {
    let mut feedback = stored.cloned().unwrap_or_default();
    for id in reader.topics.likes() {
        feedback.add(id.clone(), Feedback::Like);
    }
    for id in reader.topics.dislikes() {
        feedback.add(id.clone(), Feedback::Dislike);
    }
    feedback
}
