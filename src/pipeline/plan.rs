//! Plan an edition: decide, once per period, which papers each active reader gets.
use std::cell::OnceCell;
use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::PlanSettings;
use crate::delivery::new_message_id;
use crate::domain::NewDelivery;
use crate::domain::ProfileDocument;
use crate::domain::{
    Feedback, Frequency, PaperId, Period, PickRef, ReaderFeedback, Subscriber, SubscriberStatus,
    Term, Topics,
};
use crate::embed::Embedder;
use crate::recommend::{Corpus, ProfileIndex, ReaderInput, RecommendLimits, personalise};
use crate::selection::{Meaning, Selector, parallel_map};
use crate::store::Store;

use super::vectors::{Write, candidate_vectors, paper_vectors_writing};

/// How many readers are read, planned and written at a time (bounds memory with many readers).
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
///
/// Memory does not grow with the readers: they are read from the store in pages of
/// [`BATCH`] twice — once to index every term they follow (the terms are kept, not the
/// readers), once to select and write their deliveries — and each page's selection is
/// split over the cores. Readers who subscribe while an edition is being planned are left
/// to the next run of the period.
#[tracing::instrument(name = "Planning an edition", skip_all, fields(period = %period.key()))]
pub fn plan_edition(
    settings: &PlanSettings,
    store: &Store,
    period: Period,
    frequency: Frequency,
    only: Option<&HashSet<i64>>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<PlanSummary> {
    let window = Duration::days(settings.selection.window_days as i64);
    let oldest = now - window;
    let wanted =
        |s: &Subscriber| s.frequency == frequency && only.is_none_or(|o| o.contains(&s.id));
    // Pass 1: every term the readers follow or exclude, once each.
    let mut terms: HashSet<Term> = HashSet::new();
    let mut last_reader = None;
    for_each_page(store, None, |page| {
        for s in page.iter().filter(|s| wanted(s)) {
            terms.extend(settings.topics_of(&s.topics).indexed_terms().cloned());
        }
        last_reader = page.last().map(|s| s.id).or(last_reader);
        Ok(())
    })?;
    let mut candidates = store.papers_seen_since(oldest)?;
    candidates.retain(|p| settings.takes(&p.paper));
    // When each candidate was first stored: the "more like" section picks from the same
    // window of papers as the main picks.
    let recent: Vec<(PaperId, DateTime<Utc>)> = candidates
        .iter()
        .filter_map(|p| Some((p.paper.id.clone()?, p.first_seen)))
        .collect();
    let limits = settings.selection.limits();
    let embedder: OnceCell<Arc<Embedder>> = OnceCell::new();
    // Vectors computed for planning are stored, but not by a dry run.
    let write = if dry_run {
        Write::Nothing
    } else {
        Write::Store
    };
    let meaning = meaning_for(settings, store, write, &embedder, &candidates, &terms)?;
    let selector = Selector::build(candidates, &terms, limits, meaning);
    drop(terms);
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
    let domain = settings.message_id_domain.as_str();
    // Likes, dislikes and libraries. The profile index (the tf-idf index of every stored
    // paper, the candidates' embedding vectors) is built when the first reader with a
    // profile is met, so readers without one cost nothing.
    let feedback = store.feedback_by_subscriber()?;
    let seeded = store.seeded_subscribers()?;
    let corpus: OnceCell<Corpus> = OnceCell::new();
    let mut profiles: Option<ProfileIndex> = None;
    let limits = RecommendLimits {
        feed_max: max_papers,
        ..RecommendLimits::default()
    };
    // Pass 2: the same readers (none who came after pass 1), page by page.
    let Some(last_reader) = last_reader else {
        return Ok(summary);
    };
    for_each_page(store, Some(last_reader), |page| {
        let mut todo: Vec<(&Subscriber, ReaderFeedback, Vec<ProfileDocument>)> = Vec::new();
        for s in page.iter().filter(|s| wanted(s)) {
            if already.contains(&s.id) {
                summary.already_planned += 1;
                continue;
            }
            let library = if seeded.contains(&s.id) {
                store.profile_documents(s.id)?
            } else {
                Vec::new()
            };
            let topics = settings.topics_of(&s.topics);
            todo.push((s, reader_feedback(feedback.get(&s.id), topics), library));
        }
        if todo.is_empty() {
            return Ok(());
        }
        if profiles.is_none()
            && todo
                .iter()
                .any(|(_, fb, lib)| !fb.is_empty() || !lib.is_empty())
        {
            if corpus.get().is_none() {
                let _ = corpus.set(Corpus::build(store.all_papers()?));
            }
            let corpus = corpus.get().expect("set above");
            let embedder = model(settings, &embedder)?;
            let vectors = candidate_vectors(store, embedder, corpus, &recent, write)?;
            profiles = Some(ProfileIndex::build(
                corpus,
                embedder,
                &recent,
                &vectors,
                settings.selection.ranking.profile_weights(),
            ));
        }
        if let (Some(index), Some(embedder)) = (profiles.as_mut(), embedder.get()) {
            index.prepare_with(todo.iter().map(|(_, fb, _)| fb), |papers| {
                paper_vectors_writing(store, embedder, papers, write)
            })?;
        }
        let ids: Vec<i64> = todo.iter().map(|(s, _, _)| s.id).collect();
        let sent = store.sent_papers_among(&ids, &candidate_ids)?;
        let empty = HashSet::new();
        let reader = ReaderPlanner {
            selector: &selector,
            profiles: profiles.as_ref(),
            limits,
            pins: &pins,
            max_papers,
            send_empty: settings.selection.send_empty,
        };
        let picks = parallel_map(&todo, |(s, fb, library)| {
            let since = last_digest.get(&s.id).map_or(oldest, |t| (*t).max(oldest));
            reader.picks(
                settings.topics_of(&s.topics),
                fb,
                library,
                since,
                sent.get(&s.id).unwrap_or(&empty),
            )
        });
        let mut deliveries = Vec::with_capacity(todo.len());
        for ((s, _, _), picks) in todo.iter().zip(picks) {
            if picks.is_empty() {
                summary.empty += 1;
            } else {
                summary.planned += 1;
            }
            deliveries.push(NewDelivery {
                subscriber_id: s.id,
                message_id: new_message_id(&format!("{}.{}", period.key(), s.id), domain),
                editor_note: (!picks.is_empty()).then(|| editor_note.clone()).flatten(),
                picks,
            });
        }
        if let (Some(id), false) = (edition_id, dry_run) {
            store.plan_deliveries(id, &deliveries, now)?;
        }
        tracing::debug!(readers = deliveries.len(), "planned a page of readers");
        Ok(())
    })?;
    Ok(summary)
}

/// What planning would store for one reader now, as one never sent anything (the editor's
/// note and the picks: pinned, own, "More like"): the preview's path, the planner's code.
/// `stored` is the reader's recorded likes and dislikes, `library` their seeds'
/// documents.
pub(crate) fn plan_one_reader(
    settings: &PlanSettings,
    store: &Store,
    period: &Period,
    topics: &Topics,
    stored: Option<&ReaderFeedback>,
    library: &[ProfileDocument],
    now: DateTime<Utc>,
) -> anyhow::Result<(Option<String>, Vec<PickRef>)> {
    plan_reader_with_history(settings, store, period, topics, stored, library, None, now)
}

/// What planning would store for `reader` if their digest were planned now: their topics,
/// likes and library, papers since their last digest, none they were sent before (what
/// `send --to --subscriber` mails).
pub(crate) fn plan_reader_now(
    settings: &PlanSettings,
    store: &Store,
    period: &Period,
    reader: &Subscriber,
    now: DateTime<Utc>,
) -> anyhow::Result<(Option<String>, Vec<PickRef>)> {
    let feedback = store.feedback_by_subscriber()?.remove(&reader.id);
    let library = if store.seeded_subscribers()?.contains(&reader.id) {
        store.profile_documents(reader.id)?
    } else {
        Vec::new()
    };
    plan_reader_with_history(
        settings,
        store,
        period,
        &reader.topics,
        feedback.as_ref(),
        &library,
        Some(reader.id),
        now,
    )
}

/// [`plan_one_reader`]; with `reader`, as that stored reader's history (last digest, papers
/// sent) allows.
#[allow(clippy::too_many_arguments)]
fn plan_reader_with_history(
    settings: &PlanSettings,
    store: &Store,
    period: &Period,
    topics: &Topics,
    stored: Option<&ReaderFeedback>,
    library: &[ProfileDocument],
    reader_id: Option<i64>,
    now: DateTime<Utc>,
) -> anyhow::Result<(Option<String>, Vec<PickRef>)> {
    let oldest = now - Duration::days(settings.selection.window_days as i64);
    let mut candidates = store.papers_seen_since(oldest)?;
    candidates.retain(|p| settings.takes(&p.paper));
    let topics = settings.topics_of(topics);
    let recent: Vec<(PaperId, DateTime<Utc>)> = candidates
        .iter()
        .filter_map(|p| Some((p.paper.id.clone()?, p.first_seen)))
        .collect();
    let embedder: OnceCell<Arc<Embedder>> = OnceCell::new();
    let meaning = meaning_for(
        settings,
        store,
        Write::Nothing,
        &embedder,
        &candidates,
        topics.indexed_terms(),
    )?;
    let selector = Selector::build(
        candidates,
        topics.indexed_terms(),
        settings.selection.limits(),
        meaning,
    );
    let (editor_note, pins) = super::editorial::edition_pins(store, period)?;
    let fb = reader_feedback(stored, topics);
    let personal = !fb.is_empty() || !library.is_empty();
    let corpus = if personal {
        Some(Corpus::build(store.all_papers()?))
    } else {
        None
    };
    let mut index = match &corpus {
        Some(c) => {
            let e = model(settings, &embedder)?;
            // A preview writes nothing.
            let vectors = candidate_vectors(store, e, c, &recent, Write::Nothing)?;
            let weights = settings.selection.ranking.profile_weights();
            Some(ProfileIndex::build(c, e, &recent, &vectors, weights))
        }
        None => None,
    };
    if let (Some(index), Some(embedder)) = (index.as_mut(), embedder.get()) {
        index.prepare_with([&fb], |papers| {
            paper_vectors_writing(store, embedder, papers, Write::Nothing)
        })?;
    }
    let max_papers = settings.selection.max_papers;
    let reader = ReaderPlanner {
        selector: &selector,
        profiles: index.as_ref(),
        limits: RecommendLimits {
            feed_max: max_papers,
            ..RecommendLimits::default()
        },
        pins: &pins,
        max_papers,
        send_empty: settings.selection.send_empty,
    };
    let (since, sent) = match reader_id {
        Some(id) => {
            let since = store
                .last_digest_times()?
                .get(&id)
                .map_or(oldest, |t| (*t).max(oldest));
            let mut ids = selector.candidate_ids();
            ids.extend(pins.iter().map(|p| p.id.clone()));
            let sent = store.sent_papers_among(&[id], &ids)?.remove(&id);
            (since, sent.unwrap_or_default())
        }
        None => (oldest, HashSet::new()),
    };
    let picks = reader.picks(topics, &fb, library, since, &sent);
    Ok(((!picks.is_empty()).then_some(editor_note).flatten(), picks))
}

/// The configured embedding model, loaded once (on first use) into `cell`.
fn model<'c>(
    settings: &PlanSettings,
    cell: &'c OnceCell<Arc<Embedder>>,
) -> anyhow::Result<&'c Embedder> {
    if cell.get().is_none() {
        let _ = cell.set(settings.selection.embedder()?);
    }
    Ok(cell.get().map(Arc::as_ref).expect("set above"))
}

