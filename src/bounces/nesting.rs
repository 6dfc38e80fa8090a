//! How deep a message nests, found before mail-parser builds it. mail-parser reads the MIME
//! structure with a loop, but the message it returns is a tree (an enclosed `message/rfc822`
//! holds its own parts), and dropping, cloning or owning that tree recurses once per level:
//! 10,000 levels overflow the stack. So [`check`] walks the structure first, with the
//! parser's own stream primitives and in the order its loop takes them
//! (`mail_parser::parsers::message`, version pinned in Cargo.toml), without building
//! anything, and refuses a message nested deeper than [`MAX_NESTING`]. Bodies that the
//! parser decodes and parses again (a base64 or quoted-printable `message/*` part, at most
//! three levels of it) are decoded and walked the same way.
//!
//! Written by hand because mail-parser has no setting for this: its only limit is on the
//! re-parsed encoded bodies, not on the plain nesting that overflows.
use mail_parser::parsers::MessageStream;
use mail_parser::{ContentType, GetHeader, HeaderName, HeaderValue, MessageParser};

/// Multiparts and enclosed messages inside one another. A bounce report needs four or so
/// (the report, the returned message, its alternative and related parts).
pub const MAX_NESTING: usize = 32;

/// How many times mail-parser parses a decoded `message/*` body again (its
/// `MAX_NESTED_ENCODED`).
const ENCODED_REPARSES: usize = 3;

/// A message nested deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "MIME parts nested deeper than {MAX_NESTING} levels (the limit; multiparts and enclosed messages count)"
)]
pub struct TooDeep;

/// `Ok` with the message's nesting depth when it is at most [`MAX_NESTING`].
pub fn check(raw: &[u8]) -> Result<usize, TooDeep> {
    let depth = depth(
        &MessageParser::default(),
        raw,
        ENCODED_REPARSES,
        MAX_NESTING + 1,
    );
    if depth > MAX_NESTING {
        Err(TooDeep)
    } else {
        Ok(depth)
    }
}

/// The kinds of part that matter to nesting (mail-parser's `MimeType`, reduced).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Message,
    Digest,
    OtherMultipart,
    TextPlain,
    Other,
}

/// One open level: its kind and the boundary that ends its parts.
struct Level {
    kind: Kind,
    boundary: Option<Vec<u8>>,
}

