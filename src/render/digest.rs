//! A [`Digest`] to a subject, an HTML part and a text part; and the same body as a web page.
use maud::{Markup, html};

use crate::domain::{Digest, shorten};

use super::components::{Linkified, PaperCard, section_heading};
use super::layout::{self, FooterLinks};
use super::style;
use super::text::{TextSection, WIDTH, render_text, wrap};
use super::view::{self, PaperView};
use super::wording::WORDING;

/// What the renderer needs to know about the newsletter and the reader.
#[derive(Debug, Clone, Copy)]
pub struct EmailContext<'a> {
    /// e.g. "paperpost"
    pub newsletter_name: &'a str,
    /// The public site, e.g. `https://papers.example.org/`.
    pub base_url: &'a url::Url,
    /// One-click unsubscribe page for this reader; empty for none (a web copy).
    pub unsubscribe_url: &'a str,
    pub preferences_url: Option<&'a str>,
    pub archive_url: Option<&'a str>,
    /// This reader's feedback URL ending in `/` (`…/feedback/{token}/`): each paper gets
    /// 👍/👎 links under it. `None` on public pages.
    pub feedback_url: Option<&'a str>,
    /// Why the reader gets this, e.g. "You subscribed to paperpost with ada@example.org and follow: diffusion, cs.CL."
    pub why_line: &'a str,
    /// `[render] abstract = "full"`: each card shows the abstract under its summary.
    pub full_abstract: bool,
    /// This reader's web copy of this digest (`…/d/{token}/{edition}`): "View in browser"
    /// near the top. `None` on public pages.
    pub web_copy_url: Option<&'a str>,
    /// This reader's private Atom feed (`…/feed/{token}.xml`), in the footer.
    pub feed_url: Option<&'a str>,
}

/// One rendered edition, ready for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedDigest {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// "paperpost: Scaling Diffusion Models to Millions of… and 11 more — week of 2026-11-23":
/// the top paper's title (TeX converted, shortened), the count, the period.
pub fn digest_subject(digest: &Digest, newsletter_name: &str) -> String {
    let n = digest.editors().picks.len() + digest.picks().len();
    let period = digest.period().label();
    match view::top_title(digest) {
        Some(title) if n > 1 => format!("{newsletter_name}: {title} and {} more — {period}", n - 1),
        Some(title) => format!("{newsletter_name}: {title} — {period}"),
        None => format!("{newsletter_name}: {}", view::heading(digest)),
    }
}

/// Renders the email: subject, HTML part (with the unsubscribe footer) and text part.
pub fn render_digest(digest: &Digest, ctx: &EmailContext<'_>) -> RenderedDigest {
    render_with(digest, ctx, sections_of(digest), None)
}

/// The paper views of a digest, by section, and the editor's note.
struct Sections {
    /// The editor's note, paragraph by paragraph (empty: none).
    note: Vec<String>,
    /// The editor's picks, first.
    editors: Vec<PaperView>,
    main: Vec<PaperView>,
    more_like: Vec<PaperView>,
}

impl Sections {
    /// The papers listed at a glance: the editor's picks, then the reader's.
    fn glance(&self) -> Vec<&PaperView> {
        self.editors.iter().chain(&self.main).collect()
    }
}

fn sections_of(digest: &Digest) -> Sections {
    Sections {
        note: view::editors_note(digest),
        editors: view::editors_picks(digest),
        main: view::papers(digest),
        more_like: view::more_like(digest),
    }
}

/// The same email marked as a test send (`paperpost send --to`): the subject starts with
/// "[test]" and both parts open with a banner saying so and what `note` says (whose digest
/// it is), so a test that reaches someone by mistake cannot pass for an edition.
pub fn render_test_digest(digest: &Digest, ctx: &EmailContext<'_>, note: &str) -> RenderedDigest {
    let mut r = render_with(digest, ctx, sections_of(digest), Some(note));
    r.subject = format!("[test] {}", r.subject);
    let banner = format!("TEST SEND, not an edition. {note}");
    r.text = format!(
        "{}{}\n{}",
        wrap(&banner, WIDTH, "", ""),
        "=".repeat(WIDTH),
        r.text
    );
    r
}

const TEST_BANNER: &str = "padding:12px 28px;background:#fff4ce;color:#5c3c00;font-size:14px;line-height:20px;border-bottom:2px solid #e0b400";