/// The candidates' embedding vectors (the stored ones, the missing computed and stored when
/// `write` says so), when `terms` hold a keyword, phrase or `about:` line to read by meaning
/// too (and `meaning_weight` is not 0); `None` otherwise, so runs without such terms load
/// no model.
fn meaning_for<'t>(
    settings: &PlanSettings,
    store: &Store,
    write: Write,
    cell: &OnceCell<Arc<Embedder>>,
    candidates: &[crate::domain::StoredPaper],
    terms: impl IntoIterator<Item = &'t Term>,
) -> anyhow::Result<Option<Meaning>> {
    let wanted = settings.selection.ranking.uses_meaning()
        && terms
            .into_iter()
            .any(|t| matches!(t, Term::Phrase(_) | Term::About(_)));
    if !wanted || candidates.is_empty() {
        return Ok(None);
    }
    model(settings, cell)?;
    let embedder = Arc::clone(cell.get().expect("loaded above"));
    let papers: Vec<&crate::domain::Paper> = candidates.iter().map(|c| &c.paper).collect();
    let vectors = paper_vectors_writing(store, &embedder, &papers, write)?;
    Ok(Some(Meaning::new(embedder, &vectors)))
}

/// Calls `f` with each page of active readers, by id (up to `until`, when given).
fn for_each_page(
    store: &Store,
    until: Option<i64>,
    mut f: impl FnMut(&[Subscriber]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut after = 0;
    loop {
        let mut page = store.subscribers_page(SubscriberStatus::Active, after, BATCH)?;
        if let Some(until) = until {
            page.subscribers.retain(|s| s.id <= until);
        }
        f(&page.subscribers)?;
        match page.next_after {
            Some(next) if until.is_none_or(|u| next < u) => after = next,
            _ => return Ok(()),
        }
    }
}

/// What selecting one reader's picks needs, shared by the threads of a page.
pub(crate) struct ReaderPlanner<'a> {
    pub(crate) selector: &'a Selector,
    pub(crate) profiles: Option<&'a ProfileIndex<'a>>,
    pub(crate) limits: RecommendLimits,
    /// The editor's picks of the edition (issue 12), first in every digest.
    pub(crate) pins: &'a [PickRef],
    pub(crate) max_papers: usize,
    pub(crate) send_empty: bool,
}

