//! A reader's display name: the words beside their address in the `To:` header
//! (`Ada Lovelace <ada@example.org>`), also shown by `subscribers show` and in exports.
//!
//! One type for every way a name comes in — `subscribers add/edit --name`, both CSV formats
//! (paperpost's and listmonk's) — so that no entry point can store a name a mail header
//! cannot carry. A row written behind paperpost's back (raw SQL, an older version) may still
//! hold one: [`StoredName`] reads it without failing, and delivery refuses to address a
//! message with it (that reader's delivery fails, naming the field; the others go on).
use std::fmt;

/// The longest name accepted, in characters (Unicode scalar values). Generous for any
/// real name with its titles; short enough that a `To:` header stays readable.
pub const MAX_NAME_CHARS: usize = 100;

/// A display name that can go into a mail header: trimmed, not empty, at most
/// [`MAX_NAME_CHARS`] characters, and free of characters that break or disguise a header
/// line:
/// - control characters: C0 (line feed, carriage return, tab, NUL…), DEL and C1 (U+0080 to
///   U+009F, next-line U+0085 among them); a CR or LF would end the header, or make lettre
///   refuse to write it;
/// - the Unicode line and paragraph separators (U+2028, U+2029);
/// - bidirectional embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069),
///   which make a name display as something else (the "Trojan Source" trick); the plain
///   direction marks (U+200E, U+200F, U+061C) that right-to-left names use are accepted;
/// - U+FFFD, what an invalid byte decodes to: the name was mangled on its way in.
///
/// The only way to get one is [`DisplayName::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

/// Why a name is refused. Each message names the field ("the name …").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is {chars} characters long; at most {MAX_NAME_CHARS} are accepted")]
    TooLong { chars: usize },
    #[error(
        "the name contains {what} (U+{code:04X}) at character {at}; names may not hold control \
         characters, line breaks or bidirectional overrides"
    )]
    Forbidden {
        what: &'static str,
        code: u32,
        /// 1-based position in the trimmed name.
        at: usize,
    },
}

impl DisplayName {
    /// The name `raw` trimmed, or why it cannot be one.
    pub fn parse(raw: &str) -> Result<DisplayName, NameError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if let Some((i, c)) = name
            .chars()
            .enumerate()
            .find(|(_, c)| forbidden(*c).is_some())
        {
            return Err(NameError::Forbidden {
                what: forbidden(c).unwrap_or("a forbidden character"),
                code: u32::from(c),
                at: i + 1,
            });
        }
        let chars = name.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(NameError::TooLong { chars });
        }
        Ok(DisplayName(name.to_string()))
    }

    /// A name given where none is an answer too (an empty CSV cell, `--name ""`): blank
    /// text is `None`, anything else must parse.
    pub fn parse_optional(raw: &str) -> Result<Option<DisplayName>, NameError> {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            DisplayName::parse(raw).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of forbidden character `c` is, if it is one.
fn forbidden(c: char) -> Option<&'static str> {
    match c {
        '\n' | '\r' | '\u{85}' => Some("a line break"),
        '\u{2028}' | '\u{2029}' => Some("a line or paragraph separator"),
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            Some("a bidirectional embedding, override or isolate")
        }
        '\u{fffd}' => Some("an invalid byte"),
        c if c.is_control() => Some("a control character"),
        _ => None,
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for DisplayName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        DisplayName::parse(s)
    }
}

/// A reader's name as the store holds it. paperpost writes only [`DisplayName`]s, but a row
/// changed behind its back may hold text today's rules refuse; reading it never fails (the
/// reader is still listed, shown, exported and can be edited), and delivery asks
/// [`StoredName::display_name`], which refuses it with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredName {
    Valid(DisplayName),
    /// The stored text as it is, and why it is not a display name.
    Refused {
        raw: String,
        error: NameError,
    },
}

impl StoredName {
    /// A stored name column: blank is no name; anything else is kept, valid or not.
    pub fn read(raw: &str) -> Option<StoredName> {
        match DisplayName::parse_optional(raw) {
            Ok(None) => None,
            Ok(Some(name)) => Some(StoredName::Valid(name)),
            Err(error) => Some(StoredName::Refused {
                raw: raw.to_string(),
                error,
            }),
        }
    }

    /// The name, or why the stored text is not one.
    pub fn display_name(&self) -> Result<&DisplayName, &NameError> {
        match self {
            StoredName::Valid(n) => Ok(n),
            StoredName::Refused { error, .. } => Err(error),
        }
    }

    /// The text as stored (for exports, which must not lose it).
    pub fn raw(&self) -> &str {
        match self {
            StoredName::Valid(n) => n.as_str(),
            StoredName::Refused { raw, .. } => raw,
        }
    }
}