/// [`render_digest`], reusing paper views from `cache` (the same output).
pub fn render_digest_cached(
    digest: &Digest,
    ctx: &EmailContext<'_>,
    cache: &view::ViewCache,
) -> RenderedDigest {
    let sections = Sections {
        note: view::editors_note(digest),
        editors: view::editors_picks(digest),
        main: view::papers_cached(digest.picks(), cache),
        more_like: view::papers_cached(digest.more_like(), cache),
    };
    render_with(digest, ctx, sections, None)
}

fn render_with(
    digest: &Digest,
    ctx: &EmailContext<'_>,
    papers: Sections,
    test_note: Option<&str>,
) -> RenderedDigest {
    let heading = view::heading(digest);
    let intro = view::intro(digest);
    let subject = digest_subject(digest, ctx.newsletter_name);
    // An empty unsubscribe URL: a reader's web copy, which carries none of their links.
    let footer = footer_links(ctx, Some(ctx.unsubscribe_url).filter(|u| !u.is_empty()));
    let html = layout::page(
        &subject,
        &preheader(&papers),
        html! {
            @if let Some(note) = test_note {
                tr { td style=(TEST_BANNER) { strong { "Test send" } ", not an edition. " (note) } }
            }
            (body(ctx, &heading, intro, &papers, &footer))
        },
    );
    let text = render_text(
        ctx.newsletter_name,
        &heading,
        intro,
        &papers.note,
        &text_sections(ctx, &papers),
        &footer,
        ctx.full_abstract,
    );
    RenderedDigest {
        subject,
        html: html.into_string(),
        text,
    }
}

/// The email's body as a standalone page (`paperpost preview`, the web archive). Without a
/// digest it shows `title` and an "empty" note. The footer carries no unsubscribe link.
pub fn render_preview_page(digest: Option<&Digest>, ctx: &EmailContext<'_>, title: &str) -> Markup {
    let footer = footer_links(ctx, None);
    match digest {
        Some(d) => {
            let papers = sections_of(d);
            let body = body(ctx, &view::heading(d), view::intro(d), &papers, &footer);
            layout::page(title, &preheader(&papers), body)
        }
        None => {
            let rows = html! {
                (layout::header(ctx.newsletter_name, ctx.base_url.as_str(), title, &WORDING.heading.empty))
                (layout::footer(&footer))
            };
            layout::page(title, "", rows)
        }
    }
}

fn footer_links<'a>(ctx: &EmailContext<'a>, unsubscribe_url: Option<&'a str>) -> FooterLinks<'a> {
    FooterLinks {
        why_line: ctx.why_line,
        web_copy_url: ctx.web_copy_url,
        feed_url: ctx.feed_url,
        preferences_url: ctx.preferences_url,
        archive_url: ctx.archive_url,
        unsubscribe_url,
        newsletter_name: ctx.newsletter_name,
        base_url: ctx.base_url.as_str(),
    }
}

fn body(
    ctx: &EmailContext<'_>,
    heading: &str,
    intro: &str,
    papers: &Sections,
    footer: &FooterLinks<'_>,
) -> Markup {
    let feedback_base = view::feedback_base(ctx.feedback_url);
    let card = |v: &PaperView, number: usize| {
        let feedback = view::feedback_links(feedback_base, v);
        html! { (PaperCard { view: v, number, feedback: feedback.as_ref(), full_abstract: ctx.full_abstract }) }
    };
    let first_main = papers.editors.len() + 1;
    let first_more = first_main + papers.main.len();
    let glance = papers.glance();
    html! {
        (layout::header(ctx.newsletter_name, ctx.base_url.as_str(), heading, intro))
        @if footer.unsubscribe_url.is_some() || footer.web_copy_url.is_some() {
            // Above the papers too, so Gmail's clipping of a long mail cannot hide it.
            (layout::top_links(footer))
        }
        @if !papers.note.is_empty() {
            (EditorsNote(&papers.note))
        }
        @if glance.len() > 1 {
            (Glance(&glance))
        }
        @for (i, v) in papers.editors.iter().enumerate() {
            @if i == 0 {
                tr { td.pp-mu style=(style::SECTION) { (v.why.as_deref().unwrap_or("")) } }
            }
            (card(v, i + 1))
        }
        @for (i, v) in papers.main.iter().enumerate() {
            // The reason is said once for a run of papers picked for it, not on every card.
            @if v.why.is_some() && (i == 0 || papers.main[i - 1].why != v.why) {
                tr { td.pp-mu style=(style::SECTION) { (v.why.as_deref().unwrap_or("")) } }
            }
            (card(v, first_main + i))
        }
        @if !papers.more_like.is_empty() {
            (section_heading(&WORDING.heading.more_like, &WORDING.heading.more_like_intro))
            @for (i, v) in papers.more_like.iter().enumerate() {
                @if v.why.is_some() && (i == 0 || papers.more_like[i - 1].why != v.why) {
                    tr { td.pp-mu style=(style::SECTION) { (v.why.as_deref().unwrap_or("")) } }
                }
                (card(v, first_more + i))
            }
        }
        (layout::footer(footer))
    }
}