impl ReaderPlanner<'_> {
    /// A reader's picks as stored: the selection, re-ranked and extended by their profile
    /// (likes, dislikes, library) — for a reader who follows only papers, the period's
    /// papers ranked by their profile — or the trending papers when nothing matched and
    /// `send_empty` is set.
    pub(crate) fn picks(
        &self,
        topics: &Topics,
        fb: &ReaderFeedback,
        library: &[ProfileDocument],
        since: DateTime<Utc>,
        already_sent: &HashSet<PaperId>,
    ) -> Vec<PickRef> {
        // Topics changed after the terms were read: indexed again for this reader alone.
        let own;
        let selector = if self.selector.covers(topics) {
            self.selector
        } else {
            own = self.selector.for_topics(topics);
            &own
        };
        let personal = !fb.is_empty() || !library.is_empty();
        let index = self.profiles.filter(|_| personal);
        let profile = index.and_then(|ix| ix.profile(fb, library));
        let follows_only_papers = topics.terms.is_empty();
        // Picks are kept as stored references throughout: no paper is copied.
        let mut picks = if follows_only_papers && profile.is_some() {
            Vec::new()
        } else {
            selector.select_refs(topics, since, already_sent)
        };
        let mut more_like = Vec::new();
        if let Some(index) = index {
            let input = ReaderInput {
                feedback: fb,
                profile: profile.as_ref(),
                follows_only_papers,
                since,
                already_sent,
            };
            let p = personalise(index, input, picks, self.limits);
            (picks, more_like) = (p.picks, p.more_like);
        }
        // Pinned papers the reader has not had take the first `max_papers` slots.
        let pinned = super::editorial::make_room(
            self.pins,
            already_sent,
            &mut picks,
            &mut more_like,
            self.max_papers,
        );
        if picks.is_empty() && more_like.is_empty() && pinned.is_empty() && self.send_empty {
            // Configured to always mail: fall back to the period's trending papers.
            picks = selector.select_refs(&Topics::default(), since, already_sent);
        }
        pinned
            .into_iter()
            .cloned()
            .chain(picks)
            .chain(more_like)
            .collect()
    }
}

