//! Turns a claimed delivery into the bytes of its email: papers from the store (cached for
//! the run), rendering, the lettre message, optional DKIM signature.
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::Utc;

use lettre::message::dkim::DkimConfig;

use crate::config::{DeliverySettings, NewsletterSettings, RenderSettings};
use crate::delivery::{Composed, MessageSettings, Outgoing, build_message};
use crate::domain::Claimed;
use crate::domain::{Digest, Paper, PaperId, Period, Pick, Subscriber};
use crate::render::{EmailContext, ViewCache, render_digest_cached};
use crate::store::Store;

/// The per-reader links that go into every digest.
pub struct ReaderLinks {
    pub unsubscribe: String,
    pub preferences: String,
    pub archive: String,
    /// Ends in `/`: a paper's 👍/👎 page is this plus its id and `?v=like|dislike`.
    pub feedback: String,
}

/// Links for a reader, under the public base URL.
pub fn links_for(base: &url::Url, s: &Subscriber) -> ReaderLinks {
    let token = s.public_token();
    let join = |p: &str| {
        base.join(p)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| format!("{base}{p}"))
    };
    ReaderLinks {
        unsubscribe: join(&format!("unsubscribe/{token}")),
        preferences: join(&format!("preferences/{token}")),
        archive: join("archive"),
        feedback: join(&format!("feedback/{token}/")),
    }
}

pub struct Composer {
    store: Store,
    base_url: url::Url,
    name: String,
    full_abstract: bool,
    message: MessageSettings,
    dkim: Option<Arc<DkimConfig>>,
    /// `[delivery] bounce_address`: the base of each message's VERP envelope sender.
    bounce_address: Option<lettre::Address>,
    cache: RwLock<HashMap<PaperId, Arc<Paper>>>,
    /// Paper views shared by every digest of this run.
    views: ViewCache,
}

impl Composer {
    pub fn new(
        newsletter: &NewsletterSettings,
        render: &RenderSettings,
        delivery: &DeliverySettings,
        store: Store,
        dkim: Option<Arc<DkimConfig>>,
    ) -> Composer {
        Composer {
            store,
            base_url: newsletter.base_url.clone(),
            name: newsletter.name.clone(),
            full_abstract: render.abstract_mode == crate::config::AbstractMode::Full,
            message: newsletter.message_settings(),
            dkim,
            bounce_address: delivery.bounce_address.clone(),
            cache: RwLock::new(HashMap::new()),
            views: ViewCache::default(),
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
    pub fn compose(&self, c: &Claimed) -> anyhow::Result<Composed> {
        let ids: Vec<PaperId> = c.picks.iter().map(|p| p.id.clone()).collect();
        let papers = self.papers(&ids)?;
        let (mut picks, mut more_like) = (Vec::new(), Vec::new());
        for (r, p) in c.picks.iter().zip(papers) {
            let pick = Pick {
                paper: (*p).clone(),
                reasons: r.reasons.clone(),
            };
            if r.more_like {
                more_like.push(pick);
            } else {
                picks.push(pick);
            }
        }
        let period = Period::parse_key(&c.period_key)
            .ok_or_else(|| anyhow::anyhow!("edition key {} is not a period", c.period_key))?;
        let trending = c.subscriber.topics.is_trending();
        let digest = Digest::with_more_like(period, picks, more_like, trending, Utc::now())
            .ok_or_else(|| anyhow::anyhow!("delivery {} has no papers", c.id))?;
        let links = links_for(&self.base_url, &c.subscriber);
        let why = why_line(&self.name, &c.subscriber);
        let ctx = EmailContext {
            newsletter_name: &self.name,
            base_url: &self.base_url,
            unsubscribe_url: &links.unsubscribe,
            preferences_url: Some(&links.preferences),
            archive_url: Some(&links.archive),
            feedback_url: Some(&links.feedback),
            why_line: &why,
            full_abstract: self.full_abstract,
        };
        let rendered = render_digest_cached(&digest, &ctx, &self.views);
        let to = lettre::message::Mailbox::new(
            c.subscriber.name.clone(),
            c.subscriber.email.address().clone(),
        );
        let mut message = build_message(
            &self.message,
            Outgoing {
                to,
                subject: &rendered.subject,
                text: rendered.text,
                html: rendered.html,
                message_id: &c.message_id,
                unsubscribe_url: Some(&links.unsubscribe),
                date: Utc::now(),
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

/// "You get this because…" for the footer.
pub fn why_line(name: &str, s: &Subscriber) -> String {
    if s.topics.is_trending() {
        format!(
            "You get {name}'s trending papers because you subscribed with {}.",
            s.email
        )
    } else {
        format!(
            "You get this because you subscribed to {name} with {} and follow: {}.",
            s.email, s.topics
        )
    }
}