/// The sections as the text part writes them: (heading, intro, papers with their 👍/👎
/// links); the main picks have no heading.
fn text_sections<'a>(ctx: &EmailContext<'_>, papers: &'a Sections) -> Vec<TextSection<'a>> {
    let feedback_base = view::feedback_base(ctx.feedback_url);
    let with_links = |views: &'a [PaperView]| {
        views
            .iter()
            .map(|v| (v, view::feedback_links(feedback_base, v)))
            .collect()
    };
    let mut out = Vec::new();
    if !papers.editors.is_empty() {
        out.push(TextSection {
            heading: None,
            papers: with_links(&papers.editors),
            in_glance: true,
        });
    }
    out.push(TextSection {
        heading: None,
        papers: with_links(&papers.main),
        in_glance: true,
    });
    if !papers.more_like.is_empty() {
        out.push(TextSection {
            heading: Some((&WORDING.heading.more_like, &WORDING.heading.more_like_intro)),
            papers: with_links(&papers.more_like),
            in_glance: false,
        });
    }
    out
}

/// The editor's note on the edition, above the papers.
struct EditorsNote<'a>(&'a [String]);

impl maud::Render for EditorsNote<'_> {
    fn render(&self) -> Markup {
        html! {
            tr { td.pp-card.pp-note bgcolor="#fffbeb" style=(style::NOTE) {
                h2.pp-tx style=(style::GLANCE_H) { (WORDING.heading.editors_note) }
                @for p in self.0 {
                    p.pp-tx style=(style::GLANCE_LI) { (Linkified(p)) }
                }
            } }
            tr { td style=(style::SPACER) { "\u{a0}" } }
        }
    }
}

/// The week at a glance: every paper's title (linked to its page) and upvotes, the
/// editor's picks first and starred.
struct Glance<'a>(&'a [&'a PaperView]);

impl maud::Render for Glance<'_> {
    fn render(&self) -> Markup {
        html! {
            tr { td.pp-card.pp-glance bgcolor="#ffffff" style=(style::GLANCE) {
                h2.pp-tx style=(style::GLANCE_H) { (WORDING.heading.glance) }
                @for (i, v) in self.0.iter().enumerate() {
                    p.pp-tx style=(style::GLANCE_LI) {
                        (i + 1) ". "
                        @if v.pinned { "★ " }
                        // Linked to the paper's page: in-mail anchors fail in Gmail's and
                        // Outlook's apps (caniemail).
                        @let title = shorten(&v.title, view::GLANCE_TITLE_CHARS);
                        @if let Some(href) = &v.title_url {
                            a.pp-a href=(href) style=(style::TITLE_LINK) { (title) }
                        } @else {
                            (title)
                        }
                        @if let Some(up) = v.upvotes_count {
                            span.pp-mu style=(style::SEP) { " · ▲ " (up) }
                        }
                    }
                }
            } }
            tr { td style=(style::SPACER) { "\u{a0}" } }
        }
    }
}

