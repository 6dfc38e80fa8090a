//! Entry points for the coverage-guided fuzzers (`tests/fuzz/`) and their regression test
//! (`tests/fuzz_regressions.rs`): one function per parser of untrusted input.
//!
//! Each takes raw bytes, runs the real parsing code path on them and checks the properties
//! the parser promises; it panics only when a property does not hold (or the parser itself
//! panics), which is what the fuzzer reports as a crash. Thin wrappers, no copies: whatever
//! the fuzzers find is a bug in the product. Not an API: hidden from the docs.
use std::path::Path;

use crate::domain::{Paper, PaperId, Term, Topics};
use crate::sources::{FileFormat, arxiv_api, arxiv_feed, hf, local};

/// One fuzz target: its name (the file under `tests/fuzz/fuzz_targets/`) and its function.
pub type Target = (&'static str, fn(&[u8]));

/// Every fuzz target by name, for the regression test that replays seeds and crash inputs.
pub const TARGETS: [Target; 10] = [
    ("hf_json", hf_json),
    ("arxiv_feed", arxiv_feed),
    ("arxiv_api", arxiv_api),
    ("paperpost_json", paperpost_json),
    ("topics", topics),
    ("csv_import", csv_import),
    ("config", config),
    ("web_form", web_form),
    ("bounce", bounce),
    ("latex", latex),
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

/// The topic language: `Topics::parse`, the `topics check` explanation, and the selection
/// normaliser on each parsed keyword. What parses must re-serialise and re-parse to the same
/// value; normalising twice must change nothing.
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
    let _ = topics.explain();
    for term in topics.terms.iter().chain(&topics.exclude) {
        if let Term::Phrase(p) | Term::Author(p) | Term::About(p) = term {
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
/// The nesting walk that guards the parser must never find a message shallower than the
/// parser builds it (checked only where the walk let it through: parsing what it refused is
/// what overflows the stack).
pub fn bounce(data: &[u8]) {
    use crate::bounces::nesting;
    let _ = crate::bounces::report::parse(data);
    if let Ok(walked) = nesting::check(data)
        && let Some(msg) = mail_parser::MessageParser::default().parse(data)
    {
        let built = nesting::parsed_depth(&msg);
        assert!(
            built <= walked,
            "the nesting walk found {walked} levels, the parser built {built}"
        );
    }
}

/// The LaTeX → Unicode converter used on every title, abstract and author name.
pub fn latex(data: &[u8]) {
    let s = text(data);
    let out = crate::render::math::tex_to_unicode(&s);
    if !s.contains(['$', '\\']) {
        assert_eq!(out, s, "text without TeX must come back unchanged");
    }
}
