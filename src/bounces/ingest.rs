//! Each message read to its effect. A report acts on a reader only when it proves it is
//! about a message we sent them: a VERP token whose check verifies (the token names the
//! delivery), or a quoted Message-ID of a delivery to the address it reports. Anything else
//! about a reader (the address alone, a token with a wrong check, a Message-ID that is not
//! one of that reader's deliveries) is counted as unverified and changes nothing, unless
//! `[bounces] trust_unverified` is on (for relays that strip VERP). The bounce address is
//! public (every digest's Return-Path): without this anyone could unsubscribe anyone.
//! Every message ends in exactly one count of the [`Summary`].
use chrono::{DateTime, Utc};

use super::mailbox::{Input, RawMessage};
use super::report::{Parsed, Report, parse};
use crate::domain::{
    BounceEvent, BounceKind, BounceTarget, GuardLimits, GuardState, SoftPolicy, UnverifiedReport,
};
use crate::store::Store;

/// What `bounces ingest` does with what it reads (`[bounces]`).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub soft: SoftPolicy,
    /// Act on reports that prove nothing too (matched by the reported address alone).
    pub trust_unverified: bool,
    /// `[delivery.guard]`'s thresholds (`None`: the guard is off): each hard bounce or
    /// complaint recorded is followed by a check of the rates, which may pause sending.
    pub guard: Option<GuardLimits>,
}

/// What one message came to: the count of the [`Summary`] it ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Matched,
    Unverified,
    Unmatched,
    Ignored,
    Malformed,
    Duplicate,
}

/// What an ingestion did, message by message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub read: usize,
    /// Bounces and complaints tied to a reader, and acted on.
    pub matched: usize,
    pub hard: usize,
    pub soft: usize,
    pub complaints: usize,
    /// Addresses put on the suppression list by this run.
    pub suppressed: usize,
    /// Readers unsubscribed by this run (complaints).
    pub unsubscribed: usize,
    /// Bounces and complaints about a reader that proved nothing: not acted on.
    pub unverified: usize,
    /// Bounces and complaints about no reader we know.
    pub unmatched: usize,
    /// Autoreplies, delay warnings, other mail.
    pub ignored: usize,
    pub autoreplies: usize,
    /// Unreadable, truncated or too big: not recorded, reported every time.
    pub malformed: usize,
    /// Ingested before: nothing changed.
    pub duplicate: usize,
    /// (where, why) of each malformed, unverified or unmatched message.
    pub notes: Vec<(String, String)>,
    /// Sending is paused by the reputation guard: why, since when, with the numbers.
    pub pause: Option<String>,
    /// This run's reports tripped that pause.
    pub paused_now: bool,
    /// The command that lifts it (its newsletter's).
    pub resume: String,
}

impl Summary {
    /// The lines `paperpost bounces ingest` prints.
    pub fn render(&self) -> String {
        let mut o = format!(
            "read {}: {} matched ({} hard, {} soft, {} {}), {} unverified, {} unmatched, {} ignored ({} {}), {} malformed, {} already ingested\n",
            plural(self.read, "message"),
            self.matched,
            self.hard,
            self.soft,
            self.complaints,
            if self.complaints == 1 {
                "complaint"
            } else {
                "complaints"
            },
            self.unverified,
            self.unmatched,
            self.ignored,
            self.autoreplies,
            if self.autoreplies == 1 {
                "autoreply"
            } else {
                "autoreplies"
            },
            self.malformed,
            self.duplicate,
        );
        o.push_str(&format!(
            "{} suppressed, {} unsubscribed\n",
            plural(self.suppressed, "address"),
            plural(self.unsubscribed, "reader")
        ));
        for (origin, why) in &self.notes {
            o.push_str(&format!("  {origin}: {why}\n"));
        }
        if let Some(pause) = &self.pause {
            o.push_str(&format!(
                "{}{pause}\n  nothing is sent until `{}`\n",
                if self.paused_now {
                    "these reports paused sending: "
                } else {
                    ""
                },
                self.resume
            ));
        }
        o
    }
}

fn plural(n: usize, what: &str) -> String {
    match (n, what) {
        (1, _) => format!("1 {what}"),
        (_, "address") => format!("{n} addresses"),
        _ => format!("{n} {what}s"),
    }
}