/// The inbox preview line: the first titles.
fn preheader(papers: &Sections) -> String {
    let titles: Vec<&str> = papers
        .editors
        .iter()
        .chain(&papers.main)
        .chain(&papers.more_like)
        .take(3)
        .map(|p| p.title.as_str())
        .collect();
    shorten(&titles.join(" · "), 140).into_owned()
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::domain::{NOTE_MAX_CHARS, Paper, PaperId, Period, Pick};
    use crate::render::sample_digest;

    const UNSUB: &str = "https://papers.example.org/u/42.secret?one-click=1&x=y";
    const PREFS: &str = "https://papers.example.org/p/42.secret";
    const FEEDBACK: &str = "https://papers.example.org/feedback/42.secret/";
    const WEB_COPY: &str = "https://papers.example.org/d/42.secret/2026-W48";
    const FEED: &str = "https://papers.example.org/feed/42.secret.xml";

    fn with_ctx<T>(f: impl FnOnce(&EmailContext<'_>) -> T) -> T {
        let base = url::Url::parse("https://papers.example.org/").unwrap();
        let ctx = EmailContext {
            newsletter_name: "paperpost",
            base_url: &base,
            unsubscribe_url: UNSUB,
            preferences_url: Some(PREFS),
            archive_url: Some("https://papers.example.org/archive"),
            feedback_url: Some(FEEDBACK),
            why_line: "You subscribed to paperpost with ada@example.org and follow: diffusion, cs.CL.",
            full_abstract: false,
            web_copy_url: Some(WEB_COPY),
            feed_url: Some(FEED),
        };
        f(&ctx)
    }

    #[test]
    fn cached_views_render_the_same_email() {
        let digest = sample_digest(5);
        let cache = view::ViewCache::default();
        with_ctx(|ctx| {
            let plain = render_digest(&digest, ctx);
            for _ in 0..2 {
                let cached = render_digest_cached(&digest, ctx, &cache);
                assert_eq!(
                    (&cached.subject, &cached.html, &cached.text),
                    (&plain.subject, &plain.html, &plain.text)
                );
            }
        });
    }

    #[test]
    fn cards_rendered_once_per_paper_read_the_same_in_every_readers_digest() {
        // Three readers get the same papers in other orders, for other reasons, with their
        // own links, in both abstract modes; one cache serves them all.
        let papers: Vec<Paper> = sample_digest(6)
            .picks()
            .iter()
            .map(|p| p.paper.clone())
            .collect();
        let cache = view::ViewCache::default();
        let base = url::Url::parse("https://papers.example.org/").unwrap();
        for (reader, (order, reason)) in [
            (vec![0, 1, 2, 3, 4, 5], "diffusion"),
            (vec![5, 3, 1], "cs.CL"),
            (vec![2, 0, 4, 1], "author:Hinton"),
        ]
        .into_iter()
        .enumerate()
        {
            let picks: Vec<Pick> = order
                .iter()
                .map(|&i| Pick {
                    paper: papers[i].clone(),
                    reasons: vec![reason.into()],
                })
                .collect();
            let period = Period::week_of(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
            let at = Utc.with_ymd_and_hms(2026, 11, 30, 7, 0, 0).unwrap();
            let digest = Digest::new(period, picks, false, at).unwrap();
            let feedback = format!("https://papers.example.org/feedback/{reader}.secret/");
            for full_abstract in [false, true] {
                let ctx = EmailContext {
                    newsletter_name: "paperpost",
                    base_url: &base,
                    unsubscribe_url: UNSUB,
                    preferences_url: Some(PREFS),
                    archive_url: None,
                    feedback_url: Some(&feedback),
                    why_line: "why",
                    full_abstract,
                    web_copy_url: None,
                    feed_url: None,
                };
                let plain = render_digest(&digest, &ctx);
                let cached = render_digest_cached(&digest, &ctx, &cache);
                assert_eq!(
                    cached.html, plain.html,
                    "reader {reader}, full {full_abstract}"
                );
                assert_eq!(
                    cached.text, plain.text,
                    "reader {reader}, full {full_abstract}"
                );
                assert!(
                    cached.html.contains(&feedback.to_string()),
                    "their own links"
                );
                assert!(cached.text.contains(reason));
            }
        }
    }

    #[test]
    fn a_feedback_address_that_is_not_a_plain_http_url_gets_no_links() {
        assert_eq!(
            view::feedback_base(Some("https://papers.example.org/feedback/1.a/")),
            Some("https://papers.example.org/feedback/1.a/")
        );
        for bad in [
            "javascript:alert(1)//",
            "https://papers.example.org/feedback/1.a",
            "HTTPS://Papers.Example.org/feedback/1.a/",
            "https://papers.example.org/feed back/",
        ] {
            assert_eq!(view::feedback_base(Some(bad)), None, "{bad}");
        }
    }

    fn digest_of(papers: Vec<Paper>, trending: bool) -> Digest {
        let picks = papers
            .into_iter()
            .map(|paper| Pick {
                paper,
                reasons: vec!["diffusion model".into()],
            })
            .collect();
        let period = Period::week_of(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 7, 0, 0).unwrap();
        Digest::new(period, picks, trending, at).unwrap()
    }

    /// Every `href="…"` value, with the `&amp;` maud writes turned back into `&`.
    fn hrefs(html: &str) -> Vec<String> {
        html.split("href=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].replace("&amp;", "&"))
            .collect()
    }

    #[test]
    fn feed_text_is_escaped_and_unsafe_urls_are_not_links() {
        let evil = r#"<script>alert(1)</script> & "x""#;
        let paper = Paper {
            title: evil.into(),
            abstract_text: format!("Abstract with {evil}"),
            authors: vec![evil.into()],
            abs_url: Some("javascript:alert(1)".into()),
            code_url: Some("  JavaScript:alert(2)".into()),
            thumbnail: Some("javascript:alert(3)".into()),
            ..Paper::default()
        };
        let r = with_ctx(|ctx| render_digest(&digest_of(vec![paper], false), ctx));
        assert!(!r.html.contains("<script"), "{}", r.html);
        assert!(!r.html.to_lowercase().contains("javascript:"));
        assert!(
            r.html
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;")
        );
        assert!(!r.html.contains("<img"), "an unsafe thumbnail is dropped");
        assert!(r.text.contains(evil), "the text part reads as written");
        assert!(!r.text.contains("javascript:"));
    }

    #[test]
    fn tex_in_titles_abstracts_and_names_reads_as_unicode_in_both_parts() {
        let paper = Paper {
            id: Some(PaperId::external("https://example.org/tex")),
            title: "Sorting in $O(n \\log n)$ with $\\mathcal{L}_{\\text{KL}}$".into(),
            abstract_text:
                "We bound $\\alpha \\leq \\frac{1}{2}$ for $x \\in \\mathbb{R}^d$ at $5 per run."
                    .into(),
            authors: vec![
                "Paulo Andr\\'e Lima de Castro".into(),
                "Alfr\\'{e}d R\\'{e}nyi".into(),
            ],
            ..Paper::default()
        };
        let r = with_ctx(|ctx| render_digest(&digest_of(vec![paper], false), ctx));
        for part in [&r.html, &r.text] {
            assert!(part.contains("Sorting in O(n log n) with ℒ_KL"), "{part}");
            assert!(part.contains("We bound α ≤ 1/2 for x ∈ ℝᵈ at $5 per run."));
            assert!(part.contains("Paulo André Lima de Castro, Alfréd Rényi"));
            assert!(!part.contains("\\log") && !part.contains("\\'"));
        }
    }

    /// Twenty papers carrying every field at its longest: 300-character titles full of TeX,
    /// 80 authors, 2,000-character abstracts, every link, keywords, AI summaries, thumbnails.
    fn maximal_digest() -> Digest {
        let papers = sample_digest(20)
            .picks()
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut paper = p.paper.clone();
                paper.title = format!("{i} $\\mathcal{{L}}_{{\\text{{KL}}}}$ ").repeat(40);
                paper.ai_keywords = (0..12).map(|k| format!("keyword number {k}")).collect();
                paper.ai_summary = Some("A summary sentence that goes on. ".repeat(20));
                paper.published = Some(Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap());
                paper.comment = Some("x".repeat(500));
                paper
            })
            .collect();
        digest_of(papers, false)
    }

    /// `d` with its first `pins` papers pinned by the editor (each with a note) and an
    /// editor's note of `note_chars` characters.
    fn edited(d: &Digest, pins: usize, note_chars: usize) -> Digest {
        use crate::domain::{EditorsPick, EditorsSection};
        let editors = EditorsSection {
            note: Some(
                "A week of long contexts. See https://example.org/notes for more. "
                    .repeat(note_chars / 64 + 1)
                    .chars()
                    .take(note_chars)
                    .collect(),
            ),
            picks: d.picks()[..pins]
                .iter()
                .map(|p| EditorsPick {
                    paper: p.paper.clone(),
                    note: Some(format!("Read this one first: {}", "why ".repeat(45))),
                })
                .collect(),
        };
        Digest::with_editors(
            d.period(),
            editors,
            d.picks()[pins..].to_vec(),
            d.more_like().to_vec(),
            d.is_trending(),
            d.generated_at(),
        )
        .unwrap()
    }

    #[test]
    fn the_editors_note_and_picks_head_both_parts_with_the_web_copy_and_feed_links() {
        let d = edited(&sample_digest(4), 1, 120);
        let pinned = &d.editors().picks[0].paper.title;
        let r = with_ctx(|ctx| render_digest(&d, ctx));
        // The subject names the editor's pick and counts every paper.
        assert!(r.subject.contains(pinned.as_str()) && r.subject.contains("and 3 more"));
        let rule = "-".repeat(78);
        for (part, note_heading, glance, cards_start) in [
            (&r.html, "From the editor", "At a glance", "id=\"p1\""),
            (&r.text, "FROM THE EDITOR", "At a glance", rule.as_str()),
        ] {
            let note = part.find(note_heading).expect(note_heading);
            let said = part.find("A week of long contexts.").unwrap();
            let glance = part.find(glance).unwrap();
            assert!(note < said && said < glance, "the note comes first");
            let star = glance + part[glance..].find("★ ").unwrap();
            let listed = glance + part[glance..].find(pinned.as_str()).unwrap();
            assert!(star < listed, "starred at a glance");
            // The pinned card, marked, comes before the reader's own picks.
            let mark = glance + part[glance..].find("★ Editor's pick").unwrap();
            let cards = glance + part[glance..].find(cards_start).unwrap();
            let pinned_card = mark + part[mark..].find(pinned.as_str()).unwrap();
            let own = mark + part[mark..].find(&d.picks()[0].paper.title).unwrap();
            assert!(cards < pinned_card && mark < pinned_card && pinned_card < own);
            assert!(part.contains("Read this one first"));
            assert!(part.contains(WEB_COPY) && part.contains(FEED));
            assert!(
                part.find(WEB_COPY).unwrap() < glance,
                "View in browser near the top"
            );
        }
        assert!(
            r.html
                .contains("<strong>Editor's note: </strong>Read this one first")
        );
        assert!(r.text.contains("Editor's note: Read this one first"));
        assert!(r.html.contains(">View in browser</a>") && r.text.contains("View in browser: "));
        assert!(r.html.contains(">Your Atom feed</a>") && r.text.contains("Your Atom feed: "));
        assert!(
            r.html.contains("href=\"https://example.org/notes\""),
            "links in the note are links"
        );
        assert!(r.html.contains("4 new papers for you"));
    }

    #[test]
    fn any_twenty_paper_digest_stays_under_90_kb_whatever_its_papers_carry() {
        for full_abstract in [false, true] {
            let r = with_ctx(|ctx| {
                let ctx = EmailContext {
                    full_abstract,
                    ..*ctx
                };
                // With the longest editor's note and three pinned papers with notes.
                let base = render_digest(&maximal_digest(), &ctx);
                println!("without the editor: HTML {} B", base.html.len());
                render_digest(&edited(&maximal_digest(), 3, NOTE_MAX_CHARS), &ctx)
            });
            let total = r.html.len() + r.text.len();
            println!(
                "maximal 20-paper digest, full_abstract={full_abstract}: HTML {} B, text {} B",
                r.html.len(),
                r.text.len()
            );
            assert!(
                r.html.len() < 90_000 && total < 150_000,
                "full_abstract={full_abstract}: HTML {} bytes, text {} bytes",
                r.html.len(),
                r.text.len()
            );
            assert!(r.html.contains("et al. (80 authors)"));
            // The unsubscribe link comes before the first paper, not only in the footer.
            let unsub = r
                .html
                .find("href=\"https://papers.example.org/u/42.secret")
                .unwrap();
            assert!(unsub < r.html.find("id=\"p1\"").unwrap());
        }
    }

    #[test]
    fn the_digest_opens_with_every_paper_at_a_glance_then_the_cards() {
        let d = sample_digest(5);
        let r = with_ctx(|ctx| render_digest(&d, ctx));
        let glance = r.html.find("At a glance").unwrap();
        let first_card = r.html.find("id=\"p1\"").unwrap();
        assert!(glance < first_card);
        for p in d.picks() {
            let title = &p.paper.title;
            assert!(
                r.html[glance..first_card].contains(title.as_str()),
                "{title}"
            );
        }
        assert!(r.text.find("At a glance").unwrap() < r.text.find("1. Scaling").unwrap());
        // The reason stands once per run of papers picked for it, not on every card.
        assert_eq!(r.html.matches("Matched: diffusion model, cs.CL").count(), 2);
    }

    #[test]
    fn thumbnails_are_small_decorative_images_of_a_fixed_size() {
        let r = with_ctx(|ctx| render_digest(&sample_digest(3), ctx));
        assert_eq!(r.html.matches("<img").count(), 3);
        assert_eq!(
            r.html
                .matches("alt=\"\" width=\"112\" height=\"59\"")
                .count(),
            3
        );
    }

    #[test]
    fn a_card_shows_a_short_summary_its_date_and_linked_urls() {
        let paper = Paper {
            id: Some(PaperId::external("https://example.org/sum")),
            title: "Summaries".into(),
            abstract_text: "First sentence is here. Code is at https://github.com/x/y. \
                A third sentence that is long enough to be cut away from the summary for sure, \
                since it keeps going on and on and on and on and on and on and on and on and on \
                and on and on and on and on and on and on and on about nothing much at all."
                .into(),
            published: Some(Utc.with_ymd_and_hms(2022, 3, 1, 0, 0, 0).unwrap()),
            ..Paper::default()
        };
        let r = with_ctx(|ctx| render_digest(&digest_of(vec![paper], false), ctx));
        assert!(r.html.contains("First sentence is here. Code is at <a"));
        assert!(r.html.contains("href=\"https://github.com/x/y\""));
        assert!(!r.html.contains("third sentence"), "cut at a sentence end");
        assert!(r.html.contains("2022-03-01") && r.text.contains("2022-03-01"));
    }

    #[test]
    fn the_text_part_has_every_link_of_the_html_part() {
        let r = with_ctx(|ctx| render_digest(&sample_digest(5), ctx));
        let links = hrefs(&r.html);
        assert!(links.iter().any(|l| l == UNSUB) && links.iter().any(|l| l == PREFS));
        assert!(links.iter().any(|l| l.contains("arxiv.org/abs/")));
        // In-mail anchors (the glance list's `#p1`) have no text counterpart.
        for link in links.iter().filter(|l| !l.starts_with('#')) {
            assert!(
                r.text.contains(link.as_str()),
                "{link} missing from:\n{}",
                r.text
            );
        }
    }

    #[test]
    fn papers_appear_in_the_same_order_in_both_parts() {
        let d = sample_digest(4);
        let r = with_ctx(|ctx| render_digest(&d, ctx));
        let positions = |s: &str| -> Vec<usize> {
            d.picks()
                .iter()
                .map(|p| s.find(&p.paper.title).unwrap())
                .collect()
        };
        for part in [&r.html, &r.text] {
            let pos = positions(part);
            assert!(pos.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn headings_and_subjects_count_and_name_the_period() {
        let one = digest_of(vec![sample_digest(1).picks()[0].paper.clone()], false);
        let many = sample_digest(12);
        let trending = digest_of(many.picks().iter().map(|p| p.paper.clone()).collect(), true);
        assert_eq!(
            digest_subject(&one, "paperpost"),
            "paperpost: Scaling Diffusion Models to Millions of Tokens: Paper 1 — week of 2026-11-23"
        );
        assert_eq!(
            digest_subject(&many, "paperpost"),
            "paperpost: Scaling Diffusion Models to Millions of Tokens: Paper 1 and 11 more — week of 2026-11-23"
        );
        assert_eq!(
            digest_subject(&trending, "paperpost"),
            "paperpost: Scaling Diffusion Models to Millions of Tokens: Paper 1 and 11 more — week of 2026-11-23"
        );
        let tex = digest_of(
            vec![Paper {
                title: "Why $\\mathcal{L}_{\\text{KL}}$ collapses in very long, very deep, very wide transformers at scale".into(),
                ..Paper::default()
            }],
            false,
        );
        let subject = digest_subject(&tex, "paperpost");
        assert_eq!(
            subject,
            "paperpost: Why ℒ_KL collapses in very long, very deep, very wide transformers at… — week of 2026-11-23"
        );
        let r = with_ctx(|ctx| render_digest(&many, ctx));
        assert!(
            r.html
                .contains("12 new papers for you — week of 2026-11-23")
        );
        assert!(
            r.text
                .contains("12 new papers for you — week of 2026-11-23")
        );
        let r = with_ctx(|ctx| render_digest(&trending, ctx));
        assert!(
            r.html
                .contains("The 12 trending papers — week of 2026-11-23")
        );
    }

    #[test]
    fn missing_optional_fields_leave_no_empty_placeholders() {
        let bare = Paper {
            id: Some(PaperId::external("https://example.org/paper")),
            title: "A bare paper".into(),
            ..Paper::default()
        };
        let r = with_ctx(|ctx| render_digest(&digest_of(vec![bare], false), ctx));
        assert!(!r.html.contains("<img"));
        assert!(!r.html.contains("upvote") && !r.html.contains("comment"));
        assert!(!r.html.contains("AI summary"));
        assert!(!r.html.contains("<p></p>") && !r.html.contains("href=\"\""));
        assert!(
            !r.html.contains("class=\"pp-b\""),
            "no category pill without a category"
        );
        // Its title links to the page its id was made from, and nothing else is made up.
        assert!(r.html.contains("href=\"https://example.org/paper\""));
        assert!(r.html.contains(">A bare paper</a></h2>"), "{}", r.html);
        assert!(!r.text.contains("PDF:") && !r.text.contains("arxiv.org"));
        // A DOI paper: its DOI's resolver link, no arXiv or PDF link.
        let doi = Paper {
            id: PaperId::from_doi("10.1101/2024.01.01.123456"),
            title: "A preprint".into(),
            ..Paper::default()
        };
        let r = with_ctx(|ctx| render_digest(&digest_of(vec![doi], false), ctx));
        assert!(
            r.html
                .contains("href=\"https://doi.org/10.1101/2024.01.01.123456\"")
        );
        assert!(r.text.contains("https://doi.org/10.1101/2024.01.01.123456"));
        assert!(!r.html.contains("arxiv.org") && !r.text.contains("PDF:"));
    }

    #[test]
    fn the_html_is_email_safe() {
        let r = with_ctx(|ctx| render_digest(&sample_digest(3), ctx));
        let h = &r.html;
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("<html lang=\"en\""));
        assert!(h.contains("<meta name=\"color-scheme\" content=\"light dark\">"));
        assert!(h.contains("<meta name=\"supported-color-schemes\" content=\"light dark\">"));
        assert!(h.contains("prefers-color-scheme:dark"));
        assert!(h.contains("max-width:600px"));
        assert!(!h.contains("<script") && !h.contains("<link"));
        assert_eq!(
            h.matches("<table").count(),
            h.matches("role=\"presentation\"").count()
        );
        assert_eq!(h.matches("<img").count(), h.matches(" alt=\"").count());
        assert!(h.contains("mso-hide:all"), "hidden preheader");
    }

    #[test]
    fn a_more_like_section_follows_the_picks_with_feedback_links_in_both_parts() {
        let sample = sample_digest(3);
        let mut liked = sample.picks()[2].clone();
        liked.reasons = vec![crate::recommend::like_reason("Attention Is All You Need")];
        let digest = Digest::with_more_like(
            sample.period(),
            sample.picks()[..2].to_vec(),
            vec![liked.clone()],
            false,
            sample.generated_at(),
        )
        .unwrap();
        let r = with_ctx(|ctx| render_digest(&digest, ctx));
        let id = liked.paper.id.clone().unwrap();
        let like = format!("{FEEDBACK}{id}?v=like");
        let dislike = format!("{FEEDBACK}{id}?v=dislike");
        for part in [&r.html, &r.text] {
            let section = part
                .find("More like what you liked")
                .or_else(|| part.find("MORE LIKE WHAT YOU LIKED"));
            let section = section.expect("the section heading");
            assert!(part.find(&sample.picks()[1].paper.title).unwrap() < section);
            assert!(part.find(&liked.paper.title).unwrap() > section);
            // The text part writes a run's reason in capitals.
            assert!(
                part.to_lowercase()
                    .contains("close to papers you liked: “attention is all you need”")
            );
        }
        assert!(
            r.html
                .contains(&format!("href=\"{}\"", like.replace('&', "&amp;")))
        );
        assert!(r.text.contains(&like) && r.text.contains(&dislike));
        assert_eq!(r.html.matches("?v=like").count(), 3, "one 👍 per paper");
        // The subject names the top pick; the "more like" papers are not counted as picks.
        assert!(
            r.subject.contains("Scaling Diffusion Models") && r.subject.contains("and 1 more"),
            "{}",
            r.subject
        );
        // Public pages carry no feedback links.
        let page = with_ctx(|ctx| {
            let public = EmailContext {
                feedback_url: None,
                ..*ctx
            };
            render_preview_page(Some(&digest), &public, "Preview").into_string()
        });
        assert!(!page.contains("?v=like") && page.contains("More like what you liked"));
    }

    #[test]
    fn the_preview_page_has_the_body_but_no_unsubscribe_link() {
        let d = sample_digest(2);
        let (page, empty) = with_ctx(|ctx| {
            (
                render_preview_page(Some(&d), ctx, "Preview").into_string(),
                render_preview_page(None, ctx, "Nothing yet").into_string(),
            )
        });
        assert!(page.contains(&d.picks()[1].paper.title));
        assert!(!page.contains(UNSUB.split('?').next().unwrap()));
        assert!(page.contains("<title>Preview</title>"));
        assert!(empty.contains("Nothing yet") && empty.contains(&WORDING.heading.empty));
    }
}
