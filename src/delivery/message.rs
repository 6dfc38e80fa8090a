//! A rendered digest (or any HTML + text pair) to a lettre [`Message`] with every header a
//! bulk sender needs: Message-ID on our domain, Date, Reply-To, `List-Id`,
//! `List-Unsubscribe` (https, one-click per RFC 8058) and `List-Unsubscribe-Post`.
use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::{
    ContentTransferEncoding, ContentType, HeaderName, HeaderValue, MIME_VERSION_1_0,
};
use lettre::message::{Body, Mailbox};

/// Sender-wide settings, parsed from config once.
#[derive(Debug, Clone)]
pub struct MessageSettings {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    /// `List-Id` value without angle brackets, e.g. `weekly.papers.example.org`.
    pub list_id: String,
    /// Human name shown in `List-Id`.
    pub list_name: String,
    /// Domain for generated Message-IDs.
    pub message_id_domain: String,
}

/// One outgoing email.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub to: Mailbox,
    pub subject: &'a str,
    pub text: String,
    pub html: String,
    /// Full Message-ID with angle brackets, stable across retries.
    pub message_id: &'a str,
    /// One-click unsubscribe URL; `None` for mail that is not list traffic (confirmations).
    pub unsubscribe_url: Option<&'a str>,
    pub date: DateTime<Utc>,
}

/// A new Message-ID on our domain: `<{tag}.{128 random bits}@{domain}>`.
pub fn new_message_id(tag: &str, domain: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("<{tag}.{}@{domain}>", hex::encode(bytes))
}

const LIST_UNSUBSCRIBE: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe");
const LIST_UNSUBSCRIBE_POST: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");
const LIST_ID: HeaderName = HeaderName::new_from_ascii_str("List-Id");
const AUTO_SUBMITTED: HeaderName = HeaderName::new_from_ascii_str("Auto-Submitted");

/// Why a message cannot be built. Building is deterministic, so either error holds for
/// every later attempt at the same message: a delivery that meets one fails for good,
/// naming the header (the reader's other mail and everybody else's are not affected).
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// A header value that cannot be written as it is (a display name with a line break,
    /// a Message-ID or URL with spaces or control characters, a line too long to send).
    #[error("the {field} header cannot be written: {reason}")]
    Header { field: &'static str, reason: String },
    #[error("the message cannot be built: {0}")]
    Build(#[from] lettre::error::Error),
}

impl MessageError {
    pub fn header(field: &'static str, reason: impl Into<String>) -> MessageError {
        MessageError::Header {
            field,
            reason: reason.into(),
        }
    }
}

/// Builds the `multipart/alternative` message (text first, then HTML, as RFC 2046 orders
/// them from plainest to richest).
///
/// Every value is checked before lettre sees it: lettre panics on a display name it cannot
/// write (a CR or LF in it: "a Display implementation returned an error unexpectedly"),
/// and would RFC 2047-encode a raw header value instead of refusing it. A value that cannot
/// go into its header is a [`MessageError::Header`] naming it.
pub fn build_message(
    settings: &MessageSettings,
    out: Outgoing<'_>,
) -> Result<Message, MessageError> {
    check_mailbox("From", &settings.from)?;
    if let Some(r) = &settings.reply_to {
        check_mailbox("Reply-To", r)?;
    }
    check_mailbox("To", &out.to)?;
    check_token("Message-ID", out.message_id)?;
    if !(out.message_id.starts_with('<') && out.message_id.ends_with('>')) {
        return Err(MessageError::header(
            "Message-ID",
            format!(
                "`{}` is not in angle brackets",
                out.message_id.escape_debug()
            ),
        ));
    }
    if let Some(url) = out.unsubscribe_url {
        check_token("List-Unsubscribe", url)?;
    }
    let mut builder = Message::builder()
        .from(settings.from.clone())
        .to(out.to)
        .subject(out.subject)
        .date(out.date.into())
        .message_id(Some(out.message_id.to_string()));
    if let Some(r) = &settings.reply_to {
        builder = builder.reply_to(r.clone());
    }
    // The multipart/alternative body is assembled here, and its Content-Type (with the
    // boundary) goes into the message's own header block. Two reasons:
    // - lettre keeps a multipart's Content-Type inside the body, where its DKIM signer
    //   neither hashes it as a header nor leaves it out of the body hash, so a signature
    //   covering Content-Type would not verify;
    // - lettre's generic encoder (pick an encoding, normalise line ends, quoted-printable
    //   byte by byte) was the largest cost of a whole send; `encode_part` does the same job
    //   in one pass.
    let boundary = new_boundary();
    let mut body = Vec::with_capacity((out.text.len() + out.html.len()) * 11 / 10 + 512);
    for (mime, content) in [("text/plain", &out.text), ("text/html", &out.html)] {
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"\r\nContent-Type: ");
        body.extend_from_slice(mime.as_bytes());
        body.extend_from_slice(b"; charset=utf-8\r\nContent-Transfer-Encoding: ");
        encode_part(content, &mut body);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"--\r\n");
    let content_type =
        ContentType::parse(&format!("multipart/alternative; boundary=\"{boundary}\""))
            .map_err(|e| MessageError::header("Content-Type", e.to_string()))?;
    let mut message =
        builder
            .header(MIME_VERSION_1_0)
            .header(content_type)
            .body(Body::dangerous_pre_encoded(
                body,
                ContentTransferEncoding::SevenBit,
            ))?;
    let headers = message.headers_mut();
    if let Some(url) = out.unsubscribe_url {
        headers.insert_raw(HeaderValue::new(LIST_UNSUBSCRIBE, format!("<{url}>")));
        headers.insert_raw(HeaderValue::new(
            LIST_UNSUBSCRIBE_POST,
            "List-Unsubscribe=One-Click".to_string(),
        ));
        headers.insert_raw(HeaderValue::new(
            LIST_ID,
            format!(
                "{} <{}>",
                sanitize_phrase(&settings.list_name),
                settings.list_id
            ),
        ));
    } else {
        headers.insert_raw(HeaderValue::new(
            AUTO_SUBMITTED,
            "auto-generated".to_string(),
        ));
    }
    Ok(message)
}

