//! A rendered digest (or any HTML + text pair) to a lettre [`Message`] with every header a
//! bulk sender needs: Message-ID on our domain, Date, Reply-To, `List-Id`,
//! `List-Unsubscribe` (https, one-click per RFC 8058) and `List-Unsubscribe-Post`.
use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::{
    ContentTransferEncoding, ContentType, HeaderName, HeaderValue, MIME_VERSION_1_0,
};
use lettre::message::{Body, Mailbox, MultiPart};

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

/// Builds the `multipart/alternative` message (text first, then HTML, as RFC 2046 orders
/// them from plainest to richest).
pub fn build_message(
    settings: &MessageSettings,
    out: Outgoing<'_>,
) -> Result<Message, lettre::error::Error> {
    let mut builder = Message::builder()
        .from(settings.from.clone())
        .to(out.to)
        .subject(out.subject)
        .date(out.date.into())
        .message_id(Some(out.message_id.to_string()));
    if let Some(r) = &settings.reply_to {
        builder = builder.reply_to(r.clone());
    }
    // The multipart's own headers (Content-Type with the boundary) are lifted into the
    // message's header block and the parts become its raw body. lettre would otherwise keep
    // Content-Type inside the body, where its DKIM signer neither hashes it as a header nor
    // leaves it out of the body hash: a signature covering Content-Type would not verify.
    let alternative = MultiPart::alternative_plain_html(out.text, out.html);
    let content_type = alternative
        .headers()
        .get::<ContentType>()
        .expect("a multipart has a Content-Type");
    let mut formatted = alternative.formatted();
    let body_at = find(&formatted, b"\r\n\r\n").map_or(0, |i| i + 4);
    formatted.drain(..body_at);
    // The parts are already transfer-encoded (7bit, quoted-printable or base64) by lettre.
    let encoding = if formatted.is_ascii() {
        ContentTransferEncoding::SevenBit
    } else {
        ContentTransferEncoding::EightBit
    };
    let body = Body::dangerous_pre_encoded(formatted, encoding);
    let mut message = builder
        .header(MIME_VERSION_1_0)
        .header(content_type)
        .body(body)?;
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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

    #[test]
    fn message_ids_are_unique_and_on_our_domain() {
        let a = new_message_id("x", "example.org");
        assert!(a.starts_with("<x.") && a.ends_with("@example.org>"));
        assert_ne!(a, new_message_id("x", "example.org"));
    }
}
