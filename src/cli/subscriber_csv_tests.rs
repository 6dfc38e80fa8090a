use proptest::prelude::*;

use super::*;
use crate::domain::{Frequency, SubscriberStatus, Topics};

const HEADER: &str = "email,name,topics,status,frequency,timezone,send_hour\n";

fn ok_emails(rows: &[Row]) -> Vec<(u64, String)> {
    rows.iter()
        .filter_map(|(line, r)| r.as_ref().ok().map(|n| (*line, n.email.to_string())))
        .collect()
}

fn errors(rows: &[Row]) -> Vec<(u64, String)> {
    rows.iter()
        .filter_map(|(line, r)| r.as_ref().err().map(|e| (*line, e.clone())))
        .collect()
}

#[test]
fn every_kind_of_bad_row_is_reported_by_line_and_the_good_rows_after_it_are_kept() {
    let mut data = HEADER.as_bytes().to_vec();
    let lines: [&[u8]; 13] = [
        b"a1@example.org,Ada,llm,active,weekly,,\n",
        b"bad\xff@example.org,X,,active,weekly,,\n",
        b"a2@example.org,Caf\xc3\xa9,caf\xc3\xa9,active,weekly,,\n",
        b"a3@example.org,too,few\n",
        b"x@example.org,\"Unclosed,llm,active,weekly,,\n",
        b"a4@example.org,\xc5\x81ukasz,\"au: \xc5\x81ukasz\",active,daily,Asia/Tokyo,9\n",
        b"user@localhost,,,active,weekly,,\n",
        b"a5@example.org,,cat:CS CL,active,weekly,,\n",
        b"a6@example.org,,,active,weekly,,24\n",
        b"a7@example.org,'=HYPERLINK(\"x\"),'-survey,active,weekly,,\n",
        b"a8@example.org,Ada\xe2\x80\xaeecalevol,,active,weekly,,\n",
        b"a9@example.org,Ada\tL,,active,weekly,,\n",
        b"\n",
    ];
    for l in lines {
        data.extend_from_slice(l);
    }
    let rows = read_rows(&data).unwrap();
    assert_eq!(
        ok_emails(&rows),
        [
            (2, "a1@example.org".to_string()),
            (4, "a2@example.org".into()),
            (7, "a4@example.org".into()),
            (11, "a7@example.org".into()),
        ]
    );
    let errs = errors(&rows);
    let expect = [
        (3, "the `email` field is not valid UTF-8"),
        (5, "the row has 3 fields"),
        (6, "unclosed quote"),
        (8, "localhost"),
        (9, "cat:CS CL"),
        (10, "send_hour `24`"),
        (
            12,
            "the name contains a bidirectional embedding, override or isolate (U+202E)",
        ),
        (13, "the name contains a control character (U+0009)"),
    ];
    assert_eq!(errs.len(), expect.len(), "{errs:?}");
    for ((line, e), (want_line, want)) in errs.iter().zip(expect) {
        assert_eq!(*line, want_line, "{e}");
        assert!(e.contains(want), "line {line}: {e}");
    }
    let find = |line: u64| {
        rows.iter()
            .find(|r| r.0 == line)
            .unwrap()
            .1
            .as_ref()
            .unwrap()
    };
    let a7 = find(11);
    assert_eq!(
        a7.name.as_ref().map(DisplayName::as_str),
        Some("=HYPERLINK(\"x\")")
    );
    assert_eq!(a7.topics, Topics::parse("-survey").unwrap());
    let a4 = find(7);
    assert_eq!(a4.name.as_ref().map(DisplayName::as_str), Some("Łukasz"));
    assert_eq!(a4.send_hour, Some(9));
}

#[test]
fn a_header_without_an_email_column_is_refused() {
    assert!(read_rows(b"").unwrap_err().contains("empty"));
    assert!(
        read_rows(b"name,topics\nAda,llm\n")
            .unwrap_err()
            .contains("email")
    );
    // Extra columns are ignored; a BOM and letter case in the header are fine.
    let rows = read_rows("\u{feff}Email,Notes\nada@example.org,hi\n".as_bytes()).unwrap();
    assert_eq!(ok_emails(&rows), [(2, "ada@example.org".to_string())]);
}