/// The longest header value checked here, in bytes: a header line may hold 998 (RFC 5322
/// 2.1.1), and a value without spaces cannot be folded, so it must fit on the line with
/// its name.
const MAX_UNFOLDED: usize = 900;

/// A mailbox whose display name lettre can write: no control characters (a CR or LF would
/// make lettre panic; others would end up quoted in the header) and not longer than a
/// header line.
fn check_mailbox(field: &'static str, mailbox: &Mailbox) -> Result<(), MessageError> {
    use std::fmt::Write;
    let Some(name) = &mailbox.name else {
        return Ok(());
    };
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(MessageError::header(
            field,
            format!(
                "the display name `{}` contains the control character U+{:04X}",
                name.escape_debug(),
                u32::from(c)
            ),
        ));
    }
    if name.len() > MAX_UNFOLDED {
        return Err(MessageError::header(
            field,
            format!("the display name is {} bytes long", name.len()),
        ));
    }
    // Whatever else lettre's writer refuses, refused here rather than in its panic.
    let mut shown = String::new();
    write!(shown, "{mailbox}").map_err(|_| {
        MessageError::header(
            field,
            format!(
                "the display name `{}` cannot be written",
                name.escape_debug()
            ),
        )
    })
}

/// A value written as one word (a Message-ID, a URL): printable ASCII without spaces, short
/// enough for one header line.
fn check_token(field: &'static str, value: &str) -> Result<(), MessageError> {
    if value.is_empty() {
        return Err(MessageError::header(field, "it is empty"));
    }
    if let Some(c) = value.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(MessageError::header(
            field,
            format!(
                "`{}` contains U+{:04X}; only printable ASCII without spaces fits",
                value.escape_debug(),
                u32::from(c)
            ),
        ));
    }
    if value.len() > MAX_UNFOLDED {
        return Err(MessageError::header(
            field,
            format!("the value is {} bytes long", value.len()),
        ));
    }
    Ok(())
}

