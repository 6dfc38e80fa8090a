//! Entry points for the coverage-guided fuzzers (`tests/fuzz/`) and their regression test
//! (`tests/single_pass/fuzz_regressions.rs`): one function per parser of untrusted input.
//!
//! Each takes raw bytes, runs the real parsing code path on them and checks the properties
//! the parser promises; it panics only when a property does not hold (or the parser itself
//! panics), which is what the fuzzer reports as a crash. Thin wrappers, no copies: whatever
//! the fuzzers find is a bug in the product. Not an API: hidden from the docs.
use std::path::Path;

use crate::domain::{Paper, PaperId, Term, Topics};
use crate::sources::{FileFormat, arxiv_api, arxiv_feed, biorxiv, feed, hf, local};

/// One fuzz target: its name (the file under `tests/fuzz/fuzz_targets/`) and its function.
pub type Target = (&'static str, fn(&[u8]));

/// Every fuzz target by name, for the regression test that replays seeds and crash inputs.
pub const TARGETS: [Target; 13] = [
    ("hf_json", hf_json),
    ("arxiv_feed", arxiv_feed),
    ("feed", feed),
    ("arxiv_api", arxiv_api),
    ("paperpost_json", paperpost_json),
    ("topics", topics),
    ("csv_import", csv_import),
    ("config", config),
    ("web_form", web_form),
    ("bounce", bounce),
    ("latex", latex),
    ("library", library),
    ("compose", compose),
];

/// Sources read documents as text; invalid UTF-8 reaches them replaced, as from a lossy read.
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// What every source promises of the papers it returns: an id that reads back from its
/// stored spelling (the store keeps ids as text).
fn check_papers(papers: &[Paper]) {
    for p in papers {
        if let Some(id) = &p.id {
            let stored = id.to_string();
            let back = PaperId::try_from(stored.clone());
            assert_eq!(
                back.as_ref(),
                Ok(id),
                "paper id `{stored}` does not read back"
            );
        }
        // Rendering reads titles and authors through the TeX converter.
        let _ = crate::render::math::tex_to_unicode(&p.title);
        for a in &p.authors {
            let _ = crate::render::math::tex_to_unicode(a);
        }
    }
}

/// Hugging Face Daily Papers JSON (one page of `/api/daily_papers`).
pub fn hf_json(data: &[u8]) {
    if let Ok(page) = hf::parse(&text(data)) {
        check_papers(&page.papers);
    }
}

/// An arXiv announcement feed, Atom or RSS (format detected as the fetcher does).
pub fn arxiv_feed(data: &[u8]) {
    if let Ok(papers) = arxiv_feed::parse(&text(data)) {
        check_papers(&papers);
    }
}

/// Any paper feed (`kind = "feed"`: RSS 2.0, RSS 1.0/RDF, Atom, JSON Feed), read with the
/// usual places and again with a field mapping of the kind journal feeds need; and the same
/// bytes as a bioRxiv `details` page. Every paper's key (arXiv id, `doi:`, `ext:` URL) and
/// every other key it is matched by must read back from its stored spelling.
pub fn feed(data: &[u8]) {
    let doc = text(data);
    let mapped = crate::sources::FeedFields {
        authors: Some("dc:creator".into()),
        doi: Some("prism:doi".into()),
        published: Some("dc:date".into()),
        abstract_text: Some("content:encoded".into()),
        ..Default::default()
    };
    for fields in [crate::sources::FeedFields::default(), mapped] {
        if let Ok(page) = feed::parse(&doc, &fields) {
            check_papers(&page.papers);
            check_keys(&page.papers);
        }
    }
    if let Ok(page) = biorxiv::parse(&doc, "biorxiv") {
        check_papers(&page.papers);
        check_keys(&page.papers);
    }
}

/// Every key a paper is matched by reads back as itself.
fn check_keys(papers: &[Paper]) {
    for p in papers {
        for key in p.match_keys() {
            let stored = key.to_string();
            assert_eq!(
                PaperId::try_from(stored.clone()).as_ref(),
                Ok(&key),
                "key `{stored}` does not read back"
            );
        }
    }
}

/// One page of the arXiv API (`/api/query`, Atom with OpenSearch counts).
pub fn arxiv_api(data: &[u8]) {
    if let Ok(page) = arxiv_api::parse(&text(data)) {
        check_papers(&page.papers);
    }
}

/// A local file: paperpost's JSON list, and the same bytes with the format detected (the
/// `file` source's default), which also reaches the HF and arXiv parsers through detection.
pub fn paperpost_json(data: &[u8]) {
    let doc = text(data);
    if let Ok(papers) = local::parse(&doc, FileFormat::PaperpostJson) {
        check_papers(&papers);
    }
    if let Ok(papers) = local::parse(&doc, FileFormat::Auto) {
        check_papers(&papers);
    }
}

/// The topic language: `Topics::parse` (and `parse_stored`), the `topics check` explanation,
/// and the selection normaliser on each parsed keyword. What parses must re-serialise and
/// re-parse to the same value, typed or stored; normalising twice must change nothing.
pub fn topics(data: &[u8]) {
    let line = text(data);
    let _ = crate::cli::topics::check(&line);
    let Ok(topics) = Topics::parse(&line) else {
        return;
    };
    let canonical = topics.to_string();
    let back = Topics::parse(&canonical)
        .unwrap_or_else(|e| panic!("canonical `{canonical}` does not parse: {e}"));
    assert_eq!(
        back, topics,
        "canonical `{canonical}` reads back differently"
    );
    assert_eq!(back.to_string(), canonical);
    assert_eq!(
        Topics::parse_stored(&canonical).as_ref(),
        Ok(&topics),
        "canonical `{canonical}` reads back differently as a stored line"
    );
    if let Ok(stored) = Topics::parse_stored(&line) {
        let again = Topics::parse_stored(&stored.to_string());
        assert_eq!(
            again.as_ref(),
            Ok(&stored),
            "a stored line does not round-trip"
        );
    }
    let _ = topics.explain();
    let terms = topics.indexed_terms().flat_map(|t| match t {
        Term::All(parts) => parts.iter().collect(),
        other => vec![other],
    });
    for term in terms {
        if let Term::Phrase(p)
        | Term::Author(p)
        | Term::About(p)
        | Term::Title(p)
        | Term::Abstract(p) = term
        {
            let once = crate::selection::normalise::normalise(p);
            assert_eq!(
                crate::selection::normalise::normalise(&once),
                once,
                "normalising `{p}` twice changes it"
            );
            let field = crate::selection::normalise::Field::new(p);
            for t in &field.tokens {
                assert!(!field.key(t).is_empty(), "empty token in `{p}`");
            }
        }
    }
}

/// `subscribers import`: the CSV file's bytes to rows (each good or the reason it is not).
pub fn csv_import(data: &[u8]) {
    let _ = crate::cli::subscriber_csv::read_rows(data);
}

/// `config.toml` from a string, with every validation of start-up. Paths resolve under a
/// directory that does not exist: validation must not need the file system.
pub fn config(data: &[u8]) {
    let _ = crate::config::Settings::parse(
        &text(data),
        Path::new("config.toml"),
        Path::new("/nonexistent/paperpost-fuzz"),
    );
}

/// A posted `application/x-www-form-urlencoded` body as the sign-up, preferences and
/// feedback handlers read it (and the same bytes as the query string of `GET` pages):
/// address, topic fields, delivery time, verdict and paper id. Topic fields that parse
/// must come back from the stored topics to the same value.
pub fn web_form(data: &[u8]) {
    use crate::web::feedback::{parse_id, parse_verdict};
    use crate::web::fields::{DeliveryFields, FormData, TopicFields, topic_fields};

    let _ = FormData::from_query(std::str::from_utf8(data).ok());
    let form = FormData::from_body(data);
    let _ = crate::domain::SubscriberEmail::parse(form.get("email").unwrap_or_default());
    let fields = TopicFields::from_form(&form);
    if let Ok((topics, frequency)) = fields.parse() {
        // The form spreads the terms over its fields by kind (a category typed in the text
        // comes back ticked), so the order of terms may change once; nothing else may, and
        // from then on the preferences page shows and saves exactly what is stored.
        let round_trip = |t: &Topics| {
            TopicFields::from_topics(t, frequency)
                .parse()
                .map(|(t, _)| t)
                .unwrap_or_else(|e| panic!("topics {t} do not come back from the form: {e:?}"))
        };
        let back = round_trip(&topics);
        let sorted = |t: &Topics| {
            let mut t = t.clone();
            t.terms.sort();
            t
        };
        assert_eq!(
            sorted(&back),
            sorted(&topics),
            "topics {topics} change in the form"
        );
        assert_eq!(round_trip(&back), back, "topics {back} change in the form");
    }
    let _ = topic_fields(&fields);
    let _ = DeliveryFields::from_form(&form).parse();
    let _ = parse_verdict(form.get("v").unwrap_or_default());
    if let Some(paper) = form.get("paper") {
        let _ = parse_id(paper.to_string());
    }
}

/// A bounce or complaint message (DSN, ARF, autoreply, anything) as `bounces ingest` reads it.
/// No message may make reading it recurse without bound: whatever mail-parser builds deeper
/// than the limit must be refused by [`crate::bounces::report::parse`] (the nesting walk
/// refuses most before parsing; the parse measures what it built for the rest).
pub fn bounce(data: &[u8]) {
    use crate::bounces::nesting;
    let read = crate::bounces::report::parse(data);
    let msg = mail_parser::MessageParser::default().parse(data);
    if let Some(m) = &msg
        && nesting::parsed_depth(m) > nesting::MAX_NESTING
    {
        assert!(
            read.is_err(),
            "a message built deeper than {} levels was read",
            nesting::MAX_NESTING
        );
    }
    nesting::drop_deep(msg, data.len());
}

/// The LaTeX → Unicode converter used on every title, abstract and author name.
pub fn latex(data: &[u8]) {
    let s = text(data);
    let out = crate::render::math::tex_to_unicode(&s);
    if !s.contains(['$', '\\']) {
        assert_eq!(out, s, "text without TeX must come back unchanged");
    }
}

/// A reader's library file (`subscribers seed`): the bytes through detection and through
/// each format's parser. Whatever is read must be within the limits the parsers promise,
/// and every entry, written back in every format and read again, must come back with the
/// same arXiv id, DOI and seed key, with no bad entry.
pub fn library(data: &[u8]) {
    use crate::library::{self, Format, MAX_ABSTRACT_CHARS, MAX_AUTHORS, MAX_TITLE_CHARS};
    let formats = [None].into_iter().chain(Format::ALL.map(Some));
    for format in formats {
        let Ok(lib) = library::read(data, Some("library"), format) else {
            continue;
        };
        for e in &lib.entries {
            assert!(e.arxiv.is_some() || e.doi.is_some() || !e.title.is_empty());
            assert!(e.title.chars().count() <= MAX_TITLE_CHARS);
            assert!(e.abstract_text.chars().count() <= MAX_ABSTRACT_CHARS);
            assert!(e.authors.len() <= MAX_AUTHORS);
            if let Some(id) = &e.arxiv {
                assert_eq!(PaperId::try_from(id.to_string()).as_ref(), Ok(id));
            }
        }
        if lib.entries.is_empty() {
            continue;
        }
        let ids = |l: &library::Library| {
            l.entries
                .iter()
                .map(|e| (e.arxiv.clone(), e.doi.clone(), e.key()))
                .collect::<Vec<_>>()
        };
        for to in Format::ALL {
            let text = library::write::write(&lib.entries, to);
            let back = library::read_text(&text, to).unwrap_or_else(|e| {
                panic!(
                    "{to} written from {:?} does not read back: {e}\n{text}",
                    lib.format
                )
            });
            assert!(
                back.bad.is_empty(),
                "{to} written back has bad entries {:?}:\n{text}",
                back.bad
            );
            assert_eq!(
                ids(&back),
                ids(&lib),
                "{to} written back changes ids:\n{text}"
            );
        }
    }
}

/// The fields of a `compose` input: the input split at 0xFF bytes (never part of UTF-8, so
/// any text, invalid bytes included, fits in a field), each read lossily. Missing fields
/// are empty.
struct Fields<'a> {
    fields: Vec<std::borrow::Cow<'a, str>>,
}

