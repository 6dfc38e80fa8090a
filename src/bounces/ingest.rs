//! Each message read to its effect: which delivery it is about (VERP token, then the
//! returned Message-ID, then the recipient's address), and the policy applied in the store.
//! Every message ends in exactly one count of the [`Summary`].
use chrono::{DateTime, Utc};

use super::mailbox::{Input, RawMessage};
use super::report::{Parsed, Report, parse};
use crate::domain::{BounceEvent, BounceKind, BounceTarget, SoftPolicy};
use crate::store::Store;

/// What an ingestion did, message by message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub read: usize,
    /// Bounces and complaints tied to a reader.
    pub matched: usize,
    pub hard: usize,
    pub soft: usize,
    pub complaints: usize,
    /// Addresses put on the suppression list by this run.
    pub suppressed: usize,
    /// Readers unsubscribed by this run (complaints).
    pub unsubscribed: usize,
    /// Bounces and complaints about no reader we know.
    pub unmatched: usize,
    /// Autoreplies, delay warnings, other mail.
    pub ignored: usize,
    pub autoreplies: usize,
    /// Unreadable, truncated or too big: not recorded, reported every time.
    pub malformed: usize,
    /// Ingested before: nothing changed.
    pub duplicate: usize,
    /// (where, why) of each malformed or unmatched message.
    pub notes: Vec<(String, String)>,
}

impl Summary {
    /// The lines `paperpost bounces ingest` prints.
    pub fn render(&self) -> String {
        let mut o = format!(
            "read {}: {} matched ({} hard, {} soft, {} {}), {} unmatched, {} ignored ({} {}), {} malformed, {} already ingested\n",
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
#[tracing::instrument(name = "Ingesting bounces", skip_all)]
pub fn ingest(
    store: &Store,
    input: &Input,
    soft: SoftPolicy,
    now: DateTime<Utc>,
    mut progress: impl FnMut(&Summary),
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut failure = None;
    input.read_each(|raw| {
        if failure.is_some() {
            return;
        }
        if let Err(e) = ingest_one(store, &raw, soft, now, &mut summary) {
            failure = Some(e.context(format!("while ingesting {}", raw.origin)));
        }
        progress(&summary);
    })?;
    match failure {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// One message into the summary; an `Err` only for a store failure.
pub fn ingest_one(
    store: &Store,
    raw: &RawMessage,
    soft: SoftPolicy,
    now: DateTime<Utc>,
    summary: &mut Summary,
) -> anyhow::Result<()> {
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
            return Ok(());
        }
    };
    let (kind, recipient, status, reason) = match &parsed.report {
        Report::Ignored(why) => {
            let applied = store.record_bounce_message(&parsed.hash, "ignored", None, soft, now)?;
            if applied.duplicate {
                summary.duplicate += 1;
            } else {
                summary.ignored += 1;
                if why.starts_with("autoreply") {
                    summary.autoreplies += 1;
                }
            }
            return Ok(());
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
    let target = find_target(store, &parsed, recipient.as_deref())?;
    let Some(target) = target else {
        let applied = store.record_bounce_message(&parsed.hash, "unmatched", None, soft, now)?;
        if applied.duplicate {
            summary.duplicate += 1;
        } else {
            summary.unmatched += 1;
            summary.notes.push((
                raw.origin.clone(),
                format!(
                    "unmatched {} for {} ({reason})",
                    kind.as_str(),
                    recipient.as_deref().unwrap_or("an unknown recipient")
                ),
            ));
        }
        return Ok(());
    };
    let event = BounceEvent {
        kind,
        target,
        status: Some(status),
        reason,
        at: parsed.date.filter(|d| *d <= now).unwrap_or(now),
    };
    let applied = store.record_bounce_message(&parsed.hash, "matched", Some(&event), soft, now)?;
    if applied.duplicate {
        summary.duplicate += 1;
        return Ok(());
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
    Ok(())
}

/// The delivery a report is about: its VERP token (checked against the row), else the
/// returned message's Message-ID, else a reader with the reported address.
fn find_target(
    store: &Store,
    parsed: &Parsed,
    recipient: Option<&str>,
) -> anyhow::Result<Option<BounceTarget>> {
    for (id, check) in &parsed.tokens {
        if let Some(t) = store.bounce_target_by_token(*id, check)? {
            return Ok(Some(t));
        }
    }
    if let Some(mid) = &parsed.original_message_id
        && let Some(t) = store.bounce_target_by_message_id(mid)?
    {
        return Ok(Some(t));
    }
    match recipient {
        Some(r) if r.contains('@') => store.bounce_target_by_address(r),
        _ => Ok(None),
    }
}