/// A MIME boundary: 32 random alphanumerics (never found in quoted-printable output by
/// chance, and `=_` makes it impossible there: QP writes `=` only before hex digits or CRLF).
fn new_boundary() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let tail: String = (0..32)
        .map(|_| rng.sample(rand::distr::Alphanumeric) as char)
        .collect();
    format!("=_{tail}")
}

/// Appends `7bit\r\n\r\n{text}` when the text is ASCII with lines of at most 998
/// characters, else `quoted-printable\r\n\r\n{encoded}`; either way with CRLF line ends.
fn encode_part(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let seven_bit = bytes.is_ascii()
        && !bytes.contains(&0)
        && bytes.split(|b| *b == b'\n').all(|l| l.len() <= 998);
    if seven_bit {
        out.extend_from_slice(b"7bit\r\n\r\n");
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
        }
    } else {
        out.extend_from_slice(b"quoted-printable\r\n\r\n");
        quoted_printable(bytes, out);
    }
}

/// Quoted-printable (RFC 2045 6.7): printable ASCII but `=` as is, every other byte as
/// `=XX`, lines of at most 76 characters (soft breaks `=\r\n`), LF or CRLF line ends as
/// CRLF, and a space or tab before a line end encoded so transports cannot strip it.
fn quoted_printable(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    const MAX: usize = 76;
    /// Bytes written as they are: printable ASCII but `=`, space and tab.
    const LITERAL: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0x20;
        while b <= 0x7e {
            t[b] = b != b'=' as usize;
            b += 1;
        }
        t[b'\t' as usize] = true;
        t
    };
    let hard_break = |out: &mut Vec<u8>, col: &mut usize| {
        if let Some(&last @ (b' ' | b'\t')) = out.last() {
            out.pop();
            if *col + 2 > MAX {
                out.extend_from_slice(b"=\r\n");
                *col = 0;
            }
            out.extend_from_slice(if last == b' ' { b"=20" } else { b"=09" });
        }
        out.extend_from_slice(b"\r\n");
        *col = 0;
    };
    out.reserve(bytes.len() + bytes.len() / 8);
    let mut col = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Copy the run of literal bytes that fits on this line (leaving room for the `=`
        // of a soft break) in one go: most of an HTML digest is such runs.
        let room = MAX - 1 - col;
        let end = bytes.len().min(i + room);
        let run = bytes[i..end]
            .iter()
            .position(|&b| !LITERAL[b as usize])
            .unwrap_or(end - i);
        out.extend_from_slice(&bytes[i..i + run]);
        col += run;
        i += run;
        if i == bytes.len() {
            break;
        }
        let b = bytes[i];
        if run == room && LITERAL[b as usize] {
            out.extend_from_slice(b"=\r\n");
            col = 0;
        } else if b == b'\n' {
            hard_break(out, &mut col);
            i += 1;
        } else if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            hard_break(out, &mut col);
            i += 2;
        } else {
            if col + 3 > MAX - 1 {
                out.extend_from_slice(b"=\r\n");
                col = 0;
            }
            out.extend_from_slice(&[b'=', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            col += 3;
            i += 1;
        }
    }
    if matches!(out.last(), Some(b' ' | b'\t')) {
        // Trailing whitespace at the very end: encoded like before a line end.
        hard_break(out, &mut col);
        out.truncate(out.len() - 2);
    }
}

