//! The editor's note and picks, end to end through the real binary: `paperpost editions
//! note|pin` → `paperpost send` over a real SMTP server on loopback → the mails parsed back;
//! then `paperpost serve` answers each reader's web copy (`/d/{token}/{edition}`, the mail
//! without the reader's links and address) and private Atom feed (`/feed/{token}.xml`), both
//! gone once they unsubscribe.
use crate::support;

use chrono::Utc;
use mail_parser::MessageParser;
use paperpost::domain::{Finish, NewDelivery, PaperId, Period, PickRef};
use support::newsletter::{Newsletter, relay};
use support::smtp::SmtpServer;

const PINNED: &str = "Unbounded: A Generative Infinite Game of Character Life Simulation";
const TOP: &str = "Breaking the Memory Barrier";
const SECOND: &str = "Can Knowledge Editing Really Correct Hallucinations?";
const THIRD: &str = "LOGO -- Long cOntext aliGnment";

fn id(s: &str) -> PaperId {
    PaperId::parse_arxiv(s).unwrap().0
}

/// (subject, text part, HTML part) of the mail to `to`.
fn mail_to(smtp: &SmtpServer, to: &str) -> (String, String, String) {
    let raw = smtp.message_to(to);
    let m = MessageParser::default().parse(&raw).unwrap();
    (
        m.subject().unwrap_or_default().to_string(),
        m.body_text(0).unwrap().into_owned(),
        m.body_html(0).unwrap().into_owned(),
    )
}

/// Where each title first appears after the "At a glance" list (in the cards).
fn card_order(part: &str, titles: &[&str]) -> Vec<Option<usize>> {
    let cards = part
        .find("Editor's pick")
        .expect("the editor's picks are marked");
    titles.iter().map(|t| part[cards..].find(t)).collect()
}

