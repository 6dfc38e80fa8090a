//! One raw message to what it reports, with mail-parser for the MIME structure: a delivery
//! status notification (RFC 3464, `multipart/report; report-type=delivery-status`), a
//! complaint (ARF, RFC 5965, `report-type=feedback-report`), an autoreply, or nothing we
//! act on. Pure: no I/O, never panics on any input.
use chrono::{DateTime, Utc};
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use crate::domain::BounceKind;

/// A parsed message and what it reports.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// Hex SHA-256 of the Message-ID (when it has one), else of the bytes: a message read a
    /// second time (from the Maildir again, or piped twice) has the same hash.
    pub hash: String,
    /// `Date:` of the report, if readable.
    pub date: Option<DateTime<Utc>>,
    /// VERP tokens (`(delivery id, check)`) found where the bounce was addressed (To,
    /// Delivered-To, X-Original-To) or in the returned message's envelope (Return-Path,
    /// X-Postfix-Sender, ARF Original-Mail-From), most reliable first.
    pub tokens: Vec<(i64, String)>,
    /// Message-IDs the report quotes: the returned message's own (when the report carries
    /// its headers) and, in a complaint, the ones its `In-Reply-To` and `References` name.
    /// A report about a reader is believed when one of them is a delivery's to that reader.
    pub quoted_message_ids: Vec<String>,
    pub report: Report,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A bounce (hard or soft) for `recipient`.
    Bounce {
        kind: BounceKind,
        recipient: Option<String>,
        status: String,
        /// Status, action and diagnostic as the report gave them.
        reason: String,
    },
    /// A spam complaint.
    Complaint {
        feedback_type: String,
        recipient: Option<String>,
        reason: String,
    },
    /// Nothing to act on (an autoreply, a delay warning, a success notice, `not-spam`
    /// feedback, a plain message); the text says which.
    Ignored(String),
}

/// A message that cannot be read as what it claims to be (no headers, a report without
/// its status part, truncated).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

/// Reads one raw message.
pub fn parse(raw: &[u8]) -> Result<Parsed, Malformed> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(Malformed("empty message".into()));
    }
    super::nesting::check(raw).map_err(|e| Malformed(e.to_string()))?;
    let msg = MessageParser::default().parse(raw);
    // The walk above mirrors mail-parser's loop by hand; should it ever find a message
    // shallower than the parser builds it, the built tree is measured (iteratively) before
    // anything clones or walks it, and a too-deep one is refused and dropped where its
    // recursive drop cannot overflow.
    if let Some(m) = &msg
        && super::nesting::parsed_depth(m) > super::nesting::MAX_NESTING
    {
        super::nesting::drop_deep(msg, raw.len());
        return Err(Malformed(super::nesting::TooDeep.to_string()));
    }
    let msg = msg
        .filter(|m| !m.headers().is_empty())
        .ok_or_else(|| Malformed("no message headers".into()))?;
    if msg.headers().iter().all(|h| h.name.as_str().is_empty()) {
        return Err(Malformed("no message headers".into()));
    }
    let hash = hex::encode(Sha256::digest(match msg.message_id() {
        Some(id) if !id.trim().is_empty() => format!("mid:{}", id.trim()).into_bytes(),
        _ => raw.to_vec(),
    }));
    let date = msg
        .date()
        .and_then(|d| DateTime::parse_from_rfc3339(&d.to_rfc3339()).ok())
        .map(|d| d.with_timezone(&Utc));
    let mut tokens = tokens_in(&raw_fields(
        &msg,
        &["To", "Delivered-To", "X-Original-To", "Envelope-To"],
    ));
    let report_type = msg
        .content_type()
        .filter(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        })
        .and_then(|ct| ct.attribute("report-type"))
        .map(str::to_ascii_lowercase);
    let returned = returned_headers(&msg);
    let mut quoted_message_ids: Vec<String> = returned
        .as_ref()
        .and_then(|r| r.message_id().map(|s| s.to_string()))
        .into_iter()
        .collect();
    if let Some(r) = &returned {
        tokens.extend(tokens_in(&raw_fields(r, &["Return-Path"])));
    }
    let report = match report_type.as_deref() {
        Some("delivery-status") => {
            let fields = status_part(&msg, &["delivery-status", "global-delivery-status"])
                .ok_or_else(|| {
                    Malformed("a delivery report without its message/delivery-status part".into())
                })?;
            let blocks = field_blocks(&fields);
            if let Some(first) = blocks.first() {
                tokens.extend(tokens_in(&[
                    field(first, "X-Postfix-Sender").unwrap_or_default()
                ]));
            }
            dsn_report(&blocks)?
        }
        Some("feedback-report") => {
            let fields = status_part(&msg, &["feedback-report"]).ok_or_else(|| {
                Malformed("a feedback report without its message/feedback-report part".into())
            })?;
            let blocks = field_blocks(&fields);
            let block = blocks
                .first()
                .ok_or_else(|| Malformed("a feedback report with no fields (truncated?)".into()))?;
            tokens.extend(tokens_in(&[
                field(block, "Original-Mail-From").unwrap_or_default()
            ]));
            if let Some(r) = &returned {
                quoted_message_ids.extend(replied_to(r));
            }
            arf_report(block, returned.as_ref())?
        }
        _ => match autoreply(&msg) {
            Some(why) => Report::Ignored(why),
            None => Report::Ignored("not a delivery or feedback report".into()),
        },
    };
    let mut seen = std::collections::HashSet::new();
    tokens.retain(|t| seen.insert(t.clone()));
    let mut seen = std::collections::HashSet::new();
    quoted_message_ids.retain(|id| !id.trim().is_empty() && seen.insert(id.clone()));
    quoted_message_ids.truncate(MAX_QUOTED_IDS);
    Ok(Parsed {
        hash,
        date,
        tokens,
        quoted_message_ids,
        report,
    })
}