impl<'a> Fields<'a> {
    fn new(data: &'a [u8]) -> Fields<'a> {
        Fields {
            fields: data.split(|b| *b == 0xff).map(text).collect(),
        }
    }

    fn get(&self, i: usize) -> &str {
        self.fields.get(i).map_or("", |f| f.as_ref())
    }

    /// The `i`-th field's `bit`, for switches (the raw byte of a one-character field).
    fn flag(&self, i: usize, bit: u8) -> bool {
        self.get(i).bytes().next().unwrap_or(0) & (1 << bit) != 0
    }

    /// Fields after the reader's, 6 per paper (at least one paper).
    fn papers(&self) -> usize {
        (self.fields.len().saturating_sub(READER_FIELDS) / PAPER_FIELDS).clamp(1, 8)
    }
}

/// `compose` input fields, in order: switches, email, name, topics, token salt, editor's note,
/// Message-ID; then per paper: switches, title, abstract, authors (one per line), reasons
/// (one per line), extras (lines: AI summary, comment, journal ref, DOI, code URL, project
/// URL, categories separated by spaces).
const READER_FIELDS: usize = 7;
const PAPER_FIELDS: usize = 7;

/// A whole digest email built from an arbitrary reader record (address, name, topics,
/// token salt, as a row written behind paperpost's back may hold them) and arbitrary papers
/// (titles, abstracts, authors, reasons, notes with any text), through the real composer:
/// rendering, the message with every header, DKIM signing. Properties: it never panics; a
/// message that builds is 7-bit ASCII with CRLF lines of at most 998 bytes (RFC 5322) and
/// parses back (mail-parser) with the same recipient, display name and Message-ID; a reader
/// whose row is what paperpost itself writes always gets a message.
///
/// Its seeds (`tests/fuzz/seeds/compose/`) are written by `tests/fuzz/seeds/make_compose_seeds.py`.
pub fn compose(data: &[u8]) {
    let _ = compose_checked(data);
}

/// [`compose`]'s work: the built message, or (`Err`) why it was refused for what only a
/// row changed behind paperpost's back can hold; checked either way.
fn compose_checked(data: &[u8]) -> Result<crate::delivery::Composed, String> {
    use std::sync::{Arc, LazyLock};

    use chrono::TimeZone;

    use crate::domain::{
        Claimed, PickRef, StoredName, Subscriber, SubscriberEmail, SubscriberStatus,
    };
    use crate::pipeline::MessageComposer;

    /// The test newsletter's settings, with a bounce address (VERP) that a switch turns off.
    static SETTINGS: LazyLock<crate::config::Settings> = LazyLock::new(|| {
        crate::config::Settings::parse(
            "[newsletter]\nname = \"paperpost fuzz\"\nbase_url = \"https://papers.example.org/news\"\n\
             from = \"paperpost <digest@papers.example.org>\"\nreply_to = \"Editor <editor@papers.example.org>\"\n\
             [delivery]\ntransport = \"file\"\nbounce_address = \"bounces@papers.example.org\"\n",
            Path::new("config.toml"),
            Path::new("/nonexistent/paperpost-fuzz"),
        )
        .expect("the fuzz config is valid")
    });
    /// An Ed25519 key (a fixed seed: signatures are not checked here, only that signing
    /// never fails on what it is given).
    static DKIM: LazyLock<Arc<lettre::message::dkim::DkimConfig>> = LazyLock::new(|| {
        let key = lettre::message::dkim::DkimSigningKey::new(
            "ZnV6emluZyBwYXBlcnBvc3QncyBES0lNIHNpZ25lcnM=",
            lettre::message::dkim::DkimSigningAlgorithm::Ed25519,
        )
        .expect("a 32-byte seed");
        Arc::new(crate::config::dkim_signing(
            "fuzz",
            "papers.example.org",
            key,
        ))
    });

    let f = Fields::new(data);
    let settings = &*SETTINGS;
    let mut newsletter = settings.newsletter_options();
    if f.flag(0, 0) {
        newsletter.render.abstract_mode = crate::config::AbstractMode::Full;
    }
    let bounce_address = match f.flag(0, 1) {
        true => None,
        false => settings.delivery.bounce_address.clone(),
    };
    let dkim = f.flag(0, 2).then(|| DKIM.clone());
    let key = crate::security::Secret::from_bytes(b"paperpost fuzz key");
    let composer = MessageComposer::new(&newsletter, bounce_address, dkim, key);

    // The reader, read as the store reads a row: the address must parse (else the row is
    // unreadable and never claimed), the name is read leniently.
    let email = SubscriberEmail::parse(f.get(1))
        .unwrap_or_else(|_| SubscriberEmail::parse("reader@example.org").expect("valid"));
    let name = StoredName::read(f.get(2));
    let topics = Topics::parse(f.get(3)).unwrap_or_else(|_| Topics::parse("").expect("empty"));
    let daily = f.flag(0, 3);
    let subscriber = Subscriber {
        id: 7,
        newsletter: crate::domain::DEFAULT_NEWSLETTER.into(),
        email: email.clone(),
        name: name.clone(),
        status: SubscriberStatus::Active,
        topics,
        frequency: if daily {
            crate::domain::Frequency::Daily
        } else {
            crate::domain::Frequency::Weekly
        },
        timezone: None,
        send_hour: None,
        created_at: chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        // Tokens are derived from the key, the id and these: no stored value makes a
        // link (or the List-Unsubscribe header) longer.
        tokens: crate::domain::ReaderTokens {
            salt: f.get(4).to_string(),
            ..Default::default()
        },
    };
    let own_message_id = "<2026-W48.7.0123456789abcdef0123456789abcdef@papers.example.org>";
    let message_id = if f.flag(0, 4) {
        f.get(6).to_string()
    } else {
        own_message_id.to_string()
    };
    let mut picks = Vec::new();
    let mut papers = Vec::new();
    for i in 0..f.papers() {
        let at = READER_FIELDS + i * PAPER_FIELDS;
        let lines = |k: usize| -> Vec<String> {
            f.get(at + k)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect()
        };
        let extras = lines(6);
        let extra = |k: usize| extras.get(k).cloned();
        let id = PaperId::parse_arxiv(&format!("2411.{:05}", i + 1))
            .expect("a valid arXiv id")
            .0;
        picks.push(PickRef {
            id: id.clone(),
            reasons: lines(4),
            more_like: f.flag(at, 0),
            pinned: f.flag(at, 1),
            note: f.flag(at, 2).then(|| f.get(at + 5).to_string()),
        });
        papers.push(Arc::new(Paper {
            id: Some(id),
            title: f.get(at + 1).to_string(),
            abstract_text: f.get(at + 2).to_string(),
            authors: lines(3),
            ai_summary: extra(0),
            comment: extra(1),
            journal_ref: extra(2),
            doi: extra(3),
            code_url: extra(4),
            project_url: extra(5),
            categories: extra(6)
                .map(|c| c.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            upvotes: f.flag(at, 3).then_some(u32::MAX),
            ..Paper::default()
        }));
    }
    let claimed = Claimed {
        id: 42,
        edition_id: 1,
        period_key: if daily { "2026-11-30" } else { "2026-W48" }.to_string(),
        subscriber,
        picks,
        message_id: message_id.clone(),
        editor_note: Some(f.get(5).to_string()).filter(|n| !n.is_empty()),
        attempts: 1,
        created_at: chrono::Utc.with_ymd_and_hms(2026, 11, 30, 7, 0, 0).unwrap(),
        reclaimed: false,
        reclaimed_from: None,
        suppressed: false,
    };
    let now = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();

    let composed = match composer.compose(&claimed, &papers, now) {
        Ok(c) => c,
        Err(crate::delivery::ComposeError::Message(e)) => {
            // Only what paperpost would never write itself may keep a message from building.
            let own_row = name.as_ref().is_none_or(|n| n.display_name().is_ok())
                && message_id == own_message_id;
            assert!(
                !own_row,
                "a reader row paperpost writes cannot be mailed: {e}"
            );
            return Err(e.to_string());
        }
        Err(crate::delivery::ComposeError::Other(e)) => {
            panic!("composing failed for a reason other than the message: {e:#}")
        }
    };
    check_message(&composed, &email, name.as_ref(), &message_id);
    Ok(composed)
}

/// The properties of a message `compose` built for `email` (with `name`).
fn check_message(
    composed: &crate::delivery::Composed,
    email: &crate::domain::SubscriberEmail,
    name: Option<&crate::domain::StoredName>,
    message_id: &str,
) {
    let raw = &composed.bytes;
    assert_eq!(&composed.to, email.address(), "the envelope recipient");
    assert!(raw.is_ascii(), "the message is not 7-bit ASCII");
    let mut rest = raw.as_slice();
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = &rest[..end];
        assert!(
            end < rest.len() && line.ends_with(b"\r"),
            "a line does not end in CRLF: {:?}",
            String::from_utf8_lossy(line)
        );
        assert!(
            line.len() - 1 <= 998,
            "a line of {} bytes: {:?}",
            line.len() - 1,
            String::from_utf8_lossy(&line[..line.len().min(120)])
        );
        assert!(!line[..line.len() - 1].contains(&b'\r'), "a bare CR");
        rest = &rest[end + 1..];
    }
    let parsed = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("the message parses back");
    let to = parsed.to().and_then(|a| a.first()).expect("a To: address");
    assert_eq!(
        to.address().map(str::to_ascii_lowercase),
        Some(email.as_ref().to_ascii_lowercase()),
        "the To: address"
    );
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let want = name
        .and_then(|n| n.display_name().ok())
        .map(|n| words(n.as_str()));
    assert_eq!(to.name().map(words), want, "the To: display name");
    assert_eq!(
        parsed.message_id(),
        Some(message_id.trim_start_matches('<').trim_end_matches('>')),
        "the Message-ID"
    );
    assert_eq!(
        parsed
            .headers()
            .iter()
            .filter(|h| h.name.as_str().eq_ignore_ascii_case("to"))
            .count(),
        1,
        "exactly one To: header"
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The seeds exercise what the target is for: a reader gets a full message, and a name
    /// or Message-ID no header can carry is refused naming the header, not a panic.
    #[test]
    fn the_compose_seeds_build_messages_and_refuse_unusable_headers() {
        let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/seeds/compose");
        let seed = |name: &str| std::fs::read(seeds.join(name)).unwrap();
        // A long salt (once a long stored token) no longer reaches any header.
        for ok in ["plain.bin", "unicode_name_dkim_daily.bin", "long_token.bin"] {
            let m = super::compose_checked(&seed(ok)).unwrap_or_else(|e| panic!("{ok}: {e}"));
            let raw = String::from_utf8(m.bytes).unwrap();
            assert!(
                raw.contains("List-Unsubscribe: <https://papers.example.org/news/unsubscribe/7."),
                "{raw}"
            );
        }
        let dkim = super::compose_checked(&seed("unicode_name_dkim_daily.bin")).unwrap();
        assert!(
            String::from_utf8(dkim.bytes)
                .unwrap()
                .contains("DKIM-Signature: ")
        );
        for (bad, why) in [
            ("crlf_name.bin", "the To header cannot be written"),
            ("bidi_name.bin", "the To header cannot be written"),
            (
                "bad_message_id.bin",
                "the Message-ID header cannot be written",
            ),
        ] {
            let Err(e) = super::compose_checked(&seed(bad)) else {
                panic!("{bad} built a message");
            };
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
