//! A test send (`paperpost send --to`): the digest a reader, or some topics, would get now,
//! marked as a test and addressed to one person. Nothing is planned or recorded: no
//! edition, no delivery row, no paper marked sent — the real edition goes out unchanged.
use chrono::{DateTime, Utc};
use lettre::message::Mailbox;

use super::{NewsletterOptions, RunContext};
use crate::delivery::{Composed, Outgoing, build_message, new_message_id};
use crate::domain::{Digest, Frequency, Subscriber, SubscriberEmail, Topics};
use crate::render::{EmailContext, render_test_digest};
use crate::store::Store;

/// Whose digest a test send shows.
#[derive(Debug, Clone)]
pub enum TestTarget {
    /// What this reader would get if their digest were planned now: their topics, papers
    /// since their last digest, none they were already sent. Boxed: a reader is much
    /// larger than topics.
    Reader(Box<Subscriber>),
    /// What a new reader with these topics would get now (as `preview` shows).
    Topics(Topics),
}

impl TestTarget {
    /// "ada@example.org's digest", "the digest of the topics: llm", "the trending digest".
    pub fn describe(&self) -> String {
        match self {
            TestTarget::Reader(s) => format!("the digest {} would get now", s.email),
            TestTarget::Topics(t) if t.is_trending() => "the trending digest".into(),
            TestTarget::Topics(t) => format!("the digest of the topics: {t}"),
        }
    }
}

/// A composed test message and what it holds.
pub struct TestMessage {
    pub composed: Composed,
    pub subject: String,
    pub papers: usize,
}

/// The digest `target` would get at `now`; `None` when it would be empty.
pub fn test_digest(
    newsletter: &NewsletterOptions,
    store: &Store,
    target: &TestTarget,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Digest>> {
    match target {
        TestTarget::Topics(topics) => {
            let period = super::period_for(newsletter, Frequency::Weekly, now);
            super::digest_for_topics(store, topics, period, &newsletter.plan, now)
        }
        TestTarget::Reader(reader) => {
            // The planner's choice for this reader now (see `plan_edition`), without
            // writing: topics, likes, library, the edition's note and pins, papers since
            // their last digest and none they had.
            let period = super::reader_period_for(newsletter, reader, now);
            let (note, refs) =
                super::plan::plan_reader_now(&newsletter.plan, store, &period, reader, now)?;
            super::preview::digest_of_refs(
                store,
                period,
                note,
                &refs,
                reader.topics.is_trending(),
                now,
            )
        }
    }
}

/// The test message of `digest` to `to`: subject "[test] …", a banner in both parts, no
/// reader's links (a test that reaches someone else cannot unsubscribe the reader) and no
/// List-Unsubscribe headers (it is not list traffic).
pub fn compose_test(
    newsletter: &NewsletterOptions,
    digest: &Digest,
    target: &TestTarget,
    to: &SubscriberEmail,
    dkim: Option<&lettre::message::dkim::DkimConfig>,
    now: DateTime<Utc>,
) -> anyhow::Result<TestMessage> {
    let base = &newsletter.base_url;
    let join = |p: &str| base.join(p).map(|u| u.to_string()).unwrap_or_default();
    let unsubscribe = join("unsubscribe");
    let archive = join("archive");
    let note = format!(
        "This is {}, sent to {to} by `paperpost send --to`; nothing was planned or marked sent.",
        target.describe()
    );
    let why = format!("Test send from {}.", newsletter.name);
    let ctx = EmailContext {
        newsletter_name: &newsletter.name,
        base_url: base,
        unsubscribe_url: &unsubscribe,
        preferences_url: None,
        archive_url: Some(&archive),
        feedback_url: None,
        why_line: &why,
        full_abstract: newsletter.render.abstract_mode == crate::render::AbstractMode::Full,
        web_copy_url: None,
        feed_url: None,
    };
    let mut rendered = render_test_digest(digest, &ctx, &note);
    rendered.html = crate::render::with_accent(rendered.html, newsletter.render.accent.as_ref());
    let message_settings = &newsletter.message;
    let message_id = new_message_id("test", &message_settings.message_id_domain);
    let mut message = build_message(
        message_settings,
        Outgoing {
            to: Mailbox::new(None, to.address().clone()),
            subject: &rendered.subject,
            text: rendered.text,
            html: rendered.html,
            message_id: &message_id,
            unsubscribe_url: None,
            date: now,
        },
    )?;
    if let Some(dkim) = dkim {
        message.sign(dkim);
    }
    Ok(TestMessage {
        composed: Composed {
            from: Some(message_settings.from.email.clone()),
            to: to.address().clone(),
            bytes: message.formatted(),
            name: format!("test-{}-{to}", now.format("%Y%m%dT%H%M%S")),
        },
        subject: rendered.subject,
        papers: digest.picks().len(),
    })
}

/// What a test send did.
pub enum TestSent {
    /// The digest would be empty: nothing was sent.
    Empty,
    /// Sent (or written to the outbox): its subject and how many papers it shows.
    Sent { subject: String, papers: usize },
}

/// `send --to`: composes the test digest of `target` at `now` and sends it to `to` through
/// the run's transport; plans and records nothing.
pub async fn send_test(
    rt: &RunContext,
    store: &Store,
    target: &TestTarget,
    to: &SubscriberEmail,
    now: DateTime<Utc>,
) -> anyhow::Result<TestSent> {
    let send = rt
        .send
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("a test send needs a transport"))?;
    let Some(digest) = test_digest(&rt.newsletter, store, target, now)? else {
        return Ok(TestSent::Empty);
    };
    let message = compose_test(
        &rt.newsletter,
        &digest,
        target,
        to,
        send.dkim.as_deref(),
        now,
    )?;
    crate::delivery::send_one(&send.transport, message.composed)
        .await
        .map_err(|e| anyhow::anyhow!("the test digest to {to} was not sent: {e}"))?;
    Ok(TestSent::Sent {
        subject: message.subject,
        papers: message.papers,
    })
}