/// Message-IDs looked up per report at most: a `References` field can be long, and a
/// delivery's own Message-ID comes first.
const MAX_QUOTED_IDS: usize = 20;

/// The Message-IDs the complained-about message answers (`In-Reply-To`, `References`).
fn replied_to(msg: &Message<'_>) -> Vec<String> {
    [msg.in_reply_to(), msg.references()]
        .into_iter()
        .filter_map(|v| v.as_text_list())
        .flatten()
        .map(|id| id.to_string())
        .collect()
}

/// Why a message is an automatic reply (RFC 3834 `Auto-Submitted`, and the headers
/// vacation programs use), or `None`.
fn autoreply(msg: &Message<'_>) -> Option<String> {
    let get = |name: &str| raw_fields(msg, &[name]).into_iter().next();
    if let Some(v) = get("Auto-Submitted") {
        let v = v.trim().to_ascii_lowercase();
        if !v.is_empty() && !v.starts_with("no") {
            return Some(format!("autoreply (Auto-Submitted: {v})"));
        }
    }
    for h in ["X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"] {
        if get(h).is_some() {
            return Some(format!("autoreply ({h})"));
        }
    }
    if let Some(v) = get("Precedence") {
        let v = v.trim().to_ascii_lowercase();
        if matches!(v.as_str(), "auto_reply" | "bulk" | "junk" | "list") {
            return Some(format!("autoreply (Precedence: {v})"));
        }
    }
    None
}

/// The per-recipient verdict of a DSN: the first recipient whose action is `failed` (or,
/// lacking an Action, whose status is 4 or 5), else the report is ignored.
fn dsn_report(blocks: &[Vec<(String, String)>]) -> Result<Report, Malformed> {
    let recipients = blocks.get(1..).unwrap_or_default();
    if recipients.is_empty() {
        return Err(Malformed(
            "a delivery report with no per-recipient fields (truncated?)".into(),
        ));
    }
    let mut other_action = None;
    for block in recipients {
        let action = field(block, "Action").map(|a| a.trim().to_ascii_lowercase());
        let status = field(block, "Status").map(|s| first_word(&s));
        let diagnostic = field(block, "Diagnostic-Code").map(|d| one_line(&d));
        let class = status
            .as_deref()
            .and_then(|s| s.chars().next())
            .or_else(|| smtp_class(diagnostic.as_deref()?));
        if action.is_none() && status.is_none() {
            continue;
        }
        let recipient = field(block, "Original-Recipient")
            .or_else(|| field(block, "Final-Recipient"))
            .map(|r| address_of_type(&r));
        let failed = match action.as_deref() {
            Some("failed") => true,
            None => matches!(class, Some('4' | '5')),
            Some(a) => {
                other_action.get_or_insert(a.to_string());
                false
            }
        };
        if !failed {
            continue;
        }
        let kind = match class {
            Some('5') => BounceKind::Hard,
            Some('4') => BounceKind::Soft,
            // A failure without a status class: the server gave up for good.
            _ => BounceKind::Hard,
        };
        let status = status.unwrap_or_else(|| "unknown".into());
        let mut reason = status.clone();
        if let Some(d) = &diagnostic {
            reason.push(' ');
            reason.push_str(d);
        }
        return Ok(Report::Bounce {
            kind,
            recipient,
            status,
            reason,
        });
    }
    match other_action {
        Some(a) => Ok(Report::Ignored(format!("delivery report with action {a}"))),
        None => Err(Malformed(
            "a delivery report without Action or Status for any recipient (truncated?)".into(),
        )),
    }
}