/// A display name for `List-Id`, kept to characters that need no quoting.
fn sanitize_phrase(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MessageSettings {
        MessageSettings {
            from: "paperpost <digest@example.org>".parse().unwrap(),
            reply_to: Some("editor@example.org".parse().unwrap()),
            list_id: "weekly.papers.example.org".into(),
            list_name: "paperpost weekly".into(),
            message_id_domain: "example.org".into(),
        }
    }

    #[test]
    fn a_digest_message_has_both_parts_and_every_list_header() {
        let id = new_message_id("e1.s1", "example.org");
        let msg = build_message(
            &settings(),
            Outgoing {
                to: "ada@example.org".parse().unwrap(),
                subject: "3 new papers",
                text: "text part".into(),
                html: "<p>html part</p>".into(),
                message_id: &id,
                unsubscribe_url: Some("https://papers.example.org/unsubscribe/1.abc"),
                date: Utc::now(),
            },
        )
        .unwrap();
        let raw = String::from_utf8(msg.formatted()).unwrap();
        assert!(raw.contains(&format!("Message-ID: {id}")), "{raw}");
        assert!(raw.contains("List-Unsubscribe: <https://papers.example.org/unsubscribe/1.abc>"));
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(raw.contains("List-Id: paperpost weekly <weekly.papers.example.org>"));
        assert!(raw.contains("Reply-To: editor@example.org"));
        assert!(raw.contains("multipart/alternative"));
        let text_at = raw.find("text/plain").unwrap();
        let html_at = raw.find("text/html").unwrap();
        assert!(text_at < html_at, "text part must come first");
    }

    /// Decodes quoted-printable (for the round trip below).
    fn qp_decode(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'=' if s[i + 1..].starts_with(b"\r\n") => i += 3,
                b'=' => {
                    let hex = std::str::from_utf8(&s[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 3;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        out
    }

    #[test]
    fn quoted_printable_round_trips_and_keeps_lines_short() {
        let long = "é".repeat(60) + &"x".repeat(200) + " \nend \t\r\n= trailing ";
        let pieces = ["a", "xyz", " ", "\t", "=", "é", "\n", "\r\n", ".", "—"];
        let random: Vec<String> = (0..300)
            .map(|_| {
                (0..rand::random_range(0..400))
                    .map(|_| pieces[rand::random_range(0..pieces.len())])
                    .collect()
            })
            .collect();
        let fixed = [long.as_str(), "", "plain", "a=b", " ", "\u{1F600} emoji\n"];
        for text in fixed.into_iter().chain(random.iter().map(String::as_str)) {
            let mut enc = Vec::new();
            quoted_printable(text.as_bytes(), &mut enc);
            assert!(enc.is_ascii());
            for line in enc.split(|b| *b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                assert!(line.len() <= 76, "{}", String::from_utf8_lossy(line));
                assert!(!matches!(line.last(), Some(b' ' | b'\t')), "{text:?}");
            }
            let expected = text.replace("\r\n", "\n").replace('\n', "\r\n");
            assert_eq!(String::from_utf8(qp_decode(&enc)).unwrap(), expected);
            // The same text read back by an independent parser (mail-parser) as a whole
            // message, whichever encoding the part got.
            let id = new_message_id("qp", "example.org");
            let msg = build_message(
                &settings(),
                Outgoing {
                    to: "ada@example.org".parse().unwrap(),
                    subject: "qp",
                    text: text.to_string(),
                    html: "<p>x</p>".into(),
                    message_id: &id,
                    unsubscribe_url: None,
                    date: Utc::now(),
                },
            )
            .unwrap();
            let raw = msg.formatted();
            let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
            if !text.is_empty() {
                assert_eq!(parsed.body_text(0).unwrap(), expected, "{text:?}");
            }
        }
    }

    #[test]
    fn parts_read_back_with_an_independent_parser() {
        let id = new_message_id("e1.s1", "example.org");
        let text = "Grüße — 3 papers\n\n.leading dot\nhttps://arxiv.org/abs/2410.1".to_string();
        let html = format!("<p>{}</p>", "Ünïcode ".repeat(400));
        let msg = build_message(
            &settings(),
            Outgoing {
                to: "ada@example.org".parse().unwrap(),
                subject: "Grüße",
                text: text.clone(),
                html: html.clone(),
                message_id: &id,
                unsubscribe_url: Some("https://papers.example.org/unsubscribe/1.abc"),
                date: Utc::now(),
            },
        )
        .unwrap();
        let raw = msg.formatted();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.body_text(0).unwrap(), text.replace('\n', "\r\n"));
        assert_eq!(parsed.body_html(0).unwrap(), html);
        assert_eq!(parsed.subject(), Some("Grüße"));
    }

    #[test]
    fn message_ids_are_unique_and_on_our_domain() {
        let a = new_message_id("x", "example.org");
        assert!(a.starts_with("<x.") && a.ends_with("@example.org>"));
        assert_ne!(a, new_message_id("x", "example.org"));
    }
}
