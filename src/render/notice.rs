//! Short transactional mails (confirm your address, you're already subscribed) in the
//! digest's look: the same shell, header, card and footer, plus one call-to-action button.
//! Also the paper cards alone, for web pages that show a few papers of an edition.
use maud::{Markup, html};

use crate::domain::Digest;

use super::components::PaperCard;
use super::layout::{self, FooterLinks};
use super::style as s;
use super::text::{WIDTH, wrap};
use super::view;

/// What a notice says. Paragraphs are plain text (escaped); the button is the one action.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    pub newsletter_name: &'a str,
    pub base_url: &'a url::Url,
    pub subject: &'a str,
    pub heading: &'a str,
    pub paragraphs: &'a [&'a str],
    /// Label and absolute URL of the button; the URL is also printed for copy and paste.
    pub button: Option<(&'a str, &'a str)>,
    /// Small print under the button ("If you did not ask for this, ignore this mail.").
    pub small_print: &'a [&'a str],
}

/// A rendered notice: subject, HTML part, text part (the text part carries every link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedNotice {
    pub subject: String,
    pub html: String,
    pub text: String,
}

const BUTTON_CELL: &str = "border-radius:8px;background:#1a56db";
const BUTTON: &str = "display:inline-block;padding:12px 22px;font-size:15px;line-height:20px;font-weight:700;color:#ffffff;text-decoration:none;border-radius:8px";
const PARA: &str = "margin:0 0 14px;font-size:15px;line-height:23px;color:#30363d";
const RAW_LINK: &str =
    "margin:14px 0 0;font-size:12px;line-height:18px;color:#5b6270;word-break:break-all";
/// Long links must wrap on phones (the digest's link style never wraps).
const RAW_LINK_A: &str =
    "color:#1a56db;text-decoration:none;word-break:break-all;overflow-wrap:anywhere";
const SMALL: &str = "margin:14px 0 0;font-size:12px;line-height:18px;color:#5b6270";

pub fn render_notice(n: &Notice<'_>) -> RenderedNotice {
    let footer = FooterLinks {
        why_line: "",
        web_copy_url: None,
        feed_url: None,
        preferences_url: None,
        archive_url: None,
        unsubscribe_url: None,
        newsletter_name: n.newsletter_name,
        base_url: n.base_url.as_str(),
    };
    let rows = html! {
        (layout::header(n.newsletter_name, n.base_url.as_str(), n.heading, ""))
        tr { td.pp-card bgcolor="#ffffff" style=(s::CARD) {
            @for p in n.paragraphs {
                p.pp-tx style=(PARA) { (p) }
            }
            @if let Some((label, url)) = n.button {
                table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:6px 0 0" {
                    tr { td style=(BUTTON_CELL) bgcolor="#1a56db" {
                        a href=(url) style=(BUTTON) { (label) }
                    } }
                }
                p.pp-mu style=(RAW_LINK) { a.pp-a href=(url) style=(RAW_LINK_A) { (url) } }
            }
            @for p in n.small_print {
                p.pp-mu style=(SMALL) { (p) }
            }
        } }
        tr { td style=(s::SPACER) { "\u{a0}" } }
        (layout::footer(&footer))
    };
    let preheader = n.paragraphs.first().copied().unwrap_or_default();
    let html = layout::page(n.subject, preheader, rows).into_string();
    RenderedNotice {
        subject: n.subject.to_string(),
        html,
        text: notice_text(n),
    }
}

fn notice_text(n: &Notice<'_>) -> String {
    let mut out = String::new();
    out.push_str(&n.newsletter_name.to_uppercase());
    out.push('\n');
    out.push_str(&wrap(n.heading, WIDTH, "", ""));
    out.push('\n');
    for p in n.paragraphs {
        out.push_str(&wrap(p, WIDTH, "", ""));
        out.push('\n');
    }
    if let Some((label, url)) = n.button {
        // The URL on a line of its own, never wrapped: a broken link is a dead link.
        out.push_str(&format!("{label}:\n{url}\n\n"));
    }
    for p in n.small_print {
        out.push_str(&wrap(p, WIDTH, "", ""));
        out.push('\n');
    }
    out.push_str(&format!(
        "{} — {}\n",
        super::wording::WORDING
            .footer
            .sent_by
            .replace("{name}", n.newsletter_name),
        n.base_url
    ));
    out
}

/// The first `max` papers of `digest` as the email's cards, in a full-width table, for a
/// web page that shows a sample of an edition with the email's own markup.
pub fn render_cards(digest: &Digest, max: usize) -> Markup {
    let papers = view::papers(digest);
    html! {
        table.pp-cards role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style=(s::FONT) {
            @for (i, v) in papers.iter().take(max).enumerate() {
                (PaperCard { view: v, number: i + 1, feedback: None, full_abstract: false })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_has_its_link_in_both_parts_and_escapes_text() {
        let base = url::Url::parse("https://papers.example.org/").unwrap();
        let url = "https://papers.example.org/confirm/1.abc?x=1&y=2";
        let r = render_notice(&Notice {
            newsletter_name: "paperpost",
            base_url: &base,
            subject: "Confirm <your> subscription",
            heading: "One click left",
            paragraphs: &["Hello <b>there</b> & welcome."],
            button: Some(("Confirm", url)),
            small_print: &["Ignore this if it wasn't you."],
        });
        assert!(
            r.html
                .contains("Hello &lt;b&gt;there&lt;/b&gt; &amp; welcome.")
        );
        assert!(
            r.html
                .contains("href=\"https://papers.example.org/confirm/1.abc?x=1&amp;y=2\"")
        );
        assert!(r.text.lines().any(|l| l == url), "{}", r.text);
        assert!(r.text.contains("Hello <b>there</b> & welcome."));
        assert!(r.text.contains("Ignore this if it wasn't you."));
    }

    #[test]
    fn cards_show_at_most_max_papers() {
        let d = crate::render::sample_digest(5);
        let html = render_cards(&d, 2).into_string();
        assert_eq!(html.matches("class=\"pp-card\"").count(), 2);
        assert!(html.contains(&d.picks()[1].paper.title));
        assert!(!html.contains(&d.picks()[2].paper.title));
    }
}