impl From<DisplayName> for StoredName {
    fn from(name: DisplayName) -> StoredName {
        StoredName::Valid(name)
    }
}

/// A valid name as it is; a refused one escaped (`Mal\nlory`), so printing it cannot move a
/// terminal's cursor or forge a line of output.
impl fmt::Display for StoredName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredName::Valid(n) => f.write_str(n.as_str()),
            StoredName::Refused { raw, .. } => write!(f, "{}", raw.escape_debug()),
        }
    }
}

impl PartialEq<DisplayName> for StoredName {
    fn eq(&self, other: &DisplayName) -> bool {
        matches!(self, StoredName::Valid(n) if n == other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_trimmed_and_ordinary_ones_of_any_script_pass() {
        for (raw, kept) in [
            ("  Ada Lovelace ", "Ada Lovelace"),
            ("Łukasz Kaiser", "Łukasz Kaiser"),
            (
                "\"Ada\" <ada@example.org>, Bcc",
                "\"Ada\" <ada@example.org>, Bcc",
            ),
            ("محمد\u{200f}", "محمد\u{200f}"),
            ("李飞飞", "李飞飞"),
            ("Ada\n", "Ada"),
            ("👩\u{200d}🔬 Grace", "👩\u{200d}🔬 Grace"),
        ] {
            assert_eq!(DisplayName::parse(raw).unwrap().as_str(), kept, "{raw:?}");
        }
        assert_eq!(DisplayName::parse_optional("  ").unwrap(), None);
        let longest = "a".repeat(MAX_NAME_CHARS);
        assert!(DisplayName::parse(&longest).is_ok());
    }

    #[test]
    fn refusals_name_the_field_the_character_and_where_it_is() {
        for (raw, expected) in [
            ("Mal\nlory", "a line break (U+000A) at character 4"),
            ("Mal\r\nlory", "a line break (U+000D) at character 4"),
            ("a\u{85}b", "a line break (U+0085)"),
            ("Mal\u{2028}lory", "separator (U+2028)"),
            ("Ada\u{202e}evil", "override or isolate (U+202E)"),
            ("Ada\u{2066}x", "(U+2066)"),
            ("Ada\tL", "a control character (U+0009)"),
            ("A\u{0}da", "a control character (U+0000)"),
            ("A\u{7f}da", "(U+007F)"),
            ("A\u{9b}da", "(U+009B)"),
            ("Ad\u{fffd}a", "an invalid byte (U+FFFD)"),
        ] {
            let e = DisplayName::parse(raw).unwrap_err().to_string();
            assert!(e.starts_with("the name contains"), "{raw:?}: {e}");
            assert!(e.contains(expected), "{raw:?}: {e}");
        }
        assert_eq!(DisplayName::parse(" ").unwrap_err(), NameError::Empty);
        let e = DisplayName::parse(&"é".repeat(MAX_NAME_CHARS + 1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the name is 101 characters long; at most 100 are accepted"
        );
    }

    #[test]
    fn a_stored_name_is_read_whatever_it_holds_and_only_a_valid_one_is_usable() {
        assert_eq!(StoredName::read(""), None);
        let ok = StoredName::read(" Ada ").unwrap();
        assert_eq!(ok.display_name().unwrap().as_str(), "Ada");
        assert_eq!(ok.to_string(), "Ada");
        let bad = StoredName::read("Mal\nlory").unwrap();
        assert!(
            bad.display_name()
                .unwrap_err()
                .to_string()
                .contains("line break")
        );
        assert_eq!(bad.raw(), "Mal\nlory");
        assert_eq!(bad.to_string(), "Mal\\nlory", "shown escaped");
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(512))]

        /// Whatever the text, a name that parses writes into a lettre `To:` header (lettre
        /// panics on a name it cannot write) and reads back the same from the message.
        #[test]
        fn every_accepted_name_writes_into_a_header_and_reads_back(raw in "\\PC{0,40}|.{0,40}") {
            let Ok(name) = DisplayName::parse(&raw) else { return Ok(()) };
            let to = lettre::message::Mailbox::new(
                Some(name.as_str().to_string()),
                "ada@example.org".parse().unwrap(),
            );
            use std::fmt::Write;
            let mut shown = String::new();
            let written = write!(shown, "{}", to);
            prop_assert!(written.is_ok());
            let msg = lettre::Message::builder()
                .from("x@example.org".parse().unwrap())
                .to(to)
                .body(String::from("x"))
                .unwrap();
            let raw_msg = msg.formatted();
            let parsed = mail_parser::MessageParser::default().parse(&raw_msg).unwrap();
            let got = parsed.to().and_then(|a| a.first()).unwrap();
            prop_assert_eq!(got.address(), Some("ada@example.org"));
            prop_assert_eq!(got.name().map(str::trim), Some(name.as_str()));
        }
    }
}