/// A reader's likes and dislikes: those recorded in the store (👍/👎, `paperpost like`),
/// then the papers named in the reader's topics (`like:ID`, `dislike:ID`); the store's
/// verdict wins over the topics'.
fn reader_feedback(stored: Option<&ReaderFeedback>, topics: &Topics) -> ReaderFeedback {
    let mut feedback = stored.cloned().unwrap_or_default();
    for id in topics.likes() {
        feedback.add(id.clone(), Feedback::Like);
    }
    for id in topics.dislikes() {
        feedback.add(id.clone(), Feedback::Dislike);
    }
    feedback
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NewSubscriber;
    use crate::domain::{Paper, SubscriberEmail};
    use crate::selection::SelectionSettings;

    /// What planning reads for a newsletter of a minimal config (`[newsletter]` with
    /// `base_url` and `from = "paperpost <digest@example.org>"`): the default
    /// `[selection]`, every source, no default topics.
    fn plan_settings() -> PlanSettings {
        PlanSettings {
            message_id_domain: "example.org".into(),
            ..PlanSettings::for_selection(SelectionSettings::default())
        }
    }

    fn paper(i: usize, title: &str, category: &str) -> Paper {
        Paper {
            id: PaperId::parse_arxiv(&format!("2411.{:05}", i + 1)).map(|p| p.0),
            title: title.into(),
            abstract_text: format!("{title}. We study it at length, part {i}."),
            categories: vec![category.into()],
            upvotes: Some((i * 7 % 30) as u32),
            ..Paper::default()
        }
    }

    /// More readers than a page, planned page by page over the cores, get what selecting
    /// for each of them alone gives; planning again plans nobody twice.
    #[test]
    fn readers_planned_in_pages_get_the_picks_of_selecting_for_each_alone() {
        // Arrange
        let settings = plan_settings();
        let store = Store::for_tests().expect("store");
        let now = DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
            .expect("date")
            .to_utc();
        let titles = [
            "Diffusion models for audio",
            "Graph neural networks at scale",
            "A vision transformer (ViT) for maps",
            "Self-supervised diffusion",
            "Optimisation of kernels",
        ];
        let papers: Vec<Paper> = (0..40)
            .map(|i| paper(i, titles[i % titles.len()], ["cs.LG", "cs.CV"][i % 2]))
            .collect();
        store.upsert_papers(papers, now).expect("papers");
        let lines = [
            "diffusion",
            "cat:cs.CV",
            "\"graph neural network\", -diffusion",
            "ViT, min_upvotes:10",
            "about:\"optimization of kernels\"",
            "nothing matches this",
        ];
        let readers = BATCH + 3 * lines.len();
        for i in 0..readers {
            let email = SubscriberEmail::parse(&format!("r{i}@example.org")).expect("address");
            let topics = Topics::parse(lines[i % lines.len()]).expect("topics");
            store
                .add_subscriber(&NewSubscriber::active(email, topics), now)
                .expect("reader");
        }
        // The period of a reader without a zone of their own, in the config's default (UTC).
        let period = crate::schedule::reader_period(Frequency::Weekly, None, chrono_tz::UTC, now);

        // Act
        let summary = plan_edition(
            &settings,
            &store,
            period,
            Frequency::Weekly,
            None,
            false,
            now,
        )
        .expect("plan");
        let again = plan_edition(
            &settings,
            &store,
            period,
            Frequency::Weekly,
            None,
            false,
            now,
        )
        .expect("plan again");

        // Assert
        assert_eq!(summary.planned + summary.empty, readers);
        assert_eq!(summary.empty, readers / lines.len(), "{summary:?}");
        assert_eq!((again.planned, again.already_planned), (0, readers));
        let claimed = store
            .claim_deliveries("test", now, Duration::minutes(5), readers + 1)
            .expect("claim");
        assert_eq!(claimed.len(), summary.planned);
        let candidates = store
            .papers_seen_since(now - Duration::days(7))
            .expect("papers");
        // Words and meaning, as planning reads them.
        let model = settings.selection.embedder().expect("the shipped model");
        let meaning = Meaning::embed(model, &candidates);
        for c in claimed {
            let topics = &c.subscriber.topics;
            let alone = Selector::with_meaning(
                candidates.clone(),
                [topics],
                settings.selection.limits(),
                Some(meaning.clone()),
            );
            let expected = alone.select_refs(topics, now - Duration::days(7), &HashSet::new());
            assert!(!expected.is_empty());
            assert_eq!(c.picks, expected, "reader {} ({topics})", c.subscriber.id);
        }
    }
}