/// Reads every message of `input` and applies it; `progress` sees the summary after each.
/// A Maildir message that cannot be read is moved aside ([`Input::set_aside`]).
#[tracing::instrument(name = "Ingesting bounces", skip_all)]
pub fn ingest(
    store: &Store,
    input: &Input,
    policy: Policy,
    now: DateTime<Utc>,
    mut progress: impl FnMut(&Summary),
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut failure = None;
    // The guard's count reads every delivery of its window: judged after a hard bounce or
    // complaint at most once per GUARD_EVERY (a mailbox of thousands of reports would
    // otherwise spend minutes recounting), and once more at the end if any came since.
    let mut judged = (0, std::time::Instant::now());
    input.read_each(|raw| {
        if failure.is_some() {
            return;
        }
        let counted = ingest_one(store, &raw, policy, now, &mut summary);
        let reported = summary.hard + summary.complaints;
        if let (Ok(_), Some(limits)) = (&counted, &policy.guard)
            && reported > judged.0
            && judged.1.elapsed() >= GUARD_EVERY
            && summary.pause.is_none()
        {
            judged = (reported, std::time::Instant::now());
            if let Err(e) = guard(store, limits, now, &mut summary) {
                failure = Some(e.context(format!("while checking the guard after {}", raw.origin)));
            }
        }
        match counted {
            Ok(Counted::Malformed) => {
                if let Some(moved) = input.set_aside(&raw)
                    && let Some((_, note)) = summary.notes.last_mut()
                {
                    match moved {
                        Ok(to) => note.push_str(&format!("; moved to {}", to.display())),
                        Err(e) => {
                            tracing::warn!(origin = %raw.origin, "{e}");
                            note.push_str(&format!("; {e}"));
                        }
                    }
                }
            }
            Ok(_) => {}
            Err(e) => failure = Some(e.context(format!("while ingesting {}", raw.origin))),
        }
        progress(&summary);
    })?;
    if failure.is_none()
        && let Some(limits) = &policy.guard
        && summary.hard + summary.complaints > judged.0
        && summary.pause.is_none()
        && let Err(e) = guard(store, limits, now, &mut summary)
    {
        failure = Some(e.context("while checking the guard after the last report"));
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// How often, at most, `ingest` judges the rates while reports keep coming.
const GUARD_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Judges the rates of every newsletter that has sent (a report may be about any of them)
/// after a hard bounce or complaint was recorded; a pause (new or in force) goes into the
/// summary and the log.
fn guard(
    store: &Store,
    limits: &GuardLimits,
    now: DateTime<Utc>,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    for slug in store.newsletters_with_editions()? {
        guard_one(&store.for_newsletter(&slug), limits, now, summary)?;
    }
    Ok(())
}

/// [`guard`] for the newsletter `store` sees.
fn guard_one(
    store: &Store,
    limits: &GuardLimits,
    now: DateTime<Utc>,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    match store.check_guard(limits, now, "bounces ingest")? {
        GuardState::Clear => {}
        GuardState::Tripped(p) => {
            tracing::error!(
                newsletter = store.newsletter(),
                kind = p.kind.as_str(),
                reports = p.reports,
                delivered = p.delivered,
                edition = p.edition.as_deref().unwrap_or("-"),
                "sending paused: {}; `{}` lifts it",
                p.reason,
                crate::domain::resume_command(store.newsletter())
            );
            summary.pause = Some(p.describe());
            summary.paused_now = true;
            summary.resume = crate::domain::resume_command(store.newsletter());
        }
        GuardState::Paused(p) => {
            if summary.pause.is_none() {
                summary.pause = Some(p.describe());
                summary.resume = crate::domain::resume_command(store.newsletter());
            }
        }
    }
    Ok(())
}

/// One message into the summary; an `Err` only for a store failure.
pub fn ingest_one(
    store: &Store,
    raw: &RawMessage,
    policy: Policy,
    now: DateTime<Utc>,
    summary: &mut Summary,
) -> anyhow::Result<Counted> {
    summary.read += 1;
    let parsed = match raw
        .bytes
        .as_deref()
        .map_err(|e| e.clone())
        .and_then(|b| parse(b).map_err(|e| e.to_string()))
    {
        Ok(p) => p,
        Err(why) => {
            tracing::warn!(origin = %raw.origin, "malformed bounce message: {why}");
            summary.malformed += 1;
            summary
                .notes
                .push((raw.origin.clone(), format!("malformed: {why}")));
            return Ok(Counted::Malformed);
        }
    };
    let (kind, recipient, status, reason) = match &parsed.report {
        Report::Ignored(why) => {
            let applied =
                store.record_bounce_message(&parsed.hash, "ignored", None, policy.soft, now)?;
            if applied.duplicate {
                summary.duplicate += 1;
                return Ok(Counted::Duplicate);
            }
            summary.ignored += 1;
            if why.starts_with("autoreply") {
                summary.autoreplies += 1;
            }
            return Ok(Counted::Ignored);
        }
        Report::Bounce {
            kind,
            recipient,
            status,
            reason,
        } => (*kind, recipient, status.clone(), reason.clone()),
        Report::Complaint {
            feedback_type,
            recipient,
            reason,
        } => (
            BounceKind::Complaint,
            recipient,
            feedback_type.clone(),
            reason.clone(),
        ),
    };
    let at = parsed.date.filter(|d| *d <= now).unwrap_or(now);
    let target = match about(store, &parsed, recipient.as_deref())? {
        About::Verified(t) => t,
        About::Unverified { target, why } if policy.trust_unverified => {
            tracing::warn!(
                origin = %raw.origin,
                "acting on an unverified {} for {} ([bounces] trust_unverified): {why}",
                kind.as_str(),
                target.email
            );
            summary.notes.push((
                raw.origin.clone(),
                format!(
                    "{} for {} acted on without proof ([bounces] trust_unverified): {why}",
                    kind.as_str(),
                    target.email
                ),
            ));
            target
        }
        About::Unverified { target, why } => {
            let report = UnverifiedReport {
                kind: kind.as_str().to_string(),
                email: target.email.clone(),
                reason: reason.clone(),
                why: why.clone(),
                at,
            };
            if store
                .record_unverified_bounce(&parsed.hash, &report, now)?
                .duplicate
            {
                summary.duplicate += 1;
                return Ok(Counted::Duplicate);
            }
            tracing::warn!(
                origin = %raw.origin,
                "unverified {} for {} not acted on: {why}",
                kind.as_str(),
                target.email
            );
            summary.unverified += 1;
            summary.notes.push((
                raw.origin.clone(),
                format!(
                    "unverified {} for {} ({reason}): {why}; nothing changed",
                    kind.as_str(),
                    target.email
                ),
            ));
            return Ok(Counted::Unverified);
        }
        About::Unknown => {
            let applied =
                store.record_bounce_message(&parsed.hash, "unmatched", None, policy.soft, now)?;
            if applied.duplicate {
                summary.duplicate += 1;
                return Ok(Counted::Duplicate);
            }
            summary.unmatched += 1;
            summary.notes.push((
                raw.origin.clone(),
                format!(
                    "unmatched {} for {} ({reason})",
                    kind.as_str(),
                    recipient.as_deref().unwrap_or("an unknown recipient")
                ),
            ));
            return Ok(Counted::Unmatched);
        }
    };
    let event = BounceEvent {
        kind,
        target,
        status: Some(status),
        reason,
        at,
    };
    let applied =
        store.record_bounce_message(&parsed.hash, "matched", Some(&event), policy.soft, now)?;
    if applied.duplicate {
        summary.duplicate += 1;
        return Ok(Counted::Duplicate);
    }
    summary.matched += 1;
    match kind {
        BounceKind::Hard => summary.hard += 1,
        BounceKind::Soft => summary.soft += 1,
        BounceKind::Complaint => summary.complaints += 1,
    }
    summary.suppressed += usize::from(applied.suppressed);
    summary.unsubscribed += usize::from(applied.unsubscribed);
    tracing::info!(
        kind = kind.as_str(),
        edition = event.target.period_key.as_deref().unwrap_or("-"),
        suppressed = applied.suppressed,
        "{} for {}: {}",
        kind.as_str(),
        event.target.email,
        event.reason
    );
    Ok(Counted::Matched)
}

/// Whom a report is about, and whether it proved it.
enum About {
    /// A VERP token whose check verifies, or a quoted Message-ID of a delivery to the
    /// reported address (or, when the report names no address, of any delivery: the
    /// Message-ID holds 128 random bits and the VERP check is derived from it).
    Verified(BounceTarget),
    /// Names a reader by address but proves nothing; `why` says what was missing.
    Unverified { target: BounceTarget, why: String },
    /// About no reader we know.
    Unknown,
}

fn about(store: &Store, parsed: &Parsed, recipient: Option<&str>) -> anyhow::Result<About> {
    for (id, check) in &parsed.tokens {
        if let Some(t) = store
            .bounce_target_by_token(*id, |mid| crate::delivery::verp::token_matches(check, mid))?
        {
            return Ok(About::Verified(t));
        }
    }
    let mut another_readers = false;
    for mid in &parsed.quoted_message_ids {
        if let Some(t) = store.bounce_target_by_message_id(mid)? {
            match recipient {
                Some(r) if !crate::store::same_mailbox(r, &t.email) => another_readers = true,
                _ => return Ok(About::Verified(t)),
            }
        }
    }
    let Some(target) = (match recipient {
        Some(r) if r.contains('@') => store.bounce_target_by_address(r)?,
        _ => None,
    }) else {
        return Ok(About::Unknown);
    };
    let why = if another_readers {
        "the Message-ID it quotes is of a delivery to another address"
    } else if !parsed.tokens.is_empty() {
        "its VERP token's check does not verify"
    } else if !parsed.quoted_message_ids.is_empty() {
        "no VERP token, and the Message-ID it quotes is not one of ours"
    } else {
        "no VERP token and no Message-ID of ours"
    };
    Ok(About::Unverified {
        target,
        why: why.to_string(),
    })
}