fn link_to(part: &str, prefix: &str) -> String {
    let at = part
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link"));
    let rest = &part[at..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>'))
        .unwrap_or(rest.len());
    rest[..end].replace("&amp;", "&")
}

#[tokio::test(flavor = "multi_thread")]
async fn pinned_papers_lead_every_digest_once_and_the_web_copy_is_the_mails_digest() {
    // Arrange: 29 recorded HF papers, max 3 per digest, two trending readers; Ada already
    // got the paper the editor will pin (in an edition a month ago).
    let smtp = SmtpServer::start(None);
    let n = Newsletter::new(&relay(None, smtp.port, 10.0));
    n.fetch_and_import(&["ada@example.org".into(), "bob@example.org".into()]);
    let store = n.store();
    let ada = store
        .subscriber_by_email("ada@example.org")
        .unwrap()
        .unwrap();
    let month_ago = Utc::now() - chrono::Duration::days(30);
    let (old, _) = store
        .edition_for_period("2020-W01", &[], month_ago)
        .unwrap();
    let earlier = NewDelivery {
        subscriber_id: ada.id,
        picks: vec![PickRef::pinned(id("2410.18975"), None)],
        message_id: "<earlier@example.org>".into(),
        editor_note: None,
    };
    store
        .plan_deliveries(old.id, &[earlier], month_ago)
        .unwrap();
    let claimed = store
        .claim_deliveries("earlier", month_ago, chrono::Duration::minutes(5), 10)
        .unwrap();
    let sent = Finish::Sent {
        relay: "earlier".into(),
    };
    store
        .finish_deliveries("earlier", &[(claimed[0].id, sent)], month_ago)
        .unwrap();
    let week = Period::week_of(Utc::now().date_naive()).key();
    let ok = |args: &[&str]| n.ok(args);
    ok(&[
        "editions",
        "note",
        &week,
        "A week of long contexts: read Unbounded first.",
    ]);
    ok(&[
        "editions",
        "pin",
        &week,
        "arXiv:2410.18975v1",
        "--note",
        "A game that never ends.",
    ]);
    ok(&["editions", "pin", &week, "https://arxiv.org/abs/2410.17243"]);
    // Bad input is refused with what and where, and changes nothing.
    for (args, says) in [
        (
            vec!["editions", "pin", "W48", "2410.18975"],
            "not an edition",
        ),
        (
            vec!["editions", "pin", &week, "nope"],
            "not an arXiv identifier",
        ),
        (
            vec!["editions", "note", &week, &"x".repeat(501)],
            "at most 500",
        ),
    ] {
        let out = n.run(&args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}"
        );
    }

    // A test send shows the editor what Bob will get: the note and the pins first.
    ok(&[
        "send",
        "--to",
        "editor@example.org",
        "--as",
        "bob@example.org",
    ]);
    let (subject, text, _) = mail_to(&smtp, "editor@example.org");
    assert!(
        subject.starts_with("[test]") && subject.contains("Unbounded"),
        "{subject}"
    );
    assert!(text.contains("A week of long contexts") && text.contains("A game that never ends."));

    // Act: the edition goes out.
    ok(&["send"]);
    assert_eq!(smtp.messages().len(), 3);

    // Assert: Bob gets both pins first (the pin's note under the pinned paper), then one
    // paper of his own: three in all (max_papers). Ada does not get the pin she had.
    let (subject, text, html) = mail_to(&smtp, "bob@example.org");
    assert!(
        subject.contains("Unbounded") && subject.contains("and 2 more"),
        "{subject}"
    );
    for part in [&text, &html] {
        let note = part.find("A week of long contexts").expect("the note");
        assert!(
            note < part.find("At a glance").unwrap(),
            "the note comes first"
        );
        assert!(part.contains("A game that never ends."));
        let order = card_order(part, &[PINNED, TOP, SECOND, THIRD]);
        assert!(order[0] < order[1] && order[1] < order[2], "{order:?}");
        assert_eq!(order[3], None, "max_papers counts the pins");
    }
    let (_, text, html) = mail_to(&smtp, "ada@example.org");
    for part in [&text, &html] {
        assert!(part.contains("A week of long contexts"));
        assert!(
            !part.contains(PINNED),
            "never repeated to a reader who had it"
        );
        let order = card_order(part, &[TOP, SECOND, THIRD]);
        assert!(order.iter().all(Option::is_some), "{order:?}");
        assert!(order[0] < order[1] && order[1] < order[2]);
    }
    // A pin made after the readers were planned reaches no one in this edition, and a note
    // changed afterwards does not change what was sent.
    ok(&["editions", "pin", &week, "2410.18533"]);
    ok(&["editions", "note", &week, "Changed my mind."]);
    ok(&["send"]);
    assert_eq!(smtp.messages().len(), 3, "nothing new is planned or sent");

    // The web copy and the feed, through `paperpost serve`.
    let (mut serve, local) = support::cli::serving(&n.config).await;
    let http = reqwest::Client::new();
    let (_, text, html) = mail_to(&smtp, "ada@example.org");
    let public = "https://papers.example.org/";
    let copy_url = link_to(&html, &format!("{public}d/"));
    assert_eq!(
        link_to(&text, &format!("{public}d/")),
        copy_url,
        "in both parts"
    );
    assert!(copy_url.ends_with(&format!("/{week}")), "{copy_url}");
    let feed_url = link_to(&html, &format!("{public}feed/"));
    assert_eq!(link_to(&text, &format!("{public}feed/")), feed_url);
    let local_of = |u: &str| u.replace(public, &local);

    let copy = http.get(local_of(&copy_url)).send().await.unwrap();
    assert_eq!(copy.status(), 200);
    assert_eq!(copy.headers()["x-robots-tag"], "noindex, nofollow");
    assert!(
        copy.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("private")
    );
    // The mail's digest — note, pin, cards in the same order — without a link that could
    // lead from a read-only address to the reader's settings, and without their address.
    let page = copy.text().await.unwrap();
    assert!(page.contains("A week of long contexts"), "{page}");
    let order = card_order(&page, &[TOP, SECOND, THIRD]);
    assert!(
        order.iter().all(Option::is_some) && order[0] < order[1] && order[1] < order[2],
        "the web copy is the mail's digest: {order:?}"
    );
    let manage = link_to(&html, &format!("{public}preferences/"));
    let manage = manage.rsplit('/').next().unwrap();
    assert!(html.contains("ada@example.org") && !page.contains("ada@example.org"));
    for absent in [
        manage,
        "/preferences/",
        "/unsubscribe/",
        "/feedback/",
        "/feed/",
    ] {
        assert!(
            !page.contains(absent),
            "the web copy carries {absent}:\n{page}"
        );
    }

    let feed = http.get(local_of(&feed_url)).send().await.unwrap();
    assert_eq!(feed.status(), 200);
    assert_eq!(
        feed.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let etag = feed.headers()["etag"].to_str().unwrap().to_string();
    assert!(feed.headers().contains_key("last-modified"));
    let xml = feed.text().await.unwrap();
    let entries = atom_entries(&xml);
    let titles: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        titles.len(),
        4,
        "this digest's 3 papers and the earlier one: {titles:?}"
    );
    assert!(titles[0].starts_with(TOP), "{titles:?}");
    assert!(
        titles[3].starts_with(PINNED),
        "the earlier digest's pick, last: {titles:?}"
    );
    assert_eq!(
        entries[0].1, "https://arxiv.org/abs/2410.17243",
        "linked to the paper"
    );
    assert!(entries[0].2.contains("Editor's pick"), "with the why line");
    let again = http
        .get(local_of(&feed_url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // Wrong tokens, other editions, and the reader's links after unsubscribing: 404.
    let wrong = copy_url.replace("/d/", "/d/9").replace(&week, "2020-W01");
    let other = copy_url.replace(&week, "2020-W02");
    for url in [&wrong, &other] {
        let r = http.get(local_of(url)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{url}");
    }
    let unsubscribe = link_to(&text, &format!("{public}unsubscribe/"));
    let r = http
        .post(local_of(&unsubscribe))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    for url in [&copy_url, &feed_url] {
        let r = http.get(local_of(url)).send().await.unwrap();
        assert_eq!(r.status(), 404, "revoked: {url}");
    }
    support::cli::sigterm(&serve);
    assert!(serve.wait().unwrap().success());
}

/// (title, alternate link, summary) of each entry of an Atom feed, read with quick-xml;
/// fails on XML that is not well-formed or a feed without its required elements.
fn atom_entries(xml: &str) -> Vec<(String, String, String)> {
    use quick_xml::XmlVersion;
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut path, mut out, mut feed_has) = (Vec::<String>::new(), Vec::new(), Vec::new());
    let mut entry = (String::new(), String::new(), String::new(), false, false);
    let mut text = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "link" => {
                let attr = |k: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == k)
                        .map(|a| {
                            a.normalized_value(XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned()
                        })
                };
                if path.last().map(String::as_str) == Some("entry")
                    && attr("rel").as_deref() == Some("alternate")
                {
                    entry.1 = attr("href").unwrap();
                }
            }
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if path.is_empty() {
                    assert_eq!(name, "feed");
                    let ns = e.attributes().flatten().find(|a| a.key.as_ref() == "xmlns");
                    let ns = ns
                        .unwrap()
                        .normalized_value(XmlVersion::Implicit1_0)
                        .unwrap();
                    assert_eq!(ns, "http://www.w3.org/2005/Atom");
                }
                if path.len() == 1 {
                    feed_has.push(name.clone());
                }
                if name == "entry" {
                    entry = Default::default();
                }
                text.clear();
                path.push(name);
            }
            Event::Text(t) => text.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
            Event::GeneralRef(r) => {
                let c = match r.as_ref() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    other => panic!("unexpected entity &{other};"),
                };
                text.push(c);
            }
            Event::End(_) => {
                let t = std::mem::take(&mut text);
                match path.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                    ["feed", "entry", "title"] => entry.0 = t,
                    ["feed", "entry", "summary"] => entry.2 = t,
                    ["feed", "entry", "id"] => entry.3 = !t.is_empty(),
                    ["feed", "entry", "updated"] => {
                        entry.4 = chrono::DateTime::parse_from_rfc3339(&t).is_ok()
                    }
                    _ => {}
                }
                if path.pop().as_deref() == Some("entry") {
                    assert!(
                        entry.3 && entry.4,
                        "every entry has an id and an RFC 3339 updated"
                    );
                    out.push((entry.0.clone(), entry.1.clone(), entry.2.clone()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    for required in ["title", "id", "updated", "author"] {
        assert!(
            feed_has.iter().any(|n| n == required),
            "feed has no {required}"
        );
    }
    out
}