fn arf_report(
    block: &[(String, String)],
    returned: Option<&Message<'_>>,
) -> Result<Report, Malformed> {
    let feedback_type = field(block, "Feedback-Type")
        .map(|t| first_word(&t).to_ascii_lowercase())
        .ok_or_else(|| Malformed("a feedback report without Feedback-Type".into()))?;
    if feedback_type == "not-spam" {
        return Ok(Report::Ignored("feedback report of type not-spam".into()));
    }
    let recipient = field(block, "Original-Rcpt-To")
        .map(|r| address_of_type(&r))
        .or_else(|| {
            returned.and_then(|m| {
                m.to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .map(str::to_string)
            })
        });
    let mut reason = format!("Feedback-Type: {feedback_type}");
    if let Some(agent) = field(block, "User-Agent") {
        reason.push_str(&format!(" from {}", one_line(&agent)));
    }
    Ok(Report::Complaint {
        feedback_type,
        recipient,
        reason,
    })
}

/// The content of the first part of type `message/{subtype}` (any of them).
fn status_part(msg: &Message<'_>, subtypes: &[&str]) -> Option<String> {
    msg.parts.iter().find_map(|p| {
        let ct = p.content_type()?;
        let sub = ct.subtype()?;
        (ct.ctype().eq_ignore_ascii_case("message")
            && subtypes.iter().any(|s| s.eq_ignore_ascii_case(sub)))
        .then(|| String::from_utf8_lossy(p.contents()).into_owned())
    })
}

/// The headers of the returned message: a `message/rfc822` part, or a
/// `text/rfc822-headers` part parsed as headers.
fn returned_headers<'a>(msg: &'a Message<'a>) -> Option<Message<'a>> {
    msg.parts.iter().skip(1).find_map(|p| match &p.body {
        PartType::Message(m) => Some(m.clone()),
        PartType::Text(t)
            if p.content_type().is_some_and(|ct| {
                ct.subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))
            }) =>
        {
            let owned = t.to_string().into_bytes();
            MessageParser::default()
                .parse_headers(&owned)
                .map(|m| m.into_owned())
        }
        _ => None,
    })
}

/// Raw values of the named top-level header fields, unfolded.
fn raw_fields(msg: &Message<'_>, names: &[&str]) -> Vec<String> {
    msg.headers()
        .iter()
        .filter(|h| {
            names
                .iter()
                .any(|n| h.name.as_str().eq_ignore_ascii_case(n))
        })
        .filter_map(|h| {
            let bytes = msg
                .raw_message
                .get(h.offset_start as usize..h.offset_end as usize)?;
            Some(one_line(&String::from_utf8_lossy(bytes)))
        })
        .collect()
}

/// The blocks of `name: value` fields of a status part (RFC 3464 §2.1: the per-message
/// block, then one per recipient), separated by blank lines; continuation lines unfolded.
/// Lines that are not fields are skipped.
fn field_blocks(text: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut block: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if !block.is_empty() {
                blocks.push(std::mem::take(&mut block));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = block.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            block.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    if !block.is_empty() {
        blocks.push(block);
    }
    blocks
}

fn field(block: &[(String, String)], name: &str) -> Option<String> {
    block
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// `rfc822; ada@example.org` → `ada@example.org`.
fn address_of_type(value: &str) -> String {
    let v = value.split_once(';').map_or(value, |(_, a)| a);
    v.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

fn first_word(s: &str) -> String {
    s.split_whitespace().next().unwrap_or_default().to_string()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `smtp; 550 5.1.1 …` → `'5'`.
fn smtp_class(diagnostic: &str) -> Option<char> {
    let text = diagnostic.split_once(';').map_or(diagnostic, |(_, t)| t);
    let code = text.split_whitespace().next()?;
    (code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| code.chars().next())
        .flatten()
}

/// Every VERP token in these header values.
fn tokens_in(values: &[String]) -> Vec<(i64, String)> {
    values
        .iter()
        .flat_map(|v| {
            v.split(|c: char| c.is_whitespace() || "<>,;:\"()[]".contains(c))
                .filter(|w| w.contains('@') && w.contains('+'))
                .filter_map(crate::delivery::verp::parse_token)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_blocks_unfold_continuations_and_split_on_blank_lines() {
        let text = "Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; a@x\r\nDiagnostic-Code: smtp; 550\r\n  no such user\r\n\r\n";
        let b = field_blocks(text);
        assert_eq!(b.len(), 2);
        assert_eq!(
            field(&b[1], "diagnostic-code").as_deref(),
            Some("smtp; 550 no such user")
        );
        assert_eq!(address_of_type("rfc822; <A@x>"), "A@x");
        assert_eq!(smtp_class("smtp; 452 4.2.2 full"), Some('4'));
        assert_eq!(smtp_class("X-Postfix; unknown user"), None);
    }

    #[test]
    fn nothing_at_all_is_malformed_and_garbage_never_panics() {
        assert!(parse(b"").is_err());
        assert!(parse(b"\r\n\r\n").is_err());
        for raw in [
            &b"\xff\xfe\x00garbage"[..],
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nStat",
            b"Subject: \xc3\r\n\r\n\xc3\xa9",
            b"From x\n",
        ] {
            let _ = parse(raw);
        }
    }
}
