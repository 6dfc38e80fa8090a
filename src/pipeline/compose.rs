//! Turns a claimed delivery into the bytes of its email: papers from the store (cached for
//! the run), rendering, the lettre message, optional DKIM signature.
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use lettre::message::Mailbox;
use lettre::message::dkim::DkimConfig;

use super::NewsletterOptions;
use crate::delivery::{
    ComposeError, Composed, MessageError, MessageSettings, Outgoing, build_message,
};
use crate::domain::Claimed;
use crate::domain::TokenPurpose;
use crate::domain::{Digest, Paper, PaperId, Period, PickRef, Subscriber};
use crate::render::{EmailContext, RenderedDigest, ViewCache, render_digest_cached};
use crate::security::{Secret, reader_token};
use crate::store::Store;

/// The per-reader links that go into every digest, each with the reader's token for its
/// purpose: the web copy the `copy` token, the feed the `feed` token, preferences, 👍/👎
/// and unsubscribe (also the `List-Unsubscribe` header) the `manage` token.
pub struct ReaderLinks {
    pub unsubscribe: String,
    pub preferences: String,
    pub archive: String,
    /// Ends in `/`: a paper's 👍/👎 page is this plus its id and `?v=like|dislike`.
    pub feedback: String,
    /// The reader's private Atom feed of their picks.
    pub feed: String,
    /// Ends in `/`: the web copy of an edition's digest is this plus the edition's key.
    web_copies: String,
}

impl ReaderLinks {
    /// The reader's web copy of the digest of edition `period_key`.
    pub fn web_copy(&self, period_key: &str) -> String {
        format!("{}{}", self.web_copies, urlencoding::encode(period_key))
    }
}

/// Links for a reader, under the public base URL, with their current tokens made with the
/// server's key.
pub fn links_for(base: &url::Url, key: &Secret, s: &Subscriber) -> ReaderLinks {
    let token = |purpose| reader_token(key, purpose, s);
    let (copy, feed, manage) = (
        token(TokenPurpose::Copy),
        token(TokenPurpose::Feed),
        token(TokenPurpose::Manage),
    );
    let join = |p: &str| {
        base.join(p)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| format!("{base}{p}"))
    };
    ReaderLinks {
        unsubscribe: join(&format!("unsubscribe/{manage}")),
        preferences: join(&format!("preferences/{manage}")),
        archive: join("archive"),
        feedback: join(&format!("feedback/{manage}/")),
        feed: join(&format!("feed/{feed}.xml")),
        web_copies: join(&format!("d/{copy}/")),
    }
}

/// A planned digest as stored: everything needed to render it again, identically — the
/// mail when it is sent, its web copy whenever the reader opens it.
pub struct StoredDigest<'a> {
    pub period_key: &'a str,
    pub subscriber: &'a Subscriber,
    pub picks: &'a [PickRef],
    /// The editor's note as it was when the digest was planned.
    pub editor_note: Option<&'a str>,
    pub planned_at: DateTime<Utc>,
}