/// mail-parser's `mime_type`: whether the part is a multipart, and its kind.
fn kind_of(ct: Option<&ContentType<'_>>, parent: Kind) -> (bool, Kind) {
    match ct {
        Some(ct) => match ct.ctype() {
            "multipart" => (
                true,
                if ct.subtype() == Some("digest") {
                    Kind::Digest
                } else {
                    Kind::OtherMultipart
                },
            ),
            "text" if ct.subtype() == Some("plain") => (false, Kind::TextPlain),
            "message" if matches!(ct.subtype(), Some("rfc822" | "global")) => {
                (false, Kind::Message)
            }
            _ => (false, Kind::Other),
        },
        None if parent == Kind::Digest => (false, Kind::Message),
        None => (false, Kind::TextPlain),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    None,
    Base64,
    QuotedPrintable,
}

/// The deepest nesting of `raw` as mail-parser would build it, counting up to `stop` (a
/// walk stops as soon as it gets there). `reparses` is how many more times a decoded body
/// is parsed again. Mirrors `MessageParser::parse_` step by step where the stream moves;
/// where the parser gives up on a broken structure (it stops reading), the walk may read
/// on, which can only find more depth, never less.
fn depth(parser: &MessageParser, raw: &[u8], reparses: usize, stop: usize) -> usize {
    let mut stream = MessageStream::new(raw);
    let mut stack: Vec<Level> = Vec::new();
    let mut state = Level {
        kind: Kind::Message,
        boundary: None,
    };
    let mut deepest = 0;
    let mut headers = Vec::new();
    'outer: loop {
        headers.clear();
        if !stream.parse_headers(parser, &mut headers) {
            break;
        }
        let ct = headers
            .header_value(&HeaderName::ContentType)
            .and_then(|c| c.as_content_type());
        let (is_multipart, mut kind) = kind_of(ct, state.kind);
        if is_multipart && let Some(boundary) = ct.and_then(|c| c.attribute("boundary")) {
            if stream.seek_next_part(boundary.as_bytes()) {
                let inner = Level {
                    kind,
                    boundary: Some(boundary.as_bytes().to_vec()),
                };
                stack.push(std::mem::replace(&mut state, inner));
                deepest = deepest.max(stack.len());
                if deepest >= stop {
                    return deepest;
                }
                stream.skip_crlf();
                continue;
            }
            kind = Kind::Other;
        }
        let encoding = match headers.header_value(&HeaderName::ContentTransferEncoding) {
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("base64") => Encoding::Base64,
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("quoted-printable") => {
                Encoding::QuotedPrintable
            }
            _ => Encoding::None,
        };
        if kind == Kind::Message && encoding == Encoding::None {
            let inner = Level {
                kind: Kind::Message,
                boundary: state.boundary.take(),
            };
            stack.push(std::mem::replace(&mut state, inner));
            deepest = deepest.max(stack.len());
            if deepest >= stop {
                return deepest;
            }
            continue;
        }
        let boundary = state.boundary.clone().unwrap_or_default();
        let (end, body) = match encoding {
            Encoding::Base64 => stream.decode_base64_mime(&boundary),
            Encoding::QuotedPrintable => stream.decode_quoted_printable_mime(&boundary),
            Encoding::None => stream.mime_part(&boundary),
        };
        if end == usize::MAX {
            // Undecodable: the parser keeps the raw text and seeks the part's end.
            let (_, found) = stream.seek_part_end(state.boundary.as_deref());
            if !found {
                state.boundary = None;
            }
        } else if kind == Kind::Message && reparses > 0 {
            // An encoded enclosed message: parsed again, one level below this part.
            let here = stack.len() + 1;
            let inner = depth(parser, &body, reparses - 1, stop.saturating_sub(here));
            deepest = deepest.max(here + inner);
            if deepest >= stop {
                return deepest;
            }
        }
        if state.boundary.is_some() {
            loop {
                if state.kind == Kind::Message {
                    // The enclosed message ended with its only part.
                    let Some(mut outer) = stack.pop() else {
                        break 'outer;
                    };
                    outer.boundary = state.boundary.take();
                    state = outer;
                }
                if stream.is_multipart_end() {
                    if let Some(outer) = stack.pop() {
                        state = outer;
                        if let Some(b) = &state.boundary
                            && stream.seek_next_part_offset(b).is_some()
                        {
                            continue;
                        }
                    }
                    break 'outer;
                }
                break;
            }
        } else if stream.offset() >= stream.len() {
            break;
        }
    }
    deepest
}