#[test]
fn formula_cells_are_escaped_and_read_back_exactly() {
    for (cell, escaped) in [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1", "'+1"),
        ("-survey", "'-survey"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("'t Hooft", "'t Hooft"),
        ("Ada", "Ada"),
        ("", ""),
    ] {
        assert_eq!(escape(cell), escaped, "{cell:?}");
        assert_eq!(unescape(&escape(cell)), cell, "{cell:?}");
    }
}

fn subscriber(i: usize, name: Option<DisplayName>, topics: &str) -> Subscriber {
    Subscriber {
        id: i as i64,
        newsletter: crate::domain::DEFAULT_NEWSLETTER.into(),
        email: SubscriberEmail::parse(&format!("r{i}@example.org")).unwrap(),
        name: name.map(StoredName::from),
        status: SubscriberStatus::Active,
        topics: Topics::parse(topics).unwrap(),
        frequency: Frequency::Daily,
        timezone: Some(chrono_tz::Europe::Berlin),
        send_hour: Some(7),
        created_at: chrono::Utc::now(),
        tokens: Default::default(),
    }
}

/// Topic lines to draw from: plain, Unicode, negated, and one that looks like a formula.
const TOPICS: [&str; 7] = [
    "",
    "llm",
    "café, 日本語",
    "author:\"Łukasz Kaiser\"",
    "-survey, cat:cs.CL",
    "=cmd",
    "min_upvotes:5",
];

/// A name as a reader may type it: any Unicode but control characters, not padded.
/// A name as `add` and `import` accept it (any text that parses as a display name).
fn name() -> impl Strategy<Value = Option<DisplayName>> {
    proptest::option::of("\\PC{0,24}").prop_map(|n| n.and_then(|n| DisplayName::parse(&n).ok()))
}

/// The name a row read back gives, as the subscriber written holds it.
fn same_name(got: &Option<DisplayName>, written: &Option<StoredName>) -> bool {
    got.as_ref().map(DisplayName::as_str) == written.as_ref().map(StoredName::raw)
}

/// A bad line: any bytes but a line feed (invalid UTF-8, quotes, CR, commas…).
fn bad_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..60),
        "\\PC{0,40}".prop_map(String::into_bytes),
        "[\",\\r'=@a-z]{0,20}".prop_map(String::into_bytes),
    ]
    .prop_map(|mut b| {
        b.retain(|&c| c != b'\n');
        b
    })
}

proptest! {
    #![proptest_config(crate::test_support::proptest_config(200))]

    #[test]
    fn import_never_panics_whatever_the_bytes(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = read_rows(&data);
        let mut with_header = HEADER.as_bytes().to_vec();
        with_header.extend_from_slice(&data);
        prop_assert!(read_rows(&with_header).is_ok());
    }

    #[test]
    fn import_never_panics_on_arbitrary_unicode(text in "\\PC*", fields in proptest::collection::vec(".*", 0..9)) {
        let _ = read_rows(text.as_bytes());
        let doc = format!("{HEADER}{}\n{text}\n", fields.join(","));
        prop_assert!(read_rows(doc.as_bytes()).is_ok());
    }

    #[test]
    fn bad_rows_never_lose_good_ones(
        entries in proptest::collection::vec(
            prop_oneof![
                (name(), 0..TOPICS.len()).prop_map(|(n, t)| Ok((n, t))),
                bad_line().prop_map(Err),
            ],
            1..12,
        )
    ) {
        // Good rows are written as export writes them; bad ones raw, one per line.
        let mut data = HEADER.as_bytes().to_vec();
        let mut wanted = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let line = i as u64 + 2;
            match entry {
                Ok((n, t)) => {
                    let s = subscriber(i, n.clone(), TOPICS[*t]);
                    let mut one = Vec::new();
                    write(std::slice::from_ref(&s), &mut one).unwrap();
                    let row = one.splitn(2, |&b| b == b'\n').nth(1).unwrap();
                    prop_assume!(!row[..row.len() - 1].contains(&b'\n'));
                    data.extend_from_slice(row);
                    wanted.push((line, s));
                }
                Err(bytes) => {
                    data.extend_from_slice(bytes);
                    data.push(b'\n');
                }
            }
        }
        let rows = read_rows(&data).unwrap();
        for (line, s) in &wanted {
            let got = rows
                .iter()
                .find(|(l, r)| l == line && r.is_ok())
                .and_then(|(_, r)| r.as_ref().ok());
            prop_assert!(got.is_some(), "line {} lost: {:?}\n{}", line, rows, String::from_utf8_lossy(&data));
            let got = got.unwrap();
            prop_assert_eq!(&got.email, &s.email);
            prop_assert!(same_name(&got.name, &s.name), "{:?} vs {:?}", got.name, s.name);
            prop_assert_eq!(&got.topics, &s.topics);
            prop_assert_eq!((got.frequency, got.timezone, got.send_hour), (s.frequency, s.timezone, s.send_hour));
        }
    }

    #[test]
    fn an_export_reads_back_to_the_same_subscribers(
        people in proptest::collection::vec((name(), 0..TOPICS.len()), 0..8)
    ) {
        let subs: Vec<Subscriber> = people
            .into_iter()
            .enumerate()
            .map(|(i, (n, t))| subscriber(i, n, TOPICS[t]))
            .collect();
        let mut out = Vec::new();
        write(&subs, &mut out).unwrap();
        let rows = read_rows(&out).unwrap();
        prop_assert_eq!(rows.len(), subs.len());
        for ((_, row), s) in rows.iter().zip(&subs) {
            let got = row.as_ref().unwrap();
            prop_assert_eq!(&got.email, &s.email);
            prop_assert!(same_name(&got.name, &s.name), "{:?} vs {:?}", got.name, s.name);
            prop_assert_eq!(&got.topics, &s.topics);
        }
        // No cell a spreadsheet would run: every one starting with = + - @ is escaped.
        let mut raw = csv::Reader::from_reader(out.as_slice());
        for record in raw.records() {
            for cell in record.unwrap().iter() {
                prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{:?}", cell);
            }
        }
    }
}