/// Renders a digest that was sent to `subscriber` again, from the store: their web copy,
/// by the code that rendered the mail, from what was planned (picks, editor's note).
pub fn render_sent(
    store: &Store,
    renderer: &DigestRenderer,
    subscriber: &Subscriber,
    sent: &crate::domain::SentDigest,
) -> anyhow::Result<RenderedDigest> {
    let ids: Vec<PaperId> = sent.picks.iter().map(|p| p.id.clone()).collect();
    let mut found = store.papers_by_id(&ids)?;
    let papers = ids
        .iter()
        .map(|id| {
            found
                .remove(id)
                .map(Arc::new)
                .ok_or_else(|| anyhow::anyhow!("paper {id} is not in the store"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let stored = StoredDigest {
        period_key: &sent.period_key,
        subscriber,
        picks: &sent.picks,
        editor_note: sent.editor_note.as_deref(),
        planned_at: sent.planned_at,
    };
    renderer.render_web_copy(&stored, &papers, &ViewCache::default())
}

/// How digests are rendered: the newsletter's name, public address, `[render]` mode, and
/// the key readers' link tokens are made with.
pub struct DigestRenderer {
    pub base_url: url::Url,
    pub name: String,
    pub full_abstract: bool,
    /// `[render] accent`: the newsletter's colour for its name and links.
    pub accent: Option<crate::render::Accent>,
    pub key: Secret,
}

/// Who a rendering is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// The reader's mailbox: every link of theirs, each with its purpose's token.
    Mail,
    /// Whoever holds a web copy's address (a `copy` or `feed` token, maybe from a forwarded
    /// mail or a feed reader): the same digest with no token of the reader's in it — no
    /// preferences, 👍/👎, unsubscribe, feed or web-copy link — and no address in the why
    /// line, so a read-only link never leads to the reader's settings or address.
    WebCopy,
}

impl DigestRenderer {
    pub fn new(newsletter: &NewsletterOptions, key: Secret) -> DigestRenderer {
        // Ending in `/`, as the web server's own base: `https://x.org/news` must give
        // `…/news/unsubscribe/…` (what `serve` answers), not `…/unsubscribe/…`, and a web
        // copy must carry the same links as its mail.
        let mut base_url = newsletter.base_url.clone();
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        DigestRenderer {
            base_url,
            name: newsletter.name.clone(),
            full_abstract: newsletter.render.abstract_mode == crate::render::AbstractMode::Full,
            accent: newsletter.render.accent.clone(),
            key,
        }
    }

    /// Renders a stored digest from its papers (`papers[i]` is `d.picks[i]`'s) as the mail.
    pub fn render(
        &self,
        d: &StoredDigest<'_>,
        papers: &[Arc<Paper>],
        views: &ViewCache,
    ) -> anyhow::Result<RenderedDigest> {
        self.render_for(d, papers, views, Audience::Mail)
    }

    /// The same digest as its web copy: the mail's papers, note and order, by the same
    /// code, without the reader's links and address (see [`Audience::WebCopy`]).
    pub fn render_web_copy(
        &self,
        d: &StoredDigest<'_>,
        papers: &[Arc<Paper>],
        views: &ViewCache,
    ) -> anyhow::Result<RenderedDigest> {
        self.render_for(d, papers, views, Audience::WebCopy)
    }

    /// The one path for the mail and its web copy.
    fn render_for(
        &self,
        d: &StoredDigest<'_>,
        papers: &[Arc<Paper>],
        views: &ViewCache,
        audience: Audience,
    ) -> anyhow::Result<RenderedDigest> {
        let period = Period::parse_key(d.period_key)
            .ok_or_else(|| anyhow::anyhow!("edition key {} is not a period", d.period_key))?;
        let trending = d.subscriber.topics.is_trending();
        let planned = d.picks.iter().zip(papers).map(|(r, p)| (r, (**p).clone()));
        let note = d.editor_note.map(str::to_string);
        let digest = Digest::from_planned(period, note, planned, trending, d.planned_at)
            .ok_or_else(|| anyhow::anyhow!("the digest of {} has no papers", d.period_key))?;
        let links = links_for(&self.base_url, &self.key, d.subscriber);
        let web_copy = links.web_copy(d.period_key);
        let mail = audience == Audience::Mail;
        let why = why_line(&self.name, d.subscriber, mail);
        let ctx = EmailContext {
            newsletter_name: &self.name,
            base_url: &self.base_url,
            unsubscribe_url: if mail { &links.unsubscribe } else { "" },
            preferences_url: mail.then_some(links.preferences.as_str()),
            archive_url: Some(&links.archive),
            feedback_url: mail.then_some(links.feedback.as_str()),
            why_line: &why,
            full_abstract: self.full_abstract,
            web_copy_url: mail.then_some(web_copy.as_str()),
            feed_url: mail.then_some(links.feed.as_str()),
        };
        let mut rendered = render_digest_cached(&digest, &ctx, views);
        rendered.html = crate::render::with_accent(rendered.html, self.accent.as_ref());
        Ok(rendered)
    }
}

/// Everything that turns a claimed delivery and its papers into the bytes of its email,
/// without the store: the renderer, the sender's headers, DKIM, the VERP bounce address and
/// the paper views shared by every digest of a run. Pure apart from the random boundary and
/// signature: the fuzz target `compose` drives it with arbitrary readers and papers.
pub struct MessageComposer {
    renderer: DigestRenderer,
    message: MessageSettings,
    dkim: Option<Arc<DkimConfig>>,
    /// `[delivery] bounce_address`: the base of each message's VERP envelope sender.
    bounce_address: Option<lettre::Address>,
    /// Paper views shared by every digest of this run.
    views: ViewCache,
}

impl MessageComposer {
    /// `bounce_address`: `[delivery] bounce_address`, the base of the VERP envelope senders.
    pub fn new(
        newsletter: &NewsletterOptions,
        bounce_address: Option<lettre::Address>,
        dkim: Option<Arc<DkimConfig>>,
        key: Secret,
    ) -> MessageComposer {
        MessageComposer {
            renderer: DigestRenderer::new(newsletter, key),
            message: newsletter.message.clone(),
            dkim,
            bounce_address,
            views: ViewCache::default(),
        }
    }

    /// Renders the digest of `c` from its papers (`papers[i]` is `c.picks[i]`'s) and builds
    /// its message, dated `now`. A reader field that cannot go into a header (a stored name
    /// with a line break) is a [`ComposeError::Message`]: that delivery fails for good.
    pub fn compose(
        &self,
        c: &Claimed,
        papers: &[Arc<Paper>],
        now: DateTime<Utc>,
    ) -> Result<Composed, ComposeError> {
        let stored = StoredDigest {
            period_key: &c.period_key,
            subscriber: &c.subscriber,
            picks: &c.picks,
            editor_note: c.editor_note.as_deref(),
            planned_at: c.created_at,
        };
        let rendered = self
            .renderer
            .render(&stored, papers, &self.views)
            .map_err(|e| e.context(format!("delivery {}", c.id)))?;
        let links = links_for(&self.renderer.base_url, &self.renderer.key, &c.subscriber);
        let mut message = build_message(
            &self.message,
            Outgoing {
                to: recipient(&c.subscriber)?,
                subject: &rendered.subject,
                text: rendered.text,
                html: rendered.html,
                message_id: &c.message_id,
                unsubscribe_url: Some(&links.unsubscribe),
                date: now,
            },
        )?;
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
        Ok(Composed {
            from: Some(match &self.bounce_address {
                Some(base) => crate::delivery::verp::envelope_sender(base, c.id, &c.message_id),
                None => self.message.from.email.clone(),
            }),
            to: c.subscriber.email.address().clone(),
            bytes: message.formatted(),
            name: format!("{}-{:06}-{}", c.period_key, c.id, c.subscriber.email),
        })
    }
}

/// The `To:` mailbox of a reader: their address and, when they have one, their name. A
/// stored name that is not a valid [`DisplayName`](crate::domain::DisplayName) (written
/// behind paperpost's back) is refused here, naming it, instead of reaching lettre.
pub fn recipient(s: &Subscriber) -> Result<Mailbox, MessageError> {
    let name = match &s.name {
        None => None,
        Some(stored) => Some(
            stored
                .display_name()
                .map_err(|e| {
                    MessageError::header(
                        "To",
                        format!("the reader's stored name `{stored}` cannot be used: {e}"),
                    )
                })?
                .to_string(),
        ),
    };
    Ok(Mailbox::new(name, s.email.address().clone()))
}

/// [`MessageComposer`] over the store: loads each digest's papers (cached for the run).
pub struct Composer {
    store: Store,
    parts: MessageComposer,
    cache: RwLock<HashMap<PaperId, Arc<Paper>>>,
}

impl Composer {
    pub fn new(
        newsletter: &NewsletterOptions,
        bounce_address: Option<lettre::Address>,
        store: Store,
        dkim: Option<Arc<DkimConfig>>,
        key: Secret,
    ) -> Composer {
        Composer {
            store,
            parts: MessageComposer::new(newsletter, bounce_address, dkim, key),
            cache: RwLock::new(HashMap::new()),
        }
    }

    fn papers(&self, ids: &[PaperId]) -> anyhow::Result<Vec<Arc<Paper>>> {
        let missing: Vec<PaperId> = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            ids.iter()
                .filter(|id| !cache.contains_key(*id))
                .cloned()
                .collect()
        };
        if !missing.is_empty() {
            let found = self.store.papers_by_id(&missing)?;
            let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
            for (id, p) in found {
                cache.insert(id, Arc::new(p));
            }
        }
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        ids.iter()
            .map(|id| {
                cache
                    .get(id)
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("paper {id} is not in the store"))
            })
            .collect()
    }

    /// Renders and builds the message of one claimed delivery.
    pub fn compose(&self, c: &Claimed) -> Result<Composed, ComposeError> {
        let ids: Vec<PaperId> = c.picks.iter().map(|p| p.id.clone()).collect();
        let papers = self.papers(&ids)?;
        self.parts.compose(c, &papers, Utc::now())
    }
}

/// "You get this because…" for the footer; `with_address` names the reader's address (the
/// mail does, the web copy does not).
pub fn why_line(name: &str, s: &Subscriber, with_address: bool) -> String {
    let with = if with_address {
        format!(" with {}", s.email)
    } else {
        String::new()
    };
    if s.topics.is_trending() {
        format!("You get {name}'s trending papers because you subscribed{with}.")
    } else {
        format!(
            "You get this because you subscribed to {name}{with} and follow: {}.",
            s.topics
        )
    }
}