/// How deep a parsed message actually nests (multiparts and enclosed messages), walked
/// without recursion: what [`check`] must never underestimate (the fuzz target `bounce`
/// compares them). Stops past four times [`MAX_NESTING`].
pub(crate) fn parsed_depth(msg: &mail_parser::Message<'_>) -> usize {
    use mail_parser::PartType;
    let mut deepest = 0;
    let mut todo: Vec<(&mail_parser::Message<'_>, usize, usize)> = vec![(msg, 0, 0)];
    while let Some((m, part, level)) = todo.pop() {
        let Some(p) = m.parts.get(part) else {
            continue;
        };
        deepest = deepest.max(level);
        if deepest > 4 * MAX_NESTING {
            break;
        }
        match &p.body {
            PartType::Multipart(children) => {
                for c in children {
                    todo.push((m, *c as usize, level + 1));
                }
            }
            PartType::Message(inner) => todo.push((inner, 0, level + 1)),
            _ => {}
        }
    }
    deepest
}

/// Drops a parsed message that may be nested deeper than [`MAX_NESTING`] on a thread with a
/// stack sized for it: dropping mail-parser's tree recurses once per level, and every level
/// takes at least ~30 bytes of input (`Content-Type: message/rfc822` and a blank line), so
/// a stack of 1 KiB per 16 input bytes (plus 1 MiB) is ample. The stack is reserved, not
/// committed: only the pages the drop touches are used.
pub(crate) fn drop_deep<T: Send>(value: T, raw_len: usize) {
    let stack = (raw_len / 16).saturating_mul(1024).saturating_add(1 << 20);
    // If no thread can be started, the closure (and so the value) is dropped here: as
    // `ManuallyDrop`, it is then leaked instead of overflowing this stack.
    let value = std::mem::ManuallyDrop::new(value);
    std::thread::scope(|scope| {
        let dropped = std::thread::Builder::new()
            .name("deep-drop".into())
            .stack_size(stack)
            .spawn_scoped(scope, move || {
                drop(std::mem::ManuallyDrop::into_inner(value))
            });
        match dropped {
            Ok(handle) => {
                let _ = handle.join();
            }
            // No thread to be had: leak it rather than overflow this stack.
            Err(e) => {
                tracing::warn!(error = %e, "could not start a thread to drop a deep message; leaking it");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize, encoded_last: bool) -> Vec<u8> {
        let mut m = b"From: a@x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n".to_vec();
        for _ in 0..depth {
            m.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
        }
        if encoded_last {
            use base64::Engine as _;
            let inner = String::from_utf8(nested(depth, false)).unwrap();
            let b64 = base64::engine::general_purpose::STANDARD.encode(inner);
            m.extend_from_slice(
                format!("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n")
                    .as_bytes(),
            );
        } else {
            m.extend_from_slice(b"Subject: x\r\n\r\nbody\r\n");
        }
        m.extend_from_slice(b"--b--\r\n");
        m
    }

    fn parsed(raw: &[u8]) -> usize {
        parsed_depth(&MessageParser::default().parse(raw).unwrap())
    }

    #[test]
    fn the_walk_finds_the_depth_the_parser_builds() {
        for d in [0, 1, 2, 5, 20] {
            // The multipart, then `d` messages one inside the other.
            let raw = nested(d, false);
            assert_eq!(check(&raw), Ok(d + 1), "depth {d}");
            assert!(parsed(&raw) <= d + 1, "depth {d}: {}", parsed(&raw));
        }
        // A base64 enclosed message is parsed again: its inside counts too.
        let raw = nested(3, true);
        let found = check(&raw).unwrap();
        assert!(found >= parsed(&raw) && found >= 8, "{found}");
        let dsn = b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; a@x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n--y\r\nContent-Type: text/plain\r\n\r\nt\r\n--y\r\nContent-Type: text/html\r\n\r\nh\r\n--y--\r\n--x--\r\n";
        assert_eq!(check(dsn), Ok(parsed(dsn)));
        assert_eq!(check(dsn), Ok(3));
    }

    #[test]
    fn ten_thousand_levels_are_refused_without_building_them_plain_or_encoded() {
        assert_eq!(check(&nested(MAX_NESTING + 1, false)), Err(TooDeep));
        assert_eq!(check(&nested(10_000, false)), Err(TooDeep));
        assert_eq!(check(&nested(10_000, true)), Err(TooDeep));
        // Inside an encoded body only: the outside is shallow.
        assert_eq!(check(&nested(0, true)).map(|d| d <= 3), Ok(true));
        let mut only_inside = nested(0, false);
        only_inside.truncate(only_inside.len() - b"Subject: x\r\n\r\nbody\r\n--b--\r\n".len());
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(nested(10_000, false));
        only_inside.extend_from_slice(
            format!("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n").as_bytes(),
        );
        assert_eq!(check(&only_inside), Err(TooDeep));
        let limit = TooDeep.to_string();
        assert!(limit.contains("deeper than 32 levels"), "{limit}");
    }

    /// Found by the `bounce` fuzzer: a header the walk does not read as `Content-Type`
    /// where mail-parser goes on nesting. The parse measures what it built and refuses it,
    /// dropping the tree on a stack sized for it.
    #[test]
    fn a_message_the_walk_finds_shallower_than_the_parser_builds_is_still_refused() {
        let raw = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fuzz/regressions/bounce/walk-shallower-than-parser"
        ))
        .unwrap();
        let walked = check(&raw).expect("the walk lets it through");
        let built = parsed(&raw);
        assert!(built > MAX_NESTING && walked < built, "{walked} {built}");
        let e = crate::bounces::report::parse(&raw).unwrap_err();
        assert!(e.0.contains("deeper than 32 levels"), "{e}");
    }
}
